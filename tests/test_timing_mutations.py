"""The scenarios of issue 14's timing items (scenario clock, silences, live config changes,
time of day) fail when the thing they check is broken.

Like tests/test_mutations.py: each mutant is a copy of a bundled stack with one small change,
run with the scenario that covers it (ALERTDRILL_STACK_DIRS puts the copy first); the run must
fail, at the step that states the broken expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT, ConfigMutant, assert_caught, run_config_mutant, run_pytest

pytestmark = pytest.mark.slow

AM = "alertmanager/alertmanager.yml"


def Mutant(name: str, stack: str, file: str, before: str, after: str, scenarios: str,
           failing_step: str) -> ConfigMutant:
    """A config mutant of ``stack`` (written stack first, as this file's table reads)."""
    return ConfigMutant(name, file, before, after, scenarios, failing_step, stack)


MUTANTS = [
    Mutant("the operations group ticks every minute, not every 5", "reference", AM,
           "      receiver: ops-team\n      group_by: [alertname, instance]\n",
           "      receiver: ops-team\n      group_by: [alertname, instance]\n"
           "      group_interval: 1m\n",
           "joining", 'with labels mountpoint=/logs between 3 and 4 minutes'),
    Mutant("the operations group ticks every minute (the placement in one step)", "reference", AM,
           "      receiver: ops-team\n      group_by: [alertname, instance]\n",
           "      receiver: ops-team\n      group_by: [alertname, instance]\n"
           "      group_interval: 1m\n",
           "one_step", 'with labels mountpoint=/logs between 3 and 4 minutes'),
    Mutant("a live alertmanager.yml that Alertmanager refuses", "sample",
           "changes/alertmanager-web-pages.yml",
           "'severity=\"warning\"']\n      receiver: oncall-pager",
           "'severity=\"warning\"']\n      receiver: oncall-pagr",
           "routing_change", "the stack's alertmanager.yml is replaced by"),
    Mutant("a live rule file that Prometheus refuses", "sample", "changes/availability-slow.yml",
           "expr: up == 0", "expr: up ==",
           "rule_change", 'the rule file "rules/availability.yml" is replaced by'),
    Mutant("a live rule change that keeps the old for", "sample", "changes/availability-slow.yml",
           "for: 5m", "for: 30s",
           "rule_change", '"oncall-pager" is never notified of "TargetDown" within 4 minutes'),
    Mutant("business hours moved one hour later", "reference", AM,
           "start_time: '09:00'", "start_time: '10:00'",
           "Tuesday_morning", '"info-review" is notified via slack of "SlowQueriesTrend"'),
    Mutant("the weekend counted as business days", "reference", AM,
           "weekdays: ['monday:friday']", "weekdays: ['monday:saturday']",
           "Saturday_morning", '"info-review" is never notified of "SlowQueriesTrend"'),
]


@dataclass(frozen=True)
class ScenarioMutant:
    """A bundled feature file with one change to what a step asks of the stack."""

    name: str
    feature: str
    before: str
    after: str
    scenarios: str
    failing_step: str


SCENARIO_MUTANTS = [
    ScenarioMutant("the negative matcher made positive", "sample/silences.feature",
                   'alertname=~"Cache.*", severity!="critical" is created',
                   'alertname=~"Cache.*", severity="critical" is created',
                   "negative", '"CacheMissesHigh" is silenced within 1 minute'),
    ScenarioMutant("the regex matcher widened to every alert", "sample/silences.feature",
                   'alertname=~"Cache.*", severity!="critical" is created',
                   'alertname=~".+", severity!="critical" is created',
                   "negative", '"team-web" is notified of "ApiSlow" within 2 minutes'),
    ScenarioMutant("the silence starting at once", "sample/silences.feature",
                   'for 15 minutes starting in 3 minutes with comment',
                   'for 15 minutes with comment',
                   "starting", '"team-web" is notified of "CacheMissesHigh" within 1 minute'),
]


@pytest.mark.parametrize("mutant", SCENARIO_MUTANTS, ids=[m.name for m in SCENARIO_MUTANTS])
def test_the_changed_scenario_fails(mutant: ScenarioMutant, tmp_path: Path) -> None:
    text = (ROOT / "features" / mutant.feature).read_text()
    assert text.count(mutant.before) == 1, f"mutation site not unique in {mutant.feature}"
    feature = tmp_path / Path(mutant.feature).name
    feature.write_text(text.replace(mutant.before, mutant.after))
    (tmp_path / "test_f.py").write_text(
        f"from pytest_bdd import scenarios\nscenarios({str(feature)!r})\n")
    result = run_pytest([str(tmp_path / "test_f.py"), "-p", "no:xdist", "--rootdir", str(ROOT),
                         "-c", str(ROOT / "pyproject.toml"), "-k", mutant.scenarios, "-x", "-q"],
                        env={}, timeout=300)
    assert_caught(result.stdout + result.stderr, result.returncode, mutant.name,
                  mutant.failing_step)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_the_scenario_catches(mutant: ConfigMutant, tmp_path: Path) -> None:
    run_config_mutant(mutant, tmp_path)
