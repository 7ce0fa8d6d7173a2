"""The HTML report: one self-contained page (inline CSS and SVG, no script, no external URL).

Every user-supplied value goes through :func:`_e` (HTML-escaped, quotes included); the tables
are built from already-escaped cells. The style sheet is ``report.css`` beside this module
(package data), inlined into the page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from alertdrill.durations import human
from alertdrill.report.analysis import SlaRow, observed_lines, sla_rows
from alertdrill.report.cells import (
    PHASE_TITLE,
    VERDICT_ICON,
    alert_label,
    clock,
    real,
    secs,
    short_alert,
    sla,
    when,
)
from alertdrill.report.chart import chart_svg
from alertdrill.report.model import Claim, Event, claims, notifications, scale
from alertdrill.report.redact import Redactor
from alertdrill.report.tables import (
    CLAIM_HEADERS,
    SLA_HEADERS,
    claim_rows,
    claims_count,
    expected_part,
    held_back_reason,
    summary,
)
from alertdrill.text import plural

Cell = str | tuple[str, str]
_VERDICT_CLASS = {"passed": "pass", "failed": "fail", "no claim": "none"}


@cache
def stylesheet() -> str:
    """The report's CSS (``report.css``, shipped in the package)."""
    return resources.files("alertdrill.report").joinpath("report.css").read_text(encoding="utf-8")


def _e(value: Any) -> str:
    return html.escape(str(value if value is not None else ""), quote=True)


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


def _verdict_cell(verdict: str) -> Cell:
    return _e(VERDICT_ICON.get(verdict, verdict)), _VERDICT_CLASS.get(verdict, "")


def _sla_html(row_or_claim: SlaRow | Claim) -> Cell:
    """The SLA in two lines: the real-world SLA, then the measured deadline and tolerance."""
    text = sla(row_or_claim)
    if " (" not in text:
        return _e(text), "sla"
    head, rest = text.split(" (", 1)
    return f'<b>{_e(head)}</b><br><span class="sub">{_e(rest.rstrip(")"))}</span>', "sla"


def _heading(record: dict[str, Any], outcome: str, k: float) -> list[str]:
    """The section's title, and its line of feature, tags, time scale, duration and stacks."""
    scenario, feature = record.get("scenario", {}), record.get("feature", {})
    return [f'<section class="scenario {_e(outcome)}" id="{_e(record.get("id"))}">',
            f'<h2><span class="badge {_e(outcome)}">{_e(outcome.upper())}</span>'
            f"{_e(scenario.get('name'))}</h2>",
            f'<div class="sub">Feature <b>{_e(feature.get("name"))}</b> · '
            f"<code>{_e(feature.get('file'))}:{_e(scenario.get('line'))}</code>"
            + "".join(f' <span class="tag">@{_e(t)}</span>' for t in record.get("tags") or [])
            + f" · K={k:g} (1 measured s = {_e(human(k))} real-world) · tolerance "
            f"{_e(secs(record.get('tolerance')))}"
            + (f" · ran {_e(secs(record.get('duration')))}" if record.get("duration") else "")
            + "".join(f" · stack <b>{_e(s.get('name'))}</b>" for s in record.get("stacks") or [])
            + "".join(f" · kept workdir <code>{_e(s['workdir'])}</code>"
                      for s in record.get("stacks") or [] if s.get("workdir"))
            + "</div>"]


def _failure(record: dict[str, Any], outcome: str, k: float) -> str:
    """What failed beside what arrived, or the error that stopped the scenario."""
    arrived: list[list[Cell]] = [
        [(_e(when(n.t)), "num"), (_e(real(n.t, k)), "num"), _e(n.receiver),
         _e(n.integration), _e(n.status or "—"), _e(", ".join(n.alertnames) or "(text)"),
         (_e(n.response_code), "pass" if n.ok else "fail")]
        for n in notifications(record)]
    step = (f'<p class="sub">Step: <b>{_e(record["failed_step"])}</b></p>'
            if record.get("failed_step") else "")
    arrived_html = _html_table(["at", "real-world", "receiver", "via", "status", "alerts",
                                "answer"], arrived) if arrived else \
        "<p>No notification arrived at all.</p>"
    message = str(record["message"])
    head = expected_part(message)
    full = ("" if head == message.strip() else
            f"<details><summary>Full failure message</summary><pre>{_e(message)}</pre>"
            "</details>")
    if outcome == "failed":
        return (f'<h3>What failed</h3>{step}<div class="failure"><div><h4>Expected</h4>'
                f"<pre>{_e(head)}</pre></div><div><h4>What arrived (notifications, in "
                f"arrival order)</h4>{arrived_html}</div></div>{full}")
    ran = "" if record.get("stacks") else \
        '<p class="sub">No stack was started for this scenario.</p>'
    return (f'<h3>Error — the scenario could not run to its end</h3>{step}'
            f'<div class="failure one"><div><pre>{_e(head)}</pre>{ran}</div></div>{full}')


def _tables(record: dict[str, Any], k: float) -> list[str]:
    """The SLA table, the claims, the cluster's health and what Alertmanager held back."""
    parts = []
    rows = sla_rows(record)
    if rows:
        table_rows: list[list[Cell]] = [
            [(_e(PHASE_TITLE.get(r.phase, r.phase)), "phase"), _e(r.what),
             (f'{_e(clock(r.counted_from))}<br><span class="sub">{_e(when(r.start))}</span>',
              "clock"),
             (_e(secs(r.measured)), "num"), (_e(real(r.measured, k)), "num"), _sla_html(r),
             _verdict_cell(r.verdict), (_e(r.note), "sub")] for r in rows]
        parts.append('<h3>SLA</h3><div class="table-wrap">' + _html_table(
            SLA_HEADERS, table_rows, ["fail" if r.verdict == "failed" else "" for r in rows],
            "sla") + "</div>")
    found = claims(record)
    if found:
        claim_cells: list[list[Cell]] = [
            [(_e(c[0]), "num"), _e(c[1]), (_e(c[2]), "num"), (_e(c[3]), "num"),
             (_e(c[4]), "num"), _sla_html(claim),
             _verdict_cell("passed" if claim.passed else "failed")]
            for c, claim in zip(claim_rows(record), found, strict=True)]
        parts.append("<h3>Claims</h3>" + _html_table(
            CLAIM_HEADERS, claim_cells, ["" if c.passed else "fail" for c in found], "claims"))
    observed = observed_lines(record)
    if observed:
        parts.append("<h3>Cluster and stack health</h3><ul>"
                     + "".join(f"<li>{_e(o)}</li>" for o in observed) + "</ul>")
    held = record.get("suppressed") or []
    if held:
        parts.append("<h3>Inhibited or silenced</h3>" + _html_table(
            ["alert", "since", "peers", "why"],
            [[f'<span title="{_e(alert_label(h["alertname"], h.get("labels")))}">'
              f'{_e(short_alert(h["alertname"], h.get("labels")))}</span>',
              (_e(when(h["t"])), "num"),
              (_e(", ".join(map(str, h.get("peers") or []))), "num"), _e(held_back_reason(h))]
             for h in held]))
    return parts


def _steps(steps: list[dict[str, Any]]) -> str:
    """The scenario's steps, each with its outcome and its time on the timeline."""
    items = []
    for s in steps:
        outcome = str(s.get("outcome"))  # "None" when absent: not run
        css = {"passed": "s-passed", "failed": "s-failed"}.get(outcome, "s-notrun")
        icon = {"passed": "✓", "failed": "✗"}.get(outcome, "–")
        span = ""
        if s.get("t_start") is not None and s.get("t_end") is not None:
            span = f' <span class="sub">{_e(when(s["t_start"]))} … {_e(when(s["t_end"]))}</span>'
        items.append(f'<li class="{css}">{icon} <b>{_e(s.get("keyword"))}</b> '
                     f"{_e(s.get('name'))}{span}"
                     + ("" if s.get("outcome") in ("passed", "failed") else
                        f' <span class="sub">({_e(s.get("outcome"))})</span>') + "</li>")
    return (f'<details><summary>Steps ({len(steps)})</summary><ol class="steps">'
            f"{''.join(items)}</ol></details>")


def html_section(record: dict[str, Any]) -> str:
    """One scenario's section of the HTML report."""
    k = scale(record)
    outcome = str(record.get("outcome", "?"))
    parts = _heading(record, outcome, k)
    if outcome in ("failed", "error") and record.get("message"):
        parts.append(_failure(record, outcome, k))
    stacks = record.get("stacks") or []
    for index, stack in enumerate(stacks):
        title = "Timeline" + (f" — stack {stack.get('name')}" if len(stacks) > 1 else "")
        parts.append(f"<h3>{_e(title)}</h3><div class=\"chart-wrap\">{chart_svg(record, index)}"
                     "</div><p class=\"hint\">x: measured seconds from the moment the stack was "
                     "usable; grey: the real-world equivalent. Hover a marker for details.</p>")
    parts += _tables(record, k)
    steps = record.get("steps") or []
    if steps:
        parts.append(_steps(steps))
    for stack in stacks:
        lines = [_describe_event(Event.from_json(e)) for e in stack.get("timeline") or []]
        parts.append(f"<details><summary>Full timeline ({plural(len(lines), 'event')})</summary><pre>"
                     f"{_e(chr(10).join(lines))}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def _describe_event(e: Event) -> str:
    labels = ",".join(f"{k}={v}" for k, v in sorted(e.labels.items()) if k != "alertname")
    extra = f"{{{labels}}}" if labels else ""
    note = e.detail.get("note", "")
    return f"t={e.t:+8.3f}s  {e.kind:<24} {e.subject}{extra}{'  ' + note if note else ''}"


def render_html(records: list[dict[str, Any]]) -> str:
    """The whole self-contained HTML report."""
    records = [Redactor().scrub(r) for r in records]
    s = summary(records)
    toc_rows = [[f'<span class="badge {_e(r.get("outcome"))}">{_e(str(r.get("outcome")).upper())}'
                 "</span>",
                 f'<a href="#{_e(r.get("id"))}">{_e(r.get("scenario", {}).get("name"))}</a>',
                 f"<code>{_e(r.get('feature', {}).get('file'))}</code>", _e(claims_count(r)),
                 _e(secs(r.get("duration")))] for r in records]
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
<style>
{stylesheet()}</style>
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
