"""The mutation report: the score, who killed what, every survivor's diff and a claim that
would catch it — for a terminal, Markdown, an HTML section (with the drill report's style) and
JSON for CI; and the exit status ``--min-score`` asks for.

The score is killed / (total − equivalent − invalid): a mutant the static routing proves
equivalent cannot be killed, and one the real tools reject would never be deployed. A mutant
"killed" by an error rather than a failed claim (a stack that did not start, a flaky step) is
counted as killed but shown apart: a score is only as honest as the suite is stable.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertdrill.mutate.model import Mutant
from alertdrill.mutate.operators import NAMES

STATUSES = ("killed", "survived", "equivalent", "invalid", "error", "interrupted")


def suggestion(mutant: Mutant) -> str:
    """The operator's suggested claim, with an alert the static view says is affected in
    place of ``<alert>``."""
    text = mutant.site.suggestion
    if "<alert>" in text and mutant.affected_alerts:
        text = text.replace("<alert>", sorted(mutant.affected_alerts)[0])
    return text.replace('"<alert>"', "an alert")


@dataclass
class Outcome:
    """What became of one mutant."""

    mutant: Mutant
    status: str
    by: str | None = None  # "claim" or "error", for killed
    scenario: str = ""
    feature: str = ""
    step: str = ""
    message: str = ""
    scenarios: list[str] = field(default_factory=list)  # the scenarios that ran
    selected: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The JSON report's entry."""
        m = self.mutant
        return {"id": m.id, "operator": m.operator, "file": m.file, "line": m.site.line,
                "description": m.description, "status": self.status, "by": self.by,
                "scenario": self.scenario or None, "feature": self.feature or None,
                "step": self.step or None, "message": self.message or None,
                "scenarios_run": self.scenarios, "scenarios_selected": self.selected,
                "seconds": round(self.seconds, 1), "diff": m.diff,
                "suggestion": suggestion(m) if self.status == "survived" else None}


@dataclass
class Result:
    """Every mutant's outcome."""

    stack: str
    stack_dir: str
    outcomes: list[Outcome]
    started: float
    finished: float = 0.0

    def of(self, status: str) -> list[Outcome]:
        """The outcomes with ``status``, in mutant order."""
        return sorted((o for o in self.outcomes if o.status == status), key=lambda o: o.mutant.id)

    @property
    def scored(self) -> int:
        """total − equivalent − invalid (interrupted mutants are not counted at all)."""
        return sum(o.status in ("killed", "survived", "error") for o in self.outcomes)

    @property
    def score(self) -> float | None:
        """killed / scored; None when nothing could be scored."""
        return len(self.of("killed")) / self.scored if self.scored else None

    def counts(self) -> dict[str, dict[str, int]]:
        """operator → status → number."""
        found: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            row = found.setdefault(o.mutant.operator, dict.fromkeys(STATUSES, 0))
            row[o.status] += 1
        return {k: found[k] for k in NAMES if k in found}


def exit_status(result: Result, min_score: float | None) -> int:
    """0 at or above ``--min-score`` (or without one), 1 below it or when nothing was scored,
    2 when the run was interrupted."""
    if result.of("interrupted"):
        return 2
    if min_score is None:
        return 0
    return 0 if result.score is not None and result.score >= min_score else 1


def _score_text(result: Result) -> str:
    if result.score is None:
        return "no mutant could be scored"
    return f"{result.score:.2f} ({len(result.of('killed'))} of {result.scored} killed)"


def progress_line(outcome: Outcome, done: int, total: int) -> str:
    """One line per mutant as it ends."""
    m = outcome.mutant
    what = {"killed": f"KILLED by {outcome.scenario!r}" + (" (an error, not a claim)"
                                                          if outcome.by == "error" else ""),
            "survived": "SURVIVED", "invalid": "INVALID", "error": "ERROR",
            "interrupted": "INTERRUPTED", "equivalent": "EQUIVALENT"}[outcome.status]
    return f"[{done}/{total}] {m.id} {m.operator}: {m.description} — {what} " \
           f"({outcome.seconds:.0f} s)"


def terminal(result: Result) -> str:
    """The summary a terminal shows at the end: score, killed, survivors with diffs."""
    lines = [f"mutation score: {_score_text(result)} — {summary(result)}"]
    for o in result.of("killed"):
        lines.append(f"  killed   {o.mutant.id} {o.mutant.description}\n"
                     f"           by {o.scenario} · {o.step or '(no step)'}"
                     + (" · an error, not a claim" if o.by == "error" else ""))
    for o in result.of("survived"):
        lines.append(f"  SURVIVED {o.mutant.id} {o.mutant.description}")
        lines += ["           " + line for line in o.mutant.diff.rstrip("\n").splitlines()]
        lines.append(f"           would be caught by: {suggestion(o.mutant)}")
    for o in result.of("error"):
        lines.append(f"  error    {o.mutant.id} {o.mutant.description}: {o.message}")
    return "\n".join(lines)


def summary(result: Result) -> str:
    """``3 killed, 1 survived, 2 equivalent, 0 invalid``."""
    return ", ".join(f"{len(result.of(s))} {s}" for s in STATUSES
                     if result.of(s) or s in ("killed", "survived"))


def markdown(result: Result) -> str:
    """The whole report, for a ticket or a pull request."""
    out = [f"# Mutation report — {result.stack}", "",
           f"**Score: {_score_text(result)}** · {summary(result)} · "
           f"{_duration(result)}", "",
           "| operator | mutants | killed | survived | equivalent | invalid | error |",
           "|---|---|---|---|---|---|---|"]
    for name, row in result.counts().items():
        total = sum(row.values())
        out.append(f"| {name} | {total} | {row['killed']} | {row['survived']} | "
                   f"{row['equivalent']} | {row['invalid']} | {row['error']} |")
    if result.of("survived"):
        out += ["", "## Survivors", ""]
        for o in result.of("survived"):
            out += [f"### {o.mutant.id} {o.mutant.operator}: {_md(o.mutant.description)}", "",
                    f"Would be caught by: {_md(suggestion(o.mutant))}"
                    + (f" ({_md(o.message)})" if o.message else ""), "",
                    "```diff", o.mutant.diff.rstrip("\n"), "```", ""]
    if result.of("killed"):
        out += ["", "## Killed", "", "| mutant | change | scenario | step | by |",
                "|---|---|---|---|---|"]
        for o in result.of("killed"):
            out.append(f"| {o.mutant.id} | {_md(o.mutant.description)} | {_md(o.scenario)} | "
                       f"{_md(o.step)} | {o.by} |")
    for status, title in (("equivalent", "Equivalent (not run)"),
                          ("invalid", "Rejected by amtool/promtool"), ("error", "Errors")):
        if result.of(status):
            out += ["", f"## {title}", "", "| mutant | change | why |", "|---|---|---|"]
            out += [f"| {o.mutant.id} | {_md(o.mutant.description)} | {_md(o.message)} |"
                    for o in result.of(status)]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _duration(result: Result) -> str:
    seconds = max(0.0, (result.finished or time.time()) - result.started)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(result.finished or result.started))
    return f"{seconds / 60:.1f} min, finished {when}"


def html_section(result: Result) -> str:
    """The report as one ``<section>``: for the drill report, or a page of its own."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(name)}</td><td>{sum(row.values())}</td><td>{row['killed']}</td>"
        f"<td>{row['survived']}</td><td>{row['equivalent']}</td><td>{row['invalid']}</td>"
        f"<td>{row['error']}</td></tr>" for name, row in result.counts().items())
    parts = [f'<section class="mutation" id="mutation"><h2>Mutation testing — {e(result.stack)}'
             f"</h2><p><strong>Score: {e(_score_text(result))}</strong> · {e(summary(result))}"
             f" · {e(_duration(result))}</p><table><thead><tr><th>operator</th>"
             "<th>mutants</th><th>killed</th><th>survived</th><th>equivalent</th><th>invalid</th><th>error</th></tr></thead>"
             f"<tbody>{rows}</tbody></table>"]
    if result.of("survived"):
        parts.append("<h3>Survivors</h3>")
        for o in result.of("survived"):
            parts.append(f"<h4>{e(o.mutant.id)} {e(o.mutant.operator)}: "
                         f"{e(o.mutant.description)}</h4><p>Would be caught by: "
                         f"{e(suggestion(o.mutant))}</p><pre>{e(o.mutant.diff)}</pre>")
    if result.of("killed"):
        parts.append("<h3>Killed</h3><table><thead><tr><th>mutant</th><th>change</th>"
                     "<th>scenario</th><th>step</th><th>by</th></tr></thead><tbody>")
        parts += [f"<tr><td>{e(o.mutant.id)}</td><td>{e(o.mutant.description)}</td>"
                  f"<td>{e(o.scenario)}</td><td>{e(o.step)}</td><td>{e(o.by or '')}</td></tr>"
                  for o in result.of("killed")]
        parts.append("</tbody></table>")
    for status in ("equivalent", "invalid", "error"):
        if result.of(status):
            parts.append(f"<h3>{e(status.capitalize())}</h3><ul>")
            parts += [f"<li>{e(o.mutant.id)} {e(o.mutant.description)} — {e(o.message)}</li>"
                      for o in result.of(status)]
            parts.append("</ul>")
    parts.append("</section>")
    return "".join(parts)


def render_html(result: Result) -> str:
    """A self-contained page: the section with the drill report's stylesheet."""
    from alertdrill.report.html import stylesheet

    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>alertdrill '
            f"mutation report — {html.escape(result.stack)}</title><style>{stylesheet()}</style>"
            f"</head><body><main>{html_section(result)}</main></body></html>\n")


def to_json(result: Result) -> str:
    """For CI."""
    return json.dumps({"schema": "alertdrill.mutation-report/1", "stack": result.stack,
                       "stack_dir": result.stack_dir, "score": result.score,
                       "scored": result.scored,
                       "counts": {s: len(result.of(s)) for s in STATUSES},
                       "operators": result.counts(),
                       "seconds": round(max(0.0, result.finished - result.started), 1),
                       "mutants": [o.to_json() for o in
                                   sorted(result.outcomes, key=lambda o: o.mutant.id)]},
                      indent=2)


def write(result: Result, directory: Path) -> list[Path]:
    """``mutation-report.md``, ``.html`` and ``.json`` in ``directory``, and the section the
    drill report embeds (``mutation-section.html``: the drill report of ``reports/`` reads
    ``reports/mutate/``, mutate's default ``--report-dir``)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "mutation-report.md", directory / "mutation-report.html",
             directory / "mutation-report.json"]
    for path, text in zip(paths, (markdown(result), render_html(result), to_json(result)),
                          strict=True):
        path.write_text(text, encoding="utf-8")
    # The drill report (``alertdrill report``, ``run``) embeds this when it is beside it.
    (directory / "mutation-section.html").write_text(html_section(result), encoding="utf-8")
    return paths
