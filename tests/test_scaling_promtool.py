"""The same `promtool test rules` verdicts before and after scaling rules *and* their tests.

If scaling changed what a rule means, a unit test written for the real-world rule would give
different alerts once both are scaled. Each case runs promtool on the original pair (it must
pass, or the case proves nothing), then on the pair scaled at K=60, which must pass too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from alertdrill.backends.binaries import find_binary
from alertdrill.engine.timescale import TimeScale, scale_promtool_test, scale_rule_file
from alertdrill.yamlio import dump_yaml, load_yaml

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "awesome-prometheus-alerts"

OWN_RULES = {"groups": [{"name": "svc", "interval": "1m", "rules": [
    {"alert": "HighErrorRatio",
     "expr": 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05',
     "for": "5m", "labels": {"severity": "critical"}},
    {"alert": "ServiceDown", "expr": "up == 0", "for": "2m", "labels": {"severity": "page"}},
]}]}
OWN_TEST = {"evaluation_interval": "1m", "tests": [{
    "interval": "1m",
    "input_series": [
        {"series": 'http_requests_total{code="200"}', "values": "0+100x30"},
        {"series": 'http_requests_total{code="500"}', "values": "0+1x10 10+20x20"},
        {"series": 'up{job="api"}', "values": "1x5 0x10 1x15"},
    ],
    "alert_rule_test": [
        {"eval_time": "8m", "alertname": "HighErrorRatio", "exp_alerts": []},
        {"eval_time": "20m", "alertname": "HighErrorRatio",
         "exp_alerts": [{"exp_labels": {"severity": "critical"}}]},
        {"eval_time": "6m", "alertname": "ServiceDown", "exp_alerts": []},
        {"eval_time": "9m", "alertname": "ServiceDown",
         "exp_alerts": [{"exp_labels": {"severity": "page", "job": "api"}}]},
        {"eval_time": "25m", "alertname": "ServiceDown", "exp_alerts": []},
    ],
}]}


def _corpus_rules(file: str, names: set[str]) -> dict:
    doc = load_yaml(CORPUS / file, file)
    rules = [dict(r) for g in doc["groups"] for r in g["rules"] if r.get("alert") in names]
    for rule in rules:
        rule.pop("annotations", None)  # their $value text is not what this test is about
    return {"groups": [{"name": "corpus", "rules": rules}]}


def _corpus_case() -> tuple[dict, dict]:
    rules = _corpus_rules("host-and-hardware/node-exporter.yml", {"HostOutOfMemory"})
    rules["groups"][0]["rules"] += _corpus_rules("postgresql/postgres-exporter.yml",
                                                 {"PostgresqlDown"})["groups"][0]["rules"]
    rules["groups"][0]["rules"] += _corpus_rules(
        "prometheus-self-monitoring/embedded-exporter.yml",
        {"PrometheusTargetMissing"})["groups"][0]["rules"]
    test = {"evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [
            {"series": 'node_memory_MemAvailable_bytes{instance="n"}', "values": "500x3 50x10"},
            {"series": 'node_memory_MemTotal_bytes{instance="n"}', "values": "1000x13"},
            {"series": 'pg_up{instance="db"}', "values": "1x2 0x5 1x5"},
            {"series": 'up{job="a",instance="x"}', "values": "1x2 0x6"},
            {"series": 'up{job="a",instance="y"}', "values": "1x8"},
        ],
        "alert_rule_test": [
            {"eval_time": "4m", "alertname": "HostOutOfMemory", "exp_alerts": []},
            {"eval_time": "6m", "alertname": "HostOutOfMemory",
             "exp_alerts": [{"exp_labels": {"severity": "warning", "instance": "n"}}]},
            {"eval_time": "3m", "alertname": "PostgresqlDown", "exp_alerts": []},
            {"eval_time": "5m", "alertname": "PostgresqlDown",
             "exp_alerts": [{"exp_labels": {"severity": "critical", "instance": "db"}}]},
            {"eval_time": "10m", "alertname": "PostgresqlDown", "exp_alerts": []},
            {"eval_time": "5m", "alertname": "PrometheusTargetMissing",
             "exp_alerts": [{"exp_labels": {"severity": "critical", "job": "a",
                                             "instance": "x"}}]},
        ],
    }]}
    return rules, test


def _promtool_test(directory: Path, rules: dict, test: dict) -> subprocess.CompletedProcess[str]:
    directory.mkdir()
    (directory / "rules.yml").write_text(dump_yaml(rules))
    (directory / "test.yml").write_text(dump_yaml({**test, "rule_files": ["rules.yml"]}))
    return subprocess.run([find_binary("promtool"), "test", "rules", "test.yml"],
                          cwd=directory, capture_output=True, text=True, check=False)


CASES = {"own": lambda: (OWN_RULES, OWN_TEST)}
if CORPUS.is_dir():
    CASES["corpus"] = _corpus_case


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("factor", [60.0, 120.0])
def test_scaled_rules_pass_their_scaled_unit_tests(case: str, factor: float,
                                                   tmp_path: Path) -> None:
    rules, test = CASES[case]()
    original = _promtool_test(tmp_path / "original", rules, test)
    assert original.returncode == 0, "the original must pass:\n" + original.stdout + original.stderr
    scale = TimeScale(factor, 0.25)
    scaled_rules = scale_rule_file(rules, scale)
    scaled_test = scale_promtool_test(test, scale)
    assert not any(c.clamped for c in scaled_rules.changes + scaled_test.changes), \
        "a clamp would change the meaning; pick durations above the floor"
    scaled = _promtool_test(tmp_path / "scaled", scaled_rules.doc, scaled_test.doc)
    assert scaled.returncode == 0, scaled.stdout + scaled.stderr


def test_a_broken_scaling_would_be_caught(tmp_path: Path) -> None:
    """The check can fail: scale the rules but not the test, and promtool disagrees."""
    scaled_rules = scale_rule_file(OWN_RULES, TimeScale(60, 0.25))
    result = _promtool_test(tmp_path / "half", scaled_rules.doc, OWN_TEST)
    assert result.returncode != 0
