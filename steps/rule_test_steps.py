"""The stack's own promtool rule unit tests, as a claim (no process of the stack starts)."""

from __future__ import annotations

from pytest_bdd import then

from alertdrill.engine.ruletests import failures, run_rule_tests
from alertdrill.engine.scenario import Stacks
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ExpectationFailed

from .patterns import quoted, rx


def _claim(stacks: Stacks, name: str | None) -> None:
    spec = StackSpec.load(stacks.resolve(name))
    message = failures(spec, run_rule_tests(spec))
    if message:
        raise ExpectationFailed("✗ expected the stack's rule unit tests to pass; " + message)


@then(rx(rf"the rule unit tests of the stack {quoted('name')} pass"))
def rule_unit_tests_of_named_stack(stacks: Stacks, name: str) -> None:
    """Every ``promtool test rules`` file of the named stack passes (thresholds, ``for:``,
    labels pinned by simulated series); promtool's words on failure.

    Files: the manifest's ``rule_tests:`` globs, else every ``*.test.yml`` in the stack; none
    is an error, not a pass.

    Example: Then the rule unit tests of the stack "reference" pass
    """
    _claim(stacks, name)


@then(rx(r"the stack's rule unit tests pass"))
def rule_unit_tests_of_stack(stacks: Stacks) -> None:
    """Every ``promtool test rules`` file of the run's stack (--stack) passes.

    Example: Then the stack's rule unit tests pass
    """
    _claim(stacks, None)
