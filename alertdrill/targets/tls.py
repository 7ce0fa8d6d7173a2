"""A TLS endpoint (the cartório's site of seed 000) serving the certificate the harness issued.

The certificate files live in a directory of the stack's workdir; the certificate fault replaces
them, and the next handshake serves the new certificate (reloaded when the file changes), so the
blackbox exporter measures the expiry of what a browser would really be shown.
"""

from __future__ import annotations

import argparse
import logging
import socket
import ssl
import sys
import threading
from pathlib import Path
from typing import Any

from alertdrill.backends.certs import CERT_FILE, KEY_FILE
from alertdrill.targets.httpbase import (
    InheritedSocketServer,
    JSONHandler,
    add_listen_arguments,
    listening_socket,
    serve_until_signalled,
)

logger = logging.getLogger("alertdrill.tls")


class CertificateStore:
    """The current server context, rebuilt when the certificate file changes on disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._mtime = -1.0
        self._context: ssl.SSLContext | None = None

    def context(self) -> ssl.SSLContext:
        """The context for the next handshake; a half-replaced pair keeps the previous one."""
        mtime = (self.directory / CERT_FILE).stat().st_mtime
        with self._lock:
            if mtime != self._mtime or self._context is None:
                fresh = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                try:
                    fresh.load_cert_chain(self.directory / CERT_FILE, self.directory / KEY_FILE)
                except (ssl.SSLError, OSError) as exc:
                    if self._context is None:
                        raise
                    logger.warning("keeping the previous certificate: %s", exc)
                else:
                    self._context, self._mtime = fresh, mtime
                    logger.info("serving certificate from %s", self.directory)
            assert self._context is not None
            return self._context


class _Handler(JSONHandler):
    def do_GET(self) -> None:
        self.answer(200, "<html><body>cartório digital</body></html>\n", "text/html")


class TLSServer(InheritedSocketServer):
    """HTTPS on an inherited socket; the handshake happens in the connection's own thread."""

    def __init__(self, sock: socket.socket, certificates: CertificateStore) -> None:
        super().__init__(sock, _Handler)
        self.certificates = certificates

    def get_request(self) -> tuple[Any, Any]:
        conn, addr = self.socket.accept()
        conn.settimeout(5)
        wrapped = self.certificates.context().wrap_socket(
            conn, server_side=True, do_handshake_on_connect=False)
        return wrapped, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Probes that only complete the handshake and hang up are the normal case.
        logger.debug("connection from %s ended: %s", client_address, sys.exc_info()[1])


def main(argv: list[str] | None = None) -> int:
    """Serve HTTPS on the inherited socket until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m alertdrill.targets.tls")
    add_listen_arguments(parser)
    parser.add_argument("--cert-dir", type=Path, required=True,
                        help=f"directory holding {CERT_FILE} and {KEY_FILE}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    certificates = CertificateStore(args.cert_dir)
    certificates.context()  # fail at start, not at the first probe, when the files are bad
    serve_until_signalled(TLSServer(listening_socket(args), certificates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
