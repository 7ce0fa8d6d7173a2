"""Are the bundled suite's verdicts stable? Run ``make drill`` N times in a row and count.

A nightly drill is worth running only if a red run means broken alerting: the same unchanged
suite must pass every time on an otherwise idle machine. This runs the main job N consecutive
times (optionally at another time scale), reads each run's JUnit file and prints one line per
run and a summary — the figures the README quotes. It asserts nothing; the exit status is 1 if
any run had a failed scenario, so a CI job could gate on it.

    .venv/bin/python bench/verdicts.py --runs 10
    .venv/bin/python bench/verdicts.py --runs 3 --time-scale 120
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunResult:
    """One ``make drill`` run, as its JUnit file tells it."""

    run: int
    time_scale: float
    exit_status: int
    seconds: float
    tests: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    #: The first lines of each failure's message (the report dir is replaced by the next run).
    messages: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """Scenarios that passed."""
        return self.tests - self.failed - self.errors - self.skipped


def read_junit(path: Path, result: RunResult) -> RunResult:
    """Fill ``result`` from a JUnit XML file (pytest's)."""
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        result.tests += 1
        name = case.get("name", "?")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            if problem.tag == "failure":
                result.failed += 1
            else:
                result.errors += 1
            result.failures.append(name)
            text = (problem.get("message") or "") + "\n" + (problem.text or "")
            result.messages.append(" | ".join(line.strip() for line in text.splitlines()
                                              if line.strip())[:600])
        elif case.find("skipped") is not None:
            result.skipped += 1
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the drill N times and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--time-scale", type=float, default=None,
                        help="ALERTDRILL_TIME_SCALE for the runs (default: the default, 60)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "verdicts.jsonl",
                        help="one JSON line per run is appended here")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.time_scale is not None:
        env["ALERTDRILL_TIME_SCALE"] = f"{args.time_scale:g}"
    scale = args.time_scale or 60.0
    results = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for run in range(1, args.runs + 1):
        started = time.monotonic()
        proc = subprocess.run(["make", "drill"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, check=False)
        result = RunResult(run, scale, proc.returncode, round(time.monotonic() - started, 1))
        junit = ROOT / "reports" / "junit.xml"
        if junit.is_file():
            read_junit(junit, result)
        results.append(result)
        with args.out.open("a") as out:
            out.write(json.dumps(asdict(result)) + "\n")
        print(f"run {run}/{args.runs} K={scale:g}: {result.passed} passed, {result.failed} failed, "
              f"{result.errors} errors, {result.skipped} skipped in {result.seconds:.0f} s"
              + (f" — {', '.join(result.failures)}" if result.failures else ""), flush=True)
    bad = [r for r in results if r.failed or r.errors or r.exit_status]
    print(f"{len(results) - len(bad)} of {len(results)} runs at K={scale:g} with no failed "
          "scenario")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
