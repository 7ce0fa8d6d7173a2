"""The small grammar inside step texts: label sets, name lists. Pure, so it is unit-tested."""

from __future__ import annotations

import re

from alertdrill.errors import StepError

_LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*("([^"]*)"|[^,\s]+)\s*')
_NAME_RE = re.compile(r'"([^"]+)"')


def parse_labels(text: str) -> dict[str, str]:
    """``severity=critical, team="web ops"`` → ``{"severity": "critical", "team": "web ops"}``."""
    labels: dict[str, str] = {}
    for part in split_commas(text):
        match = _LABEL_RE.fullmatch(part)
        if not match:
            raise StepError(
                f"cannot read the label {part.strip()!r} in {text!r}",
                'write labels as name=value pairs separated by commas: severity=critical, team=web',
            )
        labels[match.group(1)] = match.group(3) if match.group(3) is not None else match.group(2)
    return labels


def parse_names(text: str) -> list[str]:
    """``"a", "b" and "c"`` → ``["a", "b", "c"]``; anything but quoted names and separators fails."""
    names = _NAME_RE.findall(text)
    rest = _NAME_RE.sub("", text).replace(",", " ").replace(" and ", " ").strip()
    if not names or rest not in ("", "and"):
        raise StepError(
            f"cannot read the list of names {text!r}",
            'quote every name and separate them with commas or "and": "a", "b" and "c"',
        )
    return names


def cell_names(cell: str) -> list[str]:
    """A table cell's names: ``dba-critical, executive-escalation`` or ``"a" and "b"`` →
    ``["dba-critical", "executive-escalation"]`` (quotes and blanks dropped)."""
    parts = (part.strip().strip('"') for part in re.split(r",| and ", cell))
    return [part for part in parts if part]


def split_commas(text: str) -> list[str]:
    """Split at commas outside double quotes."""
    parts, current, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return parts
