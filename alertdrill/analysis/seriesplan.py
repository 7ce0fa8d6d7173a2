"""What a series stand-in serves: families, label sets, types and a healthy baseline.

A ``series`` service (see README › Manifest) stands in for an exporter the harness does not
have. Its plan comes from the stack's own files: every vector selector of every rule that can
select the service's targets (its ``job``/``instance``/static labels allow them, or it names no
such label) is a family it serves, with label sets that satisfy the selectors (``code=~"5.."`` →
``code="500"``, and a healthy sibling ``code="200"`` where a ratio's denominator needs one) and
the type the name and functions imply (:mod:`alertdrill.analysis.seriesrules`). The baseline keeps every
rule inactive where the comparisons say how (``x > 90`` → 45, ``x < 10`` → 20, a 5xx ratio →
errors flat and the rest at 10/s, a latency quantile → fast observations); the manifest's
``baseline:`` sets what they cannot. :mod:`alertdrill.analysis.seriestrip` turns the same analysis into
the steps that make one rule fire.

Size (~530 lines): the plan of a stand-in — families, label values for regex matchers, types,
buckets, the baseline from comparisons and from the manifest — is one derivation; the regex
value helpers and the manifest's baseline form are the parts to split out first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from re import _parser as sre_parse  # type: ignore[attr-defined]  # the stdlib's regex parser
from typing import Any

from alertdrill.analysis.amroute import Matcher
from alertdrill.analysis.seriesrules import (
    Cond,
    Quantity,
    Selector,
    conditions,
    conditions_of,
    parse,
    selectors_of,
)
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError
from alertdrill.yamlio import load_yaml

KIND = "series"
#: Prometheus's default histogram buckets; each family adds the thresholds its rules compare.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
                   10.0)
#: The rate (per measured second) of a counter or histogram nothing constrains.
HEALTHY_RATE = 10.0
#: Series Prometheus makes itself (or the rules): never served by a stand-in.
NOT_SERVED = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped",
                        "scrape_samples_post_metric_relabeling", "scrape_series_added",
                        "ALERTS", "ALERTS_FOR_STATE"})
_HEALTHY_VALUES = ("200", "ok", "healthy", "success", "0", "none", "other")


@dataclass
class Series:
    """One series of a family: its own labels (no target labels) and its baseline."""

    labels: dict[str, str]
    value: float = 1.0
    rate: float = 0.0
    latency: float = 0.0

    def matches(self, matchers: Iterable[Matcher]) -> bool:
        """Whether a selector's (family) matchers select this series."""
        return all(m.decides(self.labels.get(m.name, "")) is not False for m in matchers)

    def text(self, family: str) -> str:
        """The series as a selector, e.g. ``http_requests_total{code="500"}``."""
        return Selector(family, tuple(Matcher(k, "=", v) for k, v in self.labels.items())).text()


@dataclass
class Family:
    """A metric family as the rules name it (a histogram by its base name)."""

    name: str
    type: str  # gauge | counter | histogram
    series: list[Series] = field(default_factory=list)
    buckets: list[float] = field(default_factory=list)
    rules: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        """What the stand-in process reads (alertdrill.targets.series)."""
        return {"name": self.name, "type": self.type, "buckets": sorted(set(self.buckets)),
                "help": "alertdrill stand-in for: " + ", ".join(sorted(self.rules)),
                "series": [{"labels": s.labels, "value": s.value, "rate": s.rate,
                            "latency": s.latency} for s in self.series]}


@dataclass(frozen=True)
class Target:
    """A static scrape target as prometheus.yml writes it, with its target labels."""

    job: str
    address: str
    labels: Mapping[str, str]


@dataclass
class StandIn:
    """The plan of one series service: the targets it answers for and what it serves."""

    service: str
    targets: list[Target]
    families: dict[str, Family] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def jobs(self) -> list[str]:
        """The scrape jobs whose targets it answers for."""
        return sorted({t.job for t in self.targets})

    def target_label_names(self) -> set[str]:
        """Labels Prometheus attaches (``job``, ``instance``, static labels)."""
        return {"job", "instance"} | {k for t in self.targets for k in t.labels}

    def family(self, name: str) -> Family | None:
        """A family by the name the rules use (``_bucket``/``_sum``/``_count`` too)."""
        if name in self.families:
            return self.families[name]
        for suffix in ("_bucket", "_sum", "_count"):
            base = self.families.get(name.removesuffix(suffix))
            if name.endswith(suffix) and base is not None and base.type == "histogram":
                return base
        return None

    def split(self, selector: Selector) -> tuple[bool, tuple[Matcher, ...]]:
        """(whether the selector can select one of its targets, its family matchers)."""
        names = self.target_label_names()
        targeted = [m for m in selector.matchers if m.name in names]
        reachable = any(all(m.decides({**t.labels, "job": t.job, "instance": t.address}
                                      .get(m.name, "")) is not False for m in targeted)
                        for t in self.targets)
        return reachable, tuple(m for m in selector.matchers if m.name not in names)

    def to_json(self) -> dict[str, Any]:
        """The plan file the harness writes for the stand-in process."""
        return {"service": self.service, "jobs": self.jobs,
                "families": [f.to_json() for f in self.families.values()]}


@dataclass(frozen=True)
class Rule:
    """One rule of the stack's rule files."""

    name: str
    expr: str
    alerting: bool


def load_rules(spec: StackSpec) -> list[Rule]:
    """Every rule of every rule file, in order."""
    rules = []
    for path in spec.rule_files:
        for group in load_yaml(path, path.name).get("groups") or []:
            for raw in (group or {}).get("rules") or []:
                if isinstance(raw, Mapping) and (raw.get("alert") or raw.get("record")):
                    rules.append(Rule(str(raw.get("alert") or raw.get("record")),
                                      str(raw.get("expr", "")), bool(raw.get("alert"))))
    return rules


def static_targets(prometheus: Mapping[str, Any]) -> list[Target]:
    """Every static target of every scrape job, with its ``labels:``."""
    found = []
    for job in prometheus.get("scrape_configs") or []:
        for group in (job or {}).get("static_configs") or []:
            labels = {str(k): str(v) for k, v in ((group or {}).get("labels") or {}).items()}
            for address in (group or {}).get("targets") or []:
                found.append(Target(str(job.get("job_name")), str(address), labels))
    return found


def stand_ins(spec: StackSpec, time_scale: float = 60.0) -> dict[str, StandIn]:
    """The plan of every ``series`` service of the stack (ConfigError on a bad baseline)."""
    targets = static_targets(load_yaml(spec.prometheus_config, "prometheus.yml"))
    rules = load_rules(spec)
    recorded = {r.name for r in rules if not r.alerting}
    plans = {}
    for name, svc in spec.services.items():
        if svc.kind != KIND:
            continue
        mine = [t for t in targets if t.address in svc.addresses]
        plan = StandIn(name, mine)
        _collect(plan, rules, recorded)
        _baseline(plan, rules, time_scale)
        _manifest_baseline(plan, svc.options.get("baseline") or {}, spec)
        plans[name] = plan
    return plans


# --- families and series ----------------------------------------------------------------------

def _collect(plan: StandIn, rules: list[Rule], recorded: set[str]) -> None:
    uses = []
    for rule in rules:
        try:
            found = selectors_of(rule.expr)
        except (ValueError, TypeError):
            plan.warnings.append(f"rule {rule.name}: its expression could not be parsed")
            continue
        for use in found:
            if use.selector.name and use.selector.name not in NOT_SERVED | recorded:
                reachable, own = plan.split(use.selector)
                if reachable:
                    uses.append((rule.name, use.selector.name, own, use.implies))
    histograms = {n.removesuffix("_bucket") for _, n, _, implies in uses
                  if implies == "histogram" or n.endswith("_bucket")}
    for rule_name, name, own, implies in uses:
        base = next((name.removesuffix(s) for s in ("_bucket", "_sum", "_count")
                     if name.endswith(s) and name.removesuffix(s) in histograms), None)
        if base is not None or name in histograms:
            kind, name = "histogram", base or name
        elif implies == "counter" or name.endswith("_total"):
            kind = "counter"
        else:
            kind = "gauge"
        family = plan.families.setdefault(name, Family(name, kind))
        if kind != family.type and "gauge" in (kind, family.type):
            family.type = kind if family.type == "gauge" else family.type
        family.rules.add(rule_name)
        _ensure_series(family, own)
    for family in plan.families.values():
        if not family.series:
            family.series.append(Series({}))
        if family.type == "histogram":
            family.buckets = list(DEFAULT_BUCKETS)


def _ensure_series(family: Family, matchers: tuple[Matcher, ...]) -> None:
    """Make one series of the family satisfy the matchers (merging into a compatible one)."""
    wanted: dict[str, str] = {}
    for m in matchers:
        if m.op == "=" and m.value:
            wanted[m.name] = m.value
        elif m.op == "=~" and not m.matches(""):
            wanted[m.name] = value_matching(m)
    for series in family.series:
        merged = {**series.labels, **wanted}
        compatible = all(series.labels.get(k, v) == v for k, v in wanted.items())
        if compatible and Series(merged).matches(matchers):
            series.labels = merged
            return
    if wanted or not family.series:
        family.series.append(Series(wanted))


def value_matching(matcher: Matcher) -> str:
    """A label value the ``=~`` matcher selects: the shortest the regex spells (``5..`` → 500)."""
    try:
        text = _spell(sre_parse.parse(matcher.value))
    except (sre_parse.error, ValueError):
        text = None
    if text is None or not matcher.matches(text):
        raise ConfigError(f"cannot find a label value that {matcher.name}=~{matcher.value!r} "
                          "selects", "give the series a baseline in alertdrill.yml with the "
                          "labels spelled out")
    return text


def _spell(pattern: Any) -> str | None:
    out = []
    for op, arg in pattern:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "ANY":
            out.append("0")
        elif name == "IN":
            piece = _spell_in(arg)
            if piece is None:
                return None
            out.append(piece)
        elif name == "BRANCH":
            piece = _spell(arg[1][0])
            if piece is None:
                return None
            out.append(piece)
        elif name == "SUBPATTERN":
            piece = _spell(arg[-1])
            if piece is None:
                return None
            out.append(piece)
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            low, _, sub = arg
            piece = _spell(sub)
            if piece is None:
                return None
            out.append(piece * max(low, 0))
        elif name == "AT":
            continue
        else:
            return None
    return "".join(out)


def _spell_in(items: Any) -> str | None:
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            return chr(arg[0])
        if name == "CATEGORY":
            return "0" if "DIGIT" in str(arg) else "a"
        if name == "NEGATE":
            return None
    return None


def value_not_matching(matcher: Matcher) -> str:
    """A label value the matcher does not select (the healthy sibling's: ``200``, ``ok`` …)."""
    for candidate in _HEALTHY_VALUES:
        if not matcher.matches(candidate):
            return candidate
    return matcher.value + "-other"


def _add_siblings(plan: StandIn, cond: Cond) -> None:
    """A ratio's denominator selects more of the family than its numerator: serve the rest."""
    num, den = cond.quantity.terms
    assert num.selector is not None and den.selector is not None
    if num.selector.name != den.selector.name:
        return
    family = plan.family(num.selector.name)
    if family is None:
        return
    _, num_own = plan.split(num.selector)
    _, den_own = plan.split(den.selector)
    pinned = [m for m in num_own if m not in den_own]
    if not pinned or any(s.matches(den_own) and not s.matches(num_own) for s in family.series):
        return
    for series in [s for s in family.series if s.matches(num_own)][:1]:
        labels = dict(series.labels)
        for m in pinned:
            labels[m.name] = value_not_matching(m)
        family.series.append(Series(labels))


# --- the baseline -----------------------------------------------------------------------------

def fires(op: str, value: float, threshold: float) -> bool:
    """Whether ``value op threshold`` holds (the comparison the rule makes)."""
    return {">": value > threshold, "<": value < threshold, ">=": value >= threshold,
            "<=": value <= threshold, "==": value == threshold,
            "!=": value != threshold}[op]


def healthy_value(op: str, threshold: float) -> float:
    """A value that keeps ``value op threshold`` false, not too far from the threshold."""
    t = threshold
    if op in (">", ">="):
        return t / 2 if t > 0 else (t if op == ">" else t - 1)
    if op in ("<", "<="):
        return 2 * t if t > 0 else (t if op == "<" else t + 1)
    return t + 1 if op == "==" else t


def firing_value(op: str, threshold: float) -> float:
    """A value that makes ``value op threshold`` true, clearly past the threshold."""
    t = threshold
    if op in (">", ">="):
        return 2 * t if t > 0 else (1.0 if t == 0 else t / 2)
    if op in ("<", "<="):
        return t / 2 if t > 0 else ((-1.0 if op == "<" else 0.0) if t == 0 else 2 * t)
    return t if op == "==" else t + 1


@dataclass
class _Wants:
    """Per series field, the comparisons that must stay false, and preferred values."""

    preds: dict[tuple[str, int, str], list[tuple[str, float]]] = field(default_factory=dict)

    def add(self, family: Family, index: int, what: str, op: str, threshold: float) -> None:
        self.preds.setdefault((family.name, index, what), []).append((op, threshold))


def _baseline(plan: StandIn, rules: list[Rule], time_scale: float) -> None:
    wants = _Wants()
    for rule in rules:
        if not rule.alerting:
            continue
        for cond in conditions(conditions_of(rule.expr)):
            if cond.quantity.kind == "ratio":
                _add_siblings(plan, cond)
    for rule in rules:
        if not rule.alerting:
            continue
        for cond in conditions(conditions_of(rule.expr)):
            _constrain(plan, wants, cond, time_scale)
    for family in plan.families.values():
        for index, series in enumerate(family.series):
            if family.type == "gauge":
                series.value = _choose(plan, family, wants.preds.get((family.name, index, "value"),
                                                                     []), 1.0, False)
            else:
                series.rate = _choose(plan, family, wants.preds.get((family.name, index, "rate"),
                                                                    []), HEALTHY_RATE, True)
            if family.type == "histogram":
                preds = wants.preds.get((family.name, index, "latency"), [])
                family.buckets.extend(t for _, t in preds if t > 0)
                family.buckets.extend(2 * t for _, t in preds if t > 0)
                series.latency = _choose(plan, family, preds, 0.05, True)
                series.latency = _bucket_at_or_below(family, series.latency, preds)


def _constrain(plan: StandIn, wants: _Wants, cond: Cond, time_scale: float) -> None:
    q = cond.quantity
    op, threshold = cond.raw()
    if q.kind in ("gauge", "rate", "quantile"):
        assert q.selector is not None
        if q.kind == "rate" and q.window is not None:
            threshold /= max(q.window / time_scale, 1e-9)  # an increase over the scaled window
        what = {"gauge": "value", "rate": "rate", "quantile": "latency"}[q.kind]
        for family, index in _selected(plan, q.selector):
            wants.add(family, index, what, op, threshold)
    elif q.kind == "ratio":
        num, den = q.terms
        assert num.selector is not None and den.selector is not None
        what = "value" if num.kind == "gauge" else "rate"
        numerator = _selected(plan, num.selector)
        seen = {(f.name, i) for f, i in numerator}
        rest = [(f, i) for f, i in _selected(plan, den.selector) if (f.name, i) not in seen]
        low = op in (">", ">=")
        for family, index in numerator:
            wants.add(family, index, what, ">" if low else "<", 0.0 if low else HEALTHY_RATE / 2)
        for family, index in rest:
            wants.add(family, index, what, "<" if low else ">", HEALTHY_RATE / 2 if low else 0.0)


def _selected(plan: StandIn, selector: Selector) -> list[tuple[Family, int]]:
    family = plan.family(selector.name)
    reachable, own = plan.split(selector)
    if family is None or not reachable:
        return []
    return [(family, i) for i, s in enumerate(family.series) if s.matches(own)]


def _choose(plan: StandIn, family: Family, preds: list[tuple[str, float]], default: float,
            non_negative: bool) -> float:
    candidates = [healthy_value(op, t) for op, t in preds] + [default, 0.0, 1.0]
    if non_negative:
        candidates = [c for c in candidates if c >= 0]
    for candidate in candidates:
        if not any(fires(op, candidate, t) for op, t in preds):
            return candidate
    plan.warnings.append(f"{family.name}: no value keeps every rule inactive "
                         f"({', '.join(f'{op} {t:g}' for op, t in preds)}): set its baseline in "
                         "alertdrill.yml")
    return candidates[0] if candidates else default


def _bucket_at_or_below(family: Family, latency: float, preds: list[tuple[str, float]]) -> float:
    """A latency that is a bucket bound (so its quantile reads no higher than it)."""
    bounds = [b for b in sorted(set(family.buckets)) if b <= latency and
              not any(fires(op, b, t) for op, t in preds)]
    if bounds:
        return bounds[-1]
    family.buckets.append(latency)
    return latency


# --- the manifest's baseline ------------------------------------------------------------------

def _manifest_baseline(plan: StandIn, raw: Mapping[str, Any], spec: StackSpec) -> None:
    where = f"{spec.root}/alertdrill.yml: services.{plan.service}.baseline"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping of series to values",
                          "e.g. baseline: {redis_connected_clients: 10}")
    for key, value in raw.items():
        selector = parse_series(str(key), where)
        family = plan.family(selector.name)
        if family is None:
            raise ConfigError(f"{where}: {key!r} is not a family the stand-in serves"
                              + did_you_mean(selector.name, plan.families),
                              f"it serves: {', '.join(plan.families) or 'nothing'}")
        _, own = plan.split(selector)
        matching = [s for s in family.series if s.matches(own)]
        if not matching:
            matching = [Series({m.name: m.value for m in own})]
            family.series.append(matching[0])
        settings = value if isinstance(value, Mapping) else {"value": value}
        allowed = {"gauge": {"value"}, "counter": {"rate"},
                   "histogram": {"rate", "latency"}}[family.type]
        unknown = set(settings) - allowed
        if unknown:
            raise ConfigError(f"{where}: {key!r} is a {family.type}; it takes "
                              f"{', '.join(sorted(allowed))}, not {', '.join(sorted(unknown))}",
                              "a gauge: a number; a counter: {rate: N} (per second); "
                              "a histogram: {latency: S, rate: N}")
        for name, number in settings.items():
            try:
                number = float(number)
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: {key!r}: {name} must be a number") from None
            for series in matching:
                setattr(series, name, number)
            if name == "latency":
                family.buckets.append(number)


def parse_series(text: str, where: str) -> Selector:
    """A series as a step or the manifest writes it: a name and equality matchers."""
    try:
        node = parse(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: {text!r} is not a series selector ({exc})",
                          'write it as PromQL, e.g. http_requests_total{code="500"}') from None
    if type(node).__name__ != "VectorSelector":
        raise ConfigError(f"{where}: {text!r} is not a series selector",
                          'write a metric name with optional labels, e.g. x{code="500"}')
    from alertdrill.analysis.seriesrules import _selector

    selector = _selector(node)
    if any(m.op != "=" for m in selector.matchers):
        raise ConfigError(f"{where}: {text!r}: only = matchers name a series",
                          'spell the label value out, e.g. code="500"')
    return selector


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean "x"?)`` when a known name is close, else nothing."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def stand_in_of(plans: Mapping[str, StandIn], quantity: Quantity) -> list[StandIn]:
    """The stand-ins that serve a quantity's selector, the best-named first."""
    assert quantity.selector is not None
    serving = [p for p in plans.values() if _selected(p, quantity.selector)]
    name = quantity.selector.name
    return sorted(serving, key=lambda p: not any(name.startswith(j) for j in
                                                 [p.service, *p.jobs]))
