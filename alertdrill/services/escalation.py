"""The escalation service of seed 001, corrected: real process, v2 API, persisted, cancellable.

Alertmanager's critical receivers send it their alerts (webhook). For each firing alert it
schedules 001's levels — critical: level-2 at 15 min, level-3 at 25 min, executive at 30 min;
warning: level-2 at 90 min — counted from the first time it heard of the alert. When a level is
due it re-posts the alert to every Alertmanager peer through the **v2** API with the label
``escalation=<level>``, and keeps re-posting it (as Prometheus re-sends firing alerts) so that
Alertmanager does not resolve it by timeout; a resolved notification cancels the pending levels
and resolves the escalated copies. What the seed got wrong (SEED-FINDINGS S1–S4): it posted to
the removed v1 API, kept its state in memory (a restart lost every pending escalation), never
cancelled on resolve, and its escalated alerts had no route of their own.

State lives in SQLite with wall-clock due times, so a restart picks up exactly where it was.
Delays are real-world and divided by ``--time-scale`` like every other duration of the drill.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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

logger = logging.getLogger("alertdrill.escalation")

#: Seed 001's schedule, in real-world seconds from the first notification the service receives.
POLICY: dict[str, tuple[tuple[float, str], ...]] = {
    "critical": ((15 * 60, "level-2"), (25 * 60, "level-3"), (30 * 60, "executive")),
    "warning": ((90 * 60, "level-2"),),
}
#: Label the escalated copies carry; alerts that already carry it are never escalated again.
LEVEL_LABEL = "escalation"
#: Real-world seconds between re-posts of an escalated alert (Prometheus's resend delay).
RESEND = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS escalations (
    key TEXT PRIMARY KEY, alert TEXT NOT NULL, severity TEXT NOT NULL, started REAL NOT NULL);
CREATE TABLE IF NOT EXISTS levels (
    key TEXT NOT NULL, level TEXT NOT NULL, due REAL NOT NULL, done REAL,
    PRIMARY KEY (key, level));
CREATE TABLE IF NOT EXISTS history (
    key TEXT NOT NULL, level TEXT NOT NULL, what TEXT NOT NULL, at REAL NOT NULL);
"""


def alert_key(labels: dict[str, str]) -> str:
    """The identity of an alert: all its labels but the escalation level (seed: name+instance,
    which merged different alerts of one instance)."""
    own = {k: v for k, v in sorted(labels.items()) if k != LEVEL_LABEL}
    return hashlib.sha256(json.dumps(own, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Due:
    """A level whose time has come, with the alert to re-post."""

    key: str
    level: str
    alert: dict[str, Any]


class EscalationBook:
    """Pending and done escalations, in SQLite; every method is one transaction."""

    def __init__(self, path: Path, time_scale: float = 1.0,
                 policy: dict[str, tuple[tuple[float, str], ...]] | None = None) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)
        self.lock = threading.Lock()
        self.scale = time_scale
        self.policy = POLICY if policy is None else policy

    def start(self, alert: dict[str, Any], now: float) -> bool:
        """Schedule the levels of a firing alert; False when it is already escalating, carries
        a level itself, or its severity has no schedule."""
        labels = dict(alert.get("labels") or {})
        severity = labels.get("severity", "")
        if LEVEL_LABEL in labels and labels[LEVEL_LABEL] != "immediate":
            return False
        if severity not in self.policy:
            return False
        key = alert_key(labels)
        stored = {"labels": labels, "annotations": dict(alert.get("annotations") or {}),
                  "generatorURL": alert.get("generatorURL", "")}
        with self.lock, self.db:
            if self.db.execute("SELECT 1 FROM escalations WHERE key=?", (key,)).fetchone():
                return False
            self.db.execute("INSERT INTO escalations VALUES (?,?,?,?)",
                            (key, json.dumps(stored), severity, now))
            for delay, level in self.policy[severity]:
                self.db.execute("INSERT INTO levels VALUES (?,?,?,NULL)",
                                (key, level, now + delay / self.scale))
            self.db.execute("INSERT INTO history VALUES (?,?,?,?)", (key, "", "started", now))
        return True

    def resolve(self, alert: dict[str, Any], now: float) -> list[Due]:
        """Cancel the alert's pending levels; return the escalated copies to resolve."""
        key = alert_key(dict(alert.get("labels") or {}))
        with self.lock, self.db:
            row = self.db.execute("SELECT alert FROM escalations WHERE key=?", (key,)).fetchone()
            if row is None:
                return []
            done = [r[0] for r in self.db.execute(
                "SELECT level FROM levels WHERE key=? AND done IS NOT NULL", (key,))]
            pending = [r[0] for r in self.db.execute(
                "SELECT level FROM levels WHERE key=? AND done IS NULL", (key,))]
            self.db.execute("DELETE FROM levels WHERE key=?", (key,))
            self.db.execute("DELETE FROM escalations WHERE key=?", (key,))
            for level in pending:
                self.db.execute("INSERT INTO history VALUES (?,?,?,?)", (key, level, "cancelled", now))
            self.db.execute("INSERT INTO history VALUES (?,?,?,?)", (key, "", "resolved", now))
        stored = json.loads(row[0])
        return [Due(key, level, stored) for level in done]

    def due(self, now: float) -> list[Due]:
        """Levels whose time has come and that were not posted yet, oldest first."""
        with self.lock:
            rows = self.db.execute(
                "SELECT l.key, l.level, e.alert FROM levels l JOIN escalations e USING (key) "
                "WHERE l.done IS NULL AND l.due <= ? ORDER BY l.due", (now,)).fetchall()
        return [Due(k, level, json.loads(a)) for k, level, a in rows]

    def mark_done(self, due: Due, now: float) -> None:
        """Record that a level was posted."""
        with self.lock, self.db:
            self.db.execute("UPDATE levels SET done=? WHERE key=? AND level=?",
                            (now, due.key, due.level))
            self.db.execute("INSERT INTO history VALUES (?,?,?,?)",
                            (due.key, due.level, "escalated", now))

    def escalated(self) -> list[Due]:
        """Every level already posted whose alert still fires (to be kept alive)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT l.key, l.level, e.alert FROM levels l JOIN escalations e USING (key) "
                "WHERE l.done IS NOT NULL").fetchall()
        return [Due(k, level, json.loads(a)) for k, level, a in rows]

    def status(self) -> dict[str, Any]:
        """Active escalations with each level's due time and state, and the history."""
        with self.lock:
            active = self.db.execute(
                "SELECT e.key, e.alert, e.severity, e.started, l.level, l.due, l.done "
                "FROM escalations e JOIN levels l USING (key) ORDER BY e.started, l.due").fetchall()
            history = self.db.execute("SELECT key, level, what, at FROM history ORDER BY at").fetchall()
        escalations: dict[str, dict[str, Any]] = {}
        for key, alert, severity, started, level, due, done in active:
            entry = escalations.setdefault(key, {
                "alertname": json.loads(alert)["labels"].get("alertname", ""),
                "severity": severity, "started": started, "levels": []})
            entry["levels"].append({"level": level, "due": due, "done": done})
        return {"active_escalations": len(escalations), "escalations": escalations,
                "history": [{"key": k, "level": lv, "what": w, "at": a} for k, lv, w, a in history]}

    def close(self) -> None:
        """Close the database."""
        self.db.close()


def escalated_alert(due: Due, now: float, valid_for: float, resolved: bool = False) -> dict[str, Any]:
    """The v2 API alert for one level: the original plus ``escalation=<level>``."""
    labels = {**due.alert["labels"], LEVEL_LABEL: due.level}
    annotations = dict(due.alert.get("annotations") or {})
    annotations["escalation_level"] = due.level
    description = annotations.get("description", "")
    annotations["description"] = f"{description}\n\nESCALATED TO {due.level.upper()}".strip()
    ends = now if resolved else now + valid_for
    return {"labels": labels, "annotations": annotations,
            "generatorURL": due.alert.get("generatorURL", ""),
            "endsAt": datetime.fromtimestamp(ends, UTC).isoformat()}


class Escalator:
    """Posts due levels to every Alertmanager peer and keeps escalated alerts alive."""

    def __init__(self, book: EscalationBook, alertmanagers: list[str],
                 clock: Callable[[], float] = time.time,
                 post: Callable[[str, list[dict[str, Any]]], bool] | None = None) -> None:
        self.book = book
        self.alertmanagers = [u.rstrip("/") for u in alertmanagers]
        self.clock = clock
        self.resend = RESEND / book.scale
        self.session = requests.Session()
        self._post_one = post or self._http_post
        self._last_resend = 0.0

    def _http_post(self, url: str, alerts: list[dict[str, Any]]) -> bool:
        try:
            response = self.session.post(url + "/api/v2/alerts", json=alerts, timeout=2)
        except requests.RequestException as exc:
            logger.warning("alertmanager %s unreachable: %s", url, exc)
            return False
        if response.status_code != 200:
            logger.warning("alertmanager %s refused: %s %s", url, response.status_code,
                           response.text[:200])
        return response.status_code == 200

    def post(self, alerts: list[dict[str, Any]]) -> bool:
        """Send to every peer (as Prometheus does); True when at least one accepted."""
        accepted = [self._post_one(url, alerts) for url in self.alertmanagers]
        return any(accepted)

    def tick(self) -> None:
        """Post what is due; re-post live escalations every resend interval."""
        now = self.clock()
        for due in self.book.due(now):
            if self.post([escalated_alert(due, now, 4 * self.resend)]):
                self.book.mark_done(due, now)
                logger.info("escalated %s (%s) to %s", due.alert["labels"].get("alertname"),
                            due.key, due.level)
            else:
                logger.error("could not escalate %s to %s: no Alertmanager accepted it",
                             due.key, due.level)
        if now - self._last_resend >= self.resend:
            self._last_resend = now
            live = [escalated_alert(d, now, 4 * self.resend) for d in self.book.escalated()]
            if live:
                self.post(live)

    def handle(self, payload: dict[str, Any]) -> dict[str, int]:
        """An Alertmanager webhook: start on firing, cancel (and resolve copies) on resolved."""
        now = self.clock()
        started = resolved = 0
        for alert in payload.get("alerts") or []:
            if alert.get("status") == "firing":
                if self.book.start(alert, now):
                    started += 1
                    logger.info("escalation started for %s", alert.get("labels", {}).get("alertname"))
            elif alert.get("status") == "resolved":
                copies = self.book.resolve(alert, now)
                if copies:
                    self.post([escalated_alert(d, now, 0, resolved=True) for d in copies])
                resolved += 1
        return {"started": started, "resolved": resolved}


class _Handler(WebhookHandler):
    server: _Server
    webhook_paths = ("/webhook", "/escalate")

    def status(self) -> dict[str, Any]:
        return self.server.escalator.book.status()

    def on_webhook(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 200, {"status": "success", **self.server.escalator.handle(payload)}


class _Server(InheritedSocketServer):
    def __init__(self, sock: socket.socket, escalator: Escalator) -> None:
        super().__init__(sock, _Handler)
        self.escalator = escalator


def main(argv: list[str] | None = None) -> int:
    """Serve the webhook on the inherited socket and escalate until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m alertdrill.services.escalation")
    add_listen_arguments(parser)
    parser.add_argument("--db", type=Path, required=True, help="SQLite state (kept across restarts)")
    parser.add_argument("--alertmanager", action="append", default=[], required=True,
                        help="base URL of an Alertmanager peer (repeat for each peer)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="real-world seconds per measured second (delays are divided by it)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    book = EscalationBook(args.db, args.time_scale)
    escalator = Escalator(book, args.alertmanager)
    pending = book.status()["active_escalations"]
    logger.info("escalation service up; %d escalation(s) restored from %s", pending, args.db)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.05):
            try:
                escalator.tick()
            except Exception:
                logger.exception("escalation tick failed")

    ticker = threading.Thread(target=loop, name="escalation-ticker", daemon=True)
    ticker.start()
    try:
        serve_until_signalled(_Server(listening_socket(args), escalator))
    finally:
        stop.set()
        ticker.join(timeout=2)
        book.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
