"""An OCSP-like responder (seed 000's OCSP stapling dependency) whose latency a fault can raise.

It answers ``/ocsp`` after the configured latency; the blackbox exporter's ``http_2xx`` probe
measures that as ``probe_duration_seconds``. The latency is literal seconds, not time-scaled:
it is a measured value compared with the rule's threshold (2 s).
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from typing import Any

from alertdrill.targets.httpbase import (
    InheritedSocketServer,
    JSONHandler,
    add_listen_arguments,
    listening_socket,
    serve_until_signalled,
)

#: The longest latency a fault may set: beyond it, the probe's own timeout decides anyway.
MAX_LATENCY = 60.0


class Responder:
    """The responder's one knob, shared by the request threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency = 0.0
        self.answered = 0

    def control(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Apply settings; unknown keys are refused so that a typo does not pass silently."""
        unknown = set(settings) - {"latency"}
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; known: ['latency']")
        with self.lock:
            if "latency" in settings:
                self.latency = min(MAX_LATENCY, max(0.0, float(settings["latency"])))
            return self.state()

    def state(self) -> dict[str, Any]:
        """What ``GET /-/control`` shows."""
        return {"latency": self.latency, "answered": self.answered}


class _Handler(JSONHandler):
    server: _Server

    def do_GET(self) -> None:
        responder = self.server.responder
        if self.path.startswith("/-/control"):
            with responder.lock:
                self.answer(200, responder.state())
        elif self.path.startswith("/ocsp"):
            with responder.lock:
                delay = responder.latency
            time.sleep(delay)
            with responder.lock:
                responder.answered += 1
            self.answer(200, b"\x30\x03\x0a\x01\x00", "application/ocsp-response")
        else:
            self.answer(404, {"error": f"unknown path {self.path}"})

    def do_POST(self) -> None:
        self.control(self.server.responder.control, "settings")


class _Server(InheritedSocketServer):
    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock, _Handler)
        self.responder = Responder()


def main(argv: list[str] | None = None) -> int:
    """Serve on the inherited socket until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m alertdrill.targets.ocsp")
    add_listen_arguments(parser)
    args = parser.parse_args(argv)
    serve_until_signalled(_Server(listening_socket(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
