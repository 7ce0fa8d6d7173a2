"""Prometheus's alert state machine, replayed over a rule's range-query result.

A range query at the group's evaluation interval gives, per label set, the evaluation
timestamps at which the rule's expression returned it. Each label set is one alert, and its
life follows ``rules/alerting.go``:

- present and not active: **pending** from that evaluation (``activeAt``); firing at once when
  ``for`` is 0;
- pending and present at an evaluation ``for`` or more after ``activeAt``: **firing**;
- absent while pending: gone (never fired);
- absent while firing: with ``keep_firing_for`` k, it keeps firing while less than k has passed
  since the first evaluation it was absent at (present again resets that); then **resolved** at
  that evaluation. With k = 0 it is resolved at the first evaluation it is absent at;
- present again after being resolved: a new alert (a new ``activeAt``).

The alert's labels are the result's labels without ``__name__``, then the rule's ``labels:``
(``{{ $labels.x }}`` and ``{{ $value }}`` expanded; other template code is kept verbatim) and
``alertname``; the stack's ``external_labels`` are added where missing, as Prometheus does when
it sends alerts.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

_LABEL_REF = re.compile(r"\{\{\s*(?:\$labels|\.Labels)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_VALUE_REF = re.compile(r"\{\{\s*(?:\$value|\.Value)\s*\}\}")


@dataclass(frozen=True)
class AlertRule:
    """What the state machine needs of an alerting rule."""

    name: str
    expr: str
    interval: float
    hold: float = 0.0
    keep_firing_for: float = 0.0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    group: str = ""


@dataclass(frozen=True)
class AlertInterval:
    """One alert's life: pending from ``active_at``, firing from ``fired_at`` until
    ``resolved_at`` (None: still firing when the range ends)."""

    rule: str
    labels: tuple[tuple[str, str], ...]
    active_at: float
    fired_at: float
    resolved_at: float | None
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def label_dict(self) -> dict[str, str]:
        """The labels as a dict."""
        return dict(self.labels)

    def key(self) -> tuple[tuple[str, str], ...]:
        """The alert's identity (its label set)."""
        return self.labels


def expand(template: str, labels: Mapping[str, str], value: float) -> str:
    """The label and value references of a rule's label/annotation text, filled in."""
    text = _LABEL_REF.sub(lambda m: labels.get(m.group(1), ""), template)
    return _VALUE_REF.sub(lambda _: f"{value:g}", text)


def alert_labels(rule: AlertRule, result: Mapping[str, str], value: float,
                 external: Mapping[str, str]) -> dict[str, str]:
    """The label set of the alert for one result series (see the module docstring)."""
    labels = {k: v for k, v in result.items() if k != "__name__"}
    for name, template in rule.labels.items():
        labels[name] = expand(str(template), result, value)
    labels["alertname"] = rule.name
    for name, ext in external.items():
        labels.setdefault(name, ext)
    return {k: v for k, v in labels.items() if v != ""}


def intervals_of(present: Sequence[int], grid: Sequence[float], hold: float,
                 keep_firing_for: float) -> list[tuple[float, float, float | None]]:
    """(activeAt, firedAt, resolvedAt) of each alert of one label set.

    ``present``: sorted indexes into ``grid`` (the evaluation timestamps) at which the
    expression returned the label set. ``resolvedAt`` is None when it still fires at the end.
    """
    found: list[tuple[float, float, float | None]] = []
    active: float | None = None
    fired: float | None = None
    last = -2

    def close_gap(upto: int) -> bool:
        """The alert was absent from evaluation last+1 to upto-1: True when that ended it."""
        nonlocal active, fired
        if active is None or upto == last + 1:
            return False
        if fired is None:  # pending, absent once: deleted
            active = None
            return True
        since = grid[last + 1]
        k = bisect_left(grid, since + keep_firing_for - 1e-9, lo=last + 1)
        if k < upto:
            found.append((active, fired, grid[k]))
            active = fired = None
            return True
        return False

    for p in present:
        close_gap(p)
        if active is None:
            active = grid[p]
        if fired is None and grid[p] - active >= hold - 1e-9:
            fired = grid[p]
        last = p
    if active is not None and not close_gap(len(grid)) and fired is not None:
        found.append((active, fired, None))
    return found
