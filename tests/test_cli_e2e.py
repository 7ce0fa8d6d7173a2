"""Every subcommand of `alertdrill` end to end, as a user runs it: real subprocesses, real stacks.

run (passing, failing, nothing selected), up → inject → watch → revert → down → report on a
GameDay, the supervisor killed (SIGTERM, SIGKILL) and what `down` / `down --all` clean after it,
the example stack (examples/shop) passing inside a network namespace whose only way out
counts packets — none may leave 127.0.0.1 — and its credentials in no report.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
import yaml

from tests.helpers import ROOT, kill_run, processes_of_run, with_signals

pytestmark = pytest.mark.slow

SHOP = ROOT / "examples" / "shop"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A user's environment, with every place the harness writes to inside ``tmp_path``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ALERTDRILL_RUN_ID", "ALERTDRILL_HARNESS_PID", "ALERTDRILL_REPORT_DIR")}
    (tmp_path / "tmp").mkdir(exist_ok=True)
    (tmp_path / "systmp").mkdir(exist_ok=True)
    env.update(ALERTDRILL_STATE_DIR=str(tmp_path / "state"), ALERTDRILL_TMPDIR=str(tmp_path / "tmp"),
               TMPDIR=str(tmp_path / "systmp"), **extra)
    return env


def _cli(args: list[str], env: dict[str, str], timeout: float = 180,
         cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alertdrill.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "Traceback" not in out, out
    return result.stdout


# -- help -------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["run", "up", "down", "inject", "revert", "watch", "report",
                                     "steps", "check", "scale"])
def test_every_subcommand_has_help(command: str, tmp_path: Path) -> None:
    out = _ok(_cli([command, "--help"], _env(tmp_path), timeout=30))
    assert out.startswith(f"usage: alertdrill {command}")


def test_the_console_script_is_installed() -> None:
    """`make setup` installs the `alertdrill` command itself (the pyproject entry point)."""
    script = Path(sys.executable).parent / "alertdrill"
    assert script.is_file(), f"no console script beside {sys.executable}: run make setup"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 0
    for command in ("run", "up", "down", "inject", "revert", "watch", "report", "steps", "check"):
        assert command in result.stdout


# -- run --------------------------------------------------------------------------------------
def test_run_passes_a_feature_and_writes_junit_allure_records_and_report(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    result = _cli(["run", "features/sample/silences.feature", "-k", "refused", "--report-dir",
                   str(out_dir)], _env(tmp_path), timeout=120)
    out = _ok(result)
    assert "1 scenario\n" in out
    assert "[1/1] PASS  sample/silences.feature: a silence without a comment is refused" in out
    assert "1 passed in" in out
    junit = (out_dir / "junit.xml").read_text()
    assert 'tests="1"' in junit and 'failures="0"' in junit and 'errors="0"' in junit
    results = [json.loads(p.read_text()) for p in (out_dir / "allure-results").glob("*-result.json")]
    assert [r["status"] for r in results] == ["passed"]
    records = [json.loads(p.read_text()) for p in (out_dir / "drill").glob("*.json")]
    assert [(r["scenario"]["name"], r["outcome"]) for r in records] == [
        ("a silence without a comment is refused", "passed")]
    assert records[0]["feature"]["file"] == "sample/silences.feature"
    assert "a silence without a comment is refused" in (out_dir / "drill-report.html").read_text()
    assert (out_dir / "drill-report.md").is_file()


def test_run_in_parallel_keeps_every_scenarios_record_and_only_this_runs(tmp_path: Path) -> None:
    """Each pytest-xdist worker is a process of its own: none may clear the records another
    just wrote, and the previous run's records still go."""
    out_dir = tmp_path / "out"
    (out_dir / "drill").mkdir(parents=True)
    stale = out_dir / "drill" / "old.json"
    stale.write_text(json.dumps({"schema": "alertdrill.engine.scenario-record/1", "id": "old"}))
    result = _cli(["run", "features/sample/routing.feature", "--parallel", "2",
                   "--report-dir", str(out_dir)], _env(tmp_path), timeout=180)
    out = _ok(result)
    assert "3 scenarios on 2 workers" in out and "3 passed in" in out
    records = [json.loads(p.read_text()) for p in (out_dir / "drill").glob("*.json")]
    assert sorted(r["outcome"] for r in records) == ["passed"] * 3
    assert not stale.exists()
    assert len(list((out_dir / "allure-results").glob("*-result.json"))) == 3
    assert 'tests="3"' in (out_dir / "junit.xml").read_text()


FAILING = """\
Feature: claims that cannot hold
  Scenario: nothing is broken, yet a page is expected
    Given the stack "sample" is running
    Then "team-db" is notified of "TargetDown" within 1 minute

  Scenario: a typo
    Given the stack "sample" is running
    When the service "web" is stoped
"""


def test_run_with_a_failing_feature_exits_1_and_still_reports(tmp_path: Path) -> None:
    features = tmp_path / "mine"
    features.mkdir()
    (features / "bad.feature").write_text(FAILING)
    out_dir = tmp_path / "out"
    result = _cli(["run", "--features", str(features), "--report-dir", str(out_dir)],
                  _env(tmp_path), timeout=120)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "Traceback" not in out
    assert "FAIL  mine/bad.feature: nothing is broken, yet a page is expected" in out
    assert 'expected "team-db" notified of "TargetDown" within 1 min' in out
    assert "ERROR mine/bad.feature: a typo" in out and "did you mean" in out
    assert "1 failed, 1 error in" in out
    outcomes = sorted(json.loads(p.read_text())["outcome"] for p in (out_dir / "drill").glob("*.json"))
    assert outcomes == ["error", "failed"]
    assert 'failures="2"' in (out_dir / "junit.xml").read_text()  # pytest's view: both failed
    assert (out_dir / "drill-report.html").is_file()


def test_run_selecting_nothing_or_naming_nothing_says_so(tmp_path: Path) -> None:
    env = _env(tmp_path)
    nothing = _cli(["run", "features/sample/silences.feature", "-k", "no_such_scenario",
                    "--report-dir", str(tmp_path / "out")], env, timeout=60)
    assert nothing.returncode == 5, nothing.stdout + nothing.stderr
    assert "no scenario selected" in nothing.stdout
    unknown = _cli(["run", "features/sample/silences.feature", "--tags", "no_such_tag",
                    "--report-dir", str(tmp_path / "out")], env, timeout=60)
    assert unknown.returncode == 4, unknown.stdout + unknown.stderr
    assert "Unknown marker(s) in '-m' expression: no_such_tag" in unknown.stderr
    missing = _cli(["run", "--features", str(tmp_path / "nope")], env, timeout=60)
    assert missing.returncode == 4, missing.stdout + missing.stderr
    assert "no such feature file or directory" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_run_interrupted_by_sigterm_stops_every_stack_and_exits_2(tmp_path: Path) -> None:
    features = tmp_path / "long"
    features.mkdir()
    (features / "long.feature").write_text(
        'Feature: long\n  Scenario: wait\n    Given the stack "sample" is running\n'
        '    When the service "web" is stopped\n'
        '    Then "team-db" is never notified of "TargetDown" within 60 minutes\n')
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    child = subprocess.Popen(with_signals([sys.executable, "-m", "alertdrill.cli", "run",
                                           str(features), "--report-dir", str(tmp_path / "out")]),
                             cwd=ROOT,
                             env=_env(tmp_path, ALERTDRILL_RUN_ID=run_id),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and len(processes_of_run(run_id)) < 7:
            time.sleep(0.2)
        time.sleep(7)  # usable (Prometheus's 5 s discovery), and into the 60-minute Then-step
        assert len(processes_of_run(run_id)) >= 7
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        left = processes_of_run(run_id)
        kill_run(run_id)
    assert child.returncode == 2, out
    assert left == [], [p.cmdline() for p in left]
    assert list((tmp_path / "tmp").iterdir()) == []
    assert "interrupted in test_wait" in out, out
    assert (tmp_path / "out" / "drill-report.html").is_file(), "a report even when interrupted"


def test_run_with_stack_uses_it_for_the_generic_given(tmp_path: Path) -> None:
    """--stack feeds "Given the stack is running"; a stack missing a service fails clearly."""
    features = tmp_path / "f"
    features.mkdir()
    (features / "one.feature").write_text(
        "Feature: my stack\n  Scenario: my checkout stops\n    Given the stack is running\n"
        '    When the service "checkout" is stopped\n'
        '    Then the alert "ShopServiceDown" with labels service=checkout fires within 2 minutes\n')
    result = _cli(["run", "--stack", str(SHOP / "stack"), "--features", str(features),
                   "--report-dir", str(tmp_path / "out")], _env(tmp_path), timeout=120)
    assert "[1/1] PASS" in _ok(result)
    record = json.loads(next((tmp_path / "out" / "drill").glob("*.json")).read_text())
    assert record["stacks"][0]["name"] == "shop", "the manifest's name"
    assert any(e["kind"] == "prometheus.firing" for e in record["stacks"][0]["timeline"])


def test_keep_workdir_names_each_kept_directory(tmp_path: Path) -> None:
    """At the end of the scenario (the progress line, pytest's own terminal), in the record
    and in the report; the directory is there, marked as kept, and survives the run's exit."""
    out_dir = tmp_path / "out"
    result = _cli(["run", "features/sample/silences.feature", "-k", "refused", "--keep-workdir",
                   "--report-dir", str(out_dir)], _env(tmp_path), timeout=120)
    out = _ok(result)
    kept = [line.split("kept workdir: ", 1)[1] for line in out.splitlines()
            if "kept workdir: " in line]
    try:
        assert len(kept) == 1, out
        workdir = Path(kept[0])
        assert workdir.parent == tmp_path / "tmp" and (workdir / "prometheus.log").is_file()
        assert (workdir / ".alertdrill-kept").is_file()
        lines = out.splitlines()
        assert lines.index(f"        kept workdir: {workdir}") == 1 + next(
            i for i, line in enumerate(lines) if line.startswith("[1/1] PASS")), out
        record = json.loads(next((out_dir / "drill").glob("*.json")).read_text())
        assert record["stacks"][0]["workdir"] == str(workdir)
        assert f"Kept workdir: `{workdir}` (sample)" in (out_dir / "drill-report.md").read_text()
        assert str(workdir) in (out_dir / "drill-report.html").read_text()
        plain = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--keep-workdir",
             "features/test_bundled.py", "-k", "silence_without_a_comment"], cwd=ROOT,
            env=_env(tmp_path, ALERTDRILL_REPORT_DIR=str(tmp_path / "records")),
            capture_output=True, text=True, timeout=120, check=False)
        assert plain.returncode == 0, plain.stdout + plain.stderr
        named = [line.split(": ", 1)[1] for line in plain.stdout.splitlines()
                 if line.startswith("kept workdir of stack sample: ")]
        kept += named
        assert len(named) == 1 and Path(named[0]).is_dir(), plain.stdout
    finally:
        for path in kept:
            shutil.rmtree(path, ignore_errors=True)


# -- GameDay ------------------------------------------------------------------------------------
class GameDay:
    """A GameDay started with `alertdrill up` in its own state dir; always taken down."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.env = _env(tmp_path)
        self.state_file = tmp_path / "state" / "gameday.json"
        self.state: dict[str, Any] = {}

    def up(self, *args: str) -> str:
        out = _ok(_cli(["up", "--stack", "sample", "--report-dir", str(self.tmp / "gd"), *args],
                       self.env, timeout=120))
        self.state = json.loads(self.state_file.read_text())
        return out

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return _cli(list(args), self.env, timeout=timeout)

    def api(self, path: str) -> Any:
        response = requests.get(self.state["api"] + path, timeout=5,
                                headers={"X-Alertdrill-Token": self.state["token"]})
        response.raise_for_status()
        return response.json()

    def events(self) -> list[dict[str, Any]]:
        return list(self.api("/events?since=0")["events"])

    def wait_for(self, what: str, check: Any, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.2)
        pytest.fail(f"timed out waiting for {what}")

    def supervisor(self) -> psutil.Process | None:
        """The supervisor while it runs (an exited one not yet reaped by init is gone)."""
        try:
            proc = psutil.Process(int(self.state["pid"]))
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc if "alertdrill.cli.supervisor" in " ".join(proc.cmdline()) else None
        except (psutil.NoSuchProcess, psutil.ZombieProcess, KeyError):
            return None

    def cleanup(self) -> None:
        """Whatever a failing test left: the supervisor and its run's processes."""
        proc = self.supervisor()
        if proc is not None:
            proc.kill()
        if self.state.get("run_id"):
            kill_run(str(self.state["run_id"]))
        for leftover in (self.tmp / "tmp").glob("*"):
            shutil.rmtree(leftover, ignore_errors=True)


@pytest.fixture
def gameday(tmp_path: Path) -> Iterator[GameDay]:
    day = GameDay(tmp_path)
    try:
        yield day
    finally:
        day.cleanup()


def _fired(events: list[dict[str, Any]], alertname: str, **labels: str) -> bool:
    return any(e["kind"] == "prometheus.firing" and e["subject"] == alertname
               and all(e["labels"].get(k) == v for k, v in labels.items()) for e in events)


def test_gameday_up_inject_watch_revert_down_report(gameday: GameDay) -> None:
    out = gameday.up()
    state = gameday.state
    for name in ("prometheus", "alertmanager-0", "alertmanager-1", "alertmanager-2", "sink",
                 "web", "db"):
        assert f"  {name} " in out and state["urls"][name] in out, out
    assert "alertdrill down" in out and "alertdrill watch" in out
    # Every URL printed answers: the stack is really up.
    assert requests.get(state["urls"]["prometheus"] + "/-/ready", timeout=5).ok
    for peer in range(3):
        assert requests.get(state["urls"][f"alertmanager-{peer}"] + "/-/ready", timeout=5).ok
    assert requests.get(state["urls"]["web"] + "/metrics", timeout=5).ok
    run_id = str(state["run_id"])
    workdir = Path(state["workdir"])
    assert workdir.is_dir() and len(processes_of_run(run_id)) >= 7

    # A second `up` refuses while this one runs.
    again = gameday.cli("up", "--stack", "sample")
    assert again.returncode == 1 and "already up" in again.stderr

    injected = gameday.cli("inject", "stop", "web")
    assert _ok(injected).startswith("#1 applied at t=+"), injected.stdout
    assert "stop web" in injected.stdout and "alertdrill revert 1" in injected.stdout
    refused = gameday.cli("inject", "stop", "nosuch")
    assert refused.returncode == 4 and "the stack has no service 'nosuch'" in refused.stderr
    events = gameday.wait_for("TargetDown firing", lambda: (
        e := gameday.events()) and _fired(e, "TargetDown", instance="web:8080") and e)
    assert any(e["kind"] == "fault.applied" and e["subject"] == "stop web" for e in events)
    gameday.wait_for("team-web's notification", lambda: any(
        e["kind"] == "notification" and e["subject"] == "team-web" for e in gameday.events()))

    view = _ok(gameday.cli("watch", "--once"))
    assert "FAULTS (1 active)" in view and "stop web" in view
    assert "FIRING   TargetDown{instance=web:8080" in view
    assert "team-web" in view and "services not running: web" in view
    assert "\x1b[" not in view, "--once prints no ANSI codes"

    reverted = _ok(gameday.cli("revert", "1"))
    assert "reverted #1: stop web" in reverted
    # web runs again — and keeps running once the API request that started it has ended (a
    # child started from a short-lived thread would get PR_SET_PDEATHSIG's SIGTERM).
    gameday.wait_for("web to answer", lambda: _answers(state["urls"]["web"]))
    time.sleep(2)
    assert _answers(state["urls"]["web"]), "web died after the request that restarted it"
    gameday.wait_for("TargetDown to resolve", lambda: any(
        e["kind"] == "prometheus.inactive" and e["subject"] == "TargetDown"
        for e in gameday.events()))
    again_revert = gameday.cli("revert", "1")
    assert again_revert.returncode == 4 and "already reverted" in again_revert.stderr

    # Left active on purpose: `down` must revert it (a paused process would survive a stop).
    assert _ok(gameday.cli("inject", "pause", "db")).startswith("#2 applied")
    _ok(gameday.cli("inject", "silence", "ana", "15m", "INC-7 drill", "alertname=TargetDown"))

    live = subprocess.Popen([sys.executable, "-m", "alertdrill.cli", "watch", "--interval", "0.3"],
                            cwd=ROOT, env=gameday.env, stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    down = _ok(gameday.cli("down", timeout=120))
    # the live view redraws until the GameDay ends, then says so and exits by itself
    watched, _ = live.communicate(timeout=15)
    assert live.returncode == 0
    assert watched.count("\x1b[H\x1b[2J") >= 2 and "pause db" in watched
    assert "the GameDay has ended" in watched
    assert "reverted #3: silence ana 15m INC-7 drill alertname=TargetDown" in down
    assert "reverted #2: pause db" in down
    assert "is down" in down and "debrief: alertdrill report --from" in down
    assert processes_of_run(run_id) == []
    assert gameday.supervisor() is None
    assert not workdir.exists(), "the stack's temp dir must be gone"
    assert not gameday.state_file.exists()
    records = list((gameday.tmp / "gd").glob("*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    steps = [s["name"] for s in record["steps"]]
    assert steps[:2] == ["inject #1: stop web", "revert #1 (stop web)"]
    assert "revert #2 (pause db) at down" in steps
    assert record["notifications"], "what arrived during the GameDay is in its record"

    report = _ok(gameday.cli("report", "--from", str(gameday.tmp / "gd"), "--out",
                             str(gameday.tmp / "debrief")))
    html = (gameday.tmp / "debrief" / "drill-report.html").read_text()
    assert str(gameday.tmp / "debrief" / "drill-report.html") in report
    assert "GameDay on sample" in html and "stop web" in html and "TargetDown" in html

    nothing = gameday.cli("down")
    assert nothing.returncode == 0 and "no GameDay is up" in nothing.stdout
    no_stack = gameday.cli("inject", "stop", "web")
    assert no_stack.returncode == 3 and "no GameDay is up" in no_stack.stderr
    assert gameday.cli("watch", "--once").returncode == 3


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/metrics", timeout=1).ok
    except requests.RequestException:
        return False


def test_sigterm_to_the_supervisor_stops_everything_and_keeps_the_record(gameday: GameDay) -> None:
    gameday.up()
    run_id, workdir = str(gameday.state["run_id"]), Path(gameday.state["workdir"])
    _ok(gameday.cli("inject", "pause", "web"))
    live = subprocess.Popen(with_signals([sys.executable, "-m", "alertdrill.cli", "watch"]),
                            cwd=ROOT, env=gameday.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    live.send_signal(signal.SIGINT)  # Ctrl-C leaves the view, cleanly; the stack runs on
    out, err = live.communicate(timeout=10)
    assert live.returncode == 0 and "Traceback" not in err and "pause web" in out
    assert len(processes_of_run(run_id)) >= 7
    supervisor = gameday.supervisor()
    assert supervisor is not None
    supervisor.send_signal(signal.SIGTERM)
    gameday.wait_for("the supervisor to exit", lambda: gameday.supervisor() is None, 30)
    assert processes_of_run(run_id) == [], [p.cmdline() for p in processes_of_run(run_id)]
    assert not workdir.exists() and not gameday.state_file.exists()
    assert len(list((gameday.tmp / "gd").glob("*.json"))) == 1, "a record even when signalled"


def test_sigkill_of_the_supervisor_leaves_no_stack_process_and_down_cleans_the_rest(
        gameday: GameDay) -> None:
    """SIGKILL: no code runs. The kernel still ends every child (PR_SET_PDEATHSIG) — a paused
    one too: its process group, orphaned while stopped, gets SIGHUP and SIGCONT. What is left
    is the temp dir and the state file; `down` sees the supervisor is gone and removes them."""
    gameday.up()
    run_id, workdir = str(gameday.state["run_id"]), Path(gameday.state["workdir"])
    _ok(gameday.cli("inject", "pause", "web"))
    supervisor = gameday.supervisor()
    assert supervisor is not None
    supervisor.kill()
    gameday.wait_for("the supervisor to die", lambda: gameday.supervisor() is None, 10)
    # Alertmanager peers take a moment to leave their cluster after the SIGTERM.
    gameday.wait_for("every stack process to end", lambda: processes_of_run(run_id) == [], 15)
    assert workdir.is_dir() and gameday.state_file.exists()
    inject = gameday.cli("inject", "resume", "web")
    assert inject.returncode == 3
    assert "supervisor (pid" in inject.stderr and "is gone" in inject.stderr
    down = _ok(gameday.cli("down"))
    assert "had died" in down and f"removed {workdir}" in down
    assert not workdir.exists() and not gameday.state_file.exists()


def _survivor(env: dict[str, str], tmp_path: Path) -> subprocess.Popen[bytes]:
    """A harness child that outlived its harness and ignores SIGTERM (a service stuck in its
    shutdown, or started where setpriv is missing): the case `down --all` exists for."""
    return subprocess.Popen(
        [sys.executable, "-c", "import signal, time\nsignal.signal(signal.SIGTERM, "
         "signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(600)\n"],
        env=env, stdout=subprocess.PIPE, process_group=0, cwd=tmp_path)


def test_down_all_removes_leftovers_of_dead_harnesses_only(tmp_path: Path) -> None:
    env = _env(tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    dead_rid, live_rid = f"{dead.pid}-{int(time.time())}", f"test-{uuid.uuid4().hex[:8]}"
    orphan = _survivor({**env, "ALERTDRILL_RUN_ID": dead_rid,
                        "ALERTDRILL_HARNESS_PID": str(dead.pid)}, tmp_path)
    alive = _survivor({**env, "ALERTDRILL_RUN_ID": live_rid,
                       "ALERTDRILL_HARNESS_PID": str(os.getpid())}, tmp_path)
    try:
        for proc in (orphan, alive):
            assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        workdir = tmp_path / "tmp" / f"alertdrill-sample-{dead_rid}-x1y2z3"
        workdir.mkdir()
        (workdir / "prometheus.log").write_text("…")
        in_use = tmp_path / "tmp" / f"alertdrill-sample-{live_rid}-a1b2c3"
        in_use.mkdir()
        kept = tmp_path / "tmp" / f"alertdrill-sample-{dead_rid}-kept00"
        kept.mkdir()
        (kept / ".alertdrill-kept").touch()
        not_ours = tmp_path / "tmp" / "alertdrill-records-xyz"  # named by no run id
        not_ours.mkdir()
        os.utime(not_ours, (0, 0))

        down = _ok(_cli(["down", "--all"], env, timeout=60))
        assert "no GameDay is up" in down and "leftovers of crashed runs:" in down
        assert f"killed pid {orphan.pid}" in down
        assert orphan.wait(10) == -signal.SIGKILL
        assert alive.poll() is None, "a child whose harness lives is never touched"
        assert f"removed {workdir}" in down and not workdir.exists()
        assert in_use.exists() and not_ours.exists()
        assert kept.exists() and "kept on purpose" in down
        again = _ok(_cli(["down", "--all"], env, timeout=60))
        assert "no leftovers of crashed runs" in again
    finally:
        for proc in (orphan, alive):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_up_with_a_broken_stack_says_why_and_leaves_nothing(tmp_path: Path) -> None:
    stack = tmp_path / "broken"
    shutil.copytree(ROOT / "stack" / "sample", stack)
    (stack / "alertmanager.yml").write_text("route:\n  receiver: ghost\nreceivers: [{name: x}]\n")
    env = _env(tmp_path)
    result = _cli(["up", "--stack", str(stack)], env, timeout=60)
    assert result.returncode == 1
    assert "the stack did not come up" in result.stderr
    assert 'undefined receiver "ghost"' in result.stderr
    assert not (tmp_path / "state" / "gameday.json").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


# -- a user's own stack, and nothing leaving 127.0.0.1 -------------------------------------------
def _shop_secrets() -> list[str]:
    am = yaml.safe_load((SHOP / "stack" / "alertmanager.yml").read_text())
    pagerduty = am["receivers"][1]["pagerduty_configs"][0]["routing_key"]
    webhook = am["receivers"][3]["webhook_configs"][0]["http_config"]["authorization"]["credentials"]
    slack = am["global"]["slack_api_url"].rsplit("/", 1)[1]
    return [am["global"]["smtp_auth_password"], slack, pagerduty, webhook]


def test_check_finds_nothing_wrong_in_the_example_stack(tmp_path: Path) -> None:
    out = _ok(_cli(["check", "--stack", str(SHOP / "stack")], _env(tmp_path), timeout=60))
    assert out.strip().endswith("0 errors, 0 warnings")


@pytest.fixture
def sealed_netns() -> Iterator[tuple[str, str]]:
    """A network namespace whose only route off loopback is a veth into a second, empty
    namespace: every packet not for 127.0.0.1 — DNS included — leaves through it and is counted.
    IPv6 is off so the kernel sends nothing by itself (router solicitations, DAD)."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and iproute2 to create network namespaces")
    tag = uuid.uuid4().hex[:6]
    inner, outer = f"ad-run-{tag}", f"ad-out-{tag}"
    commands = [
        ["ip", "netns", "add", inner], ["ip", "netns", "add", outer],
        ["ip", "netns", "exec", inner, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"],
        ["ip", "netns", "exec", inner, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"],
        ["ip", "-n", inner, "link", "set", "lo", "up"],
        ["ip", "link", "add", "advx0", "netns", inner, "type", "veth", "peer", "name", "advx1",
         "netns", outer],
        ["ip", "-n", inner, "addr", "add", "10.254.0.1/24", "dev", "advx0"],
        ["ip", "-n", inner, "link", "set", "advx0", "up"],
        ["ip", "-n", outer, "link", "set", "advx1", "up"],
        ["ip", "-n", inner, "route", "add", "default", "via", "10.254.0.2", "dev", "advx0"],
    ]
    try:
        for command in commands:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                pytest.skip(f"cannot build the namespace ({' '.join(command)}): {done.stderr}")
        yield inner, "advx0"
    finally:
        subprocess.run(["ip", "netns", "del", inner], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", outer], capture_output=True, check=False)


def _tx_packets(netns: str, device: str) -> int:
    out = subprocess.run(["ip", "netns", "exec", netns, "cat",
                          f"/sys/class/net/{device}/statistics/tx_packets"],
                         capture_output=True, text=True, check=True).stdout
    return int(out)


def test_example_stack_passes_and_no_request_leaves_loopback(
        tmp_path: Path, sealed_netns: tuple[str, str]) -> None:
    netns, device = sealed_netns
    out_dir = tmp_path / "out"
    before = _tx_packets(netns, device)
    result = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-m", "alertdrill.cli", "run",
         "--stack", str(SHOP / "stack"), "--features", str(SHOP / "features"),
         "--report-dir", str(out_dir)],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=400, check=False)
    sent = _tx_packets(netns, device) - before
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "5 passed in" in out, out
    assert sent == 0, f"{sent} packet(s) left 127.0.0.1 during the run"

    # The probe can fail: one DNS lookup and one connection attempt from the same namespace
    # are counted (so a zero above means nothing was sent, not that nothing is counted).
    subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c",
                    "import socket\n"
                    "for target in (lambda: socket.getaddrinfo('hooks.slack.com', 443),\n"
                    "               lambda: socket.create_connection(('203.0.113.7', 443), 1)):\n"
                    "    try: target()\n"
                    "    except OSError: pass\n"], capture_output=True, timeout=30, check=False)
    assert _tx_packets(netns, device) - before > 0, "the counter must see a packet sent out"

    # The credentials of the user's alertmanager.yml reach no output the run wrote.
    secrets = _shop_secrets()
    config = (SHOP / "stack" / "alertmanager.yml").read_text()
    assert all(secret in config for secret in secrets)
    written = [p for p in out_dir.rglob("*") if p.is_file()]
    assert len(written) > 10 and any("ShopServiceDown" in p.read_text(errors="replace")
                                     for p in written)
    for path in written:
        text = path.read_text(errors="replace")
        for secret in secrets:
            assert secret not in text, f"a credential of alertmanager.yml is in {path}"
