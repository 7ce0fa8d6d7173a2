"""The inhibition table: exactly which alerts an Alertmanager peer holds inhibited.

Why a table: "X is inhibited" proves one inhibit rule works for one alert; it cannot say that
nothing *else* is hidden. A misspelt source matcher, a swapped source and target, or an
``equal`` that lost a label shows either as an alert that stops being inhibited or as one that
starts to be — the table names both. Rows match by alert name and the label columns given
(an empty cell: any value); every inhibited alert of the window must match a row, and every
row must match an inhibited alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from alertdrill.engine import timeline as tl
from alertdrill.engine.matches import Window, labels_text
from alertdrill.engine.timeline import Event


@dataclass(frozen=True)
class InhibitedRow:
    """One row: an alert name and the labels it must carry."""

    alertname: str
    labels: Mapping[str, str]

    def matches(self, alertname: str, labels: Mapping[str, str]) -> bool:
        """The row names this alert."""
        return alertname == self.alertname and all(labels.get(k) == v
                                                   for k, v in self.labels.items())

    def describe(self) -> str:
        """E.g. 'APIHighErrorRate{severity=warning}'."""
        return f"{self.alertname}{labels_text(dict(self.labels))}"


def inhibited(events: Iterable[Event], window: Window) -> dict[frozenset[tuple[str, str]], Event]:
    """Every alert some peer reported inhibited inside ``window`` (by its label set)."""
    found: dict[frozenset[tuple[str, str]], Event] = {}
    for event in events:
        if event.kind == tl.AM_SUPPRESSED and event.detail.get("inhibited_by") \
                and window.contains(event.t):
            found.setdefault(frozenset(event.labels.items()), event)
    return found


def differences(rows: Sequence[InhibitedRow],
                seen: Mapping[frozenset[tuple[str, str]], Event]) -> list[str]:
    """A line per row no inhibited alert matches, and per inhibited alert no row names."""
    lines = []
    for row in rows:
        if not any(row.matches(e.alertname, e.labels) for e in seen.values()):
            lines.append(f"    {row.describe()}: expected inhibited, never was")
    for event in seen.values():
        if not any(row.matches(event.alertname, event.labels) for row in rows):
            shown: dict[str, str] = {k: event.labels[k] for k in ("severity", "instance")
                                     if k in event.labels}
            lines.append(f"    {event.alertname}{labels_text(shown)}: inhibited, but no row "
                         "says it may be")
    return lines
