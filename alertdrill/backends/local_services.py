"""The services of a local stack: one real process each, and how each kind is launched.

Every service is a :class:`LocalService`: a launch function the harness can call again after a
stop (same address: the harness binds the listening socket itself, or reuses the port the
binary chose), a readiness probe, and what faults may act on (its filesystem, its log, its
certificates). :func:`build_service` makes one from the manifest's entry, by ``kind``.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from alertdrill.backends.common import blackbox_config, mtail_sources
from alertdrill.binaries import find_binary
from alertdrill.certs import Authority, issue_leaf, make_authority
from alertdrill.errors import ConfigError, MissingBinaryError, StartupError
from alertdrill.ports import LOOPBACK, bind_listener, port_of
from alertdrill.process import ManagedProcess, make_tempdir, mount_tmpfs, run_id
from alertdrill.seriesplan import StandIn
from alertdrill.stackspec import ServiceSpec, StackSpec
from alertdrill.timescale import TimeScale
from alertdrill.yamlio import dump_yaml

_POLL = 0.02
#: Days a freshly issued certificate of a TLS endpoint is valid (until a fault reissues it).
DEFAULT_CERT_DAYS = 90.0
#: Kinds that need the Alertmanager peers' addresses, so start after them.
LATE_KINDS = frozenset({"escalation"})


@dataclass
class LocalService:
    """A service the harness can stop and start again at the same address."""

    name: str
    launch: Callable[[], ManagedProcess]
    ready_path: str | None = None
    port: int = 0
    process: ManagedProcess | None = None
    extra: dict[str, int] = field(default_factory=dict)
    #: The small filesystem the harness mounted for this service (node-exporter), if any.
    filesystem: Path | None = None
    #: The log file the service writes (apps), which log faults may write into.
    log_file: Path | None = None
    #: Readiness for services without HTTP (PostgreSQL): a callable instead of ready_path.
    ready_check: Callable[[], bool] | None = None
    #: The signal that stops it gracefully (PostgreSQL: SIGINT, "fast" shutdown).
    stop_signal: int = signal.SIGTERM
    #: TLS endpoints: where their certificate lives, the names it is issued for, and the CA.
    cert_dir: Path | None = None
    cert_names: list[str] = field(default_factory=list)
    authority: Authority | None = None
    #: A series stand-in's plan: the families it serves (steps check against it).
    stand_in: StandIn | None = None

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
    """The service for a manifest entry (not started yet)."""
    builders: dict[str, Callable[[LaunchContext, ServiceSpec], LocalService]] = {
        "series": _python_service, "sample-target": _python_service, "app": _python_service,
        "tls-endpoint": _python_service, "ocsp-responder": _python_service,
        "escalation": _python_service, "tickets": _python_service,
        "node-exporter": _node_exporter, "mtail": _mtail, "postgres": _postgres,
        "postgres-exporter": _postgres_exporter, "blackbox-exporter": _blackbox_exporter,
    }
    return builders[spec.kind](ctx, spec)


def _python_argv(ctx: LaunchContext, spec: ServiceSpec, svc: LocalService) -> list[str]:
    """Module and arguments of a service the harness implements itself."""
    name, kind = spec.name, spec.kind
    if kind == "app":
        assert svc.log_file is not None
        return ["alertdrill.targets.app", "--flavor", str(spec.options.get("flavor", "web")),
                "--rate", str(spec.options.get("rate", 20)), "--log-file", str(svc.log_file)]
    if kind == "tls-endpoint":
        assert svc.cert_dir is not None
        return ["alertdrill.targets.tls", "--cert-dir", str(svc.cert_dir)]
    if kind == "ocsp-responder":
        return ["alertdrill.targets.ocsp"]
    if kind == "series":
        path = ctx.workdir / f"{name}.series.json"
        path.write_text(json.dumps(ctx.series[name].to_json(), indent=1))
        return ["alertdrill.targets.series", "--plan", str(path)]
    if kind == "escalation":
        peers = [a for url in ctx.alertmanager_urls() for a in ("--alertmanager", url)]
        return ["alertdrill.services.escalation", "--db", str(ctx.workdir / f"{name}.sqlite"),
                "--time-scale", f"{ctx.scale.factor:g}", *peers]
    if kind == "tickets":
        jira = str(spec.options.get("jira", f"{name}/jira/0"))
        receiver, _, rest = jira.partition("/")
        return ["alertdrill.services.tickets", "--db", str(ctx.workdir / f"{name}.sqlite"),
                "--jira-url", f"{ctx.sink_url}/n/0/{receiver}/{rest or 'jira/0'}"]
    return ["alertdrill.targets.sample", "--name", name]


def _python_service(ctx: LaunchContext, spec: ServiceSpec) -> LocalService:
    """A process of the harness's own on a socket we bind (so its port is known up front)."""
    name = spec.name
    holder: dict[str, socket.socket] = {}
    ready = {"app": "/metrics", "sample-target": "/metrics", "series": "/metrics",
             "tls-endpoint": None,
             "ocsp-responder": "/-/control", "escalation": "/-/healthy",
             "tickets": "/-/healthy"}[spec.kind]

    def launch() -> ManagedProcess:
        sock = holder.pop("sock", None) or bind_listener(svc.port)
        svc.port = port_of(sock)
        argv = [sys.executable, "-m", *_python_argv(ctx, spec, svc), "--fd", str(sock.fileno())]
        proc = ManagedProcess(name, argv, ctx.log(name), pass_fds=[sock.fileno()])
        sock.close()
        return proc

    first = bind_listener(0)
    holder["sock"] = first
    svc = LocalService(name, launch, ready, port=port_of(first))
    if spec.kind == "app":
        svc.log_file = ctx.access_log(name)
    if spec.kind == "series":
        svc.stand_in = ctx.series[name]
    if spec.kind == "tls-endpoint":
        svc.cert_dir = ctx.workdir / f"certs-{name}"
        svc.cert_names = [a.rsplit(":", 1)[0] for a in spec.addresses] + [LOOPBACK]
        days = float(spec.options.get("certificate_days", DEFAULT_CERT_DAYS))
        issue_leaf(ctx.authority, svc.cert_names, days, svc.cert_dir)
        svc.authority = ctx.authority
        svc.ready_check = _tcp_ready(svc)
    return svc


def _tcp_ready(svc: LocalService) -> Callable[[], bool]:
    """Readiness for a non-HTTP listener: the process runs (its socket was bound for it)."""
    return lambda: svc.running()


def _blackbox_exporter(ctx: LaunchContext, spec: ServiceSpec) -> LocalService:
    """prometheus-blackbox-exporter with the stack's modules, trusting the stack's CA."""
    binary = find_binary("blackbox-exporter")
    config = blackbox_config(ctx.spec, spec, str(ctx.ca_file))
    path = ctx.workdir / f"{spec.name}.yml"
    path.write_text(dump_yaml(config))

    def launch() -> ManagedProcess:
        argv = [binary, f"--config.file={path}", f"--web.listen-address={LOOPBACK}:{svc.port}",
                "--log.level=warn"]
        return ManagedProcess(spec.name, argv, ctx.log(spec.name))

    svc = LocalService(spec.name, launch, "/metrics")
    return svc


def _postgres(ctx: LaunchContext, spec: ServiceSpec) -> LocalService:
    """A real PostgreSQL in the stack's workdir, reachable on a unix socket only.

    PostgreSQL refuses to run as root, so it runs as the ``postgres`` user of Debian's
    package; its data directory is a copy of one initdb made once per run (0.7 s saved
    per stack).
    """
    # The postgres user must reach its files: they live in a dir of the system temp dir
    # (ALERTDRILL_TMPDIR may sit under a private parent), removed with the stack.
    pg_root = make_tempdir(f"pg-{spec.name}-{run_id()}", system=True)
    ctx.extra_dirs.append(pg_root)
    data = pg_root / "data"
    sockets = pg_root / "socket"
    sockets.mkdir()
    shutil.copytree(postgres_template(), data, symlinks=True)
    _chown_tree(data, "postgres")
    _chown_tree(sockets, "postgres")
    bin_dir = postgres_bin_dir()

    def launch() -> ManagedProcess:
        argv = [*_as_user("postgres"), str(bin_dir / "postgres"), "-D", str(data),
                "-c", "listen_addresses=", "-c", f"unix_socket_directories={sockets}",
                "-c", "fsync=off", "-c", "max_connections=50"]
        return ManagedProcess(spec.name, argv, ctx.log(spec.name))

    svc = LocalService(spec.name, launch, None,
                       ready_check=lambda: _accepts_connections(bin_dir, sockets),
                       stop_signal=signal.SIGINT)
    ctx.pg_sockets[spec.name] = sockets
    return svc


def _postgres_exporter(ctx: LaunchContext, spec: ServiceSpec) -> LocalService:
    """prometheus-postgres-exporter connected to the stack's PostgreSQL by unix socket."""
    binary = find_binary("postgres-exporter")
    target = str(spec.options.get("of", "postgres"))
    if target not in ctx.pg_sockets:
        raise ConfigError(f"{ctx.spec.root}/alertdrill.yml: postgres-exporter "
                          f"{spec.name!r} needs `of:` naming a postgres service declared "
                          "before it")
    dsn = (f"postgresql://postgres@/postgres?host={ctx.pg_sockets[target]}"
           "&sslmode=disable")

    def launch() -> ManagedProcess:
        argv = [binary, f"--web.listen-address={LOOPBACK}:{svc.port}", "--log.level=warn"]
        return ManagedProcess(spec.name, argv, ctx.log(spec.name),
                              env={"DATA_SOURCE_NAME": dsn})

    svc = LocalService(spec.name, launch, "/metrics")
    return svc


def _mtail(ctx: LaunchContext, spec: ServiceSpec) -> LocalService:
    """mtail tailing the access log of another service of the stack."""
    binary = find_binary("mtail")
    source, progs = mtail_sources(ctx.spec, spec)
    log = ctx.access_log(source)

    def launch() -> ManagedProcess:
        argv = [binary, "-progs", str(progs), "-logs", str(log), "-address", LOOPBACK,
                "-port", str(svc.port), "-poll_interval", "250ms", "-logtostderr"]
        return ManagedProcess(spec.name, argv, ctx.log(spec.name))

    svc = LocalService(spec.name, launch, "/metrics")
    return svc


def _node_exporter(ctx: LaunchContext, spec: ServiceSpec) -> LocalService:
    """node-exporter watching one small tmpfs the harness mounts (and only that).

    It reads the mount table from ``--path.procfs``; a one-line ``1/mounts`` there makes it
    report the harness's filesystem alone, with real sizes from statfs, so a disk-fill
    fault can never be confused with (or touch) the machine's own disks.
    """
    binary = find_binary("node-exporter")
    size_mb = int(spec.options.get("filesystem_mb", 32))
    fs = ctx.workdir / f"fs-{spec.name}"
    mount_tmpfs(fs, size_mb)
    proc_dir = ctx.workdir / f"proc-{spec.name}" / "1"
    proc_dir.mkdir(parents=True)
    (proc_dir / "mounts").write_text(f"alertdrill {fs} tmpfs rw,relatime 0 0\n")

    def launch() -> ManagedProcess:
        argv = [binary, f"--web.listen-address={LOOPBACK}:{svc.port}",
                "--collector.disable-defaults", "--collector.filesystem",
                f"--path.procfs={proc_dir.parent}", "--log.level=warn"]
        return ManagedProcess(spec.name, argv, ctx.log(spec.name))

    svc = LocalService(spec.name, launch, "/metrics", filesystem=fs)
    return svc


_PG_TEMPLATE: Path | None = None



def postgres_bin_dir() -> Path:
    """Debian's PostgreSQL server binaries (the newest installed major version)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise MissingBinaryError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres)",
            "install it with `sudo apt-get install -y postgresql`, or run it in a container of its "
            "upstream image (--backend docker with ALERTDRILL_IMAGES=official)")
    return found[-1].parent


def _accepts_connections(bin_dir: Path, sockets: Path) -> bool:
    """``pg_isready``: the server accepts connections (its socket file appears earlier, while
    it still answers "the database system is starting up")."""
    if not (sockets / ".s.PGSQL.5432").exists():
        return False
    try:
        return subprocess.run([str(bin_dir / "pg_isready"), "-q", "-h", str(sockets)],
                              check=False, timeout=2).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _as_user(user: str) -> list[str]:
    """Run a child as ``user`` (PostgreSQL will not run as root)."""
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]


def _chown_tree(path: Path, user: str) -> None:
    subprocess.run(["chown", "-R", f"{user}:{user}", str(path)], check=True)


def postgres_template() -> Path:
    """An initdb'd data directory, made once per harness process and copied for each stack."""
    global _PG_TEMPLATE
    if _PG_TEMPLATE is None or not _PG_TEMPLATE.exists():
        root = make_tempdir(f"pg-template-{run_id()}", system=True)
        _chown_tree(root, "postgres")
        data = root / "data"
        result = subprocess.run(
            [*_as_user("postgres"), str(postgres_bin_dir() / "initdb"), "-D", str(data),
             "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StartupError(f"initdb failed: {result.stderr.strip()[-300:]}",
                               "PostgreSQL runs as the `postgres` user: the harness needs root "
                               "to switch to it")
        _PG_TEMPLATE = data
    return _PG_TEMPLATE




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
