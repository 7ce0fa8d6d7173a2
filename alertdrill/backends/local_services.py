"""The services of a local stack: one real process each, translated from its kind.

Every service is a :class:`LocalService`: a launch function the harness can call again after a
stop (same address: the harness binds the listening socket itself, or reuses the port the
binary chose), a readiness probe, and what faults may act on (its capabilities).
:func:`build_service` makes one from the manifest's entry: the kind (alertdrill.kinds) says
what runs; this module only turns that into a ``ManagedProcess``.
"""

from __future__ import annotations

import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from alertdrill.analysis.seriesplan import StandIn
from alertdrill.backends.certs import Authority, make_authority
from alertdrill.backends.ports import LOOPBACK, bind_listener, port_of
from alertdrill.backends.process import ManagedProcess
from alertdrill.engine.stackspec import ServiceSpec, StackSpec, with_flags
from alertdrill.engine.timescale import TimeScale
from alertdrill.errors import StartupError
from alertdrill.kinds import kind
from alertdrill.kinds.base import HttpReady, Process, TlsReady
from alertdrill.kinds.capabilities import Capability, Capable

_POLL = 0.02


@dataclass
class LocalService(Capable):
    """A service the harness can stop and start again at the same address."""

    name: str
    launch: Callable[[], ManagedProcess]
    ready_path: str | None = None
    port: int = 0
    process: ManagedProcess | None = None
    extra: dict[str, int] = field(default_factory=dict)
    #: Readiness for services without HTTP (PostgreSQL): a callable instead of ready_path.
    ready_check: Callable[[], bool] | None = None
    #: The signal that stops it gracefully (PostgreSQL: SIGINT, "fast" shutdown).
    stop_signal: int = signal.SIGTERM
    #: What faults may act on (its kind's, alertdrill.kinds.capabilities).
    capabilities: tuple[Capability, ...] = ()

    @property
    def url(self) -> str:
        """Base HTTP URL of the service."""
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        """Launch the process (again); the address stays the one it had."""
        if self.running():
            return
        self.process = self.launch()

    def running(self) -> bool:
        """True while its process exists (also when paused)."""
        return self.process is not None and self.process.alive()

    def stop(self) -> None:
        """Its stop signal (SIGTERM unless it needs another), and wait."""
        if self.process is not None:
            self.process.stop(sig=self.stop_signal)

    def kill(self) -> None:
        """SIGKILL and wait."""
        if self.process is not None:
            self.process.stop(timeout=1.0, sig=signal.SIGKILL)

    def pause(self) -> None:
        """SIGSTOP the process group."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT the process group."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def is_ready(self, session: requests.Session) -> bool:
        """One readiness probe: the process lives and answers its ready path with 200."""
        if not self.running():
            return False
        if self.ready_check is not None:
            return self.ready_check()
        if not self.port:
            return False
        if self.ready_path is None:
            return True
        try:
            return session.get(self.url + self.ready_path, timeout=0.5).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, timeout: float) -> None:
        """Block until ready, or raise StartupError with the log tail."""
        wait_all_ready([self], timeout)

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of its log."""
        return self.process.log_tail(lines) if self.process is not None else "(not started)"



@dataclass
class LaunchContext:
    """What building a service needs to know about its stack."""

    spec: StackSpec
    workdir: Path
    scale: TimeScale
    sink_url: str
    #: Services built so far (a service may refer to one declared before it).
    services: dict[str, LocalService]
    #: Late-bound: the Alertmanager peers exist only after the early services.
    alertmanager_urls: Callable[[], list[str]]
    #: Directories outside the workdir to remove with the stack.
    extra_dirs: list[Path] = field(default_factory=list)
    pg_sockets: dict[str, Path] = field(default_factory=dict)
    #: The plan of every series service (built with the configs, before anything started).
    series: dict[str, StandIn] = field(default_factory=dict)
    _authority: Authority | None = None

    def log(self, name: str) -> Path:
        """The log file of a service."""
        return self.workdir / f"{name}.log"

    def access_log(self, service: str) -> Path:
        """Where an app of the stack writes its access log (created empty up front)."""
        path = self.workdir / f"{service}.access.log"
        path.touch()
        return path

    @property
    def authority(self) -> Authority:
        """The stack's own CA (made on first use), written to ``<workdir>/pki/ca.crt``."""
        if self._authority is None:
            self._authority = make_authority(f"alertdrill {self.spec.name} CA")
            (self.workdir / "pki").mkdir(exist_ok=True)
            self._authority.write(self.workdir / "pki")
        return self._authority

    @property
    def ca_file(self) -> Path:
        """The CA certificate clients of the stack trust."""
        _ = self.authority
        return self.workdir / "pki" / "ca.crt"


def build_service(ctx: LaunchContext, spec: ServiceSpec) -> LocalService:
    """The service for a manifest entry (not started yet): its kind's process, translated."""
    process = kind(spec.kind).process(spec, ctx)
    if process.python:
        return _python_service(ctx, spec.name, process, spec.flags)
    return _binary_service(ctx, spec.name, process, spec.flags)


def _python_service(ctx: LaunchContext, name: str, process: Process,
                    flags: tuple[str, ...] = ()) -> LocalService:
    """A process of the harness's own on a socket we bind (so its port is known up front)."""
    holder: dict[str, socket.socket] = {}

    def launch() -> ManagedProcess:
        sock = holder.pop("sock", None) or bind_listener(svc.port)
        svc.port = port_of(sock)
        argv = [sys.executable, "-m", *with_flags(process.argv(svc.port), flags), "--fd",
                str(sock.fileno())]
        proc = ManagedProcess(name, argv, ctx.log(name), pass_fds=[sock.fileno()])
        sock.close()
        return proc

    first = bind_listener(0)
    holder["sock"] = first
    svc = _service(name, launch, process, port_of(first))
    return svc


def _binary_service(ctx: LaunchContext, name: str, process: Process,
                    flags: tuple[str, ...] = ()) -> LocalService:
    """A binary: on port 0 at first (it chooses; ``wait_ports`` reads it back), then on the
    port it chose, at every start again."""

    def launch() -> ManagedProcess:
        return ManagedProcess(name, with_flags(process.argv(svc.port), flags), ctx.log(name),
                              env=process.env)

    svc = _service(name, launch, process, 0)
    return svc


def _service(name: str, launch: Callable[[], ManagedProcess], process: Process,
             port: int) -> LocalService:
    """The LocalService of a kind's process: its readiness, stop signal and capabilities."""
    svc = LocalService(name, launch, port=port, stop_signal=process.stop_signal,
                       capabilities=process.capabilities)
    ready = process.ready
    if isinstance(ready, HttpReady):
        svc.ready_path = ready.path
    elif isinstance(ready, TlsReady):
        # The harness bound the socket before the process started: running is listening.
        svc.ready_check = svc.running
    else:
        svc.ready_check = ready.check
    return svc


def wait_ports(svc: LocalService, clustered: bool, timeout: float = 10.0) -> None:
    """Read back the ports a binary started on port 0 bound (web, and cluster when clustered)."""
    deadline = time.monotonic() + timeout
    assert svc.process is not None
    while time.monotonic() < deadline:
        found = svc.process.listening()
        udp = {p for kind, p in found if kind == "udp"}
        tcp = {p for kind, p in found if kind == "tcp"}
        web = tcp - udp
        # memberlist binds the cluster port for TCP and UDP; until both are seen, the cluster
        # TCP port would look like a second web port, so wait for exactly one candidate.
        if len(web) == 1 and (not clustered or udp):
            svc.port = svc.port or min(web)
            if clustered:
                svc.extra["cluster"] = min(udp)
            return
        if not svc.running():
            raise_exited(svc)
        time.sleep(_POLL)
    raise StartupError(
        f"{svc.name} did not open its listening ports within {timeout:.0f}s",
        f"its log ends with:\n{svc.process.log_tail()}",
    )


def wait_all_ready(services: list[LocalService], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(services)
    session = requests.Session()
    while pending and time.monotonic() < deadline:
        for svc in list(pending):
            if svc.process is not None and not svc.running():
                raise_exited(svc)
            if svc.is_ready(session):
                pending.remove(svc)
        if pending:
            time.sleep(_POLL)
    if pending:
        names = ", ".join(s.name for s in pending)
        tails = "\n".join(
            f"--- {s.name} ---\n{s.process.log_tail() if s.process else '(not started)'}"
            for s in pending
        )
        raise StartupError(f"not ready within {timeout:.0f}s: {names}", f"last log lines:\n{tails}")


def raise_exited(svc: LocalService) -> None:
    assert svc.process is not None
    code = svc.process.popen.returncode
    tail = svc.process.log_tail(12)
    errors = [ln for ln in tail.splitlines() if "level=error" in ln or "err=" in ln]
    summary = errors[-1] if errors else (tail.splitlines()[-1] if tail else "(no output)")
    raise StartupError(
        f"{svc.name} exited with code {code} during start-up: {summary.strip()}",
        f"full log tail:\n{tail}",
    )
