"""Time scaling on rules nobody here wrote (awesome-prometheus-alerts, CC BY 4.0).

For every file: the scaled copy passes `promtool check rules`; for every rule, each duration in
the scaled copy — parsed independently by the real PromQL parser — is the original divided by
K (or the floor, with a clamp warning); and every warning is accounted for.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest

from alertdrill.analysis.promql import UNSCALABLE_FUNCTIONS, durations_of
from alertdrill.backends.binaries import find_binary
from alertdrill.durations import parse_duration
from alertdrill.engine.timescale import TimeScale, scale_rule_file
from alertdrill.yamlio import dump_yaml, load_yaml

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "awesome-prometheus-alerts"
FILES = sorted(CORPUS.rglob("*.yml")) if CORPUS.is_dir() else []
K = 60.0

pytestmark = pytest.mark.skipif(not FILES, reason=f"corpus not found at {CORPUS}")


def _expected(seconds: float, floor: float, kind: str) -> tuple[float, bool]:
    if seconds == 0 or kind == "offset":
        return round(seconds / K, 3), False
    scaled = round(seconds / K, 3)
    return (floor, True) if scaled < floor else (scaled, False)


def _time_functions(expr: str) -> set[str]:
    """Found independently of the scaler: function names by parser walk."""
    import promql_parser as pp

    found: set[str] = set()

    def visit(node: object) -> bool:
        if type(node).__name__ == "Call" and node.func.name in UNSCALABLE_FUNCTIONS:  # type: ignore[attr-defined]
            found.add(node.func.name)  # type: ignore[attr-defined]
        if getattr(node, "at", None) is not None:
            found.add("@")
        return True

    pp.walk(pp.parse(expr), visit, None)
    return found


@pytest.mark.parametrize("floor", [0.25, 0.0])
@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_corpus_file_scales_exactly_and_stays_valid(path: Path, floor: float,
                                                     tmp_path: Path) -> None:
    original = load_yaml(path, path.name)
    result = scale_rule_file(original, TimeScale(K, floor))

    out = tmp_path / path.name
    out.write_text(dump_yaml(result.doc))
    check = subprocess.run([find_binary("promtool"), "check", "rules", str(out)],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr

    accounted = 0
    for group, scaled_group in zip(original["groups"], result.doc["groups"], strict=True):
        for rule, scaled_rule in zip(group["rules"], scaled_group["rules"], strict=True):
            name = rule.get("alert") or rule.get("record")
            mine = [w for w in result.warnings if f"rule {name!r}" in w]
            clamps = 0
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    want, clamped = _expected(parse_duration(str(rule[key])), floor, key)
                    assert parse_duration(str(scaled_rule[key])) == pytest.approx(want), key
                    clamps += clamped
            before = durations_of(str(rule["expr"]))  # raises if the parser cannot read it
            after = durations_of(str(scaled_rule["expr"]))
            wanted = Counter()
            for kind, seconds in before:
                value, clamped = _expected(seconds, floor, kind)
                wanted[(kind, value)] += 1
                clamps += clamped
            assert Counter((k, round(s, 3)) for k, s in after) == wanted, rule["expr"]
            constructs = _time_functions(str(rule["expr"]))
            assert len(mine) == clamps + len(constructs), (name, mine, constructs)
            accounted += len(mine)
    assert accounted == len(result.warnings), "every warning belongs to a rule"
    if floor == 0.0:
        assert not any(c.clamped for c in result.changes)
