"""What a service kind declares, and what it may ask of the backend that runs it.

A :class:`Kind` states, in one module of this package, everything that makes it that kind: its
name, the process the local backend runs (:class:`Process`), the container the Docker backend
runs (:class:`Container`), its options' defaults and the capabilities faults may use. The
backends translate these into a ``ManagedProcess`` or a container and know no kind by name;
a kind knows no backend class, only the small host interfaces below (:class:`ProcessHost`,
:class:`ContainerHost`), which the backends' build contexts fulfil.
"""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from alertdrill.kinds.capabilities import Capability

if TYPE_CHECKING:
    from alertdrill.analysis.seriesplan import StandIn
    from alertdrill.backends.certs import Authority
    from alertdrill.engine.stackspec import ServiceSpec, StackSpec
    from alertdrill.engine.timescale import TimeScale


# -- readiness ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class HttpReady:
    """Ready when ``path`` answers 200 (through the published port, in a container)."""

    path: str


@dataclass(frozen=True)
class TlsReady:
    """Ready when the listener completes a TLS handshake. Locally the harness bound the
    socket before the process started, so a running process is enough; through Docker's port
    proxy a connect proves nothing (it accepts for a container that does not listen yet), so
    the handshake is made."""


@dataclass(frozen=True)
class CheckReady:
    """Ready when ``check()`` says so (a local service without HTTP: PostgreSQL)."""

    check: Callable[[], bool]


@dataclass(frozen=True)
class ExecReady:
    """Ready when ``argv`` exits 0 inside the container (PostgreSQL's ``pg_isready``)."""

    argv: tuple[str, ...]


# -- what a kind asks the backends to run --------------------------------------------------------
@dataclass(frozen=True)
class Process:
    """A service as one local child process."""

    #: The port the service listens on (0 before a binary chose its own) → its argv. For a
    #: ``python`` service: the module and its arguments (the backend adds the interpreter and
    #: the socket it bound). Called at every launch, so what it writes is fresh each time.
    argv: Callable[[int], list[str]]
    #: A module of the harness's own: it runs as ``python -m`` on a socket the harness binds
    #: (``--fd``), so its port is known before it starts and stays across restarts.
    python: bool = False
    ready: HttpReady | TlsReady | CheckReady = HttpReady("/metrics")
    #: The signal that stops it gracefully (PostgreSQL: SIGINT, "fast" shutdown).
    stop_signal: int = signal.SIGTERM
    env: dict[str, str] | None = None
    capabilities: tuple[Capability, ...] = ()


@dataclass(frozen=True)
class Container:
    """A service as one container (its image is the kind's ``image``)."""

    command: list[str]
    ready: HttpReady | TlsReady | ExecReady = HttpReady("/metrics")
    #: ``uid:gid`` to run as, when not the image's.
    user: str | None = None
    #: host path → (container path, "ro"|"rw")
    mounts: dict[str, tuple[str, str]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    stop_signal: str = "SIGTERM"
    #: False: reached inside the stack's network only, no port published (PostgreSQL).
    published: bool = True
    capabilities: tuple[Capability, ...] = ()


# -- what a kind may ask of the backend ---------------------------------------------------------
class ProcessHost(Protocol):
    """The local backend's build context, as kinds see it."""

    spec: StackSpec
    workdir: Path
    scale: TimeScale
    #: The sink's base URL, as the service reaches it.
    sink_url: str
    @property
    def alertmanager_urls(self) -> Callable[[], list[str]]:
        """Late-bound: the Alertmanager peers exist only after the early services."""
        ...

    #: Directories outside the workdir to remove with the stack.
    extra_dirs: list[Path]
    #: Unix socket directory of each PostgreSQL built so far, by service name.
    pg_sockets: dict[str, Path]
    series: dict[str, StandIn]

    def log(self, name: str) -> Path:
        """The log file of a service."""
        ...

    def access_log(self, service: str) -> Path:
        """Where an app of the stack writes its access log (created empty)."""
        ...

    @property
    def authority(self) -> Authority:
        """The stack's own CA."""
        ...

    @property
    def ca_file(self) -> Path:
        """The CA certificate clients of the stack trust."""
        ...


class ContainerHost(Protocol):
    """The Docker backend's build context, as kinds see it."""

    spec: StackSpec
    workdir: Path
    time_scale: float
    sink_name: str
    sink_port: int
    alertmanager_urls: list[str]
    series: dict[str, StandIn]

    @property
    def authority(self) -> Callable[[], Authority]:
        """The stack's own CA, made on first use."""
        ...

    def directory(self, name: str, owner: tuple[int, int] | None = None,
                  mode: int = 0o755) -> Path:
        """A directory of the workdir to bind-mount; ``owner``: the container's user owns it."""
        ...

    def aliases(self, spec: ServiceSpec) -> list[str]:
        """How the configs name the service on the stack's network."""
        ...

    def listen_port(self, spec: ServiceSpec) -> int:
        """The port a service of the stack listens on in its container."""
        ...


# -- the kind itself ----------------------------------------------------------------------------
class Kind(ABC):
    """One service kind; each module of ``alertdrill.kinds`` defines one as ``KIND``."""

    #: As ``kind:`` in alertdrill.yml names it.
    name: ClassVar[str]
    #: The image its container runs (an ``alertdrill.backends.images`` name).
    image: ClassVar[str]
    #: Where it listens in its container when the manifest writes no port.
    container_port: ClassVar[int]
    #: Starts after the Alertmanager peers (it needs their addresses).
    late: ClassVar[bool] = False
    #: Its manifest options and their defaults (``option()`` reads them).
    defaults: ClassVar[Mapping[str, Any]] = {}
    #: The capabilities its services offer (what faults may act on).
    provides: ClassVar[tuple[type[Capability], ...]] = ()
    #: Its place in the list of known kinds (messages): lower first, then by name.
    rank: ClassVar[int] = 100
    #: The Debian packages its local process needs beyond Prometheus and Alertmanager (what
    #: ``alertdrill init --ci`` installs for a stack that has one).
    packages: ClassVar[tuple[str, ...]] = ()

    def option(self, spec: ServiceSpec, key: str) -> Any:
        """The manifest's ``key`` for this service, or the kind's default."""
        return spec.options.get(key, self.defaults[key])

    @abstractmethod
    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        """The local process for a manifest entry; prepares the files it needs."""

    @abstractmethod
    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        """The container for a manifest entry listening on ``port``; prepares its mounts."""
