"""What the sink records of each delivery, in a form both the sink and the harness share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alertdrill.sink.protocol import Destination


@dataclass(frozen=True)
class NotifiedAlert:
    """One alert inside a structured (webhook or probe) notification."""

    labels: dict[str, str]
    annotations: dict[str, str]
    status: str
    starts_at: str
    ends_at: str
    fingerprint: str

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "labels": self.labels, "annotations": self.annotations, "status": self.status,
            "startsAt": self.starts_at, "endsAt": self.ends_at, "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NotifiedAlert:
        """Inverse of :meth:`to_json`; also reads Alertmanager's webhook alert objects."""
        return cls(
            labels=dict(data.get("labels") or {}),
            annotations=dict(data.get("annotations") or {}),
            status=str(data.get("status", "")),
            starts_at=str(data.get("startsAt", "")),
            ends_at=str(data.get("endsAt", "")),
            fingerprint=str(data.get("fingerprint", "")),
        )


@dataclass(frozen=True)
class Delivery:
    """One notification as it arrived at the sink: when, for whom, what, and what we answered."""

    seq: int
    arrived: float
    destination: Destination
    status: str | None
    alerts: tuple[NotifiedAlert, ...]
    group_key: str | None
    text: str
    payload: dict[str, Any]
    response_code: int
    fault: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def alertnames(self) -> set[str]:
        """Names of the structured alerts carried (empty for text-only integrations)."""
        return {a.labels.get("alertname", "") for a in self.alerts} - {""}

    @property
    def ok(self) -> bool:
        """True when the sink answered 2xx (the delivery succeeded from Alertmanager's view)."""
        return 200 <= self.response_code < 300

    def to_json(self) -> dict[str, Any]:
        """JSON form (the sink's API and report attachments)."""
        d = self.destination
        return {
            "seq": self.seq, "arrived": self.arrived,
            "destination": {"peer": d.peer, "receiver": d.receiver,
                            "integration": d.integration, "index": d.index},
            "status": self.status, "alerts": [a.to_json() for a in self.alerts],
            "group_key": self.group_key, "text": self.text, "payload": self.payload,
            "response_code": self.response_code, "fault": self.fault,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Delivery:
        """Inverse of :meth:`to_json`."""
        d = data["destination"]
        return cls(
            seq=int(data["seq"]), arrived=float(data["arrived"]),
            destination=Destination(int(d["peer"]), str(d["receiver"]), str(d["integration"]),
                                    int(d["index"])),
            status=data.get("status"),
            alerts=tuple(NotifiedAlert.from_json(a) for a in data.get("alerts") or []),
            group_key=data.get("group_key"), text=str(data.get("text", "")),
            payload=dict(data.get("payload") or {}), response_code=int(data["response_code"]),
            fault=data.get("fault"),
        )
