"""Shared helpers for the engine's tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]


def processes_of_run(run_id: str) -> list[psutil.Process]:
    """Live processes whose environment carries ALERTDRILL_RUN_ID=run_id (children included).

    A zombie (exited, not yet reaped by its parent — e.g. the preflight's amtool between its
    exit and ``communicate()``) is not live: callers read its cmdline, which would raise.
    """
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("ALERTDRILL_RUN_ID") == run_id and proc.pid != os.getpid() \
                    and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def run_pytest(args: list[str], env: dict[str, str], timeout: float = 120,
               cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run pytest in a child process, as a user would.

    Unless ``env`` names one, the child's scenario records go to a temp dir: a child run with
    ``--rootdir`` at the checkout would otherwise replace the last drill's records in reports/.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="alertdrill-records-") as records:
        full_env = {**os.environ, "ALERTDRILL_REPORT_DIR": records, **env}
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
            cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False,
        )


def write_stack(root: Path, alertmanager_yml: str | None = None) -> Path:
    """A copy of the sample stack, optionally with another alertmanager.yml."""
    import shutil

    dest = root / "stack"
    shutil.copytree(ROOT / "stack" / "sample", dest)
    if alertmanager_yml is not None:
        (dest / "alertmanager.yml").write_text(alertmanager_yml)
    return dest


def kill_run(run_id: str) -> None:
    """End what a failed test left behind: the process groups of one run id (ours only)."""
    import signal

    for proc in processes_of_run(run_id):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def command_lines(run_id: str) -> set[str]:
    """The command lines of a run's live processes (one that exits meanwhile is left out)."""
    lines = set()
    for proc in processes_of_run(run_id):
        try:
            lines.add(" ".join(proc.cmdline()))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return lines


def stopped_processes(run_id: str) -> list[psutil.Process]:
    """A run's processes that are frozen (SIGSTOP); one that exits meanwhile is left out."""
    found = []
    for proc in processes_of_run(run_id):
        try:
            if proc.status() == psutil.STATUS_STOPPED:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


#: A scenario that waits an hour (real-world): what the interrupt tests signal mid-way.
LONG_FEATURE = """\
Feature: a scenario that is interrupted
  Scenario: wait for a long time
    Given the stack "{stack}" is running
    When the service "web" is stopped
    Then "team-db" is never notified of "TargetDown" within 60 minutes
"""


def docker_engine_or_skip() -> Any:
    """A Docker engine (started when none runs and we may), or skip the test saying why."""
    import pytest

    from alertdrill.backends import dockerd
    from alertdrill.errors import DockerUnavailableError

    try:
        return dockerd.ensure_engine()
    except DockerUnavailableError as exc:
        pytest.skip(f"no Docker engine answers and none can be started here: {exc}")


def listening_socket() -> socket.socket:
    """A socket bound to an OS-chosen port on 127.0.0.1 and listening (for servers on an fd)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


class RecordingServer(ThreadingHTTPServer):
    """A fake HTTP peer (Jira, a stack service) in a thread: records every POST as
    ``(path, json body)`` and answers what ``answer(self, path, body)`` returns."""

    def __init__(self, answer: Callable[[RecordingServer, str, Any], tuple[int, dict[str, Any]]]
                 ) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.answer = answer
        self.bodies: list[tuple[str, Any]] = []
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self.shutdown()
        self.server_close()


class _RecordingHandler(BaseHTTPRequestHandler):
    server: RecordingServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append((self.path, body))
        code, answer = self.server.answer(self.server, self.path, body)
        raw = json.dumps(answer).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


#: Runs its arguments (exec: same pid) with SIGINT at the disposition given by the first
#: argument, ``default`` or ``ignore``, and SIGTERM and SIGHUP at their defaults. Exec keeps
#: both dispositions; Python turns a default SIGINT into KeyboardInterrupt, an ignored one
#: stays ignored.
_WITH_SIGNALS = (
    "import os, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_DFL if sys.argv[1] == 'default' else signal.SIG_IGN)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
    "signal.signal(signal.SIGHUP, signal.SIG_DFL)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n")


def with_signals(argv: list[str], disposition: str = "default") -> list[str]:
    """``argv`` started with the signal dispositions a test relies on, whatever this process
    inherited: a test that signals its child sets them itself.

    ``default``: SIGINT, SIGTERM and SIGHUP at their defaults — as in a terminal's foreground,
    even when this test runs where SIGINT is ignored (a background job of a script:
    ``make test &`` in a non-interactive shell). ``ignore``: SIGINT ignored, as such a job
    starts. A thread-safe stand-in for ``preexec_fn``.
    """
    assert disposition in ("default", "ignore"), disposition
    return [sys.executable, "-c", _WITH_SIGNALS, disposition, *argv]


@dataclass(frozen=True)
class ConfigMutant:
    """A bundled stack's copy with one small change, and the scenarios that must catch it
    (tests/test_mutations.py, tests/test_timing_mutations.py): run with the copy placed first
    (ALERTDRILL_STACK_DIRS), they must fail — at the step that states the broken expectation."""

    name: str
    file: str
    before: str
    after: str
    scenarios: str  # -k expression selecting the scenarios that must catch it
    failing_step: str  # the step the failure must name
    stack: str = "reference"


def run_config_mutant(mutant: ConfigMutant, tmp_path: Path) -> None:
    """Make the mutant's copy, run its scenarios against it, and assert they caught it."""
    import shutil

    stack = tmp_path / mutant.stack
    shutil.copytree(ROOT / "stack" / mutant.stack, stack)
    target = stack / mutant.file
    text = target.read_text()
    assert text.count(mutant.before) == 1, f"mutation site not unique in {mutant.file}"
    target.write_text(text.replace(mutant.before, mutant.after))
    result = run_pytest(["features", "-p", "no:xdist", "-k", mutant.scenarios, "-x", "-q"],
                        env={"ALERTDRILL_STACK_DIRS": str(tmp_path)}, timeout=300)
    assert_caught(result.stdout + result.stderr, result.returncode, mutant.name,
                  mutant.failing_step)


def assert_caught(output: str, returncode: int, name: str, failing_step: str) -> None:
    """The run failed (not errored, not skipped), and the failed step is the expected one."""
    assert " passed" in output or " failed" in output, output[-2000:]
    assert returncode == 1, f"the suite did not catch '{name}':\n{output[-3000:]}"
    failed_step = next((ln for ln in output.splitlines() if ln.startswith("step: ")), "")
    assert failing_step in failed_step, (
        f"'{name}' was caught, but not by the expected step:\n{output[-3000:]}")
