"""Which series of a stand-in a step names, checked against the stand-in's own plan.

A step writes a series as PromQL (``redis_connected_clients{instance="redis:9121"}``); this
module splits it into the family, the stand-in's own labels and the target labels (``job``,
``instance``, static ``labels:`` — Prometheus attaches those, so they must name one of the
stand-in's targets), and refuses at once, with a did-you-mean, a family the stand-in does not
serve, labels none of its series has, or a drive its type cannot take.
"""

from __future__ import annotations

from dataclasses import dataclass

from alertdrill.analysis.seriesplan import Family, StandIn, did_you_mean, parse_series
from alertdrill.errors import ConfigError, StepError

#: What each drive needs of the family, and the step that drives each type.
_TAKES = {"value": ("gauge",), "rate": ("counter", "histogram"), "latency": ("histogram",),
          "increase": ("counter",), "absent": ("gauge", "counter", "histogram"),
          "baseline": ("gauge", "counter", "histogram")}
_STEP_FOR = {"gauge": 'the series NAME of "SERVICE" is set to V',
             "counter": 'the rate of NAME of "SERVICE" rises to N per second',
             "histogram": 'the latency of NAME of "SERVICE" rises to S seconds'}


@dataclass(frozen=True)
class Selection:
    """A family of a stand-in and the labels that pick some of its series."""

    family: Family
    labels: dict[str, str]
    text: str


def select(plan: StandIn, service: str, text: str, drive: str) -> Selection:
    """The series ``text`` names on ``plan``'s stand-in, fit for ``drive`` (else StepError)."""
    try:
        selector = parse_series(text, f'series of "{service}"')
    except ConfigError as exc:
        raise StepError(str(exc.args[0]), exc.hint) from None
    family = plan.family(selector.name)
    if family is None:
        raise StepError(f'"{service}" serves no family {selector.name}'
                        + did_you_mean(selector.name, plan.families),
                        f"it serves: {', '.join(plan.families) or 'nothing'} (the families the "
                        "stack's rules select for its job)")
    names = plan.target_label_names()
    targeted = {m.name: m.value for m in selector.matchers if m.name in names}
    if targeted and not any(
            all({**t.labels, "job": t.job, "instance": t.address}.get(k) == v
                for k, v in targeted.items()) for t in plan.targets):
        raise StepError(f'no target of "{service}" has {targeted}',
                        "its targets: " + "; ".join(f"job={t.job} instance={t.address}"
                                                    for t in plan.targets))
    labels = {m.name: m.value for m in selector.matchers if m.name not in names}
    if not any(labels.items() <= s.labels.items() for s in family.series):
        raise StepError(f"{family.name} of \"{service}\" has no series with {labels}",
                        "its series: " + ", ".join(s.text(family.name) for s in family.series))
    if family.type not in _TAKES[drive]:
        raise StepError(f"{family.name} is a {family.type} of the stand-in, which cannot be "
                        f"driven that way", f"drive it with: {_STEP_FOR[family.type]}")
    return Selection(family, labels, text)
