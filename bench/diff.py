"""``alertdrill diff``, timed: the reference stack against seed 001's tree, a stack against
itself, and a generated config with a few hundred routes (one team each) changed in two places.

Prints seconds per diff (median of --repeat runs, files read each time, as the command does) and
the number of changes found. Target (issue 16): under 2 s each on 2 cores. It asserts nothing.

    .venv/bin/python bench/diff.py --teams 300
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from alertdrill.analysis.configdiff import Side, diff

ROOT = Path(__file__).resolve().parents[1]


def many_routes(root: Path, teams: int, changed: bool) -> Path:
    """A stack with ``teams`` routes and one alerting rule per team (its own ``team`` label)."""
    (root / "rules").mkdir(parents=True)
    (root / "prometheus.yml").write_text(
        "global: {scrape_interval: 15s, evaluation_interval: 15s}\n"
        "rule_files: [rules/*.yml]\n"
        "scrape_configs:\n  - job_name: app\n    static_configs:\n"
        "      - targets: ['app:8080']\n")
    rules = ["groups:", "  - name: teams", "    rules:"]
    for i in range(teams):
        rules += [f"      - alert: Team{i}Down", f"        expr: up{{job=\"app\", shard=\"{i}\"}} == 0",
                  "        for: 5m", "        labels:", f"          team: t{i}",
                  f"          severity: {'critical' if i % 3 == 0 else 'warning'}"]
    (root / "rules" / "teams.yml").write_text("\n".join(rules) + "\n")
    routes, receivers = [], ["receivers:", "  - name: default"]
    for i in range(teams):
        receiver = f"team-{i}" if not (changed and i == teams // 2) else "default"
        wait = "1m" if changed and i == 7 else "30s"
        routes += [f"    - matchers: ['team=\"t{i}\"']", f"      receiver: {receiver}",
                   f"      group_wait: {wait}", "      routes:",
                   "        - matchers: ['severity=\"critical\"']",
                   f"          receiver: {receiver}", "          repeat_interval: 1h"]
        receivers += [f"  - name: team-{i}", "    webhook_configs:",
                      f"      - url: http://hooks.example.internal/{i}"]
    (root / "alertmanager.yml").write_text("\n".join([
        "route:", "  receiver: default", "  group_by: [alertname, team]", "  routes:", *routes,
        "inhibit_rules:", "  - source_matchers: ['severity=\"critical\"']",
        "    target_matchers: ['severity=\"warning\"']", "    equal: [team]",
        *receivers]) + "\n")
    return root


def timed(old: Path, new: Path, repeat: int) -> tuple[float, int]:
    seconds, found = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        found = len(diff(Side.load(old), Side.load(new)))
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds), found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    stacks = ROOT / "stack"
    cases = [("seed-001-routing → reference", stacks / "seed-001-routing", stacks / "reference"),
             ("reference → reference", stacks / "reference", stacks / "reference")]
    with tempfile.TemporaryDirectory(prefix="alertdrill-bench-diff-") as tmp:
        old = many_routes(Path(tmp) / "old", args.teams, changed=False)
        new = many_routes(Path(tmp) / "new", args.teams, changed=True)
        cases.append((f"{args.teams} routes, 2 edits", old, new))
        for name, a, b in cases:
            seconds, found = timed(a, b, args.repeat)
            print(f"{name:34s} {seconds:6.3f} s  {found} changes", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
