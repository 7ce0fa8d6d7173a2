"""Mutation operators on alertmanager.yml: the edits a tired engineer makes to routing,
timing, inhibition and receivers.

Each operator takes the file (its text and node tree) and yields one :class:`Site` per place
it can change; nothing here decides whether the change matters (equivalence.py does) or is
valid (the real amtool does, in runner.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from alertdrill.analysis.amroute import Matcher, MatcherError, parse_matchers
from alertdrill.mutate import spans
from alertdrill.mutate.model import Site

#: Alertmanager's default ``send_resolved`` per integration (config/notifiers.go).
SEND_RESOLVED_DEFAULTS = {
    "email_configs": False, "slack_configs": False, "wechat_configs": False,
    "pagerduty_configs": True, "webhook_configs": True, "opsgenie_configs": True,
    "pushover_configs": True, "victorops_configs": True, "sns_configs": True,
    "telegram_configs": True, "discord_configs": True, "webex_configs": True,
    "msteams_configs": True, "msteamsv2_configs": True, "jira_configs": True,
    "rocketchat_configs": True,
}
TIMING_KEYS = ("group_wait", "group_interval", "repeat_interval")
#: How much a timing or ``for`` is multiplied by ("a zero became 1m" for a zero).
TIMING_FACTOR = 10


@dataclass
class Route:
    """A route node, where it sits, and what it delivers to."""

    node: yaml.MappingNode
    parent: Route | None
    receiver: str | None  # explicit
    effective: str | None  # explicit or inherited
    index: int  # among its siblings

    def label(self) -> str:
        """``route {team="dba"}`` (``the root route`` for the root)."""
        if self.parent is None:
            return "the root route"
        matchers = [str(m) for entry in spans.items(spans.get(self.node, "matchers"))
                    for m in _parse(spans.scalar(entry) or "")]
        for key, op in (("match", "="), ("match_re", "=~")):
            value = spans.get(self.node, key)
            if isinstance(value, yaml.MappingNode):
                matchers += [f'{k.value}{op}"{v.value}"' for k, v in value.value]
        return "route {" + ", ".join(matchers) + "}"


@dataclass
class AmFile:
    """alertmanager.yml as the operators see it."""

    path: str  # relative to the stack directory
    text: str
    root: yaml.Node | None

    def routes(self) -> list[Route]:
        """Every route, depth first; the root first."""
        found: list[Route] = []

        def visit(node: yaml.Node | None, parent: Route | None, index: int) -> None:
            if not isinstance(node, yaml.MappingNode):
                return
            own = spans.scalar(spans.get(node, "receiver"))
            route = Route(node, parent, own, own or (parent.effective if parent else None), index)
            found.append(route)
            for i, child in enumerate(spans.items(spans.get(node, "routes"))):
                visit(child, route, i)

        visit(spans.get(self.root, "route"), None, 0)
        return found

    def receivers(self) -> list[str]:
        """Receiver names, in file order."""
        return [n for r in spans.mappings(spans.get(self.root, "receivers"))
                if (n := spans.scalar(spans.get(r, "name")))]

    def children(self, route: Route) -> list[Route]:
        """The routes directly under ``route``."""
        return [r for r in self.routes() if r.parent is not None and r.parent.node is route.node]

    def site(self, operator: str, node: yaml.Node, description: str, edits: tuple, scope: str,
             receivers: frozenset[str] = frozenset(), suggestion: str = "") -> Site:
        """A :class:`Site` in this file."""
        return Site(operator, self.path, spans.line_of(node), description, tuple(edits), scope,
                    frozenset(), frozenset(r for r in receivers if r), suggestion)


def _parse(text: str) -> list[Matcher]:
    try:
        return parse_matchers(text)
    except MatcherError:
        return []


def _misspell(value: str) -> str:
    """The typo of a tired hand: the last character doubled (``critical`` → ``criticall``)."""
    return value + value[-1] if value else "x"


# -- routes ----------------------------------------------------------------------------------
def receiver_swapped(am: AmFile) -> Iterator[Site]:
    """A route's receiver replaced by a neighbour's (next sibling, previous, parent, any)."""
    names = am.receivers()
    for route in am.routes():
        value = spans.get(route.node, "receiver")
        if route.parent is None or route.receiver is None or value is None:
            continue
        siblings = am.children(route.parent)
        candidates = [s.effective for s in siblings[route.index + 1:]]
        candidates += [s.effective for s in reversed(siblings[:route.index])]
        candidates += [route.parent.effective, *names]
        other = next((c for c in candidates if c and c != route.receiver), None)
        if other is None:
            continue
        yield am.site("receiver-swapped", value,
                      f"{route.label()}: receiver {route.receiver} → {other}",
                      (spans.replace_scalar(value, other),), "routing",
                      frozenset({route.receiver, other}),
                      f"a scenario whose alert takes {route.label()} and checks that "
                      f'only "{route.receiver}" (and the receivers it continues to) is notified')


def _matcher_sites(am: AmFile) -> Iterator[tuple[yaml.ScalarNode, Matcher, str, frozenset[str]]]:
    """Every one-matcher ``matchers`` entry of routes and inhibit rules: (node, matcher,
    where, receivers involved)."""
    for route in am.routes()[1:]:
        for entry in spans.items(spans.get(route.node, "matchers")):
            parsed = _parse(spans.scalar(entry) or "")
            if isinstance(entry, yaml.ScalarNode) and len(parsed) == 1:
                yield entry, parsed[0], route.label(), frozenset({route.effective or ""})
    for n, rule in enumerate(spans.mappings(spans.get(am.root, "inhibit_rules")), 1):
        for side in ("source_matchers", "target_matchers"):
            for entry in spans.items(spans.get(rule, side)):
                parsed = _parse(spans.scalar(entry) or "")
                if isinstance(entry, yaml.ScalarNode) and len(parsed) == 1:
                    yield entry, parsed[0], f"inhibit rule {n} {side}", frozenset()


def _scope(where: str) -> str:
    return "inhibition" if where.startswith("inhibit") else "routing"


def matcher_misspelt(am: AmFile) -> Iterator[Site]:
    """An equality matcher's value misspelt (``team="dba"`` → ``team="dbaa"``)."""
    for node, m, where, receivers in _matcher_sites(am):
        if m.op in ("=", "!=") and m.value:
            new = Matcher(m.name, m.op, _misspell(m.value))
            yield am.site("matcher-misspelt", node, f"{where}: {m} → {new}",
                          (spans.replace_scalar(node, str(new)),), _scope(where), receivers,
                          f"a scenario whose alert carries {m} and checks where it goes "
                          f"({where})")


def matcher_flipped(am: AmFile) -> Iterator[Site]:
    """A matcher's operator flipped: ``=`` ↔ ``!=``, ``=~`` ↔ ``!~``."""
    flips = {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}
    for node, m, where, receivers in _matcher_sites(am):
        new = Matcher(m.name, flips[m.op], m.value)
        yield am.site("matcher-flipped", node, f"{where}: {m} → {new}",
                      (spans.replace_scalar(node, str(new)),), _scope(where), receivers,
                      f"a scenario whose alert does NOT carry {m} and checks it stays away "
                      f"from {where}")


def regex_widened(am: AmFile) -> Iterator[Site]:
    """A regex matcher widened to anything (``=~"a|b"`` → ``=~".*"``)."""
    for node, m, where, receivers in _matcher_sites(am):
        if m.op == "=~" and m.value not in (".*", ".+"):
            new = Matcher(m.name, "=~", ".*")
            yield am.site("regex-widened", node, f"{where}: {m} → {new}",
                          (spans.replace_scalar(node, str(new)),), _scope(where), receivers,
                          f"a scenario whose alert has a {m.name} the regex {m.value!r} does not "
                          f"match, and checks it stays away from {where}")


def continue_flipped(am: AmFile) -> Iterator[Site]:
    """A route's ``continue`` flipped (added as ``true`` where it was left out)."""
    for route in am.routes()[1:]:
        value = spans.get(route.node, "continue")
        if value is not None:
            now = (spans.scalar(value) or "").lower() == "true"
            edit = spans.replace_scalar(value, "false" if now else "true")
        else:
            now = False
            maybe = spans.insert_key(am.text, route.node, "continue", "true")
            if maybe is None:
                continue
            edit = maybe
        yield am.site("continue-flipped", value or route.node,
                      f"{route.label()}: continue {str(now).lower()} → {str(not now).lower()}",
                      (edit,), "routing", frozenset({route.effective or ""}),
                      f"a scenario whose alert takes {route.label()} and checks with `only … "
                      f"are notified` every receiver it reaches")


def routes_reordered(am: AmFile) -> Iterator[Site]:
    """Two adjacent sibling routes swapped."""
    for route in am.routes():
        kids = am.children(route)
        for a, b in itertools.pairwise(kids):
            seq = spans.get(route.node, "routes")
            if seq is None or getattr(seq, "flow_style", False):
                continue
            yield am.site("routes-reordered", a.node,
                          f"{a.label()} and {b.label()} swapped (under {route.label()})",
                          spans.swap_blocks(am.text, a.node, b.node), "routing",
                          frozenset({a.effective or "", b.effective or ""}),
                          f"a scenario whose alert matches both {a.label()} and {b.label()} and "
                          "checks which receiver it reaches")


def route_deleted(am: AmFile) -> Iterator[Site]:
    """A child route deleted (with the routes under it)."""
    for route in am.routes()[1:]:
        yield am.site("route-deleted", route.node, f"{route.label()} → {route.effective} deleted",
                      (spans.delete_lines(spans.block(am.text, route.node)),), "routing",
                      frozenset({route.effective or ""}),
                      f'a scenario whose alert takes {route.label()} and checks that '
                      f'"{route.effective}" is notified')


def group_by_changed(am: AmFile) -> Iterator[Site]:
    """A route's ``group_by`` with its last label dropped (or ``instance`` added to one)."""
    for route in am.routes():
        node = spans.get(route.node, "group_by")
        labels = spans.strings(node)
        if node is None or not labels or "..." in labels:
            continue
        new = labels[:-1] if len(labels) > 1 else [*labels, "instance" if labels != ["instance"]
                                                   else "alertname"]
        yield am.site("group-by-changed", node,
                      f"{route.label()}: group_by [{', '.join(labels)}] → [{', '.join(new)}]",
                      (spans.replace_node(am.text, node, spans.flow_list(new)),), "routing",
                      frozenset({route.effective or ""}),
                      f"a scenario where two alerts of {route.label()} differing only in "
                      f"{(set(labels) ^ set(new)).pop()} fire, checking how many notifications "
                      f'"{route.effective}" gets')


def timing_multiplied(am: AmFile) -> Iterator[Site]:
    """``group_wait``/``group_interval``/``repeat_interval`` multiplied by 10 (0 → 1m)."""
    for route in am.routes():
        for key in TIMING_KEYS:
            node = spans.get(route.node, key)
            changed = spans.multiplied_duration(node, TIMING_FACTOR, "1m")
            if node is None or changed is None:
                continue
            text, new = changed
            yield am.site("timing-multiplied", node, f"{route.label()}: {key} {text} → {new}",
                          (spans.replace_scalar(node, new),), "routing",
                          frozenset({route.effective or ""}),
                          f'a claim with a deadline on "{route.effective}" (notified within …, '
                          f"at least N times within …) that a {key} of {new} would miss")


# -- inhibit rules ---------------------------------------------------------------------------
def inhibit_deleted(am: AmFile) -> Iterator[Site]:
    """An inhibit rule deleted."""
    for n, rule in enumerate(spans.mappings(spans.get(am.root, "inhibit_rules")), 1):
        yield am.site("inhibit-deleted", rule, f"inhibit rule {n} deleted",
                      (spans.delete_lines(spans.block(am.text, rule)),), "inhibition",
                      suggestion=f"a scenario where a source and a target of inhibit rule {n} "
                      "fire together, checking the target `is inhibited` and its receiver is "
                      "never notified")


def inhibit_equal_changed(am: AmFile) -> Iterator[Site]:
    """An inhibit rule's ``equal`` with its last label dropped (one label: ``instance``)."""
    for n, rule in enumerate(spans.mappings(spans.get(am.root, "inhibit_rules")), 1):
        node = spans.get(rule, "equal")
        labels = spans.strings(node)
        if node is None or not labels:
            continue
        new = labels[:-1] if len(labels) > 1 else ["instance" if labels != ["instance"] else "job"]
        yield am.site("inhibit-equal-changed", node,
                      f"inhibit rule {n}: equal [{', '.join(labels)}] → [{', '.join(new)}]",
                      (spans.replace_node(am.text, node, spans.flow_list(new)),), "inhibition",
                      suggestion=f"two scenarios for inhibit rule {n}: a source and target that "
                      "share the equal labels (inhibited), and a pair that differ in one "
                      "(not inhibited)")


def inhibit_swapped(am: AmFile) -> Iterator[Site]:
    """An inhibit rule's source and target matchers swapped."""
    for n, rule in enumerate(spans.mappings(spans.get(am.root, "inhibit_rules")), 1):
        source, target = spans.get(rule, "source_matchers"), spans.get(rule, "target_matchers")
        if source is None or target is None:
            continue
        s_text = am.text[source.start_mark.index:spans.content_end(am.text, source)]
        t_text = am.text[target.start_mark.index:spans.content_end(am.text, target)]
        if s_text == t_text or "\n" in s_text + t_text:
            continue  # only flow lists swap cleanly in place
        yield am.site("inhibit-swapped", rule, f"inhibit rule {n}: source and target swapped",
                      (spans.replace_node(am.text, source, t_text),
                       spans.replace_node(am.text, target, s_text)), "inhibition",
                      suggestion=f"a scenario for inhibit rule {n} checking the source alert "
                      "is still notified while the target is inhibited")


# -- receivers -------------------------------------------------------------------------------
def send_resolved_flipped(am: AmFile) -> Iterator[Site]:
    """An integration's ``send_resolved`` flipped (written out where it was the default)."""
    for receiver in spans.mappings(spans.get(am.root, "receivers")):
        name = spans.scalar(spans.get(receiver, "name")) or "?"
        for key_node, configs in receiver.value:
            key = str(key_node.value)
            if not key.endswith("_configs"):
                continue
            kind = key.removesuffix("_configs")
            for i, config in enumerate(spans.mappings(configs), 1):
                value = spans.get(config, "send_resolved")
                if value is not None:
                    now = (spans.scalar(value) or "").lower() == "true"
                    edit = spans.replace_scalar(value, "false" if now else "true")
                else:
                    if key not in SEND_RESOLVED_DEFAULTS:
                        continue
                    now = SEND_RESOLVED_DEFAULTS[key]
                    maybe = spans.insert_key(am.text, config, "send_resolved",
                                             "false" if now else "true")
                    if maybe is None:
                        continue
                    edit = maybe
                which = f"{kind} #{i}" if len(spans.items(configs)) > 1 else kind
                claim = (f'"{name}" is notified via {kind} that "<alert>" resolved' if now else
                         f'no resolved notification reaches "{name}" via {kind}')
                yield am.site("send-resolved-flipped", value or config,
                              f"receiver {name}, {which}: send_resolved {str(now).lower()} → "
                              f"{str(not now).lower()}", (edit,), "receiver", frozenset({name}),
                              f"a claim that {claim} (of an alert routed to it)")


# -- time intervals --------------------------------------------------------------------------
def _minutes(text: str) -> int | None:
    hours, sep, minutes = text.partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()):
        return None
    return int(hours) * 60 + int(minutes)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def time_interval_shifted(am: AmFile) -> Iterator[Site]:
    """A time interval's ``times`` range shifted by an hour (later; earlier when it ends at
    midnight) — the mute or active window of the routes that name it moves."""
    users: dict[str, set[str]] = {}
    for route in am.routes():
        for key in ("mute_time_intervals", "active_time_intervals"):
            for name in spans.strings(spans.get(route.node, key)):
                users.setdefault(name, set()).add(route.effective or "")
    for section in ("time_intervals", "mute_time_intervals"):
        for interval in spans.mappings(spans.get(am.root, section)):
            name = spans.scalar(spans.get(interval, "name")) or "?"
            for entry in spans.mappings(spans.get(interval, "time_intervals")):
                for window in spans.mappings(spans.get(entry, "times")):
                    start_node, end_node = spans.get(window, "start_time"), spans.get(window, "end_time")
                    start = _minutes(spans.scalar(start_node) or "")
                    end = _minutes(spans.scalar(end_node) or "")
                    if start_node is None or end_node is None or start is None or end is None:
                        continue
                    shift = 60 if end + 60 <= 24 * 60 else -60
                    if start + shift < 0:
                        continue
                    new = (_clock(start + shift), _clock(end + shift))
                    yield am.site(
                        "time-interval-shifted", window,
                        f"time interval {name}: {_clock(start)}–{_clock(end)} → "
                        f"{new[0]}–{new[1]}",
                        (spans.replace_scalar(start_node, new[0]),
                         spans.replace_scalar(end_node, new[1])), "time-interval",
                        frozenset(users.get(name, set())),
                        f"a scenario at a time of day inside {_clock(start)}–{_clock(end)} "
                        f"but outside {new[0]}–{new[1]} (or the reverse), checking whether the "
                        f"routes naming {name} notify")
