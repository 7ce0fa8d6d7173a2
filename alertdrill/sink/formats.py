"""How each wire format is read (status, alerts, human text) and answered, like the real service."""

from __future__ import annotations

import html
import json
import re
import uuid
from email.message import Message
from typing import Any

from alertdrill.sink.records import NotifiedAlert

_TAG_RE = re.compile(r"<[^>]+>")


def status_from_text(text: str) -> str | None:
    """Alertmanager's default titles start with [FIRING:n] or [RESOLVED]; custom ones may not."""
    head = text.lstrip().upper()
    if head.startswith("[FIRING"):
        return "firing"
    if head.startswith("[RESOLVED"):
        return "resolved"
    return None


def read_json_delivery(integration: str, payload: dict[str, Any]) -> tuple[
        str | None, tuple[NotifiedAlert, ...], str | None, str]:
    """(status, alerts, group key, human text) of an HTTP delivery."""
    if integration in ("webhook", "probe"):
        alerts = tuple(NotifiedAlert.from_json(a) for a in payload.get("alerts") or [])
        return payload.get("status"), alerts, payload.get("groupKey"), ""
    if integration == "slack":
        text = slack_text(payload)
        return status_from_text(text), (), None, text
    if integration == "pagerduty":
        action = payload.get("event_action")
        status = {"trigger": "firing", "resolve": "resolved"}.get(str(action))
        if status is None and "event_type" in payload:  # Events API v1 (service_key)
            status = {"trigger": "firing", "resolve": "resolved"}.get(str(payload["event_type"]))
        return status, (), payload.get("dedup_key") or payload.get("incident_key"), \
            pagerduty_text(payload)
    if integration == "jira":  # a ticket created through the REST API: no alert status
        fields = payload.get("fields") or {}
        return None, (), None, f"{fields.get('summary', '')}\n{fields.get('description', '')}"
    text = "\n".join(str(payload.get(k, "")) for k in ("message", "description", "entity_display_name",
                                                         "state_message") if payload.get(k))
    return status_from_text(text), (), None, text


def slack_text(payload: dict[str, Any]) -> str:
    """Every human-visible string of a Slack incoming-webhook message."""
    parts: list[str] = [str(payload[k]) for k in ("text", "pretext") if payload.get(k)]
    for att in payload.get("attachments") or []:
        for key in ("title", "pretext", "text", "fallback", "footer"):
            if att.get(key):
                parts.append(str(att[key]))
        for fld in att.get("fields") or []:
            parts.append(f"{fld.get('title', '')}: {fld.get('value', '')}")
    # Alertmanager puts title first in attachments; put it first overall for status detection.
    titles = [str(a["title"]) for a in payload.get("attachments") or [] if a.get("title")]
    return "\n".join(titles + [p for p in parts if p not in titles])


def pagerduty_text(payload: dict[str, Any]) -> str:
    """Summary, description and details of a PagerDuty Events v2 (or v1) event."""
    body = payload.get("payload") or {}
    parts = [str(body.get("summary", "")), str(payload.get("description", ""))]
    details = body.get("custom_details") or payload.get("details") or {}
    if isinstance(details, dict):
        parts += [f"{k}: {v}" for k, v in details.items()]
    return "\n".join(p for p in parts if p)


def answer(integration: str, payload: dict[str, Any], seq: int) -> tuple[int, str, bytes]:
    """(status, content type, body) the real service would answer to a good request."""
    if integration == "slack":
        return 200, "text/plain", b"ok"
    if integration == "pagerduty":
        key = payload.get("dedup_key") or uuid.uuid4().hex
        return 202, "application/json", json.dumps(
            {"status": "success", "message": "Event processed", "dedup_key": key}).encode()
    if integration == "opsgenie":
        return 202, "application/json", json.dumps(
            {"result": "Request will be processed", "took": 0.0,
             "requestId": str(uuid.uuid4())}).encode()
    if integration == "victorops":
        return 200, "application/json", json.dumps(
            {"result": "success", "entity_id": str(payload.get("entity_id", seq))}).encode()
    if integration == "jira":
        project = ((payload.get("fields") or {}).get("project") or {}).get("key", "ALERT")
        return 201, "application/json", json.dumps(
            {"id": str(seq), "key": f"{project}-{seq}",
             "self": f"http://127.0.0.1/rest/api/2/issue/{seq}"}).encode()
    return 200, "text/plain", b"ok"


def read_email(message: Message) -> dict[str, Any]:
    """From, To, Subject, headers and text/html bodies of a received e-mail."""
    text, html_body = "", ""
    parts = message.walk() if message.is_multipart() else [message]
    for part in parts:
        ctype = part.get_content_type()
        if part.is_multipart():
            continue
        raw = part.get_payload(decode=True) or b""
        if not isinstance(raw, bytes):
            continue
        decoded = raw.decode(part.get_content_charset() or "utf-8", errors="replace")
        if ctype == "text/plain" and not text:
            text = decoded
        elif ctype == "text/html" and not html_body:
            html_body = decoded
    return {
        "from": message.get("From", ""), "to": message.get("To", ""),
        "subject": message.get("Subject", ""),
        "headers": {k: str(v) for k, v in message.items()},
        "text": text, "html": html_body,
    }


def email_text(mail: dict[str, Any]) -> str:
    """The subject line, then the plain body (or the HTML body without tags)."""
    body = mail["text"] or html.unescape(_TAG_RE.sub(" ", mail["html"]))
    body = re.sub(r"[ \t]+", " ", body).strip()
    return f"Subject: {mail['subject']}\n{body}"
