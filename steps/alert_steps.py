"""Steps about alerts themselves: pushed into Alertmanager, or evaluated by Prometheus."""

from __future__ import annotations

from pytest_bdd import then, when

from alertdrill.durations import parse_human
from alertdrill.engine import timeline as tl
from alertdrill.engine.claimnames import introduces
from alertdrill.engine.drill import Drill
from alertdrill.engine.inhibitiontable import InhibitedRow
from alertdrill.engine.push import AlertPush
from alertdrill.engine.stepsyntax import cell_names, parse_labels, parse_names
from alertdrill.errors import StepError

from .patterns import DURATION, quoted, rx

_OFFSET = r"\d+(?:\.\d+)?\s*[a-z]+"


@when(rx(rf"the alert {quoted('alertname')} is pushed to Alertmanager"
         r"(?: with labels (?P<labels>.+?))?"
         r"(?:,? with annotations (?P<annotations>.+?))?"
         r'(?:,? with generator URL "(?P<generator_url>[^"]+)")?'
         rf"(?:,? started (?P<started>{_OFFSET}) ago)?"
         rf"(?:,? (?:ending in (?P<ending>{_OFFSET})|(?P<no_end>with no end)))?"))
@introduces("alertname", "labels")
def alert_pushed(drill: Drill, alertname: str, labels: str | None, annotations: str | None,
                 generator_url: str | None, started: str | None, ending: str | None,
                 no_end: str | None) -> None:
    """Send an alert straight to every Alertmanager peer, as Prometheus would, or with its own timing.

    Its own timing: a start in the past, an end in the future, or no end at all (Alertmanager's
    resolve_timeout then ends it); annotations and a generator URL as Prometheus sets them.
    Clauses in this order, each optional; durations are real-world (scaled).

    Example: When the alert "DiskFull" is pushed to Alertmanager with labels severity=critical, team=ops, with annotations summary="disk full", started 10 minutes ago, ending in 5 minutes
    """
    drill.push(AlertPush(
        alertname, parse_labels(labels or ""), parse_labels(annotations or ""), generator_url,
        started_ago=parse_human(started) if started else None,
        ends_in=parse_human(ending) if ending else None, no_end=bool(no_end)))


@when(rx(rf"the alert {quoted('alertname')} is resolved in Alertmanager"
         r"(?: with labels (?P<labels>.+))?"))
@introduces("labels")
def alert_resolved_pushed(drill: Drill, alertname: str, labels: str | None) -> None:
    """Push the alert again with endsAt=now, as Prometheus does when a condition clears.

    Example: When the alert "DiskFull" is resolved in Alertmanager with labels severity=critical, team=ops
    """
    drill.push_alert(alertname, parse_labels(labels or ""), resolved=True)


@when(rx(r"every pushed alert is resolved in Alertmanager"))
def pushed_alerts_resolved(drill: Drill) -> None:
    """Resolve every alert the scenario pushed (endsAt=now), as Prometheus does when the
    conditions clear; an anchor.

    Example: When every pushed alert is resolved in Alertmanager
    """
    drill.resolve_pushed_alerts()


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


@when(rx(r"every alerting rule's alert(?: but (?P<alertnames>.+?))? is pushed to Alertmanager"),
      target_fixture="pushed_rules")
def rule_alerts_pushed(drill: Drill, alertnames: str | None) -> list[dict[str, str]]:
    """One alert per alerting rule of the stack, labelled as Prometheus would label it; "but"
    leaves some out (an alert whose inhibit rule would hide all the others).

    Example: When every alerting rule's alert but "NodeDown" is pushed to Alertmanager
    """
    return drill.push_rule_alerts(frozenset(parse_names(alertnames)) if alertnames else frozenset())


@then(rx(rf"Alertmanager routes them as follows within {DURATION}:"))
def routing_table(drill: Drill, pushed_rules: list[dict[str, str]], datatable: list[list[str]],
                  duration: str) -> None:
    """Each row (alert, severity, receivers) is routed to exactly those receivers, and every
    pushed alert has a row. A table: | alert | severity | receivers |

    Example: Then Alertmanager routes them as follows within 1 minute:
    """
    header, *rows = datatable
    columns = [c.strip().lower() for c in header]
    if "alert" not in columns or "receivers" not in columns:
        raise StepError("the routing table needs the columns | alert | receivers | (and any "
                        "label columns, e.g. severity)")
    expected = []
    for row in rows:
        cells = dict(zip(columns, (c.strip() for c in row), strict=True))
        labels = {k: v for k, v in cells.items() if k not in ("alert", "receivers") and v}
        expected.append((cells["alert"], labels, set(cell_names(cells["receivers"]))))
    drill.expect.routing_table(expected, parse_human(duration), pushed_rules)


@then(rx(rf"exactly these alerts are inhibited within {DURATION}:"))
def inhibition_table(drill: Drill, datatable: list[list[str]], duration: str) -> None:
    """Every row's alert is inhibited on some peer, and no other alert is, for the whole
    window. A table: | alert | and label columns (an empty cell: any value).

    Example: Then exactly these alerts are inhibited within 3 minutes:
    """
    header, *rows = datatable
    columns = [c.strip().lower() for c in header]
    if not columns or columns[0] != "alert":
        raise StepError("the inhibition table's first column is | alert | (then label columns)")
    parsed = []
    for row in rows:
        cells = [c.strip() for c in row]
        parsed.append(InhibitedRow(cells[0], {k: v for k, v in zip(columns[1:], cells[1:],
                                                                    strict=True) if v}))
    drill.expect.inhibited_exactly(parsed, parse_human(duration))


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
