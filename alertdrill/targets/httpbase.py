"""What every small HTTP process of the harness shares: a server on an inherited socket, JSON
answers, and a clean stop on SIGTERM/SIGINT.

The local backend binds each service's listening socket itself and passes it down (``--fd``), so
it knows the port before the process starts and can restart the process on the same address.
In a container (the Docker backend) the service binds its own address instead
(``--listen 0.0.0.0:8080``): :func:`add_listen_arguments` and :func:`listening_socket` give
every service both ways.
"""

from __future__ import annotations

import argparse
import errno
import json
import socket
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from alertdrill.stopsignal import serve_until_stop_signal


def add_listen_arguments(parser: argparse.ArgumentParser) -> None:
    """``--fd N`` (an inherited listening socket) or ``--listen HOST:PORT`` (bind it here)."""
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--fd", type=int, help="inherited listening socket")
    where.add_argument("--listen", metavar="HOST:PORT",
                       help="bind and listen on this address (e.g. 0.0.0.0:8080 in a container)")


def bind_address(address: str) -> socket.socket:
    """A listening TCP socket bound to ``HOST:PORT`` (``[::1]:80`` for IPv6)."""
    host, _, port_text = address.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    if not port_text.isdigit():
        raise SystemExit(f"bad --listen address {address!r}: expected HOST:PORT")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, int(port_text)))
    except OSError as exc:
        sock.close()
        busy = " (busy)" if exc.errno == errno.EADDRINUSE else ""
        raise SystemExit(f"cannot listen on {address}{busy}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def listening_socket(args: argparse.Namespace) -> socket.socket:
    """The socket ``add_listen_arguments`` asked for: inherited, or bound now."""
    if args.fd is not None:
        return socket.socket(fileno=args.fd)
    return bind_address(args.listen)


class InheritedSocketServer(ThreadingHTTPServer):
    """A threading HTTP server on an already-bound, listening socket."""

    daemon_threads = True

    def __init__(self, sock: socket.socket, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(sock.getsockname()[:2], handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock


class JSONHandler(BaseHTTPRequestHandler):
    """Request handler with JSON helpers; quiet (services log what matters themselves)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def answer(self, code: int, body: bytes | str | dict[str, Any] | list[Any],
               ctype: str = "application/json") -> None:
        """Send a complete response with Content-Length."""
        if isinstance(body, dict | list):
            raw = json.dumps(body).encode()
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def read_json(self) -> Any:
        """The request body parsed as JSON (``ValueError`` when it is not)."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        return json.loads(raw or b"null")

    def control(self, apply: Callable[[dict[str, Any]], Any], what: str) -> None:
        """Answer a ``POST /-/control`` with ``apply(settings)`` (the control endpoint of a
        target the harness drives: the OCSP responder, a series stand-in); 404 on any other
        path, 400 with the reason when the settings are refused."""
        if not self.path.startswith("/-/control"):
            self.answer(404, {"error": f"unknown path {self.path}"})
            return
        try:
            settings = self.read_json()
            if not isinstance(settings, dict):
                raise ValueError(f"{what} must be a JSON object")
            self.answer(200, apply(settings))
        except (ValueError, TypeError) as exc:
            self.answer(400, {"error": str(exc)})

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_until_signalled(server: ThreadingHTTPServer) -> None:
    """Serve until SIGTERM or SIGINT, then return (the caller closes its own resources); the
    signal handler takes no lock (see alertdrill.stopsignal)."""
    serve_until_stop_signal(server)


class WebhookHandler(JSONHandler):
    """A service Alertmanager notifies by webhook: ``POST`` one of ``webhook_paths`` with the
    webhook payload, ``GET status_path`` for its state, ``GET /-/healthy`` for readiness."""

    webhook_paths: tuple[str, ...] = ("/webhook",)
    status_path = "/status"

    def status(self) -> dict[str, Any]:
        """What ``GET status_path`` answers."""
        raise NotImplementedError

    def on_webhook(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Handle one validated webhook payload: (HTTP status, answer)."""
        raise NotImplementedError

    def do_GET(self) -> None:
        if self.path.startswith(self.status_path):
            self.answer(200, self.status())
        elif self.path.startswith("/-/healthy") or self.path.startswith("/health"):
            self.answer(200, {"status": "healthy"})
        else:
            self.answer(404, {"error": f"unknown path {self.path}"})

    def do_POST(self) -> None:
        if self.path.split("?")[0] not in self.webhook_paths:
            self.answer(404, {"error": f"unknown path {self.path}"})
            return
        try:
            payload = self.read_json()
            if not isinstance(payload, dict) or "alerts" not in payload:
                raise ValueError("not an Alertmanager webhook payload")
        except ValueError as exc:
            self.answer(400, {"error": str(exc)})
            return
        self.answer(*self.on_webhook(payload))
