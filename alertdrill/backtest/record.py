"""``alertdrill record``: the series a stack's rules select, from a Prometheus, into a file.

The range is cut into chunks of at most ``max_points`` steps (Prometheus refuses more than
11 000 points per series in one query) and at most ``chunk`` seconds; each chunk queries every
selector with /api/v1/query_range and is written as one gzip member before the next is asked
for, so memory holds one chunk and a re-run resumes after the last complete one
(:mod:`.recording`). A series two selectors both match is written once.

A drill's Prometheus runs K times faster than the world it models; ``time_scale=K`` stretches
its timestamps (and the step) back to real-world time around ``--from``, so that the recording
can be backtested with the stack's configs as written.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from alertdrill.backtest.promapi import HttpOptions, PrometheusReader
from alertdrill.backtest.recording import (
    Header,
    RecordingWriter,
    format_timestamp,
    format_value,
    series_text,
)
from alertdrill.backtest.selectors import history_needed, rule_selectors
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError

#: Points per series per query: below Prometheus's 11 000 limit.
MAX_POINTS = 10_000


@dataclass(frozen=True)
class RecordPlan:
    """What to pull, from where, over which range (times in the source Prometheus's clock)."""

    prometheus: str
    selectors: tuple[str, ...]
    start: float
    begin: float
    end: float
    step: float
    chunk: float = 6 * 3600.0
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        if not (self.step > 0 and math.isfinite(self.step)):
            raise ConfigError(f"--step must be above 0, not {self.step}")
        if self.end <= self.begin:
            raise ConfigError(f"--to ({self.end}) must be after --from ({self.begin})")
        if not self.selectors:
            raise ConfigError("the stack's rules select no series: nothing to record")

    def chunks(self) -> list[tuple[float, float]]:
        """(first, last) evaluation timestamps of each chunk; they tile start…end on the step."""
        per_chunk = max(1, min(MAX_POINTS, int(self.chunk // self.step)))
        total = math.floor((self.end - self.start) / self.step + 1e-9) + 1
        return [(self.start + i * self.step,
                 self.start + (min(i + per_chunk, total) - 1) * self.step)
                for i in range(0, total, per_chunk)]

    def header(self) -> Header:
        """The recording's header: real-world times when ``time_scale`` stretches them."""
        return Header(self.stretch(self.start), self.stretch(self.begin), self.stretch(self.end),
                      self.step * self.time_scale, self.prometheus, self.selectors,
                      self.time_scale)

    def stretch(self, t: float) -> float:
        """A source timestamp in the recording's (real-world) time."""
        return self.begin + (t - self.begin) * self.time_scale


def plan_for_stack(prometheus: str, stack: Path, begin: float, end: float, step: float,
                   chunk: float = 6 * 3600.0, time_scale: float = 1.0) -> RecordPlan:
    """The plan that records what the stack's rules need, with their windows' history.

    ``begin`` is rounded to a whole millisecond (the TSDB's resolution) and ``start`` lies a
    whole number of steps before it, so that every recorded sample, stretched or not, falls
    exactly on the backtest's evaluation grid: a sample even 1 ms after an evaluation
    timestamp is invisible to it, and the alert would start one step late (a live-test
    failure, 23 s late, came from a ``--from`` with sub-millisecond digits).
    """
    spec = StackSpec.load(stack)
    history = history_needed(spec.rule_files) / time_scale
    begin = round(begin, 3)
    start = round(begin - math.ceil(history / step) * step, 3)
    return RecordPlan(prometheus, tuple(rule_selectors(spec.rule_files)), start, begin, end,
                      step, chunk, time_scale)


def _chunk_lines(reader: PrometheusReader, plan: RecordPlan, first: float, last: float,
                 counts: dict[str, int]) -> Iterator[str]:
    seen: set[frozenset[tuple[str, str]]] = set()
    for selector in plan.selectors:
        for series in reader.query_range(selector, first, last, plan.step):
            key = frozenset(series["metric"].items())
            if key in seen:
                continue
            seen.add(key)
            counts["series"] += 1
            name = series_text(series["metric"])
            for t, value in series["values"]:
                counts["samples"] += 1
                yield (f"{name} {format_value(float(value))} "
                       f"{format_timestamp(plan.stretch(float(t)))}")


def record(plan: RecordPlan, out: Path, http: HttpOptions | None = None,
           progress: TextIO | None = sys.stderr,
           clock: Callable[[], float] = time.monotonic) -> dict[str, float]:
    """Pull ``plan`` into ``out`` (resuming a partial one); returns counts and timings."""
    reader = PrometheusReader(plan.prometheus, http)
    writer = RecordingWriter(out, plan.header())
    done = writer.open()
    chunks = plan.chunks()
    counts = {"series": 0, "samples": 0}
    t0 = clock()
    for index, (first, last) in enumerate(chunks):
        if index < done:
            continue
        chunk_counts = {"series": 0, "samples": 0}
        writer.add_chunk(_chunk_lines(reader, plan, first, last, chunk_counts))
        counts["samples"] += chunk_counts["samples"]
        counts["series"] = max(counts["series"], chunk_counts["series"])
        if progress is not None:
            elapsed = clock() - t0
            share = (index + 1) / len(chunks)
            progress.write(f"\rrecord: chunk {index + 1}/{len(chunks)} ({share:4.0%}), "
                           f"{counts['samples']} samples, {reader.requests} requests, "
                           f"{elapsed:.1f}s ")
            progress.flush()
    writer.finish()
    if progress is not None:
        progress.write(f"\nrecord: {out} complete ({len(chunks)} chunks, {done} resumed)\n")
    return {"chunks": len(chunks), "resumed": done, "requests": reader.requests,
            "seconds": clock() - t0, **counts}
