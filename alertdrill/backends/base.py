"""The contract every backend fulfils, so scenarios never know where the stack runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import requests

from alertdrill.sink.protocol import Destination

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import StackSpec
    from alertdrill.kinds.capabilities import CapabilityT
    from alertdrill.settings import Settings


@dataclass(frozen=True)
class StackOptions:
    """How to run a stack; defaults fit a 2-core machine (see bench/ for the measurements)."""

    peers: int | None = None
    #: Real-world seconds per measured second; 1 runs the configs exactly as written.
    time_scale: float = 60.0
    #: The smallest interval a scaled config may use, in seconds.
    floor: float = 0.25
    ready_timeout: float = 15.0
    usable_timeout: float = 25.0
    gossip_interval: str = "50ms"
    sink_http_port: int = 0
    sink_smtp_port: int = 0
    keep_workdir: bool = False
    #: The Docker backend's images: ``local`` (built here) or ``official`` (pinned upstream).
    images: str = "local"

    @classmethod
    def of(cls, settings: Settings) -> StackOptions:
        """The options a run's settings ask for (the one place that maps them)."""
        return cls(peers=settings.peers or None, keep_workdir=settings.keep_workdir,
                   time_scale=settings.time_scale, floor=settings.floor, images=settings.images)


@dataclass(frozen=True)
class RecoveryProbe:
    """One HTTP check that a service reporting on a restarted one sees it up again."""

    name: str
    url: str
    line: str

    def __call__(self, session: requests.Session) -> bool:
        """True when the page has the line (at a line's start)."""
        try:
            response = session.get(self.url, timeout=1.0)
        except requests.RequestException:
            return False
        return response.status_code == 200 and any(
            ln.strip() == self.line for ln in response.text.splitlines())


class ServiceHandle(Protocol):
    """A service of the stack that faults act on."""

    name: str

    @property
    def url(self) -> str:
        """Its base HTTP URL, as the harness reaches it."""

    def capability(self, wanted: type[CapabilityT]) -> CapabilityT | None:
        """What a fault of that type may act on in it (alertdrill.kinds.capabilities), or
        None when it offers none."""

    def stop(self) -> None:
        """Stop it gracefully (SIGTERM) and wait until it is gone."""

    def kill(self) -> None:
        """Kill it (SIGKILL)."""

    def start(self) -> None:
        """Start it again on the same address."""

    def pause(self) -> None:
        """Freeze it (SIGSTOP): connections hang instead of being refused."""

    def resume(self) -> None:
        """Unfreeze it (SIGCONT)."""

    def running(self) -> bool:
        """True when it runs (also when paused)."""

    def is_ready(self, session: requests.Session) -> bool:
        """One readiness probe (the one start-up waits on)."""

    def log_tail(self, lines: int = 15) -> str:
        """The last lines it logged, for errors."""


class RunningStack(Protocol):
    """A started stack: addresses of its APIs, its services, its logs."""

    spec: StackSpec
    workdir: Path
    startup: dict[str, float]
    warnings: list[str]
    #: The Alertmanager peers' --cluster.peer-timeout (measured seconds).
    peer_timeout: float

    @property
    def prometheus_url(self) -> str:
        """Prometheus's base URL."""

    @property
    def alertmanager_urls(self) -> list[str]:
        """Base URL of every Alertmanager peer, in peer order."""

    @property
    def sink_url(self) -> str:
        """The notification sink's base URL."""

    def service(self, name: str) -> ServiceHandle:
        """A service by the name the manifest gives it (or ``alertmanager-N``)."""

    def service_names(self) -> list[str]:
        """Every service the stack runs, for messages."""

    def recovery_probes(self, name: str) -> list[RecoveryProbe]:
        """What must see ``name`` up again before its restart counts as done (its exporter)."""

    def logs(self, lines: int = 20) -> dict[str, str]:
        """The tail of every service's log."""

    def destinations(self) -> list[Destination]:
        """Every (receiver, integration) the instrumented Alertmanager config delivers to."""

    def rendered_configs(self) -> dict[str, str]:
        """The configs the stack really runs (instrumented), by file name."""

    def close(self) -> None:
        """Stop everything and remove every temp file; safe to call twice."""

    #: The scaled, not yet instrumented alertmanager.yml the peers run.
    alertmanager_source: dict[str, Any]

    def write_alertmanager_config(self, config: dict[str, Any]) -> dict[str, str]:
        """Instrument a scaled alertmanager.yml for every peer and write it where the peer
        reads it (a reload makes it run); returns the previous texts by file name."""

    def restore_alertmanager_config(self, previous: dict[str, str],
                                    config: dict[str, Any]) -> None:
        """Put back what write_alertmanager_config replaced."""

    def rule_copy(self, rule_file: Path) -> Path:
        """Where Prometheus reads its scaled copy of one of the stack's rule files."""


@runtime_checkable
class PartitionableStack(RunningStack, Protocol):
    """A stack whose services have networks of their own (the Docker backend), so that network
    partitions can be drills; ``Drill.isolate_service`` refuses them on any other stack."""

    def networks_of(self, name: str, scope: str) -> list[str]:
        """The networks a cut of ``scope`` (``all``, ``peers``, ``alertmanagers``) removes the
        service from; ConfigError when the cut makes no sense for it."""

    def disconnect(self, name: str, scope: str = "all") -> list[str]:
        """Cut the service off those networks; returns the ones it left."""

    def reconnect(self, name: str, scope: str = "all") -> None:
        """Attach it again with the same names and addresses."""
