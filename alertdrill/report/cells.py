"""How the report writes a value, the same in the chart, the Markdown and the HTML: seconds,
real-world durations, times on the timeline, SLAs, clocks, labels and alerts.

Plain text only: each renderer escapes it its own way (:mod:`.markdown`, :mod:`.html`).
"""

from __future__ import annotations

import re
from typing import Any

from alertdrill.durations import human
from alertdrill.engine import timeline as tl

PHASE_TITLE = {"detect": "Time to detect", "notify": "Time to notify",
               "escalate": "Time to escalate", "suppress": "Time to suppress",
               "resolve": "Time to resolve"}
VERDICT_ICON = {"passed": "✓ pass", "failed": "✗ FAIL", "no claim": "· no claim"}
OUTCOME_ICON = {"passed": "✅", "failed": "❌", "error": "⛔", "skipped": "⏭"}


def secs(value: float | None) -> str:
    """Measured seconds: ``0.60 s``, ``12.5 s``, ``—`` for none."""
    if value is None:
        return "—"
    return f"{value:.2f} s" if abs(value) < 10 else f"{value:.1f} s"


def real(value: float | None, k: float) -> str:
    """Measured seconds as the real-world duration they stand for at time scale ``k``."""
    if value is None:
        return "—"
    real_world = value * k
    return ("−" if real_world < 0 else "") + human(abs(real_world))


def when(t: float | None) -> str:
    """A time on the timeline: ``t=+1.10 s``."""
    return "—" if t is None else f"t={t:+.2f} s"


def sla(row_or_claim: Any) -> str:
    """The SLA of an SLA row or a claim: real-world, with the measured deadline and tolerance."""
    real_sla = getattr(row_or_claim, "sla_real", None)
    if real_sla is None:
        return "—"
    measured = getattr(row_or_claim, "sla_measured", None)
    tolerance = getattr(row_or_claim, "tolerance", None) or 0.0
    if measured is not None and abs(float(measured) - float(real_sla)) > 1e-9:
        return f"{human(float(real_sla))} ({secs(float(measured))} + {secs(float(tolerance))} tol.)"
    return f"{human(float(real_sla))} (+ {secs(float(tolerance))} tol.)"


_CLOCK = re.compile(r'^"(?P<subject>.*)" \((?P<kind>[^()]*)\)$')
_CLOCK_GLYPH = {tl.FAULT_APPLIED: "▼", tl.FAULT_REVERTED: "▲ revert", tl.ACTION: "●"}


def clock(counted_from: str) -> str:
    """'"stop web" (fault.applied)' → '▼ stop web' (the chart's glyphs)."""
    match = _CLOCK.match(counted_from)
    if not match:
        return counted_from
    return f"{_CLOCK_GLYPH.get(match['kind'], match['kind'])} {match['subject']}"


def labels_text(labels: dict[str, str] | None) -> str:
    """``a=1, b=2``, sorted by name."""
    return ", ".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def alert_label(alertname: str, labels: dict[str, str] | None) -> str:
    """An alert with its full label set: ``DBDown{instance=db:5432, severity=critical}``."""
    extra = {k: v for k, v in (labels or {}).items() if k != "alertname"}
    shown = ", ".join(f"{k}={v}" for k, v in sorted(extra.items()))
    return f"{alertname}{{{shown}}}" if shown else alertname


def short_alert(alertname: str, labels: dict[str, str] | None) -> str:
    """An alert by its name and instance (the full label set belongs in tooltips)."""
    instance = (labels or {}).get("instance")
    return f"{alertname}{{instance={instance}}}" if instance else alertname


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"
