"""A backtest's result for a terminal, a pull-request comment (Markdown), the drill report's
HTML (a section with a chart of pages over time for both configs, in the report's stylesheet)
and JSON."""

from __future__ import annotations

import html
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alertdrill.backtest.backtest import BacktestResult, SideResult
from alertdrill.backtest.compare import pages_per_day
from alertdrill.backtest.evaluate import as_json
from alertdrill.backtest.replay import Notification
from alertdrill.durations import human

#: Rows of each notification list shown in text and Markdown (JSON has them all).
MAX_ROWS = 40
_COLOURS = {"new": "#1d4ed8", "old": "#9ca3af"}


def _at(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _note(n: Notification) -> str:
    names = ",".join(n.alertnames) or "?"
    return f"{_at(n.t)}  {n.receiver} ({n.integration})  {n.status}  {names}"


def _summary(result: BacktestResult) -> list[str]:
    h = result.header
    days = (h.end - h.begin) / 86400
    lines = [f"recording {result.recording.name}: {_at(h.begin)} → {_at(h.end)} UTC "
             f"({days:.2f} days, step {human(h.step)})"]
    for side in result.sides:
        r = side.replay
        lines.append(f"{side.label} = {side.stack}: {len(side.alerts)} alerts fired, "
                     f"{len(r.notifications)} notifications, replayed at K={r.time_scale:g} in "
                     f"{r.episodes} episodes ({r.seconds:.1f} s)")
        lines += [f"  warning: {w}" for w in r.warnings]
    return lines


def _page_rows(result: BacktestResult) -> tuple[list[str], list[list[str]]]:
    per_side = {s.label: pages_per_day(s.replay.notifications) for s in result.sides}
    days = sorted({d for pages in per_side.values() for c in pages.values() for d in c})
    receivers = sorted({r for pages in per_side.values() for r in pages})
    headers = ["receiver", *[f"{s.label} total" for s in result.sides], *days]
    rows = []
    for receiver in receivers:
        totals = [str(sum(per_side[s.label].get(receiver, Counter()).values()))
                  for s in result.sides]
        cells = ["/".join(str(per_side[s.label].get(receiver, Counter())[d])
                          for s in result.sides) for d in days]
        rows.append([receiver, *totals, *cells])
    return headers, rows


def _diff_lists(result: BacktestResult) -> list[tuple[str, list[str]]]:
    d = result.differences
    if d is None:
        return []
    return [
        ("removed by the change (sent by old, not by new)", [_note(n) for n in d.removed]),
        ("added by the change (sent by new, not by old)", [_note(n) for n in d.added]),
        (f"delayed or earlier by more than {human(result.tolerance)}",
         [f"{_note(new)}  ({new.t - old.t:+.0f} s)" for old, new in d.delayed]),
    ]


def _flaps(side: SideResult) -> list[str]:
    return [f"{_at(a.fired_at)}  {a.rule}  {dict(a.labels).get('instance', '')}  fired "
            f"{human((a.resolved_at or a.fired_at) - a.fired_at)}" for a in side.flapping]


def text(result: BacktestResult) -> str:
    """For the terminal."""
    lines = _summary(result)
    headers, rows = _page_rows(result)
    lines.append("")
    lines.append("pages per receiver" + (" (new/old per day)" if result.old else " per day"))
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    for title, items in _diff_lists(result):
        lines.append(f"\n{title}: {len(items)}")
        lines += [f"  {i}" for i in items[:MAX_ROWS]]
        if len(items) > MAX_ROWS:
            lines.append(f"  … {len(items) - MAX_ROWS} more (--format json has them all)")
    for side in result.sides:
        flaps = _flaps(side)
        lines.append(f"\nflapping ({side.label}: fired and resolved within "
                     f"{human(result.flap_window)}): {len(flaps)}")
        lines += [f"  {f}" for f in flaps[:MAX_ROWS]]
    if result.old is None:
        lines.append("\nnotifications sent:")
        lines += [f"  {_note(n)}" for n in result.new.replay.notifications[:MAX_ROWS]]
    return "\n".join(lines)


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    def cell(value: str) -> str:
        return value.replace("|", "\\|")

    return ["| " + " | ".join(map(cell, headers)) + " |",
            "|" + "---|" * len(headers), *["| " + " | ".join(map(cell, r)) + " |" for r in rows]]


def markdown(result: BacktestResult) -> str:
    """Fit for a pull-request comment."""
    out = ["### Backtest", "", *[f"- {line.strip()}" for line in _summary(result)], ""]
    headers, rows = _page_rows(result)
    out += ["**Pages per receiver**" + (" (new/old per day)" if result.old else ""), ""]
    out += _md_table(headers, rows) if rows else ["No pages."]
    for title, items in _diff_lists(result):
        out += ["", f"**{title.capitalize()}: {len(items)}**", ""]
        out += [f"- `{i}`" for i in items[:MAX_ROWS]]
    for side in result.sides:
        flaps = _flaps(side)
        out += ["", f"**Flapping ({side.label}): {len(flaps)}**", ""]
        out += [f"- `{f}`" for f in flaps[:MAX_ROWS]]
    return "\n".join(out) + "\n"


def chart_svg(result: BacktestResult, buckets: int = 84) -> str:
    """Pages per time bucket over the recording, one line per config (inline SVG)."""
    h = result.header
    span = max(h.end - h.begin, 1.0)
    size = span / buckets
    width, height, left, top, bottom = 1000, 220, 48, 16, 36
    counts = {}
    for side in result.sides:
        c = [0] * buckets
        for n in side.replay.notifications:
            if n.status == "firing":
                c[min(buckets - 1, int((n.t - h.begin) / size))] += 1
        counts[side.label] = c
    peak = max([1, *[max(c) for c in counts.values()]])
    x = [left + (width - left - 10) * (i + 0.5) / buckets for i in range(buckets)]

    def y(v: int) -> float:
        return top + (height - top - bottom) * (1 - v / peak)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="pages over time">',
             f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - 10}" y2="{y(0):.1f}" '
             'stroke="#94a3b8"/>',
             f'<text x="{left - 6}" y="{y(peak) + 4:.1f}" font-size="11" text-anchor="end">'
             f'{peak}</text>',
             f'<text x="{left - 6}" y="{y(0) + 4:.1f}" font-size="11" text-anchor="end">0</text>']
    for i in range(0, buckets + 1, max(1, buckets // 7)):
        t = h.begin + i * size
        px = left + (width - left - 10) * i / buckets
        parts.append(f'<text x="{px:.1f}" y="{height - 12}" font-size="11" text-anchor="middle">'
                     f'{datetime.fromtimestamp(t, UTC).strftime("%m-%d %H:%M")}</text>')
    for label, c in counts.items():
        colour = _COLOURS.get(label, "#111827")
        points = " ".join(f"{px:.1f},{y(v):.1f}" for px, v in zip(x, c, strict=True))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{points}"><title>{label}: pages per {human(size)}</title>'
                     '</polyline>')
    for index, label in enumerate(counts):
        parts.append(f'<text x="{width - 200 + index * 90}" y="12" font-size="12" '
                     f'fill="{_COLOURS.get(label, "#111827")}">■ {label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_section(result: BacktestResult) -> str:
    """The backtest as a section of the drill report's HTML."""
    e = html.escape
    out = ['<section class="panel backtest"><h2>Backtest</h2>',
           *[f'<div class="sub">{e(line)}</div>' for line in _summary(result)],
           f'<h3>Pages over time (per {human((result.header.end - result.header.begin) / 84)})'
           '</h3>', f'<div class="chart-wrap">{chart_svg(result)}</div>']
    headers, rows = _page_rows(result)
    out.append("<h3>Pages per receiver" + (" (new/old per day)" if result.old else "") + "</h3>")
    out.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr>"
               + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
               + "</table>")
    for title, items in _diff_lists(result):
        out.append(f"<h3>{e(title.capitalize())}: {len(items)}</h3>")
        out.append("<ul>" + "".join(f"<li><code>{e(i)}</code></li>" for i in items[:MAX_ROWS])
                   + "</ul>")
    for side in result.sides:
        flaps = _flaps(side)
        out.append(f"<h3>Flapping ({e(side.label)}): {len(flaps)}</h3><ul>"
                   + "".join(f"<li><code>{e(f)}</code></li>" for f in flaps[:MAX_ROWS]) + "</ul>")
    out.append("</section>")
    return "\n".join(out)


def html_page(result: BacktestResult) -> str:
    """A self-contained page holding the section, in the drill report's stylesheet."""
    from alertdrill.report.html import stylesheet

    return ("<!doctype html><html><head><meta charset='utf-8'><title>alertdrill backtest</title>"
            f"<style>{stylesheet()}</style></head><body><header class='top'><h1>alertdrill "
            f"backtest</h1><div class='meta'>{html.escape(str(result.recording))}</div></header>"
            f"<main>{html_section(result)}</main></body></html>\n")


def write_report_section(result: BacktestResult, report_dir: Path) -> Path:
    """The section and its Markdown where the drill report looks for them
    (``alertdrill.report.SECTIONS``); returns their folder."""
    folder = report_dir / "backtest"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "backtest-section.html").write_text(html_section(result), encoding="utf-8")
    (folder / "backtest-report.md").write_text(markdown(result), encoding="utf-8")
    return folder


def to_json(result: BacktestResult) -> str:
    """Everything, for tools."""
    data: dict[str, Any] = {
        "recording": str(result.recording), "header": result.header.to_json(),
        "timings": result.timings,
        "sides": [{"label": s.label, "stack": str(s.stack), "time_scale": s.replay.time_scale,
                   "episodes": s.replay.episodes, "warnings": s.replay.warnings,
                   "alerts": as_json(s.alerts),
                   "notifications": [n.to_json() for n in s.replay.notifications],
                   "pages_per_day": {r: dict(c) for r, c in
                                     pages_per_day(s.replay.notifications).items()},
                   "flapping": as_json(s.flapping)} for s in result.sides]}
    if result.differences is not None:
        d = result.differences
        data["differences"] = {"added": [n.to_json() for n in d.added],
                               "removed": [n.to_json() for n in d.removed],
                               "delayed": [{"old": o.to_json(), "new": n.to_json()}
                                           for o, n in d.delayed]}
    return json.dumps(data, indent=2)
