"""End to end through pytest, as a user runs it: interrupts leave nothing, errors stay short."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers import (
    LONG_FEATURE,
    ROOT,
    command_lines,
    kill_run,
    processes_of_run,
    run_pytest,
    stopped_processes,
    with_signals,
    write_stack,
)

pytestmark = pytest.mark.slow

BINDING = """\
from pytest_bdd import scenarios
scenarios("{feature}")
"""


def _project(tmp_path: Path, feature_text: str, stack: Path) -> Path:
    (tmp_path / "f.feature").write_text(feature_text.format(stack=stack))
    (tmp_path / "test_f.py").write_text(BINDING.format(feature=tmp_path / "f.feature"))
    return tmp_path / "test_f.py"


def _run_child(tmp_path: Path, feature: str, stack: str
               ) -> tuple[str, Path, subprocess.Popen[str]]:
    """Run one feature in a child pytest with its own run id and temp root, as a user would."""
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    tmp_root = tmp_path / "tmp"
    test_file = _project(tmp_path, feature, ROOT / "stack" / stack)
    env = {**os.environ, "ALERTDRILL_RUN_ID": run_id, "ALERTDRILL_TMPDIR": str(tmp_root),
           "ALERTDRILL_REPORT_DIR": str(tmp_path / "records")}
    # Signalled by the tests: SIGINT at its default even when this suite runs where it is
    # ignored (a background job of a script), or the child would never see the Ctrl-C.
    child = subprocess.Popen(
        with_signals([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                      str(test_file), "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml")]),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return run_id, tmp_root, child


def _reap(child: subprocess.Popen[str], run_id: str) -> list:
    """End the child if still running; return what of its run was left, then end that too
    (a test never leaks, even when it fails)."""
    if child.poll() is None:
        child.kill()
        child.wait()
    left = processes_of_run(run_id)
    kill_run(run_id)
    return left


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_interrupt_mid_scenario_leaves_no_process_and_no_tempdir(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """SIGINT/SIGTERM: full cleanup. SIGKILL: no code can run, but the kernel still ends every
    child (PR_SET_PDEATHSIG); only the temp dir is left, which this test then removes."""
    run_id, tmp_root, child = _run_child(tmp_path, LONG_FEATURE, "sample")
    try:
        # Wait until the stack is up and the fault applied: the web target has been stopped,
        # so Prometheus, three Alertmanagers, the sink and "db" run with our run id.
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            names = command_lines(run_id)
            if any("prometheus --config" in n for n in names) and list(tmp_root.glob("*")):
                workdir = next(tmp_root.glob("*"))
                if (workdir / "prometheus.log").exists() and "Server is ready" in (
                    workdir / "prometheus.log").read_text():
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the stack never came up in the child run")
        time.sleep(7)  # usable (Prometheus's 5 s discovery) and into the 60 s Then-step
        assert len(processes_of_run(run_id)) >= 7, "stack processes should be running now"
        child.send_signal(sig)
        out, _ = child.communicate(timeout=30)
    finally:
        left = _reap(child, run_id)
    if sig == signal.SIGKILL:
        time.sleep(1.0)  # the kernel's SIGTERM to the orphans takes effect asynchronously
        left = processes_of_run(run_id)
        kill_run(run_id)
    assert left == [], f"left running: {[p.cmdline() for p in left]}\n{out}"
    if sig != signal.SIGKILL:
        assert list(tmp_root.iterdir()) == [], f"temp dirs left: {list(tmp_root.iterdir())}"
    assert child.returncode != 0


def test_a_run_started_with_sigint_ignored_keeps_it_so_and_stops_on_sigterm(
        tmp_path: Path) -> None:
    """`alertdrill run &` in a script starts with SIGINT ignored, on purpose (a Ctrl-C for the
    script's foreground must not end it): the run says so in its header and ignores SIGINT,
    and SIGTERM stops it with the full cleanup (README › Troubleshooting)."""
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    features = tmp_path / "long"
    features.mkdir()
    (features / "long.feature").write_text(LONG_FEATURE.format(stack="sample"))
    env = {**os.environ, "ALERTDRILL_RUN_ID": run_id, "ALERTDRILL_TMPDIR": str(tmp_path / "tmp")}
    child = subprocess.Popen(
        with_signals([sys.executable, "-m", "alertdrill.cli", "run", str(features),
                      "--report-dir", str(tmp_path / "out")], "ignore"),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = ""
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and len(processes_of_run(run_id)) < 7:
            time.sleep(0.2)
        time.sleep(7)  # usable (Prometheus's 5 s discovery), web stopped, into the Then-step
        running = {p.pid for p in processes_of_run(run_id)}
        assert len(running) >= 7, "the stack should be up"
        child.send_signal(signal.SIGINT)
        time.sleep(3)
        assert child.poll() is None, "SIGINT was ignored on purpose; the run must go on"
        assert {p.pid for p in processes_of_run(run_id)} == running, "the stack must go on too"
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=60)
    finally:
        left = _reap(child, run_id)
    assert child.returncode == 2, out
    assert left == [], f"left running: {[p.cmdline() for p in left]}\n{out}"
    assert list((tmp_path / "tmp").iterdir()) == []
    assert f"note: SIGINT ignored, as this process was started (e.g. a background job of a " \
           f"script): stop it with kill -TERM {child.pid}" in out, out
    assert "interrupted in" in out, out


FAULTS_FEATURE = """\
Feature: interrupted in the middle of faults
  Scenario: fill, pause, wait
    Given the stack "{stack}" is running
    When the disk of "node-exporter" is filled to 90 %
    And the log of "api-service" is flooded with 200 INFO lines per second for 60 minutes
    And the service "api-service" is paused
    Then "dev-critical" is never notified of "WebAppDown" within 60 minutes
"""


def test_sigint_during_disk_fill_flood_and_pause_leaves_no_mount_no_process(
        tmp_path: Path) -> None:
    run_id, tmp_root, child = _run_child(tmp_path, FAULTS_FEATURE, "reference")
    try:
        deadline = time.monotonic() + 60
        fill = None
        while time.monotonic() < deadline:
            fills = list(tmp_root.glob("*/fs-node-exporter/alertdrill-fill.bin"))
            paused = stopped_processes(run_id)
            if fills and paused:
                fill = fills[0]
                break
            time.sleep(0.2)
        else:
            pytest.fail("the faults were never applied in the child run")
        assert str(fill.parent) in Path("/proc/mounts").read_text()
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=30)
    finally:
        left = _reap(child, run_id)
    assert left == [], f"left running: {[p.cmdline() for p in left]}\n{out}"
    assert str(tmp_root) not in Path("/proc/mounts").read_text(), "the tmpfs is still mounted"
    assert list(tmp_root.iterdir()) == [], "temp dirs (fill file, flooded log) must be gone"
    import tempfile

    pg_dirs = [p for p in Path(tempfile.gettempdir()).glob(f"alertdrill-pg-*{run_id}*")]
    assert pg_dirs == [], f"PostgreSQL dirs left: {pg_dirs}"


def test_undefined_step_fails_fast_with_a_suggestion(tmp_path: Path) -> None:
    feature = """\
Feature: typo
  Scenario: a step with no definition
    Given the stack "{stack}" is running
    When the service "web" is stoped
"""
    test_file = _project(tmp_path, feature, ROOT / "stack" / "sample")
    started = time.monotonic()
    result = run_pytest([str(test_file), "--rootdir", str(ROOT), "-c",
                         str(ROOT / "pyproject.toml")], env={})
    elapsed = time.monotonic() - started
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert 'no step definition matches "When the service "web" is stoped"' in out
    assert "did you mean" in out and 'When the service "web" is stopped' in out
    assert "Traceback" not in out
    # No stack was started for it (a stack alone takes > 5 s to become usable). Tolerance:
    # the whole pytest run, interpreter start included, stays far below that.
    assert elapsed < 5.0, f"took {elapsed:.1f}s: a stack must not start for a broken scenario"


def test_invalid_alertmanager_yml_is_one_clear_error(tmp_path: Path) -> None:
    stack = write_stack(tmp_path / "s", "route:\n  receiver: ghost\nreceivers: [{name: x}]\n")
    feature = """\
Feature: broken config
  Scenario: start it
    Given the stack "{stack}" is running
"""
    test_file = _project(tmp_path, feature, stack)
    result = run_pytest([str(test_file), "--rootdir", str(ROOT), "-c",
                         str(ROOT / "pyproject.toml")], env={})
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert "ConfigError: alertmanager.yml is invalid" in out
    assert 'undefined receiver "ghost"' in out
    assert "Traceback" not in out


def test_missing_binary_is_one_clear_error(tmp_path: Path) -> None:
    feature = """\
Feature: no alertmanager
  Scenario: start it
    Given the stack "{stack}" is running
"""
    test_file = _project(tmp_path, feature, ROOT / "stack" / "sample")
    result = run_pytest([str(test_file), "--rootdir", str(ROOT), "-c",
                         str(ROOT / "pyproject.toml")],
                        env={"ALERTDRILL_ALERTMANAGER": "/nonexistent/alertmanager"})
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert "MissingBinaryError" in out and "ALERTDRILL_ALERTMANAGER" in out
    assert "Traceback" not in out
