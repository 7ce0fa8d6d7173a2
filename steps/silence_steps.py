"""Steps about silences, made the way the on-call guide (seed 002) says: who, why, how long.

Matchers are Alertmanager's: ``=``, ``!=``, ``=~`` and ``!~`` (regexes anchored), read before
the scenario's stack starts (a malformed one refuses the scenario at once).
"""

from __future__ import annotations

import pytest
from pytest_bdd import then, when

from alertdrill.durations import parse_human
from alertdrill.engine.drill import Drill
from alertdrill.engine.silences import parse_matchers
from alertdrill.errors import StepError

from .patterns import DURATION, quoted, rx

_STARTING = r"(?: starting in (?P<starts_in>\d+(?:\.\d+)?\s*[a-z]+))?"


@when(rx(rf"a silence for (?P<matchers>.+?) is created by {quoted('author')} for {DURATION}"
         rf"{_STARTING} with comment {quoted('comment')}"))
def silence_created(drill: Drill, matchers: str, author: str, duration: str,
                    starts_in: str | None, comment: str) -> None:
    """Create a silence (matchers = != =~ !~; length and start scaled) with author and comment.

    An action. "starting in" makes it start later (Alertmanager's startsAt in the future).

    Example: When a silence for alertname=~"Cache.*", severity!="info" is created by "ana" for 15 minutes starting in 5 minutes with comment "INC-42"
    """
    drill.create_silence(parse_matchers(matchers), parse_human(duration), author, comment,
                         parse_human(starts_in) if starts_in else 0.0)


@when(rx(r"the silence for (?P<matchers>.+) is removed"))
def silence_removed(drill: Drill, matchers: str) -> None:
    """Expire the silence this scenario created for these matchers; an action.

    Example: When the silence for alertname="CacheMissesHigh" is removed
    """
    drill.remove_silence(parse_matchers(matchers))


@then(rx(rf"a silence for (?P<matchers>.+?) by {quoted('author')} for {DURATION} without a "
         r"comment is refused"))
def silence_refused(drill: Drill, matchers: str, author: str, duration: str) -> None:
    """The harness refuses a silence without a comment, as the on-call guide forbids it.

    Example: Then a silence for alertname="CacheMissesHigh" by "bob" for 15 minutes without a comment is refused
    """
    with pytest.raises(StepError, match="without a comment"):
        drill.create_silence(parse_matchers(matchers), parse_human(duration), author, "")
    assert not drill.silences, "no silence may have been created"
