"""Claims on what a notification holds: the text a human reads, and the exact set of alerts.

A claim that "dev-critical is notified" says nothing about whether the page carries its
runbook link, whether the e-mail subject names the instance, or whether a still-firing group
notification carries the one alert that just resolved. These claims wait, like every other,
for a notification of the receiver (and integration) inside the window, and hold when one of
them has the content asked for; a claim of absence ("does not contain") holds when the window
brought at least one such notification and none of them has it. Failures print what each
notification of the window did hold.

Mixed into :class:`alertdrill.engine.expect.Expect` (its window, wait and claim record).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from alertdrill.engine import timeline as tl
from alertdrill.engine.claimkinds import ClaimKind
from alertdrill.engine.contentmatch import AlertRow, FieldCheck, alert_set_problem, describe_alert
from alertdrill.engine.matches import Match, NotificationMatch, TicketMatch, Window
from alertdrill.engine.observe import parse_rfc3339
from alertdrill.engine.readable import field_path, read_field
from alertdrill.engine.timeline import Event, Timeline
from alertdrill.engine.timescale import TimeScale


class ContentClaims:
    """The content claims of :class:`~alertdrill.engine.expect.Expect`."""

    if TYPE_CHECKING:
        timeline: Timeline
        scale: TimeScale
        tolerance: float

        def window(self, within_real: float, alertname: str | None = None) -> Window: ...
        def _wait(self, find: Callable[[], Event | None], window: Window) -> Event | None: ...
        def _sleep_until(self, t: float) -> None: ...
        def _claim(self, claim: ClaimKind, text: str, window: Window, matched: Event | None,
                   match: Callable[[Event], bool], passed: bool | None = None,
                   offending: Iterable[Event] = (), **about: Any) -> Event: ...
        def _fail(self, expected: str, match: Callable[[Event], bool], window: Window,
                  kinds: Iterable[str] = (), found: list[Event] | None = None) -> None: ...

    def _candidates(self, match: Match, window: Window) -> list[Event]:
        return [e for e in self.timeline.events([tl.NOTIFICATION])
                if match(e) and window.contains(e.t)]

    def notification_field(self, match: NotificationMatch | TicketMatch, check: FieldCheck,
                           within_real: float) -> Event:
        """A notification ``match`` picks arrives in the window with ``check`` holding on the
        field it names (for "does not contain": at least one arrives, and none has it). A
        :class:`TicketMatch` reads the Jira ticket the ticket service created."""
        integration = "jira" if isinstance(match, TicketMatch) else match.integration or "probe"
        field_path(integration, check.field)  # an unknown field is a StepError, at once
        window = self.window(within_real, match.alertname)

        def value(e: Event) -> str:
            delivery = e.detail.get("_delivery")
            return read_field(integration, delivery.payload, check.field) if delivery else ""

        def find() -> Event | None:
            hits = self._candidates(match, window)
            if check.negative:
                return hits[0] if hits else None
            return next((e for e in hits if check.holds(value(e))), None)

        found = self._wait(find, window)
        if check.negative and found is not None:
            self._sleep_until(window.end)  # absence: every notification of the window counts
        seen = self._candidates(match, window)
        bad = [e for e in seen if not check.holds(value(e))] if check.negative else []
        passed = found is not None and not bad
        text = f"{match.describe()}, {check.describe()}"
        self._claim(ClaimKind.NOTIFICATION_FIELD, text, window, found, match, passed=passed,
                    offending=bad, field=check.field, op=check.op, expected_text=check.text,
                    receiver=getattr(match, "receiver", None), alertname=match.alertname,
                    status=getattr(match, "status", None), integration=integration)
        if not passed:
            lines = "".join(f"\n      t={e.t:+.3f}s {check.field}: {value(e)!r}" for e in seen)
            got = (f"; the {check.field} of each notification of the window:{lines}" if seen
                   else "; no such notification arrived at all")
            self._fail(f"{text} {window.describe()}{got}", match, window, found=bad or None)
        assert found is not None
        return found

    def notification_alerts(self, match: NotificationMatch, rows: Sequence[AlertRow],
                            within_real: float) -> Event:
        """A structured notification ``match`` picks holds exactly the alerts of ``rows``: one
        alert per row (labels, own status, annotations, startsAt/endsAt) and no other."""
        window = self.window(within_real, match.alertname)
        tolerance_real = self.scale.real(self.tolerance)

        def offset_of(stamp: str) -> float | None:
            if not stamp:
                return None
            try:
                wall = parse_rfc3339(stamp)
            except ValueError:
                return None
            if wall < 0:  # Go's zero time: no end
                return None
            return self.scale.real(self.timeline.at_wall(wall) - window.start)

        def problem(e: Event) -> str | None:
            delivery = e.detail.get("_delivery")
            alerts = delivery.alerts if delivery is not None else ()
            return alert_set_problem(rows, alerts, offset_of, tolerance_real)

        def find() -> Event | None:
            return next((e for e in self._candidates(match, window) if problem(e) is None), None)

        found = self._wait(find, window)
        text = f"{match.describe()}, holding exactly {len(rows)} alert(s)"
        self._claim(ClaimKind.NOTIFICATION_ALERTS, text, window, found, match,
                    receiver=match.receiver, alertname=match.alertname, status=match.status,
                    integration=match.integration, rows=len(rows))
        if found is None:
            lines = []
            for e in self._candidates(match, window):
                delivery = e.detail["_delivery"]
                held = "; ".join(describe_alert(a, offset_of) for a in delivery.alerts)
                lines.append(f"\n      t={e.t:+.3f}s {delivery.status}: {held} — {problem(e)}")
            wanted = "".join(f"\n      {r.describe()}" for r in rows)
            seen = "".join(lines) or "\n      (no such notification arrived)"
            self._fail(f"{text} {window.describe()}:{wanted}\n    notifications of the window:"
                       f"{seen}", match, window)
        assert found is not None
        return found
