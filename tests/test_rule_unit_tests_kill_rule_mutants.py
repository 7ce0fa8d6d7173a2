"""The reference stack's promtool rule tests kill every one-line mutant of its rule files.

Each rule mutant of ``alertdrill mutate`` (threshold moved ×10 and ÷10, ``for`` lengthened ×5
or removed, severity/team changed or misspelt, rule deleted) is applied to a copy of
``prometheus/`` and the test files that load the mutated rule file are run: a mutant
``promtool check rules`` rejects is invalid (counted apart); every other one must make
``promtool test rules`` fail.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from alertdrill.backends.binaries import find_binary
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import MissingBinaryError
from alertdrill.mutate.model import Mutant
from alertdrill.mutate.operators import generate, parse_operators
from alertdrill.yamlio import load_yaml
from tests.helpers import ROOT

REFERENCE = ROOT / "stack" / "reference"
PROMETHEUS = REFERENCE / "prometheus"
#: Survivors no series can tell from the original rule, mutant id (stable: the generator numbers
#: every mutant of the stack in a fixed order) → why. Empty: every rule mutant of the reference
#: stack is distinguishable, and killed.
ALLOWED_SURVIVORS: dict[str, str] = {}
#: promtool runs at once (the machine runs timing-sensitive work beside the tests).
WORKERS = 2


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    #: "killed", "survived" or "invalid".
    outcome: str
    output: str = ""


def _promtool() -> str:
    try:
        return find_binary("promtool")
    except MissingBinaryError:
        pytest.skip("promtool (Debian package prometheus) is not installed")


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def _tests_of(prometheus: Path) -> dict[str, list[str]]:
    """Rule file name → the test files (names in tests/) that load it."""
    found: dict[str, list[str]] = {}
    for test_file in sorted((prometheus / "tests").glob("*.test.yml")):
        for rule_file in load_yaml(test_file, test_file.name).get("rule_files") or []:
            found.setdefault(Path(rule_file).name, []).append(test_file.name)
    return found


def _copy(dest: Path) -> Path:
    """A copy of the reference stack's rules and their tests, laid out as in the stack."""
    for part in ("rules", "tests"):
        shutil.copytree(PROMETHEUS / part, dest / "prometheus" / part)
    return dest / "prometheus"


def _rule_mutants() -> list[Mutant]:
    spec = StackSpec.load(REFERENCE)
    return [m for m in generate(spec, parse_operators(None)) if m.site.scope == "rule"]


def _judge(promtool: str, mutant: Mutant, workdir: Path, tests_of: dict[str, list[str]]) -> Verdict:
    prometheus = _copy(workdir)
    target = workdir / mutant.file
    assert target.is_relative_to(prometheus / "rules"), f"{mutant.id}: {mutant.file} is no rule file"
    target.write_text(mutant.after, encoding="utf-8")
    check = _run(promtool, "check", "rules", str(target), cwd=workdir)
    if check.returncode != 0:
        return Verdict(mutant, "invalid", check.stdout + check.stderr)
    test_files = tests_of.get(target.name)
    assert test_files, f"no test file loads {target.name}"
    result = _run(promtool, "test", "rules", *test_files, cwd=prometheus / "tests")
    return Verdict(mutant, "killed" if result.returncode != 0 else "survived",
                   result.stdout + result.stderr)


def test_the_unmutated_rule_tests_pass(tmp_path: Path) -> None:
    """Without this, a broken test file would "kill" every mutant."""
    promtool = _promtool()
    prometheus = _copy(tmp_path)
    test_files = sorted(p.name for p in (prometheus / "tests").glob("*.test.yml"))
    result = _run(promtool, "test", "rules", *test_files, cwd=prometheus / "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_valid_rule_mutant_is_killed(tmp_path: Path) -> None:
    promtool = _promtool()
    mutants = _rule_mutants()
    assert mutants, "the generator made no rule mutants of the reference stack"
    tests_of = _tests_of(PROMETHEUS)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        verdicts = list(pool.map(lambda m: _judge(promtool, m, tmp_path / m.id, tests_of), mutants))
    survivors = [v for v in verdicts
                 if v.outcome == "survived" and v.mutant.id not in ALLOWED_SURVIVORS]
    invalid = [v for v in verdicts if v.outcome == "invalid"]
    killed = sum(v.outcome == "killed" for v in verdicts)
    summary = (f"{len(mutants)} rule mutants: {len(mutants) - len(invalid)} valid, {killed} killed, "
               f"{len(invalid)} invalid")
    assert not survivors, summary + f"; {len(survivors)} survived:\n\n" + "\n".join(
        f"{v.mutant.id} {v.mutant.operator} {v.mutant.file}: {v.mutant.description}\n{v.mutant.diff}"
        for v in survivors)
    stale = set(ALLOWED_SURVIVORS) - {v.mutant.id for v in verdicts if v.outcome == "survived"}
    assert not stale, f"allow-listed survivors now killed (drop them): {sorted(stale)}"
