"""Which scenarios could see a mutant, fastest first — so a mutant does not run the whole suite.

Read from the feature text alone, and conservative: a scenario is left out only when it
surely cannot observe the change. It is *kept* when

- it runs the mutated stack's promtool rule unit tests (``Then the rule unit tests of the stack
  "NAME" pass``) and the mutant changes a rule file; or
- it starts the mutated stack (``Given the stack is running`` — the run's ``--stack`` — or
  ``Given the stack "NAME" is running`` with the mutated directory's name), and any of:
- it names (in a step, a table or a doc string) an alert or a receiver the mutant affects —
  the static view's answer (equivalence.py): for a route, the alerts whose routing changes;
  for a rule, the rule's alert and the alerts an inhibit rule pairs it with; for an
  integration, the receiver and the alerts that may reach it;
- the static view cannot say what the mutant affects (a template line, an unreadable tree);
- it names no alert of the stack at all, or uses "every alerting rule" (what it observes is
  not in its text);
- for a change to alertmanager.yml: it names something that is not a name of the stack (an
  alert it pushes with labels of its own may route anywhere).

Order: the scenarios that killed most of this run's mutants per second first; then those that
took least time in earlier records (a ``reports/drill`` of a previous ``alertdrill run``, and
every mutant already run), so a mutant the suite kills is usually killed cheaply; scenarios
with no record after them, in file order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertdrill.engine.stackspec import StackSpec
from alertdrill.mutate.model import Mutant
from alertdrill.report.records import latest_records
from alertdrill.yamlio import load_yaml

_QUOTED = re.compile(r'"([^"\n]*)"')
_NAMED_STACK = re.compile(r'^the stack "([^"]+)" is running$')
_DEFAULT_STACK = "the stack is running"
_NAMED_RULE_TESTS = re.compile(r'^the rule unit tests of the stack "([^"]+)" pass$')
_DEFAULT_RULE_TESTS = "the stack's rule unit tests pass"
_ALL_RULES = "every alerting rule"


@dataclass(frozen=True)
class Scenario:
    """One scenario of a feature file, as selection reads it."""

    feature: Path
    name: str
    #: Stack names its steps start ("" for the run's default stack).
    stacks: frozenset[str]
    #: Every quoted string and table cell of its steps (background included).
    names: frozenset[str]
    all_rules: bool
    #: Stack names whose promtool rule unit tests it runs ("" for the default stack): it sees
    #: a rule file's mutants of those stacks, and nothing else of them.
    rule_tests: frozenset[str] = frozenset()

    @property
    def key(self) -> tuple[str, str]:
        """(feature file, scenario name): what the order plugin matches items by."""
        return str(self.feature), self.name


def read_scenarios(files: Iterable[Path]) -> list[Scenario]:
    """The scenarios of feature files (an outline once, with its examples' values)."""
    from pytest_bdd.parser import FeatureParser

    found = []
    for file in files:
        feature = FeatureParser(str(file.parent), file.name).parse()
        for template in feature.scenarios.values():
            stacks: set[str] = set()
            rule_tests: set[str] = set()
            names: set[str] = set()
            all_rules = False
            for step in template.steps:
                text = step.name.strip()
                named = _NAMED_STACK.match(text)
                if named:
                    stacks.add(named.group(1))
                elif text == _DEFAULT_STACK:
                    stacks.add("")
                tested = _NAMED_RULE_TESTS.match(text)
                if tested:
                    rule_tests.add(tested.group(1))
                elif text == _DEFAULT_RULE_TESTS:
                    rule_tests.add("")
                all_rules = all_rules or _ALL_RULES in text
                names.update(_QUOTED.findall(text))
                if step.datatable is not None:
                    for row in step.datatable.rows:
                        for cell in row.cells:
                            names.update(p.strip() for p in str(cell.value).split(","))
                if step.docstring:
                    names.update(_QUOTED.findall(str(step.docstring)))
            for examples in template.examples:
                for context in examples.as_contexts():
                    names.update(str(v) for v in context.values())
            found.append(Scenario(file.resolve(), template.name, frozenset(stacks),
                                  frozenset(n for n in names if n), all_rules,
                                  frozenset(rule_tests)))
    return found


@dataclass
class StackNames:
    """Every name a scenario of the stack may use: anything else may be a pushed alert."""

    alerts: set[str] = field(default_factory=set)
    other: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, spec: StackSpec) -> StackNames:
        """Alert names of the rules; receivers, services, integrations and stack names."""
        from alertdrill.engine.claimnames import BUILTIN_SERVICES
        from alertdrill.sink.integrations import RECEIVER_WORDS

        names = cls()
        for path in spec.rule_files:
            for group in load_yaml(path, "rule file").get("groups") or []:
                for rule in (group or {}).get("rules") or []:
                    if isinstance(rule, dict) and rule.get("alert"):
                        names.alerts.add(str(rule["alert"]))
        am = load_yaml(spec.alertmanager_config, "alertmanager.yml")
        names.other |= {str(r.get("name")) for r in am.get("receivers") or [] if isinstance(r, dict)}
        names.other |= set(spec.services) | set(BUILTIN_SERVICES) | set(RECEIVER_WORDS)
        names.other |= {f"alertmanager-{i}" for i in range(9)} | {spec.root.name, spec.name}
        return names


def sees(scenario: Scenario, mutant: Mutant, stack_name: str, names: StackNames) -> bool:
    """Could ``scenario`` observe ``mutant`` (of the stack called ``stack_name``)?"""
    if not scenario.stacks & {"", stack_name}:
        return mutant.site.scope == "rule" and bool(scenario.rule_tests & {"", stack_name})
    affected = mutant.affected_alerts
    if affected is None or scenario.all_rules:
        return True
    if scenario.names & (affected | mutant.affected_receivers | mutant.site.receivers):
        return True
    if not scenario.names & names.alerts:
        return True
    if mutant.site.scope in ("routing", "inhibition", "receiver", "time-interval"):
        return bool(scenario.names - names.alerts - names.other)
    return False


def _scenario_of(record: dict[str, Any]) -> tuple[str, str]:
    return (Path(str(record.get("feature", {}).get("file", ""))).name,
            str(record.get("scenario", {}).get("name", "")))


def durations(directories: Iterable[Path]) -> dict[tuple[str, str], float]:
    """(feature file name, scenario name) → seconds, from the records in ``directories``
    (the latest record of a scenario wins)."""
    latest = latest_records(directories, _scenario_of,
                            keep=lambda r: r.get("duration") is not None)
    return {key: float(record["duration"]) for key, record in latest.items()}


def failing(directories: Iterable[Path]) -> set[tuple[str, str]]:
    """(feature file name, scenario name) of every scenario whose latest record in
    ``directories`` did not pass."""
    latest = latest_records(directories, _scenario_of, keep=lambda r: "outcome" in r)
    return {key for key, record in latest.items()
            if record["outcome"] in ("failed", "error")}


def ordered(scenarios: Sequence[Scenario], known: Mapping[tuple[str, str], float],
            kills: Mapping[tuple[str, str], int] | None = None) -> list[Scenario]:
    """The scenarios that killed most mutants per second of their run first (``kills``: this
    run's tally), then the rest fastest first by ``known`` durations, then the unknown in
    their given order.

    Why kills first: on the reference stack two table scenarios kill most routing and
    receiver mutants, while several faster scenarios kill almost none — fastest first alone
    ran a minute and a half of those before each kill."""
    tally = kills or {}

    def key(item: tuple[int, Scenario]) -> tuple[int, float, int]:
        index, scenario = item
        name = (scenario.feature.name, scenario.name)
        seconds = known.get(name)
        if tally.get(name):
            return (0, -tally[name] / max(seconds or 1.0, 1.0), index)
        return (1, seconds, index) if seconds is not None else (2, 0.0, index)

    return [s for _, s in sorted(enumerate(scenarios), key=key)]
