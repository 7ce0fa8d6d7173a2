"""One view of "which integrations does a receiver have", from a config and from a stack.

The name check of claims and the delivery table read it from alertmanager.yml before start; a
GameDay's receiver break reads it off the running stack's destinations. If the two views
disagreed, one path would refuse what the other accepts.
"""

from __future__ import annotations

from pathlib import Path

from alertdrill.engine.instrument import instrument_alertmanager
from alertdrill.sink.integrations import (
    delivering_integrations,
    has_integration,
    receiver_integrations,
)
from alertdrill.yamlio import load_yaml

ROOT = Path(__file__).resolve().parents[1]


def test_the_config_and_the_instrumented_destinations_give_the_same_view(tmp_path: Path) -> None:
    config = load_yaml(ROOT / "stack" / "reference" / "alertmanager" / "alertmanager.yml",
                       "alertmanager.yml")
    instrumented = instrument_alertmanager(config, config_dir=tmp_path, sink_url="http://127.0.0.1:1",
                                           smtp_address="127.0.0.1:2", peer=0)
    assert delivering_integrations(instrumented.destinations) == receiver_integrations(config)
    assert receiver_integrations(config)["dev-critical"] == {
        ("email", 0), ("slack", 0), ("webhook", 0), ("webhook", 1)}


def test_has_integration_reads_none_as_any() -> None:
    have = frozenset({("slack", 0), ("webhook", 0), ("webhook", 1)})
    assert has_integration(have, None)
    assert has_integration(have, "webhook")
    assert has_integration(have, "webhook", 1)
    assert not has_integration(have, "webhook", 2)
    assert not has_integration(have, "pagerduty")
    assert not has_integration(frozenset(), None)


def test_a_receiver_without_integrations_and_odd_entries_are_read_safely() -> None:
    assert receiver_integrations({"receivers": [
        {"name": "null"}, {"slack_configs": [{}]}, "text", {"name": "x", "slack_configs": {}}]}) \
        == {"null": frozenset(), "x": frozenset()}
    assert receiver_integrations({}) == {}
