"""Mutants the static routing proves equivalent, found before anything runs.

A mutant of the routing tree is equivalent when every alert the stack's rules can produce
reaches the same receivers, through routes with the same timing and grouping, before and after.
"Every alert" is enumerated exactly, not sampled: per rule shape
(``alertdrill.analysis.rulelabels``, with the labels the escalation service adds to its
re-posts unknown, as ``alertdrill.analysis.staticreach`` has them), each label that a matcher
of either tree tests takes each of its possible values — a label the rules fix, its values; an
unknown one, every literal the trees compare it with, one value none of them names, and absent.
That covers every way the matchers can answer only when each regex on an unknown label is a
list of literals (or ``.*``/``.+``); any other regex, or more than :data:`MAX_LABEL_SETS`
combinations, and the mutant is "not proven" — it runs.

A mutant of the inhibit rules is equivalent only when the rule it changes can never apply,
before or after (no alert of the rules can be its source, or its target, or their ``equal``
labels can never agree) — decided three-valued, so an unknown label counts as "may".

A template mutant is equivalent only when every named template (``{{ define }}``) is the same,
byte for byte, before and after (:mod:`alertdrill.mutate.gotemplates`): Alertmanager executes
nothing else of a template file. Everything else (rules, receivers' integrations, a template's
named text) changes what the alerts are or how they are written, which the static view does not
model: never claimed equivalent.

What the static view cannot see: alerts a scenario pushes with labels no rule produces. A
mutant proven equivalent for the rules' alerts may still change how such an alert routes;
README › Mutation testing says so.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import yaml

from alertdrill.analysis.amroute import Matcher, Route, Tri, all3, match_routes, matchers_from_config
from alertdrill.analysis.routing import RouteSettings, route_settings
from alertdrill.analysis.rulelabels import ABSENT, Shape
from alertdrill.analysis.staticreach import alert_shapes_of
from alertdrill.engine.stackspec import StackSpec
from alertdrill.mutate import spans
from alertdrill.mutate.gotemplates import same_named_templates
from alertdrill.mutate.model import Mutant

#: More concrete label sets than this per mutant and the routing is not enumerated.
MAX_LABEL_SETS = 20000
_OTHER = "alertdrill-other"
_LITERAL = re.compile(r"^[A-Za-z0-9_\-:/@ ]*$")

Inhibit = tuple[tuple[Matcher, ...], tuple[Matcher, ...], tuple[str, ...]]


@dataclass(frozen=True)
class Verdict:
    """The equivalence check's answer for one mutant."""

    equivalent: bool
    note: str
    #: Alert names whose routing/inhibition may change (None: unknown — any alert).
    alerts: frozenset[str] | None
    receivers: frozenset[str] = frozenset()


@dataclass
class AmModel:
    """What the equivalence check reads of one alertmanager.yml."""

    tree: Route
    settings: dict[int, RouteSettings]
    inhibit: list[Inhibit]

    @classmethod
    def parse(cls, text: str) -> AmModel | None:
        """None when the text has no routing tree the static view can read."""
        from alertdrill.analysis.lint import _route  # the same reader the lint and the diff use

        try:
            node = spans.compose(text)
            data = (yaml.load(text, Loader=spans.LOADER) if node is not None else None) or {}
            route_node = next((v for k, v in getattr(node, "value", [])
                               if getattr(k, "value", None) == "route"), None)
            tree = _route(route_node, None)
            if tree is None:
                return None
            inhibit = [(tuple(matchers_from_config(r, "source_")),
                        tuple(matchers_from_config(r, "target_")),
                        tuple(str(n) for n in r.get("equal") or ()))
                       for r in data.get("inhibit_rules") or [] if isinstance(r, Mapping)]
            return cls(tree, route_settings(data.get("route") or {}, tree), inhibit)
        except (yaml.YAMLError, ValueError, TypeError, AttributeError):
            return None

    def deliveries(self, labels: Mapping[str, str]) -> tuple[tuple[str, RouteSettings], ...]:
        """(receiver, settings) of every route delivering ``labels``, as a sorted multiset:
        two routes to one receiver are two notifications."""
        found = []
        for route in match_routes(self.tree, labels):
            receiver = route.effective_receiver
            if receiver:
                found.append((receiver, self.settings[id(route)]))
        return tuple(sorted(found, key=repr))

    def matchers(self) -> list[Matcher]:
        """Every matcher of the routing tree."""
        return [m for route in self.tree.walk() for m in route.matchers]



class Checker:
    """Judges the mutants of one stack against its unmutated configs."""

    def __init__(self, spec: StackSpec) -> None:
        self.spec = spec
        self.am_file = spec.alertmanager_config.resolve().relative_to(spec.root.resolve()).as_posix()
        self.original = AmModel.parse(spec.alertmanager_config.read_text(encoding="utf-8"))
        self.shapes: list[tuple[str, Shape]] = [
            (name, shape) for name, found in alert_shapes_of(spec).items() for shape in found]
        self._cache: dict[tuple[tuple[str, str], ...], tuple[tuple[str, RouteSettings], ...]] = {}

    def judge(self, mutant: Mutant) -> Verdict:
        """Is ``mutant`` equivalent, and which alerts may it affect?"""
        scope = mutant.site.scope
        receivers = mutant.site.receivers
        if scope == "rule":
            return Verdict(False, "changes an alerting rule: outside the static view",
                           self._partners(mutant.site.alerts), receivers)
        if scope == "template":
            if same_named_templates(mutant.before, mutant.after):
                return Verdict(True, "every named template ({{ define }}) is unchanged: the "
                               "change is outside them, where Alertmanager executes nothing",
                               frozenset(), receivers)
            return Verdict(False, "changes a template: outside the static view", None, receivers)
        if scope == "time-interval":
            if not receivers:
                return Verdict(True, "no route names this time interval", frozenset(), receivers)
            return Verdict(False, "moves the mute/active window of the routes naming it: "
                           "outside the static view", None, receivers)
        if scope == "receiver":
            return Verdict(False, "changes a receiver's integration: outside the static view",
                           self._reaching(receivers), receivers)
        new = AmModel.parse(mutant.after) if mutant.file == self.am_file else None
        if self.original is None or new is None:
            return Verdict(False, "the routing tree cannot be read statically", None, receivers)
        if scope == "inhibition":
            return self._inhibition(self.original, new, receivers)
        return self._routing(self.original, new, receivers)

    # -- routing -------------------------------------------------------------------------------
    def _routing(self, old: AmModel, new: AmModel, receivers: frozenset[str]) -> Verdict:
        tested: dict[str, list[Matcher]] = {}
        for m in old.matchers() + new.matchers():
            tested.setdefault(m.name, []).append(m)
        changed: set[str] = set()
        touched: set[str] = set(receivers)
        example = ""
        total = 0
        for name, shape in self.shapes:
            sets = _label_sets(shape, tested)
            if sets is None:
                return Verdict(False, f"not proven: {name}'s labels meet a regex or more "
                               "combinations than the static view enumerates", None, receivers)
            total += len(sets)
            if total > MAX_LABEL_SETS:
                return Verdict(False, "not proven: too many label combinations", None, receivers)
            for labels in sets:
                before, after = self._before(old, labels), new.deliveries(labels)
                if before != after:
                    changed.add(name)
                    gained_or_lost = {r for r, _ in before} ^ {r for r, _ in after}
                    touched |= gained_or_lost or {r for r, _ in before}  # else: timing changed
                    if not example:
                        example = f"{_show(labels)}: {_receivers(before)} → {_receivers(after)}"
        if not changed:
            return Verdict(True, f"every alert of the rules ({total} label sets) reaches the "
                           "same receivers with the same timing and grouping",
                           frozenset(), receivers)
        return Verdict(False, f"changes the routing of {len(changed)} alert(s), e.g. {example}",
                       frozenset(changed), frozenset(touched))

    def _before(self, old: AmModel, labels: dict[str, str]
                ) -> tuple[tuple[str, RouteSettings], ...]:
        """The unmutated tree's deliveries, computed once per label set for all mutants."""
        if old is not self.original:
            return old.deliveries(labels)
        key = tuple(sorted(labels.items()))
        if key not in self._cache:
            self._cache[key] = old.deliveries(labels)
        return self._cache[key]

    # -- inhibition ----------------------------------------------------------------------------
    def _inhibition(self, old: AmModel, new: AmModel, receivers: frozenset[str]) -> Verdict:
        routing = self._routing(old, new, receivers)
        if not routing.equivalent:
            return routing
        changed = [r for r in old.inhibit if r not in new.inhibit] + \
            [r for r in new.inhibit if r not in old.inhibit]
        if not changed:
            return Verdict(True, "the inhibit rules are the same", frozenset(), receivers)
        alerts: set[str] = set()
        applies = False
        for rule in changed:
            sources = [(n, s) for n, s in self.shapes if all3(rule[0], s) is not Tri.NO]
            targets = [(n, s) for n, s in self.shapes if all3(rule[1], s) is not Tri.NO]
            alerts |= {n for n, _ in sources} | {n for n, _ in targets}
            if any(_may_agree(s, t, rule[2]) for _, s in sources for _, t in targets):
                applies = True
        if applies:
            return Verdict(False, "changes an inhibit rule that can apply to the rules' alerts",
                           frozenset(alerts), receivers)
        return Verdict(True, "the changed inhibit rule never applies to an alert of the rules "
                       "(before or after)", frozenset(alerts), receivers)

    # -- what a change outside the routing can reach ---------------------------------------------
    def _partners(self, alerts: Iterable[str]) -> frozenset[str]:
        """The alerts and every alert an inhibit rule may pair them with (as source or
        target, their ``equal`` labels possibly agreeing)."""
        mine = set(alerts)
        found = set(mine)
        rules = self.original.inhibit if self.original else []
        for source_m, target_m, equal in rules:
            sources = [(n, s) for n, s in self.shapes if all3(source_m, s) is not Tri.NO]
            targets = [(n, s) for n, s in self.shapes if all3(target_m, s) is not Tri.NO]
            for sn, s in sources:
                for tn, t in targets:
                    if (sn in mine or tn in mine) and _may_agree(s, t, equal):
                        found |= {sn, tn}
        return frozenset(found)

    def _reaching(self, receivers: Iterable[str]) -> frozenset[str] | None:
        """Alerts that may reach any of ``receivers``."""
        from alertdrill.analysis.staticreach import reachable_receivers

        wanted = set(receivers)
        reach = reachable_receivers(self.spec)
        found = set()
        for name, _shape in self.shapes:
            got = reach(name)
            if got is None:
                return None
            if got & wanted:
                found.add(name)
        return frozenset(found)


def _label_sets(shape: Shape, tested: Mapping[str, Sequence[Matcher]]) -> list[dict[str, str]] | None:
    """Every concrete label set of ``shape`` as the matchers in ``tested`` tell them apart
    (absent labels left out); None when that cannot be enumerated exactly."""
    axes: list[tuple[str, list[str]]] = []
    for label in sorted(set(tested) | {"alertname"}):
        poss = shape.get(label)
        if poss is not None:
            axes.append((label, sorted(poss)))
            continue
        values: set[str] = {ABSENT, _OTHER}
        for m in tested.get(label, ()):
            if m.op in ("=", "!="):
                values.add(m.value)
            elif m.value in (".*", ".+"):
                continue
            elif all(_LITERAL.match(part) for part in m.value.split("|")):
                values.update(m.value.split("|"))
            else:
                return None
        axes.append((label, sorted(values)))
    size = 1
    for _, axis in axes:
        size *= len(axis)
    if size > MAX_LABEL_SETS:
        return None
    sets = []
    for choice in itertools.product(*(axis for _, axis in axes)):
        labels = {label: value for (label, _), value in zip(axes, choice, strict=True) if value}
        sets.append(labels)
    return sets


def _may_agree(source: Shape, target: Shape, equal: Sequence[str]) -> bool:
    for label in equal:
        a, b = source.get(label), target.get(label)
        if a is not None and b is not None and not (a & b):
            return False
    return True


def _show(labels: Mapping[str, str]) -> str:
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "alertname")
    return f"{labels.get('alertname', '?')}{{{rest}}}"


def _receivers(found: Sequence[tuple[str, RouteSettings]]) -> str:
    return ", ".join(sorted({r for r, _ in found})) or "(none)"


def judge_all(spec: StackSpec, mutants: Iterable[Mutant]) -> None:
    """Set each mutant's equivalence verdict and affected names."""
    checker = Checker(spec)
    for mutant in mutants:
        verdict = checker.judge(mutant)
        mutant.equivalent = verdict.equivalent
        mutant.equivalence_note = verdict.note
        mutant.affected_alerts = verdict.alerts
        mutant.affected_receivers = verdict.receivers

