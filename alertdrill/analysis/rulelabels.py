"""Which labels the alerts of each alerting rule can carry, known without running anything.

The lint's rule-aware checks (unreachable routes, inhibitions that never apply) need, for every
alerting rule, the label sets its alerts can have. They come from three places, combined as
Prometheus combines them:

1. the series the expression selects, whose *target* labels are known from ``prometheus.yml``:
   ``job`` (the job name), ``instance`` (the target address), the ``labels:`` of the
   ``static_configs`` group, and labels that ``relabel_configs`` set to a constant
   (``target_label`` + ``replacement``, no ``source_labels``);
2. what the expression does to those labels: aggregations keep only their ``by`` labels (or drop
   their ``without`` labels), one-to-one vector matching ``on(…)`` keeps only those, ``group_left``
   takes its extra labels from the right-hand side, ``or`` is either side, ``absent()`` has the
   selector's equality labels, ``histogram_quantile`` drops ``le``, ``label_replace``/``label_join``
   make their target label unknown;
3. the rule's own ``labels:`` (a value with ``{{`` is a template: unknown), ``alertname``, and
   the global ``external_labels`` where the alert does not already carry them.

What is approximated, always towards "unknown" so that the checks built on it stay silent
rather than wrong:

- a label set is a :class:`Shape`: per label the finite set of possible values (``""`` meaning
  absent) or None (unknown); correlations inside one shape are lost, but each scrape target
  gives its own shape, so ``instance`` and ``host`` of one target stay together;
- exporters' own metric labels are unknown (a shape is *open*), except for ``up`` and the
  ``scrape_*`` series, which carry exactly the target labels;
- a selector without a ``job`` matcher may come from any job; a selector on a recorded series,
  on a job that uses service discovery, ``honor_labels``, ``metric_relabel_configs`` or
  relabelling other than constants, or that matches no known target, gives unknown labels;
- a rule whose expression the parser cannot read gives unknown labels (its own ``labels:`` and
  ``alertname`` still count).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertdrill.analysis.amroute import LabelView, Matcher, Poss, Tri, match3

ABSENT = ""
_SERIES_WITH_TARGET_LABELS_ONLY = {
    "up", "scrape_duration_seconds", "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling", "scrape_series_added",
}
#: Functions whose result keeps the labels of their (first) vector argument.
_LABEL_KEEPING = {
    "abs", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "avg_over_time",
    "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh", "count_over_time",
    "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg", "delta", "deriv", "exp",
    "floor", "holt_winters", "hour", "idelta", "increase", "irate", "last_over_time", "ln",
    "log10", "log2", "mad_over_time", "max_over_time", "min_over_time", "minute", "month",
    "predict_linear", "present_over_time", "quantile_over_time", "rad", "rate", "resets", "round",
    "sgn", "sin", "sinh", "sort", "sort_desc", "sort_by_label", "sort_by_label_desc", "sqrt",
    "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh", "timestamp", "year",
    "histogram_count", "histogram_sum", "histogram_fraction", "histogram_stddev",
    "histogram_stdvar", "double_exponential_smoothing",
}
_SCALAR_FUNCTIONS = {"time", "pi", "scalar"}
_FILTERING_AGGREGATIONS = {"topk", "bottomk", "limitk", "limit_ratio"}
_TEMPLATE = re.compile(r"\{\{")


@dataclass(frozen=True)
class Shape(LabelView):
    """A family of label sets: per label the possible values; ``open``: others may exist too."""

    labels: Mapping[str, Poss] = field(default_factory=dict)
    open: bool = True

    def get(self, name: str) -> Poss:
        """Possible values of ``name`` ("" = absent; None = unknown)."""
        if name in self.labels:
            return self.labels[name]
        return None if self.open else frozenset({ABSENT})

    def set(self, **values: Poss) -> Shape:
        """A copy with these labels' possibilities replaced."""
        return Shape({**self.labels, **values}, self.open)

    def keep(self, names: Iterable[str]) -> Shape:
        """Only these labels survive (an aggregation ``by``, a one-to-one ``on``)."""
        return Shape({name: self.get(name) for name in names}, open=False)

    def drop(self, names: Iterable[str]) -> Shape:
        """These labels are removed (``without``, ``ignoring``)."""
        return self.set(**{name: frozenset({ABSENT}) for name in names})

    @property
    def singular(self) -> bool:
        """Exactly one label set is possible (closed, every label a single value)."""
        return not self.open and all(v is not None and len(v) == 1 for v in self.labels.values())

    def split(self, names: Iterable[str], limit: int = 256) -> list[Shape]:
        """The same family as shapes in which each named label has at most one known value.

        Makes three-valued matching exact for those labels (``team`` ∈ {dev, ops} matches
        neither ``team="dev"`` nor ``team="ops"`` for sure, but each half does). Past ``limit``
        combinations the shape is returned whole (less precise, still correct).
        """
        multi = [(n, sorted(p)) for n in names if (p := self.get(n)) is not None and len(p) > 1]
        combos = 1
        for _, values in multi:
            combos *= len(values)
        if not multi or combos > limit:
            return [self]
        keys = [n for n, _ in multi]
        return [self.set(**{k: frozenset({v}) for k, v in zip(keys, choice, strict=True)})
                for choice in itertools.product(*(values for _, values in multi))]

    def narrow(self, matchers: Iterable[Matcher]) -> Shape | None:
        """The part of the family the matchers may select; None when they select none of it."""
        shape = self
        for matcher in matchers:
            poss = shape.get(matcher.name)
            if match3(matcher, poss) is Tri.NO:
                return None
            if poss is None and matcher.op == "=":
                shape = shape.set(**{matcher.name: frozenset({matcher.value})})
            elif poss is not None:
                kept = frozenset(v for v in poss if matcher.decides(v) is not False)
                shape = shape.set(**{matcher.name: kept})
        return shape

    def show(self, names: Iterable[str]) -> str:
        """E.g. ``instance=api-service:5000`` for messages (unknown as ``?``, absent as ∅)."""
        parts = []
        for name in names:
            poss = self.get(name)
            if poss is None:
                parts.append(f"{name}=?")
            else:
                parts.append(f"{name}=" + "|".join(sorted(v or "∅" for v in poss)))
        return ", ".join(parts)


UNKNOWN = Shape({}, open=True)


def union(values: Iterable[Poss]) -> Poss:
    """Possible values of a label that may come from any of several places."""
    merged: set[str] = set()
    for poss in values:
        if poss is None:
            return None
        merged |= poss
    return frozenset(merged)


@dataclass(frozen=True)
class RuleAlerts:
    """One alerting rule and the label sets its alerts may have."""

    name: str
    file: Path
    line: int
    shapes: tuple[Shape, ...]


# --- scrape targets ---------------------------------------------------------------------------

@dataclass(frozen=True)
class JobTargets:
    """The targets of one scrape job: one shape per target, and whether they are exact."""

    shapes: tuple[Shape, ...]
    #: Every target label is known (static targets, constant relabelling): then ``up`` and the
    #: ``scrape_*`` series carry exactly these labels and nothing else.
    exact: bool


def target_shapes(prometheus: Mapping[str, Any]) -> dict[str, JobTargets]:
    """For each scrape job, one shape per static target: the labels its series carry.

    A job whose labels cannot be determined (service discovery, ``honor_labels``,
    ``metric_relabel_configs``) gets one open, inexact shape knowing at most its ``job``.
    """
    jobs: dict[str, JobTargets] = {}
    for job in prometheus.get("scrape_configs") or []:
        if isinstance(job, Mapping) and job.get("job_name"):
            jobs[str(job["job_name"])] = _job_targets(job)
    return jobs


def _job_targets(job: Mapping[str, Any]) -> JobTargets:
    name = str(job["job_name"])
    discovered = any(k.endswith("_sd_configs") and job.get(k) for k in job)
    if discovered or job.get("honor_labels") or job.get("metric_relabel_configs"):
        job_label = None if job.get("honor_labels") else frozenset({name})
        return JobTargets((Shape({"job": job_label}),), exact=False)
    shapes: list[Shape] = []
    exact = True
    for group in job.get("static_configs") or []:
        group_labels = {str(k): str(v) for k, v in (group.get("labels") or {}).items()}
        for target in group.get("targets") or []:
            labels = {"job": name, "__address__": str(target), **group_labels}
            shape, shape_exact = _relabel(labels, job.get("relabel_configs") or [])
            shapes.append(shape)
            exact = exact and shape_exact
    return JobTargets(tuple(shapes), exact)


def _relabel(labels: dict[str, str], configs: Sequence[Mapping[str, Any]]) -> tuple[Shape, bool]:
    """Apply relabel_configs to one target, as far as they are constants; the rest is unknown.

    Also says whether the result is exact (no label set or removed by a non-constant rule).
    """
    poss: dict[str, Poss] = {k: frozenset({v}) for k, v in labels.items()}
    for config in configs:
        action = str(config.get("action", "replace")).lower()
        target = config.get("target_label")
        if action in ("keep", "drop", "keepequal", "dropequal") or (
                action == "replace" and not target):
            continue  # may drop the target (or does nothing); what remains keeps its labels
        if action == "replace" and target and _constant_replacement(config):
            poss[str(target)] = frozenset({str(config.get("replacement", "$1"))})
        elif action in ("replace", "hashmod", "lowercase", "uppercase") and target:
            poss[str(target)] = None
        else:  # labelmap, labeldrop, labelkeep: any label may appear or go
            return Shape({k: None for k in poss if not k.startswith("__")}, open=True), False
    address = poss.get("__address__")
    poss.setdefault("instance", address)
    exact = all(v is not None for v in poss.values())
    return Shape({k: v for k, v in poss.items() if not k.startswith("__")}, open=True), exact


def _constant_replacement(config: Mapping[str, Any]) -> bool:
    """No source labels, default regex, and a replacement without ``$`` references."""
    replacement = str(config.get("replacement", "$1"))
    regex = str(config.get("regex", "(.*)"))
    return not config.get("source_labels") and regex in ("(.*)", ".*") and "$" not in replacement


# --- expressions ------------------------------------------------------------------------------

class ExprLabels:
    """Walks a PromQL expression (``promql-parser``'s tree) to the shapes of its result series."""

    def __init__(self, jobs: Mapping[str, JobTargets] | None, recorded: Iterable[str] = ()) -> None:
        self.jobs = jobs
        self.recorded = set(recorded)

    def of(self, expr: str) -> list[Shape]:
        """Shapes of the result; ``[UNKNOWN]`` when the expression cannot be analysed."""
        from alertdrill.analysis.promql import _parser

        try:
            tree = _parser().parse(expr)
            shapes = self._visit(tree)
        except (ValueError, TypeError, AttributeError, RecursionError):
            return [UNKNOWN]
        return [Shape({}, open=False)] if shapes is None else shapes

    def _visit(self, node: Any) -> list[Shape] | None:
        """Shapes of a vector expression; None for scalars and strings."""
        kind = type(node).__name__
        if kind in ("NumberLiteral", "StringLiteral"):
            return None
        if kind in ("ParenExpr", "UnaryExpr", "SubqueryExpr"):
            return self._visit(node.expr)
        if kind == "VectorSelector":
            return self._selector(node)
        if kind == "MatrixSelector":
            return self._selector(node.vector_selector)
        if kind == "Call":
            return self._call(node)
        if kind == "AggregateExpr":
            return self._aggregate(node)
        if kind == "BinaryExpr":
            return self._binary(node)
        return [UNKNOWN]

    def _selector(self, node: Any) -> list[Shape]:
        matchers = [_matcher(m) for m in node.matchers.matchers]
        if node.matchers.or_matchers or self.jobs is None:
            return [UNKNOWN]
        name = node.name or next((m.value for m in matchers
                                  if m.name == "__name__" and m.op == "="), None)
        if name is None or name in self.recorded:
            return [UNKNOWN]
        matchers = [m for m in matchers if m.name != "__name__"]
        target_labels_only = name in _SERIES_WITH_TARGET_LABELS_ONLY
        shapes = []
        for job in self.jobs.values():
            closed = target_labels_only and job.exact
            for shape in job.shapes:
                selected = Shape(shape.labels, open=shape.open and not closed).narrow(matchers)
                if selected is not None:
                    shapes.append(selected)
        return shapes or [UNKNOWN]

    def _call(self, node: Any) -> list[Shape] | None:
        func = node.func.name
        args = list(node.args)
        if func in _SCALAR_FUNCTIONS:
            return None
        if func == "vector" or (not args and func in _LABEL_KEEPING):
            return [Shape({}, open=False)]
        if func in ("absent", "absent_over_time"):
            return [_absent_shape(args[0])]
        if func in ("label_replace", "label_join"):
            shapes = self._first_vector(args)
            target = args[1].val if type(args[1]).__name__ == "StringLiteral" else None
            if shapes is None or target is None:
                return [UNKNOWN]
            return [s.set(**{target: None}) for s in shapes]
        if func == "histogram_quantile":
            shapes = self._first_vector(args)
            return None if shapes is None else [s.drop(["le"]) for s in shapes]
        if func in _LABEL_KEEPING:
            return self._first_vector(args)
        return [UNKNOWN]

    def _first_vector(self, args: list[Any]) -> list[Shape] | None:
        for arg in args:
            shapes = self._visit(arg)
            if shapes is not None:
                return shapes
        return None

    def _aggregate(self, node: Any) -> list[Shape]:
        shapes = self._visit(node.expr) or [Shape({}, open=False)]
        op = str(node.op)
        if op in _FILTERING_AGGREGATIONS:
            return shapes
        modifier = node.modifier
        if modifier is None:
            result = [Shape({}, open=False)]
        elif str(modifier.type).endswith("By"):
            result = [s.keep(modifier.labels) for s in shapes]
        else:
            result = [s.drop(modifier.labels) for s in shapes]
        if op == "count_values" and type(node.param).__name__ == "StringLiteral":
            result = [s.set(**{node.param.val: None}) for s in result]
        return result

    def _binary(self, node: Any) -> list[Shape] | None:
        lhs, rhs = self._visit(node.lhs), self._visit(node.rhs)
        if lhs is None or rhs is None:
            return lhs if rhs is None else rhs
        op = str(node.op)
        if op == "or":
            return lhs + rhs
        if op in ("and", "unless"):
            return lhs
        modifier = node.modifier
        card = str(getattr(modifier, "card", "OneToOne"))
        matching = getattr(modifier, "matching", None)
        if card.endswith("ManyToOne"):
            return _include(lhs, rhs, modifier.group_labels)
        if card.endswith("OneToMany"):
            return _include(rhs, lhs, modifier.group_labels)
        if matching is None:
            return lhs
        if str(matching.type).endswith("Include"):  # on(…)
            return [s.keep(matching.labels) for s in lhs]
        return [s.drop(matching.labels) for s in lhs]


def _include(many: list[Shape], one: list[Shape], names: Iterable[str]) -> list[Shape]:
    """group_left/group_right: the "many" side's labels, plus ``names`` from the "one" side."""
    names = list(names)
    return [s.set(**{n: union(o.get(n) for o in one) for n in names}) for s in many]


def _matcher(raw: Any) -> Matcher:
    op = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}[str(raw.op).rsplit(".", 1)[-1]]
    return Matcher(raw.name, op, raw.value)


def _absent_shape(arg: Any) -> Shape:
    selector = arg.vector_selector if type(arg).__name__ == "MatrixSelector" else arg
    if type(selector).__name__ != "VectorSelector":
        return Shape({}, open=False)
    equal = {m.name: frozenset({m.value}) for m in map(_matcher, selector.matchers.matchers)
             if m.op == "=" and m.name != "__name__"}
    return Shape(equal, open=False)


# --- rules ------------------------------------------------------------------------------------

def alert_shapes(rule: Mapping[str, Any], exprs: ExprLabels,
                 external_labels: Mapping[str, str]) -> tuple[Shape, ...]:
    """The label sets an alerting rule's alerts may have, as Alertmanager receives them."""
    shapes = exprs.of(str(rule.get("expr", "")))
    own: dict[str, Poss] = {"__name__": frozenset({ABSENT})}
    for key, value in (rule.get("labels") or {}).items():
        text = "" if value is None else str(value)
        own[str(key)] = None if _TEMPLATE.search(text) else frozenset({text})
    own["alertname"] = frozenset({str(rule.get("alert"))})
    result = []
    for shape in shapes:
        shape = shape.set(**own)
        for key, value in external_labels.items():
            poss = shape.get(key)
            if poss is not None and ABSENT in poss:
                shape = shape.set(**{key: (poss - {ABSENT}) | {str(value)}})
        result.append(shape)
    return tuple(result)


def recorded_names(rule_docs: Iterable[Mapping[str, Any]]) -> set[str]:
    """Names of every recording rule: selectors on them have labels this module cannot know."""
    names = set()
    for doc in rule_docs:
        for group in doc.get("groups") or []:
            for rule in (group or {}).get("rules") or []:
                if isinstance(rule, Mapping) and rule.get("record"):
                    names.add(str(rule["record"]))
    return names


def rule_shapes(prometheus: Mapping[str, Any], rule_docs: Iterable[Mapping[str, Any]]
                ) -> Iterator[tuple[str, Shape, dict[str, str]]]:
    """Every (alerting rule, label shape) of the rule files: the rule's name, the shape, and the
    labels whose value is known for certain (absent ones left out), in file order.

    The one walk over rules that routing tables, the scaffold's expectations and the static
    reachability of claims all build on, so that they agree by construction.
    """
    docs = list(rule_docs)
    exprs = ExprLabels(target_shapes(prometheus), recorded_names(docs))
    external = {str(k): str(v) for k, v in
                ((prometheus.get("global") or {}).get("external_labels") or {}).items()}
    for doc in docs:
        for group in doc.get("groups") or []:
            for rule in (group or {}).get("rules") or []:
                if not isinstance(rule, Mapping) or not rule.get("alert"):
                    continue
                for shape in alert_shapes(rule, exprs, external):
                    labels = {name: next(iter(values)) for name, values in shape.labels.items()
                              if values is not None and len(values) == 1
                              and ABSENT not in values and name != "__name__"}
                    yield str(rule["alert"]), shape, labels


def rule_label_sets(prometheus: Mapping[str, Any],
                    rule_docs: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One concrete label set per (alerting rule, scrape target): the labels whose value is
    known for certain (absent ones left out), as Alertmanager would receive the alert.

    What "routes every rule's alert" checks push: a rule whose labels or a route's matchers are
    wrong shows up at once, without producing each failure for real. Labels that are unknown
    without running the rule (an exporter's own) are left out, like an absent label.
    """
    found: list[dict[str, str]] = []
    for _name, _shape, labels in rule_shapes(prometheus, rule_docs):
        if labels not in found:
            found.append(labels)
    return found
