"""A stack's own ``promtool test rules`` files as a claim of the drill.

Why a drill runs unit tests at all: a threshold, a ``for:`` or a label is pinned best by
promtool's simulated series — a value just under the threshold, a blip shorter than ``for:`` —
which a real fault cannot produce to the decimal in a few seconds of scaled time. The end-to-end
scenarios prove what promtool cannot see (scrapes, routing, inhibition, delivery by a real
cluster). Run as a step, the unit tests are part of the suite that ``alertdrill mutate`` scores,
and of the drill report; no process of the stack is started for them.

Which files: the manifest's ``rule_tests:`` (globs relative to the stack directory), else every
``*.test.yml`` under the stack directory. Each runs from its own directory, so the
``rule_files`` it names resolve as promtool resolves them — in a mutant's copy, to the mutated
rules. Nothing is time-scaled: promtool's clock is simulated.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from alertdrill.backends.binaries import find_binary
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import StepError

#: How long one promtool run may take (the reference stack's six files: well under 1 s each).
_TIMEOUT = 120


@dataclass(frozen=True)
class RuleTestRun:
    """One test file's verdict, in promtool's words."""

    file: Path
    passed: bool
    output: str


def rule_test_files(spec: StackSpec) -> tuple[Path, ...]:
    """The manifest's ``rule_tests:`` files, else every ``*.test.yml`` under the stack."""
    if spec.rule_tests is not None:
        return spec.rule_tests
    return tuple(sorted(spec.root.rglob("*.test.yml")))


def run_rule_tests(spec: StackSpec) -> list[RuleTestRun]:
    """Run every rule test file of the stack; a stack without any is a StepError (a claim
    over no tests would hold whatever the rules say)."""
    files = rule_test_files(spec)
    if not files:
        raise StepError(
            f"the stack {spec.root} has no rule unit tests (no *.test.yml under it)",
            "write promtool test files (see `promtool test rules --help`), or list them in "
            "alertdrill.yml as rule_tests: [prometheus/tests/*.test.yml]")
    promtool = find_binary("promtool")
    runs = []
    for file in files:
        done = subprocess.run([promtool, "test", "rules", file.name], cwd=file.parent,
                              capture_output=True, text=True, timeout=_TIMEOUT, check=False)
        runs.append(RuleTestRun(file, done.returncode == 0,
                                (done.stdout + done.stderr).strip()))
    return runs


def failures(spec: StackSpec, runs: list[RuleTestRun]) -> str | None:
    """The claim's failure message (None when every file passed): each failing file with
    promtool's own account of which alert, at which eval_time, differed."""
    failed = [r for r in runs if not r.passed]
    if not failed:
        return None
    parts = [f"{len(failed)} of {len(runs)} rule test files fail under promtool test rules:"]
    for run in failed:
        parts.append(f"--- {run.file.relative_to(spec.root)}\n{run.output}")
    return "\n".join(parts)
