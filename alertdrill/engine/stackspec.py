"""What a stack directory contains, read once and validated before anything starts.

A stack directory is what a team already has — prometheus.yml, rule files, alertmanager.yml,
templates — plus an optional ``alertdrill.yml`` manifest naming the services the harness must run
and the addresses prometheus.yml knows them by.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertdrill.durations import parse_duration
from alertdrill.errors import ConfigError
from alertdrill.kinds import KINDS
from alertdrill.settings import PEERS
from alertdrill.yamlio import load_yaml

MANIFEST = "alertdrill.yml"
#: Service kinds the harness knows how to run (each declared once, in alertdrill.kinds).
SERVICE_KINDS = tuple(KINDS)
#: The kind of a manifest service that names none, and of the stand-in the harness runs for a
#: static scrape target no service claims: a process serving the families the rules select.
DEFAULT_KIND = "series"

#: Where a stack directory may keep its configs, in order of preference (the manifest may say).
PROMETHEUS_CANDIDATES = ("prometheus.yml", "prometheus/prometheus.yml")
ALERTMANAGER_CANDIDATES = ("alertmanager.yml", "alertmanager/alertmanager.yml")


@dataclass(frozen=True)
class ServiceSpec:
    """A service the harness runs for the stack, and the addresses the configs know it by.

    ``addresses`` are host:port strings as prometheus.yml (a scrape target, a probed target, a
    relabel replacement) or alertmanager.yml (a webhook URL) write them; the harness maps each
    to where the service really listens.
    """

    name: str
    kind: str
    addresses: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    #: Extra command-line flags (manifest ``flags:``), after the ones its kind gives it.
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackSpec:
    """A validated stack directory."""

    root: Path
    prometheus_config: Path
    alertmanager_config: Path
    rule_files: tuple[Path, ...]
    peers: int = 3
    services: dict[str, ServiceSpec] = field(default_factory=dict)
    #: Per scrape job, the smallest scrape timeout (measured seconds) the scaled config may use:
    #: a probe that measures a latency in literal seconds needs real time to do it.
    min_scrape_timeouts: dict[str, float] = field(default_factory=dict)
    #: The manifest's ``name:``, if it gives one.
    title: str = ""
    #: The manifest's ``external:`` section as written: where a stack someone else runs is
    #: reached and how its services are acted on (read by alertdrill.backends.external_config).
    external: dict[str, Any] = field(default_factory=dict)
    #: Extra flags for Prometheus (``prometheus_flags:``) and every Alertmanager peer
    #: (``alertmanager: {flags: …}``), after the harness's own.
    prometheus_flags: tuple[str, ...] = ()
    alertmanager_flags: tuple[str, ...] = ()
    #: The manifest's ``promtool test rules`` files (``rule_tests:``); None when it names none
    #: (then :func:`alertdrill.engine.ruletests.rule_test_files` looks for them, when asked).
    rule_tests: tuple[Path, ...] | None = None

    @property
    def name(self) -> str:
        """The stack's name in logs and reports: the manifest's ``name:``, else the directory's."""
        return self.title or self.root.name

    @classmethod
    def load(cls, root: Path) -> StackSpec:
        """Read and check a stack directory; every problem is a ConfigError naming the file."""
        root = root.resolve()
        if not root.is_dir():
            raise ConfigError(f"stack directory {root} does not exist")
        manifest_path = root / MANIFEST
        manifest = load_yaml(manifest_path, MANIFEST) if manifest_path.exists() else {}
        prom = _find(root, manifest.get("prometheus"), PROMETHEUS_CANDIDATES, "prometheus.yml")
        am = _find(root, manifest.get("alertmanager_config"), ALERTMANAGER_CANDIDATES, "alertmanager.yml")
        prom_config = load_yaml(prom, "prometheus.yml")
        rule_files: list[Path] = []
        for pattern in prom_config.get("rule_files") or []:
            matches = sorted(glob.glob(str(prom.parent / pattern)))
            if not matches:
                raise ConfigError(
                    f"{prom}: rule_files entry {pattern!r} matches no file",
                    "paths in rule_files are relative to prometheus.yml's directory",
                )
            rule_files.extend(Path(m) for m in matches)
        am_section = manifest.get("alertmanager") or {}
        peers = int(am_section.get("peers", 3))
        if peers not in PEERS:  # the same range as --peers
            raise ConfigError(f"{manifest_path}: alertmanager.peers must be 1…9, not {peers}")
        services = {}
        for name, raw in (manifest.get("services") or {}).items():
            raw = raw or {}
            kind = raw.get("kind", DEFAULT_KIND)
            if kind not in SERVICE_KINDS:
                raise ConfigError(
                    f"{manifest_path}: service {name!r} has unknown kind {kind!r}",
                    f"known kinds: {', '.join(SERVICE_KINDS)}",
                )
            addresses = raw.get("address", raw.get("scrape_as")) or []
            if isinstance(addresses, str):
                addresses = [addresses]
            options = {k: v for k, v in raw.items()
                       if k not in ("kind", "address", "scrape_as", "flags")}
            flags = process_flags(raw.get("flags"), f"{manifest_path}: services.{name}.flags")
            services[str(name)] = ServiceSpec(str(name), kind, tuple(map(str, addresses)), options,
                                              flags)
        if manifest.get("unclaimed_targets", "stand-in") not in ("stand-in", "drop"):
            raise ConfigError(f"{manifest_path}: unclaimed_targets must be stand-in or drop",
                              "stand-in (default): a series service answers for each; drop: "
                              "Prometheus does not scrape them")
        if manifest.get("unclaimed_targets", "stand-in") == "stand-in":
            services.update(_stand_ins(prom_config, services))
        minimums = {}
        for job, raw_job in (manifest.get("scrape_jobs") or {}).items():
            value = (raw_job or {}).get("min_scrape_timeout")
            if value is not None:
                try:
                    minimums[str(job)] = parse_duration(str(value))
                except ValueError as exc:
                    raise ConfigError(f"{manifest_path}: scrape_jobs.{job}.min_scrape_timeout: "
                                      f"{exc}") from None
        title = str(manifest.get("name") or "")
        external = manifest.get("external") or {}
        if not isinstance(external, dict):
            raise ConfigError(f"{manifest_path}: external: must be a mapping",
                              "see README › Backends › external")
        prom_flags = process_flags(manifest.get("prometheus_flags"),
                                   f"{manifest_path}: prometheus_flags", PROMETHEUS_OWNED)
        am_flags = process_flags(am_section.get("flags"), f"{manifest_path}: alertmanager.flags",
                                 ALERTMANAGER_OWNED)
        return cls(root, prom, am, tuple(rule_files), peers, services, minimums, title,
                   external, prom_flags, am_flags, _rule_tests(root, manifest.get("rule_tests"),
                                                               manifest_path))


def _rule_tests(root: Path, raw: Any, manifest_path: Path) -> tuple[Path, ...] | None:
    """The manifest's ``rule_tests:`` globs, each of which must match a file (a pattern that
    matches nothing would silently test nothing); None when the manifest has none. The
    default search is left to the one step that needs it, not done on every load."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(g, str) for g in raw):
        raise ConfigError(f"{manifest_path}: rule_tests must be a list of globs",
                          "e.g. rule_tests: [prometheus/tests/*.test.yml]")
    found: list[Path] = []
    for pattern in raw:
        matches = sorted(Path(m) for m in glob.glob(str(root / pattern), recursive=True))
        if not matches:
            raise ConfigError(f"{manifest_path}: rule_tests entry {pattern!r} matches no file",
                              "globs are relative to the stack directory")
        found.extend(m for m in matches if m not in found)
    return tuple(found)


#: Flags the harness sets on Prometheus itself (its config, storage, address, lifecycle API,
#: and the time-carrying flags it scales): a manifest may not set them again.
PROMETHEUS_OWNED = ("--config.file", "--storage.tsdb.path", "--web.listen-address",
                    "--web.enable-lifecycle", "--rules.alert.resend-delay",
                    "--rules.alert.for-grace-period", "--rules.alert.for-outage-tolerance")
#: Flags the harness sets on every Alertmanager peer (config, storage, address, cluster).
ALERTMANAGER_OWNED = ("--config.file", "--storage.path", "--web.listen-address", "--cluster.")


def process_flags(raw: Any, where: str, owned: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A manifest's ``flags:`` list, checked: strings that start with ``-``, none of the flags
    the harness sets itself (a repeated flag is refused by Prometheus's and Alertmanager's
    flag parser, or silently wins over the harness's)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(f, str) for f in raw):
        raise ConfigError(f"{where} must be a list of strings", 'e.g. flags: ["--log.level=debug"]')
    for flag in raw:
        if not flag.startswith("-") or flag.strip("-") == "":
            raise ConfigError(f"{where}: {flag!r} is not a flag",
                              'write each flag whole, with its value: "--log.level=debug"')
        name = flag.split("=", 1)[0]
        if any(name == o or (o.endswith(".") and name.startswith(o)) for o in owned):
            raise ConfigError(f"{where}: {name} is set by alertdrill itself",
                              "remove it; the harness's value is what the drill needs (see "
                              "README › Time scaling for the flags it scales)")
    return tuple(raw)


def with_flags(argv: list[str], extra: tuple[str, ...]) -> list[str]:
    """``argv`` with the manifest's ``extra`` flags appended; a default of the harness's that
    ``extra`` sets again (``--log.level``) is dropped, since the tools refuse a repeated flag."""
    names = {flag.split("=", 1)[0] for flag in extra}
    kept = [arg for arg in argv if not (arg.startswith("--") and arg.split("=", 1)[0] in names)]
    return [*kept, *extra]


def _stand_ins(prom_config: dict[str, Any],
               services: dict[str, ServiceSpec]) -> dict[str, ServiceSpec]:
    """A ``series`` service per scrape job for the static targets no service claims.

    Only plain scrape jobs: a probe job (``relabel_configs`` writing ``__address__``) scrapes
    an exporter, not its targets, and a job with service discovery has no static targets. Each
    stand-in answers for every unclaimed target of its job and is named after it.
    """
    claimed = {a for svc in services.values() for a in svc.addresses}
    added: dict[str, ServiceSpec] = {}
    for job in prom_config.get("scrape_configs") or []:
        job = job or {}
        if any(r.get("target_label") == "__address__" for r in job.get("relabel_configs") or []
               if isinstance(r, dict)):
            continue
        addresses = [str(a) for group in job.get("static_configs") or []
                     for a in (group or {}).get("targets") or []
                     if str(a) not in claimed and "://" not in str(a)]
        if not addresses:
            continue
        name = str(job.get("job_name", "job"))
        while name in services or name in added:
            name += "-series"
        added[name] = ServiceSpec(name, DEFAULT_KIND, tuple(dict.fromkeys(addresses)),
                                  {"auto": True})
        claimed.update(addresses)
    return added


def _find(root: Path, explicit: str | None, candidates: tuple[str, ...], what: str) -> Path:
    if explicit:
        path = root / explicit
        if not path.is_file():
            raise ConfigError(f"{root / MANIFEST} names {what} {explicit!r}, which does not exist")
        return path
    for candidate in candidates:
        if (root / candidate).is_file():
            return root / candidate
    raise ConfigError(
        f"no {what} in stack directory {root}",
        f"put it at {' or '.join(candidates)}",
    )
