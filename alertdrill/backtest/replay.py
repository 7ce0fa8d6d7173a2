"""Replay an alert timeline through a config's real Alertmanager cluster, at a high time scale.

The local backend starts the cluster as a drill does — the config scaled by K and
instrumented, every integration redirected to the sink, the peers' tuning — on a stack with no
services and no rules (its Prometheus has nothing to scrape). This module plays Prometheus's
part: when an alert starts firing it posts it to every peer (as Prometheus does) with
``startsAt`` and, when the timeline knows it, ``endsAt`` at its resolution, both mapped onto
the wall clock; Alertmanager then groups, waits, inhibits, repeats and resolves by its own
timers. Each episode (:mod:`.episodes`) runs on freshly restarted peers with empty data.
What the sink received is mapped back onto the recording's clock. Episodes share nothing, so
several clusters (``workers``, default 4: Alertmanager idles between timers, a few percent of
a core each) play them side by side.

The scale: K is the largest that needs no Alertmanager duration clamped to the floor and
keeps the cluster's peer timeout within its budget (``backends.common.peer_timeout``),
capped at ``MAX_SCALE``; with more than one peer also at most 15 s / 0.3 s = 50, so that the
peer timeout is Alertmanager's own 15 s scaled (it cannot go below 0.3 s measured, what gossip
needs to carry the notification log between peers). It matters: where ``repeat_interval`` ≤
``group_interval``, peer 0 skips the tick that comes a hair under repeat_interval after its
last notification and the *next peer* sends one peer timeout later, so a cluster repeats every
group_interval + 15 s. At K=300 a 0.3 s timeout is 90 s of real time: measured, 6 m 30 s
repeats instead of 5 m 15 s. A faster ``--time-scale`` is allowed, with a warning saying so.

Timing error of a replayed notification: the posting loop's lateness plus Alertmanager's and
the sink's latency (about 10–30 ms on 2 cores), times K.

Not scaled, because Alertmanager hard-codes it: the 30 s maintenance tick that removes emptied
aggregation groups (25 min of modelled time at K=50): a group firing again sooner than that
after resolving keeps its old ticks instead of starting anew (README › Backtesting › Limits).

Not replayed: time intervals (Alertmanager reads the wall clock: a mute window of last week is
not now; a warning says so), silences (a recording has none), and what receivers of the stack
do with a notification (an escalation service's re-posted copies).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from alertdrill.analysis.routing import walk_routes
from alertdrill.backends.base import StackOptions
from alertdrill.backends.common import DEFAULT_PEER_TIMEOUT, MIN_PEER_TIMEOUT
from alertdrill.backtest.alertstate import AlertInterval
from alertdrill.backtest.episodes import Episode, Routing, episodes
from alertdrill.backtest.parallel import side_by_side
from alertdrill.durations import parse_duration
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import StartupError
from alertdrill.sink.client import SinkClient
from alertdrill.sink.records import Delivery

#: The highest time scale a replay uses (a week in about 17 minutes of busy time).
MAX_SCALE = 600.0
#: The smallest scaled Alertmanager interval a replay accepts, in seconds: no scrape or rule
#: evaluation runs, only Alertmanager's own timers and one HTTP post per alert.
REPLAY_FLOOR = 0.1
#: Real-world seconds before an episode's first alert (peers settled, nothing pending).
LEAD = 60.0


@dataclass(frozen=True)
class Notification:
    """One delivery the replay's sink received, on the recording's clock."""

    t: float
    receiver: str
    integration: str
    status: str
    alertnames: tuple[str, ...]
    alerts: tuple[str, ...]
    peer: int
    #: Which of the receiver's integrations of that kind (``webhook_configs[1]``: 1).
    index: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON form (``backtest --format json``)."""
        return dataclasses.asdict(self)


@dataclass
class ReplayResult:
    """What one config did with the timeline."""

    notifications: list[Notification]
    time_scale: float
    episodes: int
    seconds: float
    warnings: list[str]


def choose_scale(config: dict[str, Any], peers: int, cap: float = MAX_SCALE) -> float:
    """The largest K at which no duration clamps and the peer timeout fits (see module doc)."""
    durations = [parse_duration(r[k]) for r in walk_routes(config)
                 for k in ("group_wait", "group_interval", "repeat_interval")]
    scale = min([cap, *[d / REPLAY_FLOOR for d in durations if d > 0]])
    if peers > 1:
        scale = min(scale, DEFAULT_PEER_TIMEOUT / MIN_PEER_TIMEOUT)
        budget_per_k = min(parse_duration(r[k]) for r in walk_routes(config)
                           for k in ("group_interval", "repeat_interval"))
        scale = min(scale, budget_per_k / ((peers - 1) * 0.3 + 0.2))
    return max(1.0, float(int(scale)))


def replay_spec(spec: StackSpec, workdir: Path) -> StackSpec:
    """The stack reduced to its Alertmanager: no services, no rules, nothing to scrape."""
    prometheus = workdir / "prometheus.yml"
    prometheus.write_text("global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\n")
    return dataclasses.replace(spec, prometheus_config=prometheus, rule_files=(), services={},
                               min_scrape_timeouts={})


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


class _Clock:
    """Maps the recording's clock onto monotonic and wall time for one episode."""

    def __init__(self, start: float, scale: float) -> None:
        self.start = start
        self.scale = scale
        self.mono0 = time.monotonic()
        self.wall0 = time.time()

    def mono(self, t: float) -> float:
        return self.mono0 + (t - self.start) / self.scale

    def wall(self, t: float) -> float:
        return self.wall0 + (t - self.start) / self.scale

    def back(self, monotonic: float) -> float:
        return self.start + (monotonic - self.mono0) * self.scale


def _restart_peers(stack: Any, timeout: float = 20.0) -> None:
    """Stop every peer, empty its data (notification log, silences), start them again."""
    for am in stack.alertmanagers:
        am.stop()
    for index, _ in enumerate(stack.alertmanagers):
        data = stack.workdir / f"am-data-{index}"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir()
    for am in stack.alertmanagers:
        am.start()
    _wait_cluster(stack.alertmanager_urls, timeout)


def _wait_cluster(urls: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    session = requests.Session()
    state = "not asked"
    while time.monotonic() < deadline:
        try:
            statuses = [session.get(u + "/api/v2/status", timeout=1).json() for u in urls]
            ready = [s["cluster"]["status"] for s in statuses]
            peers = [len(s["cluster"].get("peers") or []) for s in statuses]
            state = f"cluster status {ready}, peers {peers}"
            if len(urls) == 1 or (all(r == "ready" for r in ready)
                                  and all(p == len(urls) for p in peers)):
                return
        except (requests.RequestException, ValueError, KeyError) as exc:
            state = str(exc)
        time.sleep(0.05)
    raise StartupError(f"the restarted Alertmanager peers did not settle within {timeout:.0f}s: "
                       f"{state}")


def _post(session: requests.Session, urls: list[str], body: list[dict[str, Any]]) -> None:
    for url in urls:
        answer = session.post(url + "/api/v2/alerts", json=body, timeout=2)
        if answer.status_code != 200:
            raise StartupError(f"Alertmanager {url} refused an alert: {answer.text[:200]}")


def _play(stack: Any, episode: Episode, scale: float, range_end: float,
          sink: SinkClient, after: int) -> tuple[list[Notification], int]:
    clock = _Clock(episode.start, scale)
    session = requests.Session()
    urls = stack.alertmanager_urls
    for alert in sorted(episode.alerts, key=lambda a: a.fired_at):
        delay = clock.mono(alert.fired_at) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        ends = min(alert.resolved_at if alert.resolved_at is not None else range_end, range_end)
        _post(session, urls, [{"labels": alert.label_dict,
                               "annotations": dict(alert.annotations),
                               "startsAt": _iso(clock.wall(alert.fired_at)),
                               "endsAt": _iso(clock.wall(ends))}])
    delay = clock.mono(episode.end) - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    deliveries = sink.deliveries(after=after)
    found = [n for n in notifications(deliveries, clock.back) if n.t <= range_end]
    return found, max([after, *[d.seq for d in deliveries]])


#: Wall seconds within which a flush's deliveries to one receiver's integrations arrive: e-mail
#: (STARTTLS to the sink) was measured arriving up to ~1 s after the probe of its flush on the
#: loaded 2-core machine; a receiver's next flush comes at least one group_interval / K later.
_SAME_FLUSH = 2.0


def notifications(deliveries: list[Delivery], back: Callable[[float], float]
                  ) -> list[Notification]:
    """The deliveries to the config's own integrations, each with the status and alerts of the
    harness's probe webhook of the same receiver and peer in the same flush (Slack, e-mail and
    PagerDuty bodies are text: the probe carries the structured alerts). A receiver without
    integrations sends nothing: only its probe is there, and it is not a notification."""
    probes: dict[tuple[int, str], list[Delivery]] = {}
    for d in deliveries:
        if d.destination.integration == "probe":
            probes.setdefault((d.destination.peer, d.destination.receiver), []).append(d)
    found = []
    for d in deliveries:
        if d.destination.integration == "probe":
            continue
        near = [p for p in probes.get((d.destination.peer, d.destination.receiver), [])
                if abs(p.arrived - d.arrived) <= _SAME_FLUSH]
        probe = min(near, key=lambda p: abs(p.arrived - d.arrived)) if near else None
        status = d.status or (probe.status if probe else None) or "unknown"
        names = d.alertnames or (probe.alertnames if probe else set())
        alerts = d.alerts or (probe.alerts if probe else ())
        found.append(Notification(back(d.arrived), d.destination.receiver,
                                  d.destination.integration, status, tuple(sorted(names)),
                                  tuple(sorted(a.fingerprint for a in alerts)),
                                  d.destination.peer, d.destination.index))
    return found


def replay(spec: StackSpec, alerts: list[AlertInterval], range_end: float,
           scale: float | None = None, peers: int | None = None,
           progress: Callable[[str], None] | None = None, workers: int = 4) -> ReplayResult:
    """Every notification the config of ``spec`` sends for ``alerts``; ``workers`` clusters
    play the episodes side by side (they share nothing)."""
    t0 = time.monotonic()
    routing = Routing(spec.alertmanager_config)
    peers = peers or spec.peers
    faithful = choose_scale(routing.config, peers)
    k = scale or faithful
    warnings = []
    if k > faithful:
        warnings.append(f"K={k:g} is above {faithful:g}, the largest this config replays "
                        "faithfully at: Alertmanager durations may be clamped to "
                        f"{REPLAY_FLOOR:g} s and the peers' timeout lasts "
                        f"{max(MIN_PEER_TIMEOUT, DEFAULT_PEER_TIMEOUT / k) * k:.0f} s of real "
                        "time instead of 15 s (repeats come later)")
    if routing.uses_time_intervals():
        warnings.append("routes use time intervals: Alertmanager applies them on today's wall "
                        "clock, not the recording's, so their effect is not backtested")
    cut = episodes(alerts, routing, range_end, LEAD)
    if not cut:
        return ReplayResult([], k, 0, time.monotonic() - t0, warnings)
    lanes = _lanes(cut, k, workers)
    results: list[list[Notification]] = [[] for _ in lanes]

    def work(index: int) -> None:
        results[index] = _run_lane(spec, lanes[index], k, peers, range_end, warnings,
                                   progress, index)

    side_by_side(work, len(lanes), "replay")
    found = sorted((n for lane in results for n in lane),
                   key=lambda n: (n.t, n.receiver, n.integration, n.peer))
    return ReplayResult(found, k, len(cut), time.monotonic() - t0, warnings)


def _lanes(cut: list[Episode], scale: float, workers: int) -> list[list[Episode]]:
    """Episodes shared among ``workers`` clusters, longest first to the least loaded; each
    lane plays its episodes in time order (they are independent by construction)."""
    lanes: list[list[Episode]] = [[] for _ in range(max(1, min(workers, len(cut))))]
    loads = [0.0] * len(lanes)
    for episode in sorted(cut, key=lambda e: e.end - e.start, reverse=True):
        lane = loads.index(min(loads))
        lanes[lane].append(episode)
        loads[lane] += (episode.end - episode.start) / scale
    return [sorted(lane, key=lambda e: e.start) for lane in lanes]


def _run_lane(spec: StackSpec, lane: list[Episode], k: float, peers: int, range_end: float,
              warnings: list[str], progress: Callable[[str], None] | None,
              index: int) -> list[Notification]:
    """Start one cluster and play a lane's episodes on it, restarting the peers between."""
    from alertdrill.backends.local import LocalStack
    from alertdrill.backends.process import make_tempdir, remove_tempdir

    scratch = make_tempdir("backtest-replay")
    stack = None
    try:
        stack = LocalStack(replay_spec(spec, scratch),
                           StackOptions(peers=peers, time_scale=k, floor=REPLAY_FLOOR)).start()
        if index == 0:
            warnings += [w for w in stack.warnings if "clamped" in w]
        sink = SinkClient(stack.sink_url)
        found: list[Notification] = []
        after = 0
        for number, episode in enumerate(lane):
            if number:
                _restart_peers(stack)
            if progress:
                progress(f"cluster {index + 1}, episode {number + 1}/{len(lane)}: "
                         f"{len(episode.alerts)} alerts, "
                         f"{(episode.end - episode.start) / k:.1f}s at K={k:g}")
            notes, after = _play(stack, episode, k, range_end, sink, after)
            found.extend(notes)
        return found
    finally:
        if stack is not None:
            stack.close()
        remove_tempdir(scratch)
