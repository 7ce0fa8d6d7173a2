"""The sink as Alertmanager meets it: a real process, real wire formats, real answers."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
import requests

from alertdrill.sink import Delivery, NotifiedAlert, SinkClient, SinkError
from alertdrill.sink.protocol import Destination
from tests.helpers import ROOT

WEBHOOK = {  # Alertmanager's webhook payload, version 4
    "version": "4", "status": "firing", "receiver": "team-web", "groupKey": '{}:{alertname="A"}',
    "truncatedAlerts": 0, "groupLabels": {"alertname": "A"}, "commonLabels": {"severity": "page"},
    "commonAnnotations": {}, "externalURL": "http://am:9093", "alerts": [
        {"status": "firing", "labels": {"alertname": "A", "instance": "x:1", "severity": "page"},
         "annotations": {"summary": "x:1 down"}, "startsAt": "2026-11-23T08:00:00Z",
         "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph", "fingerprint": "aaa"},
        {"status": "resolved", "labels": {"alertname": "B", "instance": "x:2", "severity": "page"},
         "annotations": {}, "startsAt": "2026-11-23T08:00:00Z", "endsAt": "2026-11-23T08:05:00Z",
         "generatorURL": "http://prom/graph", "fingerprint": "bbb"},
    ],
}
SLACK = {  # the shape Alertmanager 0.25 sends with the default templates
    "channel": "#web", "username": "Alertmanager",
    "attachments": [{"title": "[FIRING:1] TargetDown (web:8080)", "title_link": "http://am",
                     "text": "web:8080 of storefront is down",
                     "fallback": "[FIRING:1] TargetDown (web:8080) | http://am", "callback_id": "",
                     "footer": "", "color": "danger", "mrkdwn_in": ["fallback", "pretext", "text"]}],
}
PAGERDUTY = {  # Events API v2, as Alertmanager 0.25 sends it
    "routing_key": "alertdrill-1234", "event_action": "trigger", "dedup_key": "dk1",
    "payload": {"summary": "[FIRING:1] TargetDown (web:8080)", "source": "Alertmanager",
                "severity": "critical",
                "custom_details": {"firing": "TargetDown web:8080", "num_firing": "1"}},
    "client": "Alertmanager", "client_url": "http://am/#/alerts",
}


@dataclass
class Sink:
    """A running sink process and how to reach it."""

    client: SinkClient
    smtp_port: int
    proc: subprocess.Popen[bytes]
    ready: dict[str, int]

    def post(self, dest: Destination, body: object, suffix: str = "", **kwargs: object) -> requests.Response:
        """Deliver ``body`` as Alertmanager would, to ``dest``'s address (plus an API suffix)."""
        return requests.post(self.client.base_url + dest.http_path() + suffix, json=body,
                             timeout=kwargs.pop("timeout", 5), **kwargs)  # type: ignore[arg-type]


def _start(tmp: Path, *args: str) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    ready = tmp / "ready.json"
    proc = subprocess.Popen([sys.executable, "-m", "alertdrill.sink", "--ready-file", str(ready),
                             "--log-level", "WARNING", *args], cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 10
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            _kill(proc)
            pytest.fail(f"sink did not start (exit code {proc.returncode})")
        time.sleep(0.01)
    return proc, json.loads(ready.read_text())


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(5)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sink]:
    proc, ready = _start(tmp_path_factory.mktemp("sink"))
    client = SinkClient(f"http://127.0.0.1:{ready['http_port']}")
    try:
        yield Sink(client, ready["smtp_port"], proc, ready)
    finally:
        client.close()
        _kill(proc)


@pytest.fixture
def sink(running: Sink) -> Sink:
    running.client.reset()
    return running


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ready_file_names_both_ports_and_the_pid(sink: Sink) -> None:
    assert sink.ready["pid"] == sink.proc.pid
    assert sink.ready["http_port"] > 0 and sink.ready["smtp_port"] > 0
    assert sink.client.health() is True


def test_webhook_alerts_are_parsed_with_a_monotonic_arrival(sink: Sink) -> None:
    dest = Destination(1, "team web/α", "webhook", 2)  # receiver names are percent-encoded
    before = time.monotonic()
    response = sink.post(dest, WEBHOOK)
    after = time.monotonic()
    assert (response.status_code, response.text) == (200, "ok")
    [delivery] = sink.client.deliveries()
    assert before <= delivery.arrived <= after, "sink stamps the system-wide monotonic clock"
    assert delivery.destination == dest
    assert delivery.status == "firing" and delivery.alertnames == {"A", "B"}
    assert delivery.group_key == '{}:{alertname="A"}' and delivery.text == ""
    assert delivery.alerts[0] == NotifiedAlert(
        labels={"alertname": "A", "instance": "x:1", "severity": "page"},
        annotations={"summary": "x:1 down"}, status="firing", starts_at="2026-11-23T08:00:00Z",
        ends_at="0001-01-01T00:00:00Z", fingerprint="aaa", generator_url="http://prom/graph")
    assert delivery.alerts[1].status == "resolved"
    assert delivery.payload == WEBHOOK and delivery.ok and delivery.fault is None
    assert Delivery.from_json(json.loads(json.dumps(delivery.to_json()))) == delivery


def test_slack_answers_ok_and_keeps_the_rendered_text(sink: Sink) -> None:
    dest = Destination(0, "team-web", "slack", 0)
    response = sink.post(dest, SLACK)
    assert (response.status_code, response.text) == (200, "ok")
    resolved = json.loads(json.dumps(SLACK).replace("[FIRING:1]", "[RESOLVED]"))
    sink.post(dest, resolved)
    sink.post(dest, {"text": "custom title without a status"})
    firing, done, custom = sink.client.deliveries()
    assert firing.text.splitlines()[0] == "[FIRING:1] TargetDown (web:8080)"
    assert "web:8080 of storefront is down" in firing.text
    assert (firing.status, done.status, custom.status) == ("firing", "resolved", None)
    assert firing.alerts == () and firing.group_key is None


def test_pagerduty_events_v2_answers_202_and_reads_the_action(sink: Sink) -> None:
    dest = Destination(0, "pager", "pagerduty", 0)
    response = sink.post(dest, PAGERDUTY)
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": "dk1"}
    sink.post(dest, {**PAGERDUTY, "event_action": "resolve"})
    sink.post(dest, {**PAGERDUTY, "event_action": "acknowledge"})
    no_key = {k: v for k, v in PAGERDUTY.items() if k != "dedup_key"}
    assert sink.post(dest, no_key).json()["dedup_key"], "a dedup_key is generated when absent"
    trigger, resolve, ack, _ = sink.client.deliveries()
    assert (trigger.status, resolve.status, ack.status) == ("firing", "resolved", None)
    assert trigger.seq < resolve.seq < ack.seq and trigger.arrived <= resolve.arrived
    lines = trigger.text.splitlines()
    assert lines[0] == "[FIRING:1] TargetDown (web:8080)"
    assert "firing: TargetDown web:8080" in lines and "num_firing: 1" in lines


def test_opsgenie_victorops_and_jira_answer_like_the_real_apis(sink: Sink) -> None:
    opsgenie = Destination(0, "ops", "opsgenie", 0)
    # Alertmanager appends its own API path to api_url, without a slash after our index.
    created = sink.post(opsgenie, {"message": "[FIRING:1] X", "alias": "a1"}, suffix="v2/alerts")
    assert created.status_code == 202
    assert created.json()["result"] == "Request will be processed" and created.json()["requestId"]
    closed = sink.post(opsgenie, {"source": "am"}, suffix="v2/alerts/a1/close?identifierType=alias")
    assert closed.status_code == 202
    victorops = Destination(0, "ops", "victorops", 1)
    answer = sink.post(victorops, {"message_type": "RECOVERY", "entity_id": "e1",
                                   "entity_display_name": "custom"}, suffix="alertdrill-1a2b/rk")
    assert (answer.status_code, answer.json()) == (200, {"result": "success", "entity_id": "e1"})
    jira = Destination(0, "ops", "jira", 0)
    issue = sink.post(jira, {"fields": {"project": {"key": "OPS"}, "summary": "X"}})
    assert issue.status_code == 201
    body = issue.json()
    assert body["key"] == f"OPS-{body['id']}" and body["self"]
    og_create, og_close, vo, ji = sink.client.deliveries()
    assert (og_create.destination, vo.destination, ji.destination) == (opsgenie, victorops, jira)
    assert (og_create.status, og_close.status, vo.status) == ("firing", "resolved", "resolved")
    assert ji.seq == int(body["id"])


def _send_mail(port: int, to: list[str], message: MIMEMultipart | MIMEText) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.sendmail("alertmanager@example.com", to, message.as_string())


def test_email_is_attributed_by_its_encoded_recipient(sink: Sink) -> None:
    dest = Destination(2, "team-db", "email", 0)
    message = MIMEMultipart("alternative")
    message["Subject"] = "[FIRING:1] TargetDown (db:9187)"
    message["From"] = "alertmanager@example.com"
    message["To"] = dest.email_address()
    message.attach(MIMEText("db:9187 is down", "plain"))
    message.attach(MIMEText("<p>db:9187 is <b>down</b></p>", "html"))
    before = time.monotonic()
    _send_mail(sink.smtp_port, [dest.email_address(), "stray@example.com"], message)
    after = time.monotonic()
    by_receiver = {d.destination.receiver: d for d in sink.client.deliveries()}
    assert set(by_receiver) == {"team-db", "<unknown>"}, "a foreign recipient is recorded too"
    assert by_receiver["<unknown>"].destination == Destination(-1, "<unknown>", "email", 0)
    mail = by_receiver["team-db"]
    assert before <= mail.arrived <= after
    assert mail.destination == dest and mail.status == "firing" and mail.response_code == 250
    assert mail.text == "Subject: [FIRING:1] TargetDown (db:9187)\ndb:9187 is down"
    assert mail.payload["subject"] == "[FIRING:1] TargetDown (db:9187)"
    assert mail.payload["html"].startswith("<p>") and mail.payload["to"] == dest.email_address()


def test_html_only_email_text_has_no_markup_or_style(sink: Sink) -> None:
    dest = Destination(0, "team-db", "email", 1)
    html = ("<html><head><style>body { padding: 0; }</style></head><body><table><tr>"
            "<td>[1] Resolved</td></tr><tr><td>alertname = DBDown</td></tr></table></body></html>")
    message = MIMEText(html, "html")
    message["Subject"] = "[RESOLVED] DBDown"
    _send_mail(sink.smtp_port, [dest.email_address()], message)
    [mail] = sink.client.deliveries()
    assert mail.status == "resolved"
    assert mail.text == "Subject: [RESOLVED] DBDown\n[1] Resolved\nalertname = DBDown"


def test_status_fault_fails_deliveries_until_healed(sink: Sink) -> None:
    dest = Destination(0, "team-web", "slack", 0)
    fault = sink.client.add_fault("team-web", "slack", "status", status=503)
    assert sink.client.faults() == [{"id": fault, "receiver": "team-web", "integration": "slack",
                                     "mode": "status", "status": 503, "seconds": 0.0}]
    assert sink.post(dest, SLACK).status_code == 503
    other = Destination(0, "team-web", "probe", 0)
    assert sink.post(other, WEBHOOK).status_code == 200, "other integrations are unaffected"
    sink.client.heal(fault)
    assert sink.client.faults() == []
    assert sink.post(dest, SLACK).status_code == 200
    seen = [(d.destination.integration, d.response_code, d.fault, d.ok)
            for d in sink.client.deliveries()]
    assert seen == [("slack", 503, "status 503", False), ("probe", 200, None, True),
                    ("slack", 200, None, True)]


def test_drop_and_delay_faults(sink: Sink) -> None:
    dest = Destination(0, "r", "webhook", 0)
    sink.client.add_fault(None, "webhook", "drop")
    with pytest.raises(requests.ConnectionError):
        sink.post(dest, WEBHOOK)
    sink.client.heal()
    sink.client.add_fault("r", None, "delay", seconds=0.3)
    started = time.monotonic()
    assert sink.post(dest, WEBHOOK).status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(requests.ReadTimeout):  # a delay longer than the caller waits: a timeout
        sink.post(dest, WEBHOOK, timeout=0.1)
    sink.client.heal()
    assert [(d.response_code, d.fault) for d in sink.client.deliveries()] == [
        (0, "connection dropped"), (0, "delay 0.3s"), (0, "delay 0.3s")]


def test_smtp_faults_refuse_then_accept(sink: Sink) -> None:
    dest = Destination(0, "team-db", "email", 0)
    message = MIMEText("db down")
    message["Subject"] = "[FIRING:1] DBDown"
    sink.client.add_fault("team-db", None, "status")  # integration null: email too
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _send_mail(sink.smtp_port, [dest.email_address()], message)
    assert refused.value.recipients[dest.email_address()][0] == 451
    sink.client.heal()
    sink.client.add_fault(None, "email", "drop")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        _send_mail(sink.smtp_port, [dest.email_address()], message)
    sink.client.heal()
    _send_mail(sink.smtp_port, [dest.email_address()], message)
    seen = [(d.response_code, d.fault, d.status) for d in sink.client.deliveries()]
    assert seen == [(451, "status 500 (SMTP 451)", None), (0, "connection dropped", None),
                    (250, None, "firing")]


def test_bad_fault_specs_and_unknown_fault_ids_are_refused(sink: Sink) -> None:
    with pytest.raises(SinkError, match="unknown fault mode"):
        sink.client.add_fault(None, None, "explode")
    with pytest.raises(SinkError, match="integration must be"):
        sink.client.add_fault(None, "slak", "status")
    with pytest.raises(SinkError, match="no fault"):
        sink.client.heal("f999")


def test_reset_forgets_deliveries_and_faults_but_never_reuses_seq(sink: Sink) -> None:
    dest = Destination(0, "r", "probe", 0)
    sink.post(dest, WEBHOOK)
    sink.post(dest, WEBHOOK)
    first, second = sink.client.deliveries()
    assert [d.seq for d in sink.client.deliveries(after=first.seq)] == [second.seq]
    assert sink.client.deliveries(after=second.seq) == []
    sink.client.add_fault(None, None, "status")
    sink.client.reset()
    assert sink.client.deliveries() == [] and sink.client.faults() == []
    assert sink.post(dest, WEBHOOK).status_code == 200, "reset healed the fault"
    [third] = sink.client.deliveries()
    assert third.seq == second.seq + 1
    raw = requests.get(sink.client.base_url + "/_deliveries", params={"after": third.seq}, timeout=5)
    assert raw.json() == {"deliveries": [], "last_seq": third.seq}


def test_concurrent_deliveries_all_get_distinct_increasing_seqs(sink: Sink) -> None:
    dests = [Destination(0, f"r{i}", "webhook", 0) for i in range(40)]
    threads = [threading.Thread(target=sink.post, args=(d, WEBHOOK)) for d in dests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    deliveries = sink.client.deliveries()
    seqs = [d.seq for d in deliveries]
    assert seqs == sorted(seqs) and len(set(seqs)) == 40 and seqs[-1] - seqs[0] == 39
    assert {d.destination for d in deliveries} == set(dests)


def test_unknown_paths_bad_json_and_chunked_bodies(sink: Sink) -> None:
    base = sink.client.base_url
    for method, path in [("POST", "/hooks/T000"), ("GET", "/nope"), ("POST", "/n/0/r/fax/0"),
                         ("POST", "/n/x/r/webhook/0"), ("DELETE", "/_nope")]:
        response = requests.request(method, base + path, json={}, timeout=5)
        assert response.status_code == 404 and "error" in response.json(), (method, path)
    assert sink.client.deliveries() == []
    dest = Destination(0, "r", "webhook", 0)
    response = requests.post(base + dest.http_path(), data=b"{not json", timeout=5)
    assert response.status_code == 400
    chunked = requests.post(base + dest.http_path(), timeout=5,
                            data=iter([json.dumps(WEBHOOK)[:50].encode(),
                                       json.dumps(WEBHOOK)[50:].encode()]))
    assert chunked.status_code == 200
    bad, good = sink.client.deliveries()
    assert (bad.payload, bad.response_code, bad.status) == ({"raw": "{not json"}, 400, None)
    assert good.payload == WEBHOOK


def test_client_errors_name_the_url() -> None:
    port = _free_port()
    client = SinkClient(f"http://127.0.0.1:{port}", timeout=0.5)
    assert client.health() is False
    with pytest.raises(SinkError, match=rf"127\.0\.0\.1:{port}/_deliveries"):
        client.deliveries()


@pytest.mark.parametrize("which", ["--http", "--smtp"])
def test_busy_port_exits_3_with_a_one_line_message(which: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "alertdrill.sink", which, f"127.0.0.1:{port}"],
                                cwd=ROOT, capture_output=True, text=True, timeout=10,
                                start_new_session=True)
    assert result.returncode == 3
    assert result.stderr.startswith(f"alertdrill sink: port 127.0.0.1:{port} is busy (")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_stop_it_cleanly_and_quickly(tmp_path: Path, sig: signal.Signals) -> None:
    proc, _ = _start(tmp_path)
    try:
        started = time.monotonic()
        proc.send_signal(sig)
        assert proc.wait(5) == 0
        # Tolerance: 1 s for a clean exit (it is designed for < 0.5 s, measured ~0.1 s).
        assert time.monotonic() - started < 1.0
    finally:
        _kill(proc)
