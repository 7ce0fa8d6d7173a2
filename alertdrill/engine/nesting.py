"""A step that carries another step: ``At 5 minutes, <any When-step text>``.

The carried text is an ordinary When-step of the vocabulary: it is found, parsed and name-
checked before the scenario's stack starts exactly as if it stood on its own line (the pytest
plugin and ``alertdrill check --features`` unfold it, see :func:`inner_step`), and it runs,
with its own fixtures, when the carrying step says (:func:`run_step`). Steps that hand a
fixture to later ones (``target_fixture``) cannot be carried: their value would have nowhere
to go.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from alertdrill.errors import StepError

F = TypeVar("F", bound=Callable[..., Any])
_NESTS = "__alertdrill_nests__"


def nests(argument: str) -> Callable[[F], F]:
    """Mark a step whose ``argument`` is the text of a When-step it runs (put it below
    ``@when``, like :func:`alertdrill.engine.claimnames.introduces`)."""

    def mark(func: F) -> F:
        setattr(func, _NESTS, argument)
        return func

    return mark


def nested_argument(func: Callable[..., Any]) -> str | None:
    """The argument of ``func`` holding a carried step's text, or None."""
    return getattr(func, _NESTS, None)


def inner_step(text: str, line: int) -> Any:
    """A pytest-bdd When-step for the carried ``text`` (at the carrying step's line)."""
    from pytest_bdd.parser import Step

    return Step(name=text.strip(), type="when", indent=0, line_number=line, keyword="When")


def run_step(request: Any, text: str, line: int) -> None:
    """Find the When-step ``text`` names, fill its arguments and fixtures, and run it."""
    from pytest_bdd.scenario import get_step_function, parse_step_arguments
    from pytest_bdd.utils import get_required_args

    step = inner_step(text, line)
    context = get_step_function(request, step)
    if context is None:
        raise StepError(f'no When-step matches "{text}"', "see README › Step vocabulary")
    if context.target_fixture is not None:
        raise StepError(f'"{text}" hands a value to later steps, so it cannot be placed at a time',
                        "write it as a step of its own")
    kwargs = parse_step_arguments(step=step, context=context)
    wanted = get_required_args(context.step_func)
    kwargs = {k: v for k, v in kwargs.items() if k in wanted}
    kwargs |= {arg: request.getfixturevalue(arg) for arg in wanted if arg not in kwargs}
    context.step_func(**kwargs)
