"""The sink as Alertmanager meets it: a real process, real wire formats, real answers."""

from __future__ import annotations

import json
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
import requests

from alertdrill.sink.client import SinkClient, SinkError
from alertdrill.sink.protocol import Destination

WEBHOOK = {
    "version": "4", "status": "firing", "receiver": "team-web", "groupKey": '{}:{alertname="A"}',
    "truncatedAlerts": 0, "groupLabels": {"alertname": "A"}, "commonLabels": {"alertname": "A"},
    "commonAnnotations": {}, "externalURL": "http://am", "alerts": [
        {"status": "firing", "labels": {"alertname": "A", "instance": "x:1"}, "annotations": {},
         "startsAt": "2026-11-23T08:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "", "fingerprint": "aaa"},
        {"status": "firing", "labels": {"alertname": "B", "instance": "x:2"}, "annotations": {},
         "startsAt": "2026-11-23T08:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "", "fingerprint": "bbb"},
    ],
}
SLACK = {  # the shape Alertmanager 0.25 sends
    "channel": "#web", "username": "alertmanager",
    "attachments": [{"title": "[FIRING:1] TargetDown (web:8080)", "title_link": "http://am",
                     "text": "web:8080 of storefront is down", "fallback": "[FIRING:1] TargetDown",
                     "color": "danger", "mrkdwn_in": ["fallback", "pretext", "text"]}],
}
PAGERDUTY_TRIGGER = {
    "routing_key": "alertdrill-1234", "event_action": "trigger", "dedup_key": "dk1",
    "payload": {"summary": "[FIRING:1] TargetDown", "source": "am", "severity": "critical",
                "custom_details": {"firing": "TargetDown web:8080"}},
}


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SinkClient, int, int]]:
    ready = tmp_path_factory.mktemp("sink") / "ready.json"
    proc = subprocess.Popen([sys.executable, "-m", "alertdrill.sink", "--ready-file", str(ready)],
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not ready.exists():
            assert time.monotonic() < deadline, "sink did not start"
            time.sleep(0.02)
        ports = json.loads(ready.read_text())
        yield SinkClient(f"http://127.0.0.1:{ports['http_port']}"), ports["smtp_port"], proc.pid
    finally:
        proc.terminate()
        proc.wait(5)


def _post(client: SinkClient, dest: Destination, body: object) -> requests.Response:
    return requests.post(client.base_url + dest.http_path(), json=body, timeout=5)


def test_webhook_alerts_are_parsed_with_a_monotonic_arrival(sink) -> None:
    client, _, _ = sink
    client.reset()
    before = time.monotonic()
    response = _post(client, Destination(1, "team-web", "webhook", 0), WEBHOOK)
    after = time.monotonic()
    assert response.status_code == 200
    [delivery] = client.deliveries()
    assert before <= delivery.arrived <= after
    assert delivery.destination == Destination(1, "team-web", "webhook", 0)
    assert delivery.status == "firing" and delivery.alertnames == {"A", "B"}
    assert delivery.group_key == '{}:{alertname="A"}'
    assert delivery.ok


def test_slack_answers_ok_and_keeps_the_rendered_text(sink) -> None:
    client, _, _ = sink
    client.reset()
    response = _post(client, Destination(0, "team-web", "slack", 0), SLACK)
    assert (response.status_code, response.text) == (200, "ok")
    [delivery] = client.deliveries()
    assert delivery.status == "firing"
    assert delivery.text.splitlines()[0] == "[FIRING:1] TargetDown (web:8080)"
    assert "storefront is down" in delivery.text


def test_pagerduty_events_v2_answers_202_and_reads_the_action(sink) -> None:
    client, _, _ = sink
    client.reset()
    response = _post(client, Destination(0, "pager", "pagerduty", 0), PAGERDUTY_TRIGGER)
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": "dk1"}
    resolve = {**PAGERDUTY_TRIGGER, "event_action": "resolve"}
    _post(client, Destination(0, "pager", "pagerduty", 0), resolve)
    first, second = client.deliveries()
    assert (first.status, second.status) == ("firing", "resolved")
    assert first.seq < second.seq and first.arrived <= second.arrived
    assert "TargetDown web:8080" in first.text


def test_email_is_attributed_by_its_encoded_recipient(sink) -> None:
    client, smtp_port, _ = sink
    client.reset()
    dest = Destination(2, "team-db", "email", 0)
    message = MIMEMultipart("alternative")
    message["Subject"] = "[FIRING:1] TargetDown (db:9187)"
    message["From"] = "alertmanager@example.com"
    message["To"] = dest.email_address()
    message.attach(MIMEText("db:9187 is down", "plain"))
    message.attach(MIMEText("<p>db:9187 is <b>down</b></p>", "html"))
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as smtp:
        smtp.sendmail("alertmanager@example.com", [dest.email_address(), "stray@example.com"],
                      message.as_string())
    deliveries = client.deliveries()
    by_receiver = {d.destination.receiver: d for d in deliveries}
    assert set(by_receiver) == {"team-db", "<unknown>"}, "a foreign recipient is recorded too"
    mail = by_receiver["team-db"]
    assert mail.destination == dest and mail.status == "firing"
    assert mail.text.startswith("Subject: [FIRING:1] TargetDown (db:9187)")
    assert "db:9187 is down" in mail.text and mail.payload["html"].startswith("<p>")


def test_faults_fail_deliveries_until_healed(sink) -> None:
    client, _, _ = sink
    client.reset()
    dest = Destination(0, "team-web", "slack", 0)
    fault = client.add_fault("team-web", "slack", "status", status=500)
    assert _post(client, dest, SLACK).status_code == 500
    other = Destination(0, "team-web", "probe", 0)
    assert _post(client, other, WEBHOOK).status_code == 200, "other integrations are unaffected"
    client.heal(fault)
    assert _post(client, dest, SLACK).status_code == 200
    codes = [(d.destination.integration, d.response_code, d.fault) for d in client.deliveries()]
    assert codes == [("slack", 500, "status 500"), ("probe", 200, None), ("slack", 200, None)]


def test_drop_and_delay_faults(sink) -> None:
    client, _, _ = sink
    client.reset()
    dest = Destination(0, "r", "webhook", 0)
    client.add_fault(None, "webhook", "drop")
    with pytest.raises(requests.ConnectionError):
        _post(client, dest, WEBHOOK)
    client.heal()
    client.add_fault("r", None, "delay", seconds=0.3)
    started = time.monotonic()
    assert _post(client, dest, WEBHOOK).status_code == 200
    assert time.monotonic() - started >= 0.3
    client.heal()
    assert client.faults() == []
    assert [d.response_code for d in client.deliveries()] == [0, 0]


def test_unknown_paths_and_bad_json(sink) -> None:
    client, _, _ = sink
    assert requests.post(client.base_url + "/hooks/T000", json={}, timeout=5).status_code == 404
    assert requests.get(client.base_url + "/nope", timeout=5).status_code == 404
    client.reset()
    dest = Destination(0, "r", "webhook", 0)
    response = requests.post(client.base_url + dest.http_path(), data=b"{not json", timeout=5)
    assert response.status_code == 400
    [delivery] = client.deliveries()
    assert delivery.payload == {"raw": "{not json"}


def test_client_errors_name_the_url() -> None:
    client = SinkClient("http://127.0.0.1:9", timeout=0.5)
    assert client.health() is False
    with pytest.raises(SinkError, match=r"127\.0\.0\.1:9"):
        client.deliveries()


def test_busy_port_exits_3_with_a_message(tmp_path: Path) -> None:
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        result = subprocess.run([sys.executable, "-m", "alertdrill.sink", "--http",
                                 f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=10)
    finally:
        holder.close()
    assert result.returncode == 3
    assert f"port 127.0.0.1:{port} is busy" in result.stderr


def test_sigterm_stops_it_quickly(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen([sys.executable, "-m", "alertdrill.sink", "--ready-file", str(ready)])
    deadline = time.monotonic() + 10
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(5) == 0
    # Tolerance: 1 s for a clean shutdown (measured ~0.05 s).
    assert time.monotonic() - started < 1.0
