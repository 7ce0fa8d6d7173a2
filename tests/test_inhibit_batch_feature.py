"""Bind tests/features/inhibit_batch.feature: Alertmanager's inhibition semantics on a real peer,
and show that the scenario fails when the stack's inhibit rule is gone."""

import shutil
from pathlib import Path

import pytest
from pytest_bdd import scenarios

from tests.helpers import ROOT, run_pytest

scenarios("features/inhibit_batch.feature")


@pytest.mark.slow
def test_without_the_inhibit_rule_the_hidden_alert_is_sent_as_firing(tmp_path: Path) -> None:
    """The same feature on a copy of the stack without its inhibit rule must fail, at the
    claim that the first notification holds the inhibitor alone."""
    shutil.copytree(ROOT / "tests" / "data" / "inhibit-batch", tmp_path / "data" / "inhibit-batch")
    config = tmp_path / "data" / "inhibit-batch" / "alertmanager.yml"
    text = config.read_text()
    rule = text[text.index("inhibit_rules:"):text.index("receivers:")]
    config.write_text(text.replace(rule, ""))
    (tmp_path / "features").mkdir()
    shutil.copy(ROOT / "tests" / "features" / "inhibit_batch.feature", tmp_path / "features")
    (tmp_path / "test_f.py").write_text(
        "from pytest_bdd import scenarios\n"
        f"scenarios({str(tmp_path / 'features' / 'inhibit_batch.feature')!r})\n")
    result = run_pytest([str(tmp_path / "test_f.py"), "-x", "-q", "--rootdir", str(ROOT), "-c",
                         str(ROOT / "pyproject.toml")], env={}, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out[-3000:]
    failed = next((ln for ln in out.splitlines() if ln.startswith("step: ")), "")
    assert 'gets a firing notification via webhook of "ServiceDown" holding exactly' in failed, \
        out[-3000:]
    assert "alerts no row describes: {alertname=ServiceSlow" in out, out[-3000:]
