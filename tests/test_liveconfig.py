"""Live config changes: the replacement file is checked, and the rules Prometheus reports
loaded are compared with the file (the reloads themselves run in features/sample)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertdrill.engine.claimnames import ParsedStep, problems, stack_names
from alertdrill.engine.liveconfig import change_file, metric, missing_rules
from alertdrill.errors import StepError
from tests.helpers import ROOT

SAMPLE = ROOT / "stack" / "sample"
RULES = {"groups": [{"name": "availability", "rules": [
    {"alert": "TargetDown", "expr": "up == 0", "for": "5s"},
    {"record": "job:up:sum", "expr": "sum(up)"}]}]}


def _api(duration: float, file: str = "/x/rules/00-availability.yml") -> list[dict[str, object]]:
    return [{"name": "availability", "file": file, "rules": [
        {"name": "TargetDown", "type": "alerting", "duration": duration},
        {"name": "job:up:sum", "type": "recording"}]}]


def test_the_loaded_rules_match_the_file() -> None:
    assert missing_rules(_api(5.0), "00-availability.yml", RULES) == []


def test_an_old_for_a_missing_group_or_another_file_is_named() -> None:
    assert missing_rules(_api(0.5), "00-availability.yml", RULES) == [
        "alert 'TargetDown' runs with for 0.5 s, not 5 s"]
    assert missing_rules(_api(5.0, "/x/rules/01-other.yml"), "00-availability.yml", RULES) == [
        "group 'availability' is not loaded"]
    other = {"groups": [{"name": "availability", "rules": [{"alert": "New", "expr": "1"}]}]}
    assert missing_rules(_api(5.0), "00-availability.yml", other) == [
        "alert 'New' of group 'availability' is not loaded"]


def test_the_replacement_must_exist_and_be_of_the_kind_replaced() -> None:
    path, doc = change_file(SAMPLE, "changes/availability-slow.yml", "rules")
    assert path.name == "availability-slow.yml" and doc["groups"]
    with pytest.raises(StepError, match=r"no file 'changes/nope\.yml'"):
        change_file(SAMPLE, "changes/nope.yml", "rules")
    with pytest.raises(StepError, match=r"is not an alertmanager\.yml: it reads as a rule file"):
        change_file(SAMPLE, "changes/availability-slow.yml", "alertmanager")


def test_an_unlabelled_metric_is_read_from_a_metrics_page() -> None:
    page = ("# TYPE alertmanager_config_hash gauge\nalertmanager_config_hash 1.2345e+14\n"
            "# TYPE alertmanager_config_last_reload_successful gauge\n"
            "alertmanager_config_last_reload_successful 0\n")
    assert metric(page, "alertmanager_config_hash") == 1.2345e14
    assert metric(page, "alertmanager_config_last_reload_successful") == 0
    assert metric(page, "absent") is None


def test_files_named_in_steps_are_checked_before_start() -> None:
    steps = [ParsedStep("Given", 1, {}, starts_stack=""),
             ParsedStep('When the rule file "rules/availabilty.yml" is replaced by "changes/x.yml"',
                        2, {"rule_file": "rules/availabilty.yml", "config_file": "changes/x.yml"}),
             ParsedStep("When ok", 3, {"rule_file": "rules/availability.yml",
                                       "config_file": "changes/availability-slow.yml"})]
    found = problems(steps, lambda _: stack_names(SAMPLE))
    messages = [p.message() for p in found]
    assert len(messages) == 2, messages
    assert "no rule file 'rules/availabilty.yml'" in messages[0]
    assert "did you mean 'rules/availability.yml'" in messages[0]
    assert "no file 'changes/x.yml' in the directory of stack 'sample'" in messages[1]


def test_a_stack_without_changes_still_names_its_files(tmp_path: Path) -> None:
    names = stack_names(SAMPLE)
    assert names.root == SAMPLE.resolve()
    assert names.rule_files == frozenset({"rules/availability.yml"})
