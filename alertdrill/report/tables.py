"""The report's tables as plain-text rows, shared by the Markdown and the HTML: the SLA table,
the claims table, the run's summary, and how a held-back alert and a failure are told.

Each renderer escapes these cells its own way; the HTML adds classes and line breaks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alertdrill.report.analysis import sla_rows
from alertdrill.report.cells import (
    PHASE_TITLE,
    VERDICT_ICON,
    clock,
    labels_text,
    real,
    secs,
    short_alert,
    sla,
    when,
)
from alertdrill.report.model import claims, scale

SLA_HEADERS = ["", "what", "clock from", "measured", "real-world", "SLA (real-world)", "result",
               "note"]
CLAIM_HEADERS = ["#", "claim", "decided", "measured", "real-world", "SLA (real-world)", "result"]


def claim_rows(record: dict[str, Any]) -> list[list[Any]]:
    """The claims table: number, claim, when decided, measured, real-world, SLA, result."""
    k = scale(record)
    rows = []
    for i, c in enumerate(claims(record), 1):
        rows.append([i, ("  ↳ " if c.part_of else "") + str(c.text),
                     when(c.t), secs(c.measured), real(c.measured, k), sla(c),
                     VERDICT_ICON["passed" if c.passed else "failed"]])
    return rows


def sla_table_rows(record: dict[str, Any]) -> list[list[Any]]:
    """The SLA table as text: one row per :class:`~alertdrill.report.analysis.SlaRow`."""
    k = scale(record)
    return [[PHASE_TITLE.get(r.phase, r.phase), r.what, f"{clock(r.counted_from)} ({when(r.start)})",
             secs(r.measured), real(r.measured, k), sla(r), VERDICT_ICON[r.verdict],
             r.note] for r in sla_rows(record)]


def held_back_reason(entry: dict[str, Any]) -> str:
    """Why Alertmanager held an alert back: by which alerts it was inhibited, by which silences
    (with their matchers, author and comment) it was silenced."""
    parts = []
    for inh in entry.get("inhibited_by") or []:
        parts.append(f"inhibited by {short_alert(inh.get('alertname', '?'), inh.get('labels'))}")
    for sil in entry.get("silenced_by") or []:
        who = f" by {sil['created_by']}" if sil.get("created_by") else ""
        why = f": {sil['comment']}" if sil.get("comment") else ""
        parts.append(f"silenced by silence {str(sil.get('id', '?'))[:8]}"
                     + (f" ({labels_text(sil.get('matchers'))})" if sil.get("matchers") else "")
                     + (f", created{who}{why}" if who or why else ""))
    return "; ".join(parts) or "suppressed"


def expected_part(message: str) -> str:
    """The head of a claim's failure message: the claim, the window, what matched, the actions."""
    head = message.split("\n  notifications, in arrival order:")[0]
    return head.strip()


def claims_count(record: dict[str, Any]) -> str:
    """``held/all`` claims of a scenario."""
    found = claims(record)
    return f"{sum(1 for c in found if c.passed)}/{len(found)}"


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The run at a glance: counts per outcome, claims held and failed, the run's date, time
    scales and tolerances, and when the report was generated."""
    counts = {o: sum(1 for r in records if r.get("outcome") == o)
              for o in ("passed", "failed", "error", "skipped")}
    every_claim = [c for r in records for c in claims(r)]
    starts = sorted(str(r.get("run", {}).get("started") or r.get("started") or "")
                    for r in records)
    scales = sorted({float(r.get("time_scale") or 1) for r in records})
    tolerances = sorted({float(r.get("tolerance") or 0) for r in records})
    return {
        **counts, "total": len(records),
        "claims_passed": sum(1 for c in every_claim if c.passed),
        "claims_failed": sum(1 for c in every_claim if not c.passed),
        "run_date": _pretty_date(starts[0]) if starts and starts[0] else "?",
        "scales": ", ".join(f"K={k:g}" for k in scales) or "?",
        "tolerances": ", ".join(secs(t) for t in tolerances) or "?",
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _pretty_date(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return iso
