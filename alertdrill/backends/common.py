"""What every backend does the same way, whatever runs the processes.

Checking the user's files with the real tools, scaling the configs, writing the scaled rule
copies, the Alertmanager cluster's tuning, and waiting until a started stack is *usable*
(Prometheus has published its targets and every Alertmanager peer). The local backend and the
Docker backend both call these, so a stack means the same thing on both.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, Self, TypeVar

import requests

from alertdrill.analysis.routing import min_group_interval, min_repeat_interval
from alertdrill.analysis.seriesplan import StandIn, stand_ins
from alertdrill.backends.base import RecoveryProbe, StackOptions
from alertdrill.backends.binaries import find_binary
from alertdrill.backends.process import make_tempdir, run_id
from alertdrill.durations import parse_duration
from alertdrill.engine.stackspec import StackSpec
from alertdrill.engine.timescale import (
    TimeScale,
    hold_scrape_timeouts,
    scale_alertmanager_config,
    scale_prometheus_config,
    scale_rule_file,
)
from alertdrill.errors import ConfigError, StartupError
from alertdrill.kinds.capabilities import CapabilityT, ReportsOn
from alertdrill.sink.protocol import Destination
from alertdrill.yamlio import dump_yaml, load_yaml

#: Alertmanager cluster flags both backends use (measured on 2 cores, see README › Alertmanager
#: cluster tuning); ``--cluster.peer-timeout`` comes from :func:`peer_timeout`.
CLUSTER_FLAGS = (
    "--cluster.pushpull-interval=2s",
    "--cluster.probe-interval=200ms",
    "--cluster.probe-timeout=100ms",
    "--cluster.reconnect-interval=1s",
    "--cluster.settle-timeout=2s",
)


@dataclass
class StackConfigs:
    """The user's configs, checked and scaled, ready to be instrumented for one backend."""

    alertmanager: dict[str, Any]
    prometheus: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    #: The plan of every ``series`` service, by service name (alertdrill.analysis.seriesplan).
    series: dict[str, StandIn] = field(default_factory=dict)


def load_configs(spec: StackSpec, scale: TimeScale) -> StackConfigs:
    """Read both configs, check them with the real tools, scale them (K ≠ 1)."""
    am_config = load_yaml(spec.alertmanager_config, "alertmanager.yml")
    prom_config = load_yaml(spec.prometheus_config, "prometheus.yml")
    preflight(spec)
    warnings: list[str] = []
    if scale.factor != 1:
        am_scaled = scale_alertmanager_config(am_config, scale)
        prom_scaled = scale_prometheus_config(prom_config, scale)
        warnings += am_scaled.warnings + prom_scaled.warnings
        am_config, prom_config = am_scaled.doc, prom_scaled.doc
        warnings += hold_scrape_timeouts(prom_config, spec.min_scrape_timeouts, scale)
    # Built (and a bad `baseline:` refused) before any process starts.
    series = stand_ins(spec, scale.factor)
    warnings += [f"series service {name!r}: {w}" for name, plan in series.items()
                 for w in plan.warnings]
    return StackConfigs(am_config, prom_config, warnings, series)


def _replace_text(path: Path, text: str) -> None:
    """Write ``path`` at once (readable by a container's user), never half-written."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(0o644)
    tmp.replace(path)


def preflight(spec: StackSpec) -> None:
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


#: Alertmanager's default --cluster.peer-timeout, real-world seconds.
DEFAULT_PEER_TIMEOUT = 15.0
#: Below this, gossip (50 ms intervals) may not yet have carried the first peer's
#: notification log to the others on a loaded 2-core machine (DESIGN.md: 0.3 s, 0 of 20
#: trials duplicated).
MIN_PEER_TIMEOUT = 0.3


def peer_timeout(config: dict[str, Any], peers: int, time_scale: float = 1.0) -> float:
    """``--cluster.peer-timeout`` for a (scaled) config: Alertmanager's 15 s, scaled like every
    other duration, never below what gossip needs, never above what keeps the cluster's
    repeats faithful.

    Peer n flushes a group n × peer-timeout after peer 0 and sends unless the notification
    log (gossiped from peer 0) says the group was notified within repeat_interval. The
    timeout is part of the cadence: where repeat_interval ≤ group_interval, each repeat comes
    one group_interval + n × peer-timeout after the last one, from a different peer. Unscaled,
    a 2.3 s timeout at K=60 stretched 5-minute repeats to 7.3 real-world minutes, rotating over
    the three peers (it read like three peers that never deduplicate); scaled, it stays the
    15 s it is in production.
    """
    if peers <= 1:
        return DEFAULT_PEER_TIMEOUT
    budget = min(min_group_interval(config), min_repeat_interval(config)) / (peers - 1) - 0.2
    scaled = DEFAULT_PEER_TIMEOUT / max(time_scale, 1e-9)
    return max(MIN_PEER_TIMEOUT, min(scaled, budget))


def write_rule_copies(spec: StackSpec, scale: TimeScale, rules_dir: Path
                      ) -> tuple[list[Path], list[str]]:
    """Scaled copies of the stack's rule files in ``rules_dir`` (numbered, in load order)."""
    rules_dir.mkdir(parents=True, exist_ok=True)
    copies, warnings = [], []
    for index, rule_file in enumerate(spec.rule_files):
        copy = rules_dir / f"{index:02d}-{rule_file.name}"
        if scale.factor == 1:
            shutil.copyfile(rule_file, copy)
        else:
            scaled = scale_rule_file(load_yaml(rule_file, rule_file.name), scale)
            warnings.extend(scaled.warnings)
            copy.write_text(dump_yaml(scaled.doc))
        copies.append(copy)
    return copies, warnings


#: Where the scaled rule copies wait until the stack is usable (beside ``rules/``).
PENDING_RULES = "rules.pending"


#: Rule expressions that are true while a series does not exist yet (before the first scrape).
_TRUE_WHEN_ABSENT = re.compile(r"\babsent(?:_over_time)?\s*\(")


def defer_rules(rules_dir: Path) -> int | None:
    """Move the written rule copies aside when an alerting rule is true on missing data, so
    that Prometheus starts without them; returns the number of rule groups to wait for when
    they are loaded (:func:`load_deferred_rules`), None when the rules load at start.

    Prometheus evaluates rules from its first second but publishes its targets only after its
    discovery manager's first 5 s tick: an ``absent(up{job="x"})`` rule with a short (scaled)
    ``for`` fires and resolves before the stack is usable — a notification before t=0, and
    resolved re-sends (for 15 unscaled minutes) that override a scenario's own push of the
    same alert. Such rules load once targets are up. The cost: the reload restarts
    Prometheus's discovery, so the Alertmanagers are published again after another tick
    (about 5 s more start-up); stacks with no such rule do not pay it.
    """
    copies = sorted(rules_dir.glob("*"))
    docs = [load_yaml(copy, copy.name) for copy in copies]
    exprs = [str(rule.get("expr", "")) for doc in docs for group in doc.get("groups") or []
             for rule in (group or {}).get("rules") or [] if isinstance(rule, dict)
             and rule.get("alert")]
    if not any(_TRUE_WHEN_ABSENT.search(expr) for expr in exprs):
        return None
    pending = rules_dir.with_name(PENDING_RULES)
    rules_dir.rename(pending)
    rules_dir.mkdir()
    rules_dir.chmod(pending.stat().st_mode & 0o777)
    return sum(len(doc.get("groups") or []) for doc in docs)


def load_deferred_rules(prometheus_url: str, rules_dir: Path, groups: int,
                        timeout: float = 10.0) -> None:
    """Put the rule copies in place, reload Prometheus, and wait until it has every group."""
    pending = rules_dir.with_name(PENDING_RULES)
    for copy in sorted(pending.glob("*")):
        copy.rename(rules_dir / copy.name)
    pending.rmdir()
    session = requests.Session()
    answer = session.post(prometheus_url + "/-/reload", timeout=timeout)
    if answer.status_code != 200:
        raise StartupError(f"Prometheus refused to load the stack's rules: {answer.text.strip()}",
                           "the same files passed promtool check rules; see prometheus.log")
    deadline = time.monotonic() + timeout
    loaded = -1
    while time.monotonic() < deadline:
        try:
            loaded = len(session.get(prometheus_url + "/api/v1/rules", timeout=1)
                         .json()["data"]["groups"])
        except (requests.RequestException, ValueError, KeyError):
            loaded = -1
        if loaded >= groups:
            return
        time.sleep(0.02)
    raise StartupError(f"Prometheus loaded {max(loaded, 0)} of the stack's {groups} rule groups "
                       f"within {timeout:.0f} s", "see prometheus.log in the stack's workdir")


def max_scrape_interval(config: dict[str, Any]) -> float:
    """The slowest scrape interval of a (scaled) prometheus.yml, in seconds."""
    default = (config.get("global") or {}).get("scrape_interval", "1m")
    return max([parse_duration(str(job.get("scrape_interval", default)))
                for job in config.get("scrape_configs") or []] or [0.0])


def service_addresses(spec: StackSpec) -> dict[str, str]:
    """Every address the configs know a service of the stack by → the service's name."""
    return {address: name for name, svc_spec in spec.services.items()
            for address in svc_spec.addresses}


def wait_usable(spec: StackSpec, prometheus_url: str, expected_targets: int, alertmanagers: int,
                budget: float, check_alive: Callable[[], None], where: str) -> None:
    """Block until Prometheus has published its targets (all up) and every Alertmanager peer.

    A job held at real-time scrapes (seconds apart) is not waited for: discovered is enough;
    its first scrape would add up to its whole interval to start-up. ``check_alive`` raises
    when a service died meanwhile; ``where`` says where the logs are.
    """
    deadline = time.monotonic() + budget
    session = requests.Session()
    state = "nothing asked yet"
    held = spec.min_scrape_timeouts
    while time.monotonic() < deadline:
        try:
            targets = session.get(prometheus_url + "/api/v1/targets", timeout=1).json()
            ams = session.get(prometheus_url + "/api/v1/alertmanagers", timeout=1).json()
        except (requests.RequestException, ValueError) as exc:
            state = f"Prometheus API not answering: {exc}"
        else:
            active = targets["data"]["activeTargets"]
            up = [t for t in active if t.get("health") == "up"
                  or (t.get("health") == "unknown" and t.get("scrapePool") in held)]
            discovered = ams["data"]["activeAlertmanagers"]
            state = (f"{len(up)}/{expected_targets} targets up, "
                     f"{len(discovered)}/{alertmanagers} Alertmanagers discovered")
            down = [f"{t.get('scrapePool')} {t.get('labels', {}).get('instance')}: "
                    f"{t.get('lastError') or t.get('health')}"
                    for t in active if t not in up]
            if down:
                state += " (not up: " + "; ".join(down[:4]) + ")"
            if len(up) >= expected_targets and len(discovered) >= alertmanagers:
                return
        check_alive()
        time.sleep(0.05)
    raise StartupError(
        f"stack {spec.name!r} did not become usable within {budget:.0f}s: {state}",
        "check the scrape targets in prometheus.yml map to services in alertdrill.yml; "
        f"{where}",
    )


class _Addressed(Protocol):
    name: str

    @property
    def url(self) -> str: ...

    def capability(self, wanted: type[CapabilityT]) -> CapabilityT | None: ...


ServiceT = TypeVar("ServiceT", bound=_Addressed)


class StackBase(Generic[ServiceT]):
    """What a started stack is on every backend: its services by the names steps use, the URLs
    of the pipeline, the configs it really runs, and a start that cleans up when it fails.

    A backend supplies ``_start`` (bring everything up, until usable), ``close`` and ``logs``.
    """

    def __init__(self, spec: StackSpec, options: StackOptions | None = None) -> None:
        self.spec = spec
        self.options = options or StackOptions()
        self.peers = self.options.peers or spec.peers
        self.scale = TimeScale(self.options.time_scale, self.options.floor)
        self.workdir = make_tempdir(f"{spec.name}-{run_id()}")
        self.services: dict[str, ServiceT] = {}
        self.alertmanagers: list[ServiceT] = []
        self.prometheus: ServiceT | None = None
        self.sink_service: ServiceT | None = None
        self.startup: dict[str, float] = {}
        self.warnings: list[str] = []
        self._configs: dict[str, Path] = {}
        self._destinations: list[Destination] = []
        self._forwards: dict[str, tuple[str, str]] = {}
        self._scrape_targets = 0
        self._max_scrape_interval = 0.0
        self._closed = False
        #: The Alertmanager peers' --cluster.peer-timeout (measured seconds), once started.
        self.peer_timeout = DEFAULT_PEER_TIMEOUT
        #: Where Prometheus reads the rule copies, and how many groups they hold (loaded once
        #: the stack is usable: see defer_rules).
        self._rules_dir = self.workdir / "rules"
        self._rule_groups: int | None = None
        #: The scaled, not yet instrumented alertmanager.yml the peers run (set at start).
        self.alertmanager_source: dict[str, Any] = {}

    @property
    def prometheus_url(self) -> str:
        """Prometheus's base URL (on 127.0.0.1)."""
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

    def service(self, name: str) -> ServiceT:
        """A service by name: manifest services, ``prometheus``, ``alertmanager-N``, ``sink``."""
        everything = self._all_services()
        if name not in everything:
            raise ConfigError(f"the stack has no service {name!r}",
                              f"services of this stack: {', '.join(sorted(everything))}")
        return everything[name]

    def service_names(self) -> list[str]:
        """Every service name, sorted."""
        return sorted(self._all_services())

    def destinations(self) -> list[Destination]:
        """Every (receiver, integration) the instrumented config delivers to (peer 0's view)."""
        return list(self._destinations)

    def rendered_configs(self) -> dict[str, str]:
        """The instrumented configs the stack runs, by file name."""
        return {name: path.read_text() for name, path in self._configs.items() if path.exists()}

    def start(self) -> Self:
        """Start everything, wait until usable; on any failure clean up and re-raise."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def recovery_probes(self, name: str) -> list[RecoveryProbe]:
        """What must be true again, beyond ``name``'s own readiness, before a restart of
        ``name`` counts as done: each service that reports on it (``of: name``) sees it up."""
        probes = []
        for other in self.spec.services:
            svc = self.services.get(other)
            reports = svc.capability(ReportsOn) if svc is not None else None
            if svc is not None and reports is not None and reports.target == name:
                probes.append(RecoveryProbe(other, str(svc.url) + reports.page, reports.line))
        return probes

    def _all_services(self) -> dict[str, ServiceT]:
        found: dict[str, ServiceT] = {}
        if self.sink_service:
            found["sink"] = self.sink_service
        found.update(self.services)
        for index, am in enumerate(self.alertmanagers):
            found[f"alertmanager-{index}"] = am
        if self.prometheus:
            found["prometheus"] = self.prometheus
        return found

    # -- live configuration changes (alertdrill.engine.liveconfig reloads after them) ------------------
    def write_alertmanager_config(self, config: dict[str, Any]) -> dict[str, str]:
        """Instrument a (scaled) alertmanager.yml for every peer and write it where the peer
        reads its config, as at start; returns the previous texts by file name, so that a
        refused reload can put them back. The peers run it once reloaded."""
        previous = {}
        instrumented = [self._instrument_peer(config, index)
                        for index in range(len(self.alertmanagers))]  # ConfigError: none written
        for index, result in enumerate(instrumented):
            path = self._configs[f"alertmanager-{index}.yml"]
            previous[path.name] = path.read_text()
            _replace_text(path, dump_yaml(result.config))
        self.alertmanager_source = config
        self._destinations = list(instrumented[0].destinations)
        self._forwards = dict(instrumented[0].forwards)
        self._refresh_forwards()
        return previous

    def restore_alertmanager_config(self, previous: dict[str, str], config: dict[str, Any]
                                    ) -> None:
        """Put back what :meth:`write_alertmanager_config` replaced (after a refused reload)."""
        for index in range(len(self.alertmanagers)):
            path = self._configs[f"alertmanager-{index}.yml"]
            _replace_text(path, previous[path.name])
        self.alertmanager_source = config
        instrumented = self._instrument_peer(config, 0)
        self._destinations = list(instrumented.destinations)
        self._forwards = dict(instrumented.forwards)
        self._refresh_forwards()

    def rule_copy(self, rule_file: Path) -> Path:
        """Where Prometheus reads its (scaled) copy of one of the stack's rule files."""
        for index, path in enumerate(self.spec.rule_files):
            if path.resolve() == rule_file.resolve():
                return self._rules_dir / f"{index:02d}-{path.name}"
        raise ConfigError(f"{rule_file} is not a rule file of stack {self.spec.name!r}",
                          "rule files: " + ", ".join(
                              str(p.relative_to(self.spec.root)) for p in self.spec.rule_files))

    def _instrument_peer(self, config: dict[str, Any], index: int) -> Any:
        raise NotImplementedError

    def _refresh_forwards(self) -> None:
        raise NotImplementedError

    def _start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop everything and remove every temp file; safe to call twice."""
        raise NotImplementedError

    def logs(self, lines: int = 20) -> dict[str, str]:
        """The tail of every service's log."""
        raise NotImplementedError
