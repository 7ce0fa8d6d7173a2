"""The named templates of a Go template file, read well enough to compare two versions.

Alertmanager loads its template files and executes only *named* templates — those a receiver's
field calls with ``{{ template "x" . }}``; the text of a file outside every ``{{ define }}`` /
``{{ block }}`` (a file's heading comment, blank lines) is parsed and never executed. So a
template mutant whose named templates are the same, name for name and byte for byte, before
and after, changes nothing any notification says: it is equivalent, and running the suite on it
would only spend minutes to let it "survive" (the reference stack's template heading, measured:
about 340 s per such mutant).

The scanner follows Go's ``text/template`` lexer as far as this needs: actions between ``{{``
and ``}}`` (with the ``{{-``/``-}}`` trim markers), comments ``{{/* … */}}``, quoted strings
inside actions, and the block keywords (``if``, ``range``, ``with``, ``define``, ``block``,
closed by ``end``). Anything it cannot read — an unterminated action or comment, an ``end``
too many or too few — answers None: not proven, the mutant runs (and the real tools judge it).
"""

from __future__ import annotations

import re

_OPENERS = frozenset({"if", "range", "with", "define", "block"})
_NAME = re.compile(r'(?:define|block)\s+"([^"]*)"')
#: What closes a comment after its ``*/``: ``}}``, or `` -}}`` with the trim marker.
_COMMENT_END = re.compile(r"(?: -)?\}\}")


def _actions(text: str) -> list[tuple[int, int, str]] | None:
    """Every action as (start, end, inner text); comments dropped; None when unreadable."""
    found: list[tuple[int, int, str]] = []
    at = 0
    while True:
        start = text.find("{{", at)
        if start < 0:
            return found
        inner = start + 2
        if text.startswith("- ", inner):
            inner += 2
        if text.startswith("/*", inner):
            close = text.find("*/", inner + 2)
            if close < 0:
                return None
            rest = _COMMENT_END.match(text, close + 2)
            if rest is None:
                return None
            at = rest.end()
            continue
        end = _action_end(text, inner)
        if end is None:
            return None
        body = text[inner:end]
        if body.endswith(" -"):
            body = body[:-2]
        found.append((start, end + 2, body.strip()))
        at = end + 2


def _action_end(text: str, at: int) -> int | None:
    """The index of the ``}}`` that closes the action starting at ``at`` (strings skipped)."""
    quote = ""
    i = at
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\" and quote != "`":
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif text.startswith("}}", i):
            return i
        i += 1
    return None


def named_templates(text: str) -> dict[str, str] | None:
    """Each ``define``/``block`` name → the exact text of its body; None when unreadable."""
    actions = _actions(text)
    if actions is None:
        return None
    named: dict[str, str] = {}
    stack: list[tuple[str | None, int]] = []  # (template name or None, where its body starts)
    for start, end, body in actions:
        word = body.split(None, 1)[0] if body else ""
        if word in _OPENERS:
            name = None
            if word in ("define", "block"):
                match = _NAME.match(body)
                if match is None:
                    return None
                name = match[1]
            stack.append((name, end))
        elif word == "end":
            if not stack:
                return None
            name, begins = stack.pop()
            if name is not None:
                if name in named:
                    return None  # defined twice: which one wins is not for this reader
                named[name] = text[begins:start]
    return named if not stack else None


def same_named_templates(before: str, after: str) -> bool:
    """Both versions readable, with the same named templates and the same bodies."""
    old, new = named_templates(before), named_templates(after)
    return old is not None and old == new
