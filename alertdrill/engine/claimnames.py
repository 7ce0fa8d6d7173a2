"""Every name a scenario's steps use, checked against its stack before anything starts.

A claim about a receiver, alert, integration or service the stack does not have cannot fail in
the way its author meant: ``"storefrnt-team" is never notified …`` holds trivially, and
``"paymnets-team" is notified …`` waits out its whole window before it says nothing happened.
So, like an undefined step, such a name refuses the scenario at once, with a did-you-mean from
the stack's own names — in the pytest plugin (before the scenario's stack starts) and in
``alertdrill check --features``.

Which argument of a step is which kind of name is read from the argument's name in the step's
pattern (``receiver``, ``receivers``, ``alertname``, ``integration``, ``service``, ``peer``):
the step vocabulary already spells them consistently, so no step needs a second declaration.
A step that *introduces* a name (pushing an alert that no rule defines) is marked with
:func:`introduces`; later steps of the same scenario may then use it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from alertdrill.analysis.rulelabels import ABSENT, Shape
from alertdrill.analysis.staticreach import alert_shapes_of
from alertdrill.engine.stackspec import StackSpec
from alertdrill.engine.stepsyntax import cell_names, parse_labels, parse_names
from alertdrill.errors import StepError
from alertdrill.sink.integrations import (
    IntegrationRef,
    fields_of,
    has_integration,
    receiver_integrations,
)
from alertdrill.text import plural
from alertdrill.yamlio import load_yaml

F = TypeVar("F", bound=Callable[..., Any])

#: The step-argument names that are names of something in the stack, and what they name.
ARGUMENT_KINDS: Mapping[str, str] = {
    "receiver": "receiver",
    "receivers": "receiver",
    "alertname": "alert",
    "alertnames": "alert",
    "integration": "integration",
    "service": "service",
    "peer": "service",
    "field": "field",
    "config_file": "file",
    "rule_file": "rule file",
    "table receivers": "receiver",
    "table alerts": "alert",
}
#: Datatable columns that hold names of the stack, and the argument they are checked as.
_TABLE_COLUMNS: Mapping[str, str] = {"receiver": "table receivers",
                                     "receivers": "table receivers", "alert": "table alerts"}
_INTRODUCES = "__alertdrill_introduces__"
_STARTS_STACK = "__alertdrill_starts_stack__"
#: Services every stack has besides its manifest's (``alertmanager-N`` are added per peer).
BUILTIN_SERVICES = ("prometheus", "sink")


def introduces(*arguments: str) -> Callable[[F], F]:
    """Mark a step whose ``arguments`` bring a new name into the scenario (a pushed alert).

    Put it below the ``@when``/``@given`` decorator (it must see the plain function).
    """

    def mark(func: F) -> F:
        setattr(func, _INTRODUCES, frozenset(arguments))
        return func

    return mark


def introduced_by(func: Callable[..., Any]) -> frozenset[str]:
    """The argument names a step function introduces (see :func:`introduces`)."""
    return frozenset(getattr(func, _INTRODUCES, frozenset()))


def starts_stack(argument: str | None = None) -> Callable[[F], F]:
    """Mark a step that starts a stack: the steps after it are checked against that stack's
    names. ``argument`` names the step argument holding the stack's name (None: the run's
    default stack)."""

    def mark(func: F) -> F:
        setattr(func, _STARTS_STACK, argument or "")
        return func

    return mark


_ACTS_ON = "__alertdrill_acts_on__"
#: What a step does to a service, from its arguments: the actions it takes (applying and undoing).
ActionsOf = Callable[[Mapping[str, object]], tuple[str, ...]]


def acts_on(actions: tuple[str, ...] | ActionsOf, service: str | None = None) -> Callable[[F], F]:
    """Mark a step that acts on a service: ``actions`` (or a function of the step's arguments
    giving them) are what it takes — a stop also takes the ``start`` that undoes it — and the
    service is the step's ``service`` argument, or ``service`` when the step names a fixed one.

    The local and Docker backends can do anything to what they started; the external backend
    only what the stack's manifest declares, and refuses the rest before the scenario starts.
    Put it below the ``@when`` decorator (it must see the plain function).
    """
    def mark(func: F) -> F:
        setattr(func, _ACTS_ON, (actions, service))
        return func

    return mark


def step_actions(func: Callable[..., Any], arguments: Mapping[str, object]
                 ) -> tuple[str, tuple[str, ...]] | None:
    """For a step marked with :func:`acts_on`: (service, actions); None for any other step."""
    found = getattr(func, _ACTS_ON, None)
    if found is None:
        return None
    actions, service = found
    taken = actions(arguments) if callable(actions) else actions
    return str(service or arguments.get("service") or ""), tuple(taken)


def stack_argument(func: Callable[..., Any]) -> str | None:
    """For a step marked with :func:`starts_stack`: the argument naming the stack ("" for the
    default stack); None for any other step."""
    return getattr(func, _STARTS_STACK, None)


@dataclass(frozen=True)
class StackNames:
    """The names a stack defines, which claims about it may use."""

    stack: str
    #: receiver → the integrations it has (``("webhook", 1)``: its second webhook).
    receivers: Mapping[str, frozenset[IntegrationRef]]
    alerts: frozenset[str]
    services: frozenset[str]
    #: alertname → the label shapes the rules give its alerts (for "with labels …").
    shapes: Mapping[str, tuple[Shape, ...]] = field(default_factory=dict)
    #: The stack directory (files named in steps are relative to it).
    root: Path | None = None
    #: Its rule files, relative to ``root``.
    rule_files: frozenset[str] = frozenset()

    @classmethod
    def of(cls, spec: StackSpec, peers: int | None = None) -> StackNames:
        """Read them from the stack's alertmanager.yml, rule files and manifest."""
        config = load_yaml(spec.alertmanager_config, "alertmanager.yml")
        receivers = receiver_integrations(config)
        alerts = set()
        for path in spec.rule_files:
            for group in load_yaml(path, "rule file").get("groups") or []:
                for rule in (group or {}).get("rules") or []:
                    if isinstance(rule, Mapping) and rule.get("alert"):
                        alerts.add(str(rule["alert"]))
        count = peers or spec.peers
        services = {*spec.services, *BUILTIN_SERVICES, *(f"alertmanager-{i}" for i in range(count))}
        shapes = {name: tuple(found) for name, found in alert_shapes_of(spec).items()}
        rule_files = frozenset(str(p.resolve().relative_to(spec.root)) for p in spec.rule_files
                               if p.resolve().is_relative_to(spec.root))
        return cls(spec.name, receivers, frozenset(alerts), frozenset(services), shapes,
                   spec.root, rule_files)


@dataclass(frozen=True)
class ParsedStep:
    """One step of a scenario as the checker sees it: its text and its named arguments."""

    text: str
    line: int
    arguments: Mapping[str, object]
    introduces: frozenset[str] = frozenset()
    #: Set on a step that starts a stack: the stack's name, "" for the run's default.
    starts_stack: str | None = None
    #: Set on a step that acts on a service (:func:`acts_on`): the service and the actions
    #: applying and undoing it take (``stop`` and ``start``), for backends that can only act
    #: through declared actions (the external backend).
    acts_on: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class NameProblem:
    """A name in a step that the stack does not define."""

    step: str
    line: int
    kind: str
    name: str
    known: tuple[str, ...]
    context: str = ""

    def message(self) -> str:
        """One line: what is unknown, where, and the closest names the stack has."""
        close = difflib.get_close_matches(self.name, self.known, n=3, cutoff=0.6)
        guess = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        where = f" {self.context}" if self.context else ""
        return f"line {self.line} ‹{self.step}›: no {self.kind} {self.name!r}{where}{guess}"


def problems(steps: Sequence[ParsedStep],
             resolve: Callable[[str], StackNames]) -> list[NameProblem]:
    """Every name in ``steps`` that their stack does not define, in step order.

    Each step is checked against the stack the latest stack-starting step before it started
    (``resolve`` turns its name, "" for the default, into the stack's names); steps before any
    are not checked. Alert names a step introduces (pushed alerts) count as defined for the
    steps after it.
    """
    found: list[NameProblem] = []
    names: StackNames | None = None
    alerts: set[str] = set()
    pushed: set[str] = set()  # alerts a step pushed: their labels are the scenario's own
    for step in steps:
        if step.starts_stack is not None:
            names = resolve(step.starts_stack)
            alerts = set(names.alerts)
            continue
        if names is None:
            continue
        args = step.arguments
        for arg, value in args.items():
            kind = ARGUMENT_KINDS.get(arg)
            if kind is None or value is None or value == "":
                continue
            if arg in step.introduces:
                if kind == "alert":
                    alerts.add(str(value))
                    pushed.add(str(value))
                continue
            for name in _names(arg, value):
                problem = _check(kind, name, args, names, alerts, step)
                if problem is not None:
                    found.append(problem)
        if args.get("labels") and "labels" not in step.introduces \
                and str(args.get("alertname")) not in pushed:
            found += _label_problems(step, names)
    return found


def _label_problems(step: ParsedStep, names: StackNames) -> list[NameProblem]:
    """Labels in "with labels …" that no alert of the named rule can carry: a name no shape of
    it has, or a value outside the values it can have (where the rules fix them)."""
    alertname = step.arguments.get("alertname")
    shapes = names.shapes.get(str(alertname)) if alertname else None
    if not shapes:
        return []  # an alert a step pushed, or no alert named: its labels are not known here
    try:
        wanted = parse_labels(str(step.arguments["labels"]))
    except StepError:
        return []  # the step itself reports labels it cannot read
    found = []
    for label, value in wanted.items():
        if label == "alertname":
            continue
        possible = [shape.get(label) for shape in shapes]
        if any(p is None for p in possible):
            continue  # unknown without running the rule (an exporter's own label)
        values = {v for p in possible if p is not None for v in p}
        if values <= {ABSENT}:
            carried = sorted({n for shape in shapes for n, p in shape.labels.items()
                              if p != frozenset({ABSENT}) and n != "__name__"})
            found.append(NameProblem(step.text, step.line, "label", label, tuple(carried),
                                     f"on the alerts of {alertname!r} (they carry "
                                     f"{', '.join(carried)})"))
        elif value not in values:
            shown = sorted(v for v in values if v != ABSENT)
            found.append(NameProblem(step.text, step.line, "value", f"{label}={value}",
                                     tuple(f"{label}={v}" for v in shown),
                                     f"for the alerts of {alertname!r} (their {label} is "
                                     f"{' or '.join(shown)})"))
    return found


def table_arguments(rows: Sequence[Sequence[str]]) -> dict[str, list[str]]:
    """The names in a step's datatable (its first row the header), by the argument they are
    checked as: the routing and delivery tables' ``receiver(s)`` and ``alert`` columns
    (comma-separated cells; ``none`` is no name)."""
    if not rows:
        return {}
    found: dict[str, list[str]] = {}
    for column, header in enumerate(c.strip().lower() for c in rows[0]):
        argument = _TABLE_COLUMNS.get(header)
        if argument is None:
            continue
        for row in rows[1:]:
            cell = row[column] if column < len(row) else ""
            found.setdefault(argument, []).extend(
                n for n in cell_names(cell) if n.lower() != "none")
    return found


def _names(arg: str, value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if arg in ("receivers", "alertnames"):
        try:
            return parse_names(str(value))
        except StepError:
            return []  # the step itself reports a list it cannot read
    return [str(value)]


def _check(kind: str, name: str, args: Mapping[str, object], names: StackNames,
           alerts: set[str], step: ParsedStep) -> NameProblem | None:
    def problem(known: Iterable[str], context: str = "") -> NameProblem:
        return NameProblem(step.text, step.line, kind, name, tuple(sorted(known)), context)

    if kind == "receiver":
        if name not in names.receivers:
            return problem(names.receivers, f"in the alertmanager.yml of stack {names.stack!r}")
    elif kind == "alert":
        if name not in alerts:
            return problem(alerts, f"among the alerting rules of stack {names.stack!r} (nor "
                                   "pushed by an earlier step)")
    elif kind == "field":
        integration = str(args.get("integration") or "probe")
        fields = fields_of(integration)
        if name not in fields:
            return problem(fields, f"in {integration} notifications (what a human reads there)")
    elif kind == "service":
        if name not in names.services:
            return problem(names.services, f"in stack {names.stack!r}")
    elif kind == "file" and names.root is not None:
        if not (names.root / name).is_file():
            files = [str(p.relative_to(names.root)) for p in sorted(names.root.rglob("*.y*ml"))]
            return problem(files, f"in the directory of stack {names.stack!r}")
    elif kind == "rule file" and names.root is not None:
        if name not in names.rule_files:
            return problem(names.rule_files, f"among the rule files of stack {names.stack!r} "
                                             "(relative to its directory)")
    elif kind == "integration":
        receiver = args.get("receiver")
        if receiver is not None and str(receiver) in names.receivers:
            has = names.receivers[str(receiver)]
            kinds = sorted({word for word, _ in has})
            if not has_integration(has, name):
                return NameProblem(step.text, step.line, "integration", name, tuple(kinds),
                                   f"on receiver {str(receiver)!r} (it has "
                                   f"{', '.join(kinds) or 'no integration'})")
            index = args.get("index")
            if index not in (None, "") and not has_integration(has, name, int(str(index))):
                known = tuple(f"{name}[{i}]" for word, i in sorted(has) if word == name)
                return NameProblem(step.text, step.line, "integration", f"{name}[{index}]", known,
                                   f"on receiver {str(receiver)!r} (it has {len(known)} {name} "
                                   f"integration(s): {', '.join(known)})")
        elif receiver is None and not any(has_integration(has, name)
                                          for has in names.receivers.values()):
            return problem({word for has in names.receivers.values() for word, _ in has},
                           f"on any receiver of stack {names.stack!r}")
    return None


def refusal(found: Sequence[NameProblem], where: str) -> StepError:
    """The one error that refuses a scenario (or a feature file) for its unknown names."""
    lines = "\n    ".join(p.message() for p in found)
    return StepError(f"{where}: {plural(len(found), 'unknown name')} — "
                     f"a claim about a name the stack does not have cannot fail as meant:\n    "
                     f"{lines}", "fix the spelling, or add the receiver, rule or service to the "
                                 "stack")


_CACHE: dict[tuple[Path, int | None], StackNames] = {}


def stack_names(root: Path, peers: int | None = None) -> StackNames:
    """The names of the stack at ``root`` (read once per process and stack)."""
    key = (root.resolve(), peers)
    if key not in _CACHE:
        _CACHE[key] = StackNames.of(StackSpec.load(root), peers)
    return _CACHE[key]
