"""``alertdrill backtest``: what each config would have done with a recording.

Evaluate the rules of NEW (and OLD, with ``--against``) over the recording with the real
Prometheus (:mod:`.evaluate`), replay each side's alerts through its own real Alertmanager
cluster (:mod:`.replay`), and compare (:mod:`.compare`). Everything a side needs is checked
before anything starts: the recording's header, both stacks (amtool/promtool, as a drill's
preflight does).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alertdrill.backtest.alertstate import AlertInterval
from alertdrill.backtest.compare import Differences, compare, flapping
from alertdrill.backtest.evaluate import evaluate_recording
from alertdrill.backtest.parallel import side_by_side
from alertdrill.backtest.recording import Header, read_header
from alertdrill.backtest.replay import ReplayResult, replay
from alertdrill.engine.stackspec import StackSpec


@dataclass
class SideResult:
    """One config's backtest."""

    label: str
    stack: Path
    alerts: list[AlertInterval]
    replay: ReplayResult
    flapping: list[AlertInterval]


@dataclass
class BacktestResult:
    """The whole backtest: both sides, their differences, where the time went."""

    recording: Path
    header: Header
    sides: list[SideResult]
    differences: Differences | None
    tolerance: float
    flap_window: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def new(self) -> SideResult:
        """The config under review."""
        return self.sides[0]

    @property
    def old(self) -> SideResult | None:
        """The config it is compared with (``--against``)."""
        return self.sides[1] if len(self.sides) > 1 else None


@dataclass(frozen=True)
class BacktestOptions:
    """How to replay and compare (defaults documented in README › Backtesting)."""

    time_scale: float | None = None
    peers: int | None = None
    tolerance: float = 60.0
    match_window: float = 3600.0
    flap_window: float = 600.0
    #: Alertmanager clusters replaying episodes side by side.
    workers: int = 4


def _say(text: str) -> None:
    print(f"backtest: {text}", file=sys.stderr, flush=True)


def _prefixed(progress: Callable[[str], None] | None, label: str
              ) -> Callable[[str], None] | None:
    if progress is None:
        return None
    say = progress
    return lambda text: say(f"{label}: {text}")


def run_backtest(recording: Path, new: Path, old: Path | None = None,
                 options: BacktestOptions | None = None,
                 progress: Callable[[str], None] | None = _say) -> BacktestResult:
    """Backtest ``recording`` with the configs of ``new`` (and ``old``)."""
    from alertdrill.backends.common import preflight

    options = options or BacktestOptions()
    header = read_header(recording)
    specs = [StackSpec.load(new)] + ([StackSpec.load(old)] if old is not None else [])
    for spec in specs:
        preflight(spec)
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    timelines = evaluate_recording(recording, header, specs, timings)
    if progress:
        progress(f"rules evaluated over {(header.end - header.begin) / 86400:.2f} days: "
                 + ", ".join(f"{len(t)} alerts ({s.root.name})" for t, s in zip(timelines, specs,
                                                                                 strict=True)))
    # The two sides share nothing: their clusters replay side by side.
    sides: list[SideResult | None] = [None] * len(specs)
    labels = ("new", "old")[:len(specs)]

    def side(index: int) -> None:
        label = labels[index]
        t1 = time.monotonic()
        result = replay(specs[index], timelines[index], header.end, options.time_scale,
                        options.peers, _prefixed(progress, label), options.workers)
        timings[f"replay_{label}_s"] = time.monotonic() - t1
        sides[index] = SideResult(label, specs[index].root, timelines[index], result,
                                  flapping(timelines[index], options.flap_window))

    side_by_side(side, len(labels), "backtest")
    done = [s for s in sides if s is not None]
    differences = None
    if len(done) == 2:
        differences = compare(done[1].replay.notifications, done[0].replay.notifications,
                              options.tolerance, options.match_window)
    timings["total_s"] = time.monotonic() - t0
    return BacktestResult(recording, header, done, differences, options.tolerance,
                          options.flap_window, timings)
