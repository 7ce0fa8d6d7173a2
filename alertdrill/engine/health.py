"""The stack's own health over a scenario, so that an overloaded machine is named, not blamed on
the config.

A compressed-time drill asks a lot of a small machine: rule groups every 250 ms, scrapes every
250 ms, three gossiping peers. When the machine falls behind, a claim can fail although the
alerting config is right. Every failure therefore carries what Prometheus says about itself
(missed rule-group iterations, the slowest group against its interval, how late scrapes ran)
and how late the harness's own threads woke up; when any of them shows the stack fell behind,
the failure says so first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from alertdrill.durations import parse_duration

#: How often the harness's scheduling lag is sampled (seconds).
LAG_SAMPLE = 0.05
#: A scrape that ran this much later than its interval (p99) is a sign of overload.
SCRAPE_LATE_RATIO = 1.5


class LagMonitor:
    """A thread that sleeps ``LAG_SAMPLE`` at a time and records how late it woke: the
    scheduling lag every wait and poll of the harness also suffers."""

    def __init__(self) -> None:
        self.max_lag = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alertdrill-lag", daemon=True)

    def start(self) -> LagMonitor:
        """Start sampling."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling (idempotent)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            before = time.monotonic()
            self._stop.wait(LAG_SAMPLE)
            lag = time.monotonic() - before - LAG_SAMPLE
            self.samples += 1
            self.max_lag = max(self.max_lag, lag)


@dataclass(frozen=True)
class Health:
    """What the stack and the harness say about their own pace (None: not known)."""

    rule_iterations_missed: float | None = None
    #: The slowest rule group's last evaluation, as a fraction of its interval.
    slowest_rule_group: float | None = None
    #: The worst p99 of the actual scrape intervals, as a multiple of the configured one.
    scrape_interval_p99: float | None = None
    harness_lag_max: float | None = None

    def behind(self, tolerance: float) -> list[str]:
        """Each sign that the stack fell behind, in words (empty: it kept up)."""
        signs = []
        if self.rule_iterations_missed:
            signs.append(f"Prometheus missed {self.rule_iterations_missed:g} rule-group "
                         "evaluation(s) (prometheus_rule_group_iterations_missed_total)")
        if self.slowest_rule_group is not None and self.slowest_rule_group > 1:
            signs.append(f"a rule group took {self.slowest_rule_group:.1f}× its interval")
        if self.scrape_interval_p99 is not None and self.scrape_interval_p99 > SCRAPE_LATE_RATIO:
            signs.append(f"scrapes ran {self.scrape_interval_p99:.1f}× their interval apart (p99)")
        if self.harness_lag_max is not None and self.harness_lag_max > tolerance:
            signs.append(f"the harness's threads woke up to {self.harness_lag_max:.2f} s late "
                         f"(more than the {tolerance:g} s tolerance)")
        return signs

    def describe(self, tolerance: float) -> str:
        """One paragraph for failure messages: the figures, and the verdict on them."""
        figures = (f"rule-group iterations missed {_n(self.rule_iterations_missed)}, slowest rule "
                   f"group {_pct(self.slowest_rule_group)} of its interval, scrape interval p99 "
                   f"{_times(self.scrape_interval_p99)} the configured one, harness scheduling "
                   f"lag max {_secs(self.harness_lag_max)}")
        signs = self.behind(tolerance)
        if signs:
            return ("⚠ the stack fell behind during this scenario — the failure may be the "
                    f"machine's load, not the config: {'; '.join(signs)} ({figures})")
        return f"stack health: it kept up ({figures})"

    def to_json(self) -> dict[str, Any]:
        """For the scenario's record."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _n(v: float | None) -> str:
    return "?" if v is None else f"{v:g}"


def _pct(v: float | None) -> str:
    return "?" if v is None else f"{100 * v:.0f} %"


def _times(v: float | None) -> str:
    return "?" if v is None else f"{v:.2f}×"


def _secs(v: float | None) -> str:
    return "?" if v is None else f"{v * 1000:.0f} ms"


def prometheus_health(metrics_text: str | None) -> dict[str, float | None]:
    """The overload signs in Prometheus's own /metrics text."""
    if metrics_text is None:
        return {}
    missed = 0.0
    durations: dict[str, float] = {}
    intervals: dict[str, float] = {}
    scrape_ratios: list[float] = []
    for name, labels, value in metric_samples(metrics_text):
        if name == "prometheus_rule_group_iterations_missed_total":
            missed += value
        elif name == "prometheus_rule_group_last_duration_seconds":
            durations[labels.get("rule_group", "")] = value
        elif name == "prometheus_rule_group_interval_seconds":
            intervals[labels.get("rule_group", "")] = value
        elif (name == "prometheus_target_interval_length_seconds"
              and labels.get("quantile") == "0.99" and value == value):  # NaN: no scrape yet
            try:
                configured = parse_duration(labels.get("interval", ""))
            except ValueError:
                continue
            if configured > 0:
                scrape_ratios.append(value / configured)
    ratios = [durations[g] / intervals[g] for g in durations if intervals.get(g)]
    return {"rule_iterations_missed": missed,
            "slowest_rule_group": max(ratios) if ratios else None,
            "scrape_interval_p99": max(scrape_ratios) if scrape_ratios else None}


def metric_samples(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    """Every sample of a /metrics page (name, labels, value), through prometheus-client's own
    text parser; a page it cannot read yields nothing rather than a wrong figure."""
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                yield sample.name, dict(sample.labels), float(sample.value)
    except ValueError:
        return


def snapshot(prometheus_url: str, lag: LagMonitor | None, timeout: float = 1.0) -> Health:
    """Ask Prometheus about itself now (cumulative since it started) and add the harness's lag."""
    try:
        text: str | None = requests.get(prometheus_url.rstrip("/") + "/metrics",
                                        timeout=timeout).text
    except requests.RequestException:
        text = None
    return Health(**prometheus_health(text),
                  harness_lag_max=lag.max_lag if lag is not None and lag.samples else None)
