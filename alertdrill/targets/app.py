"""A small real application for the reference stack: the web-app or the api-service of seed 001.

It serves real HTTP requests, driven by its own steady load generator, and exports the metric
names the seed's rules use — ``nginx_http_requests_total`` and
``nginx_http_request_duration_seconds`` (flavor ``web``), ``flask_http_request_total``,
``flask_http_request_exceptions_total``, ``flask_http_request_duration_seconds`` and
``flask_db_connection_pool_{active,size}`` (flavor ``api``). Faults change how it behaves, not
what it reports: ``POST /-/control`` raises the latency (requests really take longer), the 5xx
rate (requests really fail) or the pool use (connections really stay checked out), and the
metrics follow. The api flavor also writes an access log for mtail.

Stdlib only; serves on a listening socket inherited from the harness (``--fd``).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from alertdrill.stopsignal import serve_until_stop_signal
from alertdrill.targets.httpbase import add_listen_arguments, listening_socket

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0)
POOL_SIZE = 20


class App:
    """The application's state: behaviour knobs and the metrics they produce."""

    def __init__(self, flavor: str, log_file: Path | None) -> None:
        self.flavor = flavor
        self.log_file = log_file
        self.lock = threading.Lock()
        self.latency = 0.0
        self.error_rate = 0.0
        # A real pool: requests check a connection out; the pool fault leaks connections
        # (held by threads until healed), so requests queue and the gauge reports the truth.
        self.pool = threading.BoundedSemaphore(POOL_SIZE)
        self.pool_in_use = 0
        self.leaked: list[threading.Event] = []
        self.requests: dict[str, int] = {}
        self.exceptions = 0
        self.buckets = [0] * len(BUCKETS)
        self.duration_sum = 0.0
        self.duration_count = 0
        self._error_credit = 0.0
        self._log = open(log_file, "a", buffering=1) if log_file else None  # noqa: SIM115

    def control(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Apply fault settings; unknown keys are refused so typos do not pass silently."""
        allowed = {"latency", "error_rate", "pool_active"}
        unknown = set(settings) - allowed
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; known: {sorted(allowed)}")
        with self.lock:
            if "latency" in settings:
                self.latency = max(0.0, float(settings["latency"]))
            if "error_rate" in settings:
                self.error_rate = min(1.0, max(0.0, float(settings["error_rate"])))
        if "pool_active" in settings:
            self._set_leaked(min(POOL_SIZE, max(0, int(settings["pool_active"]))))
        with self.lock:
            return self.state()

    def _set_leaked(self, count: int) -> None:
        while len(self.leaked) > count:
            self.leaked.pop().set()
        while len(self.leaked) < count:
            release = threading.Event()
            self.leaked.append(release)
            threading.Thread(target=self._hold, args=(release,), daemon=True).start()

    def _hold(self, release: threading.Event) -> None:
        self._checkout(timeout=None)
        try:
            release.wait()
        finally:
            self._checkin()

    def _checkout(self, timeout: float | None) -> bool:
        if not self.pool.acquire(timeout=timeout):
            return False
        with self.lock:
            self.pool_in_use += 1
        return True

    def _checkin(self) -> None:
        with self.lock:
            self.pool_in_use -= 1
        self.pool.release()

    def state(self) -> dict[str, Any]:
        """Current knobs."""
        return {"latency": self.latency, "error_rate": self.error_rate,
                "pool_leaked": len(self.leaked), "pool_in_use": self.pool_in_use,
                "pool_size": POOL_SIZE}

    def _fails(self, error_rate: float) -> bool:
        """Exactly ``error_rate`` of the requests fail, evenly spread (an error budget, not a
        dice roll): a drill compresses time but not load, so a 5-second window holds only a few
        hundred requests, and random failures would make a 2 % rate wander across 1 % and 3 %
        thresholds."""
        with self.lock:
            self._error_credit += error_rate
            if self._error_credit >= 1.0:
                self._error_credit -= 1.0
                return True
            return False

    def handle(self) -> int:
        """One real request: hold a pool connection, take the configured time, maybe fail."""
        started = time.monotonic()
        with self.lock:
            latency, error_rate = self.latency, self.error_rate
        if self._checkout(timeout=5.0):
            try:
                time.sleep(latency + 0.002)
                failed = self._fails(error_rate)
            finally:
                self._checkin()
        else:
            failed = True  # pool exhausted for 5 s: the request fails, as a real app's would
        elapsed = time.monotonic() - started
        code = 500 if failed else 200
        with self.lock:
            key = str(code)
            self.requests[key] = self.requests.get(key, 0) + 1
            self.exceptions += failed
            self.duration_sum += elapsed
            self.duration_count += 1
            for i, bound in enumerate(BUCKETS):
                if elapsed <= bound:
                    self.buckets[i] += 1
        if self._log:
            level = "ERROR" if failed else "INFO"
            self._log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {level} GET / {code} "
                            f"{elapsed * 1000:.1f}ms\n")
        return code

    def render(self) -> str:
        """Prometheus text format for the flavor's metric names."""
        with self.lock:
            requests = dict(self.requests)
            buckets, total, count = list(self.buckets), self.duration_sum, self.duration_count
            exceptions = self.exceptions
            pool = self.pool_in_use
        lines: list[str] = []
        if self.flavor == "web":
            req, dur = "nginx_http_requests_total", "nginx_http_request_duration_seconds"
            lines += [f"# TYPE {req} counter"]
            lines += [f'{req}{{status="{c}"}} {n}' for c, n in sorted(requests.items())]
        else:
            req, dur = "flask_http_request_total", "flask_http_request_duration_seconds"
            lines += [f"# TYPE {req} counter", f"{req} {sum(requests.values())}",
                      "# TYPE flask_http_request_exceptions_total counter",
                      f"flask_http_request_exceptions_total {exceptions}",
                      "# TYPE flask_db_connection_pool_active gauge",
                      f"flask_db_connection_pool_active {pool}",
                      "# TYPE flask_db_connection_pool_size gauge",
                      f"flask_db_connection_pool_size {POOL_SIZE}"]
        lines.append(f"# TYPE {dur} histogram")
        lines += [f'{dur}_bucket{{le="{b}"}} {n}' for b, n in zip(BUCKETS, buckets, strict=True)]
        lines += [f'{dur}_bucket{{le="+Inf"}} {count}', f"{dur}_sum {total:.6f}",
                  f"{dur}_count {count}"]
        return "\n".join(lines) + "\n"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes, ctype: str = "text/plain") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        app = self.server.app
        if self.path.startswith("/metrics"):
            self._send(200, app.render().encode(), "text/plain; version=0.0.4")
        elif self.path.startswith("/-/control"):
            self._send(200, json.dumps(app.state()).encode(), "application/json")
        elif self.path.startswith("/-/healthy"):
            self._send(200, b"ok\n")
        else:
            code = app.handle()
            self._send(code, b"ok\n" if code == 200 else b"error\n")

    def do_POST(self) -> None:
        if not self.path.startswith("/-/control"):
            self._send(404, b"not found\n")
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            state = self.server.app.control(json.loads(self.rfile.read(length) or b"{}"))
        except (ValueError, TypeError) as exc:
            self._send(400, json.dumps({"error": str(exc)}).encode(), "application/json")
            return
        self._send(200, json.dumps(state).encode(), "application/json")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sock: socket.socket, app: App) -> None:
        super().__init__(sock.getsockname()[:2], _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.app = app


def _load(port: int, rate: float, workers: int, stop: threading.Event) -> None:
    """Steady real traffic against ourselves: ``rate`` requests/s spread over ``workers``."""
    period = workers / rate

    def worker() -> None:
        while not stop.is_set():
            began = time.monotonic()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read()
            except OSError:
                pass  # a 500 raises HTTPError (an OSError): that is the point of the fault
            stop.wait(max(0.0, period - (time.monotonic() - began)))

    for _ in range(workers):
        threading.Thread(target=worker, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m alertdrill.targets.app")
    add_listen_arguments(parser)
    parser.add_argument("--flavor", choices=("web", "api"), required=True)
    parser.add_argument("--rate", type=float, default=20.0, help="self-generated requests/s")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--log-file", type=Path)
    args = parser.parse_args(argv)
    sock = listening_socket(args)
    app = App(args.flavor, args.log_file)
    server = _Server(sock, app)
    stop = threading.Event()  # set by the main thread, never by a signal handler
    _load(sock.getsockname()[1], args.rate, args.workers, stop)
    try:
        serve_until_stop_signal(server, close=False)
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
