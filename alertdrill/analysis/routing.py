"""Read-only facts about an Alertmanager route tree that the harness needs for its timing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from alertdrill.analysis.amroute import Route
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


@dataclass(frozen=True)
class RouteSettings:
    """What a route does with the alerts it delivers: its effective timing and grouping (a
    child inherits what it does not write), and the time intervals it names (not inherited)."""

    group_wait: float
    group_interval: float
    repeat_interval: float
    group_by: tuple[str, ...]
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()


def route_settings(config: Mapping[str, Any], tree: Route,
                   inherited: RouteSettings | None = None) -> dict[int, RouteSettings]:
    """Effective settings of every route of ``tree`` (built from the same ``config``, e.g. by
    ``lint.load_route_tree``), by ``id(route)``."""
    base = inherited or RouteSettings(parse_duration(DEFAULTS["group_wait"]),
                                      parse_duration(DEFAULTS["group_interval"]),
                                      parse_duration(DEFAULTS["repeat_interval"]), ())
    timing = {k: parse_duration(str(config[k])) if config.get(k) is not None else getattr(base, k)
              for k in ("group_wait", "group_interval", "repeat_interval")}
    group_by = (tuple(str(label) for label in config["group_by"])
                if config.get("group_by") is not None else base.group_by)
    mine = RouteSettings(timing["group_wait"], timing["group_interval"],
                         timing["repeat_interval"], group_by,
                         tuple(str(n) for n in config.get("mute_time_intervals") or ()),
                         tuple(str(n) for n in config.get("active_time_intervals") or ()))
    found = {id(tree): mine}
    children = [c for c in config.get("routes") or [] if isinstance(c, Mapping)]
    inherit = RouteSettings(mine.group_wait, mine.group_interval, mine.repeat_interval, group_by)
    for child_config, child in zip(children, tree.routes, strict=True):
        found.update(route_settings(child_config, child, inherit))
    return found
