"""Read-only facts about an Alertmanager route tree that the harness needs for its timing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from alertdrill.durations import parse_duration

#: Alertmanager's defaults (config/config.go).
DEFAULTS = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}


def walk_routes(config: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every route with its *effective* timing fields (children inherit from parents)."""

    def visit(route: Mapping[str, Any], inherited: dict[str, str]) -> Iterator[dict[str, Any]]:
        effective = {k: str(route.get(k, inherited[k])) for k in DEFAULTS}
        yield {**dict(route), **effective}
        for child in route.get("routes") or []:
            yield from visit(child, effective)

    yield from visit(config.get("route") or {}, dict(DEFAULTS))


def min_group_interval(config: Mapping[str, Any]) -> float:
    """The shortest effective group_interval of any route, in seconds."""
    return min(parse_duration(r["group_interval"]) for r in walk_routes(config))


def min_repeat_interval(config: Mapping[str, Any]) -> float:
    """The shortest effective repeat_interval of any route, in seconds."""
    return min(parse_duration(r["repeat_interval"]) for r in walk_routes(config))
