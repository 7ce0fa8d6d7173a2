"""The ticket service of seed 001, corrected: one Jira ticket per alert, persisted in SQLite.

Alertmanager's receivers send it their alerts (webhook). A firing alert that is critical, or that
carries ``create_ticket="true"``, opens one ticket in its team's Jira project (001's mapping:
development → DEV, operations → OPS, dba → DBA, anything else → OPS) through the Jira REST API
(``POST /rest/api/2/issue``). A repeat notification, a second receiver or a second Alertmanager
peer sending the same alert never opens a second ticket: the alert key is claimed in SQLite
*before* Jira is called, so concurrent deliveries cannot both create one, and a failed Jira call
releases the claim and answers 502 so that Alertmanager retries. The seed kept its tickets in a
dict (lost on restart, duplicated after it) and answered 200 when Jira failed, so a Jira outage
silently lost tickets.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import socket
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from alertdrill.targets.httpbase import (
    InheritedSocketServer,
    WebhookHandler,
    add_listen_arguments,
    listening_socket,
    serve_until_signalled,
)

logger = logging.getLogger("alertdrill.tickets")

#: 001's ticket templates by team: (project, issue type, components).
TEMPLATES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "development": ("DEV", "Bug", ("Application",)),
    "operations": ("OPS", "Incident", ("Infrastructure",)),
    "dba": ("DBA", "Incident", ("Database",)),
}
DEFAULT_TEAM = "operations"
PRIORITIES = {"critical": "Critical", "warning": "High", "info": "Medium"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    alert_key TEXT PRIMARY KEY, ticket TEXT, project TEXT NOT NULL, alertname TEXT NOT NULL,
    team TEXT NOT NULL, severity TEXT NOT NULL, created REAL NOT NULL);
"""


def ticket_key(labels: dict[str, str]) -> str:
    """001's alert key: alertname, instance and service (so a ticket outlives label churn)."""
    raw = "_".join(labels.get(k, "") for k in ("alertname", "instance", "service"))
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def wants_ticket(alert: dict[str, Any]) -> bool:
    """Firing and critical, or explicitly asked for with ``create_ticket=true``."""
    labels = alert.get("labels") or {}
    return alert.get("status") == "firing" and (
        labels.get("severity") == "critical"
        or str(labels.get("create_ticket", "false")).lower() == "true")


def issue_fields(alert: dict[str, Any]) -> dict[str, Any]:
    """The Jira create-issue body for an alert (001's template, without its custom fields)."""
    labels = dict(alert.get("labels") or {})
    annotations = dict(alert.get("annotations") or {})
    team = labels.get("team", DEFAULT_TEAM)
    project, issue_type, components = TEMPLATES.get(team, TEMPLATES[DEFAULT_TEAM])
    severity = labels.get("severity", "warning")
    summary = annotations.get("summary") or labels.get("alertname", "alert")
    # 001's ticket service linked the runbook too (its "Add runbook link if available").
    runbook = [f"*Runbook:* {annotations['runbook_url']}", ""] if annotations.get("runbook_url") \
        else []
    description = "\n".join(
        [f"h2. {labels.get('alertname', 'alert')}", "",
         annotations.get("description", ""), "", *runbook, "h2. Labels", ""]
        + [f"*{k}:* {v}" for k, v in sorted(labels.items())]
        + [f"*startsAt:* {alert.get('startsAt', '')}"])
    return {"fields": {
        "project": {"key": project},
        "summary": f"[ALERT] {labels.get('alertname', '')}: {summary}",
        "description": description,
        "issuetype": {"name": issue_type},
        "priority": {"name": PRIORITIES.get(severity, "Medium")},
        "labels": ["monitoring", "alert", team, severity, labels.get("service", "unknown")],
        "components": [{"name": c} for c in components],
    }}


class TicketBook:
    """Tickets by alert key, in SQLite."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)
        self.lock = threading.Lock()

    def claim(self, key: str, project: str, alertname: str, team: str, severity: str) -> bool:
        """Reserve ``key``; False when a ticket exists or another delivery is creating it."""
        with self.lock, self.db:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO tickets VALUES (?,NULL,?,?,?,?,?)",
                (key, project, alertname, team, severity, time.time()))
            return cursor.rowcount == 1

    def confirm(self, key: str, ticket: str) -> None:
        """Store the Jira key of a claimed alert."""
        with self.lock, self.db:
            self.db.execute("UPDATE tickets SET ticket=? WHERE alert_key=?", (ticket, key))

    def release(self, key: str) -> None:
        """Give a claim back (Jira failed), so a retry can create the ticket."""
        with self.lock, self.db:
            self.db.execute("DELETE FROM tickets WHERE alert_key=? AND ticket IS NULL", (key,))

    def all(self) -> list[dict[str, Any]]:
        """Every ticket, oldest first."""
        with self.lock:
            rows = self.db.execute("SELECT alert_key, ticket, project, alertname, team, severity, "
                                   "created FROM tickets ORDER BY created").fetchall()
        names = ("alert_key", "ticket", "project", "alertname", "team", "severity", "created")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def close(self) -> None:
        """Close the database."""
        self.db.close()


class TicketDesk:
    """Turns webhook alerts into Jira tickets, at most one per alert key."""

    def __init__(self, book: TicketBook, jira_url: str) -> None:
        self.book = book
        self.jira_url = jira_url.rstrip("/")
        self.session = requests.Session()

    def handle(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, answer): 502 when Jira failed for any alert, so Alertmanager retries."""
        created, failed = [], []
        for alert in payload.get("alerts") or []:
            if not wants_ticket(alert):
                continue
            labels = alert.get("labels") or {}
            key = ticket_key(labels)
            body = issue_fields(alert)
            fields = body["fields"]
            team = labels.get("team", DEFAULT_TEAM)
            if not self.book.claim(key, fields["project"]["key"], labels.get("alertname", ""),
                                   team, labels.get("severity", "")):
                continue
            try:
                response = self.session.post(self.jira_url + "/rest/api/2/issue", json=body,
                                             timeout=5)
                if response.status_code != 201:
                    raise requests.HTTPError(f"Jira answered {response.status_code}: "
                                             f"{response.text[:200]}")
                ticket = str(response.json()["key"])
            except (requests.RequestException, ValueError, KeyError) as exc:
                self.book.release(key)
                failed.append(labels.get("alertname", ""))
                logger.error("ticket for %s not created: %s", labels.get("alertname"), exc)
                continue
            self.book.confirm(key, ticket)
            created.append(ticket)
            logger.info("created %s for %s", ticket, labels.get("alertname"))
        code = 502 if failed else 200
        return code, {"status": "error" if failed else "success", "tickets_created": created,
                      "failed": failed}


class _Handler(WebhookHandler):
    server: _Server
    webhook_paths = ("/webhook", "/create-ticket")
    status_path = "/tickets"

    def status(self) -> dict[str, Any]:
        tickets = self.server.desk.book.all()
        return {"tickets": tickets, "total": len(tickets)}

    def on_webhook(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self.server.desk.handle(payload)


class _Server(InheritedSocketServer):
    def __init__(self, sock: socket.socket, desk: TicketDesk) -> None:
        super().__init__(sock, _Handler)
        self.desk = desk


def main(argv: list[str] | None = None) -> int:
    """Serve the webhook on the inherited socket until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m alertdrill.services.tickets")
    add_listen_arguments(parser)
    parser.add_argument("--db", type=Path, required=True, help="SQLite tickets (kept across restarts)")
    parser.add_argument("--jira-url", required=True, help="base URL of the Jira REST API")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    book = TicketBook(args.db)
    try:
        serve_until_signalled(_Server(listening_socket(args), TicketDesk(book, args.jira_url)))
    finally:
        book.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
