"""Benchmarks: numbers, printed — not a test. Run with `make bench`.

1. Stack start (Prometheus + 3 Alertmanager peers + sink + 2 targets): time to every process
   answering /-/ready, and time to *usable* (Prometheus has published its targets and
   Alertmanagers, which its discovery manager does only every 5 s).
2. Kill-to-notification over 10 trials on bench/stack (scrape and evaluation 250 ms,
   `for: 500ms`, group_wait 250 ms): SIGKILL of the target to the first firing notification
   at the receiver, and restart to the resolved notification.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alertdrill.backends.base import StackOptions  # noqa: E402
from alertdrill.backends.local import LocalStack  # noqa: E402
from alertdrill.drill import Drill  # noqa: E402
from alertdrill.expect import NotificationMatch  # noqa: E402
from alertdrill.settings import Settings  # noqa: E402
from alertdrill.stackspec import StackSpec  # noqa: E402

#: The smallest interval the harness lets a scaled config use (see README › Time scaling).
FLOOR_S = 0.25


def _summary(name: str, values: list[float]) -> str:
    return (f"{name:<38} median {statistics.median(values):6.3f} s   "
            f"min {min(values):6.3f}   max {max(values):6.3f}   (n={len(values)})")


def bench_start(spec: StackSpec, trials: int) -> None:
    ready, usable, spawned = [], [], []
    for _ in range(trials):
        stack = LocalStack(spec, StackOptions()).start()
        spawned.append(stack.startup["spawned"])
        ready.append(stack.startup["ready"])
        usable.append(stack.startup["usable"])
        stack.close()
    print(_summary("start: all processes spawned", spawned))
    print(_summary("start: all /-/ready (3 peers + sink)", ready))
    print(_summary("start: usable (targets + AMs found)", usable))


def bench_kill_to_notification(trials: int) -> None:
    """Each trial kills a different target: a fresh incident with a new aggregation group.

    (Re-killing one target would reuse its aggregation group, which Alertmanager keeps ~30 s
    after it empties, and the notification would wait for the next group_interval tick.)
    """
    spec = StackSpec.load(ROOT / "bench" / "stack")
    settings = Settings.from_env()
    stack = LocalStack(spec, StackOptions()).start()
    drill = Drill(stack, settings).begin()
    fired, resolved = [], []
    targets = sorted(spec.services)
    try:
        for trial in range(trials):
            name = targets[trial % len(targets)]
            fault = drill.stop_service(name, how="kill")
            t0 = drill.timeline.anchor_time()
            ev = drill.expect.notified(NotificationMatch("pager", "TargetDown"), 10)
            fired.append(ev.t - t0)
            fault.revert()
            t1 = drill.timeline.anchor_time()
            ev = drill.expect.notified(NotificationMatch("pager", "TargetDown", "resolved"), 10)
            resolved.append(ev.t - t1)
    finally:
        drill.close()
        stack.close()
    print(_summary("kill → firing notification", fired))
    print(_summary("restart → resolved notification", resolved))
    print(f"{'configured floor (smallest interval)':<38} {FLOOR_S:6.3f} s   "
          "(scrape/eval 250 ms, for 500 ms, group_wait 250 ms, group_interval 1 s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    spec = StackSpec.load(ROOT / "stack" / "sample")
    print(f"alertdrill benchmark — {spec.peers} Alertmanager peers")
    bench_start(spec, args.trials)
    bench_kill_to_notification(args.trials)
    return 0


if __name__ == "__main__":
    sys.exit(main())
