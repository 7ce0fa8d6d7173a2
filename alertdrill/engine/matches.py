"""What a claim looks at: its window of timeline seconds, and which events it is about.

Separate from the claims themselves (``alertdrill.engine.expect``) because steps build matches while
parsing (``NotificationMatch`` for "notified via slack of X with labels …") and the report and
tests reuse them; the claims only wait on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from alertdrill.durations import human
from alertdrill.engine import timeline as tl
from alertdrill.engine.timeline import Event
from alertdrill.errors import StepError


@dataclass(frozen=True)
class Window:
    """The span of timeline seconds a claim looks at; ``end`` includes the tolerance."""

    start: float
    end: float
    real: float
    measured: float
    tolerance: float
    anchor: str
    #: Measured seconds added for what the run does not scale (a real-time scrape), and why.
    unscaled: float = 0.0
    unscaled_why: str = ""

    def describe(self) -> str:
        """E.g. 'within 2 min (2.00 s measured + 0.50 s tolerance) of t=+1.20s "stop web"'."""
        parts = [] if self.real == self.measured else [f"{human(self.measured)} measured"]
        if self.unscaled:
            parts.append(f"{human(self.unscaled)} unscaled ({self.unscaled_why})")
        parts.append(f"{human(self.tolerance)} tolerance")
        scale = " + ".join(parts) if self.real != self.measured else "+ " + " + ".join(parts)
        return (
            f"within {human(self.real)} ({scale}) of t={self.start:+.3f}s {self.anchor}: "
            f"window t={self.start:+.3f}s … t={self.end:+.3f}s"
        )

    def contains(self, t: float) -> bool:
        """True when ``t`` is inside the window."""
        return self.start - 1e-6 <= t <= self.end


class Match(Protocol):
    """Anything that picks events from the timeline and can say what it picks."""

    def __call__(self, event: Event) -> bool: ...

    def describe(self) -> str:
        """Human form, for failure messages."""
        ...


@dataclass(frozen=True)
class NotificationMatch:
    """Which notifications a claim is about."""

    receiver: str | None
    alertname: str
    status: str | None = "firing"
    integration: str | None = None
    #: Labels one of the notified alerts must carry (structured notifications only: the probe
    #: or a webhook), e.g. escalation=level-2 to tell an escalated copy from the original.
    labels: tuple[tuple[str, str], ...] = ()
    #: One integration of its kind by position (``webhook[1]``); None: any of them.
    index: int | None = None
    #: ``status`` is the *alert's own* status inside the notification, not the notification's
    #: ("sent as firing": a resolved alert inside a still-firing group is not). Structured
    #: notifications only; text-only ones know just the notification's status.
    per_alert: bool = False

    def __post_init__(self) -> None:
        if self.labels and self.integration not in (None, "webhook", "probe"):
            raise StepError(f"labels cannot be checked on {self.integration} notifications: they "
                            "carry rendered text only", "drop the labels, or drop 'via …' (the "
                            "receiver's structured probe is checked then)")
        if self.index is not None and self.integration is None:
            raise StepError("an integration's position needs the integration",
                            "write e.g. via webhook[1]")

    def __call__(self, event: Event) -> bool:
        if event.kind != tl.NOTIFICATION:
            return False
        if self.receiver is not None and event.subject != self.receiver:
            return False
        integration = self.integration or "probe"
        if event.detail.get("integration") != integration:
            return False
        if self.index is not None and event.detail.get("index") != self.index:
            return False
        code = int(event.detail.get("response_code") or 0)
        if integration != "probe" and not 200 <= code < 300:
            return False  # a failed attempt (receiver outage) is not a notification received
        status = event.detail.get("status")
        # Text-only integrations (Slack with a custom title, e-mail) may not reveal the status
        # (None); then only the rendered text decides below. The probe always knows it.
        status_known = status is not None or integration == "probe"
        structured = integration in ("probe", "webhook")
        if self.per_alert and structured:
            return self._alert_with_status(event)
        if self.status is not None and status != self.status and status_known:
            return False
        if self.labels:
            wanted = {"alertname": self.alertname, **dict(self.labels)}
            return any(all(alert.get(k) == v for k, v in wanted.items())
                       for alert in event.detail.get("alerts") or [])
        names = event.detail.get("alertnames") or []
        if names:
            return self.alertname in names
        delivery = event.detail.get("_delivery")
        return delivery is not None and self.alertname in delivery.text

    def _alert_with_status(self, event: Event) -> bool:
        """A notified alert of this name, with these labels, is itself in ``status``."""
        delivery = event.detail.get("_delivery")
        wanted = {"alertname": self.alertname, **dict(self.labels)}
        return delivery is not None and any(
            all(alert.labels.get(k) == v for k, v in wanted.items())
            and (self.status is None or alert.status == self.status)
            for alert in delivery.alerts)

    def describe(self) -> str:
        """Human form of the match."""
        who = f'"{self.receiver}"' if self.receiver else "any receiver"
        at = f"[{self.index}]" if self.index is not None else ""
        via = f" via {self.integration}{at}" if self.integration else ""
        labels = labels_text(dict(self.labels))
        if self.per_alert:
            state = f" as {self.status}" if self.status else ""
            return f'{who} notified{via} of "{self.alertname}"{labels}{state}'
        what = {"firing": "of", "resolved": "that it resolved:"}.get(self.status or "", "about")
        return f'{who} notified{via} {what} "{self.alertname}"{labels}'


@dataclass(frozen=True)
class TicketMatch:
    """Tickets created through the Jira REST API (the ticket service's calls, seen at the sink)."""

    alertname: str
    project: str | None = None

    def __call__(self, event: Event) -> bool:
        if event.kind != tl.NOTIFICATION or event.detail.get("integration") != "jira":
            return False
        if not 200 <= int(event.detail.get("response_code") or 0) < 300:
            return False
        delivery = event.detail.get("_delivery")
        fields = (delivery.payload.get("fields") or {}) if delivery is not None else {}
        if not str(fields.get("summary", "")).startswith(f"[ALERT] {self.alertname}:"):
            return False
        project = (fields.get("project") or {}).get("key")
        return self.project is None or project == self.project

    def describe(self) -> str:
        """Human form of the match."""
        where = f' in project "{self.project}"' if self.project else ""
        return f'a ticket{where} for "{self.alertname}"'


def labels_text(labels: dict[str, str]) -> str:
    """``{severity=critical, team=web}`` (empty when there are none), for messages."""
    return "{" + ", ".join(f"{k}={v}" for k, v in labels.items()) + "}" if labels else ""
