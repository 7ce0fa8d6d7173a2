"""A minimal scrape target: a real process exposing /metrics, which a scenario can stop.

Stdlib only, so it starts in tens of milliseconds. It serves on a listening socket inherited from
the harness (``--fd``), which is how the harness knows its port before it starts.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from alertdrill.stopsignal import serve_until_stop_signal
from alertdrill.targets.httpbase import add_listen_arguments, listening_socket


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        if self.path.startswith("/metrics"):
            body = self.server.render().encode()
            self._answer(200, body, "text/plain; version=0.0.4")
        elif self.path.startswith("/-/healthy"):
            self._answer(200, b"ok\n", "text/plain")
        else:
            self._answer(404, b"not found\n", "text/plain")

    def _answer(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sock: socket.socket, name: str) -> None:
        super().__init__(sock.getsockname(), _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.name = name
        self.started = time.time()
        self.scrapes = 0
        self._lock = threading.Lock()

    def render(self) -> str:
        with self._lock:
            self.scrapes += 1
            scrapes = self.scrapes
        return (
            "# HELP sample_info Static information about the sample target.\n"
            "# TYPE sample_info gauge\n"
            f'sample_info{{name="{self.name}"}} 1\n'
            "# HELP sample_scrapes_total Scrapes served since start.\n"
            "# TYPE sample_scrapes_total counter\n"
            f"sample_scrapes_total {scrapes}\n"
            "# HELP sample_start_time_seconds Unix time the process started.\n"
            "# TYPE sample_start_time_seconds gauge\n"
            f"sample_start_time_seconds {self.started:.3f}\n"
        )


def main(argv: list[str] | None = None) -> int:
    """Serve /metrics on the inherited socket until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m alertdrill.targets.sample")
    add_listen_arguments(parser)
    parser.add_argument("--name", default="sample")
    args = parser.parse_args(argv)
    sock = listening_socket(args)
    server = _Server(sock, args.name)

    serve_until_stop_signal(server, close=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
