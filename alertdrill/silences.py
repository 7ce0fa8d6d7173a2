"""Silence matchers as Alertmanager's silences API takes them, and the silences a scenario makes.

A silence matches with ``=``, ``!=``, ``=~`` and ``!~`` (API: ``isRegex`` and ``isEqual``);
regexes are anchored by Alertmanager (``.+`` means the whole value). The text a step writes —
``alertname=~"Cache.*", severity!="info"`` — is parsed here once, before the scenario's stack
starts (stepsyntax.syntax_problems), so a malformed matcher is refused at once, not after a
stack came up. Two rules of Alertmanager's own are checked here too, because its refusal would
otherwise come only mid-scenario: a regex must compile, and at least one matcher must not
match the empty string (a silence that matches every alert is refused by Alertmanager).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alertdrill.errors import StepError
from alertdrill.stepsyntax import split_commas

#: Operator → (isRegex, isEqual) in the silences API.
OPERATORS: dict[str, tuple[bool, bool]] = {
    "=": (False, True), "!=": (False, False), "=~": (True, True), "!~": (True, False)}
_MATCHER_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("([^"]*)"|[^,\s"]+)\s*')
_HINT = ('write matchers as name OP value separated by commas, OP one of = != =~ !~, e.g. '
         'alertname=~"Cache.*", severity!="info"')


@dataclass(frozen=True)
class Matcher:
    """One silence matcher: ``name``, operator ``op`` and ``value`` (a regex for ``=~``/``!~``)."""

    name: str
    op: str
    value: str

    @property
    def is_regex(self) -> bool:
        """The API's ``isRegex``."""
        return OPERATORS[self.op][0]

    @property
    def is_equal(self) -> bool:
        """The API's ``isEqual`` (False: a negative matcher)."""
        return OPERATORS[self.op][1]

    def matches(self, value: str) -> bool:
        """Whether a label value (``""`` when absent) is matched, as Alertmanager decides it."""
        hit = re.fullmatch(self.value, value) is not None if self.is_regex else self.value == value
        return hit == self.is_equal

    def to_api(self) -> dict[str, Any]:
        """The matcher as ``POST /api/v2/silences`` takes it."""
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex,
                "isEqual": self.is_equal}

    def text(self) -> str:
        """As a step writes it."""
        return f'{self.name}{self.op}"{self.value}"'


def parse_matchers(text: str) -> list[Matcher]:
    """``alertname=~".+", severity!=info`` → matchers; StepError on anything malformed."""
    matchers: list[Matcher] = []
    for part in split_commas(text):
        match = _MATCHER_RE.fullmatch(part)
        if not match:
            raise StepError(f"cannot read the matcher {part.strip()!r} in {text!r}", _HINT)
        quoted = match.group(4)
        value = quoted if quoted is not None else match.group(3)
        matcher = Matcher(match.group(1), match.group(2), value)
        if matcher.is_regex:
            try:
                re.compile(value)
            except re.error as exc:
                raise StepError(f"the matcher {matcher.text()} has an invalid regex: {exc}",
                                "Alertmanager anchors silence regexes: .+ matches any "
                                "non-empty value") from None
        if any(m.name == matcher.name and m.op == matcher.op for m in matchers):
            raise StepError(f"the label {matcher.name!r} is matched twice with {matcher.op}",
                            "combine the values in one regex: name=~\"a|b\"")
        matchers.append(matcher)
    if not matchers:
        raise StepError("a silence needs at least one matcher", 'e.g. alertname="X"')
    if all(m.matches("") for m in matchers):
        raise StepError(
            f"the matchers {text!r} all match the empty string, so the silence would match "
            "every alert; Alertmanager refuses such a silence",
            'add a matcher that needs a value, e.g. alertname=~".+"')
    return matchers


def silence_key(matchers: list[Matcher]) -> str:
    """How a scenario names a silence it made (to remove it): its matchers, sorted."""
    return ", ".join(sorted(m.text() for m in matchers))


def silence_window(now: datetime, starts_in: float, lasts: float) -> tuple[datetime, datetime]:
    """(startsAt, endsAt) of a silence starting ``starts_in`` measured seconds from ``now``."""
    if starts_in < 0 or lasts <= 0:
        raise StepError(f"a silence cannot start in {starts_in:g} s and last {lasts:g} s",
                        "a silence lasts a positive time and starts now or later")
    starts = now + timedelta(seconds=starts_in)
    return starts, starts + timedelta(seconds=lasts)
