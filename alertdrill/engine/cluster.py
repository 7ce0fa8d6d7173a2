"""High availability observed, not assumed: who sent each notification, and the cluster's state.

Alertmanager's peers deduplicate through a gossiped notification log: peer n flushes a group
n × peer-timeout after peer 0 and stays silent when the log says the group was already
notified. A *duplicate* is therefore the same notification — same receiver, integration,
status and alerts — from a second peer within that stagger (plus gossip's margin), whereas a
*repeat* (repeat_interval) comes a whole group_interval later. Duplicates are legitimate under
a partition or a frozen peer (Alertmanager fails open); in a healthy cluster they mean the
peers did not gossip, and the peers' own metrics say why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from alertdrill.engine import timeline as tl
from alertdrill.engine.health import metric_samples
from alertdrill.engine.timeline import Event

#: Seconds added to the peers' stagger before a second copy counts as a repeat, not a
#: duplicate: gossip's 50 ms rounds and a loaded machine's scheduling.
GOSSIP_MARGIN = 0.5

#: The peers' own metrics that describe the cluster (name → field of :class:`PeerState`).
_METRICS = {
    "alertmanager_cluster_members": "members",
    "alertmanager_cluster_failed_peers": "failed_peers",
    "alertmanager_cluster_health_score": "health_score",
    "alertmanager_nflog_gossip_messages_propagated_total": "nflog_gossip_propagated",
    "alertmanager_cluster_messages_received_total": "messages_received",
}


@dataclass(frozen=True)
class PeerState:
    """One peer's view of the cluster, from its own /metrics (None: not reachable)."""

    peer: int
    reachable: bool
    members: float | None = None
    failed_peers: float | None = None
    #: memberlist's awareness score: 0 is healthy, higher means it struggles to keep up.
    health_score: float | None = None
    nflog_gossip_propagated: float | None = None
    messages_received: float | None = None

    def describe(self) -> str:
        """E.g. ``alertmanager-1: 3 members, 0 failed, health 0, 14 nflog gossip messages``."""
        if not self.reachable:
            return f"alertmanager-{self.peer}: unreachable"
        return (f"alertmanager-{self.peer}: {_n(self.members)} members, {_n(self.failed_peers)} "
                f"failed, health {_n(self.health_score)}, {_n(self.nflog_gossip_propagated)} "
                "nflog gossip messages")


def _n(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def peer_state(peer: int, metrics_text: str | None) -> PeerState:
    """The cluster metrics of one peer's /metrics text (summed over their labels)."""
    if metrics_text is None:
        return PeerState(peer, False)
    values: dict[str, float] = {}
    for name, _labels, value in metric_samples(metrics_text):
        field = _METRICS.get(name)
        if field is not None:
            values[field] = values.get(field, 0.0) + value
    return PeerState(peer, True, **values)


def describe_cluster(states: Sequence[PeerState]) -> str:
    """One line for failure messages."""
    return "cluster: " + "; ".join(s.describe() for s in states) if states else ""


@dataclass(frozen=True)
class Duplicate:
    """The same notification delivered by a second peer within the peers' stagger."""

    receiver: str
    integration: str
    status: str
    alertnames: tuple[str, ...]
    first_t: float
    first_peer: int
    t: float
    peer: int

    def describe(self) -> str:
        """E.g. ``dba-critical probe firing PostgreSQLDown: alertmanager-0 at +1.42 s and
        alertmanager-1 at +1.80 s``."""
        return (f"{self.receiver} {self.integration} {self.status} {', '.join(self.alertnames)}: "
                f"alertmanager-{self.first_peer} at {self.first_t:+.2f} s and "
                f"alertmanager-{self.peer} at {self.t:+.2f} s")

    def to_json(self) -> dict[str, Any]:
        """For the scenario's record."""
        return {**asdict(self), "alertnames": list(self.alertnames)}


def dedup_window(peers: int, peer_timeout: float) -> float:
    """How far apart two peers' copies of one flush may arrive (measured seconds)."""
    return max(0, peers - 1) * peer_timeout + GOSSIP_MARGIN


def find_duplicates(events: Iterable[Event], window: float) -> list[Duplicate]:
    """Every notification that another peer had already delivered less than ``window``
    seconds before, with the same receiver, integration, status and alert label sets.

    Failed deliveries (a receiver outage's retries) are not notifications received.
    """
    seen: dict[tuple[Any, ...], tuple[float, int]] = {}
    found: list[Duplicate] = []
    for event in sorted(events, key=lambda e: e.t):
        if event.kind != tl.NOTIFICATION:
            continue
        detail = event.detail
        code = int(detail.get("response_code") or 0)
        if detail.get("integration") != "probe" and not 200 <= code < 300:
            continue
        peer = detail.get("peer")
        if peer is None:
            continue
        alerts = tuple(sorted(tuple(sorted(a.items())) for a in detail.get("alerts") or []))
        key = (event.subject, detail.get("integration"), detail.get("index"),
               detail.get("status"), alerts or tuple(detail.get("alertnames") or ()))
        previous = seen.get(key)
        if previous is not None and previous[1] != peer and event.t - previous[0] < window:
            found.append(Duplicate(event.subject, str(detail.get("integration")),
                                   str(detail.get("status")),
                                   tuple(detail.get("alertnames") or ()), previous[0],
                                   previous[1], event.t, int(peer)))
            continue  # the first copy stays the reference for a third peer's
        seen[key] = (event.t, int(peer))
    return found
