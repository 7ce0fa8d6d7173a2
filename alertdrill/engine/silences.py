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
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests

from alertdrill.engine import timeline as tl
from alertdrill.engine.stepsyntax import split_commas
from alertdrill.errors import StepError

if TYPE_CHECKING:
    from alertdrill.engine.observe import AlertmanagerAPI
    from alertdrill.engine.timeline import Timeline
    from alertdrill.engine.timescale import TimeScale

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


def _matcher_labels(matchers: list[Matcher]) -> dict[str, str]:
    """A silence's matchers as timeline labels: an equality's value, else operator and value."""
    return {m.name: m.value if m.op == "=" else f"{m.op}{m.value}" for m in matchers}


class SilenceBook:
    """The silences a scenario makes on the cluster, by their matchers, on its timeline."""

    def __init__(self, apis: list[AlertmanagerAPI], timeline: Timeline, scale: TimeScale) -> None:
        self.apis = apis
        self.timeline = timeline
        self.scale = scale
        #: silence_key(matchers) → the silence's id.
        self.ids: dict[str, str] = {}

    def create(self, matchers: list[Matcher], duration_real: float, created_by: str,
               comment: str, starts_in_real: float = 0.0) -> str:
        """A silence as the on-call guide demands it: an author, a comment, a bounded length.

        The length and the delay before it starts are real-world (scaled like every other
        duration); the guide forbids silences without a comment, so the harness refuses them.
        A peer that refuses it (a 4xx/5xx answer) fails the step with Alertmanager's message:
        every peer would say the same; one that does not answer is skipped for the next.
        """
        if not comment.strip():
            raise StepError("a silence without a comment is refused",
                            "the on-call guide requires every silence to say why (and who): add "
                            'with comment "…"')
        if not created_by.strip():
            raise StepError("a silence without an author is refused", 'add by "name"')
        if not matchers:
            raise StepError("a silence needs at least one matcher", 'e.g. alertname="X"')
        starts, ends = silence_window(datetime.now(UTC), self.scale.measured(starts_in_real),
                                      self.scale.measured(duration_real))
        last_error: Exception | None = None
        for api in self.apis:
            try:
                silence_id = api.create_silence([m.to_api() for m in matchers],
                                                starts.isoformat(), ends.isoformat(),
                                                created_by, comment)
            except requests.HTTPError as exc:
                body = exc.response.text.strip() if exc.response is not None else ""
                raise StepError(f"Alertmanager refused the silence {silence_key(matchers)}: "
                                f"{body or exc}") from None
            except requests.RequestException as exc:
                last_error = exc
                continue
            self.ids[silence_key(matchers)] = silence_id
            later = (f", starting in {self.scale.measured(starts_in_real):.3f} s measured"
                     if starts_in_real else "")
            self.timeline.add(tl.ACTION, "silence", _matcher_labels(matchers), anchor=True,
                              silence_id=silence_id, created_by=created_by, comment=comment,
                              matchers=silence_key(matchers),
                              note=f"silence {silence_id[:8]} by {created_by}: {comment}{later}")
            return silence_id
        raise StepError(f"no Alertmanager peer accepted the silence: {last_error}")

    def remove(self, matchers: list[Matcher]) -> None:
        """Expire the silence this scenario created for exactly these matchers."""
        silence_id = self.ids.pop(silence_key(matchers), None)
        if silence_id is None:
            raise StepError("this scenario created no silence with these matchers",
                            f"silences created: {sorted(self.ids) or 'none'}")
        for api in self.apis:
            try:
                api.expire_silence(silence_id)
                break
            except requests.RequestException:
                continue
        self.timeline.add(tl.ACTION, "silence", _matcher_labels(matchers), anchor=True,
                          note=f"silence {silence_id[:8]} removed")
