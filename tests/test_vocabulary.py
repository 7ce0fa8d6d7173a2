"""The vocabulary documents itself: every step has a meaning and an example that is unambiguous."""

from __future__ import annotations

import re
from pathlib import Path

from alertdrill.engine.vocabulary import loaded_steps, markdown_table, suggest

ROOT = Path(__file__).resolve().parents[1]


def _strip(example: str) -> str:
    return re.sub(r"^(Given|When|Then|And|But) ", "", example)


def test_every_step_has_a_summary_and_an_example_that_only_it_matches() -> None:
    steps = loaded_steps()
    assert len(steps) >= 12
    for step in steps:
        assert step.summary, f"{step.pattern} has no docstring"
        assert step.example, f"{step.pattern} has no 'Example:' line"
        text = _strip(step.example)
        owners = [s.pattern for s in steps if s.matches(text)]
        assert owners == [step.pattern], f"{step.example!r} matches {owners}"


def test_every_bundled_feature_step_is_defined() -> None:
    steps = loaded_steps()
    for feature in (ROOT / "features").rglob("*.feature"):
        for line in feature.read_text().splitlines():
            match = re.match(r"\s*(Given|When|Then|And|But) (.*)", line)
            if match:
                assert any(s.matches(match.group(2)) for s in steps), f"{feature.name}: {line}"


def test_readme_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- steps:begin -->\n", 1)[1].split("\n<!-- steps:end -->", 1)[0]
    assert block == markdown_table(loaded_steps()), "regenerate: alertdrill steps --markdown"


def test_suggestions_are_real_examples() -> None:
    close = suggest('the service "web" is stoped', loaded_steps())
    assert close[0] == 'When the service "web" is stopped'
