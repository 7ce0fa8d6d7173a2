"""Steps about alerts themselves: pushed into Alertmanager, or evaluated by Prometheus."""

from __future__ import annotations

from pytest_bdd import then, when

from alertdrill import timeline as tl
from alertdrill.drill import Drill
from alertdrill.durations import parse_human
from alertdrill.stepsyntax import parse_labels, parse_names
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


@then(rx(rf"{quoted('alertname')}(?: with labels (?P<labels>.+?))? is "
         rf"(?P<how>inhibited|silenced) within {DURATION}"))
def alert_suppressed(drill: Drill, alertname: str, labels: str | None, how: str,
                     duration: str) -> None:
    """An Alertmanager peer holds the alert suppressed, by an inhibition or a silence.

    Example: Then "APIHighErrorRate" with labels severity=warning is inhibited within 8 minutes
    """
    drill.expect.suppressed(alertname, how, parse_human(duration), parse_labels(labels or ""))


@then(rx(rf"Alertmanager routes {quoted('alertname')} to (?P<exact>only )?(?P<receivers>.+?) "
         rf"within {DURATION}"))
def alert_routed(drill: Drill, alertname: str, exact: str | None, receivers: str,
                 duration: str) -> None:
    """Alertmanager's routing decision (its API's receivers of the alert), at once: no need to
    wait out a long group_wait to know where a notification will go.

    Example: Then Alertmanager routes "DeployFrozen" to only "maintenance-receiver" within 1 minute
    """
    drill.expect.routed(alertname, parse_names(receivers), parse_human(duration),
                        exact=bool(exact))
