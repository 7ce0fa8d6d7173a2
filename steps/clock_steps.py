"""Steps about the scenario clock: let time pass, or act at a scenario time."""

from __future__ import annotations

from typing import Any

from pytest_bdd import when

from alertdrill.durations import parse_human
from alertdrill.engine.drill import Drill
from alertdrill.engine.nesting import nests, run_step

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


@when(rx(rf"[Aa]t {DURATION}, (?P<action>.+)"))
@nests("action")
def at_time(drill: Drill, request: Any, duration: str, action: str) -> None:
    """At that scenario time (real-world, from t=0), run any When-step; refused when past.

    The same wait as "the scenario clock reaches", then the carried step, which is checked
    before the stack starts like a step of its own.

    Example: When at 2 minutes, the alert "DiskFull" is pushed to Alertmanager with labels severity=warning
    """
    drill.wait_until(parse_human(duration))
    run_step(request, action, 0)
