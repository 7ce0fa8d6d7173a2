"""Then-steps about notifications: who got what, when, and how many times."""

from __future__ import annotations

from pytest_bdd import then

from alertdrill.durations import parse_human
from alertdrill.engine.deliverytable import DeliveryTable, parse_integrations
from alertdrill.engine.drill import Drill
from alertdrill.engine.matches import NotificationMatch
from alertdrill.engine.stepsyntax import parse_labels, parse_names
from alertdrill.errors import StepError
from alertdrill.sink.integrations import step_pattern

from .patterns import DURATION, quoted, rx

_INTEGRATION = step_pattern()
#: "via slack", or one integration of its kind by position: "via webhook[1]".
_VIA = rf"(?: via {step_pattern(indexed=True)})?"
#: Labels stop before the count and status words of the steps below, so that no text
#: matches two steps ("… with labels x=1 exactly once within …" is the count step's).
_LABELS = r"(?: with labels (?P<labels>(?:(?! exactly | at least | as (?:firing|resolved) ).)+?))?"
#: The alert's own status inside the notification ("sent as firing").
_AS = r"(?: as (?P<status>firing|resolved))?"


def _match(receiver: str | None, alertname: str, status: str | None, integration: str | None,
           labels: str | None, index: str | None = None, per_alert: bool = False
           ) -> NotificationMatch:
    return NotificationMatch(receiver, alertname, status, integration,
                             tuple(sorted(parse_labels(labels or "").items())),
                             int(index) if index else None, per_alert)


@then(rx(rf"{quoted('receiver')} is notified{_VIA} of {quoted('alertname')}{_LABELS} "
         rf"within {DURATION}"))
def notified(drill: Drill, receiver: str, integration: str | None, index: str | None,
             alertname: str, labels: str | None, duration: str) -> None:
    """The receiver gets a firing notification of the alert within the SLA.

    Without "via", this is Alertmanager's routing decision (the harness's probe webhook on
    the receiver); "via slack" etc. checks the real integration's own delivery. "with labels"
    requires a notified alert carrying them (structured notifications only).

    Example: Then "team-web" is notified via slack of "TargetDown" within 3 minutes
    """
    drill.expect.notified(_match(receiver, alertname, "firing", integration, labels, index),
                          parse_human(duration))


@then(rx(rf"{quoted('receiver')} is notified{_VIA} that {quoted('alertname')}{_LABELS} resolved "
         rf"within {DURATION}"))
def notified_resolved(drill: Drill, receiver: str, integration: str | None, index: str | None,
                      alertname: str, labels: str | None, duration: str) -> None:
    """The receiver gets the resolved notification within the SLA (from the last action).

    Example: Then "team-web" is notified that "TargetDown" resolved within 3 minutes
    """
    drill.expect.notified(_match(receiver, alertname, "resolved", integration, labels, index),
                          parse_human(duration))


@then(rx(rf"{quoted('receiver')} is notified{_VIA} of {quoted('alertname')}{_LABELS} between "
         rf"(?P<earliest>\d+(?:\.\d+)?) and {DURATION}"))
def notified_between(drill: Drill, receiver: str, integration: str | None, index: str | None,
                     alertname: str, labels: str | None, earliest: str, duration: str) -> None:
    """The first firing notification comes no earlier and no later than stated (a schedule).

    Both bounds count from the last action and share the unit of the second one.

    Example: Then "escalation-level-2" is notified of "WebAppDown" between 15 and 19 minutes
    """
    latest = parse_human(duration)
    unit = duration.lstrip("0123456789. ")
    drill.expect.notified_between(_match(receiver, alertname, "firing", integration, labels, index),
                                  parse_human(f"{earliest} {unit}"), latest)


@then(rx(rf"{quoted('receiver')} is notified{_VIA} of {quoted('alertname')}{_LABELS}{_AS} at least "
         rf"(?P<times>once|twice|\d+ times) within {DURATION}"))
def notified_at_least(drill: Drill, receiver: str, integration: str | None, index: str | None,
                      alertname: str, labels: str | None, status: str | None, times: str,
                      duration: str) -> None:
    """At least N firing notifications (repeats included) reach the receiver in the window.

    Takes "via INTEGRATION[i]" and "with labels" like the notified step; "as firing"/"as resolved" counts notifications in which the alert itself (with the labels)
    has that status — a resolved alert inside a still-firing group is not sent as firing.

    Example: Then "dev-critical" is notified of "WebAppDown" at least twice within 12 minutes
    """
    drill.expect.notified_at_least(
        _match(receiver, alertname, status or "firing", integration, labels, index, bool(status)),
        _times(times), parse_human(duration))


@then(rx(rf"{quoted('receiver')} is never notified{_VIA} of {quoted('alertname')}{_LABELS}{_AS} "
         rf"within {DURATION}"))
def never_notified(drill: Drill, receiver: str, integration: str | None, index: str | None,
                   alertname: str, labels: str | None, status: str | None, duration: str) -> None:
    """No notification of the alert reaches the receiver during the whole window (waited out).

    "as firing" allows notifications in which the alert (with the labels) is resolved: an
    inhibited alert is never sent as firing, yet rightly comes in the resolved batch.

    Example: Then "dev-backend" is never notified of "APIHighErrorRate" with labels severity=warning as firing within 3 minutes
    """
    drill.expect.never_notified(
        _match(receiver, alertname, status, integration, labels, index, bool(status)),
        parse_human(duration))


@then(rx(rf"{quoted('receiver')} is notified{_VIA} of {quoted('alertname')}{_LABELS}{_AS} exactly "
         rf"(?P<times>once|twice|\d+ times) within {DURATION}"))
def notified_exactly(drill: Drill, receiver: str, integration: str | None, index: str | None,
                     alertname: str, labels: str | None, status: str | None, times: str,
                     duration: str) -> None:
    """Exactly N firing notifications of the alert reach the receiver in the window.

    Takes "via INTEGRATION[i]", "with labels" and "as firing"/"as resolved" like the others.

    Example: Then "oncall-pager" is notified via webhook[1] of "TargetDown" as firing exactly once within 3 minutes
    """
    drill.expect.notified_exactly(
        _match(receiver, alertname, status or "firing", integration, labels, index, bool(status)),
        _times(times), parse_human(duration))


@then(rx(rf"only (?P<receivers>.+) (?:is|are) notified of {quoted('alertname')} "
         rf"within {DURATION}"))
def only_receivers(drill: Drill, receivers: str, alertname: str, duration: str) -> None:
    """The alert reaches every receiver named and no other one, within the window.

    Example: Then only "oncall-pager" and "web-frontend" are notified of "CheckoutSlow" within 3 minutes
    """
    drill.expect.only_receivers(parse_names(receivers), alertname, parse_human(duration))


@then(rx(rf"every group of {quoted('alertname')} is delivered exactly once "
         rf"within {DURATION}"))
def once_per_group(drill: Drill, alertname: str, duration: str) -> None:
    """Across all Alertmanager peers, each (receiver, group) gets the firing alert once.

    Example: Then every group of "TargetDown" is delivered exactly once within 3 minutes
    """
    drill.expect.once_per_group(alertname, parse_human(duration))


@then(rx(rf"every group of {quoted('alertname')} is delivered at least (?P<low>once|twice|\d+ times) "
         rf"and at most (?P<high>once|twice|\d+ times) within {DURATION}"
         r"(?P<first> of the first action)?"))
def per_group_between(drill: Drill, alertname: str, low: str, high: str, duration: str,
                      first: str | None) -> None:
    """Each (receiver, group) gets the firing alert within those bounds; the duplicates seen
    are recorded on the timeline and in the report whatever the verdict (at-least-once under
    faults). "of the first action" counts over the whole incident, not from the last action.

    Example: Then every group of "TargetDown" is delivered at least once and at most twice within 8 minutes of the first action
    """
    if first:
        with drill.expect.from_first_action():
            drill.expect.per_group(alertname, _times(low), _times(high), parse_human(duration))
    else:
        drill.expect.per_group(alertname, _times(low), _times(high), parse_human(duration))


@then(rx(rf"{quoted('receiver')} is notified of {quoted('alertname')} at least "
         rf"(?P<times>once|twice|\d+ times) within {DURATION}, never twice within "
         rf"(?P<gap>\d+(?:\.\d+)?\s*[a-z]+)"))
def repeated(drill: Drill, receiver: str, alertname: str, times: str, duration: str,
             gap: str) -> None:
    """An unresolved alert is re-sent (its repeat_interval), and never more often than stated.

    Example: Then "dev-critical" is notified of "WebAppDown" at least 3 times within 17 minutes, never twice within 5 minutes
    """
    drill.expect.repeats(NotificationMatch(receiver, alertname), _times(times),
                         parse_human(gap), parse_human(duration))


def _times(text: str) -> int:
    return {"once": 1, "twice": 2}.get(text) or int(text.split()[0])
@then(rx(rf"every group of {quoted('alertname')} is delivered at most "
         rf"(?P<times>once|twice|\d+ times) within {DURATION}"))
def at_most_per_group(drill: Drill, alertname: str, times: str, duration: str) -> None:
    """Each (receiver, group) gets the alert at least once, at most N times; prints duplicates.

    Counted across all peers, the window waited out. Under a partition Alertmanager fails
    open: one notification per side of the split.

    Example: Then every group of "TargetDown" is delivered at most twice within 3 minutes
    """
    groups = drill.expect.per_group(alertname, 1, _times(times), parse_human(duration))
    duplicates = sum(n - 1 for n in groups.values())
    print(f'alertdrill: {len(groups)} group(s) of "{alertname}", {sum(groups.values())} '
          f"notification(s), {duplicates} duplicate(s): "
          + ", ".join(f"{r} {n}x" for (r, _g), n in sorted(groups.items())))


@then(rx(rf"Alertmanager counts failed {_INTEGRATION} notification(?P<attempts> attempts|s) "
         rf"within {DURATION}"))
def failed_notifications_counted(drill: Drill, integration: str, attempts: str,
                                 duration: str) -> None:
    """Alertmanager's failure counter for the integration rises above 0 (summed over peers).

    "notification attempts" reads alertmanager_notification_requests_failed_total (every failed
    request); "notifications" reads alertmanager_notifications_failed_total, which counts a
    notification only once all its retries failed (after at least 10 s, Alertmanager's unscaled
    minimum notify timeout).

    Example: Then Alertmanager counts failed slack notification attempts within 2 minutes
    """
    per_attempt = attempts.strip() == "attempts"
    metric = ("alertmanager_notification_requests_failed_total" if per_attempt
              else "alertmanager_notifications_failed_total")

    def check() -> str | None:
        failed = drill.failed_notifications(integration, attempts=per_attempt)
        return f'{metric}{{integration="{integration}"}} = {failed:g}' if failed > 0 else None

    drill.expect.eventually(f"{metric}{{integration=\"{integration}\"}} > 0", check,
                            parse_human(duration))


@then(rx(rf"the (?P<status>firing|resolved) notifications go through exactly these integrations "
         rf"within {DURATION}:"))
def delivery_table(drill: Drill, status: str, datatable: list[list[str]], duration: str) -> None:
    """Each receiver of the table delivers through exactly its integrations, every other
    receiver through none, for the whole window. A table: | receiver | integrations |

    Integrations: slack, email, pagerduty, webhook[1] … (comma-separated; none for none). The
    check of every integration's ``send_resolved`` at once, after every pushed alert resolved.

    Example: Then the resolved notifications go through exactly these integrations within 6 minutes:
    """
    header, *rows = datatable
    columns = [c.strip().lower() for c in header]
    if columns != ["receiver", "integrations"]:
        raise StepError("the delivery table needs exactly the columns | receiver | integrations |")
    table: dict[str, frozenset[tuple[str, int]]] = {}
    for receiver, cell in ((r[0].strip(), r[1]) for r in rows):
        if receiver in table:
            raise StepError(f"the delivery table has two rows for {receiver!r}")
        table[receiver] = parse_integrations(cell)
    claimed = DeliveryTable(status, table)
    claimed.check_names(drill.integrations_of_receivers())
    drill.expect.delivery_table(claimed, parse_human(duration))
