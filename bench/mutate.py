"""Benchmark of ``alertdrill mutate``: numbers, printed — not a test.

Prints, for a stack and a suite (default: stack/reference with features/reference):
- the static phase (making every mutant, proving the equivalent ones, selecting scenarios):
  its time and the mutants per operator;
- the run phase, unless ``--static-only``: mutants per minute and the whole run's time, with
  the score — for ``--operators``/``--mutants``/``--limit`` only, since the full operator set
  on the reference stack starts several hundred stacks (hours on 2 cores; the issue's aim is
  20 minutes).

    .venv/bin/python bench/mutate.py --static-only
    .venv/bin/python bench/mutate.py --operators routes-reordered,route-deleted --limit 4
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alertdrill.mutate.operators import counts  # noqa: E402
from alertdrill.mutate.runner import MutateOptions, plan, run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default=str(ROOT / "stack" / "reference"))
    parser.add_argument("--features", type=Path, default=ROOT / "features" / "reference")
    parser.add_argument("--operators", default=None)
    parser.add_argument("--mutants", default=None)
    parser.add_argument("--limit", type=int, default=3,
                        help="run at most this many non-equivalent mutants (default 3)")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--static-only", action="store_true")
    args = parser.parse_args()

    options = MutateOptions(stack=args.stack, features=[args.features],
                            operators=args.operators, mutants=args.mutants,
                            parallel=args.parallel, report_dir=ROOT / "reports" / "bench-mutate")
    started = time.monotonic()
    p = plan(options)
    selected = {m.id: len(p.selected(m)) for m in p.mutants}
    static = time.monotonic() - started
    equivalent = sum(m.equivalent for m in p.mutants)
    print(f"static phase: {len(p.mutants)} mutants, {equivalent} proven equivalent, "
          f"{static:.1f} s (generate, prove, select)")
    for name, n in counts(p.mutants).items():
        print(f"  {name:<24}{n:>5}")
    runnable = [m for m in p.mutants if not m.equivalent]
    if runnable:
        mean = sum(selected[m.id] for m in runnable) / len(runnable)
        print(f"scenarios selected per non-equivalent mutant: mean {mean:.1f} of "
              f"{len(p.scenarios)}")
    if args.static_only:
        return 0
    chosen = [m.id for m in runnable][:args.limit]
    if not chosen:
        print("nothing to run")
        return 0
    options.mutants = ",".join(chosen)
    started = time.monotonic()
    _status, result = run(options, out=io.StringIO())
    seconds = time.monotonic() - started
    assert result is not None
    print(f"run phase: {len(chosen)} mutants in {seconds:.1f} s on {args.parallel} worker(s): "
          f"{len(chosen) / (seconds / 60):.2f} mutants/min; score "
          f"{result.score if result.score is None else round(result.score, 2)}")
    for o in sorted(result.outcomes, key=lambda o: o.mutant.id):
        print(f"  {o.mutant.id} {o.status:<10} {o.seconds:6.1f} s  {len(o.scenarios)} "
              f"scenario(s) run  {o.mutant.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
