"""Steps about silences, made the way the on-call guide (seed 002) says: who, why, how long."""

from __future__ import annotations

import pytest
from pytest_bdd import then, when

from alertdrill.durations import parse_human
from alertdrill.engine.drill import Drill
from alertdrill.engine.stepsyntax import parse_labels
from alertdrill.errors import StepError

from .patterns import DURATION, quoted, rx


@when(rx(rf"a silence for (?P<labels>.+?) is created by {quoted('author')} for {DURATION} "
         rf"with comment {quoted('comment')}"))
def silence_created(drill: Drill, labels: str, author: str, duration: str, comment: str) -> None:
    """Create a silence (real-world length, scaled) with author and comment; an action.

    Example: When a silence for alertname="CacheMissesHigh" is created by "ana" for 15 minutes with comment "INC-42"
    """
    drill.create_silence(parse_labels(labels), parse_human(duration), author, comment)


@when(rx(r"the silence for (?P<labels>.+) is removed"))
def silence_removed(drill: Drill, labels: str) -> None:
    """Expire the silence this scenario created for these matchers; an action.

    Example: When the silence for alertname="CacheMissesHigh" is removed
    """
    drill.remove_silence(parse_labels(labels))


@then(rx(rf"a silence for (?P<labels>.+?) by {quoted('author')} for {DURATION} without a "
         r"comment is refused"))
def silence_refused(drill: Drill, labels: str, author: str, duration: str) -> None:
    """The harness refuses a silence without a comment, as the on-call guide forbids it.

    Example: Then a silence for alertname="CacheMissesHigh" by "bob" for 15 minutes without a comment is refused
    """
    with pytest.raises(StepError, match="without a comment"):
        drill.create_silence(parse_labels(labels), parse_human(duration), author, "")
    assert not drill.silences, "no silence may have been created"
