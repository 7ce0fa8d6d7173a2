"""`alertdrill diff`: what a config change does, computed statically and held against amtool."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from alertdrill.analysis.configdiff import Side, alert_label_sets, diff, run
from alertdrill.errors import ConfigError
from tests.helpers import ROOT

SHOP = ROOT / "examples" / "shop" / "stack"


def _copy(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(SHOP, dest)
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_an_unchanged_config_has_no_change(tmp_path: Path) -> None:
    status, text = run(_copy(tmp_path, "a"), _copy(tmp_path, "b"), None, None, "table", [])
    assert status == 0
    assert text.endswith("no change to routing, timing, inhibitions, rules or time intervals")


def test_a_swapped_receiver_and_a_slower_route_are_named_per_alert(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    _edit(new / "alertmanager.yml", "    - matchers: ['team=\"web\"']\n      receiver: storefront-team",
          "    - matchers: ['team=\"web\"']\n      receiver: payments-team\n      group_wait: 1m")
    _edit(new / "alertmanager.yml", "  group_interval: 5m\n", "  group_interval: 10m\n")
    changes = diff(Side.load(old), Side.load(new))
    lost = [c for c in changes if c.kind == "lost-receiver"]
    gained = [c for c in changes if c.kind == "gained-receiver"]
    assert {c.subject.split("{")[0] for c in lost} == {"ShopServiceDown", "StorefrontSlow"}
    assert all(c.detail == "no longer reaches storefront-team" for c in lost)
    assert all(c.detail == "now reaches payments-team" for c in gained) and len(gained) == 2
    timing = [c for c in changes if c.kind == "timing"]
    assert timing and all("group_interval 5 min → 10 min" in c.detail for c in timing)
    # the critical route kept its group_wait; the moved alerts arrive at a new route: a gain,
    # not a timing change of the old one
    assert not any("group_wait" in c.detail for c in timing)


def test_a_removed_inhibition_and_changed_rules_are_named(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    am = (new / "alertmanager.yml").read_text()
    start = am.index("inhibit_rules:")
    end = am.index("receivers:")
    (new / "alertmanager.yml").write_text(am[:start] + am[end:])
    rules = new / "rules" / "shop.yml"
    text = rules.read_text()
    _edit(rules, "for: 5m", "for: 15m") if "for: 5m" in text else _edit(rules, "for:", "for: 1h #")
    changes = diff(Side.load(old), Side.load(new))
    kinds = {c.kind for c in changes}
    assert "inhibition-lost" in kinds
    (lost,) = [c for c in changes if c.kind == "inhibition-lost"]
    assert lost.subject.startswith("CheckoutErrorRate{")
    assert 'no longer inhibited by ShopServiceDown{' in lost.detail and "payments-gateway" in lost.detail
    assert any(c.kind == "rule-changed" and c.detail.startswith("for: ") for c in changes)


def test_output_formats_and_the_fail_on_gate(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    _edit(new / "alertmanager.yml", "  repeat_interval: 4h\n", "  repeat_interval: 1h\n")
    status, text = run(old, new, None, None, "json", [])
    assert status == 1
    data = json.loads(text)
    assert data["counts"] == {"timing": len(data["changes"])} and data["changes"]
    status, text = run(old, new, None, None, "markdown", ["lost-receiver"])
    assert status == 0  # something changed, but not what the gate is about
    assert text.startswith("**alertdrill diff**") and "| timing |" in text
    with pytest.raises(ConfigError, match="unknown kind lost-reciever"):
        run(old, new, None, None, "table", ["lost-reciever"])


def test_two_git_revisions_of_one_stack(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    stack = _copy(repo, "monitoring")

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
                       cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "one")
    _edit(stack / "alertmanager.yml", "      receiver: payments-team", "      receiver: shop-email")
    git("commit", "-qam", "two")
    status, text = run(None, None, "HEAD~1..HEAD", stack, "table", ["lost-receiver"])
    assert status == 1 and "no longer reaches payments-team" in text
    status, text = run(None, None, "HEAD..", stack, "table", [])
    assert status == 0  # the work tree is HEAD
    with pytest.raises(ConfigError, match=r"is not REV1\.\.REV2"):
        run(None, None, "HEAD", stack, "table", [])


def test_the_static_routing_agrees_with_amtool(tmp_path: Path) -> None:
    """Every routing row the diff computes is what amtool's own router answers."""
    amtool = shutil.which("amtool")
    if amtool is None:
        pytest.skip("amtool is not installed")
    for stack in (SHOP, ROOT / "stack" / "reference", ROOT / "stack" / "sample"):
        side = Side.load(stack)
        spec_am = next(p for p in (stack / "alertmanager.yml",
                                   stack / "alertmanager" / "alertmanager.yml") if p.is_file())
        for labels in alert_label_sets(side, side):
            argv = [amtool, "config", "routes", "test", f"--config.file={spec_am}",
                    *(f"{k}={v}" for k, v in sorted(labels.items()))]
            answer = subprocess.run(argv, capture_output=True, text=True, check=True)
            theirs = set(answer.stdout.strip().split(","))
            assert set(side.routes_of(labels)) == theirs, (stack.name, labels)


def test_the_command_line(tmp_path: Path) -> None:
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    done = subprocess.run([sys.executable, "-m", "alertdrill.cli", "diff", str(old), str(new)],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([sys.executable, "-m", "alertdrill.cli", "diff", str(old)],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 4 and "two stack directories" in done.stderr


def test_a_label_the_rules_compute_is_spread_over_the_values_the_tree_tests(
        tmp_path: Path) -> None:
    """A rule whose severity is templated still reaches the severity="page" route in the
    diff: the unknown label takes every value a tree tests it against (and none)."""
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    for side in (old, new):
        _edit(side / "rules" / "shop.yml", "severity: warning",
              "severity: '{{ if gt $value 2.0 }}page{{ else }}warning{{ end }}'")
    _edit(old / "alertmanager.yml", "  routes:\n",
          "  routes:\n    - matchers: ['severity=\"page\"']\n      receiver: shop-oncall\n")
    _edit(new / "alertmanager.yml", "  routes:\n",
          "  routes:\n    - matchers: ['severity=\"page\"']\n      receiver: payments-team\n")
    changes = diff(Side.load(old), Side.load(new))
    moved = [c for c in changes if c.kind == "lost-receiver" and 'severity="page"' in c.subject]
    assert moved and all("no longer reaches shop-oncall" in c.detail for c in moved), changes
