"""How to make one alerting rule fire from the stand-ins' baseline: Gherkin step lines.

``alertdrill init`` writes a fire-and-resolve scenario per rule from :func:`trip_steps`; a rule
the stand-ins cannot trip gets a :class:`TripPlan` with a ``reason`` instead (its expression
has no threshold, it needs a trend over time, a join across jobs …). The steps are the series
steps' own vocabulary (steps/series_steps.py), so what init writes is what a person would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from alertdrill.analysis.seriesplan import (
    NOT_SERVED,
    Family,
    Series,
    StandIn,
    did_you_mean,
    fires,
    firing_value,
    load_rules,
    stand_in_of,
    stand_ins,
)
from alertdrill.analysis.seriesrules import Cond, Join, Opaque, Quantity, Tree, conditions_of
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError


@dataclass
class TripPlan:
    """Steps that make a rule fire (``steps``) and resolve (``revert_steps``), or ``reason``."""

    steps: list[str] = field(default_factory=list)
    revert_steps: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def trippable(self) -> bool:
        """Whether the stand-ins can make the rule fire."""
        return not self.reason


class _Cannot(Exception):
    """Why one part of a rule cannot be tripped."""


def trip_steps(spec: StackSpec, rule_name: str) -> TripPlan:
    """The steps that make ``rule_name`` fire from the baseline (or why none can)."""
    rules = {r.name: r for r in load_rules(spec) if r.alerting}
    if rule_name not in rules:
        raise ConfigError(f"the stack has no alerting rule {rule_name!r}"
                          + did_you_mean(rule_name, rules),
                          f"its alerting rules: {', '.join(rules) or 'none'}")
    plans = stand_ins(spec)
    if not plans:
        return TripPlan(reason="the stack has no `series` service to drive")
    try:
        plan = TripPlan()
        _trip(conditions_of(rules[rule_name].expr), plans, plan)
        return plan
    except _Cannot as exc:
        return TripPlan(reason=str(exc))


def _trip(tree: Tree, plans: dict[str, StandIn], out: TripPlan) -> None:
    if isinstance(tree, Opaque):
        raise _Cannot(tree.reason)
    if isinstance(tree, Join):
        parts = tree.parts if tree.op == "and" else tree.parts[:1]
        if tree.op == "or":
            for part in tree.parts:
                attempt = TripPlan()
                try:
                    _trip(part, plans, attempt)
                except _Cannot:
                    continue
                out.steps += attempt.steps
                out.revert_steps += attempt.revert_steps
                return
            raise _Cannot("no side of its `or` can be tripped")
        for part in parts:
            _trip(part, plans, out)
        return
    _trip_cond(tree, plans, out)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _trip_cond(cond: Cond, plans: dict[str, StandIn], out: TripPlan) -> None:
    q = cond.quantity
    op, threshold = cond.raw()
    if q.kind == "up":
        _trip_up(q, op, threshold, plans, out)
        return
    if q.kind == "ratio":
        _trip_ratio(q, op, threshold, plans, out)
        return
    assert q.selector is not None
    if q.kind == "absent" and q.selector.name in NOT_SERVED:
        raise _Cannot(f"absent({q.selector.text()}) fires only when Prometheus has no such "
                      "series at all; a stopped target still has up == 0")
    serving = stand_in_of(plans, q)
    if not serving:
        raise _Cannot(f"no series service serves {q.selector.text()}")
    if q.kind == "absent":
        for plan in serving:
            for family, series in _series(plan, q):
                line = f'the series {series.text(family.name)} of "{plan.service}"'
                out.steps.append(f"{line} disappears")
                out.revert_steps.append(f"{line} returns to its baseline")
        return
    plan = serving[0]
    for family, series in _series(plan, q):
        line = f'{series.text(family.name)} of "{plan.service}"'
        out.revert_steps.append(f"the series {line} returns to its baseline")
        if q.kind == "gauge":
            out.steps.append(f"the series {line} is set to {_fmt(_checked(op, threshold))}")
        elif q.kind == "rate":
            value = _checked(op, threshold, non_negative=True)
            if q.window is not None:
                out.steps.append(f"the increase of {line} over {q.window_text} rises to "
                                 f"{_fmt(value)}")
            else:
                verb = "rises" if value > series.rate else "falls"
                out.steps.append(f"the rate of {line} {verb} to {_fmt(value)} per second")
        elif q.kind == "quantile":
            out.steps.append(f"the latency of {line} rises to "
                             f"{_fmt(_latency(family, op, threshold))} seconds")


def _series(plan: StandIn, q: Quantity) -> list[tuple[Family, Series]]:
    assert q.selector is not None
    family = plan.family(q.selector.name)
    _, own = plan.split(q.selector)
    assert family is not None
    return [(family, s) for s in family.series if s.matches(own)]


def _checked(op: str, threshold: float, non_negative: bool = False) -> float:
    value = float(_fmt(firing_value(op, threshold)))
    if (non_negative and value < 0) or not fires(op, value, threshold):
        raise _Cannot(f"no {'rate' if non_negative else 'value'} makes {op} {threshold:g} true")
    return value


def _latency(family: Family, op: str, threshold: float) -> float:
    """A bucket bound past the threshold (the quantile then reads above the threshold)."""
    if op not in (">", ">=") or threshold <= 0:
        raise _Cannot(f"a latency quantile {op} {threshold:g} is not modelled (only > and >=)")
    above = [b for b in sorted(set(family.buckets)) if b >= 2 * threshold]
    return above[0] if above else 2 * threshold


def _ceil3(value: float) -> float:
    """Rounded up to three significant digits (a driven ratio lands past its target)."""
    if value <= 0:
        return value
    step = 10 ** (math.floor(math.log10(value)) - 2)
    return float(_fmt(math.ceil(value / step - 1e-9) * step))


def _trip_up(q: Quantity, op: str, threshold: float, plans: dict[str, StandIn],
             out: TripPlan) -> None:
    if not fires(op, 0, threshold) or fires(op, 1, threshold):
        raise _Cannot(f"up {op} {threshold:g} is not a target going down")
    assert q.selector is not None
    for plan in plans.values():
        if plan.split(q.selector)[0]:
            out.steps.append(f'the service "{plan.service}" is stopped')
            out.revert_steps.append(f'the service "{plan.service}" is started again')
            return
    raise _Cannot(f"no series service answers for the targets of {q.selector.text()}")


def _trip_ratio(q: Quantity, op: str, threshold: float, plans: dict[str, StandIn],
                out: TripPlan) -> None:
    num, den = q.terms
    assert num.selector is not None and den.selector is not None
    serving = stand_in_of(plans, num)
    if not serving:
        raise _Cannot(f"no series service serves {num.selector.text()}")
    plan = serving[0]
    if plan not in stand_in_of(plans, den):
        raise _Cannot(f"a join across jobs: {num.selector.text()} and {den.selector.text()} "
                      "are not served by one target")
    what = "value" if num.kind == "gauge" else "rate"
    numerator = _series(plan, num)
    ids = {id(s) for _, s in numerator}
    rest = [(f, s) for f, s in _series(plan, den) if id(s) not in ids]
    subset = len(rest) < len(_series(plan, den))
    n0 = sum(getattr(s, what) for _, s in numerator)
    d0 = sum(getattr(s, what) for _, s in rest)
    if op in (">", ">="):
        target = (1 + threshold) / 2 if 0 <= threshold < 1 else firing_value(op, threshold)
        if subset and not 0 <= threshold < 1:
            raise _Cannot(f"a share of its own denominator cannot be {op} {threshold:g}")
        if d0 <= 0:
            raise _Cannot("its denominator has no baseline to compare with")
        value = target * d0 / (1 - target) if subset else target * d0
        driven = numerator[:1]
    else:
        if threshold <= 0:
            raise _Cannot(f"a ratio {op} {threshold:g} cannot be reached")
        target = threshold / 2
        if n0 <= 0:
            raise _Cannot("its numerator has no baseline to compare with")
        value = n0 * (1 - target) / target if subset else n0 / target
        driven = rest[:1] if rest else []
        if not driven:
            raise _Cannot("its denominator has no series of its own to raise")
    value = _ceil3(value)
    for family, series in driven:
        line = f'{series.text(family.name)} of "{plan.service}"'
        if what == "value":
            out.steps.append(f"the series {line} is set to {_fmt(value)}")
        else:
            out.steps.append(f"the rate of {line} rises to {_fmt(value)} per second")
        out.revert_steps.append(f"the series {line} returns to its baseline")
