"""The services of a Docker stack: one container each, and how each kind is run.

A :class:`DockerService` is the container twin of ``LocalService``: stop, kill, start (the same
container again, so the same name, aliases and published port), pause and resume (the cgroup
freezer, like SIGSTOP), and the attributes faults read — ``url`` (published on 127.0.0.1),
``filesystem``, ``log_file``, ``cert_dir``/``cert_names``/``authority``. Files faults act on
live on the host and are bind-mounted, so the same fault classes work on both backends. It can
also be cut off from its networks (``disconnect``/``reconnect``), which processes on loopback
cannot be.

:func:`build_service` makes one from the manifest's entry, by ``kind``, as
``local_services.build_service`` does for processes.
"""

from __future__ import annotations

import contextlib
import json
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

from alertdrill.backends.common import blackbox_config, mtail_sources
from alertdrill.backends.local_services import DEFAULT_CERT_DAYS
from alertdrill.certs import Authority, issue_leaf
from alertdrill.containers import LOOPBACK, log_tail
from alertdrill.errors import ConfigError, StartupError
from alertdrill.process import mount_tmpfs
from alertdrill.seriesplan import StandIn
from alertdrill.stackspec import ServiceSpec
from alertdrill.yamlio import dump_yaml

#: The uid:gid the project's python image runs as (``alertdrill``); its files are made theirs.
PYTHON_USER = (1000, 1000)
#: Where each kind listens in its container when the manifest gives it no address.
DEFAULT_PORTS = {
    "series": 8080, "sample-target": 8080, "app": 8080, "tls-endpoint": 8443, "ocsp-responder": 8080,
    "escalation": 5000, "tickets": 5001, "node-exporter": 9100, "mtail": 3903,
    "postgres-exporter": 9187, "blackbox-exporter": 9115, "postgres": 5432,
}
#: Which image each kind runs (``alertdrill.images`` names).
IMAGES = {
    "series": "python", "sample-target": "python", "app": "python", "tls-endpoint": "python",
    "ocsp-responder": "python", "escalation": "python", "tickets": "python",
    "node-exporter": "node-exporter", "mtail": "mtail", "postgres": "postgres",
    "postgres-exporter": "postgres-exporter", "blackbox-exporter": "blackbox-exporter",
}
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
class DockerService:
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
    #: What faults act on (as LocalService has them).
    filesystem: Path | None = None
    log_file: Path | None = None
    cert_dir: Path | None = None
    cert_names: list[str] = field(default_factory=list)
    authority: Authority | None = None
    #: A series stand-in's plan (steps check against it).
    stand_in: StandIn | None = None
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


def postgres_ready(svc: DockerService) -> bool:
    """``pg_isready`` inside the container (PostgreSQL has no HTTP endpoint to ask)."""
    try:
        return bool(svc.container.exec_run(["pg_isready", "-q", "-U", "postgres"]).exit_code == 0)
    except APIError:
        return False


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
    #: The plan of every series service (alertdrill.seriesplan), built with the configs.
    series: dict[str, StandIn] = field(default_factory=dict)

    def directory(self, name: str, owner: tuple[int, int] | None = None, mode: int = 0o755) -> Path:
        """A directory of the workdir to bind-mount; ``owner``: the container's user owns it."""
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
        if owner is not None and os.geteuid() == 0:
            os.chown(path, *owner)
        return path


def listen_port(spec: ServiceSpec) -> int:
    """The port the service listens on in its container: its first written address's."""
    for address in spec.addresses:
        netloc = address.split("://")[-1].split("/")[0]
        port = netloc.rpartition(":")[2]
        if port.isdigit():
            return int(port)
    return DEFAULT_PORTS[spec.kind]


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
    """The service for a manifest entry (not created yet)."""
    image = ctx.images[IMAGES[spec.kind]]
    port = listen_port(spec)
    svc = DockerService(
        name=spec.name, image=image, command=[], client=ctx.client, labels=ctx.labels,
        networks=[Attachment(ctx.stack_network, aliases_of(spec))], port=port,
        container_name=f"{spec.name}-{ctx.suffix}")
    builders: dict[str, Callable[[BuildContext, ServiceSpec, DockerService], None]] = {
        "series": _python, "sample-target": _python, "app": _python, "tls-endpoint": _python,
        "ocsp-responder": _python, "escalation": _python, "tickets": _python,
        "node-exporter": _node_exporter, "mtail": _mtail, "postgres": _postgres,
        "postgres-exporter": _postgres_exporter, "blackbox-exporter": _blackbox_exporter,
    }
    builders[spec.kind](ctx, spec, svc)
    return svc


def _python(ctx: BuildContext, spec: ServiceSpec, svc: DockerService) -> None:
    """A service of the harness's own, in the python image, binding its port itself."""
    name, kind = spec.name, spec.kind
    svc.user = "{}:{}".format(*PYTHON_USER)
    svc.ready_path = {"app": "/metrics", "sample-target": "/metrics", "series": "/metrics",
                      "tls-endpoint": None,
                      "ocsp-responder": "/-/control", "escalation": "/-/healthy",
                      "tickets": "/-/healthy"}[kind]
    if kind == "app":
        logs = ctx.directory(f"log-{name}", PYTHON_USER)
        svc.log_file = logs / f"{name}.access.log"
        svc.log_file.touch()
        svc.log_file.chmod(0o644)
        if os.geteuid() == 0:
            os.chown(svc.log_file, *PYTHON_USER)
        svc.mounts[str(logs)] = ("/alertdrill/log", "rw")
        args = ["alertdrill.targets.app", "--flavor", str(spec.options.get("flavor", "web")),
                "--rate", str(spec.options.get("rate", 20)),
                "--log-file", f"/alertdrill/log/{svc.log_file.name}"]
    elif kind == "tls-endpoint":
        svc.cert_dir = ctx.directory(f"certs-{name}", PYTHON_USER)
        svc.cert_names = [*aliases_of(spec), LOOPBACK]
        days = float(spec.options.get("certificate_days", DEFAULT_CERT_DAYS))
        svc.authority = ctx.authority()
        issue_leaf(svc.authority, svc.cert_names, days, svc.cert_dir)
        svc.mounts[str(svc.cert_dir)] = ("/alertdrill/certs", "ro")
        svc.ready_check = tls_ready
        args = ["alertdrill.targets.tls", "--cert-dir", "/alertdrill/certs"]
    elif kind == "ocsp-responder":
        args = ["alertdrill.targets.ocsp"]
    elif kind == "series":
        plans = ctx.directory(f"series-{name}", PYTHON_USER)
        (plans / "plan.json").write_text(json.dumps(ctx.series[name].to_json(), indent=1))
        (plans / "plan.json").chmod(0o644)
        svc.mounts[str(plans)] = ("/alertdrill/series", "ro")
        svc.stand_in = ctx.series[name]
        args = ["alertdrill.targets.series", "--plan", "/alertdrill/series/plan.json"]
    elif kind == "escalation":
        data = ctx.directory(f"data-{name}", PYTHON_USER)
        svc.mounts[str(data)] = ("/alertdrill/data", "rw")
        peers = [a for url in ctx.alertmanager_urls for a in ("--alertmanager", url)]
        args = ["alertdrill.services.escalation", "--db", f"/alertdrill/data/{name}.sqlite",
                "--time-scale", f"{ctx.time_scale:g}", *peers]
    elif kind == "tickets":
        data = ctx.directory(f"data-{name}", PYTHON_USER)
        svc.mounts[str(data)] = ("/alertdrill/data", "rw")
        jira = str(spec.options.get("jira", f"{name}/jira/0"))
        receiver, _, rest = jira.partition("/")
        args = ["alertdrill.services.tickets", "--db", f"/alertdrill/data/{name}.sqlite",
                "--jira-url",
                f"http://{ctx.sink_name}:{ctx.sink_port}/n/0/{receiver}/{rest or 'jira/0'}"]
    else:
        args = ["alertdrill.targets.sample", "--name", name]
    svc.command = ["python", "-m", *args, "--listen", f"0.0.0.0:{svc.port}"]


def _node_exporter(ctx: BuildContext, spec: ServiceSpec, svc: DockerService) -> None:
    """node-exporter watching one small tmpfs the harness mounts on the host (and only that).

    The tmpfs is mounted on the host (so the disk fault writes the very filesystem, with its
    real size limit) and bind-mounted into the container; a one-line mount table in its
    ``--path.procfs`` shows it that filesystem alone, as on the local backend.
    """
    size_mb = int(spec.options.get("filesystem_mb", 32))
    fs = ctx.workdir / f"fs-{spec.name}"
    mount_tmpfs(fs, size_mb)
    proc = ctx.directory(f"proc-{spec.name}")
    (proc / "1").mkdir(exist_ok=True)
    (proc / "1").chmod(0o755)
    (proc / "1" / "mounts").write_text("alertdrill /alertdrill/fs tmpfs rw,relatime 0 0\n")
    (proc / "1" / "mounts").chmod(0o644)
    svc.mounts[str(fs)] = ("/alertdrill/fs", "ro")
    svc.mounts[str(proc)] = ("/alertdrill/proc", "ro")
    svc.filesystem = fs
    svc.ready_path = "/metrics"
    svc.command = [f"--web.listen-address=0.0.0.0:{svc.port}", "--collector.disable-defaults",
                   "--collector.filesystem", "--path.procfs=/alertdrill/proc", "--log.level=warn"]


def _mtail(ctx: BuildContext, spec: ServiceSpec, svc: DockerService) -> None:
    """mtail tailing the access log of an app of the stack (the same host file, mounted)."""
    source, progs = mtail_sources(ctx.spec, spec)
    logs = ctx.workdir / f"log-{source}"
    if not logs.is_dir():
        raise ConfigError(f"{ctx.spec.root}/alertdrill.yml: mtail service {spec.name!r} reads "
                          f"the log of {source!r}, which must be an app declared before it")
    svc.mounts[str(progs.resolve())] = ("/alertdrill/progs", "ro")
    svc.mounts[str(logs)] = ("/alertdrill/log", "ro")
    svc.ready_path = "/metrics"
    svc.command = ["-progs", "/alertdrill/progs", "-logs", f"/alertdrill/log/{source}.access.log",
                   "-address", "0.0.0.0", "-port", str(svc.port), "-poll_interval", "250ms",
                   "-logtostderr"]


def _postgres(ctx: BuildContext, spec: ServiceSpec, svc: DockerService) -> None:
    """PostgreSQL from the image (initdb done; the official image needs trust said aloud)."""
    svc.environment["POSTGRES_HOST_AUTH_METHOD"] = "trust"
    svc.stop_signal = "SIGINT"  # "fast" shutdown: SIGTERM waits for every client to leave
    svc.port = 0  # reached inside the network only; readiness is pg_isready in the container
    svc.ready_check = postgres_ready
    svc.command = ["postgres", "-c", "fsync=off", "-c", "max_connections=50"]


def _postgres_exporter(ctx: BuildContext, spec: ServiceSpec, svc: DockerService) -> None:
    """postgres-exporter connected to the stack's PostgreSQL over the network."""
    target = str(spec.options.get("of", "postgres"))
    if target not in ctx.spec.services or ctx.spec.services[target].kind != "postgres":
        raise ConfigError(f"{ctx.spec.root}/alertdrill.yml: postgres-exporter {spec.name!r} "
                          "needs `of:` naming a postgres service of the stack")
    port = listen_port(ctx.spec.services[target])
    svc.environment["DATA_SOURCE_NAME"] = (f"postgresql://postgres@{target}:{port}/postgres"
                                           "?sslmode=disable")
    svc.ready_path = "/metrics"
    svc.command = [f"--web.listen-address=0.0.0.0:{svc.port}", "--log.level=warn"]


def _blackbox_exporter(ctx: BuildContext, spec: ServiceSpec, svc: DockerService) -> None:
    """The blackbox exporter with the stack's modules, trusting the stack's CA (mounted)."""
    config = blackbox_config(ctx.spec, spec, "/alertdrill/config/ca.crt")
    config_dir = ctx.directory(f"config-{spec.name}")
    (config_dir / "config.yml").write_text(dump_yaml(config))
    ctx.authority().write(config_dir)
    for path in config_dir.iterdir():
        path.chmod(0o644)
    svc.mounts[str(config_dir)] = ("/alertdrill/config", "ro")
    svc.ready_path = "/metrics"
    svc.command = ["--config.file=/alertdrill/config/config.yml",
                   f"--web.listen-address=0.0.0.0:{svc.port}", "--log.level=warn"]


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
