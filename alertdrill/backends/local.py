"""The embedded default backend: real binaries as child processes on 127.0.0.1.

Start-up order is chosen for speed: the harness binds the sockets of its own services (sink,
targets) first, so their ports are known at once; Alertmanager peers start on port 0 and their
ports are read back from the kernel; Prometheus starts last, with every address in its config.
Readiness is ``/-/ready``; *usable* additionally waits for Prometheus to have discovered its
targets and every Alertmanager peer, which its discovery manager publishes only every 5 s.
"""

from __future__ import annotations

import logging
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

from alertdrill.backends.base import StackOptions
from alertdrill.binaries import find_binary
from alertdrill.durations import format_duration, parse_duration
from alertdrill.errors import ConfigError, MissingBinaryError, StartupError
from alertdrill.instrument import (
    TargetMap,
    dump_yaml,
    instrument_alertmanager,
    instrument_prometheus,
    load_yaml,
)
from alertdrill.ports import LOOPBACK, bind_listener, port_of
from alertdrill.process import (
    ManagedProcess,
    make_tempdir,
    mount_tmpfs,
    remove_tempdir,
    run_id,
)
from alertdrill.routing import min_group_interval
from alertdrill.sink.protocol import Destination
from alertdrill.stackspec import ServiceSpec, StackSpec
from alertdrill.timescale import (
    TimeScale,
    prometheus_flags,
    scale_alertmanager_config,
    scale_prometheus_config,
    scale_rule_file,
)

logger = logging.getLogger(__name__)

_POLL = 0.02


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
        _wait_all_ready([self], timeout)


class LocalStack:
    """A stack of real processes on loopback; a context manager that always cleans up."""

    def __init__(self, spec: StackSpec, options: StackOptions | None = None) -> None:
        self.spec = spec
        self.options = options or StackOptions()
        self.peers = self.options.peers or spec.peers
        self.scale = TimeScale(self.options.time_scale, self.options.floor)
        self.workdir = make_tempdir(f"{spec.name}-{run_id()}")
        self.services: dict[str, LocalService] = {}
        self.alertmanagers: list[LocalService] = []
        self.prometheus: LocalService | None = None
        self.sink_service: LocalService | None = None
        self.smtp_port = 0
        self.startup: dict[str, float] = {}
        self.warnings: list[str] = []
        self._configs: dict[str, Path] = {}
        self._max_scrape_interval = 0.0
        self._destinations: list[Destination] = []
        self._pg_sockets: dict[str, Path] = {}
        self._extra_dirs: list[Path] = []
        self._closed = False

    # -- public surface -------------------------------------------------------------------
    @property
    def prometheus_url(self) -> str:
        """Prometheus's base URL."""
        assert self.prometheus is not None
        return self.prometheus.url

    @property
    def alertmanager_urls(self) -> list[str]:
        """Base URL of every Alertmanager peer, in peer order."""
        return [am.url for am in self.alertmanagers]

    @property
    def sink_url(self) -> str:
        """The notification sink's base URL."""
        assert self.sink_service is not None
        return self.sink_service.url

    def service(self, name: str) -> LocalService:
        """A service by name: manifest services, ``prometheus``, ``alertmanager-N``, ``sink``."""
        everything = self._all_services()
        if name not in everything:
            raise ConfigError(
                f"the stack has no service {name!r}",
                f"services of this stack: {', '.join(sorted(everything))}",
            )
        return everything[name]

    def service_names(self) -> list[str]:
        """Every service name, sorted."""
        return sorted(self._all_services())

    def logs(self, lines: int = 20) -> dict[str, str]:
        """Tail of every service's log."""
        return {
            name: svc.process.log_tail(lines) if svc.process else "(never started)"
            for name, svc in sorted(self._all_services().items())
        }

    def destinations(self) -> list[Destination]:
        """Every (receiver, integration) the instrumented config delivers to (peer 0's view)."""
        return list(self._destinations)

    def rendered_configs(self) -> dict[str, str]:
        """The instrumented configs the stack runs."""
        return {name: path.read_text() for name, path in self._configs.items() if path.exists()}

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> LocalStack:
        """Start everything, wait until usable; on any failure clean up and re-raise."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop every process (reverse start order) and remove the workdir."""
        if self._closed:
            return
        self._closed = True
        for svc in reversed(list(self._all_services().values())):
            try:
                svc.stop()
            except Exception:
                logger.exception("stopping %s failed", svc.name)
        if not self.options.keep_workdir:
            remove_tempdir(self.workdir)
        for path in self._extra_dirs:
            remove_tempdir(path)

    def _all_services(self) -> dict[str, LocalService]:
        found: dict[str, LocalService] = {}
        if self.sink_service:
            found["sink"] = self.sink_service
        found.update(self.services)
        for index, am in enumerate(self.alertmanagers):
            found[f"alertmanager-{index}"] = am
        if self.prometheus:
            found["prometheus"] = self.prometheus
        return found

    def _start(self) -> None:
        t0 = time.monotonic()
        prometheus_bin = find_binary("prometheus")
        alertmanager_bin = find_binary("alertmanager")
        am_config = load_yaml(self.spec.alertmanager_config, "alertmanager.yml")
        prom_config = load_yaml(self.spec.prometheus_config, "prometheus.yml")
        _preflight(self.spec)
        if self.scale.factor != 1:
            am_scaled = scale_alertmanager_config(am_config, self.scale)
            prom_scaled = scale_prometheus_config(prom_config, self.scale)
            self.warnings += am_scaled.warnings + prom_scaled.warnings
            am_config, prom_config = am_scaled.doc, prom_scaled.doc
        self.startup["preflight"] = time.monotonic() - t0

        self._start_sink()
        binaries = {"node-exporter": self._node_exporter, "mtail": self._mtail,
                    "postgres-exporter": self._postgres_exporter}
        for svc_spec in self.spec.services.values():
            if svc_spec.kind == "postgres":
                self.services[svc_spec.name] = self._postgres(svc_spec)
                self.services[svc_spec.name].start()
                continue
            if svc_spec.kind in binaries:
                self.services[svc_spec.name] = binaries[svc_spec.kind](svc_spec)
                self.services[svc_spec.name].start()
                _wait_ports(self.services[svc_spec.name], clustered=False)
                continue
            self.services[svc_spec.name] = self._own_target(svc_spec)
            self.services[svc_spec.name].start()
        self._start_alertmanagers(alertmanager_bin, am_config)
        self._start_prometheus(prometheus_bin, prom_config)
        self.startup["spawned"] = time.monotonic() - t0
        _wait_all_ready(list(self._all_services().values()), self.options.ready_timeout)
        self.startup["ready"] = time.monotonic() - t0
        self._wait_usable()
        self.startup["usable"] = time.monotonic() - t0
        logger.info("stack %s usable in %.2fs (%s)", self.spec.name, self.startup["usable"], self.startup)

    def _log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def _start_sink(self) -> None:
        first_http = bind_listener(self.options.sink_http_port)
        first_smtp = bind_listener(self.options.sink_smtp_port)
        self.smtp_port = port_of(first_smtp)
        http_sock: socket.socket | None = first_http
        smtp_sock: socket.socket | None = first_smtp
        ready_file = self.workdir / "sink.ready.json"

        def launch() -> ManagedProcess:
            nonlocal http_sock, smtp_sock
            if http_sock is None:
                http_sock = bind_listener(svc.port)
                smtp_sock = bind_listener(self.smtp_port)
            assert smtp_sock is not None
            argv = [
                sys.executable, "-m", "alertdrill.sink",
                "--http-fd", str(http_sock.fileno()),
                "--smtp-fd", str(smtp_sock.fileno()),
                "--ready-file", str(ready_file),
            ]
            proc = ManagedProcess(
                "sink", argv, self._log("sink"), pass_fds=[http_sock.fileno(), smtp_sock.fileno()]
            )
            http_sock.close()
            smtp_sock.close()
            http_sock = smtp_sock = None
            return proc

        svc = LocalService("sink", launch, "/_health", port=port_of(first_http))
        self.sink_service = svc
        svc.start()

    def _own_target(self, spec: ServiceSpec) -> LocalService:
        """A target of the harness's own (sample target, web/api app) on a socket we bind."""
        name = spec.name
        log_file = None
        if spec.kind == "app":
            flavor = str(spec.options.get("flavor", "web"))
            log_file = self._access_log(name)
            extra = ["-m", "alertdrill.targets.app", "--flavor", flavor,
                     "--rate", str(spec.options.get("rate", 20)),
                     "--log-file", str(log_file)]
        else:
            extra = ["-m", "alertdrill.targets.sample", "--name", name]
        holder: dict[str, socket.socket] = {}

        def launch() -> ManagedProcess:
            sock = holder.pop("sock", None) or bind_listener(svc.port)
            svc.port = port_of(sock)
            argv = [sys.executable, *extra, "--fd", str(sock.fileno())]
            proc = ManagedProcess(name, argv, self._log(name), pass_fds=[sock.fileno()])
            sock.close()
            return proc

        first = bind_listener(0)
        holder["sock"] = first
        svc = LocalService(name, launch, "/metrics", port=port_of(first), log_file=log_file)
        return svc

    def _access_log(self, service: str) -> Path:
        """Where an app of the stack writes its access log (created empty up front)."""
        path = self.workdir / f"{service}.access.log"
        path.touch()
        return path

    def _postgres(self, spec: ServiceSpec) -> LocalService:
        """A real PostgreSQL in the stack's workdir, reachable on a unix socket only.

        PostgreSQL refuses to run as root, so it runs as the ``postgres`` user of Debian's
        package; its data directory is a copy of one initdb made once per run (0.7 s saved
        per stack).
        """
        # The postgres user must reach its files: they live in a dir of the system temp dir
        # (ALERTDRILL_TMPDIR may sit under a private parent), removed with the stack.
        pg_root = make_tempdir(f"pg-{spec.name}-{run_id()}", system=True)
        self._extra_dirs.append(pg_root)
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
            return ManagedProcess(spec.name, argv, self._log(spec.name))

        svc = LocalService(spec.name, launch, None,
                           ready_check=lambda: (sockets / ".s.PGSQL.5432").exists(),
                           stop_signal=signal.SIGINT)
        self._pg_sockets[spec.name] = sockets
        return svc

    def _postgres_exporter(self, spec: ServiceSpec) -> LocalService:
        """prometheus-postgres-exporter connected to the stack's PostgreSQL by unix socket."""
        binary = find_binary("postgres-exporter")
        target = str(spec.options.get("of", "postgres"))
        if target not in self._pg_sockets:
            raise ConfigError(f"{self.spec.root}/alertdrill.yml: postgres-exporter "
                              f"{spec.name!r} needs `of:` naming a postgres service declared "
                              "before it")
        dsn = (f"postgresql://postgres@/postgres?host={self._pg_sockets[target]}"
               "&sslmode=disable")

        def launch() -> ManagedProcess:
            argv = [binary, f"--web.listen-address={LOOPBACK}:{svc.port}", "--log.level=warn"]
            return ManagedProcess(spec.name, argv, self._log(spec.name),
                                  env={"DATA_SOURCE_NAME": dsn})

        svc = LocalService(spec.name, launch, "/metrics")
        return svc

    def _mtail(self, spec: ServiceSpec) -> LocalService:
        """mtail tailing the access log of another service of the stack."""
        binary = find_binary("mtail")
        source = spec.options.get("logs_of")
        if not source or source not in self.spec.services:
            raise ConfigError(f"{self.spec.root}/alertdrill.yml: mtail service {spec.name!r} "
                              "needs `logs_of:` naming an app service of the stack")
        progs = self.spec.root / str(spec.options.get("progs", "mtail"))
        if not progs.is_dir():
            raise ConfigError(f"mtail programs directory {progs} does not exist")
        log = self._access_log(str(source))

        def launch() -> ManagedProcess:
            argv = [binary, "-progs", str(progs), "-logs", str(log), "-address", LOOPBACK,
                    "-port", str(svc.port), "-poll_interval", "250ms", "-logtostderr"]
            return ManagedProcess(spec.name, argv, self._log(spec.name))

        svc = LocalService(spec.name, launch, "/metrics")
        return svc

    def _node_exporter(self, spec: ServiceSpec) -> LocalService:
        """node-exporter watching one small tmpfs the harness mounts (and only that).

        It reads the mount table from ``--path.procfs``; a one-line ``1/mounts`` there makes it
        report the harness's filesystem alone, with real sizes from statfs, so a disk-fill
        fault can never be confused with (or touch) the machine's own disks.
        """
        binary = find_binary("node-exporter")
        size_mb = int(spec.options.get("filesystem_mb", 32))
        fs = self.workdir / f"fs-{spec.name}"
        mount_tmpfs(fs, size_mb)
        proc_dir = self.workdir / f"proc-{spec.name}" / "1"
        proc_dir.mkdir(parents=True)
        (proc_dir / "mounts").write_text(f"alertdrill {fs} tmpfs rw,relatime 0 0\n")

        def launch() -> ManagedProcess:
            argv = [binary, f"--web.listen-address={LOOPBACK}:{svc.port}",
                    "--collector.disable-defaults", "--collector.filesystem",
                    f"--path.procfs={proc_dir.parent}", "--log.level=warn"]
            return ManagedProcess(spec.name, argv, self._log(spec.name))

        svc = LocalService(spec.name, launch, "/metrics", filesystem=fs)
        return svc

    def _start_alertmanagers(self, binary: str, config: dict) -> None:
        clustered = self.peers > 1
        peer_timeout = _peer_timeout(config, self.peers)
        for index in range(self.peers):
            instrumented = instrument_alertmanager(
                config,
                config_dir=self.spec.alertmanager_config.parent,
                sink_url=self.sink_url,
                smtp_address=f"{LOOPBACK}:{self.smtp_port}",
                peer=index,
            )
            path = instrumented.dump(self.workdir / f"alertmanager-{index}.yml")
            self._configs[path.name] = path
            if index == 0:
                self.warnings.extend(instrumented.warnings)
                self._destinations = list(instrumented.destinations)
            am = self._alertmanager(binary, index, path, clustered, peer_timeout)
            self.alertmanagers.append(am)
            am.start()
            if index == 0 and clustered:
                # The other peers join peer 0, whose cluster port we must read back first.
                _wait_ports(am, clustered)
        for am in self.alertmanagers:
            _wait_ports(am, clustered)

    def _alertmanager(
        self, binary: str, index: int, config: Path, clustered: bool, peer_timeout: float
    ) -> LocalService:
        name = f"alertmanager-{index}"
        data = self.workdir / f"am-data-{index}"
        data.mkdir()

        def launch() -> ManagedProcess:
            argv = [
                binary,
                f"--config.file={config}",
                f"--storage.path={data}",
                f"--web.listen-address={LOOPBACK}:{svc.port}",
                "--log.level=info",
            ]
            if clustered:
                argv += [
                    f"--cluster.listen-address={LOOPBACK}:{svc.extra.get('cluster', 0)}",
                    f"--cluster.gossip-interval={self.options.gossip_interval}",
                    "--cluster.pushpull-interval=2s",
                    "--cluster.probe-interval=200ms",
                    "--cluster.probe-timeout=100ms",
                    "--cluster.reconnect-interval=1s",
                    "--cluster.settle-timeout=2s",
                    f"--cluster.peer-timeout={format_duration(peer_timeout)}",
                ]
                for other in self.alertmanagers:
                    if other is not svc and other.extra.get("cluster"):
                        argv.append(f"--cluster.peer={LOOPBACK}:{other.extra['cluster']}")
            else:
                argv.append("--cluster.listen-address=")
            return ManagedProcess(name, argv, self._log(name))

        svc = LocalService(name, launch, "/-/ready")
        return svc

    def _start_prometheus(self, binary: str, config: dict) -> None:
        rules_dir = self.workdir / "rules"
        rules_dir.mkdir()
        rule_copies = []
        for index, rule_file in enumerate(self.spec.rule_files):
            copy = rules_dir / f"{index:02d}-{rule_file.name}"
            if self.scale.factor == 1:
                shutil.copyfile(rule_file, copy)
            else:
                scaled = scale_rule_file(load_yaml(rule_file, rule_file.name), self.scale)
                self.warnings.extend(scaled.warnings)
                copy.write_text(dump_yaml(scaled.doc))
            self._configs[f"rules/{copy.name}"] = copy
            rule_copies.append(copy)
        targets = [
            TargetMap(written, f"{LOOPBACK}:{self.services[name].port}", name)
            for name, svc_spec in self.spec.services.items()
            for written in svc_spec.scrape_as
        ]
        self._max_scrape_interval = max(
            [parse_duration(str(job.get("scrape_interval", glob_interval)))
             for job in config.get("scrape_configs") or []
             for glob_interval in [(config.get("global") or {}).get("scrape_interval", "1m")]]
            or [0.0])
        instrumented = instrument_prometheus(
            config,
            targets=targets,
            alertmanagers=[f"{LOOPBACK}:{am.port}" for am in self.alertmanagers],
            rule_files=rule_copies,
        )
        self.warnings.extend(instrumented.warnings)
        for warning in instrumented.warnings:
            logger.warning("%s", warning)
        path = instrumented.dump(self.workdir / "prometheus.yml")
        self._configs[path.name] = path
        data = self.workdir / "prom-data"

        def launch() -> ManagedProcess:
            argv = [
                binary,
                f"--config.file={path}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address={LOOPBACK}:{svc.port}",
                "--web.enable-lifecycle",
                *prometheus_flags(self.scale),
                "--log.level=info",
            ]
            return ManagedProcess("prometheus", argv, self._log("prometheus"))

        svc = LocalService("prometheus", launch, "/-/ready")
        self.prometheus = svc
        svc.start()
        _wait_ports(svc, clustered=False)

    def _wait_usable(self) -> None:
        """Prometheus has published its targets (all up) and every Alertmanager peer."""
        # A target is first scraped up to one scrape interval after discovery: at K=1 with a
        # 15 s interval that alone is 15 s, so the budget grows with the slowest interval.
        budget = self.options.usable_timeout + 2 * self._max_scrape_interval
        deadline = time.monotonic() + budget
        session = requests.Session()
        expected_targets = sum(len(s.scrape_as) for s in self.spec.services.values())
        state = "nothing asked yet"
        while time.monotonic() < deadline:
            try:
                targets = session.get(self.prometheus_url + "/api/v1/targets", timeout=1).json()
                ams = session.get(self.prometheus_url + "/api/v1/alertmanagers", timeout=1).json()
            except (requests.RequestException, ValueError) as exc:
                state = f"Prometheus API not answering: {exc}"
            else:
                active = targets["data"]["activeTargets"]
                up = [t for t in active if t.get("health") == "up"]
                discovered = ams["data"]["activeAlertmanagers"]
                state = (
                    f"{len(up)}/{expected_targets} targets up, "
                    f"{len(discovered)}/{len(self.alertmanagers)} Alertmanagers discovered"
                )
                if len(up) >= expected_targets and len(discovered) >= len(self.alertmanagers):
                    return
            for svc in self._all_services().values():
                if not svc.running():
                    _raise_exited(svc)
            time.sleep(0.05)
        raise StartupError(
            f"stack {self.spec.name!r} did not become usable within {budget:.0f}s: {state}",
            "check the scrape targets in prometheus.yml map to services in alertdrill.yml; "
            f"logs are in {self.workdir} (kept with ALERTDRILL_KEEP_WORKDIR=1)",
        )


_PG_TEMPLATE: Path | None = None


def postgres_bin_dir() -> Path:
    """Debian's PostgreSQL server binaries (the newest installed major version)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise MissingBinaryError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres)",
            "install it with `sudo apt-get install -y postgresql` (or run `make drill`)")
    return found[-1].parent


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


def _preflight(spec: StackSpec) -> None:
    """Check the user's own files with the real tools, in parallel, before anything starts."""
    checks = [
        ("amtool", [find_binary("amtool"), "check-config", str(spec.alertmanager_config)]),
    ]
    if spec.rule_files:
        checks.append(
            ("promtool", [find_binary("promtool"), "check", "rules", *map(str, spec.rule_files)])
        )
    running = [
        (name, argv, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
        for name, argv in checks
    ]
    for name, argv, proc in running:
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise ConfigError(f"{name} did not finish checking the config in 20 s") from None
        if proc.returncode != 0:
            lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.strip()]
            what = "alertmanager.yml" if name == "amtool" else "a rule file"
            raise ConfigError(
                f"{what} is invalid ({' '.join(argv[1:3])} failed):\n    "
                + "\n    ".join(lines[-8:]),
                f"fix the file and run again; reproduce with: {' '.join(argv)}",
            )


def _peer_timeout(config: dict, peers: int) -> float:
    """Peer n waits n × peer-timeout before notifying; keep the last peer inside group_interval.

    Measured on 2 cores (DESIGN.md): peer-timeout ≤ group_interval / (peers − 1) − 0.2 s gave
    no duplicate notifications in 20 trials, and 15 s (the default) made every failover slow;
    below 0.3 s gossip may not have carried the first peer's notification log yet.
    """
    if peers <= 1:
        return 15.0
    budget = min_group_interval(config) / (peers - 1) - 0.2
    return max(0.3, min(15.0, budget))


def _wait_ports(svc: LocalService, clustered: bool, timeout: float = 10.0) -> None:
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
            _raise_exited(svc)
        time.sleep(_POLL)
    raise StartupError(
        f"{svc.name} did not open its listening ports within {timeout:.0f}s",
        f"its log ends with:\n{svc.process.log_tail()}",
    )


def _wait_all_ready(services: list[LocalService], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(services)
    session = requests.Session()
    while pending and time.monotonic() < deadline:
        for svc in list(pending):
            if svc.process is not None and not svc.running():
                _raise_exited(svc)
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


def _raise_exited(svc: LocalService) -> None:
    assert svc.process is not None
    code = svc.process.popen.returncode
    tail = svc.process.log_tail(12)
    errors = [ln for ln in tail.splitlines() if "level=error" in ln or "err=" in ln]
    summary = errors[-1] if errors else (tail.splitlines()[-1] if tail else "(no output)")
    raise StartupError(
        f"{svc.name} exited with code {code} during start-up: {summary.strip()}",
        f"full log tail:\n{tail}",
    )
