"""The escalation and ticket services' logic, with a fake clock and fake Alertmanager/Jira."""

from __future__ import annotations

import socket
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from alertdrill.services.escalation import (
    EscalationBook,
    Escalator,
    alert_key,
    escalated_alert,
)
from alertdrill.services.tickets import TicketBook, TicketDesk, issue_fields, ticket_key, wants_ticket
from tests.helpers import RecordingServer, listening_socket


def _alert(name: str = "WebAppDown", status: str = "firing", **labels: str) -> dict[str, Any]:
    base = {"alertname": name, "severity": "critical", "team": "development",
            "instance": "web-app:80", "service": "web-app"}
    return {"status": status, "labels": {**base, **labels},
            "annotations": {"summary": "down", "description": "it is down"},
            "startsAt": "2026-11-23T00:00:00Z"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeAlertmanagers:
    """Records what each peer was sent; peers listed in ``down`` refuse."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.down: set[str] = set()

    def __call__(self, url: str, alerts: list[dict[str, Any]]) -> bool:
        if url in self.down:
            return False
        self.sent += [(url, a) for a in alerts]
        return True

    def levels(self) -> list[str]:
        return [a["labels"]["escalation"] for url, a in self.sent if url == "am0"]


def _escalator(tmp_path: Path, clock: Clock, scale: float = 1.0) -> tuple[Escalator, FakeAlertmanagers]:
    book = EscalationBook(tmp_path / "esc.sqlite", scale)
    ams = FakeAlertmanagers()
    return Escalator(book, ["am0", "am1"], clock=clock, post=ams), ams


def test_critical_follows_001_schedule(tmp_path: Path) -> None:
    clock = Clock()
    esc, ams = _escalator(tmp_path, clock)
    assert esc.handle({"alerts": [_alert()]}) == {"started": 1, "resolved": 0}
    for minutes, expected in ((14.9, []), (15.0, ["level-2"]), (24.9, ["level-2"]),
                              (25.0, ["level-2", "level-3"]),
                              (30.0, ["level-2", "level-3", "executive"])):
        clock.now = 1000 + minutes * 60
        esc._last_resend = clock.now  # keep-alive re-posts are tested on their own
        esc.tick()
        assert ams.levels() == expected, minutes
    posted = ams.sent[0][1]
    assert posted["labels"]["escalation"] == "level-2"
    assert posted["labels"]["alertname"] == "WebAppDown"
    assert "ESCALATED TO LEVEL-2" in posted["annotations"]["description"]


def test_warning_escalates_once_at_90_minutes_and_info_never(tmp_path: Path) -> None:
    clock = Clock()
    esc, ams = _escalator(tmp_path, clock)
    esc.handle({"alerts": [_alert("Slow", severity="warning"), _alert("Note", severity="info")]})
    clock.now += 89 * 60
    esc._last_resend = clock.now
    esc.tick()
    assert ams.levels() == []
    clock.now += 60
    esc._last_resend = clock.now
    esc.tick()
    assert ams.levels() == ["level-2"]


def test_time_scale_divides_delays(tmp_path: Path) -> None:
    clock = Clock()
    esc, ams = _escalator(tmp_path, clock, scale=60)
    esc.handle({"alerts": [_alert()]})
    clock.now += 14.9
    esc.tick()
    assert "level-2" not in ams.levels()
    clock.now += 0.1
    esc.tick()
    assert ams.levels()[:1] == ["level-2"]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    esc, _ = _escalator(tmp_path, clock)
    esc.handle({"alerts": [_alert()]})
    clock.now += 16 * 60
    esc.tick()
    esc.book.close()
    again, ams = _escalator(tmp_path, clock)  # a new process on the same database
    clock.now += 10 * 60
    again._last_resend = clock.now
    again.tick()
    assert [lv for lv in ams.levels() if lv != "level-2"] == ["level-3"]
    assert again.book.status()["active_escalations"] == 1


def test_resolve_cancels_pending_levels_and_resolves_posted_copies(tmp_path: Path) -> None:
    clock = Clock()
    esc, ams = _escalator(tmp_path, clock)
    esc.handle({"alerts": [_alert()]})
    clock.now += 16 * 60
    esc.tick()
    clock.now += 60
    esc.handle({"alerts": [_alert(status="resolved")]})
    resolved = [a for url, a in ams.sent if url == "am0"][-1]
    assert resolved["labels"]["escalation"] == "level-2"
    ends = datetime.fromisoformat(resolved["endsAt"]).timestamp()
    assert ends == pytest.approx(clock.now)  # endsAt = now: Alertmanager resolves it
    ams.sent.clear()
    clock.now += 60 * 60
    esc.tick()
    assert ams.sent == []
    history = [h["what"] for h in esc.book.status()["history"]]
    assert history.count("cancelled") == 2 and "resolved" in history


def test_repeat_and_escalated_copies_do_not_start_a_second_escalation(tmp_path: Path) -> None:
    clock = Clock()
    esc, _ = _escalator(tmp_path, clock)
    assert esc.handle({"alerts": [_alert()]})["started"] == 1
    assert esc.handle({"alerts": [_alert()]})["started"] == 0
    assert esc.handle({"alerts": [_alert(escalation="level-2")]})["started"] == 0
    # The seed keyed on alertname+instance; the key is every label but the level.
    assert alert_key(_alert()["labels"]) == alert_key(_alert(escalation="level-3")["labels"])
    assert alert_key(_alert()["labels"]) != alert_key(_alert(device="sda")["labels"])


def test_a_level_nobody_accepted_is_retried(tmp_path: Path) -> None:
    clock = Clock()
    esc, ams = _escalator(tmp_path, clock)
    esc.handle({"alerts": [_alert()]})
    ams.down = {"am0", "am1"}
    clock.now += 15 * 60
    esc.tick()
    assert esc.book.due(clock.now)  # still due
    ams.down = {"am0"}
    esc.tick()
    assert [a["labels"]["escalation"] for _, a in ams.sent] == ["level-2"]
    assert not esc.book.due(clock.now)


def test_escalated_alerts_are_kept_alive(tmp_path: Path) -> None:
    clock = Clock()
    esc, ams = _escalator(tmp_path, clock, scale=60)
    esc.handle({"alerts": [_alert()]})
    clock.now += 15
    esc.tick()
    count = len(ams.sent)
    clock.now += esc.resend
    esc.tick()
    assert len(ams.sent) > count  # re-posted with a fresh endsAt
    alive = escalated_alert(esc.book.escalated()[0], clock.now, 4 * esc.resend)
    assert alive["endsAt"] > escalated_alert(esc.book.escalated()[0], clock.now, 0)["endsAt"]


# -- tickets ---------------------------------------------------------------------------------

def _jira_answer(server: RecordingServer, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    """Jira's create-issue endpoint: 201 with a key, or the status set on the server."""
    return (getattr(server, "fail", 0) or 201,
            {"key": f"{body['fields']['project']['key']}-{len(server.bodies)}"})


@pytest.fixture
def jira() -> Any:
    server: Any = RecordingServer(_jira_answer)
    server.fail = 0
    yield server
    server.close()


def _desk(tmp_path: Path, jira: Any) -> TicketDesk:
    return TicketDesk(TicketBook(tmp_path / "t.sqlite"), f"http://127.0.0.1:{jira.server_port}/jira")


def test_one_ticket_per_alert_key_in_the_teams_project(tmp_path: Path, jira: Any) -> None:
    desk = _desk(tmp_path, jira)
    assert desk.handle({"alerts": [_alert()]}) == (200, {"status": "success",
                                                          "tickets_created": ["DEV-1"], "failed": []})
    assert desk.handle({"alerts": [_alert()]})[1]["tickets_created"] == []  # a repeat
    desk.handle({"alerts": [_alert("DiskSpaceLow", team="operations", instance="node:9100")]})
    desk.handle({"alerts": [_alert("PostgreSQLDown", team="dba", instance="pg:9187")]})
    desk.handle({"alerts": [_alert("Cert", team="cartorio", instance="tls:8443")]})
    assert [(t["alertname"], t["project"]) for t in desk.book.all()] == [
        ("WebAppDown", "DEV"), ("DiskSpaceLow", "OPS"), ("PostgreSQLDown", "DBA"), ("Cert", "OPS")]
    path, body = jira.bodies[0]
    assert path == "/jira/rest/api/2/issue"
    assert body["fields"]["summary"].startswith("[ALERT] WebAppDown:")
    assert body["fields"]["issuetype"]["name"] == "Bug"
    assert body["fields"]["priority"]["name"] == "Critical"


def test_warnings_need_create_ticket_and_resolved_alerts_never_open_one() -> None:
    assert wants_ticket(_alert())
    assert not wants_ticket(_alert(severity="warning"))
    assert wants_ticket(_alert(severity="warning", create_ticket="true"))
    assert wants_ticket(_alert(severity="warning", create_ticket="True"))
    assert not wants_ticket(_alert(status="resolved"))
    assert ticket_key(_alert()["labels"]) != ticket_key(_alert(service="other")["labels"])
    assert issue_fields(_alert(severity="warning"))["fields"]["priority"]["name"] == "High"


def test_a_ticket_links_the_alerts_runbook_when_it_has_one() -> None:
    """Seed 001's ticket service added the runbook link; so does the corrected one."""
    alert = _alert()
    assert "Runbook" not in issue_fields(alert)["fields"]["description"]
    alert["annotations"]["runbook_url"] = "https://wiki.invalid/runbooks/x"
    assert "*Runbook:* https://wiki.invalid/runbooks/x" in issue_fields(alert)["fields"]["description"]


def test_jira_failure_answers_502_and_a_retry_creates_the_ticket(tmp_path: Path, jira: Any) -> None:
    desk = _desk(tmp_path, jira)
    jira.fail = 503
    code, answer = desk.handle({"alerts": [_alert()]})
    assert code == 502 and answer["failed"] == ["WebAppDown"]
    assert desk.book.all() == []
    jira.fail = 0
    assert desk.handle({"alerts": [_alert()]})[1]["tickets_created"] == [f"DEV-{len(jira.bodies)}"]


def test_tickets_survive_a_restart(tmp_path: Path, jira: Any) -> None:
    desk = _desk(tmp_path, jira)
    desk.handle({"alerts": [_alert()]})
    desk.book.close()
    again = _desk(tmp_path, jira)
    assert again.handle({"alerts": [_alert()]})[1]["tickets_created"] == []
    assert len(jira.bodies) == 1


def test_concurrent_deliveries_of_one_alert_open_one_ticket(tmp_path: Path, jira: Any) -> None:
    desk = _desk(tmp_path, jira)
    threads = [threading.Thread(target=desk.handle, args=({"alerts": [_alert()]},))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(jira.bodies) == 1
    assert len(desk.book.all()) == 1


def test_unreachable_jira_is_a_502(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    desk = TicketDesk(TicketBook(tmp_path / "t.sqlite"), f"http://127.0.0.1:{port}")
    assert desk.handle({"alerts": [_alert()]})[0] == 502


def test_both_services_speak_http_as_alertmanager_meets_them(tmp_path: Path, jira: Any) -> None:
    import requests

    from alertdrill.services import escalation, tickets

    book = EscalationBook(tmp_path / "e.sqlite", 60)
    servers = [
        (escalation._Server(listening_socket(), Escalator(book, ["am0"], post=FakeAlertmanagers())),
         "/escalate", "/status"),
        (tickets._Server(listening_socket(), _desk(tmp_path, jira)), "/create-ticket", "/tickets"),
    ]
    try:
        for server, seed_path, status_path in servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{server.server_address[1]}"
            for path in ("/webhook", seed_path):
                answer = requests.post(url + path, json={"alerts": [_alert()]}, timeout=5)
                assert answer.status_code == 200, answer.text
            assert requests.get(url + status_path, timeout=5).status_code == 200
            assert requests.get(url + "/-/healthy", timeout=5).json() == {"status": "healthy"}
            assert requests.post(url + "/webhook", json={"no": "alerts"}, timeout=5).status_code == 400
            assert requests.post(url + "/elsewhere", json={}, timeout=5).status_code == 404
        assert book.status()["active_escalations"] == 1
        assert len(jira.bodies) == 1  # two deliveries of one alert: one ticket
    finally:
        for server, *_ in servers:
            server.shutdown()
            server.server_close()

