"""Listening sockets the harness binds itself and hands to its own child services.

Binding in the harness (port 0, read back) means the address is known before the child starts
— so Alertmanager's config can name the sink before the sink has even imported its modules —
and the kernel queues early connections instead of refusing them. No port is ever guessed.
"""

from __future__ import annotations

import errno
import socket

from alertdrill.errors import PortBusyError

LOOPBACK = "127.0.0.1"


def bind_listener(port: int = 0, host: str = LOOPBACK) -> socket.socket:
    """A listening TCP socket, inheritable by children; ``port=0`` lets the OS choose."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortBusyError(
                f"port {host}:{port} is already in use by another process",
                f"free it (`ss -ltnp 'sport = :{port}'` shows who holds it) or choose port 0 "
                "to let the OS pick one",
            ) from None
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def port_of(sock: socket.socket) -> int:
    """The port a bound socket got."""
    return int(sock.getsockname()[1])
