"""``alertdrill.bundled``: where the bundled stacks and features are, and copying one out."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertdrill import bundled
from alertdrill.errors import ConfigError
from alertdrill.settings import resolve_stack_dir
from tests.helpers import ROOT


def test_an_editable_install_reads_the_bundled_data_from_the_checkout() -> None:
    assert bundled.stacks_dir() == ROOT / "stack"
    assert bundled.features_dir() == ROOT / "features"
    assert bundled.docker_dir() == ROOT / "stack" / "docker"


def test_the_bundled_stacks_are_the_directories_with_a_manifest() -> None:
    names = bundled.stack_names()
    assert names == sorted(names)
    assert {"sample", "reference", "seed-001-routing"} <= set(names)
    assert "docker" not in names  # the image recipes, not a stack


def test_a_stack_name_falls_back_to_the_bundled_one_and_a_users_own_wins(tmp_path: Path) -> None:
    assert resolve_stack_dir("sample", [tmp_path]) == ROOT / "stack" / "sample"
    own = tmp_path / "stack" / "sample"
    own.mkdir(parents=True)
    (own / "prometheus.yml").write_text("scrape_configs: []\n")
    assert resolve_stack_dir("sample", [tmp_path]) == own
    with pytest.raises(ConfigError, match="no stack directory 'nope'") as err:
        resolve_stack_dir("nope", [tmp_path])
    assert "bundled: reference, sample, seed-001-routing" in (err.value.hint or "")


def test_copy_example_copies_the_stack_and_points_its_own_features_at_the_copy(tmp_path: Path) -> None:
    out = bundled.copy_example("sample", tmp_path / "project")
    assert out == tmp_path / "project"
    copied = sorted(p.relative_to(out / "stack").as_posix() for p in (out / "stack").rglob("*")
                    if p.is_file())
    original = sorted(p.relative_to(ROOT / "stack" / "sample").as_posix()
                      for p in (ROOT / "stack" / "sample").rglob("*") if p.is_file())
    assert copied == original
    features = sorted(p.name for p in (out / "features").glob("*.feature"))
    assert features == sorted(p.name for p in (ROOT / "features" / "sample").glob("*.feature"))
    text = (out / "features" / "target_down.feature").read_text()
    assert "Given the stack is running" in text and 'the stack "sample"' not in text
    # a step naming another bundled stack keeps naming it
    reference = bundled.copy_example("reference", tmp_path / "ref")
    maintenance = (reference / "features" / "maintenance.feature").read_text()
    assert 'Given the stack "seed-001-routing" is running' in maintenance
    assert 'Given the stack is running' in maintenance and 'the stack "reference"' not in maintenance


def test_copy_example_refuses_a_non_empty_target_and_an_unknown_stack(tmp_path: Path) -> None:
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "prometheus.yml").write_text("mine\n")
    with pytest.raises(ConfigError, match=r"stack already exists and is not empty"):
        bundled.copy_example("sample", tmp_path)
    assert (tmp_path / "stack" / "prometheus.yml").read_text() == "mine\n"
    assert not (tmp_path / "features").exists()
    with pytest.raises(ConfigError, match="no bundled stack 'nope'") as err:
        bundled.copy_example("nope", tmp_path / "other")
    assert "sample" in (err.value.hint or "")
    assert not (tmp_path / "other").exists()
