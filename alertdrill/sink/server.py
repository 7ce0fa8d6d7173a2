"""The notification sink: a real HTTP and SMTP endpoint that records every delivery.

It answers each wire format as the real service does (Slack ``ok``, PagerDuty ``202``, …), stamps
each delivery with ``time.monotonic()`` — a system-wide clock on Linux, so the harness compares it
with its own — and can be told to fail (status, delay, dropped connection) to test retries.
Runs as its own process: ``python -m alertdrill.sink``.

Memory is bounded: at most :data:`MAX_DELIVERIES` deliveries are kept by the :class:`Store` (the
oldest are forgotten first; sequence numbers are never reused, so a reader notices the gap) and
request bodies above :data:`MAX_BODY` bytes are refused with 413.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import logging
import socket
import sys
import threading
import time
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from alertdrill.sink import formats
from alertdrill.sink.forward import ForwardTable
from alertdrill.sink.protocol import Destination, parse_email_address, parse_http_path
from alertdrill.sink.records import MAX_DELIVERIES, AlertStatus, Fault, NotifiedAlert, Store, parse_status

logger = logging.getLogger(__name__)

__all__ = ["MAX_BODY", "MAX_DELIVERIES", "SMTPSink", "SinkHTTPServer", "Store", "html_text",
           "read_delivery", "split_delivery_path"]

#: Largest request body accepted, in bytes (Alertmanager truncates far below this).
MAX_BODY = 16 * 1024 * 1024
#: Where e-mail to a recipient that does not encode a destination is recorded.
UNKNOWN_EMAIL = Destination(-1, "<unknown>", "email", 0)


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
    status = parse_status(raw_status)  # from the rendered title, unless structured
    if dest.integration == "opsgenie" and (suffix == "v2/alerts" or suffix.endswith("/close")):
        status = "firing" if suffix == "v2/alerts" else "resolved"  # create / close
    elif dest.integration == "victorops" and payload.get("message_type"):
        status = "resolved" if str(payload["message_type"]).upper() == "RECOVERY" else "firing"
    return status, alerts, None if group_key is None else str(group_key), text


class _HTMLText(HTMLParser):
    """Visible text of an HTML e-mail: no head, style or script; a line per block element."""

    _HIDDEN = frozenset({"head", "style", "script", "title"})
    _BLOCKS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        self.parts.append("\n" if tag in self._BLOCKS else "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        self.parts.append("\n" if tag in self._BLOCKS else " " if tag == "td" else "")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_text(markup: str) -> str:
    """The readable text of an HTML body, one non-blank line per visual line."""
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


class _Handler(BaseHTTPRequestHandler):
    server: SinkHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body are written separately: with Nagle, every keep-alive answer waits ~40 ms.
    disable_nagle_algorithm = True

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
        """The request body (Content-Length or chunked); ``None`` once 400/413 was answered."""
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._error(400, "malformed Content-Length or chunk size")
            return None
        if body is None:
            self.close_connection = True
            self._error(413, f"request body larger than {MAX_BODY} bytes")
        return body

    def _read_body(self) -> bytes | None:
        """Read the body; ``None`` when it exceeds :data:`MAX_BODY`."""
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            length = int(self.headers.get("Content-Length") or 0)
            return None if length > MAX_BODY else self.rfile.read(length) if length > 0 else b""
        chunks: list[bytes] = []
        while (length := int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)) > 0:
            if sum(map(len, chunks)) + length > MAX_BODY:
                return None
            chunks.append(self.rfile.read(length))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(chunks)

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
        bad_json = False
        alerts: tuple[NotifiedAlert, ...] = ()
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("not a JSON object")
        except ValueError:
            payload = {"raw": body.decode(errors="replace")}
            status, group_key, text = None, None, ""
            code, bad_json = 400, True
        else:
            status, alerts, group_key, text = read_delivery(dest, suffix, payload)
            code = formats.answer(dest.integration, payload, 0)[0]
        fault = store.fault_for(dest)
        if fault is not None and fault.mode == "status":
            code = fault.status
        target = None if fault is not None or bad_json else self.server.forwards.target(dest)
        forwarded = None
        if target is not None:
            forwarded = self.server.forwards.forward(
                target, body, self.headers.get("Content-Type", "application/json"))
            code = forwarded.code
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
        if fault is not None and fault.mode == "status":
            self._error(code, f"alertdrill fault {fault.id}: {fault.describe()}")
        elif forwarded is not None:
            self._send(forwarded.code, forwarded.body, forwarded.content_type)
        elif bad_json:
            self._error(400, "body is not a JSON object")
        else:
            _, ctype, answer = formats.answer(dest.integration, payload, delivery.seq)
            self._send(code, answer, ctype)


class SinkHTTPServer(ThreadingHTTPServer):
    """HTTP server on an already-bound, listening socket; one daemon thread per connection."""

    daemon_threads = True

    def __init__(self, sock: socket.socket, store: Store,
                 forwards: ForwardTable | None = None) -> None:
        super().__init__(sock.getsockname()[:2], _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.store = store
        self.forwards = forwards or ForwardTable(None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A caller that gave up (e.g. Alertmanager timing out on a delay fault) is routine."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError):
            logger.debug("%s went away: %s", client_address, exc)
        else:
            logger.exception("error serving %s", client_address)


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
        """Stop accepting, cancel open sessions and end the loop (waits at most 0.5 s)."""
        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop)
            self.thread.join(0.5)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.get_running_loop().stop()

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
    """aiosmtpd hooks: accept any recipient, record one delivery per recipient of each message.

    ``status`` and ``drop`` faults refuse the recipient at RCPT TO: Alertmanager 0.25 ignores the
    answer to the end of DATA, so only an earlier refusal makes it retry. Such a delivery is
    recorded without content (the message was never sent); ``delay`` holds the final answer.
    A ``status``/``drop`` fault added between RCPT TO and the end of DATA is not applied.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def _record(self, dest: Destination, arrived: float, mail: dict[str, Any], code: int,
                fault: Fault | None, smtp_code: int) -> None:
        status = formats.status_from_text(mail["subject"])
        text = formats.email_text({**mail, "html": html_text(mail["html"])}) if mail["headers"] else ""
        described = fault.describe() if fault else None
        if described and smtp_code:
            described += f" (SMTP {smtp_code})"
        delivery = self.store.record(
            arrived=arrived, destination=dest, status=parse_status(status), alerts=(),
            group_key=None, text=text, payload=mail, response_code=code, fault=described)
        logger.info("#%d %s %s%s → %s", delivery.seq, dest.label, status or "-",
                    f" fault={described}" if fault else "", code)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        dest = parse_email_address(address) or UNKNOWN_EMAIL
        fault = self.store.fault_for(dest)
        if fault is not None and fault.mode in ("status", "drop"):
            mail: dict[str, Any] = {"from": envelope.mail_from or "", "to": address, "subject": "",
                                    "headers": {}, "text": "", "html": ""}
            smtp_code = 451 if fault.mode == "status" else 0
            self._record(dest, time.monotonic(), mail, smtp_code, fault, smtp_code)
            if fault.mode == "drop":
                server.transport.abort()
                return "421 4.3.0 closing"  # never reaches the client: the connection is gone
            return f"451 4.3.0 alertdrill fault {fault.id}: try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        arrived = time.monotonic()
        mail = formats.read_email(email.message_from_bytes(envelope.content, policy=email.policy.default))
        dests = [parse_email_address(r) or UNKNOWN_EMAIL for r in envelope.rcpt_tos]
        delays = [f for f in map(self.store.fault_for, dests) if f is not None and f.mode == "delay"]
        for dest in dests:
            self._record(dest, arrived, mail, 0 if delays else 250, delays[-1] if delays else None, 0)
        if delays:
            await asyncio.sleep(max(f.seconds for f in delays))
        return "250 Message accepted for delivery"
