"""``python -m alertdrill.sink``: run the notification sink until SIGTERM."""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path

from alertdrill.sink.server import SinkHTTPServer, SMTPSink, Store


def _listener(address: str | None, fd: int | None) -> socket.socket:
    if fd is not None:
        return socket.socket(fileno=fd)
    assert address is not None
    host, _, port = address.rpartition(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host or "127.0.0.1", int(port)))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"alertdrill sink: port {host}:{port} is busy ({exc.strerror})", file=sys.stderr)
            sys.exit(3)
        raise
    sock.listen(128)
    return sock


def main(argv: list[str] | None = None) -> int:
    """Serve HTTP and SMTP; write the ready file once both accept."""
    parser = argparse.ArgumentParser(prog="python -m alertdrill.sink")
    parser.add_argument("--http", default="127.0.0.1:0", help="HTTP listen address")
    parser.add_argument("--smtp", default="127.0.0.1:0", help="SMTP listen address")
    parser.add_argument("--http-fd", type=int, help="inherited listening socket for HTTP")
    parser.add_argument("--smtp-fd", type=int, help="inherited listening socket for SMTP")
    parser.add_argument("--ready-file", type=Path, help="JSON with the ports, written when ready")
    args = parser.parse_args(argv)
    http_sock = _listener(args.http, args.http_fd)
    smtp_sock = _listener(args.smtp, args.smtp_fd)
    store = Store()
    http = SinkHTTPServer(http_sock, store)
    smtp = SMTPSink(smtp_sock, store)
    smtp.start()

    def _stop(*_: object) -> None:
        threading.Thread(target=http.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if args.ready_file:
        tmp = args.ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"http_port": http_sock.getsockname()[1],
                                   "smtp_port": smtp_sock.getsockname()[1], "pid": os.getpid()}))
        os.replace(tmp, args.ready_file)
    http.serve_forever(poll_interval=0.05)
    smtp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
