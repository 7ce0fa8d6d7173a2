"""Forwarding: deliveries addressed to a service *of the stack* reach that service, too.

A webhook in alertmanager.yml that names a service the harness runs (the escalation or ticket
service) is still redirected to the sink, so that the delivery is recorded and attributable like
every other; the sink then passes the request on to the real service and answers Alertmanager
with the service's own status, so a failing service makes Alertmanager retry as in production.
The table lives in a JSON file the harness writes (``{"receiver/integration/index": url}``);
it is re-read when it changes, so services started after the sink can be added.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import NamedTuple

import requests

from alertdrill.sink.protocol import Destination

logger = logging.getLogger(__name__)

#: How long the sink waits for a forwarded service (Alertmanager's own timeout is longer).
FORWARD_TIMEOUT = 5.0


def forward_key(dest: Destination) -> str:
    """The table key of a destination: every peer's deliveries go to the same service."""
    return f"{dest.receiver}/{dest.integration}/{dest.index}"


class Forwarded(NamedTuple):
    """What the service answered (502 when unreachable, 504 when it timed out)."""

    code: int
    body: bytes
    content_type: str


class ForwardTable:
    """The forwarding table, reloaded from its file when the file changes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._mtime = -1.0
        self._table: dict[str, str] = {}
        self._lock = threading.Lock()
        self._session = requests.Session()

    def target(self, dest: Destination) -> str | None:
        """The URL deliveries for ``dest`` are forwarded to, if any."""
        if self.path is None:
            return None
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime
            except FileNotFoundError:
                return None
            if mtime != self._mtime:
                try:
                    self._table = {str(k): str(v) for k, v in json.loads(self.path.read_text()).items()}
                    self._mtime = mtime
                except (ValueError, OSError, AttributeError) as exc:
                    logger.error("forward table %s unreadable: %s", self.path, exc)
            return self._table.get(forward_key(dest))

    def forward(self, url: str, body: bytes, content_type: str) -> Forwarded:
        """POST the delivery's body to the service, as Alertmanager would have."""
        try:
            response = self._session.post(url, data=body, timeout=FORWARD_TIMEOUT,
                                          headers={"Content-Type": content_type})
        except requests.Timeout:
            return Forwarded(504, b'{"error": "forwarded service timed out"}', "application/json")
        except requests.RequestException as exc:
            logger.info("forward to %s failed: %s", url, exc)
            return Forwarded(502, json.dumps({"error": f"service unreachable: {exc}"}).encode(),
                             "application/json")
        return Forwarded(response.status_code, response.content,
                         response.headers.get("Content-Type", "application/json"))
