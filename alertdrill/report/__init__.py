"""The drill report: one self-contained HTML page and a Markdown twin, from scenario records.

Input: the JSON records a run leaves in ``reports/drill/`` (see :mod:`alertdrill.report.records`).
Output: ``drill-report.html`` (inline CSS and SVG, no script, no external URL) and
``drill-report.md`` (paste-able into a ticket) — with the mutation report as their last
section when ``alertdrill mutate`` left one in ``<out>/mutate/``. For every scenario:

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
(:class:`alertdrill.report.redact.Redactor`) before it is rendered.

The package, one concern a module: :mod:`.model` (typed views of a record's claims,
notifications and events), :mod:`.analysis` (SLA rows, anchors, escalations, what was observed
without a claim), :mod:`.cells` and :mod:`.tables` (how values and tables are written, for both
renderers), :mod:`.chart` (the SVG), :mod:`.markdown`, :mod:`.html` (with ``report.css``),
:mod:`.metrics` (the run's SLA figures as ``alertdrill.prom``, and the Pushgateway push) and
:mod:`.trend` (``--history``: the last runs' time to notify per alert).
"""

from __future__ import annotations

from pathlib import Path

from alertdrill.errors import AlertdrillError
from alertdrill.report.analysis import PHASES, SlaRow, action_label, is_escalation, observed_lines, sla_rows
from alertdrill.report.chart import chart_svg
from alertdrill.report.html import html_section, render_html
from alertdrill.report.markdown import markdown, markdown_section
from alertdrill.report.metrics import write_metrics
from alertdrill.report.records import load_records
from alertdrill.report.trend import DEFAULT_RUNS, Trend

__all__ = ["PHASES", "SlaRow", "action_label", "build", "chart_svg", "html_section",
           "is_escalation", "markdown", "markdown_section", "observed_lines", "render_html",
           "sla_rows"]


#: Sections other commands leave beside the drill report, embedded when present: (folder under
#: the report's directory, its HTML section, its Markdown) — ``alertdrill mutate`` and
#: ``alertdrill backtest --report-dir`` write there by default.
SECTIONS = (("mutate", "mutation-section.html", "mutation-report.md"),
            ("backtest", "backtest-section.html", "backtest-report.md"))


def _demoted(markdown: str) -> str:
    """A section's Markdown one heading level down (its title becomes the report's ``##``)."""
    first, _, rest = markdown.partition("\n")
    if first.startswith("# "):
        first = "#" + first
    return first + "\n" + rest


def build(source: Path, out: Path, history: Path | None = None,
          runs: int = DEFAULT_RUNS) -> tuple[Path, Path]:
    """Read the records in ``source``, write ``drill-report.html`` and ``.md`` into ``out``,
    and the run's metrics, ``alertdrill.prom`` (:mod:`alertdrill.report.metrics`), beside them;
    ``history``: a directory of earlier runs' records, for the trend section."""
    records = load_records(source)
    if not records:
        raise AlertdrillError(
            f"no scenario records in {source}",
            "run scenarios first (alertdrill run, or pytest with the alertdrill plugin); each writes "
            "<report dir>/<scenario>.json — or point --from at the directory that has them")
    trend = Trend.of(history, records, runs) if history is not None else None
    out.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out / "drill-report.html", out / "drill-report.md"
    page, text = render_html(records, trend), markdown(records, trend)
    for folder, html_name, md_name in SECTIONS:
        section = out / folder
        if (section / html_name).is_file():
            page = page.replace("\n</main>", "\n" + (section / html_name).read_text(
                encoding="utf-8") + "\n</main>", 1)
        if (section / md_name).is_file():
            text += "\n" + _demoted((section / md_name).read_text(encoding="utf-8"))
    html_path.write_text(page, encoding="utf-8")
    md_path.write_text(text, encoding="utf-8")
    write_metrics(records, out)
    return html_path, md_path
