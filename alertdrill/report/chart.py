"""The timeline chart of one scenario's stack, as a standalone inline SVG (no script, no URL).

x is measured seconds, with the real-world equivalent (× K) under each tick. Lanes, top to
bottom: the actions (each a dashed line over the whole height: SLA clocks start there), one per
alert Prometheus evaluated, one for what Alertmanager held back, one per receiver and
integration with a marker per notification, and the checks. Each claim is drawn in its lane as
its window (a bar from the SLA clock's start) ending at a vertical deadline tick, green when it
held and red when it did not. Every marker carries a ``<title>`` tooltip.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from alertdrill.engine import timeline as tl
from alertdrill.engine.claimkinds import ClaimKind
from alertdrill.report.analysis import action_label
from alertdrill.report.cells import alert_label, clip, real, secs, when
from alertdrill.report.model import Claim, Event, events, scale, stack_claims, stack_notifications
from alertdrill.report.redact import Redactor
from alertdrill.sink.integrations import INTEGRATIONS

_INTEGRATION_COLOUR = {i.name: i.colour for i in INTEGRATIONS}
_PASS, _FAIL = "#16a34a", "#dc2626"
_W, _LABEL_W, _RIGHT, _TOP, _LANE = 1120, 270, 24, 64, 30
_LANE_COLOUR = {"actions": "#0f172a", "prometheus": "#b91c1c", "alertmanager": "#475569",
                "receiver": "#1e3a8a", "checks": "#334155"}
_PROM_KINDS = (tl.PROM_PENDING, tl.PROM_FIRING, tl.PROM_INACTIVE)
_RECEIVER_CLAIMS = (ClaimKind.NOTIFIED, ClaimKind.NOTIFIED_EXACTLY, ClaimKind.NEVER_NOTIFIED)

LaneKey = tuple[str, ...]


@dataclass
class _Lane:
    key: LaneKey
    title: str
    group: str
    y: float = 0.0


class _Lanes(dict[LaneKey, _Lane]):
    """The chart's lanes by key, in the order they were first asked for."""

    def add(self, key: LaneKey, title: str, group: str) -> _Lane:
        if key not in self:
            self[key] = _Lane(key, title, group)
        return self[key]


def _nice_step(span: float) -> float:
    raw = span / 8
    for step in (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 15, 20, 30, 60, 120, 300, 600,
                 1800, 3600):
        if step >= raw:
            return step
    return 7200.0


def _lanes(timeline: list[Event], claims: list[Claim], receiver_keys: set[tuple[str, str]]
           ) -> tuple[_Lanes, dict[str, LaneKey]]:
    """Every lane the chart needs, and the first lane of each alert (by alert name)."""
    lanes = _Lanes()
    lanes.add(("actions",), "Actions (SLA clocks start)", "actions")
    alert_keys: dict[str, LaneKey] = {}
    for e in timeline:
        if e.kind in _PROM_KINDS:
            instance = e.labels.get("instance", "")
            key = ("prom", e.subject, instance)
            lanes.add(key, f"{e.subject}" + (f" ({instance})" if instance else ""), "prometheus")
            alert_keys.setdefault(e.subject, key)
    for c in claims:
        if c.kind == ClaimKind.ALERT_STATE:
            want = (c.match_labels or {}).get("instance", "")
            key = ("prom", str(c.alertname), want)
            if want or str(c.alertname) not in alert_keys:
                lanes.add(key, f"{c.alertname}" + (f" ({want})" if want else ""), "prometheus")
    if any(e.kind == tl.AM_SUPPRESSED for e in timeline) or any(
            c.kind == ClaimKind.SUPPRESSED for c in claims):
        lanes.add(("am",), "Alertmanager: held back", "alertmanager")
    for c in claims:
        if c.receiver and c.kind in _RECEIVER_CLAIMS:
            receiver_keys.add((str(c.receiver), str(c.integration or "probe")))
    for receiver, integration in sorted(receiver_keys, key=lambda r: (r[0], r[1] != "probe", r[1])):
        title = f"{receiver} · {'routing (probe)' if integration == 'probe' else integration}"
        lanes.add(("rcv", receiver, integration), title, "receiver")
    if any(c.kind in (ClaimKind.EVENTUALLY,) for c in claims):
        lanes.add(("checks",), "Checks", "checks")
    return lanes, alert_keys


def chart_svg(record: dict[str, Any], index: int = 0) -> str:
    """The timeline chart of one of the scenario's stacks, as a standalone inline SVG."""
    record = Redactor().scrub(record)
    k = scale(record)
    timeline = events(record, index)
    claims, notifications = stack_claims(record, index), stack_notifications(record, index)
    lanes, alert_keys = _lanes(timeline, claims, {(str(n.receiver), str(n.integration or "?"))
                                                  for n in notifications})
    groups = ["actions", "prometheus", "alertmanager", "receiver", "checks"]
    ordered = sorted(lanes.values(), key=lambda ln: (groups.index(ln.group), 0))
    for i, ln in enumerate(ordered):
        ln.y = _TOP + i * _LANE
    height_plot = len(ordered) * _LANE
    legend_y = _TOP + height_plot + 50
    height = legend_y + 58

    # Claims are drawn as their windows; when they were decided does not stretch the axis.
    shown = [e.t for e in timeline if e.kind not in (tl.STACK_READY, tl.STACK_WARNING,
                                                      tl.AM_ACTIVE, tl.AM_GONE,
                                                      tl.AM_UNPROCESSED, tl.CLAIM)]
    shown += [float(c.window_end or 0) for c in claims]
    shown += [float(n.t) for n in notifications]
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
        add(f'<text x="{_LABEL_W - 10}" y="{ln.y + _LANE / 2 + 4}" text-anchor="end" '
            f'fill="{_LANE_COLOUR[ln.group]}" class="lane-title"><title>{html.escape(ln.title)}'
            f"</title>{html.escape(clip(ln.title, 36))}</text>")
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
    anchors = [e for e in timeline if e.anchor or e.kind in (tl.FAULT_APPLIED, tl.FAULT_REVERTED)]
    row_end = [-1e9, -1e9, -1e9]  # where each label row's last label ends (x)
    for e in anchors:
        ax = x(e.t)
        colour = {"fault.applied": _FAIL, "fault.reverted": _PASS}.get(e.kind, "#2563eb")
        label = clip(action_label(e), 34)
        width = len(label) * 6.6 + 8
        near_end = ax + width > _W - 8
        left = ax - width if near_end else ax
        free = [r for r in range(3) if row_end[r] < left]
        row = free[0] if free else min(range(3), key=lambda r: row_end[r])
        row_end[row] = left + width
        label_y = 18 + row * 15
        tip = f"{when(e.t)} ({real(e.t, k)}) {e.kind}: {e.subject}"
        note = e.detail.get("note")
        if note:
            tip += f" — {note}"
        add(f'<g class="mk mk-action" data-t="{e.t}"><title>{html.escape(tip)}</title>')
        add(f'<line x1="{ax:.1f}" y1="{label_y + 4}" x2="{ax:.1f}" y2="{axis_y}" stroke="{colour}" '
            'stroke-width="1.3" stroke-dasharray="5 3" opacity="0.75"/>')
        add(f'<text x="{ax - 3 if near_end else ax + 3:.1f}" y="{label_y}" fill="{colour}" '
            f'font-weight="600" text-anchor="{"end" if near_end else "start"}">'
            f"{html.escape(label)}</text>")
        add(f'<circle cx="{ax:.1f}" cy="{actions.y + _LANE / 2}" r="5" fill="{colour}"/></g>')
    # claims: a bar from the clock's start to the deadline (tolerance lighter), deadline tick
    per_lane: dict[LaneKey, int] = {}
    for c in claims:
        target = _claim_lane(c, lanes, alert_keys)
        if target is None:
            continue
        slot = per_lane.get(target.key, 0)
        per_lane[target.key] = slot + 1
        passed = bool(c.passed)
        colour = _PASS if passed else _FAIL
        by = target.y + 5 + (slot % 3) * 3
        start, deadline = float(c.window_start), float(c.deadline)
        end = float(c.window_end if c.window_end is not None else deadline)
        tip = (f"{'✓' if passed else '✗'} {c.text}: window {when(start)} … "
               f"{when(end)}; deadline {when(deadline)}"
               + (f"; measured {secs(c.measured)} ({real(c.measured, k)})"
                  if c.measured is not None else ""))
        kind_class = "mk-claim-pass" if passed else "mk-claim-fail"
        dash = ' stroke-dasharray="2 3"' if c.kind == ClaimKind.NEVER_NOTIFIED else ""
        add(f'<g class="mk mk-claim {kind_class}"><title>{html.escape(tip)}</title>')
        add(f'<line x1="{x(start):.1f}" y1="{by}" x2="{x(deadline):.1f}" y2="{by}" '
            f'stroke="{colour}" stroke-width="2.5" opacity="0.85"{dash}/>')
        add(f'<line x1="{x(deadline):.1f}" y1="{by}" x2="{x(end):.1f}" y2="{by}" '
            f'stroke="{colour}" stroke-width="2.5" opacity="0.3"/>')
        add(f'<line x1="{x(deadline):.1f}" y1="{target.y + 2}" x2="{x(deadline):.1f}" '
            f'y2="{target.y + _LANE - 2}" stroke="{colour}" stroke-width="2"/>')
        if c.matched_t is not None and passed:
            mx = x(float(c.matched_t))
            add(f'<circle cx="{mx:.1f}" cy="{target.y + _LANE / 2}" r="8.5" fill="none" '
                f'stroke="{colour}" stroke-width="1.5"/>')
        add("</g>")
    # alerts in Prometheus
    for e in timeline:
        if e.kind not in _PROM_KINDS:
            continue
        ln = lanes[("prom", e.subject, e.labels.get("instance", ""))]
        cx, cy = x(e.t), ln.y + _LANE / 2
        state = e.kind.split(".")[-1]
        tip = f"{when(e.t)} ({real(e.t, k)}) {alert_label(e.subject, e.labels)} {state}"
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
    for e in timeline:
        if e.kind != tl.AM_SUPPRESSED:
            continue
        fp = str(e.detail.get("fingerprint") or e.subject)
        if fp in seen_fp:
            continue
        seen_fp.add(fp)
        cx, cy = x(e.t), lanes[("am",)].y + _LANE / 2
        why = "inhibited" if e.detail.get("inhibited_by") else "silenced" if e.detail.get(
            "silenced_by") else "suppressed"
        tip = f"{when(e.t)} {alert_label(e.subject, e.labels)} {why}"
        add(f'<g class="mk mk-suppressed"><title>{html.escape(tip)}</title>'
            f'<circle cx="{cx:.1f}" cy="{cy}" r="6" fill="#ffffff" stroke="#475569" stroke-width="2"/>'
            f'<line x1="{cx - 4:.1f}" y1="{cy + 4}" x2="{cx + 4:.1f}" y2="{cy - 4}" stroke="#475569" '
            'stroke-width="2"/></g>')
    # notifications
    for n in notifications:
        integration = str(n.integration or "?")
        ln = lanes[("rcv", str(n.receiver), integration)]
        cx, cy = x(float(n.t)), ln.y + _LANE / 2
        colour = _INTEGRATION_COLOUR.get(integration, "#0f766e")
        resolved = n.status == "resolved"
        names = ", ".join(n.alertnames) or "(text only)"
        tip = (f"{when(float(n.t))} ({real(float(n.t), k)}) {n.receiver} via "
               f"{integration}: {n.status or '?'} {names} → {n.response_code}"
               + (f" fault={n.fault}" if n.fault else ""))
        status_class = "resolved" if resolved else "firing"
        add(f'<g class="mk mk-notification mk-{status_class}{"" if n.ok else " mk-failed"}" '
            f'data-t="{n.t}" data-receiver="{html.escape(str(n.receiver))}" '
            f'data-integration="{html.escape(integration)}"><title>{html.escape(tip)}</title>')
        fill = colour if n.ok else "#ffffff"
        if resolved:
            add(f'<rect x="{cx - 5.5:.1f}" y="{cy - 5.5}" width="11" height="11" rx="2" '
                f'fill="{fill}" stroke="{colour}" stroke-width="2"/>')
            add(f'<path d="M{cx - 3:.1f},{cy} l2.2,2.4 l4,-4.6" stroke="#ffffff" fill="none" '
                'stroke-width="1.6"/>')
        else:
            add(f'<circle cx="{cx:.1f}" cy="{cy}" r="5.5" fill="{fill}" stroke="{colour}" '
                'stroke-width="2"/>')
        if not n.ok:
            add(f'<path d="M{cx - 3:.1f},{cy - 3} l6,6 m0,-6 l-6,6" stroke="{_FAIL}" '
                'stroke-width="1.8"/>')
        add("</g>")
    # checks
    for e in timeline:
        if e.kind == tl.CHECK and ("checks",) in lanes:
            cx, cy = x(e.t), lanes[("checks",)].y + _LANE / 2
            add(f'<g class="mk mk-check"><title>{html.escape(when(e.t) + " " + e.subject)}'
                f'</title><circle cx="{cx:.1f}" cy="{cy}" r="4.5" fill="#334155"/></g>')
    add(_legend(legend_y))
    add("</svg>")
    return "\n".join(out)


def _claim_lane(claim: Claim, lanes: _Lanes, alert_keys: dict[str, LaneKey]) -> _Lane | None:
    """The lane a claim's window is drawn in (None: a claim the chart does not draw)."""
    if claim.kind == ClaimKind.ALERT_STATE:
        want = (claim.match_labels or {}).get("instance", "")
        key: LaneKey = ("prom", str(claim.alertname), want)
        if key not in lanes:
            key = alert_keys.get(str(claim.alertname), key)
        return lanes.get(key)
    if claim.kind == ClaimKind.SUPPRESSED:
        return lanes.get(("am",))
    if claim.kind in _RECEIVER_CLAIMS and claim.receiver:
        return lanes.get(("rcv", str(claim.receiver), str(claim.integration or "probe")))
    if claim.kind == ClaimKind.EVENTUALLY:
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
    return "0" if abs(t) < 1e-9 else real(t, k)


def _tick(t: float) -> str:
    return f"{t:g} s" if abs(t) >= 0.01 or t == 0 else f"{t:.2f} s"
