"""Steps about the scenario clock: let time pass, or act at a scenario time."""

from __future__ import annotations

from pytest_bdd import when

from alertdrill.drill import Drill
from alertdrill.durations import parse_human

from .patterns import DURATION, rx


@when(rx(rf"{DURATION} pass(?:es)?"))
def time_passes(drill: Drill, duration: str) -> None:
    """Let a real-world duration pass (scaled); not an anchor.

    Claims after it still count from the latest action.

    Example: When 2 minutes pass
    """
    drill.wait(parse_human(duration))


@when(rx(rf"the scenario clock reaches {DURATION}"))
def clock_reaches(drill: Drill, duration: str) -> None:
    """Wait until the scenario clock (real-world time since t=0) reads this; refused when past.

    t=0 is the moment the stack became usable; the next action lands at that time (e.g.
    between two group ticks). A time already passed by more than the tolerance is refused.

    Example: When the scenario clock reaches 2 minutes
    """
    drill.wait_until(parse_human(duration))
