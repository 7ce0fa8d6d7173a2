"""Shared helpers for the engine's tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
