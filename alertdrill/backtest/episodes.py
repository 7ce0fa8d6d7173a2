"""Cut an alert timeline into episodes that a fresh Alertmanager may replay apart.

A week replayed in real time at a scale that keeps Alertmanager's timers faithful still takes
hours; most of it is quiet. Between two bursts of alerts the only state Alertmanager keeps is
its notification log, which matters when a group that was notified fires again within its
``repeat_interval`` (whether it is notified again then depends on how long ago the last
notification was). So a quiet gap is cut — the next episode starts on freshly started peers
with an empty log — only when every aggregation group that was active before it and fires
again after it has been quiet for at least its ``repeat_interval + group_interval``: for those,
a fresh log and the real gap give the same answer. Any other gap is replayed as it was.

Groups are found by the static routing (``alertdrill.analysis.amroute``, held against amtool in the
diff's tests): the routes an alert reaches and their effective ``group_by``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertdrill.analysis.amroute import Route, match_routes
from alertdrill.analysis.routing import RouteSettings, route_settings, walk_routes
from alertdrill.backtest.alertstate import AlertInterval
from alertdrill.errors import ConfigError
from alertdrill.yamlio import load_yaml

GroupKey = tuple[int, tuple[tuple[str, str], ...]]


class Routing:
    """The aggregation groups and timing of one alertmanager.yml, statically."""

    def __init__(self, alertmanager_config: Path) -> None:
        from alertdrill.analysis.lint import load_route_tree

        self.config: dict[str, Any] = load_yaml(alertmanager_config, "alertmanager.yml")
        tree = load_route_tree(alertmanager_config)
        if tree is None:
            raise ConfigError(f"{alertmanager_config} has no route")
        self.tree: Route = tree
        self.settings: dict[int, RouteSettings] = route_settings(self.config.get("route") or {},
                                                                 tree)

    def groups(self, labels: Mapping[str, str]) -> list[tuple[GroupKey, RouteSettings]]:
        """The aggregation groups an alert joins (one per route it reaches)."""
        found = []
        for route in match_routes(self.tree, labels):
            settings = self.settings[id(route)]
            if "..." in settings.group_by:
                values = tuple(sorted(labels.items()))
            else:
                values = tuple((n, labels.get(n, "")) for n in settings.group_by)
            found.append(((id(route), values), settings))
        return found

    def uses_time_intervals(self) -> bool:
        """True when a route mutes or activates on time intervals (wall-clock based)."""
        return any(r.get("mute_time_intervals") or r.get("active_time_intervals")
                   for r in walk_routes(self.config))


@dataclass
class Episode:
    """Alerts replayed together on one set of peers, from ``start`` to ``end``."""

    start: float
    end: float
    alerts: list[AlertInterval] = field(default_factory=list)


def episodes(alerts: Sequence[AlertInterval], routing: Routing, range_end: float,
             lead: float) -> list[Episode]:
    """The alerts, in firing order, cut at every gap a fresh Alertmanager replays faithfully."""
    ordered = sorted(alerts, key=lambda a: a.fired_at)
    joined = [routing.groups(a.label_dict) for a in ordered]
    fires: dict[GroupKey, list[float]] = {}
    hold: dict[GroupKey, float] = {}
    for alert, groups in zip(ordered, joined, strict=True):
        for key, settings in groups:
            fires.setdefault(key, []).append(alert.fired_at)
            hold[key] = settings.repeat_interval + settings.group_interval
    found: list[Episode] = []
    quiet_since: dict[GroupKey, float] = {}
    for alert, groups in zip(ordered, joined, strict=True):
        # Its last notification (the resolved one) leaves by one group_wait + group_interval.
        tail = max([s.group_wait + s.group_interval for _, s in groups] or [0.0])
        ends = min(alert.resolved_at if alert.resolved_at is not None else range_end, range_end)
        if found and alert.fired_at - lead > found[-1].end and _cuttable(
                quiet_since, fires, hold, found[-1].end):
            found.append(Episode(alert.fired_at - lead, ends + tail))
            quiet_since = {}
        elif not found:
            found.append(Episode(alert.fired_at - lead, ends + tail))
        episode = found[-1]
        episode.alerts.append(alert)
        episode.end = max(episode.end, ends + tail)
        for key, _ in groups:
            quiet_since[key] = max(quiet_since.get(key, ends), ends)
    return found


def _cuttable(quiet_since: Mapping[GroupKey, float], fires: Mapping[GroupKey, list[float]],
              hold: Mapping[GroupKey, float], at: float) -> bool:
    for key, since in quiet_since.items():
        times = fires[key]
        later = bisect_left(times, at)
        if later < len(times) and times[later] - since < hold[key]:
            return False
    return True
