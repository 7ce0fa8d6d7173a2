"""The notification sink: a real HTTP and SMTP endpoint that records every delivery.

It answers each wire format as the real service does (Slack ``ok``, PagerDuty ``202``, …), stamps
each delivery with ``time.monotonic()`` — a system-wide clock on Linux, so the harness compares it
with its own — and can be told to fail (status, delay, dropped connection) to test retries.
Runs as its own process: ``python -m alertdrill.sink``.
"""

from __future__ import annotations

import asyncio
import email
import itertools
import json
import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from alertdrill.sink import formats
from alertdrill.sink.protocol import Destination, parse_email_address, parse_http_path
from alertdrill.sink.records import Delivery

logger = logging.getLogger(__name__)

#: Deliveries kept in memory; the oldest are dropped past this (a drill sends hundreds).
MAX_DELIVERIES = 100_000


@dataclass(frozen=True)
class Fault:
    """A receiver outage the sink simulates: answer ``status``, wait ``seconds``, or ``drop``."""

    id: str
    receiver: str | None
    integration: str | None
    mode: str
    status: int = 500
    seconds: float = 0.0

    def matches(self, dest: Destination) -> bool:
        """True when this fault applies to deliveries for ``dest``."""
        return (self.receiver in (None, dest.receiver)) and (
            self.integration in (None, dest.integration))

    def describe(self) -> str:
        """Short text recorded on each faulted delivery."""
        return {"status": f"status {self.status}", "delay": f"delay {self.seconds:g}s",
                "drop": "connection dropped"}[self.mode]

    def to_json(self) -> dict[str, Any]:
        """JSON form for the control API."""
        return {"id": self.id, "receiver": self.receiver, "integration": self.integration,
                "mode": self.mode, "status": self.status, "seconds": self.seconds}


class Store:
    """Thread-safe deliveries and faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deliveries: deque[Delivery] = deque(maxlen=MAX_DELIVERIES)
        self._seq = itertools.count(1)
        self._fault_ids = itertools.count(1)
        self.faults: dict[str, Fault] = {}

    def record(self, **fields: Any) -> Delivery:
        """Append a delivery with the next sequence number."""
        with self._lock:
            delivery = Delivery(seq=next(self._seq), **fields)
            self._deliveries.append(delivery)
        return delivery

    def after(self, seq: int) -> list[Delivery]:
        """Deliveries with a sequence number above ``seq``, in arrival order."""
        with self._lock:
            return [d for d in self._deliveries if d.seq > seq]

    def fault_for(self, dest: Destination) -> Fault | None:
        """The newest fault matching ``dest``."""
        with self._lock:
            matching = [f for f in self.faults.values() if f.matches(dest)]
        return matching[-1] if matching else None

    def add_fault(self, spec: dict[str, Any]) -> Fault:
        """Register a fault from its JSON spec (validated)."""
        mode = spec.get("mode", "status")
        if mode not in ("status", "delay", "drop"):
            raise ValueError(f"unknown fault mode {mode!r}: use status, delay or drop")
        with self._lock:
            fault = Fault(f"f{next(self._fault_ids)}", spec.get("receiver"), spec.get("integration"),
                          mode, int(spec.get("status", 500)), float(spec.get("seconds", 0.0)))
            self.faults[fault.id] = fault
        return fault

    def heal(self, fault_id: str | None) -> bool:
        """Remove one fault (or all); False when the id is unknown."""
        with self._lock:
            if fault_id is None:
                self.faults.clear()
                return True
            return self.faults.pop(fault_id, None) is not None

    def reset(self) -> None:
        """Forget deliveries and faults (sequence numbers keep increasing)."""
        with self._lock:
            self._deliveries.clear()
            self.faults.clear()


class _Handler(BaseHTTPRequestHandler):
    server: SinkHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _send(self, code: int, body: bytes | dict[str, Any] | list[Any],
              ctype: str = "application/json") -> None:
        raw = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        store = self.server.store
        url = urlparse(self.path)
        if url.path == "/_health":
            self._send(200, {"ok": True})
        elif url.path == "/_deliveries":
            after = int(parse_qs(url.query).get("after", ["0"])[0])
            items = store.after(after)
            last = items[-1].seq if items else after
            self._send(200, {"deliveries": [d.to_json() for d in items], "last_seq": last})
        elif url.path == "/_faults":
            self._send(200, {"faults": [f.to_json() for f in store.faults.values()]})
        else:
            self._send(404, {"error": f"unknown path {url.path}"})

    def do_DELETE(self) -> None:
        path = urlparse(self.path).path
        if path == "/_faults":
            self.server.store.heal(None)
            self._send(200, {"healed": "all"})
        elif path.startswith("/_faults/"):
            fault_id = path.rsplit("/", 1)[1]
            if self.server.store.heal(fault_id):
                self._send(200, {"healed": fault_id})
            else:
                self._send(404, {"error": f"no fault {fault_id}"})
        else:
            self._send(404, {"error": f"unknown path {path}"})

    def do_POST(self) -> None:
        path = urlparse(self.path).path
        body = self._body()
        store = self.server.store
        if path == "/_reset":
            store.reset()
            self._send(200, {"reset": True})
            return
        if path == "/_faults":
            try:
                fault = store.add_fault(json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                self._send(400, {"error": str(exc)})
                return
            self._send(200, {"id": fault.id})
            return
        dest = parse_http_path(path)
        if dest is None:
            self._send(404, {"error": f"unknown path {path}"})
            return
        self._deliver(dest, body)

    def _deliver(self, dest: Destination, body: bytes) -> None:
        arrived = time.monotonic()
        store = self.server.store
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError:
            payload = {"raw": body.decode(errors="replace")}
            status, alerts, group_key, text = None, (), None, payload["raw"]
            code, ctype, answer = 400, "application/json", b'{"error": "invalid JSON"}'
        else:
            status, alerts, group_key, text = formats.read_json_delivery(dest.integration, payload)
            code, ctype, answer = formats.answer(dest.integration, payload, 0)
        fault = store.fault_for(dest)
        if fault is not None and fault.mode == "status":
            code, ctype, answer = fault.status, "application/json", b'{"error": "alertdrill fault"}'
        recorded_code = 0 if fault is not None and fault.mode in ("drop", "delay") else code
        delivery = store.record(
            arrived=arrived, destination=dest, status=status, alerts=alerts, group_key=group_key,
            text=text, payload=payload, response_code=recorded_code,
            fault=fault.describe() if fault else None,
        )
        if dest.integration == "jira" and code == 201:
            code, ctype, answer = formats.answer("jira", payload, delivery.seq)
        if fault is not None and fault.mode == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.mode == "delay":
            time.sleep(fault.seconds)
        self._send(code, answer, ctype)


class SinkHTTPServer(ThreadingHTTPServer):
    """HTTP server on an already-bound listening socket."""

    daemon_threads = True

    def __init__(self, sock: socket.socket, store: Store) -> None:
        super().__init__(sock.getsockname()[:2], _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.store = store


class SMTPSink:
    """An aiosmtpd server on an already-bound socket, in its own thread and event loop."""

    def __init__(self, sock: socket.socket, store: Store) -> None:
        self.sock = sock
        self.store = store
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="smtp-sink", daemon=True)
        self._started = threading.Event()

    def start(self) -> None:
        """Serve in a background thread; returns once accepting."""
        self.thread.start()
        self._started.wait(5)

    def stop(self) -> None:
        """Stop the loop."""
        self.loop.call_soon_threadsafe(self.loop.stop)

    def _run(self) -> None:
        from aiosmtpd.smtp import SMTP

        asyncio.set_event_loop(self.loop)
        handler = _SMTPHandler(self.store)
        server = self.loop.run_until_complete(
            self.loop.create_server(lambda: SMTP(handler, hostname="alertdrill-sink"),
                                    sock=self.sock))
        self._started.set()
        try:
            self.loop.run_forever()
        finally:
            server.close()


class _SMTPHandler:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        arrived = time.monotonic()
        message = email.message_from_bytes(envelope.content)
        mail = formats.read_email(message)
        answer = "250 Message accepted for delivery"
        for rcpt in envelope.rcpt_tos:
            dest = parse_email_address(rcpt) or Destination(-1, "<unknown>", "email", 0)
            fault = self.store.fault_for(dest)
            code = 250
            if fault is not None and fault.mode == "status":
                answer, code = "451 4.3.0 alertdrill fault: try again later", 451
            elif fault is not None and fault.mode == "delay":
                await asyncio.sleep(fault.seconds)
            self.store.record(
                arrived=arrived, destination=dest,
                status=formats.status_from_text(mail["subject"]), alerts=(), group_key=None,
                text=formats.email_text(mail), payload=mail, response_code=code,
                fault=fault.describe() if fault else None,
            )
            if fault is not None and fault.mode == "drop":
                server.transport.close()
                return "421 closing"
        return answer
