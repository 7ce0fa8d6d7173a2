"""Benchmarks: numbers, printed — not a test. Run with `make bench`.

1. Stack start (Prometheus + 3 Alertmanager peers + sink + 2 targets): time to every process
   answering /-/ready, and time to *usable* (Prometheus has published its targets and
   Alertmanagers, which its discovery manager does only every 5 s) — on each backend of
   ``--backends`` (default: local and docker; docker is skipped, saying why, without an engine).
2. Kill-to-notification over 10 trials on bench/stack at K=60 (scrape and evaluation 250 ms,
   `for: 500ms`, group_wait 250 ms): SIGKILL of the target to the first firing notification
   at the receiver, and restart to the resolved notification — on each backend.
3. Time scaling: stop-to-notification of a `for: 1m`, group_wait 30 s rule at K = 1, 30, 60,
   120, in measured seconds and in real-world seconds, beside the floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alertdrill.backends.base import StackOptions  # noqa: E402
from alertdrill.backends.local import LocalStack  # noqa: E402
from alertdrill.engine.drill import Drill  # noqa: E402
from alertdrill.engine.expect import NotificationMatch  # noqa: E402
from alertdrill.engine.stackspec import StackSpec  # noqa: E402
from alertdrill.errors import AlertdrillError  # noqa: E402
from alertdrill.settings import Settings  # noqa: E402

#: The smallest interval the harness lets a scaled config use (see README › Time scaling).
FLOOR_S = 0.25


def _summary(name: str, values: list[float]) -> str:
    return (f"{name:<38} median {statistics.median(values):6.3f} s   "
            f"min {min(values):6.3f}   max {max(values):6.3f}   (n={len(values)})")


def _stack(backend: str, spec: StackSpec, options: StackOptions) -> Any:
    """A started stack on ``backend``."""
    if backend == "docker":
        from alertdrill.backends.docker import DockerStack
        return DockerStack(spec, options).start()
    return LocalStack(spec, options).start()


def bench_start(spec: StackSpec, trials: int, backend: str = "local") -> None:
    ready, usable, spawned = [], [], []
    for _ in range(trials):
        stack = _stack(backend, spec, StackOptions())
        spawned.append(stack.startup["spawned"])
        ready.append(stack.startup["ready"])
        usable.append(stack.startup["usable"])
        stack.close()
    what = "processes" if backend == "local" else "containers"
    print(_summary(f"{backend} start: all {what} spawned", spawned))
    print(_summary(f"{backend} start: all /-/ready", ready))
    print(_summary(f"{backend} start: usable", usable))


def bench_kill_to_notification(trials: int, backend: str = "local") -> None:
    """Each trial kills a different target: a fresh incident with a new aggregation group.

    (Re-killing one target would reuse its aggregation group, which Alertmanager keeps ~30 s
    after it empties, and the notification would wait for the next group_interval tick.)
    """
    spec = StackSpec.load(ROOT / "bench" / "stack")
    settings = Settings.from_env(time_scale=60.0)
    stack = _stack(backend, spec, StackOptions(time_scale=60.0))
    drill = Drill(stack, settings).begin()
    fired, resolved, from_call, calls = [], [], [], []
    targets = sorted(spec.services)
    try:
        for trial in range(trials):
            name = targets[trial % len(targets)]
            called = drill.timeline.now()
            fault = drill.stop_service(name, how="kill")
            t0 = drill.timeline.anchor_time()
            ev = drill.expect.notified(NotificationMatch("pager", "TargetDown"), drill.scale.real(10))
            fired.append(ev.t - t0)
            # The fault's anchor (SLA clocks) is taken when the kill call returns; the target
            # is dead from the start of the call, which takes longer through Docker's API.
            from_call.append(ev.t - called)
            calls.append(t0 - called)
            fault.revert()
            t1 = drill.timeline.anchor_time()
            ev = drill.expect.notified(NotificationMatch("pager", "TargetDown", "resolved"),
                                       drill.scale.real(10))
            resolved.append(ev.t - t1)
    finally:
        drill.close()
        stack.close()
    print(_summary(f"{backend} kill call (until the anchor)", calls))
    print(_summary(f"{backend} kill → firing notification", fired))
    print(_summary(f"{backend} kill call → firing notification", from_call))
    print(_summary(f"{backend} restart → resolved notification", resolved))
    print(f"{'configured floor (smallest interval)':<38} {FLOOR_S:6.3f} s   "
          "(scrape/eval 250 ms, for 500 ms, group_wait 250 ms, group_interval 1 s)")


def bench_time_scales(factors: list[float], trials: int) -> None:
    """Stop-to-notification of a `for: 1m`, group_wait 30s rule at several time scales.

    Expected (real-world): scrape ≤ 15 s + evaluation ≤ 15 s + for 60 s + group_wait 30 s,
    i.e. 90–120 s, so the measured value should be about that divided by K — until the floor
    (250 ms) clamps the 15 s intervals (K > 60), after which it stops shrinking.
    """
    spec = StackSpec.load(ROOT / "bench" / "stack")
    targets = sorted(spec.services)
    print(f"{'K':>5}  {'trials':>6}  {'median measured':>15}  {'= real-world':>12}  "
          f"{'expected measured':>17}  floor (scaled intervals clamped)")
    for factor in factors:
        n = 1 if factor == 1 else trials
        stack = LocalStack(spec, StackOptions(time_scale=factor)).start()
        drill = Drill(stack, Settings.from_env(time_scale=factor)).begin()
        measured = []
        try:
            for trial in range(n):
                fault = drill.stop_service(targets[trial % len(targets)], how="stop")
                t0 = drill.timeline.anchor_time()
                ev = drill.expect.notified(NotificationMatch("slow", "TargetDownSlow"), 300)
                measured.append(ev.t - t0)
                fault.revert()
        finally:
            drill.close()
            stack.close()
        median = statistics.median(measured)
        clamps = sum("clamped" in w for w in stack.warnings)
        print(f"{factor:>5g}  {n:>6}  {median:>13.3f} s  {median * factor:>10.1f} s  "
              f"{90 / factor:>7.2f}–{120 / factor:<6.2f} s  {FLOOR_S:.3f} s ({clamps} clamped)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--scales", default="1,30,60,120",
                        help="time scales for the scaling benchmark (K=1 runs one trial: ~2 min)")
    parser.add_argument("--scale-trials", type=int, default=5)
    parser.add_argument("--backends", default="local,docker",
                        help="backends for start-up and kill-to-notification (default: both)")
    args = parser.parse_args()
    spec = StackSpec.load(ROOT / "stack" / "sample")
    print(f"alertdrill benchmark — {spec.peers} Alertmanager peers")
    for backend in [b for b in args.backends.split(",") if b]:
        try:
            bench_start(spec, args.trials, backend)
            bench_kill_to_notification(args.trials, backend)
        except AlertdrillError as exc:
            print(f"{backend}: skipped ({exc})")
    print()
    if not [k for k in args.scales.split(",") if k]:
        return 0
    bench_time_scales([float(k) for k in args.scales.split(",") if k], args.scale_trials)
    return 0


if __name__ == "__main__":
    sys.exit(main())
