"""Mutation operators on rule files and notification templates: the ``for`` lengthened or
gone, a threshold moved far, a routing label changed or misspelt, a rule deleted, a template
line dropped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from alertdrill.durations import parse_duration
from alertdrill.mutate import spans
from alertdrill.mutate.amops import _misspell
from alertdrill.mutate.model import Edit, Site

#: Labels that route alerts, the ones a label mutant changes.
ROUTING_LABELS = ("severity", "team")
#: How much ``for`` is lengthened by.
FOR_FACTOR = 5
#: A comparison with a number literal on its right: ``> 0.05``, ``>= bool 3`` (not ``==``:
#: ``up == 0`` is a state, not a threshold).
_THRESHOLD = re.compile(
    r"(?<![=!<>~])(?P<op>>=|<=|>|<)(?P<gap>\s*(?:bool\s+)?)(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"(?![\w.])")
_SEVERITY_SWAP = {"critical": "warning", "warning": "critical", "info": "warning",
                  "page": "ticket", "ticket": "page"}


@dataclass
class RuleFile:
    """One rule file as the operators see it."""

    path: str
    text: str
    root: yaml.Node | None

    def rules(self) -> Iterator[tuple[str, yaml.MappingNode]]:
        """(alert name, node) of every alerting rule, in file order."""
        for group in spans.mappings(spans.get(self.root, "groups")):
            for rule in spans.mappings(spans.get(group, "rules")):
                name = spans.scalar(spans.get(rule, "alert"))
                if name:
                    yield name, rule

    def site(self, operator: str, node: yaml.Node, alert: str, description: str,
             edits: tuple[Edit, ...], suggestion: str) -> Site:
        """A :class:`Site` in this file about ``alert``."""
        return Site(operator, self.path, spans.line_of(node), f"{alert}: {description}",
                    edits, "rule", frozenset({alert}), frozenset(), suggestion)


def for_lengthened(rules: RuleFile) -> Iterator[Site]:
    """A rule's ``for`` multiplied by 5."""
    for name, rule in rules.rules():
        node = spans.get(rule, "for")
        changed = spans.multiplied_duration(node, FOR_FACTOR, "5m")
        if node is None or changed is None:
            continue
        text, new = changed
        yield rules.site("for-lengthened", node, name, f"for {text} → {new}",
                         (spans.replace_scalar(node, new),),
                         f'the alert "{name}" fires within a deadline shorter than {new}')


def for_removed(rules: RuleFile) -> Iterator[Site]:
    """A rule's ``for`` deleted: it fires at the first evaluation."""
    for name, rule in rules.rules():
        span = spans.key_lines(rules.text, rule, "for")
        node = spans.get(rule, "for")
        if span is None or node is None or _zero(spans.scalar(node)):
            continue  # "for: 0s" removed is the same rule
        yield rules.site("for-removed", node, name, f"for: {spans.scalar(node)} removed",
                         (spans.delete_lines(span),),
                         f'a blip shorter than for: {spans.scalar(node)} (a fault reverted '
                         f'quickly) after which "{name}" must not fire')


def _zero(text: str | None) -> bool:
    try:
        return parse_duration(text or "") == 0
    except ValueError:
        return False


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else f"{value:g}"


def threshold_moved(rules: RuleFile) -> Iterator[Site]:
    """A comparison's number moved far: ×10 and ÷10 (0 → 1 and −1)."""
    for name, rule in rules.rules():
        node = spans.get(rule, "expr")
        if not isinstance(node, yaml.ScalarNode):
            continue
        start, end = int(node.start_mark.index), spans.content_end(rules.text, node)
        raw = rules.text[start:end]
        if len(_THRESHOLD.findall(raw)) != len(_THRESHOLD.findall(str(node.value))):
            continue  # escapes make the file text differ from the value: not safe to edit
        for found in _THRESHOLD.finditer(raw):
            value = float(found["num"])
            for verb, new in (("raised", value * 10 if value else 1.0),
                              ("lowered", value / 10 if value else -1.0)):
                at = start + found.start("num")
                old_text = found["num"]
                yield rules.site(
                    "threshold-moved", node, name,
                    f"threshold {verb}: {found['op']} {old_text} → {found['op']} {_number(new)}",
                    (Edit(at, at + len(old_text), _number(new)),),
                    f'two scenarios near the threshold of "{name}": the metric just past '
                    f"{found['op']} {old_text} (it fires) and just short of it (it does not)")


def label_changed(rules: RuleFile, known: dict[str, list[str]]) -> Iterator[Site]:
    """A rule's severity or team label changed to another value the stack uses."""
    for name, rule in rules.rules():
        labels = spans.get(rule, "labels")
        for label in ROUTING_LABELS:
            node = spans.get(labels, label)
            value = spans.scalar(node)
            if node is None or value is None or "{{" in value:
                continue
            if label == "severity":
                new = _SEVERITY_SWAP.get(value, "critical" if value != "critical" else "warning")
            else:
                others = [v for v in known.get(label, []) if v != value]
                if not others:
                    continue
                new = others[0]
            yield rules.site("label-changed", node, name, f"{label} {value} → {new}",
                             (spans.replace_scalar(node, new),),
                             f'a scenario where "{name}" fires and `only …` its receivers '
                             "are notified (or the routing table names it)")


def label_misspelt(rules: RuleFile) -> Iterator[Site]:
    """A rule's severity or team label misspelt."""
    for name, rule in rules.rules():
        labels = spans.get(rule, "labels")
        for label in ROUTING_LABELS:
            node = spans.get(labels, label)
            value = spans.scalar(node)
            if node is None or not value or "{{" in value:
                continue
            new = _misspell(value)
            yield rules.site("label-misspelt", node, name, f"{label} {value} → {new}",
                             (spans.replace_scalar(node, new),),
                             f'a scenario where "{name}" fires and its receiver is notified')


def rule_deleted(rules: RuleFile) -> Iterator[Site]:
    """An alerting rule deleted."""
    for name, rule in rules.rules():
        yield rules.site("rule-deleted", rule, name, "rule deleted",
                         (spans.delete_lines(spans.block(rules.text, rule)),),
                         f'any scenario in which "{name}" fires')


def template_line_dropped(path: str, text: str) -> Iterator[Site]:
    """One non-blank line of a notification template dropped."""
    start = 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if line.strip():
            shown = line.strip()
            shown = shown if len(shown) <= 60 else shown[:57] + "…"
            yield Site("template-line-dropped", path, number, f"line {number} dropped: {shown}",
                       (Edit(start, start + len(line), ""),), "template", frozenset(), frozenset(),
                       "a claim on the notification's text (a payload check) of a receiver that "
                       "uses this template")
        start += len(line)
