from __future__ import annotations

import pytest

from alertdrill.engine.stepsyntax import parse_labels, parse_names
from alertdrill.errors import StepError


def test_labels_plain_and_quoted() -> None:
    assert parse_labels('severity=critical, team="web ops", a_b=x-1') == {
        "severity": "critical", "team": "web ops", "a_b": "x-1",
    }
    assert parse_labels("") == {}
    assert parse_labels('msg="a, b"') == {"msg": "a, b"}


@pytest.mark.parametrize("bad", ["severity", "=x", "1a=b", "a=b c"])
def test_bad_labels_explain_the_syntax(bad: str) -> None:
    with pytest.raises(StepError, match="name=value"):
        parse_labels(bad)


def test_names() -> None:
    assert parse_names('"a", "b" and "c"') == ["a", "b", "c"]
    assert parse_names('"only-one"') == ["only-one"]


@pytest.mark.parametrize("bad", ["a and b", '"a" or "b"', ""])
def test_bad_names(bad: str) -> None:
    with pytest.raises(StepError):
        parse_names(bad)
