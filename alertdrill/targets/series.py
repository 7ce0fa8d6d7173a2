"""The series stand-in: a real process serving, on a real ``/metrics``, the families a plan names.

It stands in for an exporter the harness does not have (a team's Redis exporter, their API's
own metrics …). The plan — families, their types, label sets, histogram buckets and a healthy
baseline — is a JSON file the harness writes from the stack's rules
(:mod:`alertdrill.analysis.seriesplan`). Values are served with the official ``prometheus_client``
library (a custom collector in its own registry, its text exposition), never hand-formatted.

Values follow the clock of this process, in *measured* seconds: a counter at rate N grows by N
each second, so Prometheus's ``rate()`` reads N whatever the time scale (an ``increase()`` over
a scaled window then reads N × the measured window: time is compressed, load is not). A
histogram observes ``rate`` observations per second, each taking ``latency`` seconds, so every
quantile reads within the bucket that holds the latency.

``POST /-/control`` drives it: ``{"family": F, "labels": {...}, "set": {"value": V}}`` (a gauge),
``{"set": {"rate": N}}`` (a counter, or a histogram's observations), ``{"set": {"latency": S}}``
(a histogram), ``{"absent": true}`` (the series is no longer served), ``{"baseline": true}``
(back to the plan's values; without ``family``: every series). ``labels`` selects every series
whose labels include them. ``GET /-/control`` answers the current state.

Serves on a listening socket inherited from the harness (``--fd``) or binds one (``--listen``).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from alertdrill.targets.httpbase import (
    InheritedSocketServer,
    JSONHandler,
    add_listen_arguments,
    listening_socket,
    serve_until_signalled,
)

_FIELDS = {"gauge": {"value"}, "counter": {"rate"}, "histogram": {"rate", "latency"}}


class SeriesState:
    """One served series: its baseline, what a step set, and its counts so far."""

    def __init__(self, kind: str, raw: dict[str, Any], buckets: list[float]) -> None:
        self.kind = kind
        self.labels = {str(k): str(v) for k, v in (raw.get("labels") or {}).items()}
        self.baseline = {k: float(raw.get(k, 0.0)) for k in ("value", "rate", "latency")}
        self.bounds = buckets
        self.value, self.rate, self.latency = (self.baseline[k] for k in
                                               ("value", "rate", "latency"))
        self.present = True
        self.total = 0.0
        self.count = 0.0
        self.sum = 0.0
        self.bucket_counts = [0.0] * len(buckets)
        self.since = time.monotonic()

    def advance(self, now: float) -> None:
        """Count what happened since the last look (counters never go backwards)."""
        elapsed = max(0.0, now - self.since)
        self.since = now
        if self.kind == "counter":
            self.total += self.rate * elapsed
        elif self.kind == "histogram":
            observed = self.rate * elapsed
            self.count += observed
            self.sum += observed * self.latency
            for i, bound in enumerate(self.bounds):
                if self.latency <= bound:
                    self.bucket_counts[i] += observed

    def set(self, now: float, settings: dict[str, float]) -> None:
        """Change what it does from now on."""
        self.advance(now)
        for name, number in settings.items():
            setattr(self, name, float(number))
        self.present = True

    def to_baseline(self, now: float) -> None:
        """Back to the plan's values, and served again."""
        self.set(now, {k: v for k, v in self.baseline.items() if k in _FIELDS[self.kind]})

    def state(self) -> dict[str, Any]:
        """What ``GET /-/control`` shows of it."""
        shown = {k: getattr(self, k) for k in sorted(_FIELDS[self.kind])}
        return {"labels": self.labels, "present": self.present, **shown}


class FamilyState:
    """A served family and its series."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.name = str(raw["name"])
        self.kind = str(raw["type"])
        if self.kind not in _FIELDS:
            raise ValueError(f"family {self.name}: unknown type {self.kind!r}")
        self.help = str(raw.get("help") or "alertdrill stand-in")
        self.buckets = sorted(float(b) for b in raw.get("buckets") or [])
        self.series = [SeriesState(self.kind, s, self.buckets) for s in raw.get("series") or []]

    def metric(self) -> Metric:
        """The family as prometheus_client exposes it."""
        if self.kind == "counter" and self.name.endswith("_total"):
            metric = Metric(self.name.removesuffix("_total"), self.help, "counter")
        elif self.kind == "counter":  # rate() works on any series; the text format needs _total
            metric = Metric(self.name, self.help, "unknown")
        else:
            metric = Metric(self.name, self.help, self.kind)
        for s in self.series:
            if not s.present:
                continue
            if self.kind == "gauge":
                metric.add_sample(self.name, s.labels, s.value)
            elif self.kind == "counter":
                metric.add_sample(self.name, s.labels, s.total)
            else:
                for bound, count in zip(self.buckets, s.bucket_counts, strict=True):
                    metric.add_sample(f"{self.name}_bucket",
                                      {**s.labels, "le": floatToGoString(bound)}, count)
                metric.add_sample(f"{self.name}_bucket", {**s.labels, "le": "+Inf"}, s.count)
                metric.add_sample(f"{self.name}_count", s.labels, s.count)
                metric.add_sample(f"{self.name}_sum", s.labels, s.sum)
        return metric


class StandIn:
    """Every family of the plan; a prometheus_client collector of them."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.families = {f.name: f for f in map(FamilyState, plan.get("families") or [])}
        self.lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        """Called by the registry on every scrape: counts advance to now."""
        now = time.monotonic()
        with self.lock:
            for family in self.families.values():
                for series in family.series:
                    series.advance(now)
                yield family.metric()

    def control(self, request: dict[str, Any]) -> dict[str, Any]:
        """Apply one control request (see the module docstring); ValueError when it is bad."""
        now = time.monotonic()
        with self.lock:
            if request.get("baseline") and not request.get("family"):
                for family in self.families.values():
                    for series in family.series:
                        series.to_baseline(now)
                return self.state()
            family, chosen = self._select(request)
            if request.get("baseline"):
                for series in chosen:
                    series.to_baseline(now)
            elif request.get("absent"):
                for series in chosen:
                    series.advance(now)
                    series.present = False
            else:
                settings = dict(request.get("set") or {})
                wrong = set(settings) - _FIELDS[family.kind]
                if not settings or wrong:
                    raise ValueError(f"{family.name} is a {family.kind}: it takes "
                                     f"{', '.join(sorted(_FIELDS[family.kind]))}")
                if any(float(v) < 0 for k, v in settings.items() if k != "value"):
                    raise ValueError("rates and latencies cannot be negative")
                for series in chosen:
                    series.set(now, settings)
            return self.state()

    def _select(self, request: dict[str, Any]) -> tuple[FamilyState, list[SeriesState]]:
        name = str(request.get("family") or "")
        family = self.families.get(name)
        if family is None:
            close = difflib.get_close_matches(name, list(self.families), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise ValueError(f"no family {name!r}{hint}; served: {', '.join(self.families)}")
        labels = {str(k): str(v) for k, v in (request.get("labels") or {}).items()}
        chosen = [s for s in family.series if labels.items() <= s.labels.items()]
        if not chosen:
            raise ValueError(f"{name} has no series with {labels}; its series: "
                             f"{[s.labels for s in family.series]}")
        return family, chosen

    def state(self) -> dict[str, Any]:
        """Every family and series, as now."""
        return {"families": {f.name: {"type": f.kind, "series": [s.state() for s in f.series]}
                             for f in self.families.values()}}


class _Handler(JSONHandler):
    server: _Server

    def do_GET(self) -> None:
        if self.path.startswith("/metrics"):
            # the classic text format: what Prometheus 2.x (Debian's) negotiates
            self.answer(200, generate_latest(self.server.registry), CONTENT_TYPE_PLAIN_0_0_4)
        elif self.path.startswith("/-/control"):
            with self.server.stand_in.lock:
                self.answer(200, self.server.stand_in.state())
        elif self.path.startswith("/-/healthy"):
            self.answer(200, {"status": "healthy"})
        else:
            self.answer(404, {"error": f"unknown path {self.path}"})

    def do_POST(self) -> None:
        self.control(self.server.stand_in.control, "a control request")


class _Server(InheritedSocketServer):
    stand_in: StandIn
    registry: CollectorRegistry


def main(argv: list[str] | None = None) -> int:
    """Serve the plan until SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m alertdrill.targets.series")
    add_listen_arguments(parser)
    parser.add_argument("--plan", type=Path, required=True, help="the plan JSON file")
    args = parser.parse_args(argv)
    stand_in = StandIn(json.loads(args.plan.read_text()))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(stand_in)  # type: ignore[arg-type]
    server = _Server(listening_socket(args), _Handler)
    server.stand_in, server.registry = stand_in, registry
    serve_until_signalled(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
