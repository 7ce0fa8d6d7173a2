"""The Markdown report: paste-able into a ticket, and attached to each scenario's Allure result.

Every cell is one line with pipes escaped and HTML-ish characters neutralised (:func:`_md`), so
that a hostile alert or receiver name can neither break a table nor inject markup.
"""

from __future__ import annotations

from typing import Any

from alertdrill.report.analysis import observed_lines
from alertdrill.report.cells import OUTCOME_ICON, real, secs, short_alert, when
from alertdrill.report.model import notifications, scale
from alertdrill.report.redact import Redactor
from alertdrill.report.tables import (
    CLAIM_HEADERS,
    SLA_HEADERS,
    claim_rows,
    claims_count,
    expected_part,
    held_back_reason,
    sla_table_rows,
    summary,
)
from alertdrill.text import plural


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


def markdown_section(record: dict[str, Any]) -> str:
    """One scenario's part of the Markdown report (also attached to its Allure result)."""
    record = Redactor().scrub(record)
    k = scale(record)
    outcome = str(record.get("outcome", "?"))
    scenario, feature = record.get("scenario", {}), record.get("feature", {})
    lines = [f"## {OUTCOME_ICON.get(outcome, '')} {outcome.upper()} — {_md(scenario.get('name'))}",
             "",
             f"Feature: {_md(feature.get('name'))} (`{feature.get('file')}:{scenario.get('line')}`)"
             + (f" · tags: {', '.join('@' + t for t in record.get('tags') or [])}"
                if record.get("tags") else "")
             + f" · K={k:g} · tolerance {secs(record.get('tolerance'))}"
             + (f" · {record['duration']:.1f} s" if record.get("duration") is not None else ""),
             ""]
    if outcome in ("failed", "error") and record.get("message"):
        lines += _failure(record, outcome == "failed", k)
    if not record.get("stacks"):
        lines += ["(no stack was started for this scenario)", ""]
        return "\n".join(lines)
    kept = [f"`{s['workdir']}` ({_md(s.get('name'))})" for s in record["stacks"]
            if s.get("workdir")]
    if kept:  # --keep-workdir: the stack's logs and rendered configs are there
        lines += [f"Kept workdir: {', '.join(kept)}", ""]
    rows = sla_table_rows(record)
    lines += ["### SLA", ""]
    lines += _md_table(SLA_HEADERS, rows) if rows else ["(nothing measured)"]
    claims = claim_rows(record)
    lines += ["", "### Claims", ""]
    lines += _md_table(CLAIM_HEADERS, claims) if claims else ["(no claim was checked)"]
    observed = observed_lines(record)
    if observed:
        lines += ["", "### Cluster and stack health", ""] + [f"- {_md(o)}" for o in observed]
    held = record.get("suppressed") or []
    if held:
        lines += ["", "### Inhibited or silenced", ""]
        lines += _md_table(["alert", "since", "peers", "why"], [
            [short_alert(h["alertname"], h.get("labels")), when(h["t"]),
             ", ".join(map(str, h.get("peers") or [])), held_back_reason(h)] for h in held])
    lines.append("")
    return "\n".join(lines)


def _failure(record: dict[str, Any], failed: bool, k: float) -> list[str]:
    """What failed (or the error), the failed step, and what arrived."""
    lines = ["### What failed" if failed else "### Error — the scenario could not run to its end",
             ""]
    if record.get("failed_step"):
        lines += [f"Step: {_md(record['failed_step'])}", ""]
    fence = expected_part(str(record["message"])).replace("```", "` ` `")
    lines += (["Expected:", ""] if failed else []) + ["```text", fence, "```", ""]
    arrived = [[when(n.t), real(n.t, k), n.receiver, n.integration, n.status or "—",
                ", ".join(n.alertnames) or "(text)", n.response_code]
               for n in notifications(record)]
    if failed or arrived:
        lines += ["What arrived (notifications in arrival order):", ""]
        lines += _md_table(["at", "real-world", "receiver", "integration", "status",
                            "alerts", "answer"], arrived) if arrived else \
            ["(no notification arrived)"]
        lines.append("")
    return lines


def markdown(records: list[dict[str, Any]]) -> str:
    """The whole Markdown report."""
    records = [Redactor().scrub(r) for r in records]
    s = summary(records)
    skipped = f", {s['skipped']} skipped" if s["skipped"] else ""
    lines = ["# alertdrill drill report", "",
             f"Run {s['run_date']} · time scale {s['scales']} · tolerance "
             f"{s['tolerances']} · generated {s['generated']}", "",
             f"**{plural(s['total'], 'scenario')}: {s['passed']} passed, "
             f"{s['failed']} failed, {plural(s['error'], 'error')}{skipped}** · claims: "
             f"{s['claims_passed']} held, {s['claims_failed']} failed", ""]
    lines += _md_table(["", "scenario", "feature", "claims", "duration"], [
        [f"{OUTCOME_ICON.get(str(r.get('outcome')), '')} {r.get('outcome')}",
         r.get("scenario", {}).get("name"), r.get("feature", {}).get("file"), claims_count(r),
         secs(r.get("duration"))] for r in records])
    lines.append("")
    for r in records:
        lines += [markdown_section(r), ""]
    return "\n".join(lines).rstrip() + "\n"
