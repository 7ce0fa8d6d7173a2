"""``alertdrill watch``: a live terminal view of a GameDay's timeline (standard library only).

:class:`View` folds the supervisor's timeline events, in the order they were recorded, into
what an operator needs at a glance — alerts by state in Prometheus (pending, firing) and in
Alertmanager (active; suppressed, and by what: an inhibition or a silence), notifications in
arrival order (receiver, integration, status, the sink's answer), and the faults applied and
reverted — and :func:`render` draws it as plain text (ANSI colours only on a terminal).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from alertdrill.engine import timeline as tl
from alertdrill.text import plural

_SKIP_LABELS = {"alertname"}


def _labels(labels: dict[str, str], limit: int = 4) -> str:
    shown = [f"{k}={v}" for k, v in sorted(labels.items()) if k not in _SKIP_LABELS]
    more = len(shown) - limit
    text = ", ".join(shown[:limit]) + (f", +{more}" if more > 0 else "")
    return f"{{{text}}}" if text else ""


@dataclass
class View:
    """What the timeline says now, folded from its events."""

    prometheus: OrderedDict[frozenset[tuple[str, str]], dict[str, Any]] = field(
        default_factory=OrderedDict)
    alertmanager: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    warnings: int = 0
    seen: int = 0

    def fold(self, events: list[dict[str, Any]]) -> None:
        """Apply events in recording order."""
        for e in events:
            self.seen += 1
            kind, labels, detail = e["kind"], e.get("labels") or {}, e.get("detail") or {}
            key = frozenset(labels.items())
            if kind in (tl.PROM_PENDING, tl.PROM_FIRING):
                state = "firing" if kind == tl.PROM_FIRING else "pending"
                entry = self.prometheus.setdefault(key, {"labels": labels, "since": e["t"]})
                if entry.get("state") != state:
                    entry.update(state=state, since=e["t"])
            elif kind == tl.PROM_INACTIVE:
                self.prometheus.pop(key, None)
            elif kind in (tl.AM_ACTIVE, tl.AM_SUPPRESSED, tl.AM_UNPROCESSED):
                fingerprint = str(detail.get("fingerprint") or sorted(labels.items()))
                entry = self.alertmanager.setdefault(fingerprint, {"labels": labels, "peers": {}})
                entry["peers"][detail.get("peer")] = {
                    "state": kind.split(".", 1)[1], "t": e["t"],
                    "inhibited_by": detail.get("inhibited_by") or [],
                    "silenced_by": detail.get("silenced_by") or []}
            elif kind == tl.AM_GONE:
                fingerprint = str(detail.get("fingerprint") or sorted(labels.items()))
                held = self.alertmanager.get(fingerprint)
                if held is not None:
                    held["peers"].pop(detail.get("peer"), None)
                    if not held["peers"]:
                        del self.alertmanager[fingerprint]
            elif kind == tl.NOTIFICATION:
                status = detail.get("status")
                names = detail.get("alertnames") or []
                if not names:  # Slack, e-mail, PagerDuty: rendered text only; its first words
                    note = str(detail.get("note") or "")
                    marker = f" {status or '?'} "
                    text = note.split(marker, 1)[1].rsplit(" → ", 1)[0] if marker in note else ""
                    names = [f"“{text}”"] if text else []
                self.notifications.append({
                    "t": e["t"], "receiver": e["subject"], "integration": detail.get("integration"),
                    "status": status, "alertnames": names,
                    "code": detail.get("response_code"), "fault": detail.get("fault"),
                    "peer": detail.get("peer")})
            elif kind in (tl.FAULT_APPLIED, tl.FAULT_REVERTED, tl.ACTION):
                what = {tl.FAULT_APPLIED: "applied", tl.FAULT_REVERTED: "reverted"}.get(kind, "action")
                self.actions.append({"t": e["t"], "what": what, "subject": e["subject"],
                                     "note": detail.get("note", "")})
            elif kind == tl.STACK_WARNING:
                self.warnings += 1


_COLOURS = {"firing": "31;1", "pending": "33", "active": "31", "suppressed": "36",
            "unprocessed": "90", "applied": "35;1", "reverted": "32", "resolved": "32",
            "failed": "31;1", "heading": "1"}


def render(view: View, state: dict[str, Any], colour: bool = False, width: int = 100,
           notifications: int = 12) -> str:
    """The view as text: a header, faults, Prometheus, Alertmanager, notifications."""
    def c(text: str, what: str) -> str:
        return f"\x1b[{_COLOURS[what]}m{text}\x1b[0m" if colour and what in _COLOURS else text

    k = float(state.get("time_scale") or 1)
    now = float(state.get("t") or 0)
    lines = [
        f"GameDay on {state.get('stack')} · t=+{now:.1f}s (real-world {_real(now * k)}) · "
        f"K={k:g} · run {state.get('run_id')}",
    ]
    down = [name for name, up in (state.get("running") or {}).items() if not up]
    if down:
        lines.append(f"services not running: {', '.join(sorted(down))}")
    if view.warnings:
        lines.append(f"{plural(view.warnings, 'start-up warning')} on the timeline")
    lines.append("")
    injections = state.get("injections") or []
    active = sum(1 for i in injections if i.get("active"))
    lines.append(c(f"FAULTS ({active} active)", "heading"))
    if not injections:
        lines.append("  none yet — alertdrill inject --list")
    for item in injections[-10:]:
        mark = ("active" if item.get("active") else
                "reverted" if item.get("revertible") else "done")
        lines.append(f"  #{item['id']:<3} +{item['t']:8.2f}s  "
                     f"{c(f'{mark:<8}', 'applied' if mark == 'active' else 'reverted')}  "
                     f"{_clip(str(item.get('name')), width - 30)}")
    lines.append("")
    lines.append(c(f"PROMETHEUS ({plural(len(view.prometheus), 'alert')})", "heading"))
    if not view.prometheus:
        lines.append("  no pending or firing alert")
    for entry in sorted(view.prometheus.values(),
                        key=lambda x: (x.get("state") != "firing", x["since"])):
        state_name = str(entry.get("state", "pending"))
        name = entry["labels"].get("alertname", "?")
        shown_state = state_name.upper() if state_name == "firing" else state_name
        lines.append(f"  {c(f'{shown_state:<8}', state_name)} "
                     f"{_clip(name + _labels(entry['labels']), width - 30)}  since +{entry['since']:.2f}s")
    lines.append("")
    lines.append(c(f"ALERTMANAGER ({plural(len(view.alertmanager), 'alert')})", "heading"))
    if not view.alertmanager:
        lines.append("  no alert held")
    for entry in view.alertmanager.values():
        peers = entry["peers"]
        states = {p["state"] for p in peers.values()}
        state_name = "suppressed" if states == {"suppressed"} else (
            "active" if "active" in states else sorted(states)[0] if states else "?")
        why = []
        if any(p["inhibited_by"] for p in peers.values()):
            why.append("inhibited")
        silences = sorted({s[:8] for p in peers.values() for s in p["silenced_by"]})
        if silences:
            why.append("silenced by " + ", ".join(silences))
        name = entry["labels"].get("alertname", "?")
        peer_list = ",".join(str(p) for p in sorted(peers, key=lambda x: (x is None, x)))
        lines.append(f"  {c(f'{state_name:<10}', state_name)} "
                     f"{_clip(name + _labels(entry['labels']), width - 45)}  peers {peer_list}"
                     + (f"  ({'; '.join(why)})" if why else ""))
    lines.append("")
    total = len(view.notifications)
    shown = view.notifications[-notifications:]
    lines.append(c(f"NOTIFICATIONS ({total}" + (f", last {len(shown)}" if total > len(shown) else "")
                   + ", oldest first)", "heading"))
    if not shown:
        lines.append("  none yet")
    for n in shown:
        status = str(n.get("status") or "—")
        ok = isinstance(n.get("code"), int) and 200 <= n["code"] < 300
        answer = f"→ {n.get('code')}" + (f" ({n['fault']})" if n.get("fault") else "")
        lines.append(f"  +{n['t']:8.2f}s  {_clip(str(n['receiver']), 22):<22} "
                     f"{n.get('integration')!s:<10} "
                     f"{c(f'{status:<8}', 'resolved' if status == 'resolved' else 'firing')} "
                     f"{_clip(','.join(n['alertnames']) or '(text)', 28):<28} "
                     f"{c(answer, 'reverted' if ok else 'failed')}")
    lines.append("")
    recent = view.actions[-6:]
    lines.append(c("TIMELINE ACTIONS (latest)", "heading"))
    if not recent:
        lines.append("  none yet")
    for a in recent:
        lines.append(f"  +{a['t']:8.2f}s  {a['what']:<8} {_clip(a['subject'], width - 30)}")
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    width = max(width, 8)
    return text if len(text) <= width else text[: width - 1] + "…"


def _real(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
