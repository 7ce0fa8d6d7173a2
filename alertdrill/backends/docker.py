"""The Docker backend: the same stack description as the local backend, as containers.

Every stack gets its own networks, all labelled ``alertdrill.run=<run id>`` (and
``alertdrill.stack=<stack id>``, ``alertdrill.owner=<host:pid:start>``), like every container:

* **the stack network** — every container, reachable by its service name and by the host of
  every address the configs write (``web-app``, ``api-service``, ``sink``,
  ``alertmanager-0`` …), so the configs run nearly as written: a scrape target
  ``web-app:80`` *is* the app's container on port 80. Host ports are published on 127.0.0.1
  only (a port below the ephemeral range, chosen here so that a stopped and restarted container
  gets it back, and read back from the engine);
* **the alerting network** (internal) — Prometheus and the Alertmanager peers; Prometheus
  reaches the peers by names that exist on this network only (``alertmanager-0.alerting``), so
  cutting Prometheus off it is a real Prometheus → Alertmanager partition;
* **the cluster network** (internal, fixed addresses) — the peers' gossip: each peer advertises
  its fixed address there, so cutting one peer off it splits the cluster while that peer still
  gets alerts and still reaches the receivers (the split brain Alertmanager documents).

Readiness is checked as on the local backend (``/-/ready``, ``/metrics`` … through the
published ports), then *usable* (Prometheus has published its targets and every peer). Files
faults act on (the node-exporter's tmpfs, the app's access log, the TLS endpoint's
certificates, the services' SQLite files) live on the host in the stack's workdir and are
bind-mounted, so the same fault classes work on both backends.

Everything of a stack is removed in :meth:`DockerStack.close`, which start-up failures, Ctrl-C,
SIGTERM and interpreter exit all reach (it is registered with ``alertdrill.backends.process``);
:func:`remove_leftovers` (``python -m alertdrill.backends.docker --remove-leftovers [--all]``)
removes what crashed runs left, by label.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import random
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from docker.errors import APIError, ImageNotFound
from docker.types import IPAMConfig, IPAMPool

from alertdrill.backends.base import StackOptions
from alertdrill.backends.certs import Authority, make_authority
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
from alertdrill.backends.containers import (
    OWNER_LABEL,
    RUN_LABEL,
    Leftovers,
    labelled_containers,
    owner_label,
    remove_labelled,
    remove_leftovers,
)
from alertdrill.backends.docker_services import (
    Attachment,
    BuildContext,
    DockerService,
    aliases_of,
    build_service,
    raise_exited,
    wait_all_ready,
)
from alertdrill.backends.images import OFFICIAL, image_for, override_variable
from alertdrill.backends.process import (
    keep_tempdir,
    register_cleanup,
    remove_tempdir,
    run_id,
    unregister_cleanup,
)
from alertdrill.durations import format_duration
from alertdrill.engine.instrument import (
    Instrumented,
    TargetMap,
    instrument_alertmanager,
    instrument_prometheus,
)
from alertdrill.engine.stackspec import StackSpec, with_flags
from alertdrill.engine.timescale import prometheus_flags
from alertdrill.errors import AlertdrillError, ConfigError, StartupError
from alertdrill.kinds import kind
from alertdrill.kinds.python import PYTHON_USER

__all__ = ["DockerStack", "Leftovers", "remove_leftovers"]

logger = logging.getLogger(__name__)

#: The label naming one stack (a run may start many, one per scenario).
STACK_LABEL = "alertdrill.stack"
SINK_HTTP, SINK_SMTP = 8080, 2525
AM_WEB, AM_CLUSTER = 9093, 9094
PROM_WEB = 9090
#: What a network cut may cut: every network, the peers' gossip, Prometheus → Alertmanager.
SCOPES = ("all", "peers", "alertmanagers")

#: Exact references of the local images this process resolved (see :func:`resolve_images`).
_RESOLVED: dict[str, str] = {}


def resolve_images(client: Any, names: list[str], mode: str = "local") -> dict[str, str]:
    """The image each name runs: an override or an official image (pulled when missing), or
    the local image built from *this* checkout, by its exact ``:<hash>`` tag.

    The exact tag matters for the python image: it holds the project's own code, and several
    checkouts sharing one engine each point ``:local`` at theirs. Missing or outdated local
    images are built here (as ``make images`` would), once per process.
    """
    result, local = {}, []
    for name in names:
        if os.environ.get(override_variable(name), "").strip() or (
                mode == "official" and name in OFFICIAL):
            result[name] = image_for(name)
            _ensure_present(client, result[name])
        else:
            local.append(name)
    missing = [n for n in local if n not in _RESOLVED]
    if missing:
        from alertdrill.backends.images import build_images

        t0 = time.monotonic()
        for built in build_images(missing, client=client, log=sys.stderr):
            _RESOLVED[built.name] = built.ref
        logger.info("local images %s resolved in %.1fs", missing, time.monotonic() - t0)
    result.update({n: _RESOLVED[n] for n in local})
    return result


def _ensure_present(client: Any, ref: str) -> None:
    try:
        client.images.get(ref)
        return
    except ImageNotFound:
        pass
    try:
        client.images.pull(ref)
    except APIError as exc:
        raise StartupError(
            f"image {ref} is not on this machine and could not be pulled: {exc}",
            "without a registry use the local images: ALERTDRILL_IMAGES=local (the default; "
            "the Docker backend builds them from this machine's Debian packages)") from None


class DockerStack(StackBase[DockerService]):
    """A stack of containers on its own networks; a context manager that always cleans up."""

    def __init__(self, spec: StackSpec, options: StackOptions | None = None,
                 client: Any = None) -> None:
        super().__init__(spec, options)
        self.client = client
        self.id = f"{run_id()}-{uuid.uuid4().hex[:6]}"
        self.labels = {RUN_LABEL: run_id(), STACK_LABEL: self.id, OWNER_LABEL: owner_label()}
        self.network = f"alertdrill-{self.id}"
        self.alerting_network = f"alertdrill-{self.id}-alerting"
        self.cluster_network = f"alertdrill-{self.id}-cluster"
        self._authority: Authority | None = None
        self._cleanup: int | None = None

    def logs(self, lines: int = 20) -> dict[str, str]:
        """Tail of every container's output."""
        return {name: svc.log_tail(lines) for name, svc in sorted(self._all_services().items())}

    # -- network faults -------------------------------------------------------------------
    def networks_of(self, name: str, scope: str) -> list[str]:
        """The networks a cut of ``scope`` removes ``name`` from (see :data:`SCOPES`)."""
        svc = self.service(name)
        if scope == "all":
            return [a.network for a in svc.networks]
        if scope == "peers":
            if svc not in self.alertmanagers:
                raise ConfigError(f'"{name}" is not an Alertmanager peer',
                                  f"peers: {', '.join(f'alertmanager-{i}' for i in range(self.peers))}")
            if self.peers < 2:
                raise ConfigError("the stack runs a single Alertmanager: it has no peers to be "
                                  "cut off from", "run 2 or more peers (--peers 3)")
            return [self.cluster_network]
        if scope == "alertmanagers":
            if svc is not self.prometheus:
                raise ConfigError("only Prometheus is cut off from the Alertmanagers this way")
            return [self.alerting_network]
        raise ConfigError(f"unknown network scope {scope!r}", f"one of {', '.join(SCOPES)}")

    def disconnect(self, name: str, scope: str = "all") -> list[str]:
        """Cut a service off (``docker network disconnect``); returns the networks it left."""
        return self.service(name).disconnect(self.networks_of(name, scope))

    def reconnect(self, name: str, scope: str = "all") -> None:
        """Undo :meth:`disconnect` (same aliases, same fixed addresses)."""
        self.service(name).reconnect(self.networks_of(name, scope))

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        """Remove every container, network and volume of this stack, then its workdir."""
        if self._closed:
            return
        self._closed = True
        if self._cleanup is not None:
            unregister_cleanup(self._cleanup)
        if self.client is not None:
            if self.options.keep_workdir:
                for name, svc in self._all_services().items():
                    if svc.container is not None:
                        (self.workdir / f"{name}.log").write_text(svc.log_tail(100_000))
            try:
                removed = remove_labelled(self.client, f"{STACK_LABEL}={self.id}")
                logger.debug("stack %s: removed %s", self.id, removed)
            except Exception:
                logger.exception("removing the containers of stack %s failed; "
                                 "`python -m alertdrill.backends.docker --remove-leftovers` "
                                 "removes them", self.id)
        if not self.options.keep_workdir:
            remove_tempdir(self.workdir)
        else:  # off the cleanup list, or interpreter exit would remove it after all
            keep_tempdir(self.workdir)

    def _start(self) -> None:
        t0 = time.monotonic()
        configs = load_configs(self.spec, self.scale)
        self.warnings += configs.warnings
        self._check_names()
        if self.client is None:
            from alertdrill.backends.dockerd import ensure_engine
            self.client = ensure_engine().client
        names = sorted({kind(s.kind).image for s in self.spec.services.values()}
                       | {"prometheus", "alertmanager", "python"})
        images = resolve_images(self.client, names, self.options.images)
        self.startup["preflight"] = time.monotonic() - t0

        # From the first network on, everything of the stack is removed on every exit path.
        self._cleanup = register_cleanup(f"docker stack {self.id}", self.close)
        cluster_ips = self._create_networks()
        ctx = BuildContext(
            spec=self.spec, workdir=self.workdir, time_scale=self.scale.factor, images=images,
            client=self.client, labels=self.labels, stack_network=self.network, suffix=self.id,
            sink_name="sink", sink_port=SINK_HTTP,
            alertmanager_urls=[f"http://alertmanager-{i}:{AM_WEB}" for i in range(self.peers)],
            authority=self._stack_authority, series=configs.series)
        self.sink_service = self._sink(ctx, images["python"])
        for svc_spec in self.spec.services.values():
            self.services[svc_spec.name] = build_service(ctx, svc_spec)
        self._alertmanagers(ctx, images["alertmanager"], configs.alertmanager, cluster_ips)
        self._prometheus(ctx, images["prometheus"], configs.prometheus)
        self._write_forwards()
        everything = list(self._all_services().values())
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="docker-start") as pool:
            for future in [pool.submit(svc.start) for svc in everything]:
                future.result()
        self.startup["spawned"] = time.monotonic() - t0
        wait_all_ready(everything, max(self.options.ready_timeout, 30.0), self._exited)
        self.startup["ready"] = time.monotonic() - t0

        def check_alive() -> None:
            for svc in self._exited():
                raise_exited(svc)

        def usable() -> None:
            wait_usable(self.spec, self.prometheus_url, self._scrape_targets,
                        len(self.alertmanagers),
                        self.options.usable_timeout + 2 * self._max_scrape_interval, check_alive,
                        f"container logs: docker logs <name>-{self.id} (kept in {self.workdir} "
                        "with ALERTDRILL_KEEP_WORKDIR=1)")

        usable()
        if self._rule_groups is not None:
            load_deferred_rules(self.prometheus_url, self._rules_dir, self._rule_groups)
            usable()  # the reload restarted discovery: the peers come back later
        self.startup["usable"] = time.monotonic() - t0
        logger.info("docker stack %s usable in %.2fs (%s)", self.spec.name,
                    self.startup["usable"], self.startup)

    def _exited(self) -> list[DockerService]:
        """Services whose container has stopped by itself (one engine call for the stack)."""
        gone = {c.name for c in labelled_containers(self.client, f"{STACK_LABEL}={self.id}",
                                                    status=("exited", "dead"))}
        found = [svc for svc in self._all_services().values() if svc.container_name in gone]
        for svc in found:
            svc.container.reload()
        return found

    def _check_names(self) -> None:
        """Service names and the hosts the configs use must name one container each."""
        reserved = {"sink", "prometheus", *(f"alertmanager-{i}" for i in range(self.peers))}
        owner: dict[str, str] = {name: name for name in reserved}
        for svc_spec in self.spec.services.values():
            for alias in aliases_of(svc_spec):
                if alias in owner and owner[alias] != svc_spec.name:
                    raise ConfigError(
                        f"{self.spec.root}/alertdrill.yml: the name {alias!r} would belong to "
                        f"both {owner[alias]!r} and {svc_spec.name!r} on the stack's network",
                        "on the Docker backend every service and every host the configs write "
                        "names one container; rename one of them")
                owner[alias] = svc_spec.name

    def _create_networks(self) -> list[str]:
        """The stack, alerting and (for a cluster) cluster networks; the peers' fixed IPs."""
        self.client.networks.create(self.network, driver="bridge", labels=self.labels,
                                    check_duplicate=True)
        self.client.networks.create(self.alerting_network, driver="bridge", internal=True,
                                    labels=self.labels, check_duplicate=True)
        if self.peers < 2:
            return []
        rng = random.Random()
        for _ in range(20):
            # A /24 in 10.200.0.0/13, chosen at random; Docker refuses one that overlaps.
            subnet = ipaddress.ip_network(f"10.{rng.randrange(200, 208)}.{rng.randrange(256)}.0/24")
            hosts = list(subnet.hosts())
            ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=str(subnet), gateway=str(hosts[0]))])
            try:
                self.client.networks.create(self.cluster_network, driver="bridge", internal=True,
                                            ipam=ipam, labels=self.labels, check_duplicate=True)
            except APIError as exc:
                if "overlap" in str(exc).lower():
                    continue
                raise
            return [str(hosts[10 + i]) for i in range(self.peers)]
        raise StartupError("no free /24 subnet for the Alertmanager cluster network in "
                           "10.200.0.0/13 after 20 tries", "remove unused Docker networks")

    def _stack_authority(self) -> Authority:
        """The stack's own CA (made on first use), written to ``<workdir>/pki/ca.crt``."""
        if self._authority is None:
            self._authority = make_authority(f"alertdrill {self.spec.name} CA")
            pki = self.workdir / "pki"
            pki.mkdir(exist_ok=True)
            self._authority.write(pki)
        return self._authority

    def _service(self, name: str, image: str, command: list[str], port: int,
                 networks: list[Attachment], **kwargs: Any) -> DockerService:
        return DockerService(name=name, image=image, command=command, client=self.client,
                             labels=self.labels, networks=networks, port=port,
                             container_name=f"{name}-{self.id}", **kwargs)

    def _sink(self, ctx: BuildContext, image: str) -> DockerService:
        forwards = ctx.directory("sink")
        return self._service(
            "sink", image,
            ["python", "-m", "alertdrill.sink", "--http", f"0.0.0.0:{SINK_HTTP}",
             "--smtp", f"0.0.0.0:{SINK_SMTP}", "--forward-file", "/alertdrill/sink/forwards.json"],
            SINK_HTTP, [Attachment(self.network, ["sink"])], ready_path="/_health",
            user="{}:{}".format(*PYTHON_USER), mounts={str(forwards): ("/alertdrill/sink", "ro")})

    def _write_forwards(self) -> None:
        """Tell the sink which deliveries to pass on to services of the stack (in-network)."""
        table = {}
        for key, (service, path) in self._forwards.items():
            svc = self.services[service]
            if not svc.port:
                raise ConfigError(f"webhook {key} names the service {service!r}, which has no "
                                  "HTTP port to forward to")
            table[key] = f"{svc.internal_url}{path}"
        target = self.workdir / "sink" / "forwards.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(table, indent=2))
        tmp.chmod(0o644)
        tmp.replace(target)

    def _alertmanagers(self, ctx: BuildContext, image: str, config: dict[str, Any],
                       cluster_ips: list[str]) -> None:
        clustered = self.peers > 1
        timeout = self.peer_timeout = peer_timeout(config, self.peers, self.scale.factor)
        root = str(self.spec.root)
        self.alertmanager_source = config
        for index in range(self.peers):
            name = f"alertmanager-{index}"
            instrumented = self._instrument_peer(config, index)
            directory = ctx.directory(name)
            path = instrumented.dump(directory / "alertmanager.yml")
            path.chmod(0o644)
            self._configs[f"{name}.yml"] = path
            if index == 0:
                self.warnings.extend(instrumented.warnings)
                self._destinations = list(instrumented.destinations)
                self._forwards = dict(instrumented.forwards)
            argv = ["--config.file=/etc/alertdrill/alertmanager.yml",
                    "--storage.path=/alertmanager", f"--web.listen-address=0.0.0.0:{AM_WEB}",
                    "--log.level=info"]
            networks = [Attachment(self.network, [name]),
                        Attachment(self.alerting_network, [f"{name}.alerting"])]
            if clustered:
                argv += [f"--cluster.listen-address=0.0.0.0:{AM_CLUSTER}",
                         f"--cluster.advertise-address={cluster_ips[index]}:{AM_CLUSTER}",
                         f"--cluster.gossip-interval={self.options.gossip_interval}",
                         *CLUSTER_FLAGS, f"--cluster.peer-timeout={format_duration(timeout)}"]
                argv += [f"--cluster.peer={ip}:{AM_CLUSTER}"
                         for other, ip in enumerate(cluster_ips) if other != index]
                networks.append(Attachment(self.cluster_network, [f"{name}.cluster"],
                                           cluster_ips[index]))
            else:
                argv.append("--cluster.listen-address=")
            argv = with_flags(argv, self.spec.alertmanager_flags)
            # The stack directory is mounted where it is on the host: the instrumented config
            # names its templates by their host paths.
            self.alertmanagers.append(self._service(
                name, image, argv, AM_WEB, networks, ready_path="/-/ready",
                mounts={str(directory): ("/etc/alertdrill", "ro"), root: (root, "ro")}))

    def _instrument_peer(self, config: dict[str, Any], index: int) -> Instrumented:
        """Peer ``index``'s copy of a (scaled) alertmanager.yml, delivering to the sink."""
        return instrument_alertmanager(
            config, config_dir=self.spec.alertmanager_config.parent,
            sink_url=f"http://sink:{SINK_HTTP}", smtp_address=f"sink:{SINK_SMTP}",
            peer=index, services=service_addresses(self.spec))

    def _refresh_forwards(self) -> None:
        self._write_forwards()

    def _prometheus(self, ctx: BuildContext, image: str, config: dict[str, Any]) -> None:
        directory = ctx.directory("prometheus")
        copies, warnings = write_rule_copies(self.spec, self.scale, directory / "rules")
        self.warnings.extend(warnings)
        (directory / "rules").chmod(0o755)
        for copy in copies:
            copy.chmod(0o644)
            self._configs[f"rules/{copy.name}"] = copy
        self._rules_dir = directory / "rules"
        self._rule_groups = defer_rules(self._rules_dir)
        targets = []
        for name, svc_spec in self.spec.services.items():
            svc = self.services[name]
            if not svc.port:
                continue
            aliases = aliases_of(svc_spec)
            for written in svc_spec.addresses:
                host, _, port = written.rpartition(":")
                real = written if host in aliases and port == str(svc.port) else \
                    f"{name}:{svc.port}"
                targets.append(TargetMap(written, real, name))
        self._max_scrape_interval = max_scrape_interval(config)
        instrumented = instrument_prometheus(
            config, targets=targets,
            alertmanagers=[f"alertmanager-{i}.alerting:{AM_WEB}" for i in range(self.peers)],
            rule_files=[Path("/etc/alertdrill/rules") / c.name for c in copies])
        self.warnings.extend(instrumented.warnings)
        for warning in instrumented.warnings:
            logger.warning("%s", warning)
        self._scrape_targets = instrumented.scrape_targets
        path = instrumented.dump(directory / "prometheus.yml")
        path.chmod(0o644)
        self._configs[path.name] = path
        self.prometheus = self._service(
            "prometheus", image,
            with_flags(["--config.file=/etc/alertdrill/prometheus.yml",
                        "--storage.tsdb.path=/prometheus", f"--web.listen-address=0.0.0.0:{PROM_WEB}",
                        "--web.enable-lifecycle", *prometheus_flags(self.scale), "--log.level=info"],
                       self.spec.prometheus_flags),
            PROM_WEB, [Attachment(self.network, ["prometheus"]),
                       Attachment(self.alerting_network, ["prometheus.alerting"])],
            ready_path="/-/ready", mounts={str(directory): ("/etc/alertdrill", "ro")})


def main(argv: list[str] | None = None) -> int:
    """``python -m alertdrill.backends.docker --remove-leftovers [--all]``."""
    parser = argparse.ArgumentParser(
        prog="python -m alertdrill.backends.docker",
        description="Remove the containers, networks and volumes alertdrill runs left behind "
                    "(found by their alertdrill.run label).")
    parser.add_argument("--remove-leftovers", action="store_true", required=True,
                        help="remove what crashed runs left (their process is gone)")
    parser.add_argument("--all", action="store_true",
                        help="remove every labelled resource, also of runs still going")
    args = parser.parse_args(argv)
    try:
        result = remove_leftovers(all_runs=args.all)
    except AlertdrillError as exc:
        print(f"alertdrill: {exc}", file=sys.stderr)
        return 2
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
