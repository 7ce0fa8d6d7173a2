"""The `alertdrill` command as a user runs it (a real subprocess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, run_pytest


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alertdrill.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, **(env or {})})


def test_scale_prints_the_scaled_copy_and_warns_on_stderr(tmp_path: Path) -> None:
    rules = tmp_path / "r.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: rate(x[5m]) > 1\n"
                     "    for: 10m\n  - alert: B\n    expr: time() - y > 60\n    for: 5s\n")
    result = _run("scale", "--time-scale", "60", str(rules))
    assert result.returncode == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    a, b = doc["groups"][0]["rules"]
    assert (a["expr"], a["for"]) == ("rate(x[5s]) > 1", "10s")
    assert b["for"] == "250ms"
    assert "rule 'B': time() is the wall clock" in result.stderr
    assert "rule 'B' for: 5s → 250ms" in result.stderr
    assert rules.read_text().count("10m") == 1, "the user's file is never changed"


def test_scale_writes_a_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run("scale", "-k", "30", "-o", str(out), "stack/sample/alertmanager.yml",
                  "stack/sample/prometheus.yml")
    assert result.returncode == 0, result.stderr
    am = yaml.safe_load((out / "alertmanager.yml").read_text())
    assert am["route"]["group_wait"] == "500ms" and am["route"]["group_interval"] == "2s"
    prom = yaml.safe_load((out / "prometheus.yml").read_text())
    assert prom["global"]["scrape_interval"] == "500ms"


def test_scale_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    bad = tmp_path / "x.yml"
    bad.write_text("just: [a, list\n")
    result = _run("scale", str(bad))
    assert result.returncode == 4  # a usage error: the user's file
    assert result.stderr.startswith("alertdrill: x.yml is not valid YAML at")
    assert "Traceback" not in result.stderr


def test_steps_lists_every_step_with_an_example() -> None:
    result = _run("steps")
    assert result.returncode == 0
    assert 'When the service "web" is stopped' in result.stdout
    assert "pattern: " in result.stdout


# -- usage errors: exit status 4, one message, before anything starts ----------------------------
BAD_RUN_OPTIONS = {
    "time-scale 0": (["--time-scale", "0"], "time scale must be above 0 and at most 3600, not 0"),
    "time-scale abc": (["--time-scale", "abc"], "argument --time-scale: invalid float value: 'abc'"),
    "time-scale nan": (["--time-scale", "nan"], "time scale must be above 0 and at most 3600, not nan"),
    "time-scale 5000": (["--time-scale", "5000"], "time scale must be above 0 and at most 3600"),
    "tolerance -1": (["--tolerance", "-1"], "tolerance must be 0 s or more, not -1"),
    "tolerance inf": (["--tolerance", "inf"], "tolerance must be 0 s or more, not inf"),
    "floor -1": (["--floor", "-1"], "floor must be within 0.05…10 s, not -1"),
    "peers -1": (["--peers", "-1"], "peers must be 1…9, not -1"),
    "peers 0": (["--peers", "0"], "peers must be 1…9, not 0"),
    "peers 10": (["--peers", "10"], "peers must be 1…9, not 10"),
    "parallel 0": (["--parallel", "0"], "argument --parallel/-n: must be 1 or more, not 0"),
    "no such stack": (["--stack", "no/such/dir"], "no stack directory 'no/such/dir'"),
    "no such feature": (["--features", "no/such.feature"], "no such feature file or directory"),
    "unknown option": (["--tiem-scale", "2"], "unrecognized arguments: --tiem-scale 2"),
}


@pytest.mark.parametrize("args,message", BAD_RUN_OPTIONS.values(), ids=BAD_RUN_OPTIONS.keys())
def test_run_refuses_a_bad_option_with_exit_4_before_anything_starts(
        args: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = _run("run", "features/sample/silences.feature", "--report-dir", str(out), *args,
                  env={"ALERTDRILL_TMPDIR": str(tmp_path / "tmp")})
    assert result.returncode == 4, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("alertdrill") >= 1 and result.stdout == "", "one message only"
    assert not out.exists() and not (tmp_path / "tmp").exists(), "nothing may start"


@pytest.mark.parametrize("variable,value,message", [
    ("ALERTDRILL_PEERS", "10", "peers must be 1…9, not 10"),
    ("ALERTDRILL_PEERS", "-1", "peers must be 1…9, not -1"),
    ("ALERTDRILL_PEERS", "two", "ALERTDRILL_PEERS='two' is not a valid int"),
    ("ALERTDRILL_TIME_SCALE", "0", "time scale must be above 0"),
])
def test_the_same_checks_hold_for_the_variables(variable: str, value: str, message: str,
                                                 tmp_path: Path) -> None:
    result = _run("run", "features/sample/silences.feature", "--report-dir",
                  str(tmp_path / "r"), env={variable: value})
    assert result.returncode == 4 and message in result.stderr, result.stderr


@pytest.mark.parametrize("args,message", [
    (["--peers", "10"], "ERROR: alertdrill: peers must be 1…9, not 10"),
    (["--peers", "-1"], "ERROR: alertdrill: peers must be 1…9, not -1"),
    (["--time-scale", "0"], "ERROR: alertdrill: time scale must be above 0"),
    (["--tolerance", "-2"], "ERROR: alertdrill: tolerance must be 0 s or more, not -2"),
], ids=["peers 10", "peers -1", "time-scale 0", "tolerance -2"])
def test_pytest_refuses_the_same_options_as_a_usage_error(args: list[str], message: str) -> None:
    """Through pytest too: one usage error (exit 4), not an error in every scenario."""
    result = run_pytest(["features/sample/silences.feature", "-q", *args], env={}, timeout=60)
    assert result.returncode == 4, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "passed" not in result.stdout and "error" not in result.stdout.lower()


def test_peers_1_to_9_are_the_manifests_range(tmp_path: Path) -> None:
    from alertdrill.engine.stackspec import StackSpec
    from alertdrill.errors import ConfigError
    from alertdrill.settings import PEERS, Settings

    assert Settings.from_env({}, peers=1).peers == 1 and Settings.from_env({}, peers=9).peers == 9
    assert Settings.from_env({}).peers is None, "unset: as the stack says"
    for bad in (0, 10, -1):
        with pytest.raises(ConfigError, match="peers must be 1…9"):
            Settings.from_env({}, peers=bad)
    for count in (0, 10):
        stack = tmp_path / f"s{count}"
        (stack / "rules").mkdir(parents=True)
        for name in ("prometheus.yml", "alertmanager.yml"):
            (stack / name).write_text((ROOT / "stack" / "sample" / name).read_text())
        (stack / "rules" / "r.yml").write_text("groups: []\n")
        (stack / "alertdrill.yml").write_text(f"alertmanager:\n  peers: {count}\n")
        with pytest.raises(ConfigError, match=f"alertmanager.peers must be 1…9, not {count}"):
            StackSpec.load(stack)
    assert list(PEERS) == list(range(1, 10))


def test_every_subcommand_refuses_bad_input_with_exit_4(tmp_path: Path) -> None:
    state = {"ALERTDRILL_STATE_DIR": str(tmp_path / "state")}
    cases = [
        (["up", "--peers", "10"], "peers must be 1…9, not 10"),
        (["up", "--time-scale", "-5"], "time scale must be above 0"),
        (["up", "--stack", "no/such"], "no stack directory 'no/such'"),
        (["up", "--timeout", "0"], "argument --timeout: must be above 0 s, not 0"),
        (["check", "no/such"], "no stack directory 'no/such'"),
        (["check", "sample", "--stack", "reference"], "two stacks given"),
        (["scale", "-k", "0", "stack/sample/prometheus.yml"], "time scale must be above 0"),
        (["scale", "--floor", "0", "stack/sample/prometheus.yml"], "floor must be within"),
        (["inject", "stop"], "`stop` takes"),
        (["inject", "no-such-fault"], "unknown fault 'no-such-fault'"),
        (["watch", "--interval", "-1"], "argument --interval: must be above 0 s, not -1"),
        (["no-such-command"], "invalid choice: 'no-such-command'"),
    ]
    for args, message in cases:
        result = _run(*args, env=state)
        assert (result.returncode, "Traceback" in result.stderr) == (4, False), (args, result)
        assert message in result.stderr, (args, result.stderr)
    assert not (tmp_path / "state").exists(), "no GameDay state may be touched"


def test_a_command_that_cannot_run_exits_3(tmp_path: Path) -> None:
    """Not the input's fault: no GameDay is up, no records to build a report from."""
    state = {"ALERTDRILL_STATE_DIR": str(tmp_path / "state")}
    for args in (["inject", "stop", "web"], ["revert"], ["watch", "--once"],
                 ["report", "--from", str(tmp_path / "none"), "--out", str(tmp_path)]):
        result = _run(*args, env=state)
        assert result.returncode == 3, (args, result.stderr)
        assert result.stderr.startswith("alertdrill: no ") and "Traceback" not in result.stderr


# -- check STACK ---------------------------------------------------------------------------------
def test_check_takes_the_stack_as_a_positional_argument_too() -> None:
    for args in (["stack/sample"], ["sample"], ["--stack", "sample"], ["sample", "--stack",
                                                                      "sample"]):
        result = _run("check", *args, "--no-tools")
        assert result.returncode == 0, (args, result.stderr)
        assert result.stdout == "stack/sample: 0 errors, 0 warnings (promtool/amtool skipped)\n"


# -- wording ---------------------------------------------------------------------------------------
def test_plural_agrees_with_its_count() -> None:
    from alertdrill.text import plural

    assert [plural(n, "scenario") for n in (0, 1, 2)] == ["0 scenarios", "1 scenario",
                                                          "2 scenarios"]
    assert plural(2, "error") == "2 errors" and plural(1, "error") == "1 error"
    assert plural(3, "process") == "3 processes" and plural(2, "passed", "passed") == "2 passed"


def test_the_progress_summary_is_plural_correct() -> None:
    import io

    from alertdrill.cli.runner import Progress

    progress = Progress(io.StringIO(), tty=False)
    progress.counts = {"passed": 1, "error": 2}
    assert progress.summary().startswith("1 passed, 2 errors in ")
    progress.counts = {"failed": 2, "error": 1, "skipped": 1}
    assert progress.summary().startswith("2 failed, 1 error, 1 skipped in ")

    class Session:
        def __init__(self) -> None:
            self.items = ["one"]

    progress.pytest_collection_finish(Session())
    assert progress.out.getvalue() == "1 scenario\n"  # type: ignore[attr-defined]


def test_the_report_summary_is_plural_correct() -> None:
    from alertdrill import report
    from alertdrill.report.records import ScenarioInfo, build_record
    from alertdrill.settings import Settings

    one = build_record(ScenarioInfo(nodeid="t::a", feature_name="F", feature_file="f.feature",
                                    scenario_name="a", outcome="error", message="StartupError: x"),
                       Settings())
    assert "**1 scenario: 0 passed, 0 failed, 1 error**" in report.markdown([one])
    assert "1 of 1 scenario did not pass" in report.render_html([one])


# -- signal dispositions ---------------------------------------------------------------------------
_DISPOSITIONS = """
import signal
from alertdrill.backends import process
process.install_signal_handlers()
print(" ".join(f"{s.name}={'ignored' if signal.getsignal(s) == signal.SIG_IGN else 'handled'}"
               for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)))
print(process.ignored_signals())
"""


@pytest.mark.parametrize("ignored", [(), (signal.SIGINT,), (signal.SIGINT, signal.SIGHUP)],
                         ids=["none", "SIGINT", "SIGINT+SIGHUP"])
def test_the_harness_keeps_a_signal_its_parent_ignored_ignored(
        ignored: tuple[signal.Signals, ...]) -> None:
    """A background job of a script starts with SIGINT ignored, `nohup` with SIGHUP ignored:
    the harness leaves those as its parent asked (README › Troubleshooting) and handles the
    others — SIGTERM always stops it, with the full cleanup."""
    def preexec() -> None:  # a fresh child of this single-threaded call: safe here
        for sig in ignored:
            signal.signal(sig, signal.SIG_IGN)
        for sig in {signal.SIGINT, signal.SIGTERM, signal.SIGHUP} - set(ignored):
            signal.signal(sig, signal.SIG_DFL)

    result = subprocess.run([sys.executable, "-c", _DISPOSITIONS], cwd=ROOT, capture_output=True,
                            text=True, timeout=30, check=True, preexec_fn=preexec)
    states, names = result.stdout.splitlines()
    expected = " ".join(f"{s.name}={'ignored' if s in ignored else 'handled'}"
                        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
    assert states == expected
    assert names == str([s.name for s in ignored])
