"""The wire contract between instrumented Alertmanager configs and the notification sink.

Instrumentation (``alertdrill.engine.instrument``) rewrites every integration of every receiver to an
address built here; the sink (``alertdrill.sink.server``) parses the same addresses back. Keeping
both directions in one module is what makes every delivery attributable to exactly one
(peer, receiver, integration, index).
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from urllib.parse import quote, unquote

from alertdrill.sink.integrations import INTEGRATIONS as ALL_INTEGRATIONS

#: Integration kinds the sink understands (alertdrill.sink.integrations). ``probe`` is the extra
#: webhook the instrumenter adds to every receiver so that each routing decision is observable
#: with structured alerts, whatever integrations the receiver really has (Slack and email carry
#: only rendered text).
INTEGRATIONS = tuple(i.name for i in ALL_INTEGRATIONS)

#: Path prefix of notification deliveries on the sink's HTTP server.
NOTIFY_PREFIX = "/n"

#: Domain of the encoded e-mail recipients (``.invalid`` can never resolve, RFC 2606).
EMAIL_DOMAIN = "alertdrill.invalid"


@dataclass(frozen=True, order=True)
class Destination:
    """Where one integration of one receiver, as configured on one Alertmanager peer, delivers."""

    peer: int
    receiver: str
    integration: str
    index: int

    @property
    def label(self) -> str:
        """Human form used in messages and reports, e.g. ``dev-critical/slack[0]``."""
        return f"{self.receiver}/{self.integration}[{self.index}]"

    def http_path(self) -> str:
        """The sink URL path for this destination; receiver names are percent-encoded."""
        return (
            f"{NOTIFY_PREFIX}/{self.peer}/{quote(self.receiver, safe='')}"
            f"/{self.integration}/{self.index}"
        )

    def email_address(self) -> str:
        """An RFC 5321-safe recipient that encodes this destination losslessly (hex of the path)."""
        raw = f"{self.peer}/{self.receiver}/{self.integration}/{self.index}".encode()
        return f"n-{binascii.hexlify(raw).decode()}@{EMAIL_DOMAIN}"


def parse_http_path(path: str) -> Destination | None:
    """Inverse of :meth:`Destination.http_path`; ``None`` for any path that is not a delivery."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) != 5 or "/" + parts[0] != NOTIFY_PREFIX:
        return None
    _, peer, receiver, integration, index = parts
    if integration not in INTEGRATIONS or not peer.isdigit() or not index.isdigit():
        return None
    return Destination(int(peer), unquote(receiver), integration, int(index))


def parse_email_address(address: str) -> Destination | None:
    """Inverse of :meth:`Destination.email_address`; ``None`` for foreign recipients."""
    local, _, domain = address.strip("<>").partition("@")
    if domain.lower() != EMAIL_DOMAIN or not local.startswith("n-"):
        return None
    try:
        raw = binascii.unhexlify(local[2:]).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    peer, receiver, integration, index = (raw.split("/", 1)[0], *raw.split("/", 1)[1].rsplit("/", 2))
    if not peer.isdigit() or not index.isdigit():
        return None
    return Destination(int(peer), receiver, integration, int(index))
