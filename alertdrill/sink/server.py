"""The notification sink: a real HTTP and SMTP endpoint that records every delivery.

It answers each wire format as the real service does (Slack ``ok``, PagerDuty ``202``, …), stamps
each delivery with ``time.monotonic()`` — a system-wide clock on Linux, so the harness compares it
with its own — and can be told to fail (status, delay, dropped connection) to test retries.
Runs as its own process: ``python -m alertdrill.sink``.

Memory is bounded: at most :data:`MAX_DELIVERIES` deliveries are kept (the oldest are forgotten
first; sequence numbers are never reused, so a reader notices the gap) and request bodies above
:data:`MAX_BODY` bytes are refused with 413.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from alertdrill.sink import formats
from alertdrill.sink.protocol import INTEGRATIONS, Destination, parse_email_address, parse_http_path
from alertdrill.sink.records import AlertStatus, Delivery, NotifiedAlert, parse_status

logger = logging.getLogger(__name__)

#: Deliveries kept in memory; past this the oldest are dropped (a long drill sends thousands).
MAX_DELIVERIES = 100_000
#: Largest request body accepted, in bytes (Alertmanager truncates far below this).
MAX_BODY = 16 * 1024 * 1024
#: Where e-mail to a recipient that does not encode a destination is recorded.
UNKNOWN_EMAIL = Destination(-1, "<unknown>", "email", 0)
FAULT_MODES = ("status", "delay", "drop")


@dataclass(frozen=True)
class Fault:
    """A receiver outage the sink simulates: answer ``status``, wait ``seconds``, or ``drop``."""

    id: str
    receiver: str | None
    integration: str | None
    mode: str
    status: int = 500
    seconds: float = 0.0

    @classmethod
    def from_spec(cls, fault_id: str, spec: object) -> Fault:
        """Validate a control-API spec; ``ValueError`` says what is wrong with it."""
        if not isinstance(spec, dict):
            raise ValueError("fault spec must be a JSON object")
        receiver, integration = spec.get("receiver"), spec.get("integration")
        mode = spec.get("mode", "status")
        if receiver is not None and not isinstance(receiver, str):
            raise ValueError("receiver must be a string or null")
        if integration is not None and integration not in INTEGRATIONS:
            raise ValueError(f"integration must be null or one of {', '.join(INTEGRATIONS)}")
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}: use status, delay or drop")
        status, seconds = int(spec.get("status", 500)), float(spec.get("seconds", 0.0))
        if not 100 <= status <= 599:
            raise ValueError(f"status {status} is not an HTTP status code")
        if not 0 <= seconds <= 3600:
            raise ValueError(f"seconds {seconds} must be between 0 and 3600")
        return cls(fault_id, receiver, integration, mode, status, seconds)

    def matches(self, dest: Destination) -> bool:
        """True when this fault applies to deliveries for ``dest``."""
        return self.receiver in (None, dest.receiver) and self.integration in (None, dest.integration)

    def describe(self) -> str:
        """Short text recorded on each faulted delivery."""
        return {"status": f"status {self.status}", "delay": f"delay {self.seconds:g}s",
                "drop": "connection dropped"}[self.mode]

    def to_json(self) -> dict[str, Any]:
        """JSON form for the control API."""
        return {"id": self.id, "receiver": self.receiver, "integration": self.integration,
                "mode": self.mode, "status": self.status, "seconds": self.seconds}


class Store:
    """Deliveries and faults shared by the HTTP threads and the SMTP loop, under one lock."""

    def __init__(self, max_deliveries: int = MAX_DELIVERIES) -> None:
        self._lock = threading.Lock()
        self._deliveries: deque[Delivery] = deque(maxlen=max_deliveries)
        self._last_seq = 0
        self._last_fault = 0
        self._faults: dict[str, Fault] = {}

    @property
    def last_seq(self) -> int:
        """The highest sequence number handed out so far (0 before any delivery)."""
        with self._lock:
            return self._last_seq

    def record(self, **fields: Any) -> Delivery:
        """Append a delivery with the next sequence number."""
        with self._lock:
            self._last_seq += 1
            delivery = Delivery(seq=self._last_seq, **fields)
            self._deliveries.append(delivery)
        return delivery

    def after(self, seq: int) -> list[Delivery]:
        """Deliveries with a sequence number above ``seq``, in arrival order."""
        with self._lock:
            if seq >= self._last_seq:
                return []
            return [d for d in self._deliveries if d.seq > seq]

    def fault_for(self, dest: Destination) -> Fault | None:
        """The newest fault matching ``dest``."""
        with self._lock:
            matching = [f for f in self._faults.values() if f.matches(dest)]
        return matching[-1] if matching else None

    def faults(self) -> list[Fault]:
        """Active faults, oldest first."""
        with self._lock:
            return list(self._faults.values())

    def add_fault(self, spec: object) -> Fault:
        """Register a fault from its JSON spec (``ValueError`` when invalid)."""
        with self._lock:
            fault = Fault.from_spec(f"f{self._last_fault + 1}", spec)
            self._last_fault += 1
            self._faults[fault.id] = fault
        return fault

    def heal(self, fault_id: str | None) -> bool:
        """Remove one fault (or all); False when the id is unknown."""
        with self._lock:
            if fault_id is None:
                self._faults.clear()
                return True
            return self._faults.pop(fault_id, None) is not None

    def reset(self) -> None:
        """Forget deliveries and faults (sequence numbers keep increasing)."""
        with self._lock:
            self._deliveries.clear()
            self._faults.clear()


def split_delivery_path(path: str) -> tuple[Destination, str] | None:
    """Destination and trailing API path of a delivery URL; ``None`` if it is not one.

    Alertmanager appends its own path to some configured URLs: OpsGenie ``v2/alerts[/…/close]``
    and VictorOps ``<api_key>/<routing_key>`` right after our index, without a slash.
    """
    parts = path.split("?", 1)[0].lstrip("/").split("/")
    if len(parts) < 5:
        return None
    last = parts[4]
    digits = len(last) - len(last.lstrip("0123456789"))
    if digits == 0:
        return None
    dest = parse_http_path("/" + "/".join([*parts[:4], last[:digits]]))
    if dest is None:
        return None
    suffix = "/".join([last[digits:], *parts[5:]]).strip("/")
    return dest, unquote(suffix)


def read_delivery(dest: Destination, suffix: str, payload: dict[str, Any]) -> tuple[
        AlertStatus | None, tuple[NotifiedAlert, ...], str | None, str]:
    """(status, structured alerts, group key, human text) of a parsed HTTP delivery."""
    try:
        raw_status, alerts, group_key, text = formats.read_json_delivery(dest.integration, payload)
    except (AttributeError, TypeError, ValueError) as exc:  # valid JSON, unexpected shape
        logger.warning("%s: cannot read the %s payload: %s", dest.label, dest.integration, exc)
        return None, (), None, ""
    status = parse_status(raw_status)
    if status is None and dest.integration == "opsgenie":
        status = "resolved" if suffix.endswith("/close") else "firing" if suffix == "v2/alerts" else None
    elif status is None and dest.integration == "victorops" and payload.get("message_type"):
        status = "resolved" if str(payload["message_type"]).upper() == "RECOVERY" else "firing"
    return status, alerts, None if group_key is None else str(group_key), text


class _Handler(BaseHTTPRequestHandler):
    server: SinkHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _send(self, code: int, body: bytes | dict[str, Any], ctype: str = "application/json") -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, code: int, message: str) -> None:
        self._send(code, {"error": message})

    def _body(self) -> bytes | None:
        """The request body (Content-Length or chunked); ``None`` after answering 413."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                length = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                size += length
                if size > MAX_BODY:
                    break
                chunks.append(self.rfile.read(length))
                self.rfile.readline()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            if length <= MAX_BODY:
                return self.rfile.read(length) if length > 0 else b""
        self.close_connection = True
        self._error(413, f"request body larger than {MAX_BODY} bytes")
        return None

    def do_GET(self) -> None:
        store = self.server.store
        url = urlparse(self.path)
        if url.path == "/_health":
            self._send(200, {"ok": True})
        elif url.path == "/_deliveries":
            try:
                after = int(parse_qs(url.query).get("after", ["0"])[0])
            except ValueError:
                self._error(400, "after must be an integer sequence number")
                return
            last = store.last_seq
            items = store.after(after)
            self._send(200, {"deliveries": [d.to_json() for d in items],
                             "last_seq": max(last, items[-1].seq if items else 0)})
        elif url.path == "/_faults":
            self._send(200, {"faults": [f.to_json() for f in store.faults()]})
        else:
            self._error(404, f"unknown path {url.path}")

    def do_DELETE(self) -> None:
        path = urlparse(self.path).path
        if path == "/_faults":
            self.server.store.heal(None)
            self._send(200, {"healed": "all"})
        elif path.startswith("/_faults/"):
            fault_id = unquote(path[len("/_faults/"):])
            if self.server.store.heal(fault_id):
                self._send(200, {"healed": fault_id})
            else:
                self._error(404, f"no fault {fault_id!r}")
        else:
            self._error(404, f"unknown path {path}")

    def do_POST(self) -> None:
        path = urlparse(self.path).path
        body = self._body()
        if body is None:
            return
        store = self.server.store
        if path == "/_reset":
            store.reset()
            self._send(200, {"reset": True, "last_seq": store.last_seq})
        elif path == "/_faults":
            try:
                fault = store.add_fault(json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                self._error(400, f"bad fault: {exc}")
                return
            logger.info("fault %s added: %s", fault.id, fault.to_json())
            self._send(200, {"id": fault.id})
        else:
            self._notify(path, body)

    def do_PUT(self) -> None:
        """OpsGenie updates alert messages and descriptions with PUT."""
        body = self._body()
        if body is not None:
            self._notify(urlparse(self.path).path, body)

    def _notify(self, path: str, body: bytes) -> None:
        arrived = time.monotonic()
        found = split_delivery_path(path)
        if found is None:
            self._error(404, f"unknown path {path}: deliveries go to /n/<peer>/<receiver>/"
                             "<integration>/<index>")
            return
        dest, suffix = found
        store = self.server.store
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("not a JSON object")
        except ValueError:
            payload = {"raw": body.decode(errors="replace")}
            status, alerts, group_key, text = None, (), None, ""
            code = 400
        else:
            status, alerts, group_key, text = read_delivery(dest, suffix, payload)
            code = formats.answer(dest.integration, payload, 0)[0]
        fault = store.fault_for(dest)
        if fault is not None and fault.mode == "status":
            code = fault.status
        delivery = store.record(
            arrived=arrived, destination=dest, status=status, alerts=alerts, group_key=group_key,
            text=text, payload=payload,
            response_code=0 if fault is not None and fault.mode != "status" else code,
            fault=fault.describe() if fault else None,
        )
        logger.info("#%d %s %s%s → %s", delivery.seq, dest.label, status or "-",
                    f" fault={delivery.fault}" if fault else "", delivery.response_code)
        if fault is not None and fault.mode == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault is not None and fault.mode == "delay":
            time.sleep(fault.seconds)
        if code == 400:
            self._error(400, "body is not a JSON object")
        elif fault is not None and fault.mode == "status":
            self._error(code, f"alertdrill fault {fault.id}: {fault.describe()}")
        else:
            _, ctype, answer = formats.answer(dest.integration, payload, delivery.seq)
            self._send(code, answer, ctype)


class SinkHTTPServer(ThreadingHTTPServer):
    """HTTP server on an already-bound, listening socket; one daemon thread per connection."""

    daemon_threads = True

    def __init__(self, sock: socket.socket, store: Store) -> None:
        super().__init__(sock.getsockname()[:2], _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.store = store


class SMTPSink:
    """An aiosmtpd server on an already-bound socket, in its own thread and event loop.

    (aiosmtpd's ``Controller`` cannot serve port 0: it connects to the port to detect start-up.)
    """

    def __init__(self, sock: socket.socket, store: Store) -> None:
        self.sock = sock
        self.store = store
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="smtp-sink", daemon=True)
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._server: asyncio.AbstractServer | None = None

    def start(self, timeout: float = 5.0) -> None:
        """Serve in a background thread; returns once accepting, raises if that failed."""
        self.thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError(f"SMTP server did not start within {timeout:g}s")
        if self._error is not None:
            raise RuntimeError(f"SMTP server failed to start: {self._error}") from self._error

    def stop(self) -> None:
        """Stop accepting and end the loop (in-flight sessions are abandoned)."""
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(0.2)

    def _run(self) -> None:
        from aiosmtpd.smtp import SMTP

        asyncio.set_event_loop(self.loop)
        handler = _SMTPHandler(self.store)
        try:
            self._server = self.loop.run_until_complete(self.loop.create_server(
                lambda: SMTP(handler, hostname="alertdrill-sink", loop=self.loop), sock=self.sock))
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._started.set()
            return
        self._started.set()
        try:
            self.loop.run_forever()
        finally:
            self._server.close()


class _SMTPHandler:
    """aiosmtpd hooks: accept any recipient, record one delivery per recipient of each message."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        arrived = time.monotonic()
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        mail = formats.read_email(message)
        status = formats.status_from_text(mail["subject"])
        text = formats.email_text(mail)
        dests = [parse_email_address(r) or UNKNOWN_EMAIL for r in envelope.rcpt_tos]
        # One SMTP answer covers the whole message: the newest fault matching any recipient.
        faults = [f for f in (self.store.fault_for(d) for d in dests) if f is not None]
        fault = max(faults, key=lambda f: int(f.id[1:]), default=None)
        code, answer = 250, "250 Message accepted for delivery"
        if fault is not None and fault.mode == "status":
            code, answer = 451, f"451 4.3.0 alertdrill fault {fault.id}: try again later"
        for dest in dests:
            delivery = self.store.record(
                arrived=arrived, destination=dest, status=parse_status(status), alerts=(),
                group_key=None, text=text, payload=mail,
                response_code=0 if fault is not None and fault.mode != "status" else code,
                fault=fault.describe() if fault else None,
            )
            logger.info("#%d %s %s%s → %s", delivery.seq, dest.label, status or "-",
                        f" fault={delivery.fault}" if fault else "", delivery.response_code)
        if fault is not None and fault.mode == "drop":
            server.transport.abort()
            return "421 4.3.0 closing"  # never reaches the client: the connection is gone
        if fault is not None and fault.mode == "delay":
            await asyncio.sleep(fault.seconds)
        return answer
