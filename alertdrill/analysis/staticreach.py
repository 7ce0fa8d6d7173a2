"""Which receivers an alerting rule's alerts can reach at all, by the routing tree alone.

A claim that a receiver is *never* notified of an alert proves nothing when no label set the
rules can produce routes that alert there: it holds before the scenario even starts. Such a
claim still runs (the routing may be wrong in a way the static view cannot see), but its
verdict says that it held vacuously. The answer is an over-approximation — a receiver counts
as reachable unless the tree surely keeps the alert away from it — so a claim is only ever
called vacuous when it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from alertdrill.analysis.amroute import Route, Tri, all3, reach3
from alertdrill.analysis.rulelabels import Shape, rule_shapes
from alertdrill.engine.stackspec import StackSpec
from alertdrill.yamlio import load_yaml

#: Labels a service of the stack adds to alerts it re-posts (the escalation service's level):
#: unknown to the static view, so routes matching on them stay reachable.
_REPOSTED_LABELS: Mapping[str, tuple[str, ...]] = {"escalation": ("escalation",)}


def reachable_receivers(spec: StackSpec) -> Callable[[str], frozenset[str] | None]:
    """``alertname`` → every receiver its alerts may reach; None for an alert no rule defines
    (pushed by a step: its labels are not known here)."""
    from alertdrill.analysis.lint import load_route_tree

    root = load_route_tree(spec.alertmanager_config)
    shapes = alert_shapes_of(spec)
    cache: dict[str, frozenset[str] | None] = {}

    def reach(alertname: str) -> frozenset[str] | None:
        if alertname not in cache:
            if root is None or alertname not in shapes:
                cache[alertname] = None
            else:
                found: set[str] = set()
                for shape in shapes[alertname]:
                    found |= _receivers(root, shape)
                cache[alertname] = frozenset(found)
        return cache[alertname]

    return reach


def alert_shapes_of(spec: StackSpec) -> dict[str, list[Shape]]:
    """alertname → the label shapes its alerts may have at a receiver: the rules' (labels,
    targets, external labels), with the labels a stack service adds to alerts it re-posts (the
    escalation level) unknown, since such a copy carries any value of them."""
    prom = load_yaml(spec.prometheus_config, "prometheus.yml")
    docs = [load_yaml(path, "rule file") for path in spec.rule_files]
    unknown = {label for svc in spec.services.values()
               for label in _REPOSTED_LABELS.get(svc.kind, ())}
    shapes: dict[str, list[Shape]] = {}
    for name, shape, _labels in rule_shapes(prom, docs):
        if unknown:
            shape = shape.set(**dict.fromkeys(unknown))
        shapes.setdefault(name, []).append(shape)
    return shapes


def _receivers(root: Route, shape: Any) -> set[str]:
    """Receivers of every route that may deliver an alert of this shape: it may be reached and
    no child of it surely matches (a matching child takes the alert, ``continue`` or not)."""
    candidates = [root, *(route for route, blocker in reach3(root, shape) if blocker is None)]
    found = set()
    for route in candidates:
        if any(all3(child.matchers, shape) is Tri.YES for child in route.routes):
            continue
        receiver = route.effective_receiver
        if receiver:
            found.add(receiver)
    return found

