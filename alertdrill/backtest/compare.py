"""What two configs' replays differ in: pages per receiver and day, notifications added,
removed or delayed, and the alerts that flapped.

A *page* is a firing notification (status ``firing``; a text integration's status is taken
from the harness's probe of the same flush) to a receiver: every integration of the receiver
gets each one, so pages are counted on one of them — the one with the most firing deliveries
(ties: the first by name and index) — not once per Slack + e-mail + webhook delivery.
Notifications are matched between the configs by (receiver, integration, status, alert names),
nearest in time first, within ``match_window``: an unmatched one is added or removed, a matched
one further apart than ``tolerance`` is delayed (or earlier). The tolerance absorbs replay
jitter (see :mod:`.replay`): it is not a property of the configs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from alertdrill.backtest.alertstate import AlertInterval
from alertdrill.backtest.replay import Notification

MatchKey = tuple[str, str, str, tuple[str, ...]]


def day_of(t: float) -> str:
    """The UTC date of a timestamp."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def pages_per_day(notes: Sequence[Notification]) -> dict[str, Counter[str]]:
    """Receiver → {day: pages}."""
    per_integration: Counter[tuple[str, str, int]] = Counter(
        (n.receiver, n.integration, n.index) for n in notes if n.status == "firing")
    counted: dict[str, tuple[str, int]] = {}
    for (receiver, integration, index), count in sorted(per_integration.items()):
        best = counted.get(receiver)
        if best is None or count > per_integration[(receiver, *best)]:
            counted[receiver] = (integration, index)
    found: dict[str, Counter[str]] = {}
    for n in notes:
        if n.status == "firing" and (n.integration, n.index) == counted.get(n.receiver):
            found.setdefault(n.receiver, Counter())[day_of(n.t)] += 1
    return found


@dataclass
class Differences:
    """Notifications the new config sends that the old did not, and the reverse."""

    added: list[Notification] = field(default_factory=list)
    removed: list[Notification] = field(default_factory=list)
    #: (old, new): the same notification, more than the tolerance apart.
    delayed: list[tuple[Notification, Notification]] = field(default_factory=list)

    def empty(self) -> bool:
        """True when the configs sent the same notifications (within the tolerance)."""
        return not (self.added or self.removed or self.delayed)


def _key(n: Notification) -> MatchKey:
    return (n.receiver, f"{n.integration}[{n.index}]", n.status, n.alertnames)


def compare(old: Sequence[Notification], new: Sequence[Notification], tolerance: float,
            match_window: float) -> Differences:
    """Match the two replays' notifications (see the module docstring)."""
    by_key: dict[MatchKey, tuple[list[Notification], list[Notification]]] = {}
    for n in old:
        by_key.setdefault(_key(n), ([], []))[0].append(n)
    for n in new:
        by_key.setdefault(_key(n), ([], []))[1].append(n)
    found = Differences()
    for olds, news in by_key.values():
        olds.sort(key=lambda n: n.t)
        news.sort(key=lambda n: n.t)
        times = [n.t for n in news]
        pairs = sorted((abs(o.t - news[j].t), i, j) for i, o in enumerate(olds)
                       for j in range(bisect_left(times, o.t - match_window),
                                      bisect_right(times, o.t + match_window)))
        used_old: set[int] = set()
        used_new: set[int] = set()
        for gap, i, j in pairs:
            if i in used_old or j in used_new:
                continue
            used_old.add(i)
            used_new.add(j)
            if gap > tolerance:
                found.delayed.append((olds[i], news[j]))
        found.removed += [o for i, o in enumerate(olds) if i not in used_old]
        found.added += [n for j, n in enumerate(news) if j not in used_new]
    found.added.sort(key=lambda n: n.t)
    found.removed.sort(key=lambda n: n.t)
    found.delayed.sort(key=lambda p: p[0].t)
    return found


def flapping(alerts: Sequence[AlertInterval], window: float) -> list[AlertInterval]:
    """Alerts that fired and resolved within ``window`` seconds."""
    return [a for a in alerts if a.resolved_at is not None and a.resolved_at - a.fired_at < window]
