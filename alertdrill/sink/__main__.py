"""``python -m alertdrill.sink``: run the notification sink until SIGTERM or SIGINT.

Both servers bind first (port 0 lets the OS choose, or the harness hands over sockets it bound
itself with ``--http-fd``/``--smtp-fd``); only then is the ready file written, atomically, with
``{"http_port", "smtp_port", "pid"}``. A busy port exits with code 3 and one line on stderr.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from alertdrill.sink.forward import ForwardTable
from alertdrill.sink.server import SinkHTTPServer, SMTPSink, Store
from alertdrill.stopsignal import POLL

logger = logging.getLogger(__name__)

#: Exit code when a requested port is already taken.
EXIT_PORT_BUSY = 3
#: Exit code for any other failure to listen.
EXIT_CANNOT_LISTEN = 2


class ListenError(Exception):
    """A listening socket could not be had; carries the exit code and the one-line message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _listener(address: str | None, fd: int | None) -> socket.socket:
    """The listening socket: inherited by file descriptor, or bound to ``host:port``."""
    if fd is not None:
        sock = socket.socket(fileno=fd)
        sock.set_inheritable(False)
        return sock
    host, _, port_text = (address or "127.0.0.1:0").rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isdigit():
        raise ListenError(EXIT_CANNOT_LISTEN, f"alertdrill sink: bad address {address!r}, "
                                              "expected HOST:PORT")
    port = int(port_text)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(EXIT_PORT_BUSY,
                              f"alertdrill sink: port {host}:{port} is busy ({exc.strerror})") from None
        raise ListenError(EXIT_CANNOT_LISTEN,
                          f"alertdrill sink: cannot listen on {host}:{port} ({exc.strerror})") from None
    return sock


def _write_ready(path: Path, http_port: int, smtp_port: int) -> None:
    """Write the ready file atomically so a reader never sees it half-written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"http_port": http_port, "smtp_port": smtp_port, "pid": os.getpid()}))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """Serve HTTP and SMTP; write the ready file once both accept; return on SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m alertdrill.sink", description=__doc__)
    parser.add_argument("--http", default="127.0.0.1:0", help="HTTP listen address (HOST:PORT)")
    parser.add_argument("--smtp", default="127.0.0.1:0", help="SMTP listen address (HOST:PORT)")
    parser.add_argument("--http-fd", type=int, help="inherited listening socket for HTTP")
    parser.add_argument("--smtp-fd", type=int, help="inherited listening socket for SMTP")
    parser.add_argument("--ready-file", type=Path, help="JSON with the ports, written when ready")
    parser.add_argument("--forward-file", type=Path,
                        help="JSON table of deliveries to pass on to services of the stack")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per SMTP command

    # The handlers only record the signal (alertdrill.stopsignal): set here, before binding,
    # so a SIGTERM during start-up is not lost either.
    received: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: received.append(signum))
    try:
        http_sock = _listener(args.http, args.http_fd)
        smtp_sock = _listener(args.smtp, args.smtp_fd)
    except ListenError as exc:
        print(exc, file=sys.stderr)
        return exc.code

    store = Store()
    http = SinkHTTPServer(http_sock, store, ForwardTable(args.forward_file))
    smtp = SMTPSink(smtp_sock, store)
    smtp.start()
    serving = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05},
                               name="http-sink", daemon=True)
    serving.start()
    http_port, smtp_port = http_sock.getsockname()[1], smtp_sock.getsockname()[1]
    if args.ready_file:
        _write_ready(args.ready_file, http_port, smtp_port)
    logger.info("sink ready: http %s, smtp %s, pid %d", http_port, smtp_port, os.getpid())
    while not received:  # a signal interrupts the sleep; no lock is ever taken in its handler
        time.sleep(POLL)
    logger.info("sink stopping")
    http.shutdown()
    http.server_close()
    smtp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
