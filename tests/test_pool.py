"""The warm pool: the next scenario's stack starts while the current one runs.

Unit tests use fake stacks (the pool's logic is pure bookkeeping and one thread); the end-to-end
tests run real stacks in a child pytest, as a user runs ``--pool 1``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest

from alertdrill.backends import pool as pool_module
from alertdrill.backends.base import StackOptions
from alertdrill.backends.pool import PoolKey, WarmPool
from alertdrill.errors import ConfigError
from alertdrill.settings import Settings
from tests.helpers import ROOT, command_lines, kill_run, processes_of_run, with_signals


class FakeStack:
    def __init__(self, key: PoolKey, started_on: str) -> None:
        self.key = key
        self.started_on = started_on
        self.closed = False
        self.startup: dict[str, float] = {}

    def close(self) -> None:
        self.closed = True


def _pool(size: int = 1, delay: float = 0.0, fail: bool = False
          ) -> tuple[WarmPool, list[FakeStack]]:
    made: list[FakeStack] = []

    def start(key: PoolKey) -> Any:
        time.sleep(delay)
        if fail:
            raise ConfigError("port 9093 is busy")
        made.append(FakeStack(key, threading.current_thread().name))
        return made[-1]

    return WarmPool(size, start), made


KEY = PoolKey(Path("/stacks/sample"), "local", StackOptions())
OTHER = PoolKey(Path("/stacks/reference"), "local", StackOptions())


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_module, "busy", lambda stack: "")


def test_a_warm_stack_serves_exactly_one_scenario_of_the_same_stack_and_options() -> None:
    warm, made = _pool()
    assert warm.warm(KEY)
    assert not warm.warm(KEY), "full: one warm stack at most"
    assert warm.take(OTHER) is None, "another stack directory is not interchangeable"
    slower = PoolKey(KEY.stack_dir, "local", StackOptions(time_scale=30))
    assert warm.take(slower) is None, "nor are other options"
    taken = warm.take(KEY)
    assert taken is not None and taken.stack is made[0] and taken.waited >= 0
    assert warm.take(KEY) is None, "never handed out twice"
    assert made[0].started_on.startswith("alertdrill-pool")
    warm.close()
    assert not made[0].closed, "a taken stack belongs to its scenario, not to the pool"


def test_closing_closes_every_untaken_stack_even_one_still_starting() -> None:
    warm, made = _pool(delay=0.3)
    warm.warm(KEY)
    warm.close()  # while it starts: waits for it, then closes it
    assert len(made) == 1 and made[0].closed
    assert not warm.warm(KEY), "a closed pool starts nothing"


def test_a_failed_warm_start_falls_back_to_a_cold_one() -> None:
    warm, _ = _pool(fail=True)
    warm.warm(KEY)
    assert warm.take(KEY) is None
    assert warm.discarded == ["failed: port 9093 is busy"]
    warm.close()


def test_a_stack_that_is_not_quiet_is_closed_and_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_module, "busy", lambda stack: "Prometheus has Watchdog firing")
    warm, made = _pool()
    warm.warm(KEY)
    assert warm.take(KEY) is None
    assert made[0].closed and warm.discarded == ["not quiet: Prometheus has Watchdog firing"]
    warm.close()


def test_size_zero_is_off_and_out_of_range_sizes_are_refused() -> None:
    warm, made = _pool(size=0)
    assert not warm.warm(KEY) and warm.take(KEY) is None and made == []
    assert Settings.from_env({"ALERTDRILL_POOL": "0"}).pool == 0
    for bad in ("2", "-1"):
        with pytest.raises(ConfigError, match="pool must be 0"):
            Settings.from_env({"ALERTDRILL_POOL": bad})


def test_the_pool_is_on_by_default_and_warms_only_the_local_backend() -> None:
    """On by default (its 10-run verdict count, README › The warm pool); an external stack is
    someone else's and a Docker one is not measured with it, so neither is warmed whatever
    --pool says."""
    assert Settings.from_env({}).pool == 1
    assert pool_module.pool_size(1, "local") == 1
    assert pool_module.pool_size(0, "local") == 0
    assert pool_module.pool_size(1, "external") == 0
    assert pool_module.pool_size(1, "docker") == 0


# -- end to end: real stacks in a child pytest ----------------------------------------------
TWO_SCENARIOS = """\
Feature: two scenarios on one stack
  Scenario: the first one
    Given the stack "{stack}" is running
    When the service "web" is stopped
    Then "team-db" is never notified of "TargetDown" within {first} minutes

  Scenario: the second one
    Given the stack "{stack}" is running
    When the service "web" is stopped
    Then the alert "TargetDown" fires within 2 minutes
"""


def _child(tmp_path: Path, first: int, *extra: str) -> tuple[str, Path, subprocess.Popen[str]]:
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    tmp_root = tmp_path / "tmp"
    feature = tmp_path / "f.feature"
    feature.write_text(TWO_SCENARIOS.format(stack=ROOT / "stack" / "sample", first=first))
    (tmp_path / "test_f.py").write_text(
        f"from pytest_bdd import scenarios\nscenarios({str(feature)!r})\n")
    env = {**os.environ, "ALERTDRILL_RUN_ID": run_id, "ALERTDRILL_TMPDIR": str(tmp_root),
           "ALERTDRILL_REPORT_DIR": str(tmp_path / "records")}
    child = subprocess.Popen(
        with_signals([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                      str(tmp_path / "test_f.py"), "--rootdir", str(ROOT), "-c",
                      str(ROOT / "pyproject.toml"), "--pool", "1", *extra]),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return run_id, tmp_root, child


@pytest.mark.slow
def test_the_second_scenario_takes_the_stack_warmed_during_the_first(tmp_path: Path) -> None:
    """The first scenario runs 10 s (10 minutes at K=60); the pool starts the second one's stack
    once the first is usable, so the second waits less than a cold start's usable time (~5.5 s:
    Prometheus's 5 s discovery). Tolerance: the warm wait is only asserted to be below the cold
    start's own usable time, measured in the same run."""
    run_id, _tmp, child = _child(tmp_path, first=10)
    try:
        out, _ = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
        kill_run(run_id)
    assert child.returncode == 0, out
    records = sorted((json.loads(p.read_text()) for p in (tmp_path / "records").glob("*.json")),
                     key=lambda r: r["scenario"]["name"])
    first, second = (r["stacks"][0]["startup"] for r in records)
    assert "warm" not in first, "nothing was warm for the first scenario"
    assert second["warm"] < first["usable"], (first, second)
    assert list((tmp_path / "tmp").iterdir()) == [], "no temp dir left"


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_an_interrupt_while_a_warm_stack_waits_leaves_no_process_and_no_tempdir(
        tmp_path: Path, sig: signal.Signals) -> None:
    """Two stacks run when the signal comes: the scenario's and the warm one. SIGINT: pytest
    unwinds, the pool closes the warm one. SIGKILL: the kernel ends the children of every
    thread (PR_SET_PDEATHSIG), the pool thread's included."""
    run_id, tmp_root, child = _child(tmp_path, first=60)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            prometheus = [n for n in command_lines(run_id) if "prometheus --config" in n]
            if len(prometheus) == 2:
                break
            assert child.poll() is None, child.stdout.read() if child.stdout else ""
            time.sleep(0.2)
        else:
            pytest.fail("the warm stack never started beside the first scenario's")
        time.sleep(1)
        child.send_signal(sig)
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # SIGKILL: the kernel sends each orphan SIGTERM at once, and each then shuts down on its
    # own (an Alertmanager peer flushes its state): allow them 10 s to be gone.
    deadline = time.monotonic() + (10 if sig == signal.SIGKILL else 0)
    while (left := processes_of_run(run_id)) and time.monotonic() < deadline:
        time.sleep(0.2)
    names = [" ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"])
             if p in left]
    kill_run(run_id)
    assert left == [], f"left running: {names}\n{out}"
    if sig != signal.SIGKILL:
        assert list(tmp_root.iterdir()) == [], f"temp dirs left: {list(tmp_root.iterdir())}"
