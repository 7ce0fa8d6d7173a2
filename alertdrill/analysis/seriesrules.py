"""What one rule expression asks of the series a stand-in serves, read with the real parser.

:mod:`alertdrill.analysis.seriesplan` builds a stand-in's families and healthy baseline, and a trip plan
per alerting rule, from this analysis. For every expression it gives:

- every vector selector, with what the functions around it imply (``rate()`` → a counter,
  ``histogram_quantile()`` → a histogram): :func:`selectors_of`;
- a condition tree (:func:`conditions_of`): comparisons of a *quantity* with a number, joined
  by ``and`` / ``or`` / ``unless``. A quantity is what a stand-in can drive: a gauge's value, a
  counter's rate (or increase), a ratio of two of those, a histogram's quantile, ``up``, the
  presence of a series (``absent()``). Aggregations that keep values (``sum``, ``max`` …) and
  multiplication by a number pass through. Anything else is :class:`Opaque`, with the reason a
  stand-in cannot drive it, which the trip plan reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alertdrill.analysis.amroute import Matcher

COUNTER_FUNCTIONS = frozenset({"rate", "irate", "increase", "resets"})
COMPARISONS = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
#: Aggregations whose result moves with every series they aggregate (set all, it follows).
_PASS_AGGREGATIONS = frozenset({"sum", "avg", "min", "max", "group", "topk", "bottomk",
                                "quantile"})
#: Functions of a gauge whose value over a steady series is the series' value.
_PASS_FUNCTIONS = frozenset({"avg_over_time", "max_over_time", "min_over_time",
                             "last_over_time", "quantile_over_time", "abs", "ceil", "floor",
                             "round", "clamp", "clamp_min", "clamp_max", "sort", "sort_desc"})
_WHY_NOT = {
    "predict_linear": "predict_linear() extrapolates a trend; the stand-in holds gauges steady",
    "deriv": "deriv() needs a gauge that moves over time; the stand-in holds gauges steady",
    "delta": "delta() needs a gauge that moves over time; the stand-in holds gauges steady",
    "idelta": "idelta() needs a gauge that moves over time; the stand-in holds gauges steady",
    "changes": "changes() counts value changes over time; the stand-in holds values steady",
    "resets": "resets() counts counter resets, which the stand-in does not make",
    "time": "time() is the wall clock, which the stand-in does not drive",
    "timestamp": "timestamp() compares sample times, which the stand-in does not drive",
    "holt_winters": "holt_winters() smooths a trend over time",
    "double_exponential_smoothing": "double_exponential_smoothing() smooths a trend over time",
    "stddev_over_time": "stddev_over_time() needs a series that varies",
    "stdvar_over_time": "stdvar_over_time() needs a series that varies",
    "vector": "vector() has no series: the rule fires or not whatever the stand-in serves",
}


@dataclass(frozen=True)
class Selector:
    """A vector selector: the metric name and its other matchers (``__name__`` left out)."""

    name: str
    matchers: tuple[Matcher, ...] = ()

    def text(self) -> str:
        """PromQL for it, e.g. ``http_requests_total{code=~"5.."}``."""
        inner = ",".join(f'{m.name}{m.op}"{m.value}"' for m in self.matchers)
        return f"{self.name}{{{inner}}}" if inner else self.name


@dataclass(frozen=True)
class Use:
    """A selector and the type the expression implies for it (None: only the name says)."""

    selector: Selector
    implies: str | None


@dataclass(frozen=True)
class Quantity:
    """What a comparison compares, as ``value * scale + shift``.

    ``kind``: ``gauge`` (the value), ``rate`` (a counter's per-second rate; ``window`` is set
    for ``increase()``), ``ratio`` (``terms[0] / terms[1]``, each a gauge or rate quantity),
    ``quantile`` (of a histogram), ``up``, ``absent``.
    """

    kind: str
    selector: Selector | None = None
    terms: tuple[Quantity, ...] = ()
    window: float | None = None
    window_text: str = ""
    scale: float = 1.0
    shift: float = 0.0

    def transformed(self, scale: float = 1.0, shift: float = 0.0) -> Quantity:
        """The same quantity, multiplied by ``scale`` then shifted by ``shift``."""
        return Quantity(self.kind, self.selector, self.terms, self.window, self.window_text,
                        self.scale * scale, self.shift * scale + shift)


@dataclass(frozen=True)
class Cond:
    """``quantity op threshold`` fires; for ``absent`` quantities op is ``absent``."""

    quantity: Quantity
    op: str
    threshold: float = 0.0

    def raw(self) -> tuple[str, float]:
        """The comparison on the untransformed quantity (scale and shift undone)."""
        q = self.quantity
        if q.scale == 0:
            return self.op, self.threshold
        op = self.op if q.scale > 0 else COMPARISONS[self.op]
        return op, (self.threshold - q.shift) / q.scale


@dataclass(frozen=True)
class Opaque:
    """A part of an expression a stand-in cannot drive, and why."""

    reason: str


@dataclass(frozen=True)
class Join:
    """``and`` (all parts must fire), ``or`` (any), ``unless`` (the first, the others not)."""

    op: str
    parts: tuple[Tree, ...] = field(default_factory=tuple)


Tree = Cond | Opaque | Join


def parse(expr: str) -> Any:
    """The real parser's tree (ValueError when the expression is not PromQL)."""
    from alertdrill.analysis.promql import _parser

    return _parser().parse(expr)


def _selector(node: Any) -> Selector:
    matchers = []
    name = node.name or ""
    for raw in node.matchers.matchers:
        op = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}[
            str(raw.op).rsplit(".", 1)[-1]]
        if raw.name == "__name__" and op == "=":
            name = raw.value
            continue
        matchers.append(Matcher(raw.name, op, raw.value))
    return Selector(name, tuple(matchers))


def selectors_of(expr: str) -> list[Use]:
    """Every vector selector of ``expr`` with the type its surroundings imply."""
    found: list[Use] = []

    def visit(node: Any, implies: str | None) -> None:
        kind = type(node).__name__
        if kind == "VectorSelector":
            if not node.matchers.or_matchers:
                found.append(Use(_selector(node), implies))
            return
        if kind == "MatrixSelector":
            visit(node.vector_selector, implies)
            return
        if kind == "Call":
            func = node.func.name
            inner: str | None
            if func == "histogram_quantile" or implies == "histogram":
                inner = "histogram"
            else:
                inner = "counter" if func in COUNTER_FUNCTIONS else implies
            for arg in node.args:
                visit(arg, inner)
            return
        for attr in ("expr", "lhs", "rhs", "param"):
            child = getattr(node, attr, None)
            if child is not None and type(child).__name__ not in ("str", "float"):
                visit(child, implies if kind != "AggregateExpr" or attr == "expr" else None)

    visit(parse(expr), None)
    return found


def conditions_of(expr: str) -> Tree:
    """The condition tree of an alerting expression (Opaque when it cannot be read)."""
    try:
        return _tree(parse(expr))
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        return Opaque(f"the expression could not be analysed ({exc})")


def _number(node: Any) -> float | None:
    kind = type(node).__name__
    if kind == "NumberLiteral":
        return float(node.val)
    if kind == "ParenExpr":
        return _number(node.expr)
    if kind == "UnaryExpr":
        inner = _number(node.expr)
        return None if inner is None else -inner
    return None


def _tree(node: Any) -> Tree:
    kind = type(node).__name__
    if kind == "ParenExpr":
        return _tree(node.expr)
    if kind == "AggregateExpr" and str(node.op) in _PASS_AGGREGATIONS - {"quantile"}:
        inner = _tree(node.expr)
        if not isinstance(inner, Opaque):
            return inner
    if kind == "Call" and node.func.name in ("absent", "absent_over_time"):
        arg = node.args[0]
        arg = arg.vector_selector if type(arg).__name__ == "MatrixSelector" else arg
        if type(arg).__name__ != "VectorSelector":
            return Opaque("absent() of an expression, not of a selector")
        return Cond(Quantity("absent", _selector(arg)), "absent")
    if kind == "BinaryExpr":
        op = str(node.op)
        if op in ("and", "or", "unless"):
            return Join(op, (_tree(node.lhs), _tree(node.rhs)))
        if op in COMPARISONS:
            left, right = _number(node.lhs), _number(node.rhs)
            if left is None and right is None:
                return Opaque(f"it compares two vectors ({op}), which the stand-in does not "
                              "model")
            if right is not None:
                side, threshold, op_ = node.lhs, right, op
            else:
                side, threshold, op_ = node.rhs, float(left or 0.0), COMPARISONS[op]
            quantity = _quantity(side)
            if isinstance(quantity, Opaque):
                return quantity
            return Cond(quantity, op_, threshold)
    if kind == "Call" and node.func.name in _WHY_NOT:
        return Opaque(_WHY_NOT[node.func.name])
    return Opaque("it compares nothing with a threshold: it fires whenever its series exist")


def _quantity(node: Any) -> Quantity | Opaque:
    kind = type(node).__name__
    if kind == "ParenExpr":
        return _quantity(node.expr)
    if kind == "VectorSelector":
        sel = _selector(node)
        return Quantity("up" if sel.name == "up" else "gauge", sel)
    if kind == "AggregateExpr":
        if str(node.op) in _PASS_AGGREGATIONS:
            return _quantity(node.expr)
        return Opaque(f"{node.op}() counts or spreads series, which the stand-in does not model")
    if kind == "Call":
        return _call(node)
    if kind == "BinaryExpr":
        return _arithmetic(node)
    if kind == "UnaryExpr":
        inner = _quantity(node.expr)
        return inner if isinstance(inner, Opaque) else inner.transformed(-1.0)
    if kind == "SubqueryExpr":
        return Opaque("a subquery, which the stand-in does not model")
    return Opaque(f"a {kind}, which the stand-in does not model")


def _call(node: Any) -> Quantity | Opaque:
    func = node.func.name
    args = list(node.args)
    if func in ("rate", "irate", "increase"):
        arg = args[0]
        if type(arg).__name__ != "MatrixSelector":
            return Opaque(f"{func}() of a subquery, which the stand-in does not model")
        sel = _selector(arg.vector_selector)
        if func == "increase":
            seconds = arg.range.total_seconds()
            return Quantity("rate", sel, window=seconds, window_text=_duration_text(seconds))
        return Quantity("rate", sel)
    if func == "histogram_quantile":
        inner = _quantity(args[1])
        if isinstance(inner, Opaque):
            return inner
        if inner.kind != "rate" or inner.selector is None or inner.window is not None:
            return Opaque("histogram_quantile() of something other than rate() of buckets")
        return Quantity("quantile", inner.selector)
    if func in _PASS_FUNCTIONS:
        vectors = [a for a in args if _number(a) is None and type(a).__name__ != "StringLiteral"]
        if len(vectors) == 1:
            target = vectors[0]
            if type(target).__name__ == "MatrixSelector":
                return Quantity("gauge", _selector(target.vector_selector))
            return _quantity(target)
    return Opaque(_WHY_NOT.get(func, f"{func}() is not modelled by the stand-in"))


def _arithmetic(node: Any) -> Quantity | Opaque:
    op = str(node.op)
    left, right = _number(node.lhs), _number(node.rhs)
    if op in ("*", "/", "+", "-") and (left is not None or right is not None):
        if left is not None and right is not None:
            return Opaque("arithmetic of two numbers")
        inner = _quantity(node.rhs if left is not None else node.lhs)
        if isinstance(inner, Opaque):
            return inner
        number = left if left is not None else right
        assert number is not None
        if op == "*":
            return inner.transformed(number)
        if op == "/" and right is not None and right != 0:
            return inner.transformed(1.0 / right)
        if op == "+":
            return inner.transformed(1.0, number)
        if op == "-":
            return inner.transformed(1.0, -number) if right is not None else \
                inner.transformed(-1.0, number)
        return Opaque("a number divided by a vector, which the stand-in does not model")
    if op == "/":
        num, den = _quantity(node.lhs), _quantity(node.rhs)
        for part in (num, den):
            if isinstance(part, Opaque):
                return part
        assert isinstance(num, Quantity) and isinstance(den, Quantity)
        if num.kind == den.kind and num.kind in ("gauge", "rate") and \
                num.scale == den.scale == 1 and num.shift == den.shift == 0 and \
                num.window == den.window:
            return Quantity("ratio", terms=(num, den))
        return Opaque("a ratio of two different kinds of quantity, which the stand-in does not "
                      "model")
    return Opaque(f"arithmetic ({op}) between two vectors, which the stand-in does not model")


def _duration_text(seconds: float) -> str:
    from alertdrill.durations import format_duration

    return format_duration(seconds)


def conditions(tree: Tree) -> list[Cond]:
    """Every comparison of a tree (what the baseline must keep inactive)."""
    if isinstance(tree, Cond):
        return [tree]
    if isinstance(tree, Join):
        return [c for part in tree.parts for c in conditions(part)]
    return []
