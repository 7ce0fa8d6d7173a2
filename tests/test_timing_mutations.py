"""The scenarios of issue 14's timing items (scenario clock, silences, live config changes,
time of day) fail when the thing they check is broken.

Like tests/test_mutations.py: each mutant is a copy of a bundled stack with one small change,
run with the scenario that covers it (ALERTDRILL_STACK_DIRS puts the copy first); the run must
fail, at the step that states the broken expectation.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_pytest

pytestmark = pytest.mark.slow

AM = "alertmanager/alertmanager.yml"


@dataclass(frozen=True)
class Mutant:
    name: str
    stack: str
    file: str
    before: str
    after: str
    scenarios: str  # -k expression selecting the scenarios that must catch it
    failing_step: str  # the step the failure must name


MUTANTS = [
    Mutant("the operations group ticks every minute, not every 5", "reference", AM,
           "      receiver: ops-team\n      group_by: [alertname, instance]\n",
           "      receiver: ops-team\n      group_by: [alertname, instance]\n"
           "      group_interval: 1m\n",
           "joining", 'with labels mountpoint=/logs between 3 and 4 minutes'),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_the_scenario_catches(mutant: Mutant, tmp_path: Path) -> None:
    stack = tmp_path / mutant.stack
    shutil.copytree(ROOT / "stack" / mutant.stack, stack)
    target = stack / mutant.file
    text = target.read_text()
    assert text.count(mutant.before) == 1, f"mutation site not unique in {mutant.file}"
    target.write_text(text.replace(mutant.before, mutant.after))
    result = run_pytest(["features", "-p", "no:xdist", "-k", mutant.scenarios, "-x", "-q"],
                        env={"ALERTDRILL_STACK_DIRS": str(tmp_path)}, timeout=300)
    output = result.stdout + result.stderr
    assert " passed" in output or " failed" in output, output[-2000:]
    assert result.returncode == 1, f"the scenario did not catch '{mutant.name}':\n{output[-3000:]}"
    failed_step = next((ln for ln in output.splitlines() if ln.startswith("step: ")), "")
    assert mutant.failing_step in failed_step, (
        f"'{mutant.name}' was caught, but not by the expected step:\n{output[-3000:]}")
