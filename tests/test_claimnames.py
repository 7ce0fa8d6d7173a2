"""Names in claims are checked against the stack before anything starts (issue: verdicts that
cannot lie): a misspelt receiver, alert, integration or service refuses the scenario at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from alertdrill.engine.claimnames import ParsedStep, StackNames, problems, stack_names
from tests.helpers import ROOT, run_pytest

SAMPLE = ROOT / "stack" / "sample"


def _names() -> StackNames:
    return StackNames("s", {"team-web": frozenset({("slack", 0)}),
                            "team-db": frozenset({("webhook", 0)})},
                      frozenset({"TargetDown"}), frozenset({"web", "db", "alertmanager-0"}))


def _steps(*steps: dict[str, object], stack: bool = True) -> list[ParsedStep]:
    head = [ParsedStep("Given the stack is running", 1, {}, starts_stack="")] if stack else []
    return head + [ParsedStep(f"step {i}", i + 2, args) for i, args in enumerate(steps)]


def _messages(steps: list[ParsedStep]) -> list[str]:
    return [p.message() for p in problems(steps, lambda _name: _names())]


def test_the_sample_stack_defines_its_receivers_integrations_alerts_and_services() -> None:
    names = stack_names(SAMPLE)
    assert {"team-web", "team-db"} <= set(names.receivers)
    assert ("slack", 0) in names.receivers["team-web"]
    assert "TargetDown" in names.alerts
    assert {"web", "db", "prometheus", "alertmanager-0", "alertmanager-2"} <= names.services
    assert "alertmanager-3" not in names.services


def test_known_names_pass() -> None:
    assert _messages(_steps({"receiver": "team-web", "alertname": "TargetDown",
                             "integration": "slack"},
                            {"service": "web"}, {"peer": "alertmanager-0"},
                            {"receivers": '"team-web" and "team-db"', "alertname": "TargetDown"},
                            {"integration": None, "receiver": "team-db"})) == []


@pytest.mark.parametrize(("args", "expected"), [
    ({"receiver": "team-wbe"}, "no receiver 'team-wbe' in the alertmanager.yml of stack 's'; "
                               "did you mean 'team-web'"),
    ({"receivers": '"team-web" and "tem-db"'}, "no receiver 'tem-db'"),
    ({"alertname": "TargetDwn"}, "no alert 'TargetDwn' among the alerting rules of stack 's' "
                                 "(nor pushed by an earlier step); did you mean 'TargetDown'"),
    ({"receiver": "team-web", "integration": "pagerduty"},
     "no integration 'pagerduty' on receiver 'team-web' (it has slack)"),
    ({"integration": "opsgenie"}, "no integration 'opsgenie' on any receiver of stack 's'"),
    ({"service": "wbe"}, "no service 'wbe' in stack 's'; did you mean 'web'"),
    ({"peer": "alertmanager-7"}, "no service 'alertmanager-7'"),
])
def test_each_kind_of_unknown_name_is_named_with_a_suggestion(args: dict[str, object],
                                                              expected: str) -> None:
    found = _messages(_steps(args))
    assert len(found) == 1, found
    assert expected in found[0]


def test_a_pushed_alert_counts_from_the_step_that_pushes_it() -> None:
    push = ParsedStep("When the alert is pushed", 3, {"alertname": "Mine"},
                      introduces=frozenset({"alertname"}))
    before = ParsedStep("Then before", 2, {"alertname": "Mine"})
    after = ParsedStep("Then after", 4, {"alertname": "Mine"})
    steps = [ParsedStep("Given", 1, {}, starts_stack=""), before, push, after]
    found = _messages(steps)
    assert len(found) == 1 and found[0].startswith("line 2 ‹Then before›"), found


def test_steps_before_any_stack_are_not_checked() -> None:
    assert _messages(_steps({"receiver": "ghost"}, stack=False)) == []


def test_each_step_is_checked_against_the_stack_it_follows() -> None:
    other = StackNames("o", {"ops": frozenset()}, frozenset(), frozenset())
    steps = [ParsedStep("Given a", 1, {}, starts_stack="a"), ParsedStep("x", 2, {"receiver": "ops"}),
             ParsedStep("Given b", 3, {}, starts_stack="b"), ParsedStep("y", 4, {"receiver": "ops"})]
    found = problems(steps, lambda name: other if name == "b" else _names())
    assert [p.line for p in found] == [2]


# -- end to end: refused before any process starts -------------------------------------------------
TYPOS = {
    "receiver in a never claim": 'Then "team-wbe" is never notified of "TargetDown" within 3 minutes',
    "receiver in a positive claim": 'Then "team-wbe" is notified of "TargetDown" within 3 minutes',
    "alert in a never claim": 'Then "team-web" is never notified of "TargetDwn" within 3 minutes',
    "alert in a state claim": 'Then the alert "TargetDwn" fires within 2 minutes',
    "integration": 'Then "team-web" is notified via pagerduty of "TargetDown" within 3 minutes',
    "service": 'When the service "wbe" is stopped',
    "label name": 'Then the alert "TargetDown" with labels instanse=web:8080 fires within 2 minutes',
    "label value": 'Then the alert "TargetDown" with labels instance=wbe:8080 fires within 2 minutes',
}


@pytest.mark.slow
def test_a_misspelt_name_refuses_the_scenario_before_any_process_starts(tmp_path: Path) -> None:
    scenarios = "\n".join(
        f"  Scenario: {title}\n    Given the stack \"{SAMPLE}\" is running\n    {step}\n"
        for title, step in TYPOS.items())
    (tmp_path / "f.feature").write_text(f"Feature: typos\n{scenarios}")
    (tmp_path / "test_f.py").write_text(
        f"from pytest_bdd import scenarios\nscenarios({str(tmp_path / 'f.feature')!r})\n")
    work = tmp_path / "tmp"
    work.mkdir()
    started = time.monotonic()
    result = run_pytest([str(tmp_path / "test_f.py"), "--rootdir", str(ROOT), "-c",
                         str(ROOT / "pyproject.toml")], env={"ALERTDRILL_TMPDIR": str(work)})
    elapsed = time.monotonic() - started
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert f"{len(TYPOS)} failed" in out, out
    assert "did you mean 'team-web'" in out and "did you mean 'TargetDown'" in out
    assert "no integration 'pagerduty' on receiver 'team-web'" in out
    assert "did you mean 'web'" in out
    assert "no label 'instanse' on the alerts of 'TargetDown'" in out
    assert "did you mean 'instance=web:8080'" in out
    assert "Traceback" not in out
    # Nothing was started: no stack's temp dir was ever made. Tolerance: six refusals and the
    # interpreter's start stay far below one stack's start-up (> 5 s).
    assert list(work.iterdir()) == []
    assert elapsed < 5.0, f"took {elapsed:.1f}s"


def _check_features(directory: Path) -> subprocess.CompletedProcess[str]:
    """``alertdrill check --features DIR`` run from that directory."""
    return subprocess.run([sys.executable, "-m", "alertdrill.cli", "check", "--features",
                           str(directory)], capture_output=True, text=True, cwd=directory,
                          check=False, timeout=60)


def test_check_features_lists_every_unknown_name_and_fails(tmp_path: Path) -> None:
    (tmp_path / "f.feature").write_text(
        "Feature: typos\n  Scenario: one\n    Given the stack \"sample\" is running\n"
        "    When the service \"wbe\" is stopped\n"
        "    Then \"team-wbe\" is never notified of \"TargetDown\" within 3 minutes\n"
        "    And the service \"web\" is stoped\n")
    result = _check_features(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any("line 4 ‹When the service \"wbe\" is stopped›: no service 'wbe'" in ln for ln in lines)
    assert any("no receiver 'team-wbe'" in ln and "did you mean 'team-web'" in ln for ln in lines)
    assert any('no step definition matches "And the service "web" is stoped"' in ln for ln in lines)
    assert lines[-1] == "1 feature file: 3 problems"


def test_names_in_routing_and_delivery_tables_are_checked(tmp_path: Path) -> None:
    (tmp_path / "f.feature").write_text(
        "Feature: tables\n  Scenario: one\n    Given the stack \"sample\" is running\n"
        "    When every alerting rule's alert is pushed to Alertmanager\n"
        "    Then Alertmanager routes them as follows within 1 minute:\n"
        "      | alert      | receivers          |\n"
        "      | TargetDwn  | team-web, oncall-pager |\n"
        "    Then the resolved notifications go through exactly these integrations within 6 minutes:\n"
        "      | receiver | integrations |\n"
        "      | team-wbe | slack        |\n"
        "      | oncall-pager | none     |\n")
    result = _check_features(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "no alert 'TargetDwn'" in out and "did you mean 'TargetDown'" in out
    assert "no receiver 'team-wbe'" in out and "did you mean 'team-web'" in out
    assert out.splitlines()[-1] == "1 feature file: 2 problems"


def test_check_features_passes_on_the_bundled_suite() -> None:
    result = subprocess.run([sys.executable, "-m", "alertdrill.cli", "check", "--features",
                             str(ROOT / "features")], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(": 0 problems")


def _label_step(labels: str, alertname: str = "TargetDown") -> list[ParsedStep]:
    return [ParsedStep("Given", 1, {}, starts_stack=""),
            ParsedStep("Then x", 2, {"alertname": alertname, "labels": labels})]


def test_labels_a_rule_never_gives_its_alerts_are_named() -> None:
    names = stack_names(SAMPLE)

    def check(labels: str, alertname: str = "TargetDown") -> list[str]:
        return [p.message() for p in problems(_label_step(labels, alertname), lambda _: names)]

    assert check("instance=web:8080, severity=critical, job=web") == []
    (name,) = check("instanse=web:8080")
    assert "no label 'instanse' on the alerts of 'TargetDown'" in name
    assert "did you mean 'instance'" in name
    (value,) = check("severity=critcal")
    assert "no value 'severity=critcal'" in value and "their severity is critical" in value
    # an alert a step pushed has no rule to say which labels it carries
    pushed = [ParsedStep("Given", 1, {}, starts_stack=""),
              ParsedStep("When pushed", 2, {"alertname": "Pushed"},
                         introduces=frozenset({"alertname"})),
              ParsedStep("Then x", 3, {"alertname": "Pushed", "labels": "anything=at-all"})]
    assert problems(pushed, lambda _: names) == []


def test_labels_the_escalation_service_adds_stay_possible() -> None:
    names = stack_names(ROOT / "stack" / "reference")
    steps = _label_step("escalation=executive", alertname="PostgreSQLDown")
    assert problems(steps, lambda _: names) == []


def test_an_alert_pushed_under_a_rules_name_carries_the_scenarios_labels() -> None:
    names = stack_names(SAMPLE)
    steps = [ParsedStep("Given", 1, {}, starts_stack=""),
             ParsedStep("When pushed", 2, {"alertname": "TargetDown", "labels": "maintenance=true"},
                        introduces=frozenset({"alertname", "labels"})),
             ParsedStep("Then x", 3, {"alertname": "TargetDown", "labels": "maintenance=true"})]
    assert problems(steps, lambda _: names) == []
