"""The time model: feature files speak real-world durations; the stack runs K times faster.

A run at scale K executes the user's configs with every duration divided by K — in copies the
stack runs, never in the user's files — while steps keep real-world units: an SLA of
"2 minutes" is checked as 120/K measured seconds plus a tolerance, which is *not* scaled (it
absorbs process and polling jitter, which does not shrink with K).

Scaled: rule ``for`` and ``keep_firing_for``, rule-group ``interval``, PromQL ranges, subquery
ranges and resolutions and offsets (``alertdrill.analysis.promql``), ``scrape_interval``,
``scrape_timeout``, ``evaluation_interval``, Alertmanager ``group_wait``, ``group_interval``,
``repeat_interval`` (every route) and ``resolve_timeout``, Prometheus's time-carrying flags, and
``promtool test rules`` files. Absent fields get their *scaled defaults* written explicitly, since
an absent field would otherwise keep its unscaled default (Prometheus scrapes every 1m).

The floor: no interval-like duration goes below ``floor`` seconds (default 0.25 s, what
Prometheus and Alertmanager handle reliably on 2 cores — see bench/). Those that would are
clamped, and every clamp is a warning that says what it does to the real-world arithmetic.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertdrill.analysis.promql import DurationChange, scale_expr, scale_seconds
from alertdrill.durations import format_duration, parse_duration
from alertdrill.errors import ConfigError

#: Smallest interval a scaled config may use, in seconds (see README › Time scaling).
DEFAULT_FLOOR = 0.25
#: The default factor: 1 real-world minute per measured second (see bench/RESULTS.md).
DEFAULT_FACTOR = 60.0

_PROM_DEFAULTS = {"scrape_interval": "1m", "scrape_timeout": "10s", "evaluation_interval": "1m"}
_AM_ROUTE_DEFAULTS = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
_PROM_FLAGS = {
    "--rules.alert.resend-delay": "1m",
    "--rules.alert.for-grace-period": "10m",
    "--rules.alert.for-outage-tolerance": "1h",
}


@dataclass(frozen=True)
class TimeScale:
    """Converts between real-world durations (steps, SLAs, configs) and measured ones (the run)."""

    factor: float = 1.0
    floor: float = DEFAULT_FLOOR

    def __post_init__(self) -> None:
        if self.factor <= 0:
            raise ValueError(f"time scale must be positive, not {self.factor}")

    def measured(self, real_seconds: float) -> float:
        """How long ``real_seconds`` of the modelled world lasts in this run."""
        return real_seconds / self.factor

    def real(self, measured_seconds: float) -> float:
        """The real-world equivalent of a measured duration, for reports."""
        return measured_seconds * self.factor

    def interval(self, seconds: float) -> tuple[float, bool]:
        """A scaled interval-like duration in whole ms, and whether the floor clamped it."""
        if self.factor == 1:
            return seconds, False
        return scale_seconds(seconds, self.factor, self.floor)


@dataclass
class Scaled:
    """A scaled document, every change made, and every warning to show the user."""

    doc: dict[str, Any]
    changes: list[DurationChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def merge(self, other: Scaled) -> None:
        """Add another result's changes and warnings to this one."""
        self.changes.extend(other.changes)
        self.warnings.extend(other.warnings)


def _field(result: Scaled, holder: dict[str, Any], key: str, where: str, scale: TimeScale,
           default: str | None = None) -> None:
    """Scale ``holder[key]`` in place (writing the scaled default when absent)."""
    raw = holder.get(key, default)
    if raw is None:
        return
    try:
        original = parse_duration(str(raw))
    except ValueError:
        raise ConfigError(f"{where}: {raw!r} is not a duration") from None
    scaled, clamped = scale.interval(original)
    holder[key] = format_duration(scaled)
    result.changes.append(DurationChange(where, original, scaled, clamped))
    if clamped:
        result.warnings.append(
            f"{where}: {format_duration(original)} → {format_duration(scaled)} (wanted "
            f"{format_duration(original / scale.factor)}): clamped to the {format_duration(scale.floor)} "
            f"floor, so at K={scale.factor:g} it lasts {format_duration(scaled * scale.factor)} "
            f"in real-world terms instead of {format_duration(original)}")


def scale_rule_file(doc: dict[str, Any], scale: TimeScale) -> Scaled:
    """A rule file with ``for``, ``keep_firing_for``, group ``interval`` and exprs scaled."""
    result = Scaled(copy.deepcopy(doc))
    for g, group in enumerate(result.doc.get("groups") or []):
        gname = group.get("name", f"groups[{g}]")
        if "interval" in group:
            _field(result, group, "interval", f"group {gname!r} interval", scale)
        for rule in group.get("rules") or []:
            name = rule.get("alert") or rule.get("record") or "?"
            label = f"group {gname!r} rule {name!r}"
            for key in ("for", "keep_firing_for"):
                if key in rule and parse_duration(str(rule[key])) > 0:
                    _field(result, rule, key, f"{label} {key}", scale)
            if "expr" in rule:
                scaled = scale_expr(str(rule["expr"]), scale.factor, scale.floor, label)
                rule["expr"] = scaled.expr
                result.changes.extend(scaled.changes)
                result.warnings.extend(scaled.warnings)
    return result


def scale_prometheus_config(doc: dict[str, Any], scale: TimeScale) -> Scaled:
    """prometheus.yml with every interval scaled; timeouts kept ≤ their scrape interval."""
    result = Scaled(copy.deepcopy(doc))
    glob = result.doc.setdefault("global", {}) or {}
    result.doc["global"] = glob
    for key, default in _PROM_DEFAULTS.items():
        _field(result, glob, key, f"global {key}", scale, default)
    _cap_timeout(glob, glob)
    for job in result.doc.get("scrape_configs") or []:
        name = job.get("job_name", "?")
        for key in ("scrape_interval", "scrape_timeout"):
            if key in job:
                _field(result, job, key, f"job {name!r} {key}", scale)
        _cap_timeout(job, glob)
    return result


def held_delays(original: dict[str, Any], minimums: dict[str, float],
                scale: TimeScale) -> dict[str, float]:
    """Per job held at real time (:func:`hold_scrape_timeouts`), the measured seconds the hold
    adds to what a change takes to be seen: the longer interval and the longer timeout, each
    against what scaling alone would have given (``original`` is the unscaled prometheus.yml)."""
    found = {}
    glob = original.get("global") or {}
    for job in original.get("scrape_configs") or []:
        name = str(job.get("job_name", "?"))
        if name not in minimums:
            continue
        interval, _ = scale.interval(parse_duration(str(job.get(
            "scrape_interval", glob.get("scrape_interval", "1m")))))
        timeout, _ = scale.interval(parse_duration(str(job.get(
            "scrape_timeout", glob.get("scrape_timeout", "10s")))))
        timeout = min(timeout, interval)
        wanted = minimums[name]
        if timeout < wanted:
            found[name] = (max(interval, wanted) - interval) + (wanted - timeout)
    return found


def hold_scrape_timeouts(doc: dict[str, Any], minimums: dict[str, float],
                         scale: TimeScale) -> list[str]:
    """Keep the named jobs' scrape timeout (and so interval) at least ``minimums[job]`` seconds.

    A probe that measures a latency in literal seconds (the blackbox exporter timing an OCSP
    responder) cannot do it within a scaled timeout of a fraction of a second. Such a job keeps
    real time for its scrapes; the warnings say what that costs in real-world detection time.
    """
    warnings = []
    glob = doc.get("global") or {}
    for job in doc.get("scrape_configs") or []:
        name = str(job.get("job_name", "?"))
        if name not in minimums:
            continue
        wanted = minimums[name]
        interval = parse_duration(str(job.get("scrape_interval", glob.get("scrape_interval", "1m"))))
        timeout = parse_duration(str(job.get("scrape_timeout", glob.get("scrape_timeout", "10s"))))
        if timeout >= wanted:
            continue
        job["scrape_timeout"] = format_duration(wanted)
        job["scrape_interval"] = format_duration(max(interval, wanted))
        every = max(interval, wanted)
        warnings.append(
            f"job {name!r}: scrape timeout held at {format_duration(wanted)} (scaled: "
            f"{format_duration(timeout)}) so its probes can take real time; it is scraped every "
            f"{format_duration(every)}, i.e. {format_duration(scale.real(every))} in real-world "
            "terms")
    return warnings


def _cap_timeout(holder: dict[str, Any], glob: dict[str, Any]) -> None:
    interval = parse_duration(str(holder.get("scrape_interval", glob["scrape_interval"])))
    timeout = parse_duration(str(holder.get("scrape_timeout", glob["scrape_timeout"])))
    if timeout > interval:  # Prometheus refuses timeout > interval; clamps can cause it
        holder["scrape_timeout"] = format_duration(interval)


def scale_alertmanager_config(doc: dict[str, Any], scale: TimeScale) -> Scaled:
    """alertmanager.yml with resolve_timeout and every route's timings scaled."""
    result = Scaled(copy.deepcopy(doc))
    glob = result.doc.setdefault("global", {}) or {}
    result.doc["global"] = glob
    _field(result, glob, "resolve_timeout", "global resolve_timeout", scale, "5m")

    def visit(route: dict[str, Any], path: str, root: bool) -> None:
        for key, default in _AM_ROUTE_DEFAULTS.items():
            if key in route or root:
                _field(result, route, key, f"{path} {key}", scale, default if root else None)
        for name in ("mute_time_intervals", "active_time_intervals"):
            if route.get(name):
                result.warnings.append(
                    f"{path} {name} {route[name]} not scaled: calendar time does not compress "
                    "(a scenario sets the moment they see: Given it is Saturday 03:00 in "
                    "Europe/Berlin)")
        for i, child in enumerate(route.get("routes") or []):
            visit(child, f"{path}.routes[{i}]", False)

    visit(result.doc.setdefault("route", {}), "route", True)
    for key in ("time_intervals", "mute_time_intervals"):
        for interval in result.doc.get(key) or []:
            result.warnings.append(
                f"{key} {interval.get('name')!r} not scaled: calendar time does not compress")
    return result


def scale_promtool_test(doc: dict[str, Any], scale: TimeScale) -> Scaled:
    """A ``promtool test rules`` file scaled like the rules it tests (series stay count-based)."""
    result = Scaled(copy.deepcopy(doc))
    _field(result, result.doc, "evaluation_interval", "evaluation_interval", scale, "1m")
    for t, test in enumerate(result.doc.get("tests") or []):
        where = f"tests[{t}]"
        _field(result, test, "interval", f"{where} interval", scale,
                result.doc["evaluation_interval"] if "interval" not in test else None)
        for a, case in enumerate(test.get("alert_rule_test") or []):
            _exact(result, case, "eval_time", f"{where}.alert_rule_test[{a}] eval_time", scale)
        for e, case in enumerate(test.get("promql_expr_test") or []):
            _exact(result, case, "eval_time", f"{where}.promql_expr_test[{e}] eval_time", scale)
            scaled = scale_expr(str(case["expr"]), scale.factor, scale.floor,
                                f"{where}.promql_expr_test[{e}]")
            case["expr"] = scaled.expr
            result.merge(Scaled({}, scaled.changes, scaled.warnings))
    return result


def _exact(result: Scaled, holder: dict[str, Any], key: str, where: str, scale: TimeScale) -> None:
    """Points in time (eval_time) scale without a floor: 0 stays 0, 10m becomes 10s."""
    if key not in holder:
        return
    original = parse_duration(str(holder[key]))
    scaled = round(original / scale.factor * 1000) / 1000
    holder[key] = format_duration(scaled)
    result.changes.append(DurationChange(where, original, scaled))


def prometheus_flags(scale: TimeScale) -> list[str]:
    """Prometheus flags that carry time, scaled from their defaults (see DESIGN › Time scaling)."""
    flags = []
    for flag, default in _PROM_FLAGS.items():
        scaled, _ = scale.interval(parse_duration(default))
        flags.append(f"{flag}={format_duration(scaled)}")
    return flags


def detect_kind(doc: dict[str, Any]) -> str:
    """``rules``, ``alertmanager``, ``prometheus`` or ``promtool-test`` for a parsed YAML file."""
    if "groups" in doc:
        return "rules"
    if "tests" in doc and "rule_files" in doc:
        return "promtool-test"
    if "route" in doc or "receivers" in doc:
        return "alertmanager"
    if {"scrape_configs", "global", "rule_files", "alerting"} & set(doc):
        return "prometheus"
    raise ConfigError("cannot tell what this file is",
                      "alertdrill scales rule files, prometheus.yml, alertmanager.yml and "
                      "promtool test files")


_SCALERS = {
    "rules": scale_rule_file,
    "prometheus": scale_prometheus_config,
    "alertmanager": scale_alertmanager_config,
    "promtool-test": scale_promtool_test,
}


def scale_document(doc: dict[str, Any], scale: TimeScale) -> Scaled:
    """Scale any supported document, by kind."""
    return _SCALERS[detect_kind(doc)](doc, scale)


def scale_file(path: Path, scale: TimeScale) -> tuple[str, Scaled]:
    """The YAML text of the scaled copy of ``path`` and the scaling result."""
    from alertdrill.yamlio import dump_yaml, load_yaml

    doc = load_yaml(path, path.name)
    try:
        result = scale_document(doc, scale)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}", exc.hint) from None
    header = (f"# scaled by alertdrill: K={scale.factor:g}, floor {format_duration(scale.floor)}"
              f" — every duration is the original divided by K\n")
    return header + dump_yaml(result.doc), result
