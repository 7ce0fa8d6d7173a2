"""Watch Prometheus, every Alertmanager peer and the sink, and put every change on the timeline.

One background thread polls all of them (every 100 ms by default) and records *transitions*
only: an alert becoming pending, firing, suppressed, resolved; a notification arriving. Times
come from the best source available — Prometheus's ``activeAt`` for pending, the sink's own
monotonic arrival stamp for notifications, the poll that saw it for other states.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import requests

from alertdrill.engine import timeline as tl
from alertdrill.engine.timeline import Timeline
from alertdrill.sink.client import SinkClient, SinkError
from alertdrill.sink.records import Delivery

logger = logging.getLogger(__name__)

LabelKey = frozenset[tuple[str, str]]


def parse_rfc3339(text: str) -> float:
    """Unix seconds of an RFC 3339 timestamp as Prometheus and Alertmanager write them."""
    value = text.replace("Z", "+00:00")
    if "." in value:  # Go writes up to 9 fractional digits; Python takes 6.
        head, rest = value.split(".", 1)
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        value = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(value).timestamp()


class PrometheusAPI:
    """The few Prometheus HTTP API calls the harness needs."""

    def __init__(self, url: str, timeout: float = 1.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _get(self, path: str, **params: Any) -> Any:
        response = self.session.get(self.url + path, params=params, timeout=self.timeout)
        response.raise_for_status()
        return response.json()["data"]

    def alerts(self) -> list[dict[str, Any]]:
        """Pending and firing alerts (``/api/v1/alerts``)."""
        return list(self._get("/api/v1/alerts")["alerts"])

    def rules(self) -> list[dict[str, Any]]:
        """Every rule group (``/api/v1/rules``)."""
        return list(self._get("/api/v1/rules")["groups"])

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        return list(self._get("/api/v1/query", query=promql)["result"])


class AlertmanagerAPI:
    """The Alertmanager v2 API calls the harness needs, for one peer."""

    def __init__(self, url: str, peer: int, timeout: float = 1.0) -> None:
        self.url = url.rstrip("/")
        self.peer = peer
        self.timeout = timeout
        self.session = requests.Session()

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert the peer holds, including silenced, inhibited and unprocessed ones."""
        response = self.session.get(
            self.url + "/api/v2/alerts",
            params={"active": "true", "silenced": "true", "inhibited": "true", "unprocessed": "true"},
            timeout=self.timeout,
        )
        response.raise_for_status()
        return list(response.json())

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Push alerts, as Prometheus does."""
        response = self.session.post(self.url + "/api/v2/alerts", json=alerts, timeout=self.timeout)
        response.raise_for_status()

    def create_silence(self, matchers: list[dict[str, Any]], starts_at: str, ends_at: str,
                       created_by: str, comment: str) -> str:
        """Create a silence (gossiped to the other peers) and return its id."""
        response = self.session.post(self.url + "/api/v2/silences", timeout=self.timeout, json={
            "matchers": matchers, "startsAt": starts_at, "endsAt": ends_at,
            "createdBy": created_by, "comment": comment})
        response.raise_for_status()
        return str(response.json()["silenceID"])

    def expire_silence(self, silence_id: str) -> None:
        """Expire a silence now (Alertmanager keeps expired silences for the record)."""
        response = self.session.delete(f"{self.url}/api/v2/silence/{silence_id}",
                                       timeout=self.timeout)
        response.raise_for_status()

    def cluster_members(self) -> int:
        """How many peers (itself included) this peer's cluster view holds now."""
        response = self.session.get(self.url + "/api/v2/status", timeout=self.timeout)
        response.raise_for_status()
        return len(((response.json().get("cluster") or {}).get("peers")) or [])

    def metrics(self) -> str:
        """The peer's own /metrics text."""
        response = self.session.get(self.url + "/metrics", timeout=self.timeout)
        response.raise_for_status()
        return response.text


class Observer:
    """Polls the stack in a background thread and records transitions on a timeline."""

    def __init__(
        self,
        timeline: Timeline,
        prometheus: PrometheusAPI,
        alertmanagers: list[AlertmanagerAPI],
        sink: SinkClient,
        interval: float = 0.1,
    ) -> None:
        self.timeline = timeline
        self.prometheus = prometheus
        self.alertmanagers = alertmanagers
        self.sink = sink
        self.interval = interval
        self.deliveries: list[Delivery] = []
        self._prom_state: dict[LabelKey, str] = {}
        #: Per peer (each polled by its own thread): fingerprint → (state, labels).
        self._am_state: dict[int, dict[str, tuple[str, dict[str, str]]]] = {
            api.peer: {} for api in alertmanagers}
        self._last_seq = 0
        self._stop = threading.Event()
        # One poller per source, each with its own lock: a frozen Alertmanager peer (SIGSTOP)
        # answers nothing until its timeout, and must not blind the observer to the others.
        self._sources: list[tuple[str, Callable[[], None], threading.Lock]] = [
            ("sink", self._poll_deliveries, threading.Lock()),
            ("prometheus", self._poll_prometheus, threading.Lock()),
            *[(f"alertmanager-{api.peer}", _bind(self._poll_alertmanager, api), threading.Lock())
              for api in alertmanagers],
        ]
        self._threads = [
            threading.Thread(target=self._run, args=((poll, lock),),
                             name=f"alertdrill-observe-{name}", daemon=True)
            for name, poll, lock in self._sources
        ]
        self.errors = 0

    def start(self) -> Observer:
        """Skip what happened before now (the sink may hold start-up traffic), then poll."""
        self._last_seq = max((d.seq for d in self.sink.deliveries(0)), default=0)
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop polling (after one final poll) and wait for the threads."""
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=5)
        self.poll()

    def _run(self, source: tuple[Callable[[], None], threading.Lock]) -> None:
        poll, lock = source
        while not self._stop.wait(self.interval):
            with lock:
                poll()

    def poll(self) -> None:
        """Poll every source once now, concurrently; safe from any thread (waits call it at
        deadlines). Returns when every source answered or gave up (its own timeout)."""
        def one(poll: Callable[[], None], lock: threading.Lock) -> None:
            with lock:
                poll()

        workers = [threading.Thread(target=one, args=(poll, lock), daemon=True)
                   for _, poll, lock in self._sources]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _poll_deliveries(self) -> None:
        try:
            new = self.sink.deliveries(self._last_seq)
        except SinkError:
            self.errors += 1
            return
        for delivery in new:
            self._last_seq = max(self._last_seq, delivery.seq)
            self.deliveries.append(delivery)
            dest = delivery.destination
            self.timeline.add(
                tl.NOTIFICATION,
                dest.receiver,
                t=self.timeline.at_monotonic(delivery.arrived),
                integration=dest.integration,
                index=dest.index,
                peer=dest.peer,
                status=delivery.status,
                alertnames=sorted(delivery.alertnames),
                alerts=[dict(a.labels) for a in delivery.alerts],
                response_code=delivery.response_code,
                fault=delivery.fault,
                note=_delivery_note(delivery),
                _delivery=delivery,
            )

    def _poll_prometheus(self) -> None:
        try:
            alerts = self.prometheus.alerts()
        except (requests.RequestException, ValueError, KeyError):
            self.errors += 1
            return
        seen: dict[LabelKey, dict[str, Any]] = {}
        for alert in alerts:
            key = frozenset(alert["labels"].items())
            seen[key] = alert
            state = alert["state"]
            if self._prom_state.get(key) == state:
                continue
            previous = self._prom_state.get(key)
            self._prom_state[key] = state
            labels = dict(alert["labels"])
            active_at = self.timeline.at_wall(parse_rfc3339(alert["activeAt"]))
            if state == "pending" or previous is None:
                # activeAt is exact: the evaluation that first saw the condition true.
                self.timeline.add(
                    tl.PROM_PENDING, labels.get("alertname", "?"), labels, t=active_at,
                    note="condition true (activeAt)",
                )
            if state == "firing":
                self.timeline.add(
                    tl.PROM_FIRING, labels.get("alertname", "?"), labels,
                    note=f"pending since t={active_at:+.3f}s",
                )
        for key in list(self._prom_state):
            if key not in seen:
                del self._prom_state[key]
                labels = dict(key)
                self.timeline.add(tl.PROM_INACTIVE, labels.get("alertname", "?"), labels)

    def _poll_alertmanager(self, api: AlertmanagerAPI) -> None:
        try:
            alerts = api.alerts()
        except (requests.RequestException, ValueError):
            self.errors += 1
            return  # a killed or paused peer: its state is simply not observed
        known = self._am_state[api.peer]
        seen = set()
        for alert in alerts:
            key = alert["fingerprint"]
            seen.add(key)
            status = alert.get("status", {})
            state = status.get("state", "unknown")
            labels = dict(alert["labels"])
            if known.get(key, ("",))[0] == state:
                continue
            known[key] = (state, labels)
            kind = {
                "active": tl.AM_ACTIVE,
                "suppressed": tl.AM_SUPPRESSED,
                "unprocessed": tl.AM_UNPROCESSED,
            }.get(state, tl.AM_UNPROCESSED)
            inhibited_by = list(status.get("inhibitedBy") or [])
            silenced_by = list(status.get("silencedBy") or [])
            note = f"peer {api.peer}"
            if inhibited_by:
                note += f", inhibited by {len(inhibited_by)}"
            if silenced_by:
                note += f", silenced by {', '.join(silenced_by)}"
            self.timeline.add(
                kind, labels.get("alertname", "?"), labels, peer=api.peer,
                fingerprint=alert["fingerprint"], inhibited_by=inhibited_by,
                silenced_by=silenced_by, note=note,
                receivers=sorted(r.get("name", "") for r in alert.get("receivers") or []),
            )
        for key in [k for k in known if k not in seen]:
            _, labels = known.pop(key)
            self.timeline.add(
                tl.AM_GONE, labels.get("alertname", "?"), labels, peer=api.peer,
                fingerprint=key, note=f"peer {api.peer}",
            )


def _bind(poll: Callable[[AlertmanagerAPI], None], api: AlertmanagerAPI) -> Callable[[], None]:
    return lambda: poll(api)


def _delivery_note(delivery: Delivery) -> str:
    dest = delivery.destination
    what = ",".join(sorted(delivery.alertnames)) or (delivery.text.splitlines() or [""])[0][:60]
    status = delivery.status or "?"
    fault = f" fault={delivery.fault}" if delivery.fault else ""
    return (
        f"{dest.integration}[{dest.index}] from alertmanager-{dest.peer} {status} {what} "
        f"→ {delivery.response_code}{fault}"
    )
