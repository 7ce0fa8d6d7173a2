"""``alertdrill diff OLD NEW``: what a change to the alerting configs does, before it is deployed.

A reviewer of an alertmanager.yml or rules change wants to know who is paged now, sooner or
later, or not at all. ``amtool config routes test`` answers for one label set at a time; this
answers for every alert the rules of either side can produce (their own labels, the target
labels of their jobs and the external labels: ``alertdrill.analysis.rulelabels``), routed through both
trees with the same static routing as the routing-table claims and ``alertdrill init`` (held
against amtool in the tests): receivers gained and lost, timing and grouping changed on the
routes that deliver it, inhibitions gained and lost between the alerts of the rules, and the
alerting rules and time intervals themselves added, removed or changed.

What it cannot see: labels known only at run time (an exporter's own, service discovery's),
and what happens *between* evaluations (use ``alertdrill run`` for that).
"""

from __future__ import annotations

import functools
import json
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from alertdrill.analysis.amroute import Matcher, Route, match_routes, matchers_from_config
from alertdrill.analysis.routing import RouteSettings, route_settings
from alertdrill.analysis.rulelabels import ABSENT, Shape, rule_shapes
from alertdrill.durations import human
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError
from alertdrill.text import plural
from alertdrill.yamlio import load_yaml

#: The kinds of change, in the order they are shown (and the words ``--fail-on`` takes).
KINDS = ("lost-receiver", "gained-receiver", "timing", "inhibition-lost", "inhibition-gained",
         "rule-removed", "rule-added", "rule-changed", "time-interval")


@dataclass(frozen=True)
class Change:
    """One difference between the two sides."""

    kind: str
    subject: str
    detail: str


@dataclass
class Side:
    """One stack directory's alerting, as the diff reads it."""

    root: Path
    #: (alertname, shape, labels known for certain) of every alerting rule's alerts.
    shapes: list[tuple[str, Shape, dict[str, str]]]
    tree: Route
    settings: dict[int, RouteSettings]
    inhibit_rules: list[tuple[list[Matcher], list[Matcher], tuple[str, ...]]]
    rules: dict[str, dict[str, Any]]
    time_intervals: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> Side:
        """Read a stack directory (as ``StackSpec.load`` finds its files)."""
        from alertdrill.analysis.lint import load_route_tree

        spec = StackSpec.load(root)
        prometheus = load_yaml(spec.prometheus_config, "prometheus.yml")
        docs = [load_yaml(path, path.name) for path in spec.rule_files]
        am = load_yaml(spec.alertmanager_config, "alertmanager.yml")
        tree = load_route_tree(spec.alertmanager_config)
        if tree is None:
            raise ConfigError(f"{spec.alertmanager_config} has no route")
        inhibit = [(matchers_from_config(raw, "source_"), matchers_from_config(raw, "target_"),
                    tuple(str(n) for n in raw.get("equal") or ()))
                   for raw in am.get("inhibit_rules") or [] if isinstance(raw, Mapping)]
        rules = {}
        for doc in docs:
            for group in doc.get("groups") or []:
                for rule in (group or {}).get("rules") or []:
                    if isinstance(rule, Mapping) and rule.get("alert"):
                        rules[str(rule["alert"])] = {k: rule.get(k) for k in
                                                     ("expr", "for", "keep_firing_for", "labels")}
        intervals = {str(t.get("name")): t.get("time_intervals")
                     for key in ("time_intervals", "mute_time_intervals")
                     for t in am.get(key) or [] if isinstance(t, Mapping)}
        return cls(spec.root, list(rule_shapes(prometheus, docs)), tree,
                   route_settings(am.get("route") or {}, tree), inhibit, rules, intervals)

    @functools.cached_property
    def label_sets(self) -> list[dict[str, str]]:
        """The label sets the routing-table claim pushes (labels known for certain), each once
        (read once per side: every alert's inhibitors are looked up among them)."""
        found: dict[frozenset[tuple[str, str]], dict[str, str]] = {}
        for _name, _shape, labels in self.shapes:
            found.setdefault(frozenset(labels.items()), labels)
        return list(found.values())

    def matcher_values(self) -> dict[str, set[str]]:
        """label → the values the routing tree and the inhibit rules test it against."""
        values: dict[str, set[str]] = {}
        matchers = [m for route in self.tree.walk() for m in route.matchers]
        matchers += [m for source, target, _ in self.inhibit_rules for m in (*source, *target)]
        for m in matchers:
            if m.op in ("=", "!="):
                values.setdefault(m.name, set()).add(m.value)
        return values

    def routes_of(self, labels: Mapping[str, str]) -> dict[str, RouteSettings]:
        """receiver → the settings of the route delivering ``labels`` to it."""
        found: dict[str, RouteSettings] = {}
        for route in match_routes(self.tree, labels):
            if route.receiver:
                found.setdefault(route.receiver, self.settings[id(route)])
        return found

    def inhibitors(self, target: Mapping[str, str],
                   alerts: Sequence[Mapping[str, str]]) -> set[str]:
        """The alerts of ``alerts`` that would inhibit ``target`` (shown by name and labels)."""
        found = set()
        for source in alerts:
            if source == target:
                continue
            for source_m, target_m, equal in self.inhibit_rules:
                if (all(m.matches(source.get(m.name, "")) for m in source_m)
                        and all(m.matches(target.get(m.name, "")) for m in target_m)
                        and all(source.get(n, "") == target.get(n, "") for n in equal)):
                    found.add(_show(source))
                    break
        return found


#: At most this many label sets per rule shape when unknown labels are spread over the values
#: the trees test them against (what a templated ``severity`` could become).
MAX_COMBINATIONS = 64


def alert_label_sets(old: Side, new: Side) -> list[dict[str, str]]:
    """Every alert the rules of either side can produce, as the trees tell them apart.

    A label the rules fix is taken as it is; a label whose value is unknown without running
    the rule (templated, an exporter's own) but that either tree or the inhibit rules test is
    spread over every value they test it against, plus one value none of them names (and left
    out: "absent" is a value too) — so a route that matches only ``severity="page"`` is
    exercised even when the rule computes its severity.
    """
    tested: dict[str, set[str]] = {}
    for side in (old, new):
        for label, values in side.matcher_values().items():
            tested.setdefault(label, set()).update(values)
    found: list[dict[str, str]] = []
    for side in (old, new):
        for _name, shape, known in side.shapes:
            for labels in _spread(shape, known, tested):
                if labels not in found:
                    found.append(labels)
    return found


def _spread(shape: Shape, known: dict[str, str], tested: Mapping[str, set[str]]
            ) -> list[dict[str, str]]:
    sets = [dict(known)]
    for label in sorted(tested):
        if label in known or label == "alertname":
            continue
        poss = shape.get(label)
        if poss is not None and poss != frozenset({ABSENT}) and len(poss) == 1:
            continue
        if poss == frozenset({ABSENT}):
            continue  # surely absent: the known set already says so
        candidates = sorted(tested[label]) if poss is None else sorted(v for v in poss if v)
        if poss is None:
            candidates.append("alertdrill-other")
        spread = [{**labels, label: value} for labels in sets for value in candidates]
        spread += sets  # absent is a possibility too
        if len(spread) > MAX_COMBINATIONS:
            break
        sets = spread
    return sets


def _show(labels: Mapping[str, str]) -> str:
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "alertname")
    return f"{labels.get('alertname', '?')}{{{rest}}}"


def diff(old: Side, new: Side) -> list[Change]:
    """Every change from ``old`` to ``new``, grouped by kind (see :data:`KINDS`)."""
    changes: list[Change] = []
    alerts = alert_label_sets(old, new)
    for labels in alerts:
        subject = _show(labels)
        before, after = old.routes_of(labels), new.routes_of(labels)
        for receiver in sorted(before.keys() - after.keys()):
            changes.append(Change("lost-receiver", subject, f"no longer reaches {receiver}"))
        for receiver in sorted(after.keys() - before.keys()):
            changes.append(Change("gained-receiver", subject, f"now reaches {receiver}"))
        for receiver in sorted(before.keys() & after.keys()):
            detail = _timing(before[receiver], after[receiver])
            if detail:
                changes.append(Change("timing", subject, f"{receiver}: {detail}"))
        was, now = old.inhibitors(labels, old.label_sets), new.inhibitors(labels, new.label_sets)
        for source in sorted(was - now):
            changes.append(Change("inhibition-lost", subject, f"no longer inhibited by {source}"))
        for source in sorted(now - was):
            changes.append(Change("inhibition-gained", subject, f"now inhibited by {source}"))
    for name in sorted(old.rules.keys() - new.rules.keys()):
        changes.append(Change("rule-removed", name, "alerting rule removed"))
    for name in sorted(new.rules.keys() - old.rules.keys()):
        changes.append(Change("rule-added", name, "alerting rule added"))
    for name in sorted(old.rules.keys() & new.rules.keys()):
        for key in ("expr", "for", "keep_firing_for", "labels"):
            a, b = old.rules[name].get(key), new.rules[name].get(key)
            if a != b:
                changes.append(Change("rule-changed", name, f"{key}: {_value(a)} → {_value(b)}"))
    for name in sorted(old.time_intervals.keys() | new.time_intervals.keys()):
        a, b = old.time_intervals.get(name), new.time_intervals.get(name)
        if a != b:
            what = ("added" if a is None else "removed" if b is None
                    else f"{_value(a)} → {_value(b)}")
            changes.append(Change("time-interval", name, what))
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(changes, key=lambda c: order[c.kind])


def _timing(a: RouteSettings, b: RouteSettings) -> str:
    parts = []
    for key in ("group_wait", "group_interval", "repeat_interval"):
        x, y = getattr(a, key), getattr(b, key)
        if x != y:
            parts.append(f"{key} {human(x)} → {human(y)}")
    if a.group_by != b.group_by:
        parts.append(f"group_by [{', '.join(a.group_by)}] → [{', '.join(b.group_by)}]")
    for key in ("mute_time_intervals", "active_time_intervals"):
        x, y = getattr(a, key), getattr(b, key)
        if x != y:
            parts.append(f"{key} [{', '.join(x)}] → [{', '.join(y)}]")
    return "; ".join(parts)


def _value(value: object) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)
    return text if len(text) <= 80 else text[:77] + "…"


# -- output ----------------------------------------------------------------------------------
def render_table(changes: Sequence[Change], old: str, new: str) -> str:
    """For a terminal: one line a change, a summary last."""
    if not changes:
        return f"{old} → {new}: no change to routing, timing, inhibitions, rules or time intervals"
    width = max(len(c.kind) for c in changes)
    lines = [f"{c.kind:<{width}}  {c.subject}: {c.detail}" for c in changes]
    return "\n".join([*lines, f"{old} → {new}: {summary(changes)}"])


def render_markdown(changes: Sequence[Change], old: str, new: str) -> str:
    """For a pull-request comment."""
    if not changes:
        return f"**alertdrill diff** `{old}` → `{new}`: no change to routing, timing, " \
               "inhibitions, rules or time intervals."
    rows = [f"| {c.kind} | `{_cell(c.subject)}` | {_cell(c.detail)} |" for c in changes]
    return "\n".join([f"**alertdrill diff** `{old}` → `{new}`: {summary(changes)}", "",
                      "| change | alert / rule | what |", "|---|---|---|", *rows])


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_json(changes: Sequence[Change], old: str, new: str) -> str:
    """For CI."""
    return json.dumps({"old": old, "new": new, "changes": [asdict(c) for c in changes],
                       "counts": counts(changes)}, indent=2)


def counts(changes: Iterable[Change]) -> dict[str, int]:
    """Changes per kind (kinds with none left out)."""
    found: dict[str, int] = {}
    for change in changes:
        found[change.kind] = found.get(change.kind, 0) + 1
    return found


def summary(changes: Sequence[Change]) -> str:
    """``3 changes: 1 lost-receiver, 2 timing``."""
    return f"{plural(len(changes), 'change')}: " + ", ".join(
        f"{n} {kind}" for kind, n in counts(changes).items())


# -- two git revisions of one stack directory ---------------------------------------------------
def git_sides(revisions: str, stack: Path, workdir: Path) -> tuple[Path, Path]:
    """``REV1..REV2`` of ``stack`` (a directory inside a git work tree), exported under
    ``workdir``; REV2 empty means the work tree as it is."""
    first, sep, second = revisions.partition("..")
    if not sep or not first:
        raise ConfigError(f"--git {revisions!r} is not REV1..REV2",
                          "e.g. --git main..HEAD, or --git v1.2..  (the work tree as it is)")
    stack = stack.resolve()
    top = _git(["rev-parse", "--show-toplevel"], stack).strip()
    inside = stack.relative_to(top).as_posix()
    out = []
    for index, rev in enumerate((first, second)):
        if not rev:
            out.append(stack)
            continue
        dest = workdir / f"side-{index}"
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", top, "archive", "--format=tar", rev, inside],
                                 capture_output=True, check=False)
        if archive.returncode != 0:
            raise ConfigError(f"git archive {rev} {inside} failed: "
                              f"{archive.stderr.decode(errors='replace').strip()}",
                              "name a revision that has the stack directory")
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
        out.append(dest / inside)
    return out[0], out[1]


def _git(args: list[str], cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConfigError(f"{cwd} is not in a git work tree: {done.stderr.strip()}",
                          "--git compares two revisions of a stack directory in a repository")
    return done.stdout


def run(old: Path | None, new: Path | None, revisions: str | None, stack: Path | None,
        output: str, fail_on: Sequence[str]) -> tuple[int, str]:
    """The ``diff`` subcommand: (exit status, text). 0 nothing changed (or nothing of the
    ``fail_on`` kinds), 1 something did."""
    unknown = [k for k in fail_on if k not in KINDS]
    if unknown:
        raise ConfigError(f"--fail-on: unknown kind {', '.join(unknown)}",
                          f"kinds: {', '.join(KINDS)}")
    with tempfile.TemporaryDirectory(prefix="alertdrill-diff-") as tmp:
        if revisions is not None:
            if stack is None or old is not None or new is not None:
                raise ConfigError("--git REV1..REV2 takes --stack DIR and no OLD/NEW",
                                  "alertdrill diff --git main..HEAD --stack monitoring")
            old, new = git_sides(revisions, stack, Path(tmp))
            names = tuple(f"{stack}@{rev or 'work tree'}" for rev in revisions.split("..", 1))
        else:
            if old is None or new is None:
                raise ConfigError("diff takes two stack directories (OLD NEW), or --git",
                                  "alertdrill diff old-stack new-stack")
            names = (str(old), str(new))
        changes = diff(Side.load(old), Side.load(new))
    render = {"table": render_table, "markdown": render_markdown, "json": render_json}[output]
    gating = [c for c in changes if not fail_on or c.kind in fail_on]
    return (1 if gating else 0), render(changes, *names)
