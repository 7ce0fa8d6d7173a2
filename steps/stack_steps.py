"""Given-steps that bring a stack up."""

from __future__ import annotations

from pytest_bdd import given

from alertdrill.engine.claimnames import starts_stack
from alertdrill.engine.drill import Drill
from alertdrill.engine.scenario import Stacks

from .patterns import quoted, rx


@given(rx(rf"the stack {quoted('name')} is running"), target_fixture="drill")
@starts_stack("name")
def stack_named_running(stacks: Stacks, name: str) -> Drill:
    """Start the named stack (a directory, or a name under stack/) and wait until usable.

    Example: Given the stack "sample" is running
    """
    return stacks.start(name)


@given(rx(r"the stack is running"), target_fixture="drill")
@starts_stack()
def stack_running(stacks: Stacks) -> Drill:
    """Start the stack chosen by --stack / ALERTDRILL_STACK (default: sample).

    Example: Given the stack is running
    """
    return stacks.start()
