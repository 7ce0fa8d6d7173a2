"""The drill report: one self-contained HTML page and a Markdown twin, from scenario records.

Input: the JSON records a run leaves in ``reports/drill/`` (see :mod:`alertdrill.records`).
Output: ``drill-report.html`` (inline CSS and SVG, no script, no external URL) and
``drill-report.md`` (paste-able into a ticket). For every scenario:

- a **timeline chart** (inline SVG): x in measured seconds, with the real-world equivalent
  (× K) under each tick; a lane for the actions, one per alert Prometheus evaluated, one for what
  Alertmanager held back, and one per receiver and integration with a marker per notification;
  each claim is drawn in its lane as its window (a bar from the SLA clock's start) ending at a
  vertical deadline tick, green when it held and red when it did not;
- the **SLA table**: time to detect (action → Prometheus firing), to notify each receiver
  (action → its first notification), to escalate (the same, for escalation receivers or alerts
  labelled ``escalation=level-2|level-3|executive…``), and to resolve, measured and in real-world
  terms, beside the SLA its claim set and the verdict;
- every claim, what Alertmanager inhibited or silenced and by what, the steps, and for a
  failure what was expected beside what arrived (notifications in arrival order).

Everything user-supplied is escaped, and every record passes the redaction pass again
(:class:`alertdrill.redact.Redactor`) before it is rendered.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alertdrill import timeline as tl
from alertdrill.claimkinds import ClaimKind
from alertdrill.durations import human
from alertdrill.errors import AlertdrillError
from alertdrill.records import claims_of, load_records, notifications_of
from alertdrill.redact import Redactor
from alertdrill.text import plural

# -- what the tables show ---------------------------------------------------------------------
PHASES = ("detect", "notify", "escalate", "suppress", "resolve")
_PHASE_TITLE = {"detect": "Time to detect", "notify": "Time to notify",
                "escalate": "Time to escalate", "suppress": "Time to suppress",
                "resolve": "Time to resolve"}
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


def _scale(record: dict[str, Any]) -> float:
    return float(record.get("time_scale") or 1.0)


def _events(record: dict[str, Any], index: int = 0) -> list[dict[str, Any]]:
    stacks = record.get("stacks") or []
    return list(stacks[index].get("timeline") or []) if len(stacks) > index else []


def _anchor_before(events: list[dict[str, Any]], t: float,
                   labels: Sequence[dict[str, str]] = ()) -> dict[str, Any] | None:
    """The action an observed event's clock starts from: the latest one before it that names
    the alert's service, job or instance host (a GameDay applies several faults), else the
    latest one before it."""
    anchors = [e for e in events if e.get("anchor") and e["t"] <= t + 1e-9]
    hints = {v for lab in labels for k in ("service", "job", "instance")
             for v in (lab.get(k, ""), lab.get(k, "").rsplit(":", 1)[0]) if len(v) > 2}
    related = [a for a in anchors if any(h in str(a.get("subject", "")) for h in hints)]
    chosen = related or anchors
    return chosen[-1] if chosen else None


def _anchor_label(anchor: dict[str, Any]) -> str:
    return action_label(anchor)


def _anchor_at(events: list[dict[str, Any]], t: float) -> dict[str, Any] | None:
    return next((e for e in events if e.get("anchor") and abs(e["t"] - t) < 1e-3), None)


def action_label(event: dict[str, Any]) -> str:
    """An action as the chart and the SLA table name it: ▼ stop web, ▲ revert stop web, …"""
    kind, subject = event["kind"], str(event["subject"])
    note = str(event.get("detail", {}).get("note", ""))
    if kind == tl.FAULT_APPLIED:
        return f"▼ {subject}"
    if kind == tl.FAULT_REVERTED:
        return f"▲ revert {subject}"
    if subject == "silence" and event.get("labels"):
        verb = "unsilence" if note.endswith("removed") else "silence"
        return f"● {verb} {_labels_text(event['labels'])}"
    if note.startswith("pushed"):
        return f"● push {subject}"
    if note.startswith("resolved"):
        return f"● resolve {subject}"
    return f"● {subject}"


def _alert_label(alertname: str, labels: dict[str, str] | None) -> str:
    extra = {k: v for k, v in (labels or {}).items() if k != "alertname"}
    shown = ", ".join(f"{k}={v}" for k, v in sorted(extra.items()))
    return f"{alertname}{{{shown}}}" if shown else alertname


def _notification_ok(n: dict[str, Any]) -> bool:
    code = int(n.get("response_code") or 0)
    return n.get("integration") == "probe" or 200 <= code < 300


def _claim_matches(claim: dict[str, Any], n: dict[str, Any]) -> bool:
    """Whether notification ``n`` is what notification claim ``claim`` was about."""
    if claim.get("receiver") and n["receiver"] != claim["receiver"]:
        return False
    if n.get("integration") != (claim.get("integration") or "probe") or not _notification_ok(n):
        return False
    status = claim.get("status")
    if status and n.get("status") and n["status"] != status:
        return False
    names = n.get("alertnames") or []
    return not names or claim.get("alertname") in names


def _late(record: dict[str, Any], claim: dict[str, Any]) -> float | None:
    """For a failed claim: when its event did come, after the window (timeline seconds)."""
    end = float(claim.get("window_end", 0))
    if claim.get("late_t") is not None:
        return float(claim["late_t"])
    if claim.get("claim") in ("notified", "notified_exactly"):
        for n in record.get("notifications") or []:
            if n["t"] > end and _claim_matches(claim, n):
                return float(n["t"])
    if claim.get("claim") == "alert_state":
        kind = f"prometheus.{claim.get('state')}"
        want = claim.get("match_labels") or {}
        for e in _events(record):
            if (e["kind"] == kind and e["t"] > end and e["subject"] == claim.get("alertname")
                    and all(e["labels"].get(k) == v for k, v in want.items())):
                return float(e["t"])
    return None


def _claim_phase(record: dict[str, Any], claim: dict[str, Any]) -> str | None:
    try:
        kind = ClaimKind(str(claim.get("claim")))
    except ValueError:  # a record from a newer or older harness: show it as a claim only
        return None
    if not kind.is_latency:
        return None
    if kind == ClaimKind.ALERT_STATE:
        return "resolve" if claim.get("state") == "inactive" else "detect"
    if kind == ClaimKind.SUPPRESSED:
        return "suppress"
    if claim.get("status") == "resolved":
        return "resolve"
    alerts: list[dict[str, str]] = []
    for n in record.get("notifications") or []:
        if n["receiver"] == claim.get("receiver"):
            alerts += n.get("alerts") or []
    return "escalate" if is_escalation(claim.get("receiver"), alerts) else "notify"


def _claim_what(claim: dict[str, Any]) -> str:
    kind = claim.get("claim")
    if kind == "alert_state":
        state = {"firing": "firing", "pending": "pending", "inactive": "resolved"}.get(
            str(claim.get("state")), str(claim.get("state")))
        return f"{_alert_label(str(claim.get('alertname')), claim.get('match_labels'))} {state} " \
               "in Prometheus"
    if kind == "suppressed":
        return f"{claim.get('alertname')} {claim.get('how', 'suppressed')} in Alertmanager"
    via = f" via {claim['integration']}" if claim.get("integration") else ""
    resolved = " (resolved)" if claim.get("status") == "resolved" else ""
    return f"{claim.get('receiver') or 'any receiver'}{via} ← {claim.get('alertname')}{resolved}"


def sla_rows(record: dict[str, Any]) -> list[SlaRow]:
    """The SLA table of a scenario: one row per latency claim, then what was observed without
    a claim (first firing per alert, first notification per receiver, resolutions)."""
    events = _events(record)
    rows: list[SlaRow] = []
    claimed: set[tuple[str, str]] = set()
    for claim in record.get("claims") or []:
        phase = _claim_phase(record, claim)
        if phase is None:
            continue
        start = float(claim.get("window_start", 0.0))
        passed = bool(claim.get("passed"))
        event_t = claim.get("matched_t") if passed else _late(record, claim)
        note = ""
        if not passed:
            note = (f"arrived {human(float(event_t) - start)} after the clock started, after the "
                    "window" if event_t is not None else "never arrived")
        if claim.get("claim") == "notified_exactly":
            note = (note + "; " if note else "") + \
                f"{claim.get('count')}× of {claim.get('expected_count')}× expected"
        anchor = _anchor_at(events, start)
        rows.append(SlaRow(
            phase=phase, what=_claim_what(claim),
            counted_from=action_label(anchor) if anchor else _clock(str(claim.get("counted_from"))),
            start=start, event_t=None if event_t is None else float(event_t),
            measured=None if event_t is None else float(event_t) - start,
            sla_real=claim.get("sla_real"), sla_measured=claim.get("sla_measured"),
            tolerance=claim.get("tolerance"), verdict="passed" if passed else "failed",
            note=note))
        subject = str(claim.get("receiver") or claim.get("alertname") or "")
        claimed.add((phase, subject))
    rows += _observed_rows(record, events, claimed)
    order = {p: i for i, p in enumerate(PHASES)}
    rows.sort(key=lambda r: (order.get(r.phase, 9), r.start, r.event_t if r.event_t is not None
                             else float("inf")))
    return rows


def _observed_rows(record: dict[str, Any], events: list[dict[str, Any]],
                   claimed: set[tuple[str, str]]) -> list[SlaRow]:
    rows: list[SlaRow] = []
    seen: set[tuple[str, str]] = set()

    def add(phase: str, subject: str, key: str, what: str, t: float, note: str = "",
            labels: Sequence[dict[str, str]] = ()) -> None:
        anchor = _anchor_before(events, t, labels)
        if anchor is None or (phase, subject) in claimed or (phase, key) in seen:
            return
        seen.add((phase, key))
        rows.append(SlaRow(phase, what, _anchor_label(anchor), anchor["t"], t, t - anchor["t"],
                           note=note))

    for e in events:
        if e["kind"] in (tl.PROM_FIRING, tl.PROM_INACTIVE):
            alert = _short_alert(e["subject"], e["labels"])
            if e["kind"] == tl.PROM_FIRING:
                add("detect", e["subject"], alert, f"{alert} firing in Prometheus", e["t"],
                    labels=[e["labels"] or {}])
            else:
                add("resolve", e["subject"], alert, f"{alert} resolved in Prometheus", e["t"],
                    labels=[e["labels"] or {}])
    for n in record.get("notifications") or []:
        # Structured deliveries only (the probe, webhooks): they name their alerts and status.
        if not _notification_ok(n) or n.get("status") not in ("firing", "resolved") or \
                not n.get("alertnames"):
            continue
        names = ", ".join(n["alertnames"])
        via = "routing (probe)" if n.get("integration") == "probe" else \
            f"first via {n.get('integration')}"
        if n["status"] == "resolved":
            add("resolve", n["receiver"], n["receiver"], f"{n['receiver']} ← {names} (resolved)",
                n["t"], via, n.get("alerts") or [])
        else:
            phase = "escalate" if is_escalation(n["receiver"], n.get("alerts") or []) else "notify"
            add(phase, n["receiver"], n["receiver"], f"{n['receiver']} ← {names}", n["t"], via,
                n.get("alerts") or [])
    return rows


def _short_alert(alertname: str, labels: dict[str, str] | None) -> str:
    """An alert by its name and instance (the full label set belongs in tooltips)."""
    instance = (labels or {}).get("instance")
    return f"{alertname}{{instance={instance}}}" if instance else alertname


# -- formatting -------------------------------------------------------------------------------
def _secs(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} s" if abs(value) < 10 else f"{value:.1f} s"


def _real(value: float | None, k: float) -> str:
    if value is None:
        return "—"
    real = value * k
    return ("−" if real < 0 else "") + human(abs(real))


def _sla(row_or_claim: Any) -> str:
    get = row_or_claim.get if isinstance(row_or_claim, dict) else \
        lambda key, default=None: getattr(row_or_claim, key, default)
    real = get("sla_real")
    if real is None:
        return "—"
    measured, tolerance = get("sla_measured"), get("tolerance") or 0.0
    if measured is not None and abs(float(measured) - float(real)) > 1e-9:
        return f"{human(float(real))} ({_secs(float(measured))} + {_secs(float(tolerance))} tol.)"
    return f"{human(float(real))} (+ {_secs(float(tolerance))} tol.)"


_CLOCK = re.compile(r'^"(?P<subject>.*)" \((?P<kind>[^()]*)\)$')
_CLOCK_GLYPH = {tl.FAULT_APPLIED: "▼", tl.FAULT_REVERTED: "▲ revert", tl.ACTION: "●"}


def _clock(counted_from: str) -> str:
    """'"stop web" (fault.applied)' → '▼ stop web' (the chart's glyphs)."""
    match = _CLOCK.match(counted_from)
    if not match:
        return counted_from
    return f"{_CLOCK_GLYPH.get(match['kind'], match['kind'])} {match['subject']}"


def _sla_html(row_or_claim: Any) -> Cell:
    """The SLA in two lines: the real-world SLA, then the measured deadline and tolerance."""
    text = _sla(row_or_claim)
    if " (" not in text:
        return _e(text), "sla"
    head, rest = text.split(" (", 1)
    return f'<b>{_e(head)}</b><br><span class="sub">{_e(rest.rstrip(")"))}</span>', "sla"


def _when(t: float | None) -> str:
    return "—" if t is None else f"t={t:+.2f} s"


_VERDICT_ICON = {"passed": "✓ pass", "failed": "✗ FAIL", "no claim": "· no claim"}
_OUTCOME_ICON = {"passed": "✅", "failed": "❌", "error": "⛔", "skipped": "⏭"}


def _labels_text(labels: dict[str, str] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def _held_back_reason(entry: dict[str, Any]) -> str:
    parts = []
    for inh in entry.get("inhibited_by") or []:
        parts.append(f"inhibited by {_short_alert(inh.get('alertname', '?'), inh.get('labels'))}")
    for sil in entry.get("silenced_by") or []:
        who = f" by {sil['created_by']}" if sil.get("created_by") else ""
        why = f": {sil['comment']}" if sil.get("comment") else ""
        parts.append(f"silenced by silence {str(sil.get('id', '?'))[:8]}"
                     + (f" ({_labels_text(sil.get('matchers'))})" if sil.get("matchers") else "")
                     + (f", created{who}{why}" if who or why else ""))
    return "; ".join(parts) or "suppressed"


def _expected_part(message: str) -> str:
    """The head of a claim's failure message: the claim, the window, what matched, the actions."""
    head = message.split("\n  notifications, in arrival order:")[0]
    return head.strip()


# -- the chart ----------------------------------------------------------------------------------
_INTEGRATION_COLOUR = {
    "probe": "#64748b", "slack": "#7c3aed", "pagerduty": "#059669", "email": "#d97706",
    "webhook": "#0284c7", "opsgenie": "#db2777", "victorops": "#ea580c",
}
_PASS, _FAIL = "#16a34a", "#dc2626"
_W, _LABEL_W, _RIGHT, _TOP, _LANE = 1120, 270, 24, 64, 30


@dataclass
class _Lane:
    key: tuple[str, ...]
    title: str
    group: str
    y: float = 0.0


def _nice_step(span: float) -> float:
    raw = span / 8
    for step in (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 15, 20, 30, 60, 120, 300, 600,
                 1800, 3600):
        if step >= raw:
            return step
    return 7200.0


def chart_svg(record: dict[str, Any], index: int = 0) -> str:
    """The timeline chart of one of the scenario's stacks, as a standalone inline SVG."""
    record = Redactor().scrub(record)
    k = _scale(record)
    events = _events(record, index)
    claims, notifications = claims_of(events), notifications_of(events)
    lanes: dict[tuple[str, ...], _Lane] = {}

    def lane(key: tuple[str, ...], title: str, group: str) -> _Lane:
        if key not in lanes:
            lanes[key] = _Lane(key, title, group)
        return lanes[key]

    lane(("actions",), "Actions (SLA clocks start)", "actions")
    alert_keys: dict[str, tuple[str, ...]] = {}
    for e in events:
        if e["kind"] in (tl.PROM_PENDING, tl.PROM_FIRING, tl.PROM_INACTIVE):
            instance = e["labels"].get("instance", "")
            key = ("prom", e["subject"], instance)
            lane(key, f"{e['subject']}" + (f" ({instance})" if instance else ""), "prometheus")
            alert_keys.setdefault(e["subject"], key)
    for c in claims:
        if c.get("claim") == "alert_state":
            want = (c.get("match_labels") or {}).get("instance", "")
            key = ("prom", str(c.get("alertname")), want)
            if want or str(c.get("alertname")) not in alert_keys:
                lane(key, f"{c.get('alertname')}" + (f" ({want})" if want else ""), "prometheus")
    if any(e["kind"] == tl.AM_SUPPRESSED for e in events) or any(
            c.get("claim") == "suppressed" for c in claims):
        lane(("am",), "Alertmanager: held back", "alertmanager")
    receiver_keys = set()
    for n in notifications:
        receiver_keys.add((str(n["receiver"]), str(n.get("integration") or "?")))
    for c in claims:
        if c.get("receiver") and c.get("claim") in ("notified", "notified_exactly",
                                                    "never_notified"):
            receiver_keys.add((str(c["receiver"]), str(c.get("integration") or "probe")))
    for receiver, integration in sorted(receiver_keys, key=lambda r: (r[0], r[1] != "probe", r[1])):
        title = f"{receiver} · {'routing (probe)' if integration == 'probe' else integration}"
        lane(("rcv", receiver, integration), title, "receiver")
    if any(c.get("claim") in ("eventually",) for c in claims):
        lane(("checks",), "Checks", "checks")

    ordered = sorted(lanes.values(), key=lambda ln: (
        ["actions", "prometheus", "alertmanager", "receiver", "checks"].index(ln.group), 0))
    for i, ln in enumerate(ordered):
        ln.y = _TOP + i * _LANE
    height_plot = len(ordered) * _LANE
    legend_y = _TOP + height_plot + 50
    height = legend_y + 58

    # Claims are drawn as their windows; when they were decided does not stretch the axis.
    shown = [e["t"] for e in events if e["kind"] not in (tl.STACK_READY, tl.STACK_WARNING,
                                                          tl.AM_ACTIVE, tl.AM_GONE,
                                                          tl.AM_UNPROCESSED, tl.CLAIM)]
    shown += [float(c.get("window_end", 0)) for c in claims]
    shown += [float(n["t"]) for n in notifications]
    t0 = min([0.0, *shown]) if shown else 0.0
    t1 = max([1.0, *shown]) if shown else 1.0
    pad = (t1 - t0) * 0.03 or 0.1
    t0, t1 = t0 - pad, t1 + pad
    x0, x1 = _LABEL_W, _W - _RIGHT

    def x(t: float) -> float:
        return x0 + (t - t0) / (t1 - t0) * (x1 - x0)

    out: list[str] = []
    add = out.append
    name = html.escape(str(record.get("scenario", {}).get("name", "")))
    add(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {_W} {height}" '
        f'width="{_W}" height="{height}" role="img" aria-label="Timeline of {name}" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12">')
    add(f"<title>Timeline: {name}</title>")
    add(f'<rect x="0" y="0" width="{_W}" height="{height}" fill="#ffffff"/>')
    # lanes
    for i, ln in enumerate(ordered):
        fill = "#f8fafc" if i % 2 == 0 else "#ffffff"
        add(f'<rect x="0" y="{ln.y}" width="{_W}" height="{_LANE}" fill="{fill}"/>')
        colour = {"actions": "#0f172a", "prometheus": "#b91c1c", "alertmanager": "#475569",
                  "receiver": "#1e3a8a", "checks": "#334155"}[ln.group]
        add(f'<text x="{_LABEL_W - 10}" y="{ln.y + _LANE / 2 + 4}" text-anchor="end" '
            f'fill="{colour}" class="lane-title"><title>{html.escape(ln.title)}</title>'
            f"{html.escape(_clip(ln.title, 36))}</text>")
    # axis and grid
    step = _nice_step(t1 - t0)
    tick = (int(t0 / step) - 1) * step
    axis_y = _TOP + height_plot
    add(f'<line x1="{x0}" y1="{axis_y}" x2="{x1}" y2="{axis_y}" stroke="#94a3b8"/>')
    while tick <= t1:
        if tick >= t0:
            tx = x(tick)
            add(f'<line x1="{tx:.1f}" y1="{_TOP}" x2="{tx:.1f}" y2="{axis_y}" stroke="#e2e8f0"/>')
            add(f'<text x="{tx:.1f}" y="{axis_y + 15}" text-anchor="middle" fill="#334155">'
                f"{_tick(tick)}</text>")
            if k != 1:
                add(f'<text x="{tx:.1f}" y="{axis_y + 29}" text-anchor="middle" fill="#94a3b8" '
                    f'font-size="10.5">{_tick_real(tick, k)}</text>')
        tick = round(tick + step, 6)
    add(f'<text x="{x0 - 10}" y="{axis_y + 15}" text-anchor="end" fill="#334155" '
        'font-weight="600">measured</text>')
    if k != 1:
        add(f'<text x="{x0 - 10}" y="{axis_y + 29}" text-anchor="end" fill="#94a3b8" '
            f'font-size="10.5">real-world (×{k:g})</text>')
    # actions: full-height lines, labels staggered in the header band
    actions = lanes[("actions",)]
    anchors = [e for e in events if e.get("anchor") or e["kind"] in (tl.FAULT_APPLIED,
                                                                     tl.FAULT_REVERTED)]
    row_end = [-1e9, -1e9, -1e9]  # where each label row's last label ends (x)
    for e in anchors:
        ax = x(e["t"])
        colour = {"fault.applied": _FAIL, "fault.reverted": _PASS}.get(e["kind"], "#2563eb")
        label = _clip(action_label(e), 34)
        width = len(label) * 6.6 + 8
        near_end = ax + width > _W - 8
        left = ax - width if near_end else ax
        free = [r for r in range(3) if row_end[r] < left]
        row = free[0] if free else min(range(3), key=lambda r: row_end[r])
        row_end[row] = left + width
        label_y = 18 + row * 15
        tip = f"{_when(e['t'])} ({_real(e['t'], k)}) {e['kind']}: {e['subject']}"
        note = e.get("detail", {}).get("note")
        if note:
            tip += f" — {note}"
        add(f'<g class="mk mk-action" data-t="{e["t"]}"><title>{html.escape(tip)}</title>')
        add(f'<line x1="{ax:.1f}" y1="{label_y + 4}" x2="{ax:.1f}" y2="{axis_y}" stroke="{colour}" '
            'stroke-width="1.3" stroke-dasharray="5 3" opacity="0.75"/>')
        add(f'<text x="{ax - 3 if near_end else ax + 3:.1f}" y="{label_y}" fill="{colour}" '
            f'font-weight="600" text-anchor="{"end" if near_end else "start"}">'
            f"{html.escape(label)}</text>")
        add(f'<circle cx="{ax:.1f}" cy="{actions.y + _LANE / 2}" r="5" fill="{colour}"/></g>')
    # claims: a bar from the clock's start to the deadline (tolerance lighter), deadline tick
    per_lane: dict[tuple[str, ...], int] = {}
    for c in claims:
        target = _claim_lane(c, lanes, alert_keys)
        if target is None:
            continue
        slot = per_lane.get(target.key, 0)
        per_lane[target.key] = slot + 1
        passed = bool(c.get("passed"))
        colour = _PASS if passed else _FAIL
        by = target.y + 5 + (slot % 3) * 3
        start, deadline = float(c.get("window_start", 0)), float(c.get("deadline", 0))
        end = float(c.get("window_end", deadline))
        tip = (f"{'✓' if passed else '✗'} {c.get('text', '')}: window {_when(start)} … "
               f"{_when(end)}; deadline {_when(deadline)}"
               + (f"; measured {_secs(c.get('measured'))} ({_real(c.get('measured'), k)})"
                  if c.get("measured") is not None else ""))
        kind_class = "mk-claim-pass" if passed else "mk-claim-fail"
        dash = ' stroke-dasharray="2 3"' if c.get("claim") == "never_notified" else ""
        add(f'<g class="mk mk-claim {kind_class}"><title>{html.escape(tip)}</title>')
        add(f'<line x1="{x(start):.1f}" y1="{by}" x2="{x(deadline):.1f}" y2="{by}" '
            f'stroke="{colour}" stroke-width="2.5" opacity="0.85"{dash}/>')
        add(f'<line x1="{x(deadline):.1f}" y1="{by}" x2="{x(end):.1f}" y2="{by}" '
            f'stroke="{colour}" stroke-width="2.5" opacity="0.3"/>')
        add(f'<line x1="{x(deadline):.1f}" y1="{target.y + 2}" x2="{x(deadline):.1f}" '
            f'y2="{target.y + _LANE - 2}" stroke="{colour}" stroke-width="2"/>')
        if c.get("matched_t") is not None and passed:
            mx = x(float(c["matched_t"]))
            add(f'<circle cx="{mx:.1f}" cy="{target.y + _LANE / 2}" r="8.5" fill="none" '
                f'stroke="{colour}" stroke-width="1.5"/>')
        add("</g>")
    # alerts in Prometheus
    for e in events:
        if e["kind"] not in (tl.PROM_PENDING, tl.PROM_FIRING, tl.PROM_INACTIVE):
            continue
        ln = lanes[("prom", e["subject"], e["labels"].get("instance", ""))]
        cx, cy = x(e["t"]), ln.y + _LANE / 2
        state = e["kind"].split(".")[-1]
        tip = f"{_when(e['t'])} ({_real(e['t'], k)}) {_alert_label(e['subject'], e['labels'])} {state}"
        add(f'<g class="mk mk-{state}"><title>{html.escape(tip)}</title>')
        if state == "pending":
            add(f'<circle cx="{cx:.1f}" cy="{cy}" r="5" fill="#ffffff" stroke="#d97706" '
                'stroke-width="2"/>')
        elif state == "firing":
            add(f'<path d="M{cx:.1f},{cy - 7} L{cx + 6.5:.1f},{cy + 5} L{cx - 6.5:.1f},{cy + 5} Z" '
                f'fill="{_FAIL}"/>')
        else:
            add(f'<rect x="{cx - 5:.1f}" y="{cy - 5}" width="10" height="10" fill="{_PASS}"/>')
        add("</g>")
    # Alertmanager: first suppression of each alert
    seen_fp: set[str] = set()
    for e in events:
        if e["kind"] != tl.AM_SUPPRESSED:
            continue
        fp = str(e["detail"].get("fingerprint") or e["subject"])
        if fp in seen_fp:
            continue
        seen_fp.add(fp)
        cx, cy = x(e["t"]), lanes[("am",)].y + _LANE / 2
        why = "inhibited" if e["detail"].get("inhibited_by") else "silenced" if e["detail"].get(
            "silenced_by") else "suppressed"
        tip = f"{_when(e['t'])} {_alert_label(e['subject'], e['labels'])} {why}"
        add(f'<g class="mk mk-suppressed"><title>{html.escape(tip)}</title>'
            f'<circle cx="{cx:.1f}" cy="{cy}" r="6" fill="#ffffff" stroke="#475569" stroke-width="2"/>'
            f'<line x1="{cx - 4:.1f}" y1="{cy + 4}" x2="{cx + 4:.1f}" y2="{cy - 4}" stroke="#475569" '
            'stroke-width="2"/></g>')
    # notifications
    for n in notifications:
        integration = str(n.get("integration") or "?")
        ln = lanes[("rcv", str(n["receiver"]), integration)]
        cx, cy = x(float(n["t"])), ln.y + _LANE / 2
        colour = _INTEGRATION_COLOUR.get(integration, "#0f766e")
        ok = _notification_ok(n)
        resolved = n.get("status") == "resolved"
        names = ", ".join(n.get("alertnames") or []) or "(text only)"
        tip = (f"{_when(float(n['t']))} ({_real(float(n['t']), k)}) {n['receiver']} via "
               f"{integration}: {n.get('status') or '?'} {names} → {n.get('response_code')}"
               + (f" fault={n.get('fault')}" if n.get("fault") else ""))
        status_class = "resolved" if resolved else "firing"
        add(f'<g class="mk mk-notification mk-{status_class}{"" if ok else " mk-failed"}" '
            f'data-t="{n["t"]}" data-receiver="{html.escape(str(n["receiver"]))}" '
            f'data-integration="{html.escape(integration)}"><title>{html.escape(tip)}</title>')
        fill = colour if ok else "#ffffff"
        if resolved:
            add(f'<rect x="{cx - 5.5:.1f}" y="{cy - 5.5}" width="11" height="11" rx="2" '
                f'fill="{fill}" stroke="{colour}" stroke-width="2"/>')
            add(f'<path d="M{cx - 3:.1f},{cy} l2.2,2.4 l4,-4.6" stroke="#ffffff" fill="none" '
                'stroke-width="1.6"/>')
        else:
            add(f'<circle cx="{cx:.1f}" cy="{cy}" r="5.5" fill="{fill}" stroke="{colour}" '
                'stroke-width="2"/>')
        if not ok:
            add(f'<path d="M{cx - 3:.1f},{cy - 3} l6,6 m0,-6 l-6,6" stroke="{_FAIL}" '
                'stroke-width="1.8"/>')
        add("</g>")
    # checks
    for e in events:
        if e["kind"] == tl.CHECK and ("checks",) in lanes:
            cx, cy = x(e["t"]), lanes[("checks",)].y + _LANE / 2
            add(f'<g class="mk mk-check"><title>{html.escape(_when(e["t"]) + " " + e["subject"])}'
                f'</title><circle cx="{cx:.1f}" cy="{cy}" r="4.5" fill="#334155"/></g>')
    # legend
    add(_legend(legend_y))
    add("</svg>")
    return "\n".join(out)


def _claim_lane(claim: dict[str, Any], lanes: dict[tuple[str, ...], _Lane],
                alert_keys: dict[str, tuple[str, ...]]) -> _Lane | None:
    kind = claim.get("claim")
    if kind == "alert_state":
        want = (claim.get("match_labels") or {}).get("instance", "")
        key = ("prom", str(claim.get("alertname")), want)
        if key not in lanes:
            key = alert_keys.get(str(claim.get("alertname")), key)
        return lanes.get(key)
    if kind == "suppressed":
        return lanes.get(("am",))
    if kind in ("notified", "notified_exactly", "never_notified") and claim.get("receiver"):
        return lanes.get(("rcv", str(claim["receiver"]), str(claim.get("integration") or "probe")))
    if kind == "eventually":
        return lanes.get(("checks",))
    return None


def _legend(y: float) -> str:
    markers = [
        (f'<path d="M0,-6 L5.5,4 L-5.5,4 Z" fill="{_FAIL}"/>', "firing (Prometheus)"),
        ('<circle r="5" fill="#fff" stroke="#d97706" stroke-width="2"/>', "pending"),
        (f'<rect x="-5" y="-5" width="10" height="10" fill="{_PASS}"/>', "resolved"),
        ('<circle r="5.5" fill="#7c3aed"/>', "notification (firing)"),
        ('<rect x="-5.5" y="-5.5" width="11" height="11" rx="2" fill="#059669"/>',
         "notification (resolved)"),
        (f'<circle r="5.5" fill="#fff" stroke="#7c3aed" stroke-width="2"/><path d="M-3,-3 l6,6 '
         f'm0,-6 l-6,6" stroke="{_FAIL}" stroke-width="1.8"/>', "delivery failed"),
        ('<circle r="6" fill="#fff" stroke="#475569" stroke-width="2"/><line x1="-4" y1="4" '
         'x2="4" y2="-4" stroke="#475569" stroke-width="2"/>', "held back"),
    ]
    claims = [
        (_claim_symbol(_PASS), "claim held: window from the SLA clock's start to the deadline"),
        (_claim_symbol(_FAIL), "claim failed"),
        (f'<circle r="8.5" fill="none" stroke="{_PASS}" stroke-width="1.5"/>',
         "the event that met the claim"),
    ]
    parts = [f'<g class="legend" transform="translate(24,{y})">']
    for row, items in enumerate((markers, claims)):
        col = 0.0
        for symbol, text in items:
            parts.append(f'<g transform="translate({col + 12:.0f},{row * 20})">{symbol}'
                         f'<text x="14" y="4" fill="#334155">{html.escape(text)}</text></g>')
            col += 40 + len(text) * 6.4
    integrations = " ".join(f'<tspan fill="{c}" font-weight="600">■ {n}</tspan>'
                            for n, c in _INTEGRATION_COLOUR.items())
    parts.append(f'<text x="12" y="44" fill="#334155">marker colour = integration: '
                 f"{integrations}</text></g>")
    return "".join(parts)


def _claim_symbol(colour: str) -> str:
    return (f'<line x1="-14" y1="0" x2="4" y2="0" stroke="{colour}" stroke-width="2.5"/>'
            f'<line x1="4" y1="0" x2="10" y2="0" stroke="{colour}" stroke-width="2.5" '
            f'opacity="0.3"/><line x1="4" y1="-7" x2="4" y2="7" stroke="{colour}" '
            'stroke-width="2"/>')


def _tick_real(t: float, k: float) -> str:
    return "0" if abs(t) < 1e-9 else _real(t, k)


def _tick(t: float) -> str:
    return f"{t:g} s" if abs(t) >= 0.01 or t == 0 else f"{t:.2f} s"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- Markdown ---------------------------------------------------------------------------------
def _md(text: Any) -> str:
    """A Markdown table cell: one line, pipes escaped, HTML-ish characters neutralised."""
    value = " ".join(str(text if text is not None else "").split())
    value = value.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return value or " "


def _md_table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(_md(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines


def _claim_rows(record: dict[str, Any]) -> list[list[Any]]:
    k = _scale(record)
    rows = []
    for i, c in enumerate(record.get("claims") or [], 1):
        measured = c.get("measured")
        rows.append([i, ("  ↳ " if c.get("part_of") else "") + str(c.get("text", "")),
                     _when(c.get("t")), _secs(measured), _real(measured, k), _sla(c),
                     _VERDICT_ICON["passed" if c.get("passed") else "failed"]])
    return rows


def _sla_table_rows(record: dict[str, Any]) -> list[list[Any]]:
    k = _scale(record)
    return [[_PHASE_TITLE.get(r.phase, r.phase), r.what, f"{_clock(r.counted_from)} ({_when(r.start)})",
             _secs(r.measured), _real(r.measured, k), _sla(r), _VERDICT_ICON[r.verdict],
             r.note] for r in sla_rows(record)]


_SLA_HEADERS = ["", "what", "clock from", "measured", "real-world", "SLA (real-world)", "result",
                "note"]
_CLAIM_HEADERS = ["#", "claim", "decided", "measured", "real-world", "SLA (real-world)", "result"]


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
                             f"{d['first_peer']} at {_when(d['first_t'])} and alertmanager-"
                             f"{d['peer']} at {_when(d['t'])}" for d in duplicates))
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


def markdown_section(record: dict[str, Any]) -> str:
    """One scenario's part of the Markdown report (also attached to its Allure result)."""
    record = Redactor().scrub(record)
    k = _scale(record)
    outcome = str(record.get("outcome", "?"))
    scenario, feature = record.get("scenario", {}), record.get("feature", {})
    lines = [f"## {_OUTCOME_ICON.get(outcome, '')} {outcome.upper()} — {_md(scenario.get('name'))}",
             "",
             f"Feature: {_md(feature.get('name'))} (`{feature.get('file')}:{scenario.get('line')}`)"
             + (f" · tags: {', '.join('@' + t for t in record.get('tags') or [])}"
                if record.get("tags") else "")
             + f" · K={k:g} · tolerance {_secs(record.get('tolerance'))}"
             + (f" · {record['duration']:.1f} s" if record.get("duration") is not None else ""),
             ""]
    if outcome in ("failed", "error") and record.get("message"):
        failed = outcome == "failed"
        lines += ["### What failed" if failed else
                  "### Error — the scenario could not run to its end", ""]
        if record.get("failed_step"):
            lines += [f"Step: {_md(record['failed_step'])}", ""]
        fence = _expected_part(str(record["message"])).replace("```", "` ` `")
        lines += (["Expected:", ""] if failed else []) + ["```text", fence, "```", ""]
        arrived = [[_when(n["t"]), _real(n["t"], k), n["receiver"], n.get("integration"),
                    n.get("status") or "—", ", ".join(n.get("alertnames") or []) or "(text)",
                    n.get("response_code")] for n in record.get("notifications") or []]
        if failed or arrived:
            lines += ["What arrived (notifications in arrival order):", ""]
            lines += _md_table(["at", "real-world", "receiver", "integration", "status",
                                "alerts", "answer"], arrived) if arrived else \
                ["(no notification arrived)"]
            lines.append("")
    if not record.get("stacks"):
        lines += ["(no stack was started for this scenario)", ""]
        return "\n".join(lines)
    kept = [f"`{s['workdir']}` ({_md(s.get('name'))})" for s in record["stacks"]
            if s.get("workdir")]
    if kept:  # --keep-workdir: the stack's logs and rendered configs are there
        lines += [f"Kept workdir: {', '.join(kept)}", ""]
    rows = _sla_table_rows(record)
    lines += ["### SLA", ""]
    lines += _md_table(_SLA_HEADERS, rows) if rows else ["(nothing measured)"]
    claims = _claim_rows(record)
    lines += ["", "### Claims", ""]
    lines += _md_table(_CLAIM_HEADERS, claims) if claims else ["(no claim was checked)"]
    observed = observed_lines(record)
    if observed:
        lines += ["", "### Cluster and stack health", ""] + [f"- {_md(o)}" for o in observed]
    held = record.get("suppressed") or []
    if held:
        lines += ["", "### Inhibited or silenced", ""]
        lines += _md_table(["alert", "since", "peers", "why"], [
            [_short_alert(h["alertname"], h.get("labels")), _when(h["t"]),
             ", ".join(map(str, h.get("peers") or [])), _held_back_reason(h)] for h in held])
    lines.append("")
    return "\n".join(lines)


def markdown(records: list[dict[str, Any]]) -> str:
    """The whole Markdown report."""
    records = [Redactor().scrub(r) for r in records]
    summary = _summary(records)
    lines = ["# alertdrill drill report", "",
             f"Run {summary['run_date']} · time scale {summary['scales']} · tolerance "
             f"{summary['tolerances']} · generated {summary['generated']}", "",
             f"**{plural(summary['total'], 'scenario')}: {summary['passed']} passed, "
             f"{summary['failed']} failed, {plural(summary['error'], 'error')}"
             f"{_skipped(summary)}** · claims: "
             f"{summary['claims_passed']} held, {summary['claims_failed']} failed", ""]
    lines += _md_table(["", "scenario", "feature", "claims", "duration"], [
        [f"{_OUTCOME_ICON.get(str(r.get('outcome')), '')} {r.get('outcome')}",
         r.get("scenario", {}).get("name"), r.get("feature", {}).get("file"), _claims_count(r),
         _secs(r.get("duration"))] for r in records])
    lines.append("")
    for r in records:
        lines += [markdown_section(r), ""]
    return "\n".join(lines).rstrip() + "\n"


def _skipped(summary: dict[str, Any]) -> str:
    return f", {summary['skipped']} skipped" if summary["skipped"] else ""


def _claims_count(record: dict[str, Any]) -> str:
    claims = record.get("claims") or []
    ok = sum(1 for c in claims if c.get("passed"))
    return f"{ok}/{len(claims)}"


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {o: sum(1 for r in records if r.get("outcome") == o)
              for o in ("passed", "failed", "error", "skipped")}
    claims = [c for r in records for c in r.get("claims") or []]
    starts = sorted(str(r.get("run", {}).get("started") or r.get("started") or "")
                    for r in records)
    scales = sorted({float(r.get("time_scale") or 1) for r in records})
    tolerances = sorted({float(r.get("tolerance") or 0) for r in records})
    return {
        **counts, "total": len(records),
        "claims_passed": sum(1 for c in claims if c.get("passed")),
        "claims_failed": sum(1 for c in claims if not c.get("passed")),
        "run_date": _pretty_date(starts[0]) if starts and starts[0] else "?",
        "scales": ", ".join(f"K={k:g}" for k in scales) or "?",
        "tolerances": ", ".join(_secs(t) for t in tolerances) or "?",
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _pretty_date(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return iso


# -- HTML -----------------------------------------------------------------------------------------
_CSS = """
:root { --ok:#16a34a; --bad:#dc2626; --err:#9333ea; --ink:#0f172a; --muted:#64748b;
  --line:#e2e8f0; --bg:#f1f5f9; --card:#ffffff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
header.top { background:#0f172a; color:#f8fafc; padding:22px 32px 18px; }
header.top h1 { margin:0 0 4px; font-size:22px; font-weight:650; letter-spacing:.2px; }
header.top .meta { color:#cbd5e1; font-size:13px; }
main { max-width:1200px; margin:0 auto; padding:20px 24px 48px; }
.cards { display:flex; gap:12px; flex-wrap:wrap; margin:0 0 18px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 18px;
  min-width:130px; }
.card .n { font-size:26px; font-weight:700; line-height:1.1; }
.card .l { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.6px; }
.card.ok .n { color:var(--ok); } .card.bad .n { color:var(--bad); } .card.err .n { color:var(--err); }
section.scenario, .panel { background:var(--card); border:1px solid var(--line); border-radius:12px;
  padding:18px 22px; margin:0 0 22px; }
section.scenario.failed { border-left:6px solid var(--bad); }
section.scenario.error { border-left:6px solid var(--err); }
section.scenario.passed { border-left:6px solid var(--ok); }
h2 { font-size:18px; margin:0 0 6px; } h3 { font-size:14px; margin:20px 0 8px; color:#334155;
  text-transform:uppercase; letter-spacing:.5px; }
.badge { display:inline-block; border-radius:999px; padding:1px 10px; font-size:12px;
  font-weight:700; color:#fff; vertical-align:2px; margin-right:6px; }
.badge.passed { background:var(--ok); } .badge.failed { background:var(--bad); }
.badge.error { background:var(--err); } .badge.skipped { background:var(--muted); }
.sub { color:var(--muted); font-size:13px; }
.tag { display:inline-block; background:#e0e7ff; color:#3730a3; border-radius:4px; padding:0 6px;
  margin-right:4px; font-size:12px; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th { text-align:left; color:#475569; font-weight:600; background:#f8fafc; white-space:nowrap; }
th, td { border-bottom:1px solid var(--line); padding:6px 8px; vertical-align:top; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td.pass { color:var(--ok); font-weight:700; white-space:nowrap; }
td.fail { color:var(--bad); font-weight:700; white-space:nowrap; }
td.none { color:var(--muted); white-space:nowrap; }
tr.fail td { background:#fef2f2; }
td.phase { white-space:nowrap; font-weight:600; }
.chart-wrap { overflow-x:auto; border:1px solid var(--line); border-radius:8px; margin:10px 0 4px; }
.chart-wrap svg { display:block; width:100%; height:auto; min-width:900px; }
.failure { display:grid; grid-template-columns: minmax(0,1fr) minmax(0,1.25fr); gap:16px; }
td.sla { white-space:nowrap; }
.table-wrap { overflow-x:auto; }
.failure.one { grid-template-columns: minmax(0,1fr); }
.failure > div { background:#fff7f7; border:1px solid #fecaca; border-radius:8px; padding:10px 12px; }
.failure h4 { margin:0 0 6px; font-size:13px; color:#991b1b; }
pre { white-space:pre-wrap; word-break:break-word; font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,
  Consolas,monospace; margin:0; }
details { margin-top:10px; } summary { cursor:pointer; color:#334155; font-weight:600; }
ol.steps { margin:0; padding-left:22px; } ol.steps li { margin:2px 0; }
.s-passed { color:var(--ok); } .s-failed { color:var(--bad); font-weight:700; }
.s-notrun { color:var(--muted); }
a { color:#1d4ed8; text-decoration:none; } a:hover { text-decoration:underline; }
.toc td:first-child { width:90px; }
.hint { color:var(--muted); font-size:12px; margin:4px 0 0; }
@media print { body { background:#fff; } section.scenario { break-inside:avoid; } }
"""


def _e(value: Any) -> str:
    return html.escape(str(value if value is not None else ""), quote=True)


Cell = str | tuple[str, str]


def _html_table(headers: list[str], rows: Sequence[Sequence[Cell]], row_classes: list[str] | None = None,
                table_class: str = "") -> str:
    """A table of already-escaped cells; a cell may be ``(html, css class)``."""
    cls = f' class="{table_class}"' if table_class else ""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        rc = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = []
        for cell in row:
            text, css = cell if isinstance(cell, tuple) else (cell, "")
            cells.append(f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>")
        body.append(f"<tr{rc}>{''.join(cells)}</tr>")
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_VERDICT_CLASS = {"passed": "pass", "failed": "fail", "no claim": "none"}


def _verdict_cell(verdict: str) -> Cell:
    return _e(_VERDICT_ICON.get(verdict, verdict)), _VERDICT_CLASS.get(verdict, "")


def html_section(record: dict[str, Any]) -> str:
    """One scenario's section of the HTML report."""
    k = _scale(record)
    outcome = str(record.get("outcome", "?"))
    scenario, feature = record.get("scenario", {}), record.get("feature", {})
    parts = [f'<section class="scenario {_e(outcome)}" id="{_e(record.get("id"))}">',
             f'<h2><span class="badge {_e(outcome)}">{_e(outcome.upper())}</span>'
             f"{_e(scenario.get('name'))}</h2>",
             f'<div class="sub">Feature <b>{_e(feature.get("name"))}</b> · '
             f"<code>{_e(feature.get('file'))}:{_e(scenario.get('line'))}</code>"
             + "".join(f' <span class="tag">@{_e(t)}</span>' for t in record.get("tags") or [])
             + f" · K={k:g} (1 measured s = {_e(human(k))} real-world) · tolerance "
             f"{_e(_secs(record.get('tolerance')))}"
             + (f" · ran {_e(_secs(record.get('duration')))}" if record.get("duration") else "")
             + "".join(f" · stack <b>{_e(s.get('name'))}</b>" for s in record.get("stacks") or [])
             + "".join(f" · kept workdir <code>{_e(s['workdir'])}</code>"
                       for s in record.get("stacks") or [] if s.get("workdir"))
             + "</div>"]
    if outcome in ("failed", "error") and record.get("message"):
        arrived: list[list[Cell]] = [
            [(_e(_when(n["t"])), "num"), (_e(_real(n["t"], k)), "num"), _e(n["receiver"]),
             _e(n.get("integration")), _e(n.get("status") or "—"),
             _e(", ".join(n.get("alertnames") or []) or "(text)"),
             (_e(n.get("response_code")), "pass" if _notification_ok(n) else "fail")]
            for n in record.get("notifications") or []]
        step = (f'<p class="sub">Step: <b>{_e(record["failed_step"])}</b></p>'
                if record.get("failed_step") else "")
        arrived_html = _html_table(["at", "real-world", "receiver", "via", "status", "alerts",
                                    "answer"], arrived) if arrived else \
            "<p>No notification arrived at all.</p>"
        message = str(record["message"])
        head = _expected_part(message)
        full = ("" if head == message.strip() else
                f"<details><summary>Full failure message</summary><pre>{_e(message)}</pre>"
                "</details>")
        if outcome == "failed":
            parts.append(f'<h3>What failed</h3>{step}<div class="failure"><div><h4>Expected</h4>'
                         f"<pre>{_e(head)}</pre></div><div><h4>What arrived (notifications, in "
                         f"arrival order)</h4>{arrived_html}</div></div>{full}")
        else:
            ran = "" if record.get("stacks") else \
                '<p class="sub">No stack was started for this scenario.</p>'
            parts.append(f'<h3>Error — the scenario could not run to its end</h3>{step}'
                         f'<div class="failure one"><div><pre>{_e(head)}</pre>{ran}</div></div>'
                         f"{full}")
    stacks = record.get("stacks") or []
    for index, stack in enumerate(stacks):
        title = "Timeline" + (f" — stack {stack.get('name')}" if len(stacks) > 1 else "")
        parts.append(f"<h3>{_e(title)}</h3><div class=\"chart-wrap\">{chart_svg(record, index)}"
                     "</div><p class=\"hint\">x: measured seconds from the moment the stack was "
                     "usable; grey: the real-world equivalent. Hover a marker for details.</p>")
    rows = sla_rows(record)
    if rows:
        table_rows: list[list[Cell]] = [
            [(_e(_PHASE_TITLE.get(r.phase, r.phase)), "phase"), _e(r.what),
             (f'{_e(_clock(r.counted_from))}<br><span class="sub">{_e(_when(r.start))}</span>',
              "clock"),
             (_e(_secs(r.measured)), "num"), (_e(_real(r.measured, k)), "num"), _sla_html(r),
             _verdict_cell(r.verdict), (_e(r.note), "sub")] for r in rows]
        parts.append('<h3>SLA</h3><div class="table-wrap">' + _html_table(
            _SLA_HEADERS, table_rows, ["fail" if r.verdict == "failed" else "" for r in rows],
            "sla") + "</div>")
    claims = record.get("claims") or []
    if claims:
        claim_rows: list[list[Cell]] = [
            [(_e(c[0]), "num"), _e(c[1]), (_e(c[2]), "num"), (_e(c[3]), "num"),
             (_e(c[4]), "num"), _sla_html(claim), _verdict_cell("passed" if claim.get("passed")
                                                                else "failed")]
            for c, claim in zip(_claim_rows(record), claims, strict=True)]
        parts.append("<h3>Claims</h3>" + _html_table(
            _CLAIM_HEADERS, claim_rows, ["" if c.get("passed") else "fail" for c in claims],
            "claims"))
    observed = observed_lines(record)
    if observed:
        parts.append("<h3>Cluster and stack health</h3><ul>"
                     + "".join(f"<li>{_e(o)}</li>" for o in observed) + "</ul>")
    held = record.get("suppressed") or []
    if held:
        parts.append("<h3>Inhibited or silenced</h3>" + _html_table(
            ["alert", "since", "peers", "why"],
            [[f'<span title="{_e(_alert_label(h["alertname"], h.get("labels")))}">'
              f'{_e(_short_alert(h["alertname"], h.get("labels")))}</span>',
              (_e(_when(h["t"])), "num"),
              (_e(", ".join(map(str, h.get("peers") or []))), "num"), _e(_held_back_reason(h))]
             for h in held]))
    steps = record.get("steps") or []
    if steps:
        items = []
        for s in steps:
            css = {"passed": "s-passed", "failed": "s-failed"}.get(s.get("outcome"), "s-notrun")
            icon = {"passed": "✓", "failed": "✗"}.get(s.get("outcome"), "–")
            when = ""
            if s.get("t_start") is not None and s.get("t_end") is not None:
                when = f' <span class="sub">{_e(_when(s["t_start"]))} … {_e(_when(s["t_end"]))}</span>'
            items.append(f'<li class="{css}">{icon} <b>{_e(s.get("keyword"))}</b> '
                         f"{_e(s.get('name'))}{when}"
                         + ("" if s.get("outcome") in ("passed", "failed") else
                            f' <span class="sub">({_e(s.get("outcome"))})</span>') + "</li>")
        parts.append(f'<details><summary>Steps ({len(steps)})</summary><ol class="steps">'
                     f"{''.join(items)}</ol></details>")
    for stack in stacks:
        lines = [_describe_event(e) for e in stack.get("timeline") or []]
        parts.append(f"<details><summary>Full timeline ({plural(len(lines), 'event')})</summary><pre>"
                     f"{_e(chr(10).join(lines))}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def _describe_event(e: dict[str, Any]) -> str:
    labels = ",".join(f"{k}={v}" for k, v in sorted(e.get("labels", {}).items()) if k != "alertname")
    extra = f"{{{labels}}}" if labels else ""
    note = e.get("detail", {}).get("note", "")
    return f"t={e['t']:+8.3f}s  {e['kind']:<24} {e['subject']}{extra}{'  ' + note if note else ''}"


def render_html(records: list[dict[str, Any]]) -> str:
    """The whole self-contained HTML report."""
    records = [Redactor().scrub(r) for r in records]
    s = _summary(records)
    toc_rows = [[f'<span class="badge {_e(r.get("outcome"))}">{_e(str(r.get("outcome")).upper())}'
                 "</span>",
                 f'<a href="#{_e(r.get("id"))}">{_e(r.get("scenario", {}).get("name"))}</a>',
                 f"<code>{_e(r.get('feature', {}).get('file'))}</code>", _e(_claims_count(r)),
                 _e(_secs(r.get("duration")))] for r in records]
    cards = [("ok", s["passed"], "passed"), ("bad", s["failed"], "failed"),
             ("err", s["error"], "errors")]
    if s["skipped"]:
        cards.append(("", s["skipped"], "skipped"))
    cards += [("", f"{s['claims_passed']}/{s['claims_passed'] + s['claims_failed']}",
               "claims held"), ("", s["scales"], "time scale")]
    card_html = "".join(f'<div class="card {c}"><div class="n">{_e(n)}</div>'
                        f'<div class="l">{_e(label)}</div></div>' for c, n, label in cards)
    verdict = "all scenarios passed" if s["failed"] == 0 and s["error"] == 0 and s["total"] else \
        f"{s['failed'] + s['error']} of {plural(s['total'], 'scenario')} did not pass"
    body = "\n".join(html_section(r) for r in records)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>alertdrill drill report — {_e(s['run_date'])}</title>
<style>{_CSS}</style>
</head>
<body>
<header class="top"><h1>alertdrill drill report — {_e(verdict)}</h1>
<div class="meta">Run {_e(s['run_date'])} · {s['total']} scenarios · time scale {_e(s['scales'])}
(durations in steps are real-world; the stack ran K× faster) · tolerance {_e(s['tolerances'])}
per deadline · generated {_e(s['generated'])}</div></header>
<main>
<div class="cards">{card_html}</div>
<div class="panel"><h3 style="margin-top:0">Scenarios</h3>
{_html_table(["", "scenario", "feature", "claims", "duration"], toc_rows, table_class="toc")}
</div>
{body}
</main>
</body>
</html>
"""


# -- building -------------------------------------------------------------------------------------
def build(source: Path, out: Path) -> tuple[Path, Path]:
    """Read the records in ``source``, write ``drill-report.html`` and ``.md`` into ``out``."""
    records = load_records(source)
    if not records:
        raise AlertdrillError(
            f"no scenario records in {source}",
            "run scenarios first (alertdrill run, or pytest with the alertdrill plugin); each writes "
            "<report dir>/<scenario>.json — or point --from at the directory that has them")
    out.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out / "drill-report.html", out / "drill-report.md"
    html_path.write_text(render_html(records), encoding="utf-8")
    md_path.write_text(markdown(records), encoding="utf-8")
    return html_path, md_path
