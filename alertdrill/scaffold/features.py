"""The generated baseline features: today's expectations, written as readable Gherkin.

Three files, each only when it has a scenario:

- ``routing.feature``: one routing-table scenario, a row per alert
  ``When every alerting rule's alert is pushed to Alertmanager`` pushes;
- ``inhibition.feature``: a scenario per inhibit rule the rules' alerts can exercise;
- ``fire_and_resolve.feature``: per alerting rule the stand-in can trip, the trip, the firing,
  the receivers notified, the revert, the resolution and the resolved notifications of the
  integrations that send them. The rules it cannot trip are listed, with why, at its top.

They use only the bundled step vocabulary and the series steps; every window is derived from
the config (``for``, intervals, group_wait/group_interval) plus a margin, in real-world minutes
(the run's time scale applies).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from alertdrill.scaffold.expectations import Expectations, RoutedAlert, window

GENERATED_TAG = "@generated"
ROUTING_FILE = "routing.feature"
INHIBITION_FILE = "inhibition.feature"
FIRE_FILE = "fire_and_resolve.feature"
GENERATED_FILES = (ROUTING_FILE, INHIBITION_FILE, FIRE_FILE)
_BARE = re.compile(r"^[^,\s\"]+$")


class TripPlanLike(Protocol):
    """What ``alertdrill.analysis.seriestrip.trip_steps`` returns (a TripPlan)."""

    steps: list[str]
    revert_steps: list[str]
    reason: str


#: ``trip_steps(spec, rule_name)``; the spec is the stack's StackSpec.
TripProvider = Callable[[object, str], TripPlanLike]


@dataclass
class Generated:
    """The generated files (name → text) and the scenario names each holds."""

    files: dict[str, str] = field(default_factory=dict)
    scenarios: dict[str, list[str]] = field(default_factory=dict)
    untripped: list[tuple[str, str]] = field(default_factory=list)


def labels_text(labels: dict[str, str], skip: Sequence[str] = ("alertname",)) -> str:
    """``a=b, c="d e"`` as the steps' ``with labels`` read it."""
    parts = []
    for name, value in sorted(labels.items()):
        if name in skip:
            continue
        parts.append(f"{name}={value}" if _BARE.match(value) else f'{name}="{value}"')
    return ", ".join(parts)


def minutes(seconds: float) -> str:
    """A step duration in whole minutes ("1 minute", "4 minutes")."""
    n = max(1, round(seconds / 60))
    return f"{n} minute" if n == 1 else f"{n} minutes"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def routing_columns(expectations: Expectations) -> list[str]:
    """The label columns of the routing table: labels routes and inhibitions look at, plus any
    that tell apart two alerts of the same rule routed differently."""
    routed = expectations.routed
    present = {name for r in routed for name in r.labels} - {"alertname"}
    columns = [n for n in expectations.routing_labels if n in present]
    for _ in range(len(present) + 1):
        ambiguous = _ambiguous(routed, columns)
        if not ambiguous:
            break
        extra = sorted({n for a, b in ambiguous for n in set(a.labels) ^ set(b.labels)
                        | {k for k in a.labels if a.labels[k] != b.labels.get(k)}}
                       - set(columns) - {"alertname"})
        if not extra:
            break
        columns += extra
    ordered = [c for c in ("severity", "team") if c in columns]
    return ordered + [c for c in columns if c not in ordered]


def _row_labels(alert: RoutedAlert, columns: Sequence[str]) -> dict[str, str]:
    return {c: alert.labels[c] for c in columns if c in alert.labels}


def _ambiguous(routed: list[RoutedAlert], columns: Sequence[str]
               ) -> list[tuple[RoutedAlert, RoutedAlert]]:
    """Pairs where one alert's row also selects another alert routed elsewhere."""
    pairs = []
    for a in routed:
        row = _row_labels(a, columns)
        for b in routed:
            if b is a or b.alertname != a.alertname or b.receivers == a.receivers:
                continue
            if all(b.labels.get(k) == v for k, v in row.items()):
                pairs.append((a, b))
    return pairs


def routing_feature(expectations: Expectations, header: str) -> tuple[str, list[str]]:
    """The routing-table feature and its scenario's name."""
    columns = routing_columns(expectations)
    rows = [["alert", *columns, "receivers"]]
    for alert in expectations.routed:
        rows.append([alert.alertname, *(alert.labels.get(c, "") for c in columns),
                     ", ".join(alert.receivers)])
    widths = [max(len(_cell(r[i])) for r in rows) for i in range(len(rows[0]))]
    table = ["      | " + " | ".join(_cell(c).ljust(w) for c, w in zip(row, widths, strict=True))
             + " |" for row in rows]
    name = "every alerting rule's alert reaches exactly the receivers it reaches today"
    ambiguous = _ambiguous(expectations.routed, columns)
    notes = [f"  # note: the rows of {a.alertname} cannot tell {labels_text(a.labels)} from "
             f"{labels_text(b.labels)} (a label absent from one)" for a, b in ambiguous[:5]]
    text = "\n".join([
        header,
        f"{GENERATED_TAG} @routing",
        "Feature: Where every alerting rule's alert goes today",
        "  One alert per alerting rule and scrape target is pushed, labelled as Prometheus would",
        "  label it (the rule's labels and its target's), and Alertmanager must route each to",
        "  exactly the receivers below — computed from alertmanager.yml's routing tree as it is",
        "  today. A changed receiver, matcher or rule label, or a new rule, fails this scenario.",
        *notes,
        "",
        f"  Scenario: {name}",
        "    Given the stack is running",
        "    When every alerting rule's alert is pushed to Alertmanager",
        "    Then Alertmanager routes them as follows within 1 minute:",
        *table,
    ]) + "\n"
    return text, [name]


def inhibition_feature(expectations: Expectations, header: str) -> tuple[str | None, list[str]]:
    """One scenario per exercisable inhibit rule (None when there is none)."""
    skipped = [f"#   inhibit rule {i}: {why}" for i, why in expectations.inhibitions_skipped]
    if not expectations.inhibitions:
        return None, []
    lines = [header]
    if skipped:
        lines += ["# Inhibit rules without a scenario (the rules cannot produce both sides):",
                  *skipped]
    lines += [f"{GENERATED_TAG} @inhibition",
              "Feature: Every inhibit rule the alerting rules can exercise still inhibits",
              "  For each inhibit rule, a source and a target alert that the alerting rules",
              "  produce (their `equal` labels alike) are pushed: the target must be inhibited",
              "  and the source still notify its receivers."]
    names = []
    for case in expectations.inhibitions:
        target = case.target["alertname"]
        source = case.source["alertname"]
        name = f"inhibit rule {case.index}: {source} holds back {target}"
        names.append(name)
        lines += ["", f"  # {case.description}", f"  Scenario: {name}",
                  "    Given the stack is running",
                  f'    When the alert "{source}" is pushed to Alertmanager with labels '
                  f"{labels_text(case.source)}",
                  f'    And the alert "{target}" is pushed to Alertmanager with labels '
                  f"{labels_text(case.target)}",
                  f'    Then "{target}" with labels {labels_text(case.target)} is inhibited '
                  "within 1 minute"]
        for receiver in case.source_receivers:
            lines.append(f'    And "{receiver}" is notified of "{source}" within '
                         f"{minutes(window(case.group_wait))}")
    return "\n".join(lines) + "\n", names


def fire_feature(expectations: Expectations, header: str, spec: object,
                 trip: TripProvider | None, unavailable: str) -> tuple[str | None, list[str],
                                                                 list[tuple[str, str]]]:
    """Fire-and-resolve scenarios; also the rules that could not be tripped, with why."""
    rules = list(dict.fromkeys(r.rule for r in expectations.routed))
    untripped: list[tuple[str, str]] = []
    scenarios: list[list[str]] = []
    names: list[str] = []
    for rule in rules:
        if trip is None:
            untripped.append((rule, unavailable))
            continue
        try:
            plan = trip(spec, rule)
        except Exception as exc:  # one rule the planner chokes on must not stop init
            untripped.append((rule, f"the planner failed: {exc}"))
            continue
        if getattr(plan, "reason", "") or not plan.steps:
            untripped.append((rule, getattr(plan, "reason", "") or "no step trips it"))
            continue
        name = f"{rule} fires, reaches its receivers and resolves"
        names.append(name)
        scenarios.append(_fire_scenario(expectations, rule, name, plan))
    if not scenarios:
        return None, [], untripped
    lines = [header]
    if untripped:
        lines.append("# Rules the stand-in cannot trip (no scenario here):")
        lines += untripped_comment(untripped)
    lines += [f"{GENERATED_TAG} @fire-and-resolve",
              "Feature: Every rule the stand-in can trip fires, pages its receivers and resolves",
              "  The series stand-ins start at a healthy baseline (every rule inactive); each",
              "  scenario drives one rule's series past its threshold, then back. Windows: the",
              "  rule's `for`, two scrape and evaluation intervals, the route's group_wait (then",
              "  group_interval for the resolution) and a minute's margin."]
    for scenario in scenarios:
        lines += ["", *scenario]
    return "\n".join(lines) + "\n", names, untripped


def untripped_comment(untripped: list[tuple[str, str]]) -> list[str]:
    """``#   RuleA, RuleB: why`` lines, one per distinct reason."""
    by_reason: dict[str, list[str]] = {}
    for rule, why in untripped:
        by_reason.setdefault(why, []).append(rule)
    return [f"#   {', '.join(rules)}: {why}" for why, rules in by_reason.items()]


def _fire_scenario(expectations: Expectations, rule: str, name: str,
                   plan: TripPlanLike) -> list[str]:
    timing = expectations.timings[rule]
    group_wait, group_interval = expectations.route_timing(rule)
    every, some = expectations.receivers_of_rule(rule)
    detect = 2 * timing.scrape_interval + 2 * timing.eval_interval
    fire = window(timing.for_, detect, timing.longest_range)
    notify = window(timing.for_, detect, timing.longest_range, group_wait)
    resolve = window(detect, timing.longest_range, timing.keep_firing_for)
    resolved = window(detect, timing.longest_range, timing.keep_firing_for, group_interval)
    lines = [f"  Scenario: {name}", "    Given the stack is running"]
    lines += [f"    {'When' if i == 0 else 'And'} {step}" for i, step in enumerate(plan.steps)]
    lines.append(f'    Then the alert "{rule}" fires within {minutes(fire)}')
    if some - every:
        lines.append(f"    # only some of its alerts reach {', '.join(sorted(some - every))}: "
                     "not claimed")
    for receiver in sorted(every):
        lines.append(f'    And "{receiver}" is notified of "{rule}" within {minutes(notify)}')
    if not plan.revert_steps:
        lines.append("    # the planner gave no revert steps: the resolution is not claimed")
        return lines
    lines += [f"    {'When' if i == 0 else 'And'} {step}"
              for i, step in enumerate(plan.revert_steps)]
    lines.append(f'    Then the alert "{rule}" resolves within {minutes(resolve)}')
    for receiver in sorted(every):
        kinds = expectations.resolving.get(receiver, ())
        if not kinds:
            lines.append(f"    # {receiver}: no integration sends resolved notifications")
        for kind in kinds:
            lines.append(f'    And "{receiver}" is notified via {kind} that "{rule}" resolved '
                         f"within {minutes(resolved)}")
    return lines


def generate(expectations: Expectations, header: str, spec: object,
             trip: TripProvider | None, unavailable: str = "") -> Generated:
    """Every generated feature file of a project."""
    result = Generated()
    fire_text, fire_names, untripped = fire_feature(expectations, header, spec, trip,
                                                    unavailable)
    routing_header = header
    if fire_text is None and untripped:
        routing_header += ("\n# No fire-and-resolve scenario: the stand-in cannot trip these rules:\n"
                           + "\n".join(untripped_comment(untripped)))
    text, names = routing_feature(expectations, routing_header)
    result.files[ROUTING_FILE], result.scenarios[ROUTING_FILE] = text, names
    inhibition, inhibition_names = inhibition_feature(expectations, header)
    if inhibition is not None:
        result.files[INHIBITION_FILE] = inhibition
        result.scenarios[INHIBITION_FILE] = inhibition_names
    if fire_text is not None:
        result.files[FIRE_FILE], result.scenarios[FIRE_FILE] = fire_text, fire_names
    result.untripped = untripped
    return result
