"""The `alertdrill` command as a user runs it (a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alertdrill.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_scale_prints_the_scaled_copy_and_warns_on_stderr(tmp_path: Path) -> None:
    rules = tmp_path / "r.yml"
    rules.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: rate(x[5m]) > 1\n"
                     "    for: 10m\n  - alert: B\n    expr: time() - y > 60\n    for: 5s\n")
    result = _run("scale", "--time-scale", "60", str(rules))
    assert result.returncode == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    a, b = doc["groups"][0]["rules"]
    assert (a["expr"], a["for"]) == ("rate(x[5s]) > 1", "10s")
    assert b["for"] == "250ms"
    assert "rule 'B': time() is the wall clock" in result.stderr
    assert "rule 'B' for: 5s → 250ms" in result.stderr
    assert rules.read_text().count("10m") == 1, "the user's file is never changed"


def test_scale_writes_a_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run("scale", "-k", "30", "-o", str(out), "stack/sample/alertmanager.yml",
                  "stack/sample/prometheus.yml")
    assert result.returncode == 0, result.stderr
    am = yaml.safe_load((out / "alertmanager.yml").read_text())
    assert am["route"]["group_wait"] == "500ms" and am["route"]["group_interval"] == "2s"
    prom = yaml.safe_load((out / "prometheus.yml").read_text())
    assert prom["global"]["scrape_interval"] == "500ms"


def test_scale_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    bad = tmp_path / "x.yml"
    bad.write_text("just: [a, list\n")
    result = _run("scale", str(bad))
    assert result.returncode == 4  # a usage error: the user's file
    assert result.stderr.startswith("alertdrill: x.yml is not valid YAML at")
    assert "Traceback" not in result.stderr


def test_steps_lists_every_step_with_an_example() -> None:
    result = _run("steps")
    assert result.returncode == 0
    assert 'When the service "web" is stopped' in result.stdout
    assert "pattern: " in result.stdout
