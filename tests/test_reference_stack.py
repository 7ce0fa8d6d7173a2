"""The reference stack's configs pass the real tools, and its rule tests hold at K=60 too."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from alertdrill.backends.binaries import find_binary
from alertdrill.engine.timescale import TimeScale, scale_promtool_test, scale_rule_file
from alertdrill.yamlio import dump_yaml, load_yaml
from tests.helpers import ROOT

REFERENCE = ROOT / "stack" / "reference"
RULES = sorted((REFERENCE / "prometheus" / "rules").glob("*.yml"))
TESTS = sorted((REFERENCE / "prometheus" / "tests").glob("*.test.yml"))
AMTOOL_ROUTES = [
    # labels → receivers Alertmanager's own router picks (amtool config routes test)
    ("alertname=WebAppDown severity=critical team=development tier=frontend escalation=immediate",
     "dev-critical,executive-escalation"),
    ("alertname=APISlowResponse severity=warning team=development tier=backend", "dev-backend"),
    ("alertname=PostgreSQLDown severity=critical team=dba escalation=immediate",
     "dba-critical,executive-escalation"),
    ("alertname=DiskSpaceLow severity=critical team=operations category=resource", "ops-critical"),
    ("alertname=CertificadoProximoExpirar severity=critical team=cartorio", "cartorio-oncall"),
    ("alertname=X severity=warning team=development maintenance=true", "maintenance-receiver"),
    ("alertname=Unowned severity=info", "default-receiver"),
    # Copies re-posted by the escalation service go to their level's receiver only.
    ("alertname=WebAppDown severity=critical team=development escalation=level-2",
     "escalation-level-2"),
    ("alertname=WebAppDown severity=critical team=development escalation=level-3",
     "escalation-level-3"),
    ("alertname=PostgreSQLDown severity=critical team=dba escalation=executive",
     "executive-escalation"),
]


def _run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def test_every_rule_file_has_a_unit_test_file() -> None:
    assert {r.stem for r in RULES} == {t.name.removesuffix(".test.yml") for t in TESTS}


def test_rules_pass_promtool_check() -> None:
    result = _run(find_binary("promtool"), "check", "rules", *map(str, RULES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", TESTS, ids=[t.name for t in TESTS])
def test_rule_unit_tests_pass(test_file: Path) -> None:
    result = _run(find_binary("promtool"), "test", "rules", test_file.name, cwd=test_file.parent)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", TESTS, ids=[t.name for t in TESTS])
def test_rule_unit_tests_pass_scaled(test_file: Path, tmp_path: Path) -> None:
    """Same verdicts with rules and tests both at K=60: the scaling keeps their meaning."""
    scale = TimeScale(60, 0.25)
    test_doc = load_yaml(test_file, test_file.name)
    (tmp_path / "rules").mkdir()
    for rule_file in test_doc["rule_files"]:
        source = (test_file.parent / rule_file).resolve()
        scaled = scale_rule_file(load_yaml(source, source.name), scale)
        (tmp_path / "rules" / source.name).write_text(dump_yaml(scaled.doc))
    scaled_test = scale_promtool_test(test_doc, scale).doc
    scaled_test["rule_files"] = [f"rules/{Path(r).name}" for r in test_doc["rule_files"]]
    (tmp_path / "test.yml").write_text(dump_yaml(scaled_test))
    result = _run(find_binary("promtool"), "test", "rules", "test.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alertmanager_config_passes_amtool() -> None:
    config = REFERENCE / "alertmanager" / "alertmanager.yml"
    result = _run(find_binary("amtool"), "check-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("labels", "receivers"), AMTOOL_ROUTES)
def test_routing_tree_sends_each_alert_where_the_seed_intends(labels: str, receivers: str) -> None:
    config = REFERENCE / "alertmanager" / "alertmanager.yml"
    result = _run(find_binary("amtool"), "config", "routes", "test",
                  f"--config.file={config}", *labels.split())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receivers


def test_prometheus_config_passes_promtool() -> None:
    result = _run(find_binary("promtool"), "check", "config",
                  str(REFERENCE / "prometheus" / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
