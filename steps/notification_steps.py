"""Then-steps about notifications: who got what, when, and how many times."""

from __future__ import annotations

from pytest_bdd import then

from alertdrill.durations import parse_human
from alertdrill.engine.drill import Drill
from alertdrill.engine.matches import NotificationMatch
from alertdrill.engine.stepsyntax import parse_labels, parse_names
from alertdrill.sink.integrations import step_pattern

from .patterns import DURATION, quoted, rx

_INTEGRATION = step_pattern()
_VIA = rf"(?: via {_INTEGRATION})?"
_LABELS = r"(?: with labels (?P<labels>.+?))?"


def _match(receiver: str | None, alertname: str, status: str | None, integration: str | None,
           labels: str | None) -> NotificationMatch:
    return NotificationMatch(receiver, alertname, status, integration,
                             tuple(sorted(parse_labels(labels or "").items())))


@then(rx(rf"{quoted('receiver')} is notified{_VIA} of {quoted('alertname')}{_LABELS} "
         rf"within {DURATION}"))
def notified(drill: Drill, receiver: str, integration: str | None, alertname: str,
             labels: str | None, duration: str) -> None:
    """The receiver gets a firing notification of the alert within the SLA.

    Without "via", this is Alertmanager's routing decision (the harness's probe webhook on
    the receiver); "via slack" etc. checks the real integration's own delivery. "with labels"
    requires a notified alert carrying them (structured notifications only).

    Example: Then "team-web" is notified via slack of "TargetDown" within 3 minutes
    """
    drill.expect.notified(_match(receiver, alertname, "firing", integration, labels),
                          parse_human(duration))


@then(rx(rf"{quoted('receiver')} is notified{_VIA} that {quoted('alertname')}{_LABELS} resolved "
         rf"within {DURATION}"))
def notified_resolved(drill: Drill, receiver: str, integration: str | None, alertname: str,
                      labels: str | None, duration: str) -> None:
    """The receiver gets the resolved notification within the SLA (from the last action).

    Example: Then "team-web" is notified that "TargetDown" resolved within 3 minutes
    """
    drill.expect.notified(_match(receiver, alertname, "resolved", integration, labels),
                          parse_human(duration))


@then(rx(rf"{quoted('receiver')} is notified{_VIA} of {quoted('alertname')}{_LABELS} between "
         rf"(?P<earliest>\d+(?:\.\d+)?) and {DURATION}"))
def notified_between(drill: Drill, receiver: str, integration: str | None, alertname: str,
                     labels: str | None, earliest: str, duration: str) -> None:
    """The first firing notification comes no earlier and no later than stated (a schedule).

    Both bounds count from the last action and share the unit of the second one.

    Example: Then "escalation-level-2" is notified of "WebAppDown" between 15 and 19 minutes
    """
    latest = parse_human(duration)
    unit = duration.lstrip("0123456789. ")
    drill.expect.notified_between(_match(receiver, alertname, "firing", integration, labels),
                                  parse_human(f"{earliest} {unit}"), latest)


@then(rx(rf"{quoted('receiver')} is notified of {quoted('alertname')} at least "
         rf"(?P<times>once|twice|\d+ times) within {DURATION}"))
def notified_at_least(drill: Drill, receiver: str, alertname: str, times: str,
                      duration: str) -> None:
    """At least N firing notifications (repeats included) reach the receiver in the window.

    Example: Then "dev-critical" is notified of "WebAppDown" at least twice within 12 minutes
    """
    drill.expect.notified_at_least(NotificationMatch(receiver, alertname), _times(times),
                                   parse_human(duration))


@then(rx(rf"{quoted('receiver')} is never notified of {quoted('alertname')} "
         rf"within {DURATION}"))
def never_notified(drill: Drill, receiver: str, alertname: str, duration: str) -> None:
    """No notification of the alert reaches the receiver during the whole window (waited out).

    Example: Then "team-db" is never notified of "TargetDown" within 3 minutes
    """
    drill.expect.never_notified(NotificationMatch(receiver, alertname, None),
                                parse_human(duration))


@then(rx(rf"{quoted('receiver')} is notified of {quoted('alertname')} exactly "
         rf"(?P<times>once|twice|\d+ times) within {DURATION}"))
def notified_exactly(drill: Drill, receiver: str, alertname: str, times: str,
                     duration: str) -> None:
    """Exactly N firing notifications of the alert reach the receiver in the window.

    Example: Then "oncall-pager" is notified of "TargetDown" exactly once within 3 minutes
    """
    drill.expect.notified_exactly(NotificationMatch(receiver, alertname), _times(times),
                                  parse_human(duration))


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
