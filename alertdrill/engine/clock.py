"""The scenario clock: waiting a real-world duration, or until a real-world scenario time
(``When 2 minutes pass``, ``When the scenario clock reaches 5 minutes``, ``When at 5 minutes,
<step>``).

A scenario's t=0 is the moment its stack became usable (``Timeline.rebase``); "at 5 minutes"
is 5 real-world minutes after it, i.e. ``5 × 60 / K`` measured seconds. Placing an action at a
time (rather than right after a claim, whose end depends on when the claimed thing happened)
is what lets a scenario put it between two group ticks.

A wait is not an anchor: claims after it still count from the latest action, so "when 2
minutes pass, then … within 3 minutes" means within 3 minutes of that action (README › Time
scaling). A time the scenario has already passed by more than the tolerance is refused: the
action would not be where the scenario says it is.
"""

from __future__ import annotations

import time

from alertdrill.durations import format_duration
from alertdrill.engine import timeline as tl
from alertdrill.engine.timescale import TimeScale
from alertdrill.errors import StepError


def wait_for(timeline: tl.Timeline, scale: TimeScale, real_seconds: float) -> float:
    """Let ``real_seconds`` of the modelled world pass (scaled); returns the measured wait."""
    if real_seconds <= 0:
        raise StepError(f"cannot wait {format_duration(real_seconds)}", "wait a positive duration")
    measured = scale.measured(real_seconds)
    timeline.add(tl.ACTION, "clock", note=f"waiting {format_duration(real_seconds)} "
                                          f"({measured:.3f} s measured)")
    time.sleep(measured)
    return measured


def wait_until(timeline: tl.Timeline, scale: TimeScale, real_seconds: float,
               tolerance: float) -> float:
    """Block until the scenario clock reaches ``real_seconds`` (real-world, from t=0).

    Returns the measured seconds waited. A time already past by more than ``tolerance``
    (measured seconds) is a StepError naming where the clock is.
    """
    target = scale.measured(real_seconds)
    now = timeline.now()
    if now > target + tolerance:
        raise StepError(
            f"the scenario clock is already at {format_duration(scale.real(now))} "
            f"({now:.3f} s measured), past {format_duration(real_seconds)} "
            f"({target:.3f} s measured, tolerance {tolerance:g} s)",
            "place the action at a later time, or wait a duration instead: When 2 minutes pass")
    waited = max(0.0, target - now)
    timeline.add(tl.ACTION, "clock", note=f"waiting until {format_duration(real_seconds)} "
                                          f"(t={target:.3f} s measured)")
    if waited:
        time.sleep(waited)
    return waited
