from __future__ import annotations

import pytest

from alertdrill.durations import format_duration, human, parse_duration, parse_human
from alertdrill.errors import StepError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("250ms", 0.25), ("1m30s", 90), ("5m", 300), ("0s", 0), ("1h", 3600), ("2d", 172800),
     ("1w", 604800), ("1y", 31536000), ("1h1ms", 3600.001)],
)
def test_prometheus_durations_round_trip(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "5", "1.5m", "m", "5 m", "1s1m", "-1s"])
def test_invalid_prometheus_durations_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_format_is_the_shortest_exact_form() -> None:
    assert format_duration(90) == "1m30s"
    assert format_duration(0.25) == "250ms"
    assert format_duration(0) == "0s"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2 minutes", 120), ("1 minute", 60), ("500 ms", 0.5), ("1.5 s", 1.5), ("3 seconds", 3),
     ("1 hour", 3600), ("2 days", 172800)],
)
def test_step_durations(text: str, seconds: float) -> None:
    assert parse_human(text) == pytest.approx(seconds)


def test_step_duration_errors_say_how_to_write_one() -> None:
    with pytest.raises(StepError, match=r"e\.g\. .30 seconds."):
        parse_human("soon")
    with pytest.raises(StepError):
        parse_human("5 parsecs")


def test_human_rendering() -> None:
    assert human(0.35) == "0.35 s"
    assert human(125) == "2 min 5 s"
    assert human(5400) == "1 h 30 min"
