"""Then-steps about tickets: what the ticket service created through the Jira REST API."""

from __future__ import annotations

from pytest_bdd import then

from alertdrill.durations import parse_human
from alertdrill.engine.contentmatch import FIELD_OPS, FieldCheck
from alertdrill.engine.drill import Drill
from alertdrill.engine.matches import TicketMatch
from alertdrill.sink.integrations import fields_of

from .patterns import DURATION, quoted, rx


@then(rx(rf"a ticket is opened(?: in project {quoted('project')})? for {quoted('alertname')} "
         rf"within {DURATION}"))
def ticket_opened(drill: Drill, project: str | None, alertname: str, duration: str) -> None:
    """The ticket service creates a Jira ticket for the alert (in that project) within the SLA.

    Example: Then a ticket is opened in project "DEV" for "WebAppDown" within 3 minutes
    """
    drill.expect.notified(TicketMatch(alertname, project), parse_human(duration))


@then(rx(rf"exactly (?P<times>one|\d+) tickets? (?:is|are) opened for {quoted('alertname')} "
         rf"within {DURATION}"))
def tickets_exactly(drill: Drill, times: str, alertname: str, duration: str) -> None:
    """Exactly N tickets for the alert in the whole window (waited out): repeats and other
    receivers must not open more.

    Example: Then exactly one ticket is opened for "WebAppDown" within 15 minutes
    """
    count = 1 if times == "one" else int(times)
    drill.expect.notified_exactly(TicketMatch(alertname), count, parse_human(duration))


@then(rx(rf"no ticket is opened for {quoted('alertname')} within {DURATION}"))
def no_ticket(drill: Drill, alertname: str, duration: str) -> None:
    """No ticket for the alert during the whole window (waited out).

    Example: Then no ticket is opened for "APISlowResponse" within 12 minutes
    """
    drill.expect.never_notified(TicketMatch(alertname), parse_human(duration))


_TICKET_FIELD = rf"(?P<ticket_field>{'|'.join(fields_of('jira'))})"
_OP = rf"(?P<op>{'|'.join(sorted(FIELD_OPS, key=len, reverse=True))})"


@then(rx(rf"the {_TICKET_FIELD} of the ticket(?: in project {quoted('project')})? for "
         rf"{quoted('alertname')} {_OP} " r'"(?P<text>.*)"' rf" within {DURATION}"))
def ticket_field(drill: Drill, ticket_field: str, project: str | None, alertname: str, op: str,
                 text: str, duration: str) -> None:
    """What the ticket says (its Jira summary, description, project or labels) holds the text.

    Example: Then the description of the ticket in project "DEV" for "WebAppDown" contains "runbooks/web-app-down" within 3 minutes
    """
    drill.expect.notification_field(TicketMatch(alertname, project),
                                    FieldCheck(ticket_field, op, text), parse_human(duration))
