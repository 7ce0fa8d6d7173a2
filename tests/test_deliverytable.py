"""The delivery table (which integrations of which receivers deliver), as pure logic."""

from __future__ import annotations

import pytest

from alertdrill.engine import timeline as tl
from alertdrill.engine.deliverytable import (
    DeliveryTable,
    delivered,
    differences,
    parse_integrations,
)
from alertdrill.engine.matches import Window
from alertdrill.engine.timeline import Event
from alertdrill.errors import StepError
from alertdrill.sink.integrations import receiver_integrations

WINDOW = Window(10.0, 16.5, 360.0, 6.0, 0.5, "resolve")


def note(t: float, receiver: str, integration: str, index: int = 0, status: str | None = None,
         code: int = 200) -> Event:
    return Event(t, tl.NOTIFICATION, receiver, detail={
        "integration": integration, "index": index, "status": status, "response_code": code,
        "alertnames": ["X"]})


def test_integrations_are_read_by_word_and_position() -> None:
    assert parse_integrations("slack, webhook[1] and email") == {
        ("slack", 0), ("webhook", 1), ("email", 0)}
    assert parse_integrations("webhook[0]") == parse_integrations("webhook")
    assert parse_integrations("none") == parse_integrations("") == frozenset()
    with pytest.raises(StepError, match="cannot read the integration 'slack!'"):
        parse_integrations("slack!")


def test_only_the_window_the_status_and_real_deliveries_count() -> None:
    events = [
        note(9.0, "ops", "slack"),                       # before the window
        note(11.0, "ops", "slack"),                      # status unknown: counts
        note(11.0, "ops", "pagerduty", status="firing"),  # the other status
        note(11.5, "ops", "webhook", 1, "resolved"),
        note(12.0, "ops", "email", code=500),            # a failed attempt
        note(12.0, "ops", "probe", status="resolved"),   # the harness's own webhook
        note(12.0, "ticket-service", "jira"),            # not a receiver's integration
        note(17.0, "dev", "slack", status="resolved"),   # after the window
    ]
    assert delivered(events, "resolved", WINDOW) == {"ops": {("slack", 0), ("webhook", 1)}}


def test_differences_name_the_missing_and_the_unexpected() -> None:
    table = DeliveryTable("resolved", {"ops": frozenset({("slack", 0), ("pagerduty", 0)}),
                                       "dev": frozenset()})
    assert differences(table, {"ops": {("slack", 0), ("pagerduty", 0)}}) == []
    lines = differences(table, {"ops": {("slack", 0), ("email", 0)}, "dba": {("slack", 0)}})
    assert lines == [
        "    dba: expected none, delivered slack — unexpected slack (no row for this receiver)",
        "    ops: expected pagerduty, slack, delivered email, slack — missing pagerduty; "
        "unexpected email",
    ]


def test_names_in_the_table_are_the_stacks() -> None:
    known = receiver_integrations({"receivers": [
        {"name": "ops", "slack_configs": [{}], "webhook_configs": [{}, {}]}, {"name": "null"}]})
    assert known == {"ops": frozenset({("slack", 0), ("webhook", 0), ("webhook", 1)}),
                     "null": frozenset()}
    DeliveryTable("firing", {"ops": frozenset({("webhook", 1)})}).check_names(known)
    with pytest.raises(StepError, match=r"no receiver 'opz'.*did you mean 'ops'"):
        DeliveryTable("firing", {"opz": frozenset()}).check_names(known)
    with pytest.raises(StepError, match=r"'ops' has no integration webhook\[2\]"):
        DeliveryTable("firing", {"ops": frozenset({("webhook", 2)})}).check_names(known)
