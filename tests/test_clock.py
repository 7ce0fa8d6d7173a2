"""The scenario clock: waits are scaled, a past time is refused, neither is an anchor."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from alertdrill.engine import clock
from alertdrill.engine.timeline import Timeline
from alertdrill.engine.timescale import TimeScale
from alertdrill.errors import StepError
from tests.helpers import ROOT, run_pytest

K600 = TimeScale(600, 0.25)


def test_a_wait_lasts_the_scaled_duration_and_is_no_anchor() -> None:
    timeline = Timeline()
    started = time.monotonic()
    measured = clock.wait_for(timeline, K600, 60)  # one real-world minute: 0.1 s
    elapsed = time.monotonic() - started
    assert measured == pytest.approx(0.1)
    assert 0.1 <= elapsed < 0.3  # tolerance: sleep overshoot on a loaded 2-core machine
    assert [e.anchor for e in timeline.events()] == [False]


def test_waiting_until_a_scenario_time_ends_there() -> None:
    timeline = Timeline()
    clock.wait_until(timeline, K600, 120, tolerance=0.5)  # 2 real-world minutes: t=0.2 s
    assert 0.2 <= timeline.now() < 0.4
    assert not any(e.anchor for e in timeline.events())


def test_a_time_already_past_is_refused_with_where_the_clock_is() -> None:
    now = [100.0]
    timeline = Timeline(clock=lambda: now[0])
    now[0] += 2.0  # the scenario is at t=2 s measured, 20 real-world minutes at K=600
    with pytest.raises(StepError, match=r"already at 20m.*past 1m"):
        clock.wait_until(timeline, K600, 60, tolerance=0.5)


def test_a_time_past_by_less_than_the_tolerance_is_now() -> None:
    now = [100.0]
    timeline = Timeline(clock=lambda: now[0])
    now[0] += 0.3  # 0.2 s late for t=0.1 s, within the 0.5 s tolerance
    assert clock.wait_until(timeline, K600, 60, tolerance=0.5) == 0.0


def test_a_wait_must_be_positive() -> None:
    with pytest.raises(StepError, match="cannot wait"):
        clock.wait_for(Timeline(), K600, 0)


# -- "At 5 minutes, <step>": the carried step is checked before any stack starts ---------------
def _feature(tmp_path: Path, *steps: str) -> Path:
    body = "".join(
        f"  Scenario: s{i}\n    Given the stack \"sample\" is running\n    {step}\n"
        for i, step in enumerate(steps))
    (tmp_path / "f.feature").write_text(f"Feature: at\n{body}")
    return tmp_path


CARRIED = ('When at 2 minutes, the alert "X" is pused to Alertmanager',
           'When at 2 minutes, the service "wbe" is stopped')


def test_check_features_unfolds_a_carried_step(tmp_path: Path) -> None:
    _feature(tmp_path, *CARRIED, 'When at 2 minutes, the service "web" is stopped')
    result = subprocess.run([sys.executable, "-m", "alertdrill.cli", "check", "--features",
                             str(tmp_path)], capture_output=True, text=True, check=False,
                            timeout=60)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert 'no step definition matches "When the alert "X" is pused to Alertmanager"' in out
    assert "no service 'wbe'" in out and "did you mean 'web'" in out
    assert out.strip().endswith("2 problems"), out


@pytest.mark.slow
def test_a_bad_carried_step_refuses_the_scenario_before_any_process_starts(
        tmp_path: Path) -> None:
    _feature(tmp_path, *CARRIED)
    (tmp_path / "test_f.py").write_text(
        f"from pytest_bdd import scenarios\nscenarios({str(tmp_path / 'f.feature')!r})\n")
    work = tmp_path / "tmp"
    work.mkdir()
    started = time.monotonic()
    result = run_pytest([str(tmp_path / "test_f.py"), "-p", "no:xdist", "--rootdir", str(ROOT),
                         "-c", str(ROOT / "pyproject.toml")], env={"ALERTDRILL_TMPDIR": str(work)})
    out = result.stdout + result.stderr
    assert result.returncode == 1 and "2 failed" in out, out
    assert 'no When-step matches "the alert "X" is pused to Alertmanager"' in out
    assert "no service 'wbe'" in out
    assert list(work.iterdir()) == []  # no stack was started
    assert time.monotonic() - started < 5.0  # tolerance: far below one stack's start-up
