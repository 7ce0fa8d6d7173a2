"""What faults may act on in a service, as types: one declaration, asked for by type.

A kind states which of these its services offer (``Kind.provides``) and each backend attaches
the built ones to the service it makes (``LocalService``/``DockerService.capabilities``).
``Drill`` asks ``service.capability(Fillable)``: an object with what the fault needs, or None
for a service that cannot suffer the fault — never an attribute that happens to be there.
Files a capability names live on the host (bind-mounted into containers), so the same fault
classes act on both backends.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from alertdrill.analysis.seriesplan import StandIn
    from alertdrill.backends.certs import Authority


@dataclass(frozen=True)
class Capability:
    """Base of every capability (the type ``capability()`` looks up)."""


@dataclass(frozen=True)
class Fillable(Capability):
    """A small filesystem the harness mounted for the service (node-exporter watches it):
    disk faults fill it, never one of the machine's disks."""

    filesystem: Path


@dataclass(frozen=True)
class LogFloodable(Capability):
    """A log file the service writes and the stack owns (an app's access log): log floods
    write into it."""

    log_file: Path


@dataclass(frozen=True)
class CertificateHolder(Capability):
    """A certificate the service serves from ``cert_dir``, issued for ``names`` by the
    stack's CA: certificate faults reissue it."""

    cert_dir: Path
    names: tuple[str, ...]
    authority: Authority


@dataclass(frozen=True)
class Controllable(Capability):
    """An HTTP control endpoint (``path`` on the service's URL) that raises faults inside the
    service: latency, 5xx rate, pool use (apps), latency (OCSP), drives (stand-ins)."""

    path: str = "/-/control"


@dataclass(frozen=True)
class SeriesDriven(Capability):
    """A stand-in serving the families of ``plan`` (alertdrill.analysis.seriesplan): steps drive its
    series and check names against the plan."""

    plan: StandIn


@dataclass(frozen=True)
class ReportsOn(Capability):
    """An exporter of another service (``of:``): after a restart of ``target``, its ``page``
    must show ``line`` again before the restart counts as done.

    prometheus-postgres-exporter serialises its scrapes and spends about 1 s (real, unscaled)
    on each failed connection attempt, so at K=60 a backlog of scrapes left by an outage takes
    seconds — minutes in real-world terms — to drain after PostgreSQL is back: part of the
    restart, not of the alerting pipeline's resolution time.
    """

    target: str
    page: str
    line: str


CapabilityT = TypeVar("CapabilityT", bound=Capability)


class Capable:
    """Mixin of the backends' service classes: the lookup over their ``capabilities``."""

    capabilities: tuple[Capability, ...]

    def capability(self, wanted: type[CapabilityT]) -> CapabilityT | None:
        """The service's capability of type ``wanted``, or None when it has none."""
        return next((c for c in self.capabilities if isinstance(c, wanted)), None)
