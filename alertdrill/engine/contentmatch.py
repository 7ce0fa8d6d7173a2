"""What a claim on a notification's *content* checks: a field's text, or its exact alert set.

Pure (no waiting, no stack), so the step grammar and the verdicts are unit-tested; the claims
that wait for such a notification are in ``alertdrill.engine.expect_content``.

- :class:`FieldCheck`: one field a human reads (Slack title, e-mail subject, PagerDuty summary,
  see ``alertdrill.engine.readable``) contains / does not contain / is / matches a text.
- :class:`AlertRow` and :func:`alert_set_problem`: a structured notification (webhook, probe)
  holds exactly one alert per row — labels, the alert's own status, annotations, startsAt and
  endsAt — and no other alert.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from alertdrill.durations import human, parse_human
from alertdrill.engine.stepsyntax import parse_labels
from alertdrill.errors import StepError
from alertdrill.sink.records import NotifiedAlert

#: How a field is compared with the text a step gives.
FIELD_OPS = ("contains", "contain", "does not contain", "do not contain", "is", "are", "matches",
             "match")


@dataclass(frozen=True)
class FieldCheck:
    """``field`` ``op`` ``text``: e.g. the subject contains "{instance}"."""

    field: str
    op: str
    text: str

    def __post_init__(self) -> None:
        if self.op not in FIELD_OPS:
            raise StepError(f"unknown comparison {self.op!r}", f"use one of {', '.join(FIELD_OPS)}")
        if self.op.startswith("match"):
            try:
                re.compile(self.text)
            except re.error as exc:
                raise StepError(f"cannot read the pattern {self.text!r}: {exc}",
                                "write a Python regular expression") from None

    @property
    def negative(self) -> bool:
        """A claim of absence ("does not contain"): every notification must hold it."""
        return "not" in self.op

    def holds(self, value: str) -> bool:
        """Whether the rendered field ``value`` satisfies the check."""
        if self.op in ("is", "are"):
            return value.strip() == self.text.strip()
        if self.op.startswith("match"):
            return re.search(self.text, value) is not None
        return (self.text in value) != self.negative

    def describe(self) -> str:
        """E.g. 'its subject contains "WebAppDown"'."""
        return f'its {self.field} {self.op} "{self.text}"'


#: The columns of an alert table that are not labels.
STATUS, ANNOTATIONS, STARTS, ENDS, SOURCE = ("status", "annotations", "startsat", "endsat",
                                             "generatorurl")
_OFFSET_RE = re.compile(r"^\s*([+-])\s*(\d+(?:\.\d+)?\s*[a-z]+)\s*$")


@dataclass(frozen=True)
class AlertRow:
    """One alert a notification must hold. Offsets are real-world seconds from the anchor."""

    labels: dict[str, str]
    status: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    starts: float | None = None
    #: endsAt offset; ``None`` not checked; see ``no_end``.
    ends: float | None = None
    #: endsAt is Go's zero time (what Alertmanager writes on a firing alert).
    no_end: bool = False
    #: The alert's generatorURL (None: not checked).
    generator_url: str | None = None

    def describe(self) -> str:
        """E.g. '{alertname=DiskFull, instance=h2} resolved'."""
        parts = ["{" + ", ".join(f"{k}={v}" for k, v in self.labels.items()) + "}"]
        if self.status:
            parts.append(self.status)
        if self.annotations:
            parts.append("annotations " + ", ".join(f'{k}="{v}"' for k, v in self.annotations.items()))
        if self.starts is not None:
            parts.append(f"startsAt {_offset_text(self.starts)}")
        if self.no_end:
            parts.append("no endsAt")
        elif self.ends is not None:
            parts.append(f"endsAt {_offset_text(self.ends)}")
        if self.generator_url is not None:
            parts.append(f"generatorURL {self.generator_url}")
        return " ".join(parts)


def parse_alert_table(table: Sequence[Sequence[str]]) -> list[AlertRow]:
    """A step's table (header first) as rows; StepError says what cannot be read.

    Columns: ``alertname`` and any other label; ``status`` (firing/resolved); ``annotations``
    (``summary="x", runbook_url=…``: those must be present, others may be); ``startsAt`` and
    ``endsAt`` as offsets from the scenario's latest action (``-10 minutes``, ``+5 minutes``;
    ``endsAt`` may be ``none``); ``generatorURL``. An empty cell checks nothing.
    """
    if len(table) < 2:
        raise StepError("the alert table has no rows", "give a header row and one row per alert")
    header = [c.strip() for c in table[0]]
    if "alertname" not in header:
        raise StepError("the alert table needs an alertname column",
                        "| alertname | instance | status |")
    rows = []
    for raw in table[1:]:
        cells = dict(zip(header, (c.strip() for c in raw), strict=True))
        labels: dict[str, str] = {}
        annotations: dict[str, str] = {}
        status: str | None = None
        starts: float | None = None
        ends: float | None = None
        no_end = False
        source: str | None = None
        for column, cell in cells.items():
            key = column.lower()
            if not cell:
                continue
            if key == STATUS:
                if cell not in ("firing", "resolved"):
                    raise StepError(f"status {cell!r} is neither firing nor resolved")
                status = cell
            elif key == ANNOTATIONS:
                annotations = parse_labels(cell)
            elif key == STARTS:
                starts = parse_offset(cell)
            elif key == ENDS:
                no_end = cell.lower() == "none"
                ends = None if no_end else parse_offset(cell)
            elif key == SOURCE:
                source = cell
            else:
                labels[column] = cell
        rows.append(AlertRow(labels, status, annotations, starts, ends, no_end, source))
    return rows


def parse_offset(text: str) -> float:
    """``-10 minutes`` → -600.0; the sign is required (before or after the latest action)."""
    match = _OFFSET_RE.match(text)
    if not match:
        raise StepError(f"cannot read the time offset {text!r}",
                        "write -10 minutes (before the latest action) or +5 minutes (after it)")
    sign = -1.0 if match.group(1) == "-" else 1.0
    return sign * parse_human(match.group(2))


def _offset_text(real: float) -> str:
    return f"{'+' if real >= 0 else '-'}{human(abs(real))}"


def row_matches(row: AlertRow, alert: NotifiedAlert, offset_of: Callable[[str], float | None],
                tolerance_real: float) -> bool:
    """Whether ``alert`` is the one ``row`` describes. ``offset_of`` turns an RFC 3339 time
    into real-world seconds from the anchor (None: Go's zero time); ``tolerance_real`` is the
    claim's tolerance in real-world seconds."""
    if any(alert.labels.get(k) != v for k, v in row.labels.items()):
        return False
    if row.status is not None and alert.status != row.status:
        return False
    if any(alert.annotations.get(k) != v for k, v in row.annotations.items()):
        return False
    if row.generator_url is not None and alert.generator_url != row.generator_url:
        return False
    if row.starts is not None:
        got = offset_of(alert.starts_at)
        if got is None or abs(got - row.starts) > tolerance_real:
            return False
    if row.no_end or row.ends is not None:
        got = offset_of(alert.ends_at)
        if row.no_end:
            return got is None
        assert row.ends is not None
        if got is None or abs(got - row.ends) > tolerance_real:
            return False
    return True


def alert_set_problem(rows: Sequence[AlertRow], alerts: Sequence[NotifiedAlert],
                      offset_of: Callable[[str], float | None], tolerance_real: float) -> str | None:
    """None when each row is one alert and each alert one row; else what differs."""
    fits = [[row_matches(r, a, offset_of, tolerance_real) for a in alerts] for r in rows]
    owner: dict[int, int] = {}  # alert index → row index (a maximum bipartite matching)

    def assign(r: int, seen: set[int]) -> bool:
        for a, ok in enumerate(fits[r]):
            if ok and a not in seen:
                seen.add(a)
                if a not in owner or assign(owner[a], seen):
                    owner[a] = r
                    return True
        return False

    unmatched_rows = [r for r in range(len(rows)) if not assign(r, set())]
    extra = [a for a in range(len(alerts)) if a not in owner]
    if not unmatched_rows and not extra:
        return None
    parts = []
    if unmatched_rows:
        parts.append("no alert for " + "; ".join(rows[r].describe() for r in unmatched_rows))
    if extra:
        parts.append("alerts no row describes: " + "; ".join(describe_alert(alerts[a], offset_of)
                                                           for a in extra))
    return ", ".join(parts)


def describe_alert(alert: NotifiedAlert, offset_of: Callable[[str], float | None]) -> str:
    """One notified alert as a failure message shows it (times as offsets from the anchor)."""
    labels = "{" + ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items())) + "}"
    starts, ends = offset_of(alert.starts_at), offset_of(alert.ends_at)
    times = f" startsAt {_offset_text(starts) if starts is not None else 'none'}, endsAt " \
            f"{_offset_text(ends) if ends is not None else 'none'}"
    notes = f" annotations {alert.annotations}" if alert.annotations else ""
    source = f" generatorURL {alert.generator_url}" if alert.generator_url else ""
    return f"{labels} {alert.status or '?'}{times}{notes}{source}"
