"""What a stack's configs do today, computed statically: the expectations init writes down.

- **Routing**: one label set per (alerting rule, scrape target), exactly as
  ``When every alerting rule's alert is pushed to Alertmanager`` pushes them
  (:func:`alertdrill.analysis.rulelabels.rule_label_sets`; :func:`compute` checks it got the same list),
  routed through alertmanager.yml's tree with :func:`alertdrill.analysis.amroute.match_routes` (held
  against amtool in the tests). Both sides agree by construction, so the generated table passes
  on the unchanged config, and a changed receiver, matcher or rule label fails it.
- **Inhibitions**: for each inhibit rule, a pair of those label sets (source, target) that the
  rule applies to, with the ``equal`` labels made equal where a rule leaves them open.
- **Timing**: per rule, its ``for``, evaluation and scrape intervals, the longest range of its
  expression, and the group_wait / group_interval of the routes its alerts reach — the windows
  of the fire-and-resolve scenarios are derived from them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertdrill.analysis.amroute import Matcher, match_routes, matchers_from_config
from alertdrill.analysis.lint import load_route_tree
from alertdrill.analysis.routing import route_settings
from alertdrill.analysis.rulelabels import Shape, rule_label_sets, rule_shapes
from alertdrill.durations import parse_duration
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError
from alertdrill.sink.integrations import BY_CONFIG_KEY, RECEIVER_INTEGRATIONS
from alertdrill.yamlio import load_yaml

#: Which integrations send resolved notifications when ``send_resolved`` is not written
#: (Alertmanager's config/notifiers.go defaults).
SEND_RESOLVED_DEFAULT = {i.name: i.send_resolved_default for i in RECEIVER_INTEGRATIONS}
_INTEGRATION_OF = {key: i.name for key, i in BY_CONFIG_KEY.items()}
_RANGE = re.compile(r"\[\s*((?:\d+(?:ms|[smhdwy]))+)\s*(?::[^\]]*)?\]")


@dataclass(frozen=True)
class RoutedAlert:
    """One pushed label set, the rule it comes from and where Alertmanager sends it."""

    rule: str
    labels: dict[str, str]
    receivers: tuple[str, ...]
    group_wait: float
    group_interval: float
    shape: Shape = field(compare=False, repr=False)

    @property
    def alertname(self) -> str:
        """The alert's name."""
        return self.labels["alertname"]


@dataclass(frozen=True)
class Inhibition:
    """One inhibit rule exercised with a source and a target alert the rules can produce."""

    index: int
    description: str
    source: dict[str, str]
    target: dict[str, str]
    source_receivers: tuple[str, ...]
    group_wait: float


@dataclass(frozen=True)
class RuleTiming:
    """What bounds the time an alerting rule takes to fire and to resolve."""

    name: str
    for_: float
    eval_interval: float
    scrape_interval: float
    longest_range: float
    keep_firing_for: float = 0.0


@dataclass
class Expectations:
    """Everything the generated features claim, for one stack directory."""

    routed: list[RoutedAlert] = field(default_factory=list)
    inhibitions: list[Inhibition] = field(default_factory=list)
    #: Inhibit rules not exercised, with why (for the generated file's comments).
    inhibitions_skipped: list[tuple[int, str]] = field(default_factory=list)
    timings: dict[str, RuleTiming] = field(default_factory=dict)
    #: Per receiver, the integrations that send resolved notifications.
    resolving: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Route-matcher and inhibition label names (the routing table shows these columns).
    routing_labels: tuple[str, ...] = ()

    def receivers_of_rule(self, rule: str) -> tuple[set[str], set[str]]:
        """(receivers every alert of the rule reaches, receivers some alert of it reaches)."""
        sets = [set(r.receivers) for r in self.routed if r.rule == rule]
        if not sets:
            return set(), set()
        return set.intersection(*sets), set.union(*sets)

    def route_timing(self, rule: str) -> tuple[float, float]:
        """The longest group_wait and group_interval of the routes the rule's alerts reach."""
        mine = [r for r in self.routed if r.rule == rule]
        return (max((r.group_wait for r in mine), default=30.0),
                max((r.group_interval for r in mine), default=300.0))


def compute(stack_dir: Path) -> Expectations:
    """The expectations of a stack directory (as ``StackSpec.load`` reads it)."""
    prom_path, am_path, rule_files = stack_files(stack_dir)
    prometheus = load_yaml(prom_path, "prometheus.yml")
    docs = [load_yaml(path, path.name) for path in rule_files]
    am_config = load_yaml(am_path, "alertmanager.yml")
    tree = load_route_tree(am_path)
    if tree is None:
        raise ConfigError(f"{am_path} has no route")
    settings = route_settings(am_config.get("route") or {}, tree)
    result = Expectations()
    for rule, shape, labels in _rule_alerts(prometheus, docs):
        routes = match_routes(tree, labels)
        receivers = tuple(sorted({r.receiver for r in routes if r.receiver}))
        waits = [settings[id(r)] for r in routes]
        result.routed.append(RoutedAlert(
            rule, labels, receivers, max(w.group_wait for w in waits),
            max(w.group_interval for w in waits), shape))
    pushed = rule_label_sets(prometheus, docs)
    if [r.labels for r in result.routed] != pushed:  # would make the generated table fail
        raise AssertionError("scaffold's label sets differ from rulelabels.rule_label_sets")
    result.timings = _rule_timings(prometheus, docs)
    result.resolving = _resolving(am_config)
    names: set[str] = set()
    for route in tree.walk():
        names |= {m.name for m in route.matchers}
    for raw in am_config.get("inhibit_rules") or []:
        for prefix in ("source_", "target_"):
            names |= {m.name for m in matchers_from_config(raw, prefix)}
        names |= {str(n) for n in raw.get("equal") or []}
    result.routing_labels = tuple(sorted(names - {"alertname"}))
    for index, raw in enumerate(am_config.get("inhibit_rules") or [], start=1):
        case = _inhibition(index, raw, result.routed)
        if isinstance(case, Inhibition):
            result.inhibitions.append(case)
        else:
            result.inhibitions_skipped.append((index, case))
    return result


def stack_files(stack_dir: Path) -> tuple[Path, Path, list[Path]]:
    """prometheus.yml, alertmanager.yml and the rule files, found as ``StackSpec.load`` (and so
    the drill's push) finds them."""
    spec = StackSpec.load(stack_dir)
    return spec.prometheus_config, spec.alertmanager_config, list(spec.rule_files)


def _rule_alerts(prometheus: Mapping[str, Any], docs: list[dict[str, Any]]
                 ) -> list[tuple[str, Shape, dict[str, str]]]:
    """rulelabels.rule_label_sets, keeping which rule and shape each label set came from."""
    found: list[tuple[str, Shape, dict[str, str]]] = []
    for name, shape, labels in rule_shapes(prometheus, docs):
        if all(labels != seen for _, _, seen in found):
            found.append((name, shape, labels))
    return found


def _rule_timings(prometheus: Mapping[str, Any], docs: list[dict[str, Any]]
                  ) -> dict[str, RuleTiming]:
    glob = prometheus.get("global") or {}
    evaluation = parse_duration(str(glob.get("evaluation_interval", "1m")))
    default_scrape = str(glob.get("scrape_interval", "1m"))
    scrape = max((parse_duration(str(job.get("scrape_interval", default_scrape)))
                  for job in prometheus.get("scrape_configs") or [] if isinstance(job, Mapping)),
                 default=parse_duration(default_scrape))
    timings: dict[str, RuleTiming] = {}
    for doc in docs:
        for group in doc.get("groups") or []:
            interval = parse_duration(str(group.get("interval"))) if group.get("interval") \
                else evaluation
            for rule in group.get("rules") or []:
                if not isinstance(rule, Mapping) or not rule.get("alert"):
                    continue
                ranges = [parse_duration(m) for m in _RANGE.findall(str(rule.get("expr", "")))]
                new = RuleTiming(str(rule["alert"]), parse_duration(str(rule.get("for", "0s"))),
                                 interval, scrape, max(ranges, default=0.0),
                                 parse_duration(str(rule.get("keep_firing_for", "0s"))))
                old = timings.get(new.name)
                if old is None or _slowest(new) > _slowest(old):  # same name twice: the slower
                    timings[new.name] = new
    return timings


def _slowest(t: RuleTiming) -> float:
    return t.for_ + t.longest_range + t.keep_firing_for


def _resolving(am_config: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for receiver in am_config.get("receivers") or []:
        kinds = []
        for key, integration in _INTEGRATION_OF.items():
            for item in receiver.get(key) or []:
                if (item or {}).get("send_resolved", SEND_RESOLVED_DEFAULT[integration]) is True \
                        and integration not in kinds:
                    kinds.append(integration)
        found[str(receiver.get("name"))] = tuple(kinds)
    return found


def _inhibition(index: int, raw: Mapping[str, Any], routed: list[RoutedAlert]
                ) -> Inhibition | str:
    """A (source, target) pair of the rules' alerts the inhibit rule applies to, or why none."""
    source_m = matchers_from_config(raw, "source_")
    target_m = matchers_from_config(raw, "target_")
    equal = [str(n) for n in raw.get("equal") or []]
    describe = (f"{{{', '.join(map(str, source_m))}}} inhibits {{{', '.join(map(str, target_m))}}}"
                + (f" with equal {', '.join(equal)}" if equal else ""))
    sources = [r for r in routed if _all(source_m, r.labels)]
    targets = [r for r in routed if _all(target_m, r.labels) and not _all(source_m, r.labels)]
    if not sources:
        return f"{describe}: no alerting rule's alert matches its source"
    if not targets:
        return f"{describe}: no alerting rule's alert matches its target"
    for source in sources:
        for target in targets:
            pair = _equalise(source, target, equal)
            if pair is None:
                continue
            s_labels, t_labels = pair
            if _all(source_m, s_labels) and _all(target_m, t_labels) \
                    and not _all(source_m, t_labels):
                return Inhibition(index, describe, s_labels, t_labels, source.receivers,
                                  source.group_wait)
    return f"{describe}: no source and target alert of the rules can carry equal {equal}"


def _all(matchers: list[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.decides(labels.get(m.name, "")) is True for m in matchers)


def _equalise(source: RoutedAlert, target: RoutedAlert, equal: list[str]
              ) -> tuple[dict[str, str], dict[str, str]] | None:
    """Copies of both label sets whose ``equal`` labels agree, filling a label only where the
    rule leaves it open (unknown statically); None when they cannot agree."""
    s, t = dict(source.labels), dict(target.labels)
    for name in equal:
        a, b = s.get(name), t.get(name)
        if a == b:
            continue
        if a is None and b is not None and source.shape.get(name) is None:
            s[name] = b
        elif b is None and a is not None and target.shape.get(name) is None:
            t[name] = a
        elif a is None and b is None:
            continue
        else:
            return None
    return s, t


def window(*seconds: float, margin: float = 60.0) -> float:
    """A claim's window: the sum of what it waits for plus a margin, in whole real minutes."""
    return float(math.ceil((sum(seconds) + margin) / 60.0) * 60)
