"""A pytest plugin for one mutant's run: only the selected scenarios, in the selected order.

``alertdrill mutate`` runs each mutant through ``alertdrill run … -x -- -p
alertdrill.mutate.order``; :data:`ENV` names a JSON file listing ``[feature file, scenario
name]`` pairs, fastest first (selection.py). pytest's ``-k`` could select them but not order
them, and ``-x`` stops at the first failure only in the order the scenarios run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

#: The variable naming the JSON file of ``[feature file, scenario name]`` pairs.
ENV = "ALERTDRILL_MUTATE_SCENARIOS"


def item_key(item: pytest.Item) -> tuple[str, str] | None:
    """(real path of the feature file, scenario name) of a pytest-bdd item; None otherwise."""
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    function: Any = getattr(item, "function", None)
    template = scenario_wrapper_template_registry.get(function) if function else None
    if template is None:
        return None
    return os.path.realpath(template.feature.filename), str(template.name)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the listed scenarios (every example of an outline), in the listed order."""
    listing = os.environ.get(ENV)
    if not listing:
        return
    wanted = [(os.path.realpath(f), n) for f, n in json.loads(Path(listing).read_text())]
    rank = {key: i for i, key in enumerate(wanted)}
    keep: list[tuple[int, int, pytest.Item]] = []
    dropped = []
    for index, item in enumerate(items):
        key = item_key(item)
        if key is not None and key in rank:
            keep.append((rank[key], index, item))
        else:
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = [item for _, _, item in sorted(keep, key=lambda k: (k[0], k[1]))]
