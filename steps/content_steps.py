"""Then-steps about what a notification holds: the text a human reads, and its exact alerts."""

from __future__ import annotations

from pytest_bdd import then

from alertdrill.durations import parse_human
from alertdrill.engine.contentmatch import FIELD_OPS, FieldCheck, parse_alert_table
from alertdrill.engine.drill import Drill
from alertdrill.engine.matches import NotificationMatch
from alertdrill.engine.stepsyntax import parse_labels
from alertdrill.sink.integrations import FIELD_WORDS, step_pattern

from .patterns import DURATION, quoted, rx

_FIELD = rf"(?P<field>{'|'.join(FIELD_WORDS)})"
_OP = rf"(?P<op>{'|'.join(sorted(FIELD_OPS, key=len, reverse=True))})"
_KIND = r"(?:(?P<status>firing|resolved) )?"
_LABELS = r"(?: with labels (?P<labels>.+?))?"


def _match(receiver: str, alertname: str, status: str | None, integration: str | None,
           index: str | None, labels: str | None, default: str | None) -> NotificationMatch:
    return NotificationMatch(receiver, alertname, status or default, integration,
                             tuple(sorted(parse_labels(labels or "").items())),
                             int(index) if index else None)


@then(rx(rf"the {_FIELD} of the {_KIND}{step_pattern(indexed=True)} notification to "
         rf"{quoted('receiver')} of {quoted('alertname')}{_LABELS} {_OP} "
         rf'"(?P<text>.*)" within {DURATION}'))
def notification_field(drill: Drill, field: str, status: str | None, integration: str,
                       index: str | None, receiver: str, alertname: str, labels: str | None,
                       op: str, text: str, duration: str) -> None:
    """A field a human reads in the message contains, does not contain, is, or matches the text.

    Fields: Slack title/text, e-mail subject/body, PagerDuty summary/severity/details/links,
    webhook fields, … (README › Message content); "matches" takes a regex. A firing
    notification unless "resolved" is said; "does not contain" holds when one arrived in the
    window and none of them has it.

    Example: Then the links of the pagerduty notification to "executive-escalation" of "WebAppDown" contain "runbooks/web-app-down" within 3 minutes
    """
    drill.expect.notification_field(
        _match(receiver, alertname, status, integration, index, labels, "firing"),
        FieldCheck(field, op, text), parse_human(duration))


@then(rx(rf"{quoted('receiver')} gets a {_KIND}notification"
         rf"(?: via {step_pattern(indexed=True)})? of {quoted('alertname')} holding exactly "
         rf"these alerts within {DURATION}:"))
def notification_alerts(drill: Drill, receiver: str, status: str | None, integration: str | None,
                        index: str | None, alertname: str, duration: str,
                        datatable: list[list[str]]) -> None:
    """A structured notification (the probe, or via webhook) holds exactly one alert per row.

    And no other alert. Columns: alertname and other labels, status (the alert's own),
    annotations (name="value", …), startsAt / endsAt as offsets from the latest action
    (-10 minutes, +5 minutes; endsAt none), generatorURL. Empty cells are not checked.

    Example: Then "ops-team" gets a firing notification of "DiskFull" holding exactly these alerts within 11 minutes:
    """
    drill.expect.notification_alerts(
        _match(receiver, alertname, status, integration, index, None, None),
        parse_alert_table(datatable), parse_human(duration))
