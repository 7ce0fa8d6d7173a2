"""Steps about the scenario clock: let time pass, or act at a scenario time."""

from __future__ import annotations

from pytest_bdd import when

from alertdrill.drill import Drill
from alertdrill.durations import parse_human

from .patterns import DURATION, rx


@when(rx(rf"{DURATION} pass(?:es)?"))
def time_passes(drill: Drill, duration: str) -> None:
    """Let a real-world duration pass (scaled); not an anchor: later claims still count from the
    latest action.

    Example: When 2 minutes pass
    """
    drill.wait(parse_human(duration))


@when(rx(rf"the scenario clock reaches {DURATION}"))
def clock_reaches(drill: Drill, duration: str) -> None:
    """Wait until the real-world time since the stack became usable (t=0) is reached, so that
    the next action lands at that time (e.g. between two group ticks); refused when past.

    Example: When the scenario clock reaches 2 minutes
    """
    drill.wait_until(parse_human(duration))
