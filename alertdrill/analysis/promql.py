"""Scale the durations inside a PromQL expression, exactly, and say what cannot be scaled.

The rewrite keeps the user's text (spacing, comments, label values) and changes only duration
tokens: range selectors ``[5m]``, subquery ranges and resolutions ``[1h:5m]`` and ``offset``
durations (negative ones too). A small tokenizer finds them while skipping string literals and
comments, so ``{path=~".*[5m].*"}`` is never touched; then the real parser (``promql-parser``,
the Rust PromQL parser) parses the original and the result and checks that the scaled durations
are exactly the originals divided by the factor. A mismatch is a bug, raised, never run.

Not scaled, and reported as a warning naming the construct (the rule author must look):

- numeric seconds passed to ``predict_linear`` (its horizon);
- ``time()`` and ``timestamp()``: comparisons with the wall clock do not compress;
- time-of-day functions (``hour``, ``minute``, ``day_of_week``, ``day_of_month``,
  ``days_in_month``, ``month``, ``year``): calendar time does not compress;
- ``holt_winters`` / ``double_exponential_smoothing``: its smoothing factors are per sample and
  stay right only while the scrape interval is scaled by the same factor (it usually is);
- the ``@`` modifier: an absolute timestamp.

Scaling compresses *time*, not *load*: per-second rates and ``increase()`` counts with numeric
thresholds mean the same only if the scenario's traffic is produced at the scaled pace. Ratio
rules (errors / requests) and ``up``-style rules are unaffected (see README › Time scaling).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from alertdrill.durations import format_duration, parse_duration

_DURATION = r"(?:\d+(?:ms|s|m|h|d|w|y))+"
_BRACKET_RE = re.compile(rf"^(\s*)({_DURATION})(\s*)(?::(\s*)({_DURATION})?(\s*))?$")
_OFFSET_RE = re.compile(rf"(offset)(\s+)(-?)({_DURATION})", re.IGNORECASE)
_IDENT = re.compile(r"[A-Za-z0-9_:]")

UNSCALABLE_FUNCTIONS = {
    "predict_linear": "predict_linear's second argument is in seconds and is not scaled",
    "time": "time() is the wall clock, which does not compress",
    "timestamp": "timestamp() returns wall-clock seconds, which do not compress",
    "holt_winters": "holt_winters smooths per sample: faithful only if scrape intervals scale too",
    "double_exponential_smoothing": "double_exponential_smoothing smooths per sample",
    "hour": "hour() is calendar time, which does not compress",
    "minute": "minute() is calendar time, which does not compress",
    "day_of_week": "day_of_week() is calendar time, which does not compress",
    "day_of_month": "day_of_month() is calendar time, which does not compress",
    "day_of_year": "day_of_year() is calendar time, which does not compress",
    "days_in_month": "days_in_month() is calendar time, which does not compress",
    "month": "month() is calendar time, which does not compress",
    "year": "year() is calendar time, which does not compress",
}


@dataclass(frozen=True)
class DurationChange:
    """One duration the scaling changed (or clamped), for reports and tests."""

    where: str
    original: float
    scaled: float
    clamped: bool = False

    def describe(self) -> str:
        """E.g. ``for: 5m → 5s``."""
        note = " (clamped to the floor)" if self.clamped else ""
        return f"{self.where}: {_signed(self.original)} → {_signed(self.scaled)}{note}"


def _signed(seconds: float) -> str:
    return ("-" if seconds < 0 else "") + format_duration(abs(seconds))


@dataclass
class ScaledExpr:
    """A scaled expression with what changed and what could not be scaled."""

    expr: str
    changes: list[DurationChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def scale_seconds(seconds: float, factor: float, floor: float) -> tuple[float, bool]:
    """``seconds / factor`` in whole milliseconds; below ``floor`` (but not 0) it is clamped."""
    if seconds == 0:
        return 0.0, False
    scaled = round(seconds / factor * 1000) / 1000
    if scaled < floor:
        return floor, True
    return scaled, False


def scale_expr(expr: str, factor: float, floor: float, where: str = "expr") -> ScaledExpr:
    """Scale every duration in ``expr``; ranges and resolutions obey the floor, offsets do not."""
    result = ScaledExpr(expr)
    out: list[str] = []
    i = 0
    n = len(expr)
    while i < n:
        ch = expr[i]
        if ch in "\"'`":
            end = _string_end(expr, i)
            out.append(expr[i:end])
            i = end
        elif ch == "#":
            end = expr.find("\n", i)
            end = n if end < 0 else end
            out.append(expr[i:end])
            i = end
        elif ch == "[":
            end = expr.find("]", i)
            if end < 0:
                out.append(expr[i:])
                break
            out.append("[" + _scale_bracket(expr[i + 1:end], factor, floor, where, result) + "]")
            i = end + 1
        elif ch in "oO" and (i == 0 or not _IDENT.match(expr[i - 1])):
            match = _OFFSET_RE.match(expr, i)
            if match and (match.end() >= n or not _IDENT.match(expr[match.end()])):
                sign = -1.0 if match.group(3) else 1.0
                original = parse_duration(match.group(4))
                scaled = round(original / factor * 1000) / 1000
                result.changes.append(
                    DurationChange(f"{where} offset", sign * original, sign * scaled))
                out.append(match.group(1) + match.group(2) + match.group(3)
                           + format_duration(scaled))
                i = match.end()
            else:
                out.append(ch)
                i += 1
        else:
            out.append(ch)
            i += 1
    result.expr = "".join(out)
    result.warnings.extend(f"{where}: {w}" for w in unscalable_constructs(expr))
    verify(expr, result, factor)
    return result


def _scale_bracket(inner: str, factor: float, floor: float, where: str,
                   result: ScaledExpr) -> str:
    match = _BRACKET_RE.match(inner)
    if not match:
        return inner  # not a duration bracket (the parser check below would catch a miss)
    lead, rng, mid, colon_space, step, tail = match.groups()
    parts: list[str | None] = []
    for text, label in ((rng, "range"), (step, "resolution")):
        if text is None:
            parts.append(None)
            continue
        original = parse_duration(text)
        scaled, clamped = scale_seconds(original, factor, floor)
        result.changes.append(DurationChange(f"{where} {label}", original, scaled, clamped))
        if clamped:
            result.warnings.append(
                f"{where}: {label} [{text}] → {format_duration(scaled)} (wanted "
                f"{format_duration(original / factor)}): clamped to the floor, so this window is "
                f"{format_duration(scaled * factor)} long in real-world terms")
        parts.append(format_duration(scaled))
    text = lead + str(parts[0]) + (mid or "")
    if ":" in inner:
        text += ":" + (colon_space or "") + (parts[1] or "") + (tail or "")
    return text


def _string_end(expr: str, start: int) -> int:
    quote = expr[start]
    i = start + 1
    while i < len(expr):
        if expr[i] == "\\" and quote != "`":
            i += 2
            continue
        if expr[i] == quote:
            return i + 1
        i += 1
    return len(expr)


_registered = False


def _parser():  # type: ignore[no-untyped-def]
    """The real PromQL parser, taught the functions Prometheus 2.x has and it dropped."""
    global _registered
    import promql_parser as pp

    if not _registered:
        vt = pp.ValueType
        try:
            pp.parse("holt_winters(x[1m], 0.5, 0.5)")
        except ValueError:
            pp.register_extra_functions(
                [pp.Function("holt_winters", [vt.Matrix, vt.Scalar, vt.Scalar], vt.Vector)])
        _registered = True
    return pp


def durations_of(expr: str) -> list[tuple[str, float]]:
    """Every (kind, seconds) duration the real parser finds: range, resolution, offset."""
    pp = _parser()

    found: list[tuple[str, float]] = []

    def visit(node: object) -> bool:
        name = type(node).__name__
        if name == "MatrixSelector":
            found.append(("range", node.range.total_seconds()))  # type: ignore[attr-defined]
        elif name == "SubqueryExpr":
            found.append(("range", node.range.total_seconds()))  # type: ignore[attr-defined]
            if node.step is not None:  # type: ignore[attr-defined]
                found.append(("resolution", node.step.total_seconds()))  # type: ignore[attr-defined]
        if name in ("VectorSelector", "SubqueryExpr") and getattr(node, "offset", None) is not None:
            found.append(("offset", node.offset.total_seconds()))  # type: ignore[attr-defined]
        return True

    pp.walk(pp.parse(expr), visit, None)
    return found


def unscalable_constructs(expr: str) -> list[str]:
    """Warnings for constructs whose meaning does not compress (see the module docstring)."""
    pp = _parser()

    warnings: list[str] = []

    def visit(node: object) -> bool:
        name = type(node).__name__
        if name == "Call":
            func = node.func.name  # type: ignore[attr-defined]
            if func in UNSCALABLE_FUNCTIONS:
                warnings.append(UNSCALABLE_FUNCTIONS[func])
        if getattr(node, "at", None) is not None:
            warnings.append("the @ modifier pins an absolute timestamp, which is not scaled")
        return True

    try:
        pp.walk(pp.parse(expr), visit, None)
    except (ValueError, TypeError):
        return []  # promtool, not this module, reports invalid PromQL
    return sorted(set(warnings))


class ScalingMismatch(AssertionError):
    """The rewrite disagrees with the real parser: a bug in the tokenizer, never run."""


def verify(original: str, result: ScaledExpr, factor: float) -> None:
    """Re-parse both sides: the scaled durations must be exactly what the changes say."""
    try:
        before = durations_of(original)
    except (ValueError, TypeError):
        return  # not valid PromQL for the parser: promtool will say so with a line number
    after = durations_of(result.expr)
    expected = Counter((c.where.rsplit(" ", 1)[1], round(c.scaled, 3)) for c in result.changes)
    got = Counter((kind, round(seconds, 3)) for kind, seconds in after)
    originals = Counter((c.where.rsplit(" ", 1)[1], round(c.original, 3)) for c in result.changes)
    parsed = Counter((kind, round(seconds, 3)) for kind, seconds in before)
    if got != expected or parsed != originals:
        raise ScalingMismatch(
            f"scaling {original!r} by {factor}: the parser sees {sorted(before)} → "
            f"{sorted(after)}, the rewrite changed {[c.describe() for c in result.changes]}")
