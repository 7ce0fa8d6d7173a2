"""Prometheus-style durations ("1m30s", "250ms") and the human ones steps use ("2 minutes")."""

from __future__ import annotations

import re

from alertdrill.errors import StepError

_UNITS_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
    "y": 31_536_000_000,
}
_PROM_RE = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")
_PROM_ORDER = ("y", "w", "d", "h", "m", "s", "ms")

_HUMAN_UNITS = {
    "ms": 0.001,
    "millisecond": 0.001,
    "milliseconds": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
_HUMAN_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")


def parse_duration(text: str | int | float) -> float:
    """Seconds in a Prometheus duration string; raises ValueError on anything else."""
    if isinstance(text, (int, float)):
        return float(text)
    value = str(text).strip()
    if value == "0":
        return 0.0
    match = _PROM_RE.match(value)
    if not value or not match or not any(match.groups()):
        raise ValueError(f"not a Prometheus duration: {text!r}")
    total_ms = 0
    for unit, group in zip(_PROM_ORDER, range(2, 15, 2), strict=True):
        number = match.group(group)
        if number:
            total_ms += int(number) * _UNITS_MS[unit]
    return total_ms / 1000.0


def format_duration(seconds: float) -> str:
    """The shortest exact Prometheus duration for ``seconds`` (rounded to whole milliseconds)."""
    total_ms = round(seconds * 1000)
    if total_ms <= 0:
        return "0s"
    parts = []
    for unit in _PROM_ORDER:
        size = _UNITS_MS[unit]
        if total_ms >= size:
            count, total_ms = divmod(total_ms, size)
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_human(text: str) -> float:
    """Seconds in a step's duration ("2 minutes", "500 ms", "1.5 s"); StepError otherwise."""
    match = _HUMAN_RE.match(text.lower())
    if not match or match.group(2) not in _HUMAN_UNITS:
        raise StepError(
            f"cannot read the duration {text!r}",
            "write a number and a unit, e.g. '30 seconds', '2 minutes', '500 ms', '1 hour'",
        )
    return float(match.group(1)) * _HUMAN_UNITS[match.group(2)]


def human(seconds: float) -> str:
    """A compact human rendering for messages: 0.35 s, 12.0 s, 2 min 5 s, 1 h 30 min."""
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours} h {rest // 60} min" if rest >= 60 else f"{hours} h"
