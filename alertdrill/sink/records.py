"""What the sink records of each delivery, in a form both the sink and the harness share.

Also the faults the sink simulates, and the :class:`Store` that keeps both under one lock.

The sink serialises :class:`Delivery` with :meth:`Delivery.to_json` on its control API and the
harness rebuilds it with :meth:`Delivery.from_json`; the two must stay exact inverses.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal, cast

from alertdrill.sink.protocol import INTEGRATIONS, Destination

#: Status of one alert, or of a whole notification, as Alertmanager reports it.
AlertStatus = Literal["firing", "resolved"]

_STATUSES: tuple[str, ...] = ("firing", "resolved")
#: Deliveries a :class:`Store` keeps; past this the oldest are dropped (a long drill sends thousands).
MAX_DELIVERIES = 100_000
#: How a fault makes the sink fail: answer an error status, answer late, or drop the connection.
FAULT_MODES = ("status", "delay", "drop")


def parse_status(value: object) -> AlertStatus | None:
    """``"firing"``/``"resolved"`` (any case) as the typed status; anything else is ``None``."""
    text = str(value).lower() if isinstance(value, str) else ""
    return cast(AlertStatus, text) if text in _STATUSES else None


def _str_dict(value: object) -> dict[str, str]:
    """A label or annotation map with string keys and values, whatever JSON arrived."""
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


@dataclass(frozen=True)
class NotifiedAlert:
    """One alert inside a structured (webhook or probe) notification."""

    labels: dict[str, str]
    annotations: dict[str, str]
    status: AlertStatus | None
    starts_at: str
    ends_at: str
    fingerprint: str
    #: Where the alert came from (Prometheus's graph link), as Alertmanager forwards it.
    generator_url: str = ""

    @property
    def alertname(self) -> str:
        """The ``alertname`` label, or ``""``."""
        return self.labels.get("alertname", "")

    def to_json(self) -> dict[str, Any]:
        """JSON form, with Alertmanager's own webhook key names."""
        return {
            "labels": dict(self.labels), "annotations": dict(self.annotations),
            "status": self.status, "startsAt": self.starts_at, "endsAt": self.ends_at,
            "fingerprint": self.fingerprint, "generatorURL": self.generator_url,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NotifiedAlert:
        """Inverse of :meth:`to_json`; also reads the alert objects of Alertmanager's webhook."""
        return cls(
            labels=_str_dict(data.get("labels")),
            annotations=_str_dict(data.get("annotations")),
            status=parse_status(data.get("status")),
            starts_at=str(data.get("startsAt", data.get("starts_at", "")) or ""),
            ends_at=str(data.get("endsAt", data.get("ends_at", "")) or ""),
            fingerprint=str(data.get("fingerprint", "") or ""),
            generator_url=str(data.get("generatorURL", "") or ""),
        )


def destination_to_json(dest: Destination) -> dict[str, Any]:
    """JSON form of a :class:`Destination` (the protocol module has none)."""
    return {"peer": dest.peer, "receiver": dest.receiver, "integration": dest.integration,
            "index": dest.index}


def destination_from_json(data: dict[str, Any]) -> Destination:
    """Inverse of :func:`destination_to_json`."""
    return Destination(int(data["peer"]), str(data["receiver"]), str(data["integration"]),
                       int(data["index"]))


@dataclass(frozen=True)
class Delivery:
    """One notification as it arrived at the sink: when, for whom, what, and what we answered.

    ``arrived`` is the sink's ``time.monotonic()`` once the body was fully read; on Linux that
    clock is system-wide, so the harness compares it with its own monotonic readings directly.
    ``response_code`` is 0 when a fault dropped the connection or delayed the answer.
    ``seq`` is the order of recording, which a reader polling ``after=seq`` can never skip; two
    concurrent deliveries may have ``arrived`` stamps in the other order (by their parse time).
    """

    seq: int
    arrived: float
    destination: Destination
    status: AlertStatus | None
    alerts: tuple[NotifiedAlert, ...]
    group_key: str | None
    text: str
    payload: dict[str, Any]
    response_code: int
    fault: str | None = None

    @property
    def alertnames(self) -> set[str]:
        """Names of the structured alerts carried (empty for text-only integrations)."""
        return {a.alertname for a in self.alerts} - {""}

    @property
    def ok(self) -> bool:
        """True when the sink answered 2xx (the delivery succeeded from Alertmanager's view)."""
        return 200 <= self.response_code < 300

    def to_json(self) -> dict[str, Any]:
        """JSON form (the sink's control API and report attachments)."""
        return {
            "seq": self.seq, "arrived": self.arrived,
            "destination": destination_to_json(self.destination),
            "status": self.status, "alerts": [a.to_json() for a in self.alerts],
            "group_key": self.group_key, "text": self.text, "payload": self.payload,
            "response_code": self.response_code, "fault": self.fault,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Delivery:
        """Inverse of :meth:`to_json`."""
        group_key = data.get("group_key")
        fault = data.get("fault")
        payload = data.get("payload")
        return cls(
            seq=int(data["seq"]), arrived=float(data["arrived"]),
            destination=destination_from_json(data["destination"]),
            status=parse_status(data.get("status")),
            alerts=tuple(NotifiedAlert.from_json(a) for a in data.get("alerts") or []),
            group_key=None if group_key is None else str(group_key),
            text=str(data.get("text") or ""),
            payload=dict(payload) if isinstance(payload, dict) else {},
            response_code=int(data.get("response_code", 0)),
            fault=None if fault is None else str(fault),
        )


@dataclass(frozen=True)
class Fault:
    """A receiver outage the sink simulates: answer ``status``, wait ``seconds``, or ``drop``."""

    id: str
    receiver: str | None
    integration: str | None
    mode: str
    status: int = 500
    seconds: float = 0.0
    #: Only the integration at this position among the receiver's of its kind (None: all).
    index: int | None = None

    @classmethod
    def from_spec(cls, fault_id: str, spec: object) -> Fault:
        """Validate a control-API spec; ``ValueError`` says what is wrong with it."""
        if not isinstance(spec, dict):
            raise ValueError("fault spec must be a JSON object")
        receiver, integration = spec.get("receiver"), spec.get("integration")
        mode = spec.get("mode", "status")
        if not isinstance(receiver, str | None):
            raise ValueError("receiver must be a string or null")
        if integration is not None and integration not in INTEGRATIONS:
            raise ValueError(f"integration must be null or one of {', '.join(INTEGRATIONS)}")
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}: use status, delay or drop")
        status, seconds = int(spec.get("status") or 500), float(spec.get("seconds") or 0.0)
        if not 100 <= status <= 599:
            raise ValueError(f"status {status} is not an HTTP status code")
        if not 0 <= seconds <= 3600:
            raise ValueError(f"seconds {seconds} must be between 0 and 3600")
        index = spec.get("index")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)
                                  or index < 0 or integration is None):
            raise ValueError("index must be a non-negative integer, with an integration")
        return cls(fault_id, receiver, integration, mode, status, seconds, index)

    def matches(self, dest: Destination) -> bool:
        """True when this fault applies to deliveries for ``dest``."""
        return (self.receiver in (None, dest.receiver)
                and self.integration in (None, dest.integration)
                and self.index in (None, dest.index))

    def describe(self) -> str:
        """Short text recorded on each faulted delivery."""
        return {"status": f"status {self.status}", "delay": f"delay {self.seconds:g}s",
                "drop": "connection dropped"}[self.mode]

    def to_json(self) -> dict[str, Any]:
        """JSON form for the control API."""
        data: dict[str, Any] = {"id": self.id, "receiver": self.receiver,
                                "integration": self.integration, "mode": self.mode,
                                "status": self.status, "seconds": self.seconds}
        if self.index is not None:
            data["index"] = self.index
        return data


class Store:
    """Deliveries and faults shared by the HTTP threads and the SMTP loop, under one lock."""

    def __init__(self, max_deliveries: int = MAX_DELIVERIES) -> None:
        self._lock = threading.Lock()
        self._deliveries: deque[Delivery] = deque(maxlen=max_deliveries)
        self._last_seq = 0
        self._last_fault = 0
        self._faults: dict[str, Fault] = {}

    @property
    def last_seq(self) -> int:
        """The highest sequence number handed out so far (0 before any delivery)."""
        with self._lock:
            return self._last_seq

    def record(self, **fields: Any) -> Delivery:
        """Append a delivery with the next sequence number."""
        with self._lock:
            self._last_seq += 1
            delivery = Delivery(seq=self._last_seq, **fields)
            self._deliveries.append(delivery)
        return delivery

    def after(self, seq: int) -> list[Delivery]:
        """Deliveries with a sequence number above ``seq``, in arrival order."""
        newer: list[Delivery] = []
        with self._lock:
            for delivery in reversed(self._deliveries):  # seqs increase along the deque
                if delivery.seq <= seq:
                    break
                newer.append(delivery)
        newer.reverse()
        return newer

    def fault_for(self, dest: Destination) -> Fault | None:
        """The newest fault matching ``dest``."""
        with self._lock:
            matching = [f for f in self._faults.values() if f.matches(dest)]
        return matching[-1] if matching else None

    def faults(self) -> list[Fault]:
        """Active faults, oldest first."""
        with self._lock:
            return list(self._faults.values())

    def add_fault(self, spec: object) -> Fault:
        """Register a fault from its JSON spec (``ValueError`` when invalid)."""
        with self._lock:
            fault = Fault.from_spec(f"f{self._last_fault + 1}", spec)
            self._last_fault += 1
            self._faults[fault.id] = fault
        return fault

    def heal(self, fault_id: str | None) -> bool:
        """Remove one fault (or all); False when the id is unknown."""
        with self._lock:
            if fault_id is None:
                self._faults.clear()
                return True
            return self._faults.pop(fault_id, None) is not None

    def reset(self) -> None:
        """Forget deliveries and faults (sequence numbers keep increasing)."""
        with self._lock:
            self._deliveries.clear()
            self._faults.clear()
