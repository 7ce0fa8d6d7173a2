"""The embedded default backend: real binaries as child processes on 127.0.0.1.

Start-up order is chosen for speed: the harness binds the sockets of its own services (sink,
targets) first, so their ports are known at once; Alertmanager peers start on port 0 and their
ports are read back from the kernel; Prometheus starts last, with every address in its config.
Readiness is ``/-/ready``; *usable* additionally waits for Prometheus to have discovered its
targets and every Alertmanager peer, which its discovery manager publishes only every 5 s.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import time
from pathlib import Path
from typing import Any

from alertdrill.analysis.seriesplan import StandIn
from alertdrill.backends.base import StackOptions
from alertdrill.backends.binaries import find_binary
from alertdrill.backends.common import (
    CLUSTER_FLAGS,
    StackBase,
    defer_rules,
    load_configs,
    load_deferred_rules,
    max_scrape_interval,
    peer_timeout,
    service_addresses,
    wait_usable,
    write_rule_copies,
)
from alertdrill.backends.local_services import (
    LaunchContext,
    LocalService,
    build_service,
    raise_exited,
    wait_all_ready,
    wait_ports,
)
from alertdrill.backends.ports import LOOPBACK, bind_listener, port_of
from alertdrill.backends.process import (
    ManagedProcess,
    keep_tempdir,
    remove_tempdir,
)
from alertdrill.durations import format_duration
from alertdrill.engine.instrument import (
    Instrumented,
    TargetMap,
    instrument_alertmanager,
    instrument_prometheus,
)
from alertdrill.engine.stackspec import StackSpec, with_flags
from alertdrill.engine.timescale import (
    prometheus_flags,
)
from alertdrill.errors import ConfigError
from alertdrill.kinds import kind

logger = logging.getLogger(__name__)


class LocalStack(StackBase[LocalService]):
    """A stack of real processes on loopback; a context manager that always cleans up."""

    def __init__(self, spec: StackSpec, options: StackOptions | None = None) -> None:
        super().__init__(spec, options)
        self.smtp_port = 0
        self._extra_dirs: list[Path] = []
        self._series: dict[str, StandIn] = {}

    def logs(self, lines: int = 20) -> dict[str, str]:
        """Tail of every service's log."""
        return {
            name: svc.process.log_tail(lines) if svc.process else "(never started)"
            for name, svc in sorted(self._all_services().items())
        }

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
        else:  # kept on purpose (and never taken for a leftover by `alertdrill down --all`)
            keep_tempdir(self.workdir)
        for path in self._extra_dirs:
            remove_tempdir(path)

    def _context(self) -> LaunchContext:
        return LaunchContext(self.spec, self.workdir, self.scale, self.sink_url, self.services,
                             lambda: self.alertmanager_urls, self._extra_dirs,
                             series=self._series)

    def _start_services(self, ctx: LaunchContext, late: bool) -> None:
        """Build and start the manifest's services (the early ones, or those that need the
        Alertmanager peers); binaries that choose their own port are read back."""
        for svc_spec in self.spec.services.values():
            if kind(svc_spec.kind).late != late:
                continue
            svc = build_service(ctx, svc_spec)
            self.services[svc_spec.name] = svc
            svc.start()
            if not svc.port and svc.ready_check is None:
                wait_ports(svc, clustered=False)

    def _start(self) -> None:
        t0 = time.monotonic()
        prometheus_bin = find_binary("prometheus")
        alertmanager_bin = find_binary("alertmanager")
        configs = load_configs(self.spec, self.scale)
        self.warnings += configs.warnings
        self._series = configs.series
        am_config, prom_config = configs.alertmanager, configs.prometheus
        self.startup["preflight"] = time.monotonic() - t0

        self._start_sink()
        ctx = self._context()
        self._start_services(ctx, late=False)
        self._start_alertmanagers(alertmanager_bin, am_config)
        self._start_services(ctx, late=True)
        self._write_forwards()
        self._start_prometheus(prometheus_bin, prom_config)
        self.startup["spawned"] = time.monotonic() - t0
        wait_all_ready(list(self._all_services().values()), self.options.ready_timeout)
        self.startup["ready"] = time.monotonic() - t0
        self._wait_usable()
        if self._rule_groups is not None:
            load_deferred_rules(self.prometheus_url, self._rules_dir, self._rule_groups)
            self._wait_usable()  # the reload restarted discovery: the peers come back later
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
                "--forward-file", str(self.workdir / "forwards.json"),
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

    def _start_alertmanagers(self, binary: str, config: dict) -> None:
        clustered = self.peers > 1
        timeout = self.peer_timeout = peer_timeout(config, self.peers, self.scale.factor)
        self.alertmanager_source = config
        for index in range(self.peers):
            instrumented = self._instrument_peer(config, index)
            path = instrumented.dump(self.workdir / f"alertmanager-{index}.yml")
            self._configs[path.name] = path
            if index == 0:
                self.warnings.extend(instrumented.warnings)
                self._destinations = list(instrumented.destinations)
                self._forwards = dict(instrumented.forwards)
            am = self._alertmanager(binary, index, path, clustered, timeout)
            self.alertmanagers.append(am)
            am.start()
            if index == 0 and clustered:
                # The other peers join peer 0, whose cluster port we must read back first.
                wait_ports(am, clustered)
        for am in self.alertmanagers:
            wait_ports(am, clustered)

    def _instrument_peer(self, config: dict[str, Any], index: int) -> Instrumented:
        """Peer ``index``'s copy of a (scaled) alertmanager.yml, delivering to the sink."""
        return instrument_alertmanager(config, config_dir=self.spec.alertmanager_config.parent,
                                       sink_url=self.sink_url,
                                       smtp_address=f"{LOOPBACK}:{self.smtp_port}", peer=index,
                                       services=self._addresses())

    def _refresh_forwards(self) -> None:
        self._write_forwards()

    def _addresses(self) -> dict[str, str]:
        """Every address the configs know a service of the stack by → the service's name."""
        return service_addresses(self.spec)

    def _write_forwards(self) -> None:
        """Tell the sink which deliveries to pass on to services of the stack, and where."""
        table = {}
        for key, (service, path) in self._forwards.items():
            svc = self.services[service]
            if not svc.port:
                raise ConfigError(f"webhook {key} names the service {service!r}, which has no "
                                  "HTTP port to forward to")
            table[key] = f"{svc.url}{path}"
        target = self.workdir / "forwards.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(table, indent=2))
        tmp.replace(target)

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
                    *CLUSTER_FLAGS,
                    f"--cluster.peer-timeout={format_duration(peer_timeout)}",
                ]
                for other in self.alertmanagers:
                    if other is not svc and other.extra.get("cluster"):
                        argv.append(f"--cluster.peer={LOOPBACK}:{other.extra['cluster']}")
            else:
                argv.append("--cluster.listen-address=")
            return ManagedProcess(name, with_flags(argv, self.spec.alertmanager_flags),
                                  self._log(name))

        svc = LocalService(name, launch, "/-/ready")
        return svc

    def _start_prometheus(self, binary: str, config: dict) -> None:
        self._rules_dir = self.workdir / "rules"
        rule_copies, warnings = write_rule_copies(self.spec, self.scale, self._rules_dir)
        self._rule_groups = defer_rules(self._rules_dir)
        self.warnings.extend(warnings)
        for copy in rule_copies:
            self._configs[f"rules/{copy.name}"] = copy
        targets = [
            TargetMap(written, f"{LOOPBACK}:{self.services[name].port}", name)
            for name, svc_spec in self.spec.services.items()
            for written in svc_spec.addresses
            if self.services[name].port
        ]
        self._max_scrape_interval = max_scrape_interval(config)
        instrumented = instrument_prometheus(
            config,
            targets=targets,
            alertmanagers=[f"{LOOPBACK}:{am.port}" for am in self.alertmanagers],
            rule_files=rule_copies,
        )
        self.warnings.extend(instrumented.warnings)
        for warning in instrumented.warnings:
            logger.warning("%s", warning)
        self._scrape_targets = instrumented.scrape_targets
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
            return ManagedProcess("prometheus", with_flags(argv, self.spec.prometheus_flags),
                                  self._log("prometheus"))

        svc = LocalService("prometheus", launch, "/-/ready")
        self.prometheus = svc
        svc.start()
        wait_ports(svc, clustered=False)

    def _wait_usable(self) -> None:
        """Prometheus has published its targets (all up) and every Alertmanager peer."""
        # A target is first scraped up to one scrape interval after discovery: at K=1 with a
        # 15 s interval that alone is 15 s, so the budget grows with the slowest interval.
        budget = self.options.usable_timeout + 2 * self._max_scrape_interval

        def check_alive() -> None:
            for svc in self._all_services().values():
                if not svc.running():
                    raise_exited(svc)

        wait_usable(self.spec, self.prometheus_url, self._scrape_targets, len(self.alertmanagers),
                    budget, check_alive,
                    f"logs are in {self.workdir} (kept with ALERTDRILL_KEEP_WORKDIR=1)")
