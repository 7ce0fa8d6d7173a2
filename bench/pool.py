"""The warm pool, measured: the bundled suite with and without ``--pool``, in one run.

Runs ``make drill`` alternately without the pool (ALERTDRILL_POOL=0) and with it (1), N pairs,
and prints for each run the suite's wall time, the scenario counts and the start-up each
scenario saw — from its record: ``startup.warm`` (how long it waited for its warm stack) when it
took one, else ``startup.usable`` (a cold start). It asserts nothing; the README quotes it.

    .venv/bin/python bench/pool.py --pairs 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verdicts import ROOT, RunResult, read_junit


def startups(records: Path) -> tuple[list[float], int]:
    """The start-up wait of every scenario that started a stack, and how many were warm."""
    waits, warm = [], 0
    for path in records.glob("*.json"):
        for stack in json.loads(path.read_text()).get("stacks", []):
            startup = stack.get("startup") or {}
            if "warm" in startup:
                warm += 1
                waits.append(startup["warm"])
            elif "usable" in startup:
                waits.append(startup["usable"])
    return waits, warm


def one_run(run: int, pool: int, out: Path) -> None:
    env = {**os.environ, "ALERTDRILL_POOL": str(pool)}
    started = time.monotonic()
    proc = subprocess.run(["make", "drill"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False)
    result = RunResult(run, 60.0, proc.returncode, round(time.monotonic() - started, 1))
    if (ROOT / "reports" / "junit.xml").is_file():
        read_junit(ROOT / "reports" / "junit.xml", result)
    waits, warm = startups(ROOT / "reports" / "drill")
    line = {"pool": pool, **result.__dict__, "startups": len(waits), "warm": warm,
            "startup_median_s": round(statistics.median(waits), 2) if waits else None,
            "startup_max_s": round(max(waits), 2) if waits else None,
            "startup_total_s": round(sum(waits), 1)}
    with out.open("a") as stream:
        stream.write(json.dumps(line) + "\n")
    print(f"pool={pool}: {result.seconds:.0f} s, {result.passed} passed, {result.failed} failed,"
          f" {result.errors} errors; start-up per scenario median {line['startup_median_s']} s,"
          f" max {line['startup_max_s']} s, total {line['startup_total_s']} s "
          f"({warm}/{len(waits)} warm)" + (f" — {', '.join(result.failures)}"
                                           if result.failures else ""), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "pool.jsonl")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for pair in range(1, args.pairs + 1):
        for pool in (0, 1):
            one_run(pair, pool, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
