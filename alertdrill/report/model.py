"""Typed views of what the report reads from a scenario record: its claims, its notifications
and its timeline events.

The records on disk stay the JSON that :mod:`alertdrill.report.records` writes (and that
``alertdrill report --from`` reads from older runs too); these classes are how the report reads
them, so that a field is named once, with its type and its default, instead of a
``dict.get("...")`` at every use. ``from_json`` keeps every value as the record holds it (no
conversion: a count stays an int, an SLA stays what ``Expect`` wrote) and gives an absent key
its default; keys the report does not read are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from alertdrill.engine.claimkinds import ClaimKind
from alertdrill.report.records import claims_of, notifications_of

Labels = dict[str, str]


def _known(cls: type, data: dict[str, Any], renamed: dict[str, str] | None = None) -> dict[str, Any]:
    """The keyword arguments of ``cls`` that ``data`` holds (``renamed``: JSON key → field)."""
    names = {f.name for f in fields(cls)}
    renamed = renamed or {}
    out = {}
    for key, value in data.items():
        name = renamed.get(key, key)
        if name in names:
            out[name] = value
    return out


@dataclass
class Claim:
    """One claim's verdict (a Then-step): its kind, window, SLA and what met it."""

    kind: str | None = None
    t: float | None = None
    text: str = ""
    passed: bool = False
    window_start: float = 0.0
    window_end: float | None = None
    deadline: float = 0.0
    matched_t: float | None = None
    late_t: float | None = None
    measured: float | None = None
    sla_real: float | None = None
    sla_measured: float | None = None
    tolerance: float | None = None
    counted_from: str | None = None
    part_of: str | None = None
    receiver: str | None = None
    integration: str | None = None
    status: str | None = None
    alertname: str | None = None
    state: str | None = None
    match_labels: Labels | None = None
    how: str = "suppressed"
    count: int | None = None
    expected_count: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Claim:
        """A claim entry of a record (or a ``claim`` event's detail)."""
        return cls(**_known(cls, data, {"claim": "kind"}))

    @property
    def claim_kind(self) -> ClaimKind | None:
        """The kind as the enum; None for a kind this harness does not know (a record from a
        newer or older one)."""
        try:
            return ClaimKind(str(self.kind))
        except ValueError:
            return None


@dataclass
class Notification:
    """One notification as it arrived at the sink, and the sink's answer."""

    t: float
    receiver: str
    integration: str | None = None
    index: int | None = None
    peer: int | None = None
    status: str | None = None
    alertnames: list[str] = field(default_factory=list)
    alerts: list[Labels] = field(default_factory=list)
    response_code: int | None = None
    fault: str | None = None
    note: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Notification:
        """A notification entry of a record."""
        known = _known(cls, data)
        known["alertnames"] = list(known.get("alertnames") or [])
        known["alerts"] = list(known.get("alerts") or [])
        return cls(**known)

    @property
    def ok(self) -> bool:
        """Whether the delivery succeeded (the probe always does; others by their answer)."""
        code = int(self.response_code or 0)
        return self.integration == "probe" or 200 <= code < 300


@dataclass
class Event:
    """One timeline event: when, what kind, about what, its labels and its detail."""

    t: float
    kind: str
    subject: str
    labels: Labels = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    anchor: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        """A timeline entry of a record's stack."""
        known = _known(cls, data)
        known["labels"] = known.get("labels") or {}
        known["detail"] = known.get("detail") or {}
        return cls(**known)

    @property
    def note(self) -> str:
        """The event's note (empty when it has none)."""
        return str(self.detail.get("note", ""))


def scale(record: dict[str, Any]) -> float:
    """The record's time scale K (1 measured second = K real-world seconds)."""
    return float(record.get("time_scale") or 1.0)


def raw_events(record: dict[str, Any], index: int = 0) -> list[dict[str, Any]]:
    """The JSON timeline of the record's ``index``-th stack (empty when it has none)."""
    stacks = record.get("stacks") or []
    return list(stacks[index].get("timeline") or []) if len(stacks) > index else []


def events(record: dict[str, Any], index: int = 0) -> list[Event]:
    """The timeline of the record's ``index``-th stack."""
    return [Event.from_json(e) for e in raw_events(record, index)]


def claims(record: dict[str, Any]) -> list[Claim]:
    """The record's claims, in the order they were decided."""
    return [Claim.from_json(c) for c in record.get("claims") or []]


def notifications(record: dict[str, Any]) -> list[Notification]:
    """The record's notifications, in arrival order."""
    return [Notification.from_json(n) for n in record.get("notifications") or []]


def stack_claims(record: dict[str, Any], index: int = 0) -> list[Claim]:
    """The claims decided on one stack's timeline (a scenario may run several stacks)."""
    return [Claim.from_json(c) for c in claims_of(raw_events(record, index))]


def stack_notifications(record: dict[str, Any], index: int = 0) -> list[Notification]:
    """The notifications one stack's sink received."""
    return [Notification.from_json(n) for n in notifications_of(raw_events(record, index))]
