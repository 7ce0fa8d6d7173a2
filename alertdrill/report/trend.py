"""The drill report's trend section (``alertdrill report --history DIR``): per alert, the last
N runs' time to notify as a small chart, and which runs broke.

Why: one run says whether alerting works today; a trend says whether it is getting slower (a
group_wait someone raised, a Prometheus under load) before a claim finally fails. The history is
any directory tree holding earlier runs' scenario records (a CI cache of ``reports/drill``
directories, one per run, say): records are grouped into runs by the run key every record
carries (:data:`alertdrill.report.records.RUN_KEY`), so the layout does not matter, and the current
run is added when the history does not hold it yet. Figures come from the report's own
analysis (:func:`alertdrill.report.analysis.sla_rows`), as in the SLA tables.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertdrill.durations import human
from alertdrill.report.analysis import sla_rows
from alertdrill.report.model import claims, scale
from alertdrill.report.records import SCHEMA

#: How many runs the trend shows by default (``--runs N``).
DEFAULT_RUNS = 10


@dataclass
class Run:
    """One run of the history: its key, when it started, its records."""

    key: str
    started: str
    records: list[dict[str, Any]]

    @property
    def broken(self) -> list[str]:
        """The scenarios that failed or stopped on an error."""
        return [str((r.get("scenario") or {}).get("name")) for r in self.records
                if r.get("outcome") in ("failed", "error")]


@dataclass
class AlertTrend:
    """One alert over the runs: time to notify (real-world seconds, None where no
    notification of it was measured) and whether a claim about it failed, run by run."""

    alertname: str
    notify: list[float | None] = field(default_factory=list)
    broke: list[bool] = field(default_factory=list)


def load_runs(history: Path, current: list[dict[str, Any]] | None = None) -> list[Run]:
    """Every run whose records lie anywhere under ``history`` (plus ``current``), oldest first."""
    if not history.is_dir():
        from alertdrill.errors import ConfigError

        raise ConfigError(f"--history {history}: no such directory",
                          "give the directory where earlier runs' reports/drill directories are "
                          "kept (e.g. a CI cache)")
    by_key: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(history.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("schema") == SCHEMA:
            by_key.setdefault(str(data.get("run_key")), []).append(data)
    for record in current or []:
        key = str(record.get("run_key"))
        known = by_key.setdefault(key, [])
        if all(r.get("id") != record.get("id") for r in known):
            known.append(record)
    runs = [Run(key, min(str((r.get("run") or {}).get("started") or r.get("started") or "")
                         for r in recs), recs) for key, recs in by_key.items()]
    return sorted(runs, key=lambda run: (run.started, run.key))


def alert_trends(runs: list[Run]) -> list[AlertTrend]:
    """Per alert (every alert a notification or a claim of these runs names), sorted by name."""
    per_run: list[tuple[dict[str, float], set[str], set[str]]] = []
    for run in runs:
        fastest: dict[str, float] = {}
        failed: set[str] = set()
        seen: set[str] = set()
        for record in run.records:
            k = scale(record)
            for row in sla_rows(record):
                names = [n for n in row.alertname.split(",") if n]
                seen.update(names)
                if row.phase != "notify" or row.measured is None:
                    continue
                for name in names:
                    fastest[name] = min(fastest.get(name, float("inf")), row.measured * k)
            for claim in claims(record):
                if claim.alertname:
                    seen.add(claim.alertname)
                    if not claim.passed:
                        failed.add(claim.alertname)
        per_run.append((fastest, failed, seen))
    names = sorted(set().union(*(seen for _, _, seen in per_run))) if per_run else []
    return [AlertTrend(name, [fastest.get(name) for fastest, _, _ in per_run],
                       [name in failed for _, failed, _ in per_run]) for name in names]


# -- rendering -------------------------------------------------------------------------------
_W, _H, _PAD = 14, 36, 2


def sparkline_svg(trend: AlertTrend) -> str:
    """A bar per run (height: time to notify, on this alert's own scale); a red bar where a
    claim about the alert failed, a grey tick where nothing was measured."""
    top = max((v for v in trend.notify if v is not None), default=0.0) or 1.0
    parts = []
    for i, (value, broke) in enumerate(zip(trend.notify, trend.broke, strict=True)):
        x = i * _W + _PAD
        label = f"run {i + 1}: " + (human(value) if value is not None else "not notified") + \
            (" — a claim failed" if broke else "")
        if value is None:
            colour = "#d62728" if broke else "#bbb"
            shape = f'<rect x="{x}" y="{_H - 3}" width="{_W - 2 * _PAD}" height="3" fill="{colour}">'
        else:
            height = max(2.0, (_H - 4) * value / top)
            colour = "#d62728" if broke else "#2ca02c"
            shape = (f'<rect x="{x}" y="{_H - height:.1f}" width="{_W - 2 * _PAD}" '
                     f'height="{height:.1f}" fill="{colour}">')
        parts.append(f"{shape}<title>{html.escape(label)}</title></rect>")
    width = max(1, len(trend.notify)) * _W
    return (f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{_H}" '
            f'viewBox="0 0 {width} {_H}" role="img" aria-label="time to notify of '
            f'{html.escape(trend.alertname, quote=True)}">{"".join(parts)}</svg>')


_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline_text(trend: AlertTrend) -> str:
    """The same chart in characters, for Markdown: ✗ a failed claim, · nothing measured."""
    top = max((v for v in trend.notify if v is not None), default=0.0) or 1.0
    out = []
    for value, broke in zip(trend.notify, trend.broke, strict=True):
        if broke:
            out.append("✗")
        elif value is None:
            out.append("·")
        else:
            out.append(_BLOCKS[min(len(_BLOCKS) - 1, int(value / top * (len(_BLOCKS) - 1) + 0.5))])
    return "".join(out)


def _broke_in(trend: AlertTrend) -> str:
    runs = [str(i + 1) for i, broke in enumerate(trend.broke) if broke]
    return ", ".join(runs) if runs else "none"


def _range(trend: AlertTrend) -> tuple[str, str]:
    values = [v for v in trend.notify if v is not None]
    last = next((v for v in reversed(trend.notify) if v is not None), None)
    span = f"{human(min(values))} … {human(max(values))}" if values else "—"
    return (human(last) if last is not None else "—"), span


@dataclass
class Trend:
    """What the report's trend section shows: the last runs, and each alert over them."""

    runs: list[Run]
    alerts: list[AlertTrend]

    @classmethod
    def of(cls, history: Path, current: list[dict[str, Any]], last: int = DEFAULT_RUNS) -> Trend:
        """The last ``last`` runs under ``history`` (the current one included)."""
        if last < 1:
            from alertdrill.errors import ConfigError

            raise ConfigError(f"--runs must be 1 or more, not {last}")
        runs = load_runs(history, current)[-last:]
        return cls(runs, alert_trends(runs))

    def run_rows(self) -> list[list[str]]:
        """One row per run: number, start, counts, what broke."""
        rows = []
        for i, run in enumerate(self.runs, 1):
            outcomes = [str(r.get("outcome")) for r in run.records]
            rows.append([str(i), run.started[:19].replace("T", " "),
                         f"{outcomes.count('passed')}/{len(outcomes)} passed",
                         "; ".join(run.broken) or "—"])
        return rows

    def markdown(self) -> list[str]:
        """The section as Markdown lines (cells go through the caller's escaping)."""
        lines = [f"## Trend over the last {len(self.runs)} runs", "",
                 "Time to notify (real-world, the first notification of each alert; "
                 "▁…█ on each alert's own scale, ✗ a claim about it failed, · not notified):", ""]
        lines += ["| alert | runs 1…N | last | range | broke in runs |", "|---|---|---|---|---|"]
        for trend in self.alerts:
            last, span = _range(trend)
            lines.append(f"| {_md(trend.alertname)} | `{sparkline_text(trend)}` | {last} | {span} "
                         f"| {_broke_in(trend)} |")
        lines += ["", "| run | started | scenarios | broke |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in self.run_rows()]
        return [*lines, ""]

    def html(self) -> str:
        """The section as an HTML panel (every value escaped)."""
        e = html.escape
        alert_rows = []
        for trend in self.alerts:
            last, span = _range(trend)
            alert_rows.append(f"<tr><td>{e(trend.alertname)}</td><td>{sparkline_svg(trend)}</td>"
                              f"<td>{e(last)}</td><td>{e(span)}</td><td>{e(_broke_in(trend))}</td></tr>")
        run_rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                           for row in self.run_rows())
        return (f'<div class="panel" id="trend"><h3 style="margin-top:0">Trend over the last '
                f"{len(self.runs)} runs</h3><p>Time to notify (real-world, the first notification "
                "of each alert), one bar per run on each alert's own scale; red: a claim about "
                "the alert failed in that run; grey: not notified.</p>"
                "<table><thead><tr><th>alert</th><th>runs 1…N</th><th>last</th><th>range</th>"
                f"<th>broke in runs</th></tr></thead><tbody>{''.join(alert_rows)}</tbody></table>"
                "<table><thead><tr><th>run</th><th>started</th><th>scenarios</th><th>broke</th>"
                f"</tr></thead><tbody>{run_rows}</tbody></table></div>")


def _md(text: Any) -> str:
    value = " ".join(str(text if text is not None else "").split())
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(
        ">", "&gt;") or " "
