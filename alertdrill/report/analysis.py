"""What the report concludes from a scenario record: the SLA rows (claim → phase), the action
each clock starts from, which notifications are escalations, and what was observed without a
claim (first firing per alert, first notification per receiver, resolutions, the cluster).

Nothing here writes Markdown, HTML or SVG: the renderers read :class:`SlaRow` and the lines of
:func:`observed_lines`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from alertdrill.durations import human
from alertdrill.engine import timeline as tl
from alertdrill.engine.claimkinds import ClaimKind
from alertdrill.report.cells import alert_label, clock, labels_text, short_alert, when
from alertdrill.report.model import Claim, Event, Notification, claims, events, notifications

PHASES = ("detect", "notify", "escalate", "suppress", "resolve")
_ESCALATION_RECEIVER = re.compile(r"(?i)escalat|executive")
#: Escalation levels above the first page (an `escalation` label's value). `immediate` is not
#: one: it asks for a fast first page (the reference stack's critical alerts carry it).
_ESCALATION_LEVEL = re.compile(r"(?i)^(level[-_ ]?[2-9]|l[2-9]|executive|management)$")


def is_escalation(receiver: str | None, alerts: Iterable[dict[str, str]] = ()) -> bool:
    """An escalation: a receiver named for it, or alerts labelled with an escalation level."""
    if receiver and _ESCALATION_RECEIVER.search(receiver):
        return True
    return any(_ESCALATION_LEVEL.match(str(a.get("escalation", ""))) for a in alerts)


@dataclass
class SlaRow:
    """One line of a scenario's SLA table."""

    phase: str
    what: str
    counted_from: str
    start: float
    event_t: float | None
    measured: float | None
    sla_real: float | None = None
    sla_measured: float | None = None
    tolerance: float | None = None
    verdict: str = "no claim"  # passed | failed | no claim
    note: str = ""


# -- anchors: the actions SLA clocks start from ---------------------------------------------------
def _anchor_before(timeline: list[Event], t: float,
                   labels: Sequence[dict[str, str]] = ()) -> Event | None:
    """The action an observed event's clock starts from: the latest one before it that names
    the alert's service, job or instance host (a GameDay applies several faults), else the
    latest one before it."""
    anchors = [e for e in timeline if e.anchor and e.t <= t + 1e-9]
    hints = {v for lab in labels for k in ("service", "job", "instance")
             for v in (lab.get(k, ""), lab.get(k, "").rsplit(":", 1)[0]) if len(v) > 2}
    related = [a for a in anchors if any(h in str(a.subject) for h in hints)]
    chosen = related or anchors
    return chosen[-1] if chosen else None


def _anchor_at(timeline: list[Event], t: float) -> Event | None:
    return next((e for e in timeline if e.anchor and abs(e.t - t) < 1e-3), None)


def action_label(event: Event) -> str:
    """An action as the chart and the SLA table name it: ▼ stop web, ▲ revert stop web, …"""
    kind, subject = event.kind, str(event.subject)
    note = event.note
    if kind == tl.FAULT_APPLIED:
        return f"▼ {subject}"
    if kind == tl.FAULT_REVERTED:
        return f"▲ revert {subject}"
    if subject == "silence" and event.labels:
        verb = "unsilence" if note.endswith("removed") else "silence"
        return f"● {verb} {labels_text(event.labels)}"
    if note.startswith("pushed"):
        return f"● push {subject}"
    if note.startswith("resolved"):
        return f"● resolve {subject}"
    return f"● {subject}"


# -- claims ---------------------------------------------------------------------------------------
def claim_matches(claim: Claim, n: Notification) -> bool:
    """Whether notification ``n`` is what notification claim ``claim`` was about."""
    if claim.receiver and n.receiver != claim.receiver:
        return False
    if n.integration != (claim.integration or "probe") or not n.ok:
        return False
    if claim.status and n.status and n.status != claim.status:
        return False
    return not n.alertnames or claim.alertname in n.alertnames


def _late(record: dict[str, Any], claim: Claim) -> float | None:
    """For a failed claim: when its event did come, after the window (timeline seconds)."""
    end = float(claim.window_end or 0)
    if claim.late_t is not None:
        return float(claim.late_t)
    if claim.kind in (ClaimKind.NOTIFIED, ClaimKind.NOTIFIED_EXACTLY):
        for n in notifications(record):
            if n.t > end and claim_matches(claim, n):
                return float(n.t)
    if claim.kind == ClaimKind.ALERT_STATE:
        kind = f"prometheus.{claim.state}"
        want = claim.match_labels or {}
        for e in events(record):
            if (e.kind == kind and e.t > end and e.subject == claim.alertname
                    and all(e.labels.get(k) == v for k, v in want.items())):
                return float(e.t)
    return None


def _claim_phase(record: dict[str, Any], claim: Claim) -> str | None:
    kind = claim.claim_kind
    if kind is None or not kind.is_latency:  # unknown: a record from a newer or older harness
        return None
    if kind == ClaimKind.ALERT_STATE:
        return "resolve" if claim.state == "inactive" else "detect"
    if kind == ClaimKind.SUPPRESSED:
        return "suppress"
    if claim.status == "resolved":
        return "resolve"
    alerts: list[dict[str, str]] = []
    for n in notifications(record):
        if n.receiver == claim.receiver:
            alerts += n.alerts
    return "escalate" if is_escalation(claim.receiver, alerts) else "notify"


def _claim_what(claim: Claim) -> str:
    if claim.kind == ClaimKind.ALERT_STATE:
        state = {"firing": "firing", "pending": "pending", "inactive": "resolved"}.get(
            str(claim.state), str(claim.state))
        return f"{alert_label(str(claim.alertname), claim.match_labels)} {state} in Prometheus"
    if claim.kind == ClaimKind.SUPPRESSED:
        return f"{claim.alertname} {claim.how} in Alertmanager"
    via = f" via {claim.integration}" if claim.integration else ""
    resolved = " (resolved)" if claim.status == "resolved" else ""
    return f"{claim.receiver or 'any receiver'}{via} ← {claim.alertname}{resolved}"


def sla_rows(record: dict[str, Any]) -> list[SlaRow]:
    """The SLA table of a scenario: one row per latency claim, then what was observed without
    a claim (first firing per alert, first notification per receiver, resolutions)."""
    timeline = events(record)
    rows: list[SlaRow] = []
    claimed: set[tuple[str, str]] = set()
    for claim in claims(record):
        phase = _claim_phase(record, claim)
        if phase is None:
            continue
        start = float(claim.window_start)
        event_t = claim.matched_t if claim.passed else _late(record, claim)
        note = ""
        if not claim.passed:
            note = (f"arrived {human(float(event_t) - start)} after the clock started, after the "
                    "window" if event_t is not None else "never arrived")
        if claim.kind == ClaimKind.NOTIFIED_EXACTLY:
            note = (note + "; " if note else "") + \
                f"{claim.count}× of {claim.expected_count}× expected"
        anchor = _anchor_at(timeline, start)
        rows.append(SlaRow(
            phase=phase, what=_claim_what(claim),
            counted_from=action_label(anchor) if anchor else clock(str(claim.counted_from)),
            start=start, event_t=None if event_t is None else float(event_t),
            measured=None if event_t is None else float(event_t) - start,
            sla_real=claim.sla_real, sla_measured=claim.sla_measured,
            tolerance=claim.tolerance, verdict="passed" if claim.passed else "failed",
            note=note))
        subject = str(claim.receiver or claim.alertname or "")
        claimed.add((phase, subject))
    rows += _observed_rows(record, timeline, claimed)
    order = {p: i for i, p in enumerate(PHASES)}
    rows.sort(key=lambda r: (order.get(r.phase, 9), r.start, r.event_t if r.event_t is not None
                             else float("inf")))
    return rows


# -- what was observed without a claim ------------------------------------------------------------
def _observed_rows(record: dict[str, Any], timeline: list[Event],
                   claimed: set[tuple[str, str]]) -> list[SlaRow]:
    rows: list[SlaRow] = []
    seen: set[tuple[str, str]] = set()

    def add(phase: str, subject: str, key: str, what: str, t: float, note: str = "",
            labels: Sequence[dict[str, str]] = ()) -> None:
        anchor = _anchor_before(timeline, t, labels)
        if anchor is None or (phase, subject) in claimed or (phase, key) in seen:
            return
        seen.add((phase, key))
        rows.append(SlaRow(phase, what, action_label(anchor), anchor.t, t, t - anchor.t,
                           note=note))

    for e in timeline:
        if e.kind in (tl.PROM_FIRING, tl.PROM_INACTIVE):
            alert = short_alert(e.subject, e.labels)
            if e.kind == tl.PROM_FIRING:
                add("detect", e.subject, alert, f"{alert} firing in Prometheus", e.t,
                    labels=[e.labels])
            else:
                add("resolve", e.subject, alert, f"{alert} resolved in Prometheus", e.t,
                    labels=[e.labels])
    for n in notifications(record):
        # Structured deliveries only (the probe, webhooks): they name their alerts and status.
        if not n.ok or n.status not in ("firing", "resolved") or not n.alertnames:
            continue
        names = ", ".join(n.alertnames)
        via = "routing (probe)" if n.integration == "probe" else f"first via {n.integration}"
        if n.status == "resolved":
            add("resolve", n.receiver, n.receiver, f"{n.receiver} ← {names} (resolved)", n.t, via,
                n.alerts)
        else:
            phase = "escalate" if is_escalation(n.receiver, n.alerts) else "notify"
            add(phase, n.receiver, n.receiver, f"{n.receiver} ← {names}", n.t, via, n.alerts)
    return rows


def observed_lines(record: dict[str, Any]) -> list[str]:
    """What the scenario saw of the stack itself: duplicate notifications (the same one from a
    second peer), whether the stack fell behind, and each peer's cluster view."""
    lines = []
    for stack in record.get("stacks") or []:
        duplicates = stack.get("duplicates") or []
        if duplicates:
            lines.append(f"{len(duplicates)} duplicate notification"
                         f"{'' if len(duplicates) == 1 else 's'} (the same one from a second "
                         "peer within the peers' stagger): " + "; ".join(
                             f"{d['receiver']} {d['integration']} {d['status']} "
                             f"{', '.join(d.get('alertnames') or [])} from alertmanager-"
                             f"{d['first_peer']} at {when(d['first_t'])} and alertmanager-"
                             f"{d['peer']} at {when(d['t'])}" for d in duplicates))
        behind = stack.get("fell_behind") or []
        if behind:
            lines.append("⚠ the stack fell behind: " + "; ".join(behind))
        peers = stack.get("cluster") or []
        if len(peers) > 1:
            lines.append("cluster at the end: " + "; ".join(
                f"alertmanager-{p['peer']} " + (
                    f"{p.get('members') or 0:g} members, {p.get('failed_peers') or 0:g} failed"
                    if p.get("reachable") else "unreachable") for p in peers))
    return lines
