"""Shared regex pieces so every step spells quoted names and durations the same way."""

from __future__ import annotations

from pytest_bdd import parsers


def quoted(name: str) -> str:
    """A double-quoted value captured as ``name``."""
    return rf'"(?P<{name}>[^"]+)"'


DURATION = r"(?P<duration>\d+(?:\.\d+)?\s*[a-z]+)"


def rx(pattern: str) -> parsers.re:
    """A full-match regex step parser."""
    return parsers.re(pattern)
