"""Alertmanager's label matchers and routing tree, re-implemented for static analysis.

Why a second implementation when Alertmanager has one: the lint must ask questions Alertmanager
never answers — "can *any* alert of this rule reach this route?" — over alerts whose labels are
only partly known. So matching here is available in two forms:

- concrete (:meth:`Matcher.matches`, :func:`match_routes`), exactly Alertmanager's semantics,
  which the tests pin down: matchers ``=``, ``!=``, ``=~``, ``!~``; regexes fully anchored
  (``^(?:re)$``); a missing label has the value ``""``; legacy ``match`` / ``match_re`` are the
  same matchers written as maps; a route matches when all its matchers do; its children are
  tried in order, a matching child without ``continue: true`` stops the search, and a route
  none of whose children match delivers to itself. Children inherit the receiver (not the
  matchers: an alert reaches a child only through its parent anyway).
- three-valued (:func:`match3`), over *possible* label values: a label is either a known finite
  set of values (``""`` meaning absent) or unknown (``None``, any value). The answer is YES
  (every possible alert matches), NO (none does) or MAYBE.

Regexes use Python's ``re``, which agrees with Go's RE2 on the syntax configs use; a regex that
Python cannot compile makes the matcher's answer MAYBE rather than a guess.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Possible values of one label: a finite set ("" = absent) or None (unknown: anything).
Poss = frozenset[str] | None

_MATCHER_RE = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s:.*?))\s*$")
_OPS = ("=", "!=", "=~", "!~")


class MatcherError(ValueError):
    """A matcher string Alertmanager would reject."""


class Tri(enum.Enum):
    """A three-valued answer: every possible alert, none of them, or it depends."""

    NO = 0
    MAYBE = 1
    YES = 2


@dataclass(frozen=True)
class Matcher:
    """One label matcher, e.g. ``severity="critical"`` or ``team=~"dev|ops"``."""

    name: str
    op: str
    value: str

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise MatcherError(f"unknown matcher operator {self.op!r}")

    @property
    def regex(self) -> re.Pattern[str] | None:
        """The fully anchored regex of ``=~``/``!~`` (None if Python's re cannot compile it)."""
        return _compile(self.value) if self.op in ("=~", "!~") else None

    def matches(self, value: str) -> bool:
        """Whether a label value ("" for a missing label) satisfies the matcher."""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        pattern = self.regex
        if pattern is None:
            raise MatcherError(f"cannot evaluate regex {self.value!r}")
        hit = pattern.fullmatch(value) is not None
        return hit if self.op == "=~" else not hit

    def decides(self, value: str) -> bool | None:
        """Like :meth:`matches`, but None where the regex cannot be evaluated."""
        try:
            return self.matches(value)
        except MatcherError:
            return None

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'


def _compile(value: str) -> re.Pattern[str] | None:
    try:
        return re.compile(f"(?:{value})", re.DOTALL)
    except re.error:
        return None


def parse_matchers(text: str) -> list[Matcher]:
    """Parse one ``matchers:`` entry as Alertmanager 0.25 does (braces and commas allowed)."""
    text = text.strip()
    if text.startswith("{"):
        text = text[1:]
    if text.endswith("}"):
        text = text[:-1]
    return [parse_matcher(part) for part in _split_outside_quotes(text) if part.strip()]


def parse_matcher(text: str) -> Matcher:
    """Parse ``name op value``, where value is bare or a double-quoted string with escapes."""
    found = _MATCHER_RE.match(text)
    if not found:
        raise MatcherError(f"bad matcher format: {text!r}")
    name, op, raw = found.groups()
    return Matcher(name, op, _unquote(raw))


def _split_outside_quotes(text: str) -> Iterator[str]:
    start, quoted, escaped = 0, False, False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            yield text[start:i]
            start = i + 1
    yield text[start:]


def _unquote(raw: str) -> str:
    quoted = raw.startswith('"')
    if quoted:
        if len(raw) < 2 or not raw.endswith('"'):
            raise MatcherError(f"matcher value {raw!r} lacks its closing quote")
        raw = raw[1:-1]
    out: list[str] = []
    chars = iter(raw)
    for char in chars:
        if char == "\\":
            nxt = next(chars, None)
            if nxt is None:
                out.append("\\")
            elif nxt == "n":
                out.append("\n")
            elif nxt in '"\\':
                out.append(nxt)
            else:
                out.append("\\" + nxt)
        elif char == '"':
            raise MatcherError(f"matcher value {raw!r} contains an unescaped double quote")
        else:
            out.append(char)
    return "".join(out)


def matchers_from_config(section: Mapping[str, Any], prefix: str = "") -> list[Matcher]:
    """Every matcher of a route (``prefix=""``) or an inhibit side (``"source_"``/``"target_"``).

    Reads ``<prefix>matchers`` and the deprecated ``<prefix>match`` / ``<prefix>match_re``
    maps; together they are ANDed, as Alertmanager does.
    """
    matchers: list[Matcher] = []
    for line in section.get(f"{prefix}matchers") or []:
        matchers.extend(parse_matchers(str(line)))
    for name, value in (section.get(f"{prefix}match") or {}).items():
        matchers.append(Matcher(str(name), "=", _scalar(value)))
    for name, value in (section.get(f"{prefix}match_re") or {}).items():
        matchers.append(Matcher(str(name), "=~", _scalar(value)))
    return matchers


def _scalar(value: object) -> str:
    """YAML gives ``true`` or ``5`` as bool/int; Alertmanager reads them as their text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# --- three-valued matching -------------------------------------------------------------------

_MATCHES_ANYTHING = {".*", "(.*)", "(?:.*)", "^.*$"}


def match3(matcher: Matcher, poss: Poss) -> Tri:
    """Does the matcher hold for a label whose possible values are ``poss``?"""
    if poss is None:
        if matcher.op == "=~" and matcher.value in _MATCHES_ANYTHING:
            return Tri.YES
        return Tri.MAYBE
    answers = {matcher.decides(value) for value in poss}
    if answers == {True}:
        return Tri.YES
    if answers == {False}:
        return Tri.NO
    return Tri.MAYBE


def all3(matchers: Iterable[Matcher], labels: LabelView) -> Tri:
    """AND of the matchers over an alert whose labels are known as ``labels.get(name)``."""
    result = Tri.YES
    for matcher in matchers:
        answer = match3(matcher, labels.get(matcher.name))
        if answer is Tri.NO:
            return Tri.NO
        if answer is Tri.MAYBE:
            result = Tri.MAYBE
    return result


class LabelView:
    """What is known of one alert's labels; the base class knows nothing (every label unknown)."""

    def get(self, name: str) -> Poss:
        """Possible values of label ``name``."""
        return None


class ConcreteLabels(LabelView):
    """A real alert: every label known, missing ones empty."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = dict(labels)

    def get(self, name: str) -> Poss:
        """Exactly one value: the label's, or "" when it is missing."""
        return frozenset({self.labels.get(name, "")})


# --- the routing tree -------------------------------------------------------------------------

@dataclass
class Route:
    """One node of the routing tree, with where it was written (1-based lines)."""

    matchers: tuple[Matcher, ...]
    receiver: str | None
    continue_: bool = False
    routes: list[Route] = field(default_factory=list)
    line: int = 0
    parent: Route | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        """E.g. ``{team="dba"} → dba-team``, for messages."""
        matchers = ", ".join(map(str, self.matchers)) or "no matchers"
        return f"{{{matchers}}} → {self.receiver}"

    @property
    def effective_receiver(self) -> str | None:
        """Its receiver, or the nearest parent's: a route that names none inherits it."""
        route: Route | None = self
        while route is not None:
            if route.receiver:
                return route.receiver
            route = route.parent
        return None

    def walk(self) -> Iterator[Route]:
        """This route and every route below it, depth first, in config order."""
        yield self
        for child in self.routes:
            yield from child.walk()


def match_routes(root: Route, labels: Mapping[str, str]) -> list[Route]:
    """The routes that deliver an alert with these labels, as Alertmanager's dispatcher does."""

    def visit(route: Route) -> list[Route] | None:
        if not all(m.matches(labels.get(m.name, "")) for m in route.matchers):
            return None
        found: list[Route] = []
        for child in route.routes:
            matched = visit(child)
            if matched is not None:
                found.extend(matched)
                if not child.continue_:
                    break
        return found or [route]

    return visit(root) or []


def reach3(root: Route, labels: LabelView) -> Iterator[tuple[Route, Route | None]]:
    """Each route an alert may reach the parent of and match, with the sibling that takes it first.

    Yields ``(route, blocker)``: ``route``'s parent may receive the alert and ``route``'s own
    matchers may hold; ``blocker`` is an earlier sibling without ``continue`` that surely
    matches the alert (so ``route`` never sees it), or None. Children of a route are visited
    only if it may receive the alert.
    """

    def visit(route: Route) -> Iterator[tuple[Route, Route | None]]:
        blocker: Route | None = None
        for child in route.routes:
            answer = all3(child.matchers, labels)
            if answer is Tri.NO:
                continue
            yield child, blocker
            if blocker is None:
                yield from visit(child)
                if answer is Tri.YES and not child.continue_:
                    blocker = child

    yield from visit(root)


def implies(later: Iterable[Matcher], earlier: Iterable[Matcher]) -> bool:
    """True when every alert matching all of ``later`` surely matches all of ``earlier``.

    Decided matcher by matcher and only where it is certain: an earlier ``l="v"`` is implied by
    a later ``l="v"``; any earlier matcher on ``l`` by a later ``l="v"`` whose value it accepts;
    an earlier matcher by the identical later one; ``l=~".*"`` by anything. Anything subtler
    (regex inclusion) counts as not implied: the shadowing check then stays silent.
    """
    later = list(later)
    for wanted in earlier:
        if wanted.op == "=~" and wanted.value in _MATCHES_ANYTHING:
            continue
        if wanted in later:
            continue
        pinned = [m.value for m in later if m.name == wanted.name and m.op == "="]
        if pinned and wanted.decides(pinned[0]) is True:
            continue
        return False
    return True
