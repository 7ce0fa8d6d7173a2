"""Waiting for SIGTERM/SIGINT in a harness service, without a lock in the signal handler.

Python runs a signal handler in the main thread between two bytecodes — possibly while that
thread holds a lock. A handler that takes the same lock deadlocks the process for good:
``threading.Event.set()`` when the signal lands while the main thread is inside ``Event.wait()``
holding the event's lock (the sink's main loop did this), or ``Thread.start()`` while the main
thread is starting a request thread of a ``ThreadingHTTPServer`` (the targets did this). The
window is small, but a service that deadlocks there never exits; once, under load, a sink
outlived its SIGKILLed GameDay supervisor by more than 15 s, which this may have been (not
reproduced in ten more runs). So the handler here only
appends to a list, and the main thread polls it with ``time.sleep`` (which a signal
interrupts), then does the shutting down itself.
"""

from __future__ import annotations

import signal
import threading
import time
from socketserver import BaseServer

#: How often the main thread looks for a received signal (seconds).
POLL = 0.05


def wait_for_stop_signal() -> int:
    """Block the calling (main) thread until SIGTERM or SIGINT; returns the signal number."""
    received: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: received.append(signum))
    while not received:
        time.sleep(POLL)
    return received[0]


def serve_until_stop_signal(server: BaseServer, close: bool = True) -> int:
    """Serve in a background thread until SIGTERM or SIGINT, then shut the server down from
    the main thread (and close it unless ``close`` is False); returns the signal number."""
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL},
                               name="serve", daemon=True)
    serving.start()
    try:
        return wait_for_stop_signal()
    finally:
        server.shutdown()
        if close:
            server.server_close()
