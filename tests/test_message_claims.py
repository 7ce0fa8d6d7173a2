"""Issue 14 items 1–4 without a stack: the grammar of timed pushes and content claims, what a
human reads in each integration's payload, exact alert sets, per-alert status, integrations by
position (claims, sink faults, the name check)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alertdrill.engine import timeline as tl
from alertdrill.engine.claimnames import ParsedStep, StackNames, problems, stack_names
from alertdrill.engine.contentmatch import (
    AlertRow,
    FieldCheck,
    alert_set_problem,
    parse_alert_table,
    parse_offset,
)
from alertdrill.engine.expect import Expect
from alertdrill.engine.matches import NotificationMatch, TicketMatch
from alertdrill.engine.push import DEFAULT_VALIDITY, AlertPush
from alertdrill.engine.readable import read_field, read_path, render
from alertdrill.engine.stackspec import StackSpec
from alertdrill.engine.timeline import Timeline
from alertdrill.engine.timescale import TimeScale
from alertdrill.engine.vocabulary import loaded_steps
from alertdrill.errors import ExpectationFailed, StepError
from alertdrill.sink.integrations import INTEGRATIONS, RECEIVER_INTEGRATIONS, fields_of
from alertdrill.sink.protocol import Destination
from alertdrill.sink.records import Delivery, Fault, NotifiedAlert
from tests.helpers import ROOT

NOW = datetime(2026, 12, 2, 4, 0, 0, tzinfo=UTC)
SCALE = TimeScale(60)


# -- item 1: pushes with their own timing ---------------------------------------------------
def test_a_push_without_timing_is_what_it_always_was() -> None:
    alert = AlertPush("DiskFull", {"severity": "critical"}).payload(NOW, SCALE)
    assert alert == {"labels": {"alertname": "DiskFull", "severity": "critical"},
                     "annotations": {}, "startsAt": NOW.isoformat(),
                     "endsAt": (NOW + timedelta(seconds=DEFAULT_VALIDITY)).isoformat()}


def test_start_and_end_offsets_are_real_world_and_scaled() -> None:
    alert = AlertPush("DiskFull", started_ago=600, ends_in=300,
                      annotations={"summary": "disk full"},
                      generator_url="http://prom/graph").payload(NOW, SCALE)
    assert alert["startsAt"] == (NOW - timedelta(seconds=10)).isoformat()  # 10 min at K=60
    assert alert["endsAt"] == (NOW + timedelta(seconds=5)).isoformat()
    assert alert["annotations"] == {"summary": "disk full"}
    assert alert["generatorURL"] == "http://prom/graph"


def test_no_end_sends_no_ends_at_so_resolve_timeout_applies() -> None:
    alert = AlertPush("DiskFull", no_end=True).payload(NOW, SCALE)
    assert "endsAt" not in alert
    resolved = AlertPush("DiskFull", resolved=True).payload(NOW, SCALE)
    assert resolved["endsAt"] == NOW.isoformat()


@pytest.mark.parametrize("kwargs", [
    {"ends_in": 60.0, "no_end": True}, {"no_end": True, "resolved": True},
    {"started_ago": -1.0}, {"ends_in": 0.0}, {"labels": {"alertname": "X"}},
])
def test_contradictory_timing_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(StepError):
        AlertPush("DiskFull", **kwargs)  # type: ignore[arg-type]


def _step(text: str) -> tuple[str, dict[str, str | None]]:
    """The one step pattern ``text`` matches, and its groups (the test fails on two)."""
    owners = [s for s in loaded_steps() if s.matches(text)]
    assert len(owners) == 1, f"{text!r} matches {[s.pattern for s in owners]}"
    match = re.fullmatch(owners[0].pattern, text)
    assert match is not None
    return owners[0].pattern, match.groupdict()


def test_the_push_grammar_reads_every_clause() -> None:
    _, groups = _step('the alert "DiskFull" is pushed to Alertmanager with labels severity=critical, '
                      'team=ops, with annotations summary="disk, full", runbook_url="https://x/y", '
                      'with generator URL "http://prom/graph?g0.expr=up", started 10 minutes ago, '
                      "ending in 5 minutes")
    assert groups["labels"] == "severity=critical, team=ops"
    assert groups["annotations"] == 'summary="disk, full", runbook_url="https://x/y"'
    assert groups["generator_url"] == "http://prom/graph?g0.expr=up"
    assert (groups["started"], groups["ending"], groups["no_end"]) == ("10 minutes", "5 minutes", None)
    _, groups = _step('the alert "DiskFull" is pushed to Alertmanager with labels a=1, with no end')
    assert (groups["labels"], groups["no_end"]) == ("a=1", "with no end")
    _, groups = _step('the alert "DiskFull" is pushed to Alertmanager with labels a=1, b="x y"')
    assert groups["labels"] == 'a=1, b="x y"' and groups["started"] is None


# -- item 2: what a human reads ---------------------------------------------------------------
SLACK = {"channel": "#ops", "attachments": [{"title": "🔴 CRITICAL", "text": "Runbook: https://r"}]}
PAGERDUTY = {"event_action": "trigger", "payload": {"summary": "WebAppDown: web:80",
                                                   "severity": "critical",
                                                   "custom_details": {"runbook": "https://r",
                                                                      "num_firing": "1"}},
             "links": [{"href": "https://r", "text": "Runbook"}]}
EMAIL = {"subject": "[OPS] DiskFull", "text": "", "html": "<html><body><h1>DiskFull</h1>"
         "<p><b>DiskFull</b> on db-1: full</p></body></html>", "headers": {}}


def test_every_integration_declares_what_a_human_reads() -> None:
    """Adding an integration is one entry: its fields come with it (the probe: webhook's)."""
    for integration in RECEIVER_INTEGRATIONS:
        assert integration.fields, integration.name
    assert fields_of("jira") and fields_of("nope") == {}
    assert all(word.strip() == word and word for i in INTEGRATIONS for word, _ in i.fields)


def test_fields_are_read_from_the_recorded_payloads() -> None:
    assert read_field("slack", SLACK, "title") == "🔴 CRITICAL"
    assert read_field("slack", SLACK, "text") == "Runbook: https://r"
    assert read_field("slack", {"text": "plain"}, "text") == "plain"  # no attachments
    assert read_field("pagerduty", PAGERDUTY, "summary") == "WebAppDown: web:80"
    assert read_field("pagerduty", PAGERDUTY, "severity") == "critical"
    assert read_field("pagerduty", PAGERDUTY, "details") == "runbook: https://r\nnum_firing: 1"
    assert read_field("pagerduty", PAGERDUTY, "links") == "Runbook https://r"
    assert read_field("email", EMAIL, "subject") == "[OPS] DiskFull"
    assert read_field("email", EMAIL, "body") == "DiskFull\nDiskFull on db-1: full"
    assert read_field("webhook", {"commonLabels": {"team": "ops"}}, "common labels") == "team: ops"
    with pytest.raises(StepError, match=r"(?s)no field 'subject'.*slack fields: title"):
        read_field("slack", SLACK, "subject")


def test_paths_take_the_first_alternative_that_is_not_empty() -> None:
    assert read_path({"a": [{"b": 1}]}, "a[0].b") == 1
    assert read_path({"a": []}, "a[0].b|c") is None
    assert read_path({"a": "", "c": "x"}, "a|c") == "x"
    assert render(None) == "" and render(True) == "true" and render([1, "a"]) == "1\na"


def test_field_checks_hold_and_fail() -> None:
    assert FieldCheck("text", "contains", "Runbook").holds("Runbook: x")
    assert not FieldCheck("text", "contains", "Runbook").holds("no link")
    assert FieldCheck("text", "does not contain", "<no value>").holds("fine")
    assert not FieldCheck("text", "does not contain", "<no value>").holds("x <no value>")
    assert FieldCheck("subject", "is", "[OPS] X").holds(" [OPS] X ")
    assert not FieldCheck("subject", "is", "[OPS] X").holds("[OPS] X Y")
    assert FieldCheck("subject", "matches", r"\[OPS\] \w+").holds("[OPS] DiskFull")
    with pytest.raises(StepError, match="cannot read the pattern"):
        FieldCheck("subject", "matches", "(")


# -- item 2: the exact set of alerts ----------------------------------------------------------
def _alert(instance: str, status: str = "firing", starts: str = "", ends: str = "",
           **annotations: str) -> NotifiedAlert:
    return NotifiedAlert({"alertname": "DiskFull", "instance": instance}, dict(annotations),
                         status, starts, ends, instance)  # type: ignore[arg-type]


def _offset(stamp: str) -> float | None:
    return None if not stamp else float(stamp)


def test_the_alert_table_is_read_with_its_reserved_columns() -> None:
    rows = parse_alert_table([
        ["alertname", "instance", "status", "annotations", "startsAt", "endsAt"],
        ["DiskFull", "db-1", "firing", 'summary="disk full"', "-10 minutes", "none"],
        ["DiskFull", "db-2", "resolved", "", "", "+5 minutes"],
    ])
    assert rows == [
        AlertRow({"alertname": "DiskFull", "instance": "db-1"}, "firing", {"summary": "disk full"},
                 -600.0, None, True),
        AlertRow({"alertname": "DiskFull", "instance": "db-2"}, "resolved", {}, None, 300.0),
    ]
    assert parse_offset("+1.5 min") == 90.0
    for bad in (["instance"], ["alertname", "status"], ["alertname", "startsAt"]):
        table = [bad, ["x"] * len(bad)] if bad != ["instance"] else [bad, ["x"]]
        if bad == ["alertname", "status"]:
            table = [bad, ["X", "pending"]]
        elif bad == ["alertname", "startsAt"]:
            table = [bad, ["X", "10 minutes"]]  # an offset needs its sign
        with pytest.raises(StepError):
            parse_alert_table(table)


def test_an_alert_set_must_match_row_for_row() -> None:
    rows = [AlertRow({"instance": "db-1"}, "firing"), AlertRow({"instance": "db-2"}, "resolved")]
    both = [_alert("db-1"), _alert("db-2", "resolved")]
    assert alert_set_problem(rows, both, _offset, 30.0) is None
    assert alert_set_problem(rows, list(reversed(both)), _offset, 30.0) is None
    problem = alert_set_problem(rows, [_alert("db-1"), _alert("db-2")], _offset, 30.0)
    assert problem is not None and "no alert for {instance=db-2} resolved" in problem
    extra = alert_set_problem(rows, [*both, _alert("db-3")], _offset, 30.0)
    assert extra is not None and "alerts no row describes: {alertname=DiskFull, instance=db-3}" in extra
    missing = alert_set_problem(rows, both[:1], _offset, 30.0)
    assert missing is not None and "no alert for {instance=db-2}" in missing


def test_a_row_that_fits_two_alerts_still_needs_one_alert_per_row() -> None:
    loose = [AlertRow({"alertname": "DiskFull"}), AlertRow({"instance": "db-1"})]
    alerts = [_alert("db-1"), _alert("db-2")]
    assert alert_set_problem(loose, alerts, _offset, 1.0) is None  # db-2 ↔ row 1, db-1 ↔ row 2
    assert alert_set_problem(loose[:1], alerts, _offset, 1.0) is not None


def test_times_and_annotations_are_checked_with_the_tolerance() -> None:
    row = [AlertRow({"instance": "db-1"}, annotations={"summary": "full"}, starts=-600.0,
                    no_end=True)]
    good = _alert("db-1", starts="-590", summary="full", runbook_url="https://r")
    assert alert_set_problem(row, [good], _offset, 30.0) is None
    assert alert_set_problem(row, [_alert("db-1", starts="-650", summary="full")], _offset, 30.0)
    assert alert_set_problem(row, [_alert("db-1", starts="-600", ends="60", summary="full")],
                             _offset, 30.0)
    assert alert_set_problem(row, [_alert("db-1", starts="-600", summary="empty")], _offset, 30.0)
    source = [AlertRow({"instance": "db-1"}, generator_url="http://prom/graph")]
    sent = NotifiedAlert({"instance": "db-1"}, {}, "firing", "", "", "f", "http://prom/graph")
    assert alert_set_problem(source, [sent], _offset, 30.0) is None
    assert alert_set_problem(source, [_alert("db-1")], _offset, 30.0) is not None
    assert parse_alert_table([["alertname", "generatorURL"], ["A", "http://prom/graph"]])[0] \
        .generator_url == "http://prom/graph"
    ends = [AlertRow({"instance": "db-1"}, ends=300.0)]
    assert alert_set_problem(ends, [_alert("db-1", ends="310")], _offset, 30.0) is None
    assert alert_set_problem(ends, [_alert("db-1", ends="600")], _offset, 30.0) is not None
    assert alert_set_problem(ends, [_alert("db-1")], _offset, 30.0) is not None


# -- the content claims, on a hand-made timeline ----------------------------------------------
class _Observer:
    def poll(self) -> None:
        pass


def _delivery(integration: str, payload: dict[str, object], alerts: tuple[NotifiedAlert, ...] = (),
              status: str | None = None, index: int = 0, code: int = 200) -> Delivery:
    return Delivery(1, 0.0, Destination(0, "ops", integration, index), status,  # type: ignore[arg-type]
                    alerts, None, "DiskFull", payload, code)


def _notify(timeline: Timeline, t: float, delivery: Delivery) -> None:
    dest = delivery.destination
    timeline.add(tl.NOTIFICATION, dest.receiver, t=t, integration=dest.integration,
                 index=dest.index, status=delivery.status, alertnames=sorted(delivery.alertnames),
                 alerts=[dict(a.labels) for a in delivery.alerts],
                 response_code=delivery.response_code, _delivery=delivery)


def _expect() -> tuple[Timeline, Expect]:
    timeline = Timeline()
    timeline.add(tl.ACTION, "DiskFull", t=0.0, anchor=True)
    return timeline, Expect(timeline, _Observer(), TimeScale(1.0), 0.05)  # type: ignore[arg-type]


def test_a_field_claim_passes_on_the_text_and_fails_showing_what_came() -> None:
    timeline, expect = _expect()
    _notify(timeline, 0.01, _delivery("slack", SLACK))
    match = NotificationMatch("ops", "DiskFull", "firing", "slack")
    expect.notification_field(match, FieldCheck("text", "contains", "Runbook"), 0.1)
    with pytest.raises(ExpectationFailed) as err:
        expect.notification_field(match, FieldCheck("title", "contains", "runbook"), 0.1)
    assert "title: '🔴 CRITICAL'" in str(err.value)
    with pytest.raises(ExpectationFailed, match="no such notification arrived"):
        expect.notification_field(NotificationMatch("ops", "DiskFull", "firing", "pagerduty"),
                                  FieldCheck("summary", "contains", "x"), 0.1)
    claims = [e.detail for e in timeline.events([tl.CLAIM])]
    assert [c["passed"] for c in claims] == [True, False, False]
    assert claims[0]["claim"] == "notification_field"


def test_a_tickets_fields_are_read_from_its_jira_call() -> None:
    timeline, expect = _expect()
    fields = {"fields": {"summary": "[ALERT] DiskFull: full", "project": {"key": "OPS"},
                         "description": "h2. DiskFull\n*Runbook:* https://r"}}
    timeline.add(tl.NOTIFICATION, "ticket-service", t=0.01, integration="jira", index=0,
                 status=None, response_code=201,
                 _delivery=_delivery("jira", fields, code=201))
    expect.notification_field(TicketMatch("DiskFull", "OPS"),
                              FieldCheck("description", "contains", "*Runbook:* https://r"), 0.1)
    with pytest.raises(ExpectationFailed, match="project: 'OPS'"):
        expect.notification_field(TicketMatch("DiskFull"), FieldCheck("project", "is", "DEV"), 0.1)


def test_does_not_contain_needs_a_notification_and_checks_every_one() -> None:
    timeline, expect = _expect()
    match = NotificationMatch("ops", "DiskFull", "firing", "slack")
    check = FieldCheck("text", "does not contain", "<no value>")
    with pytest.raises(ExpectationFailed):  # nothing arrived: it cannot hold
        expect.notification_field(match, check, 0.05)
    _notify(timeline, 0.01, _delivery("slack", SLACK))
    expect.notification_field(match, check, 0.05)
    _notify(timeline, 0.02, _delivery("slack", {"attachments": [{"text": "x <no value>"}]}))
    with pytest.raises(ExpectationFailed, match="<no value>"):
        expect.notification_field(match, check, 0.05)


def test_the_alert_set_claim_reads_times_as_offsets_from_the_anchor() -> None:
    timeline, expect = _expect()
    wall = timeline.wall_base  # the anchor is at t=0
    starts = datetime.fromtimestamp(wall - 600, UTC).isoformat()
    ends = datetime.fromtimestamp(wall + 300, UTC).isoformat()
    alerts = (_alert("db-1", "firing", starts, "0001-01-01T00:00:00Z"),
              _alert("db-2", "resolved", starts, ends))
    _notify(timeline, 0.01, _delivery("probe", {}, alerts, "firing"))
    match = NotificationMatch("ops", "DiskFull", "firing")
    rows = parse_alert_table([["alertname", "instance", "status", "startsAt", "endsAt"],
                              ["DiskFull", "db-1", "firing", "-10 minutes", "none"],
                              ["DiskFull", "db-2", "resolved", "-10 minutes", "+5 minutes"]])
    expect.notification_alerts(match, rows, 0.1)
    with pytest.raises(ExpectationFailed, match=r"no alert for .*db-2.* firing"):
        expect.notification_alerts(match, [rows[0], AlertRow({"instance": "db-2"}, "firing")], 0.1)


# -- item 3: per-alert status, via, labels ----------------------------------------------------
def _probe(*alerts: NotifiedAlert, status: str = "firing") -> tl.Event:
    timeline = Timeline()
    delivery = _delivery("probe", {}, alerts, status)
    _notify(timeline, 0.0, delivery)
    return timeline.events()[0]


def test_sent_as_firing_is_the_alerts_own_status() -> None:
    group = _probe(_alert("db-1"), _alert("db-2", "resolved"))  # a still-firing group
    as_firing = NotificationMatch("ops", "DiskFull", "firing", None, (("instance", "db-2"),),
                                  per_alert=True)
    as_resolved = NotificationMatch("ops", "DiskFull", "resolved", None, (("instance", "db-2"),),
                                    per_alert=True)
    old_style = NotificationMatch("ops", "DiskFull", "firing", None, (("instance", "db-2"),))
    assert not as_firing(group) and as_resolved(group)
    assert old_style(group), "the existing phrasing keeps the notification's own status"
    assert as_firing.describe() == '"ops" notified of "DiskFull"{instance=db-2} as firing'


def test_an_integration_is_addressed_by_position() -> None:
    timeline = Timeline()
    for index in (0, 1):
        _notify(timeline, 0.0, _delivery("webhook", {}, (_alert("db-1"),), "firing", index))
    first, second = timeline.events()
    match = NotificationMatch("ops", "DiskFull", "firing", "webhook", index=1)
    assert not match(first) and match(second)
    assert NotificationMatch("ops", "DiskFull", "firing", "webhook")(first)
    assert match.describe() == '"ops" notified via webhook[1] of "DiskFull"'
    with pytest.raises(StepError, match="needs the integration"):
        NotificationMatch("ops", "DiskFull", index=1)


def test_new_count_steps_parse_and_the_old_phrasing_keeps_its_meaning() -> None:
    _, g = _step('"dev-backend" is never notified of "APIHighErrorRate" with labels '
                 "severity=warning as firing within 3 minutes")
    assert (g["labels"], g["status"], g["integration"]) == ("severity=warning", "firing", None)
    _, g = _step('"dev-critical" is notified via webhook[1] of "X" with labels a=1 as resolved '
                 "exactly twice within 3 minutes")
    assert (g["integration"], g["index"], g["labels"], g["status"]) == ("webhook", "1", "a=1",
                                                                        "resolved")
    _, g = _step('"team" is notified via slack of "X" at least 3 times within 5 minutes')
    assert (g["integration"], g["status"], g["times"]) == ("slack", None, "3 times")
    _, g = _step('"team" is never notified of "X" within 3 minutes')
    assert g["status"] is None and g["labels"] is None and g["integration"] is None


def test_every_bundled_step_line_matches_exactly_one_step() -> None:
    steps = loaded_steps()
    for feature in (ROOT / "features").rglob("*.feature"):
        for line in feature.read_text().splitlines():
            found = re.match(r"\s*(?:Given|When|Then|And|But) (.*)", line)
            if found:
                owners = [s.pattern for s in steps if s.matches(found.group(1))]
                assert len(owners) == 1, f"{feature.name}: {line} → {owners}"


# -- item 4: sink faults and the name check by position ---------------------------------------
def test_a_sink_fault_can_hit_one_integration_by_position() -> None:
    fault = Fault.from_spec("f1", {"receiver": "ops", "integration": "webhook", "index": 1})
    assert fault.matches(Destination(0, "ops", "webhook", 1))
    assert not fault.matches(Destination(0, "ops", "webhook", 0))
    assert fault.to_json()["index"] == 1
    every = Fault.from_spec("f2", {"receiver": "ops", "integration": "webhook"})
    assert every.matches(Destination(0, "ops", "webhook", 0)) and "index" not in every.to_json()
    for bad in ({"integration": "webhook", "index": -1}, {"integration": "webhook", "index": "1"},
                {"index": 0}):
        with pytest.raises(ValueError):
            Fault.from_spec("f3", {"receiver": "ops", **bad})


def _check(args: dict[str, object]) -> list[str]:
    names = stack_names(ROOT / "stack" / "reference")
    steps = [ParsedStep("Given the stack is running", 1, {}, starts_stack=""),
             ParsedStep("step", 2, args)]
    return [p.message() for p in problems(steps, lambda _name: names)]


def test_a_position_past_the_receivers_integrations_is_refused_before_start() -> None:
    assert _check({"receiver": "dev-critical", "integration": "webhook", "index": "1"}) == []
    [message] = _check({"receiver": "dev-critical", "integration": "webhook", "index": "2"})
    assert "no integration 'webhook[2]'" in message
    assert "it has 2 webhook integration(s): webhook[0], webhook[1]" in message
    assert _check({"receiver": "dev-critical", "integration": "slack", "index": "1"})


def test_a_field_the_integration_does_not_have_is_refused_before_start() -> None:
    assert _check({"receiver": "dev-critical", "integration": "email", "field": "subject"}) == []
    [message] = _check({"receiver": "dev-critical", "integration": "slack", "field": "subject"})
    assert "no field 'subject' in slack notifications" in message


def test_stack_names_count_each_receivers_integrations() -> None:
    names = StackNames.of(StackSpec.load(ROOT / "stack" / "reference"))
    assert names.receivers["dev-critical"] == {("email", 0), ("slack", 0), ("webhook", 0),
                                               ("webhook", 1)}


def test_every_critical_rule_of_the_reference_stack_carries_a_runbook() -> None:
    """Seed 003: every page links its runbook (PagerDuty's links and details read it)."""
    import yaml

    missing = []
    for path in sorted(Path(ROOT / "stack" / "reference" / "prometheus" / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if rule.get("labels", {}).get("severity") == "critical" and \
                        not rule.get("annotations", {}).get("runbook_url"):
                    missing.append(rule["alert"])
    assert missing == []
    config = yaml.safe_load((ROOT / "stack" / "reference" / "alertmanager" /
                             "alertmanager.yml").read_text())
    pagers = [pd for r in config["receivers"] for pd in r.get("pagerduty_configs") or []]
    assert pagers and all("techcorp.runbook" in pd["links"][0]["href"]
                          and "techcorp.runbook" in pd["details"]["runbook"] for pd in pagers)


@pytest.mark.slow
def test_a_position_out_of_range_refuses_the_scenario_before_any_process_starts(
        tmp_path: Path) -> None:
    from tests.helpers import run_pytest

    reference = ROOT / "stack" / "reference"
    (tmp_path / "f.feature").write_text(
        "Feature: positions\n"
        f'  Scenario: a third webhook\n    Given the stack "{reference}" is running\n'
        '    When the webhook[2] integration of "dev-critical" fails with http 500\n'
        '    Then "dev-critical" is notified via webhook[2] of "APIDown" within 3 minutes\n'
        f'  Scenario: a field e-mail has not\n    Given the stack "{reference}" is running\n'
        '    Then the title of the email notification to "dev-critical" of "APIDown" is "x" '
        "within 3 minutes\n")
    (tmp_path / "test_f.py").write_text(
        f"from pytest_bdd import scenarios\nscenarios({str(tmp_path / 'f.feature')!r})\n")
    work = tmp_path / "tmp"
    work.mkdir()
    result = run_pytest([str(tmp_path / "test_f.py"), "--rootdir", str(ROOT), "-c",
                         str(ROOT / "pyproject.toml")], env={"ALERTDRILL_TMPDIR": str(work)})
    out = result.stdout + result.stderr
    assert result.returncode == 1 and "2 failed" in out, out[-3000:]
    assert out.count("no integration 'webhook[2]' on receiver 'dev-critical'") >= 2, out[-3000:]
    assert "no field 'title' in email notifications" in out, out[-3000:]
    assert list(work.iterdir()) == [], "a stack was started"
