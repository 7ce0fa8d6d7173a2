"""Step arguments whose syntax is checked before a scenario's stack starts.

Like the name check (alertdrill.engine.claimnames), by the argument's name in the step's pattern: a
step whose pattern captures ``matchers`` gets them parsed by :func:`parse_matchers` (``moment``:
by :func:`parse_moment`) when the scenario is collected, so ``severity!!="info"`` refuses the
scenario at once instead of after a stack came up. The pytest plugin and ``alertdrill check
--features`` both call :func:`syntax_problems`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from alertdrill.engine.claimnames import ParsedStep
from alertdrill.engine.silences import parse_matchers
from alertdrill.engine.timeofday import parse_moment
from alertdrill.errors import StepError

#: Argument name → the parser that must accept it (it raises StepError).
ARGUMENT_SYNTAX: dict[str, Callable[[str], Any]] = {
    "matchers": parse_matchers,
    "moment": parse_moment,
}


def syntax_problems(steps: Sequence[ParsedStep],
                    parsers: Mapping[str, Callable[[str], Any]] | None = None) -> list[str]:
    """One line per argument its parser refuses: the step, its line, and why."""
    found = []
    for step in steps:
        for arg, parser in (parsers or ARGUMENT_SYNTAX).items():
            value = step.arguments.get(arg)
            if value is None or value == "":
                continue
            try:
                parser(str(value))
            except StepError as exc:
                hint = f" ({exc.hint})" if getattr(exc, "hint", None) else ""
                found.append(f"line {step.line} ‹{step.text}›: {exc.args[0]}{hint}")
    return found
