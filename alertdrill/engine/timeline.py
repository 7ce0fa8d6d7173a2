"""The one timeline every hop of an alert is recorded on, and every assertion reads.

Times are float seconds on the monotonic clock, relative to a base taken once the stack is
usable (as in Alertmanager's own acceptance tests), so slow set-up never eats an SLA budget.
Actions that start an SLA clock (a fault applied or reverted, alerts pushed) are *anchors*:
"within 2 minutes" always counts from the latest anchor.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# Event kinds. Kept as plain strings so reports and JSON stay readable.
FAULT_APPLIED = "fault.applied"
FAULT_REVERTED = "fault.reverted"
ACTION = "action"
PROM_PENDING = "prometheus.pending"
PROM_FIRING = "prometheus.firing"
PROM_INACTIVE = "prometheus.inactive"
AM_ACTIVE = "alertmanager.active"
AM_SUPPRESSED = "alertmanager.suppressed"
AM_UNPROCESSED = "alertmanager.unprocessed"
AM_GONE = "alertmanager.resolved"
NOTIFICATION = "notification"
STACK_READY = "stack.ready"
STACK_WARNING = "stack.warning"
CHECK = "check"
#: A Then-step's verdict: its claim, window, SLA, measured latency and pass/fail (see expect.py).
CLAIM = "claim"


@dataclass(frozen=True)
class Event:
    """One thing that happened, at ``t`` seconds from the timeline's base."""

    t: float
    kind: str
    subject: str
    labels: dict[str, str] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    anchor: bool = False

    @property
    def alertname(self) -> str:
        """The alert's name, for alert events."""
        return self.labels.get("alertname", self.subject)

    def describe(self) -> str:
        """One line for failure messages and text reports."""
        labels = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()) if k != "alertname")
        extra = f"{{{labels}}}" if labels else ""
        note = self.detail.get("note", "")
        return f"t={self.t:+8.3f}s  {self.kind:<24} {self.subject}{extra}{'  ' + note if note else ''}"

    def to_json(self) -> dict[str, Any]:
        """JSON-able form for reports and attachments."""
        detail = {k: v for k, v in self.detail.items() if not k.startswith("_")}
        return {
            "t": round(self.t, 4),
            "kind": self.kind,
            "subject": self.subject,
            "labels": self.labels,
            "detail": detail,
            "anchor": self.anchor,
        }


class Timeline:
    """A thread-safe, append-only event log with a monotonic base."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self.base = clock()
        self.wall_base = time.time()

    def rebase(self) -> None:
        """Set t=0 to now (called once the stack is usable); earlier events keep negative times."""
        now = self._clock()
        with self._lock:
            shift = now - self.base
            self._events = [_shifted(e, -shift) for e in self._events]
            self.base = now
            self.wall_base = time.time()

    def now(self) -> float:
        """Seconds since the base."""
        return self._clock() - self.base

    def at_monotonic(self, monotonic: float) -> float:
        """Convert a raw monotonic timestamp (e.g. a sink arrival) to timeline seconds."""
        return monotonic - self.base

    def at_wall(self, wall: float) -> float:
        """Convert a wall-clock timestamp (e.g. Prometheus ``activeAt``) to timeline seconds."""
        return wall - self.wall_base

    def add(
        self,
        kind: str,
        subject: str,
        labels: dict[str, str] | None = None,
        t: float | None = None,
        anchor: bool = False,
        **detail: Any,
    ) -> Event:
        """Record an event now (or at ``t``) and return it."""
        event = Event(
            t=self.now() if t is None else t,
            kind=kind,
            subject=subject,
            labels=dict(labels or {}),
            detail=detail,
            anchor=anchor,
        )
        with self._lock:
            self._events.append(event)
        return event

    def events(self, kinds: Iterable[str] | None = None, since: float | None = None) -> list[Event]:
        """Events in time order, optionally of some kinds and at or after ``since``."""
        wanted = set(kinds) if kinds is not None else None
        with self._lock:
            snapshot = list(self._events)
        snapshot.sort(key=lambda e: e.t)
        return [
            e
            for e in snapshot
            if (wanted is None or e.kind in wanted) and (since is None or e.t >= since)
        ]

    def since(self, index: int) -> tuple[list[Event], int]:
        """Events in the order they were *recorded*, from position ``index`` on, and the next
        position: a reader polling with it misses nothing, even events stamped in the past
        (Prometheus's ``activeAt``) that ``events()`` sorts before ones it has already seen."""
        with self._lock:
            return list(self._events[max(0, index):]), len(self._events)

    def anchor(self) -> Event | None:
        """The latest anchor event (the action SLAs count from), if any."""
        anchors = [e for e in self.events() if e.anchor]
        return anchors[-1] if anchors else None

    def anchor_time(self) -> float:
        """Timeline seconds of the latest anchor, or 0 (the base) when nothing was done yet."""
        event = self.anchor()
        return event.t if event else 0.0

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events())

    def __len__(self) -> int:
        with self._lock:
            return len(self._events)

    def to_json(self) -> list[dict[str, Any]]:
        """Every event as JSON, in time order."""
        return [e.to_json() for e in self.events()]

    def render(self, kinds: Iterable[str] | None = None) -> str:
        """A plain-text listing, one event a line."""
        return "\n".join(e.describe() for e in self.events(kinds)) or "(no events)"


def _shifted(event: Event, delta: float) -> Event:
    return Event(event.t + delta, event.kind, event.subject, event.labels, event.detail, event.anchor)
