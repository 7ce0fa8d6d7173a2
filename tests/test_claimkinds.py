"""Claim kinds are one enum: every kind Expect can emit is declared, and lands in the right
row of the drill report's SLA table (or in none: counts, absences, bounds, routing)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import alertdrill.engine.expect
import alertdrill.engine.expect_content
from alertdrill.engine.claimkinds import ClaimKind
from alertdrill.report import sla_rows


def _emitted() -> set[str]:
    found = set()
    for module in (alertdrill.engine.expect, alertdrill.engine.expect_content):
        found |= _emitted_by(Path(str(module.__file__)))
    return found


def _emitted_by(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "_claim" and node.args):
            first = node.args[0]
            assert isinstance(first, ast.Attribute), ast.unparse(node)  # never a bare string
            found.add(first.attr)
    return found


def test_the_enum_is_exactly_what_expect_emits() -> None:
    assert _emitted() == {kind.name for kind in ClaimKind}


#: Each kind, with the fields that decide its row, and the SLA row it must land in.
CASES = {
    ClaimKind.ALERT_STATE: ({"state": "firing", "alertname": "A"}, "detect"),
    ClaimKind.SUPPRESSED: ({"alertname": "A", "how": "inhibited"}, "suppress"),
    ClaimKind.ROUTED: ({"alertname": "A"}, None),
    ClaimKind.NOTIFIED: ({"receiver": "team", "alertname": "A", "status": "firing"}, "notify"),
    ClaimKind.NOTIFIED_NOT_BEFORE: ({"receiver": "team", "alertname": "A"}, None),
    ClaimKind.NOTIFIED_AT_LEAST: ({"receiver": "team", "alertname": "A"}, None),
    ClaimKind.NEVER_NOTIFIED: ({"receiver": "team", "alertname": "A"}, None),
    ClaimKind.NOTIFIED_EXACTLY: ({"receiver": "team", "alertname": "A", "count": 1,
                                  "expected_count": 1}, "notify"),
    ClaimKind.ONLY_RECEIVERS: ({"alertname": "A", "receivers": ["team"]}, None),
    ClaimKind.ROUTING_TABLE: ({}, None),
    ClaimKind.DELIVERY_TABLE: ({}, None),
    ClaimKind.INHIBITION_TABLE: ({}, None),
    ClaimKind.PER_GROUP: ({"alertname": "A"}, None),
    ClaimKind.REPEATS: ({"receiver": "team", "alertname": "A"}, None),
    ClaimKind.EVENTUALLY: ({}, None),
    ClaimKind.NOTIFICATION_FIELD: ({"receiver": "team", "alertname": "A", "status": "firing",
                                    "field": "subject"}, None),
    ClaimKind.NOTIFICATION_ALERTS: ({"receiver": "team", "alertname": "A", "status": "firing",
                                     "rows": 2}, None),
}


def test_every_kind_has_a_case() -> None:
    assert set(CASES) == set(ClaimKind)


@pytest.mark.parametrize("kind", list(ClaimKind))
def test_each_kind_lands_in_its_sla_row(kind: ClaimKind) -> None:
    fields, phase = CASES[kind]
    claim = {"claim": str(kind), "passed": True, "window_start": 1.0, "matched_t": 2.0,
             "sla_real": 60.0, "sla_measured": 1.0, "tolerance": 0.5, "text": "x", **fields}
    record = {"claims": [claim], "notifications": [], "stacks": [{"timeline": []}],
              "time_scale": 60.0}
    rows = [r for r in sla_rows(record) if r.verdict != "no claim"]
    assert [r.phase for r in rows] == ([phase] if phase else []), rows


def test_resolved_and_escalation_notifications_have_their_own_rows() -> None:
    base = {"claim": "notified", "passed": True, "window_start": 1.0, "matched_t": 2.0,
            "alertname": "A"}
    record = {"claims": [{**base, "receiver": "team", "status": "resolved"},
                         {**base, "receiver": "escalation-level-2", "status": "firing"},
                         {**base, "claim": "alert_state", "state": "inactive"}],
              "notifications": [], "stacks": [{"timeline": []}], "time_scale": 60.0}
    assert sorted(r.phase for r in sla_rows(record) if r.verdict != "no claim") == \
        ["escalate", "resolve", "resolve"]
