"""What the sink records of each delivery, in a form both the sink and the harness share.

The sink serialises :class:`Delivery` with :meth:`Delivery.to_json` on its control API and the
harness rebuilds it with :meth:`Delivery.from_json`; the two must stay exact inverses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

from alertdrill.sink.protocol import Destination

#: Status of one alert, or of a whole notification, as Alertmanager reports it.
AlertStatus = Literal["firing", "resolved"]

_STATUSES: tuple[str, ...] = ("firing", "resolved")


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

    @property
    def alertname(self) -> str:
        """The ``alertname`` label, or ``""``."""
        return self.labels.get("alertname", "")

    def to_json(self) -> dict[str, Any]:
        """JSON form, with Alertmanager's own webhook key names."""
        return {
            "labels": dict(self.labels), "annotations": dict(self.annotations),
            "status": self.status, "startsAt": self.starts_at, "endsAt": self.ends_at,
            "fingerprint": self.fingerprint,
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
