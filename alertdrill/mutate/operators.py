"""The mutation operators, by name, and the mutants of a stack directory.

Every mutant is one change to one file of a copy of the stack (see model.py). Mutant ids
(``M001``…) number the mutants of *all* operators in a fixed order, so an id names the same
change whichever ``--operators`` a run selects.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError
from alertdrill.mutate import amops, ruleops, spans
from alertdrill.mutate.model import Mutant, Site


@dataclass(frozen=True)
class Operator:
    """A named operator and what it does (for ``--list`` and ``--help``)."""

    name: str
    summary: str
    target: str  # "alertmanager", "rules" or "templates"


OPERATORS: tuple[Operator, ...] = (
    Operator("receiver-swapped", "a route's receiver replaced by a neighbour's", "alertmanager"),
    Operator("matcher-misspelt", "an = / != matcher's value misspelt (last letter doubled)",
             "alertmanager"),
    Operator("matcher-flipped", "a matcher's operator flipped (= ↔ !=, =~ ↔ !~)", "alertmanager"),
    Operator("regex-widened", 'a =~ matcher widened to ".*"', "alertmanager"),
    Operator("continue-flipped", "a route's continue flipped", "alertmanager"),
    Operator("routes-reordered", "two adjacent sibling routes swapped", "alertmanager"),
    Operator("route-deleted", "a child route deleted", "alertmanager"),
    Operator("group-by-changed", "a route's group_by loses its last label (or gains instance)",
             "alertmanager"),
    Operator("timing-multiplied", "group_wait / group_interval / repeat_interval × 10 (0 → 1m)",
             "alertmanager"),
    Operator("inhibit-deleted", "an inhibit rule deleted", "alertmanager"),
    Operator("inhibit-equal-changed", "an inhibit rule's equal loses its last label",
             "alertmanager"),
    Operator("inhibit-swapped", "an inhibit rule's source and target swapped", "alertmanager"),
    Operator("send-resolved-flipped", "an integration's send_resolved flipped", "alertmanager"),
    Operator("time-interval-shifted", "a time interval's times range shifted by an hour",
             "alertmanager"),
    Operator("for-lengthened", "a rule's for × 5", "rules"),
    Operator("for-removed", "a rule's for removed", "rules"),
    Operator("threshold-moved", "a rule's comparison threshold × 10 or ÷ 10", "rules"),
    Operator("label-changed", "a rule's severity / team label changed to another value",
             "rules"),
    Operator("label-misspelt", "a rule's severity / team label misspelt", "rules"),
    Operator("rule-deleted", "an alerting rule deleted", "rules"),
    Operator("template-line-dropped", "a line of a notification template dropped", "templates"),
)
NAMES = tuple(op.name for op in OPERATORS)

_AM_OPERATORS: dict[str, Callable[[amops.AmFile], Iterable[Site]]] = {
    "receiver-swapped": amops.receiver_swapped, "matcher-misspelt": amops.matcher_misspelt,
    "matcher-flipped": amops.matcher_flipped, "regex-widened": amops.regex_widened,
    "continue-flipped": amops.continue_flipped, "routes-reordered": amops.routes_reordered,
    "route-deleted": amops.route_deleted, "group-by-changed": amops.group_by_changed,
    "timing-multiplied": amops.timing_multiplied, "inhibit-deleted": amops.inhibit_deleted,
    "inhibit-equal-changed": amops.inhibit_equal_changed, "inhibit-swapped": amops.inhibit_swapped,
    "send-resolved-flipped": amops.send_resolved_flipped,
    "time-interval-shifted": amops.time_interval_shifted,
}
_RULE_OPERATORS: dict[str, Callable[[ruleops.RuleFile], Iterable[Site]]] = {
    "for-lengthened": ruleops.for_lengthened, "for-removed": ruleops.for_removed,
    "threshold-moved": ruleops.threshold_moved, "label-misspelt": ruleops.label_misspelt,
    "rule-deleted": ruleops.rule_deleted,
}


def parse_operators(text: str | None) -> tuple[str, ...]:
    """``--operators a,b`` → the names, checked; None or empty → every operator."""
    if not text:
        return NAMES
    wanted = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in wanted if n not in NAMES]
    if unknown or not wanted:
        raise ConfigError(f"--operators: unknown operator {', '.join(unknown) or '(none)'}",
                          f"operators: {', '.join(NAMES)} (alertdrill mutate --list shows each)")
    return wanted


def _relative(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def _read(path: Path) -> tuple[str, yaml.Node | None]:
    text = path.read_text(encoding="utf-8")
    try:
        return text, spans.compose(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}",
                          "alertdrill check shows every problem of the stack") from None


def template_files(spec: StackSpec) -> list[Path]:
    """The notification templates alertmanager.yml loads (its ``templates:`` globs)."""
    data = yaml.safe_load(spec.alertmanager_config.read_text(encoding="utf-8")) or {}
    found: list[Path] = []
    for pattern in data.get("templates") or []:
        found += sorted(Path(p) for p in glob.glob(str(spec.alertmanager_config.parent / pattern)))
    return [p for p in found if p.is_file()]


def _sites(spec: StackSpec) -> Iterator[Site]:
    """Every site of every operator, in the fixed order of :data:`OPERATORS`."""
    root = spec.root
    am_text, am_root = _read(spec.alertmanager_config)
    am = amops.AmFile(_relative(spec.alertmanager_config, root), am_text, am_root)
    rule_files = []
    for path in spec.rule_files:
        text, node = _read(path)
        rule_files.append(ruleops.RuleFile(_relative(path, root), text, node))
    known: dict[str, list[str]] = {}
    for rf in rule_files:
        for _name, rule in rf.rules():
            for label in ruleops.ROUTING_LABELS:
                value = spans.scalar(spans.get(spans.get(rule, "labels"), label))
                if value and "{{" not in value and value not in known.setdefault(label, []):
                    known[label].append(value)
    for label in known:
        known[label].sort()
    templates = [(_relative(p, root), p.read_text(encoding="utf-8")) for p in template_files(spec)]
    for op in OPERATORS:
        if op.name in _AM_OPERATORS:
            yield from _AM_OPERATORS[op.name](am)
        elif op.name == "label-changed":
            for rf in rule_files:
                yield from ruleops.label_changed(rf, known)
        elif op.name in _RULE_OPERATORS:
            for rf in rule_files:
                yield from _RULE_OPERATORS[op.name](rf)
        elif op.name == "template-line-dropped":
            for relative, text in templates:
                yield from ruleops.template_line_dropped(relative, text)


def generate(spec: StackSpec, operators: Sequence[str] = NAMES) -> list[Mutant]:
    """The mutants of the stack by ``operators``: each a real change (a YAML file still parses
    and its data differs; a template's text differs), ids stable across selections."""
    texts: dict[str, str] = {}
    data: dict[str, object] = {}
    mutants = []
    number = 0
    for site in _sites(spec):
        if site.file not in texts:
            texts[site.file] = (spec.root / site.file).read_text(encoding="utf-8")
        mutant = Mutant.of("", site, texts[site.file])
        if site.file not in data and site.scope != "template":
            data[site.file] = spans.load(texts[site.file])
        if not _real_change(mutant, data.get(site.file)):
            continue
        number += 1
        mutant.id = f"M{number:03d}"
        if site.operator in operators:
            mutants.append(mutant)
    return mutants


def _real_change(mutant: Mutant, before: object) -> bool:
    if mutant.before == mutant.after:
        return False
    if mutant.site.scope == "template":
        return True
    try:
        return before != spans.load(mutant.after)
    except yaml.YAMLError:
        return False


def counts(mutants: Iterable[Mutant]) -> dict[str, int]:
    """Mutants per operator, in operator order (operators with none left out)."""
    found = {name: 0 for name in NAMES}
    for m in mutants:
        found[m.operator] += 1
    return {k: v for k, v in found.items() if v}
