"""Steps about the time of day Alertmanager's time intervals see (alertdrill.engine.timeofday)."""

from __future__ import annotations

from pytest_bdd import given

from alertdrill.engine.drill import Drill
from alertdrill.engine.timeofday import parse_moment

from .patterns import rx


@given(rx(r"it is (?P<moment>(?:[A-Za-z]+ )?(?:\d{4}-\d{2}-\d{2} )?\d{1,2}:\d{2}(?: in \S+)?)"))
def it_is(drill: Drill, moment: str) -> None:
    """Alertmanager's time intervals see this moment now, for the rest of the scenario.

    A weekday or a date, a time, a zone. Every time interval of the running alertmanager.yml
    is rewritten and reloaded; from then on intervals run in real time, unscaled.

    Example: Given it is Saturday 03:00 in Europe/Berlin
    """
    drill.set_time_of_day(parse_moment(moment))
