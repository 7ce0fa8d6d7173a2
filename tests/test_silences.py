"""Silence matchers: parsed as Alertmanager reads them, refused before start when malformed."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alertdrill.engine.argcheck import syntax_problems
from alertdrill.engine.claimnames import ParsedStep
from alertdrill.engine.silences import Matcher, parse_matchers, silence_key, silence_window
from alertdrill.errors import StepError
from tests.helpers import ROOT, run_pytest


def test_each_operator_maps_to_the_apis_is_regex_and_is_equal() -> None:
    found = parse_matchers('alertname=~"Cache.*", severity!="info", team=web, job!~"a|b"')
    assert [m.to_api() for m in found] == [
        {"name": "alertname", "value": "Cache.*", "isRegex": True, "isEqual": True},
        {"name": "severity", "value": "info", "isRegex": False, "isEqual": False},
        {"name": "team", "value": "web", "isRegex": False, "isEqual": True},
        {"name": "job", "value": "a|b", "isRegex": True, "isEqual": False},
    ]


def test_a_quoted_value_may_hold_commas_and_spaces() -> None:
    assert parse_matchers('summary="a, b c"') == [Matcher("summary", "=", "a, b c")]


@pytest.mark.parametrize(("matcher", "value", "expected"), [
    (Matcher("a", "=~", ".+"), "x", True),
    (Matcher("a", "=~", ".+"), "", False),
    (Matcher("a", "=~", "Cache"), "CacheMisses", False),  # anchored, as Alertmanager does
    (Matcher("a", "!=", "info"), "", True),  # an absent label is the empty string
    (Matcher("a", "!~", "in.*"), "info", False),
    (Matcher("a", "!~", "in.*"), "warning", True),
])
def test_matching_is_anchored_and_absent_is_empty(matcher: Matcher, value: str,
                                                  expected: bool) -> None:
    assert matcher.matches(value) is expected


@pytest.mark.parametrize(("text", "why"), [
    ('severity!!="info"', "cannot read the matcher"),
    ('alertname=~"(unclosed"', "invalid regex"),
    ('alertname=~".*"', "match the empty string"),
    ('severity!="info"', "match the empty string"),
    ('alertname="a", alertname="b"', "matched twice"),
    ("", "at least one matcher"),
    ('alert name="x"', "cannot read the matcher"),
])
def test_malformed_matchers_are_refused_saying_why(text: str, why: str) -> None:
    with pytest.raises(StepError, match=why):
        parse_matchers(text)


def test_the_key_does_not_depend_on_order_or_quoting() -> None:
    assert silence_key(parse_matchers('b!="x", a=y')) == silence_key(parse_matchers('a="y", b!=x'))


def test_a_future_silence_starts_later_and_lasts_its_length() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    starts, ends = silence_window(now, 5.0, 15.0)
    assert (starts - now, ends - starts) == (timedelta(seconds=5), timedelta(seconds=15))
    with pytest.raises(StepError):
        silence_window(now, -1.0, 15.0)


def test_syntax_problems_name_the_step_and_line() -> None:
    steps = [ParsedStep('When a silence for severity!!=x is …', 7, {"matchers": "severity!!=x"}),
             ParsedStep("When fine", 8, {"matchers": 'alertname="X"'})]
    assert syntax_problems(steps) == [
        "line 7 ‹When a silence for severity!!=x is …›: cannot read the matcher 'severity!!=x' "
        "in 'severity!!=x' (write matchers as name OP value separated by commas, OP one of = != "
        '=~ !~, e.g. alertname=~"Cache.*", severity!="info")']


def _feature(tmp_path: Path, step: str) -> Path:
    (tmp_path / "f.feature").write_text(
        "Feature: silences\n  Scenario: bad matcher\n    Given the stack \"sample\" is running\n"
        f"    {step}\n")
    return tmp_path


@pytest.mark.slow
def test_a_malformed_matcher_refuses_the_scenario_before_any_process_starts(
        tmp_path: Path) -> None:
    _feature(tmp_path, 'When a silence for severity!!="info" is created by "ana" for 15 minutes '
                       'with comment "x"')
    (tmp_path / "test_f.py").write_text(
        f"from pytest_bdd import scenarios\nscenarios({str(tmp_path / 'f.feature')!r})\n")
    work = tmp_path / "tmp"
    work.mkdir()
    started = time.monotonic()
    result = run_pytest([str(tmp_path / "test_f.py"), "-p", "no:xdist", "--rootdir", str(ROOT),
                         "-c", str(ROOT / "pyproject.toml")], env={"ALERTDRILL_TMPDIR": str(work)})
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "cannot read the matcher 'severity!!=\"info\"'" in out, out
    assert list(work.iterdir()) == []  # no stack was started
    assert time.monotonic() - started < 5.0  # tolerance: far below one stack's start-up


def test_check_features_names_a_malformed_matcher(tmp_path: Path) -> None:
    _feature(tmp_path, 'When a silence for alertname=~".*" is created by "ana" for 15 minutes '
                       'with comment "x"')
    result = subprocess.run([sys.executable, "-m", "alertdrill.cli", "check", "--features",
                             str(tmp_path)], capture_output=True, text=True, check=False,
                            timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "match the empty string" in result.stdout
