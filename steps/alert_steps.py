"""Steps about alerts themselves: pushed into Alertmanager, or evaluated by Prometheus."""

from __future__ import annotations

from pytest_bdd import then, when

from alertdrill import timeline as tl
from alertdrill.drill import Drill
from alertdrill.durations import parse_human
from alertdrill.stepsyntax import parse_labels
from steps.patterns import DURATION, quoted, rx


@when(rx(rf"the alert {quoted('alertname')} is pushed to Alertmanager"
         r"(?: with labels (?P<labels>.+))?"))
def alert_pushed(drill: Drill, alertname: str, labels: str | None) -> None:
    """Send an alert straight to every Alertmanager peer, as Prometheus would.

    Example: When the alert "DiskFull" is pushed to Alertmanager with labels severity=critical, team=ops
    """
    drill.push_alert(alertname, parse_labels(labels or ""))


@when(rx(rf"the alert {quoted('alertname')} is resolved in Alertmanager"
         r"(?: with labels (?P<labels>.+))?"))
def alert_resolved_pushed(drill: Drill, alertname: str, labels: str | None) -> None:
    """Push the alert again with endsAt=now, as Prometheus does when a condition clears.

    Example: When the alert "DiskFull" is resolved in Alertmanager with labels severity=critical, team=ops
    """
    drill.push_alert(alertname, parse_labels(labels or ""), resolved=True)


@then(rx(rf"the alert {quoted('alertname')}(?: with labels (?P<labels>.+?))? "
         rf"(?P<state>fires|is pending|resolves) within {DURATION}"))
def alert_state_within(drill: Drill, alertname: str, labels: str | None, state: str,
                       duration: str) -> None:
    """Prometheus shows the alert pending / firing / gone within the SLA (from the last action).

    Example: Then the alert "TargetDown" fires within 2 minutes
    """
    kind = {"fires": tl.PROM_FIRING, "is pending": tl.PROM_PENDING,
            "resolves": tl.PROM_INACTIVE}[state]
    drill.expect.alert_state(alertname, kind, parse_human(duration), parse_labels(labels or ""))


@then(rx(rf"{quoted('alertname')} is (?P<how>inhibited|silenced) within {DURATION}"))
def alert_suppressed(drill: Drill, alertname: str, how: str, duration: str) -> None:
    """An Alertmanager peer holds the alert suppressed, by an inhibition or a silence.

    Example: Then "WebAppDown" is inhibited within 3 minutes
    """
    drill.expect.suppressed(alertname, how, parse_human(duration))


@then(rx(rf"the Alertmanager peer {quoted('peer')} sees (?P<members>\d+) cluster members? "
         rf"within {DURATION}"))
def cluster_members(drill: Drill, peer: str, members: str, duration: str) -> None:
    """The peer's cluster view (its /api/v2/status) holds exactly N members, itself included.

    Shows a partition took effect (or healed), as the peers themselves see it.

    Example: Then the Alertmanager peer "alertmanager-0" sees 2 cluster members within 5 minutes
    """
    index = drill.peer_index(peer)
    wanted = int(members)

    def check() -> str | None:
        try:
            seen = drill.alertmanagers[index].cluster_members()
        except Exception:
            return None
        return f"{peer} sees {seen} cluster member(s)" if seen == wanted else None

    drill.expect.eventually(f"{peer} sees {wanted} cluster member(s)", check,
                            parse_human(duration))
