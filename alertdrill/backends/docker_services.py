"""The services of a Docker stack: one container each, and how each kind is run.

A :class:`DockerService` is the container twin of ``LocalService``: stop, kill, start (the same
container again, so the same name, aliases and published port), pause and resume (the cgroup
freezer, like SIGSTOP), its ``url`` (published on 127.0.0.1) and what faults act on (its kind's
capabilities). Files faults act on live on the host and are bind-mounted, so the same fault
classes work on both backends. It can also be cut off from its networks
(``disconnect``/``reconnect``), which processes on loopback cannot be.

:func:`build_service` makes one from the manifest's entry: the kind (alertdrill.kinds) says
what runs; this module only turns that into a container, as ``local_services.build_service``
does into a process.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from docker.errors import APIError, NotFound
from docker.types import EndpointConfig

from alertdrill.analysis.seriesplan import StandIn
from alertdrill.backends.certs import Authority
from alertdrill.backends.containers import LOOPBACK, log_tail
from alertdrill.engine.stackspec import ServiceSpec, with_flags
from alertdrill.errors import StartupError
from alertdrill.kinds import kind
from alertdrill.kinds.base import HttpReady, TlsReady
from alertdrill.kinds.capabilities import Capability, Capable

#: Host ports are chosen below Linux's ephemeral range (32768…), so an outgoing connection of
#: another program never holds one while its container is stopped.
HOST_PORTS = (20000, 32000)


def free_host_port(rng: random.Random | None = None) -> int:
    """A port on 127.0.0.1 that nothing listens on now, outside the ephemeral range."""
    rng = rng or random.Random()
    for _ in range(200):
        port = rng.randrange(*HOST_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                continue
            return port
    raise StartupError(f"no free port on 127.0.0.1 in {HOST_PORTS[0]}…{HOST_PORTS[1]}")


@dataclass
class Attachment:
    """One network a container is on: how others find it there (aliases) and its fixed IP."""

    network: str
    aliases: list[str]
    ipv4: str | None = None


@dataclass
class DockerService(Capable):
    """A service of the stack in its own container; stopped and started in place."""

    name: str
    image: str
    command: list[str]
    #: The engine, the labels of the run, and the network every container is on (first).
    client: Any
    labels: dict[str, str]
    networks: list[Attachment]
    #: Container port of the service (published on 127.0.0.1); 0 when it has none.
    port: int = 0
    host_port: int = 0
    ready_path: str | None = None
    ready_check: Callable[[DockerService], bool] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    #: host path → (container path, "ro"|"rw")
    mounts: dict[str, tuple[str, str]] = field(default_factory=dict)
    user: str | None = None
    stop_signal: str = "SIGTERM"
    container_name: str = ""
    container: Any = None
    #: What faults may act on (its kind's, alertdrill.kinds.capabilities).
    capabilities: tuple[Capability, ...] = ()
    #: Networks this service is cut off from now (names), with how to reattach it.
    detached: dict[str, Attachment] = field(default_factory=dict)

    # -- addresses ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base HTTP URL from the host (the port published on 127.0.0.1)."""
        return f"http://{LOOPBACK}:{self.host_port}"

    @property
    def internal_url(self) -> str:
        """Base HTTP URL inside the stack's network (its name and container port)."""
        return f"http://{self.name}:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------
    def create(self) -> None:
        """Create the container (not started), on every network it belongs to."""
        first, *others = self.networks
        ports = {}
        if self.port:
            self.host_port = self.host_port or free_host_port()
            ports = {f"{self.port}/tcp": (LOOPBACK, self.host_port)}
        endpoint = EndpointConfig(self.client.api._version, aliases=first.aliases,
                                  ipv4_address=first.ipv4)
        kwargs: dict[str, Any] = {}
        if self.user:
            kwargs["user"] = self.user
        self.container = self.client.containers.create(
            self.image, self.command, name=self.container_name, hostname=self.name,
            labels=self.labels, environment=self.environment, ports=ports,
            volumes={host: {"bind": inside, "mode": mode}
                     for host, (inside, mode) in self.mounts.items()},
            network=first.network, networking_config={first.network: endpoint},
            # Docker's init as PID 1: it forwards the stop signal (a service as PID 1 would
            # ignore a SIGTERM it has no handler for) and reaps what the service leaves.
            stop_signal=self.stop_signal, init=True, detach=True, **kwargs)
        for attachment in others:
            self.client.networks.get(attachment.network).connect(
                self.container, aliases=attachment.aliases, ipv4_address=attachment.ipv4)

    def start(self) -> None:
        """Start the container (again): same name, aliases and published port."""
        if self.container is None:
            self._create_and_start()
            return
        self.container.reload()
        if self.container.status == "paused":
            self.container.unpause()
        elif self.container.status != "running":
            self.container.start()

    def _create_and_start(self) -> None:
        """First start; a host port taken meanwhile by someone else is chosen again."""
        for attempt in range(3):
            self.create()
            try:
                self.container.start()
                return
            except APIError as exc:
                text = str(exc)
                busy = "already allocated" in text or "address already in use" in text
                with contextlib.suppress(APIError, NotFound):
                    self.container.remove(force=True, v=True)
                self.container = None
                if not busy or attempt == 2:
                    raise StartupError(f"{self.name}: the container did not start: {text}") from None
                self.host_port = 0

    def running(self) -> bool:
        """True while the container runs (also when paused)."""
        if self.container is None:
            return False
        try:
            self.container.reload()
        except NotFound:
            return False
        return self.container.status in ("running", "paused")

    def stop(self) -> None:
        """Its stop signal (SIGTERM unless it needs another), SIGKILL after 3 s; waits."""
        if self._unpaused():
            self.container.stop(timeout=3)

    def kill(self) -> None:
        """SIGKILL, and wait until it is gone."""
        if self._unpaused():
            with contextlib.suppress(APIError):
                self.container.kill()
            self.container.wait(timeout=10)

    def pause(self) -> None:
        """Freeze every process of the container (the cgroup freezer, like SIGSTOP)."""
        if self.running():
            self.container.pause()

    def resume(self) -> None:
        """Unfreeze it."""
        if self.container is not None:
            self.container.reload()
            if self.container.status == "paused":
                self.container.unpause()

    def _unpaused(self) -> bool:
        """Running and not frozen (a frozen container cannot be stopped); False if gone."""
        if not self.running():
            return False
        if self.container.status == "paused":
            self.container.unpause()
        return True

    # -- networks -------------------------------------------------------------------------
    def attached(self) -> list[str]:
        """Names of the networks the container is on now."""
        self.container.reload()
        return list(self.container.attrs["NetworkSettings"]["Networks"])

    def disconnect(self, networks: list[str]) -> list[str]:
        """Cut the container off ``networks`` (those it is on); returns the ones it left."""
        left = []
        for attachment in self.networks:
            if attachment.network in networks and attachment.network not in self.detached:
                self.client.networks.get(attachment.network).disconnect(self.container,
                                                                        force=True)
                self.detached[attachment.network] = attachment
                left.append(attachment.network)
        return left

    def reconnect(self, networks: list[str]) -> None:
        """Attach it again, with the same aliases and fixed IPs (first network first)."""
        for attachment in self.networks:
            if attachment.network in networks and attachment.network in self.detached:
                self.client.networks.get(attachment.network).connect(
                    self.container, aliases=attachment.aliases, ipv4_address=attachment.ipv4)
                del self.detached[attachment.network]

    # -- readiness and logs ---------------------------------------------------------------
    def is_ready(self, session: requests.Session) -> bool:
        """One readiness probe, through the published port (as the local backend probes)."""
        if self.ready_check is not None:
            return self.ready_check(self)
        if self.ready_path is None:
            return self.running()
        try:
            return session.get(self.url + self.ready_path, timeout=0.5).status_code == 200
        except requests.RequestException:
            return False

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the container's output."""
        if self.container is None:
            return "(never started)"
        return log_tail(self.container, lines)


def tls_ready(svc: DockerService) -> bool:
    """A TLS handshake through the published port completes (the server holds its certificate).

    A plain TCP connect would prove nothing: Docker's port proxy accepts connections for a
    container that does not listen yet.
    """
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((LOOPBACK, svc.host_port), timeout=0.5) as raw, \
                context.wrap_socket(raw, server_hostname=svc.name):
            return True
    except (OSError, ssl.SSLError):
        return False


def exec_ready(argv: tuple[str, ...]) -> Callable[[DockerService], bool]:
    """Readiness as a command inside the container exiting 0 (PostgreSQL's ``pg_isready``:
    it has no HTTP endpoint to ask)."""

    def ready(svc: DockerService) -> bool:
        try:
            return bool(svc.container.exec_run(list(argv)).exit_code == 0)
        except APIError:
            return False

    return ready


# -- building services from the manifest ---------------------------------------------------
@dataclass
class BuildContext:
    """What building a service needs to know about its stack."""

    spec: Any  # StackSpec
    workdir: Path
    time_scale: float
    images: dict[str, str]
    client: Any
    labels: dict[str, str]
    stack_network: str
    suffix: str
    sink_name: str
    sink_port: int
    alertmanager_urls: list[str]
    authority: Callable[[], Authority]
    #: The plan of every series service (alertdrill.analysis.seriesplan), built with the configs.
    series: dict[str, StandIn] = field(default_factory=dict)

    def directory(self, name: str, owner: tuple[int, int] | None = None, mode: int = 0o755) -> Path:
        """A directory of the workdir to bind-mount; ``owner``: the container's user owns it."""
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
        if owner is not None and os.geteuid() == 0:
            os.chown(path, *owner)
        return path

    def aliases(self, spec: ServiceSpec) -> list[str]:
        """How the configs name the service on the stack's network (:func:`aliases_of`)."""
        return aliases_of(spec)

    def listen_port(self, spec: ServiceSpec) -> int:
        """The port a service of the stack listens on in its container (:func:`listen_port`)."""
        return listen_port(spec)


def listen_port(spec: ServiceSpec) -> int:
    """The port the service listens on in its container: its first written address's."""
    for address in spec.addresses:
        netloc = address.split("://")[-1].split("/")[0]
        port = netloc.rpartition(":")[2]
        if port.isdigit():
            return int(port)
    return kind(spec.kind).container_port


def aliases_of(spec: ServiceSpec) -> list[str]:
    """How the configs name the service: its name, and the host of every written address."""
    found = [spec.name]
    for address in spec.addresses:
        netloc = address.split("://")[-1].split("/")[0]
        host = netloc.rpartition(":")[0] or netloc
        if host and host not in found:
            found.append(host)
    return found


def build_service(ctx: BuildContext, spec: ServiceSpec) -> DockerService:
    """The service for a manifest entry (not created yet): its kind's container, translated."""
    declared = kind(spec.kind)
    port = listen_port(spec)
    container = declared.container(spec, ctx, port)
    svc = DockerService(
        name=spec.name, image=ctx.images[declared.image],
        command=with_flags(container.command, spec.flags),
        client=ctx.client, labels=ctx.labels,
        networks=[Attachment(ctx.stack_network, aliases_of(spec))],
        port=port if container.published else 0, container_name=f"{spec.name}-{ctx.suffix}",
        environment=dict(container.environment), mounts=dict(container.mounts),
        user=container.user, stop_signal=container.stop_signal,
        capabilities=container.capabilities)
    ready = container.ready
    if isinstance(ready, HttpReady):
        svc.ready_path = ready.path
    elif isinstance(ready, TlsReady):
        svc.ready_check = tls_ready
    else:
        svc.ready_check = exec_ready(ready.argv)
    return svc


def wait_all_ready(services: list[DockerService], timeout: float,
                   exited: Callable[[], list[DockerService]]) -> None:
    """Block until every service answers its readiness probe, or raise with the log tails.

    ``exited`` lists the services whose container stopped by itself (one engine call for all:
    a stack asks it every 50 ms, and the engine shares two cores with the stack).
    """
    deadline = time.monotonic() + timeout
    pending = list(services)
    session = requests.Session()
    while pending and time.monotonic() < deadline:
        for svc in exited():
            raise_exited(svc)
        for svc in list(pending):
            if svc.is_ready(session):
                pending.remove(svc)
        if pending:
            time.sleep(0.05)
    if pending:
        names = ", ".join(s.name for s in pending)
        tails = "\n".join(f"--- {s.name} ---\n{s.log_tail()}" for s in pending)
        raise StartupError(f"not ready within {timeout:.0f}s: {names}", f"last log lines:\n{tails}")


def raise_exited(svc: DockerService) -> None:
    """A StartupError naming the service, its exit code and its last log line."""
    code = svc.container.attrs.get("State", {}).get("ExitCode") if svc.container else None
    tail = svc.log_tail(12)
    errors = [ln for ln in tail.splitlines() if "level=error" in ln or "err=" in ln
              or "Error" in ln]
    summary = errors[-1] if errors else (tail.splitlines()[-1] if tail else "(no output)")
    raise StartupError(f"{svc.name} (container {svc.container_name}) exited with code {code} "
                       f"during start-up: {summary.strip()}", f"full log tail:\n{tail}")
