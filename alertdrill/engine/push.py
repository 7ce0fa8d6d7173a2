"""An alert pushed straight to Alertmanager, with the timing and content a scenario gives it.

Prometheus always sends ``startsAt`` = when the rule fired and ``endsAt`` a little ahead
(resent each evaluation). A test of Alertmanager itself needs the other shapes too: an alert
that started in the past (what its notification says), one that ends at a set time (it
resolves without being resolved), and one with **no** ``endsAt`` at all, which Alertmanager
resolves itself after ``resolve_timeout`` — the field a Prometheus-fed drill never exercises.

Offsets are real-world durations, scaled like every other one (``alertdrill.engine.timescale``):
"started 10 minutes ago" at K=60 is a ``startsAt`` 10 measured seconds in the past.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alertdrill.engine.timescale import TimeScale
from alertdrill.errors import StepError

#: How long a pushed alert without a stated end stays valid, in measured seconds: like
#: Prometheus, far enough ahead that it never resolves by itself during a scenario.
DEFAULT_VALIDITY = 3600.0


@dataclass(frozen=True)
class AlertPush:
    """What one pushed alert carries. Durations are real-world seconds."""

    alertname: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    generator_url: str | None = None
    #: startsAt this long before the push (None: at the push).
    started_ago: float | None = None
    #: endsAt this long after the push (None: see ``no_end``).
    ends_in: float | None = None
    #: Send no endsAt at all: Alertmanager applies its resolve_timeout.
    no_end: bool = False
    #: endsAt = now: the alert is resolved (as Prometheus does when a condition clears).
    resolved: bool = False

    def __post_init__(self) -> None:
        if sum([self.ends_in is not None, self.no_end, self.resolved]) > 1:
            raise StepError(f'the alert "{self.alertname}" is given two ends',
                            'say one of: "ending in 5 minutes", "with no end", or resolve it')
        if self.started_ago is not None and self.started_ago < 0:
            raise StepError("an alert cannot start in the future", 'write "started 10 minutes ago"')
        if self.ends_in is not None and self.ends_in <= 0:
            raise StepError("an alert pushed as firing must end in the future",
                            'write "ending in 5 minutes", or resolve the alert')
        if "alertname" in self.labels:
            raise StepError("the alert's name is given twice", "drop alertname= from the labels")

    def payload(self, now: datetime, scale: TimeScale) -> dict[str, Any]:
        """The alert as Alertmanager's v2 API takes it, pushed at ``now`` (timezone-aware)."""
        starts = now - timedelta(seconds=scale.measured(self.started_ago or 0.0))
        alert: dict[str, Any] = {
            "labels": {"alertname": self.alertname, **self.labels},
            "annotations": dict(self.annotations),
            "startsAt": starts.isoformat(),
        }
        if self.generator_url:
            alert["generatorURL"] = self.generator_url
        if self.resolved:
            alert["endsAt"] = now.isoformat()
        elif self.ends_in is not None:
            alert["endsAt"] = (now + timedelta(seconds=scale.measured(self.ends_in))).isoformat()
        elif not self.no_end:
            alert["endsAt"] = (now + timedelta(seconds=DEFAULT_VALIDITY)).isoformat()
        return alert

    def describe(self) -> str:
        """The note the push leaves on the timeline, e.g. "pushed (started 10 min ago, no end)"."""
        from alertdrill.durations import human

        parts = []
        if self.started_ago:
            parts.append(f"started {human(self.started_ago)} ago")
        if self.ends_in is not None:
            parts.append(f"ending in {human(self.ends_in)}")
        if self.no_end:
            parts.append("no end: resolve_timeout applies")
        if self.annotations:
            parts.append(f"{len(self.annotations)} annotation(s)")
        what = "resolved" if self.resolved else "pushed"
        return f"{what} ({', '.join(parts)})" if parts else what
