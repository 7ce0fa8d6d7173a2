"""A stack's promtool rule unit tests as a claim: which files, and what a failure says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from alertdrill.engine.ruletests import failures, rule_test_files, run_rule_tests
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError, StepError
from tests.helpers import ROOT

pytestmark = pytest.mark.skipif(shutil.which("promtool") is None,
                                reason="promtool (Debian package prometheus) is not installed")


def test_the_reference_stacks_files_are_found_and_pass() -> None:
    spec = StackSpec.load(ROOT / "stack" / "reference")
    assert [f.name for f in rule_test_files(spec)] == sorted(
        f.name for f in (ROOT / "stack/reference/prometheus/tests").glob("*.test.yml"))
    runs = run_rule_tests(spec)
    assert all(r.passed for r in runs) and failures(spec, runs) is None


def test_a_broken_rule_fails_with_promtools_words(tmp_path: Path) -> None:
    stack = tmp_path / "reference"
    shutil.copytree(ROOT / "stack" / "reference", stack)
    rules = stack / "prometheus/rules/web-app.yml"
    rules.write_text(rules.read_text().replace("expr: up{job=\"web-app\"} == 0\n        for: 1m",
                                               "expr: up{job=\"web-app\"} == 0\n        for: 9m"))
    spec = StackSpec.load(stack)
    message = failures(spec, run_rule_tests(spec))
    assert message is not None
    assert message.startswith("1 of 6 rule test files fail under promtool test rules:")
    assert "prometheus/tests/web-app.test.yml" in message and "WebAppDown" in message


def test_a_stack_without_tests_is_refused_not_passed() -> None:
    spec = StackSpec.load(ROOT / "stack" / "sample")
    assert rule_test_files(spec) == ()
    with pytest.raises(StepError, match="has no rule unit tests"):
        run_rule_tests(spec)


def test_the_manifest_names_the_files_and_a_glob_must_match(tmp_path: Path) -> None:
    stack = tmp_path / "reference"
    shutil.copytree(ROOT / "stack" / "reference", stack)
    manifest = stack / "alertdrill.yml"
    base = manifest.read_text()
    manifest.write_text(base + "rule_tests: [prometheus/tests/web-app.test.yml]\n")
    assert [f.name for f in rule_test_files(StackSpec.load(stack))] == ["web-app.test.yml"]
    manifest.write_text(base + "rule_tests: [tests/*.test.yml]\n")
    with pytest.raises(ConfigError, match=r"rule_tests entry 'tests/\*.test.yml' matches no file"):
        StackSpec.load(stack)
