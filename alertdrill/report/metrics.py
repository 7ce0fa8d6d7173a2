"""A run's SLA figures as metrics: ``alertdrill.prom`` (OpenMetrics text), and a push.

Why metrics as well as the report: a drill report is read once, by a person; the same figures
as series let a team graph time-to-notify over weeks and alert on a drill that broke — the
harness's results land in the monitoring it tests. The file is written for node-exporter's
textfile collector (``--collector.textfile.directory``: only gauges, no timestamps, one sample
per label set, written atomically), and ``--pushgateway URL`` sends the same registry to a
Pushgateway (job ``alertdrill``; a push replaces the previous run's group).

Everything comes from the scenario records (:mod:`alertdrill.report.records`) through the report's own
analysis (:func:`alertdrill.report.analysis.sla_rows`), so the metrics and the report's SLA
tables never disagree. Both use ``prometheus-client``'s exposition, never hand-written text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, push_to_gateway
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.registry import Collector

from alertdrill.errors import AlertdrillError
from alertdrill.report.analysis import sla_rows
from alertdrill.report.model import claims, scale
from alertdrill.report.redact import Redactor

#: The file ``alertdrill run`` and ``alertdrill report`` write beside the drill report.
METRICS_FILE = "alertdrill.prom"
#: The Pushgateway job the run is pushed as.
PUSH_JOB = "alertdrill"
OUTCOMES = ("passed", "failed", "error", "skipped")
_SLA_LABELS = ["feature", "scenario", "phase", "alertname", "receiver"]


class _Family:
    """A gauge family that keeps the first sample of each label set: two rows of a scenario
    about the same (phase, alert, receiver) — a second notification after a restart — must not
    become two samples of one series, which no parser accepts."""

    def __init__(self, name: str, documentation: str, labels: list[str], unit: str = "") -> None:
        self.metric = GaugeMetricFamily(name, documentation, labels=labels, unit=unit)
        self._seen: set[tuple[str, ...]] = set()

    def add(self, values: Iterable[str], value: float) -> None:
        key = tuple(values)
        if key in self._seen:
            return
        self._seen.add(key)
        self.metric.add_metric(list(key), value)


class RunCollector(Collector):
    """The metrics of one run's records (collected each time the registry is exposed)."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = [Redactor().scrub(r) for r in records]

    def collect(self) -> Iterator[Metric]:
        """Every family, in a fixed order."""
        yield from _run_families(self.records)
        yield from _scenario_families(self.records)
        yield from _sla_families(self.records)


def _started(record: dict[str, Any]) -> float | None:
    try:
        return datetime.fromisoformat(str(record.get("started"))).timestamp()
    except ValueError:
        return None


def _run_families(records: list[dict[str, Any]]) -> Iterator[Metric]:
    starts = [(t, float(r.get("duration") or 0)) for r in records if (t := _started(r)) is not None]
    if starts:
        begin = min(t for t, _ in starts)
        stamp = GaugeMetricFamily("alertdrill_run_start_timestamp_seconds",
                                  "When the run's first scenario started (Unix time).",
                                  unit="seconds")
        stamp.add_metric([], begin)
        yield stamp
        span = GaugeMetricFamily("alertdrill_run_duration_seconds",
                                 "Wall time from the first scenario's start to the last one's end.",
                                 unit="seconds")
        span.add_metric([], max(t + d for t, d in starts) - begin)
        yield span
    k = GaugeMetricFamily("alertdrill_time_scale",
                          "Real-world seconds per measured second (K) of the run's scenarios.",
                          labels=["feature", "scenario"])
    scenarios = _Family("alertdrill_scenarios", "Scenarios of the run, by outcome.", ["outcome"])
    for outcome in OUTCOMES:
        scenarios.add([outcome], sum(1 for r in records if r.get("outcome") == outcome))
    yield scenarios.metric
    seen: set[tuple[str, str]] = set()
    for r in records:
        key = _scenario_key(r)
        if key not in seen:
            seen.add(key)
            k.add_metric(list(key), scale(r))
    yield k


def _scenario_key(record: dict[str, Any]) -> tuple[str, str]:
    return (str((record.get("feature") or {}).get("file") or ""),
            str((record.get("scenario") or {}).get("name") or record.get("id") or ""))


def _scenario_families(records: list[dict[str, Any]]) -> Iterator[Metric]:
    labels = ["feature", "scenario"]
    duration = _Family("alertdrill_scenario_duration_seconds",
                       "How long the scenario took, stack start-up included (measured seconds).",
                       labels, unit="seconds")
    passed = _Family("alertdrill_scenario_passed",
                     "1 when the scenario passed, 0 when it failed or stopped on an error "
                     "(skipped scenarios are left out).", labels)
    held = _Family("alertdrill_claims",
                   "The scenario's claims (Then-steps), by verdict: held or failed.",
                   [*labels, "verdict"])
    for r in records:
        key = _scenario_key(r)
        if r.get("duration") is not None:
            duration.add(key, float(r["duration"]))
        if r.get("outcome") != "skipped":
            passed.add(key, 1.0 if r.get("outcome") == "passed" else 0.0)
        verdicts = [c.passed for c in claims(r)]
        held.add([*key, "held"], float(sum(verdicts)))
        held.add([*key, "failed"], float(len(verdicts) - sum(verdicts)))
    yield from (duration.metric, passed.metric, held.metric)


def _sla_families(records: list[dict[str, Any]]) -> Iterator[Metric]:
    time_to = _Family("alertdrill_time_to_seconds",
                      "Real-world seconds (measured x K) from the action that started the clock "
                      "to the event: phase detect (Prometheus firing), notify (a receiver's first "
                      "notification), escalate, suppress, resolve.", _SLA_LABELS, unit="seconds")
    measured = _Family("alertdrill_time_to_measured_seconds",
                       "The same latency in measured seconds (as the scaled stack ran it).",
                       _SLA_LABELS, unit="seconds")
    sla = _Family("alertdrill_sla_seconds",
                  "The real-world SLA a claim set for that phase, alert and receiver.",
                  _SLA_LABELS, unit="seconds")
    met = _Family("alertdrill_sla_met",
                  "1 when the claim held within its SLA, 0 when it did not (claimed rows only).",
                  _SLA_LABELS)
    for r in records:
        k = scale(r)
        feature, scenario = _scenario_key(r)
        for row in sla_rows(r):
            key = [feature, scenario, row.phase, row.alertname, row.receiver]
            if row.measured is not None:
                time_to.add(key, round(row.measured * k, 3))
                measured.add(key, round(row.measured, 4))
            if row.verdict != "no claim":
                if row.sla_real is not None:
                    sla.add(key, float(row.sla_real))
                met.add(key, 1.0 if row.verdict == "passed" else 0.0)
    yield from (time_to.metric, measured.metric, sla.metric, met.metric)


def registry_of(records: list[dict[str, Any]]) -> CollectorRegistry:
    """A registry holding only the run's metrics (no process or platform collectors)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RunCollector(records))
    return registry


def write_metrics(records: list[dict[str, Any]], out: Path) -> Path:
    """Write ``out/alertdrill.prom`` atomically (the textfile collector may read at any time)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / METRICS_FILE
    tmp = path.with_name(f".{METRICS_FILE}.{os.getpid()}.tmp")
    tmp.write_bytes(generate_latest(registry_of(records)))
    tmp.replace(path)
    return path


def push_metrics(records: list[dict[str, Any]], url: str) -> None:
    """Push the run's metrics to a Pushgateway (replacing the job's previous group)."""
    try:
        push_to_gateway(url, job=PUSH_JOB, registry=registry_of(records), timeout=10)
    except (OSError, ValueError) as exc:  # URLError, connection refused, HTTP errors, bad URL
        raise AlertdrillError(f"pushing the run's metrics to {url} failed: {exc}",
                              "check --pushgateway's URL (e.g. http://pushgateway:9091) and "
                              "that the Pushgateway answers") from None
