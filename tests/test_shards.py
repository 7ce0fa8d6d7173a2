"""Shards across machines: each scenario runs in exactly one shard, the split is the same on
every machine and balanced by earlier durations; the shards' outputs merge into one run's."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from alertdrill.engine.shards import assign, durations_from, merge_runs, parse_shard, select
from alertdrill.errors import ConfigError
from tests.helpers import ROOT

IDS = [f"features/test_x.py::test_scenario_{i:02d}" for i in range(11)]


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "2/0", ""])
def test_a_shard_is_i_of_n(text: str) -> None:
    with pytest.raises(ConfigError, match="is not I/N"):
        parse_shard(text)
    assert parse_shard("3/3") == (3, 3)


@pytest.mark.parametrize("total", [1, 2, 3, 5, 11, 14])
def test_every_scenario_runs_in_exactly_one_shard(total: int) -> None:
    shards = assign(IDS, total, {})
    flat = [n for shard in shards for n in shard]
    assert sorted(flat) == sorted(IDS)  # each once, none lost
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1  # no durations: even counts


def test_the_split_is_the_same_whatever_order_a_machine_collected_in() -> None:
    durations = {"test_scenario_03": 40.0, "test_scenario_07": 25.0}
    one = [select(IDS, f"{i}/3", durations) for i in (1, 2, 3)]
    two = [select(list(reversed(IDS)), f"{i}/3", durations) for i in (1, 2, 3)]
    assert one == two


def test_durations_balance_the_shards() -> None:
    durations = {f"test_scenario_{i:02d}": float(s) for i, s in
                 enumerate([60, 10, 10, 10, 10, 10, 10, 5, 5, 5, 5])}
    shards = assign(IDS, 2, durations)
    loads = [sum(durations[n.rsplit("::", 1)[1]] for n in shard) for shard in shards]
    assert abs(loads[0] - loads[1]) <= 10, loads  # greedy longest-first: within one scenario
    assert any(n.endswith("test_scenario_00") for n in shards[0])  # the longest first


def test_durations_come_from_earlier_records(tmp_path: Path) -> None:
    for name, started, seconds in (("a", "2026-01-01T00:00:00", 12.0),
                                   ("b", "2026-01-02T00:00:00", 30.0)):
        (tmp_path / f"{name}.json").write_text(json.dumps(
            {"nodeid": "features/test_bundled.py::test_scenario_01", "started": started,
             "duration": seconds}))
    (tmp_path / "broken.json").write_text("{")
    assert durations_from([tmp_path]) == {"test_scenario_01": 30.0}  # the latest wins


def _run_dir(root: Path, name: str, tests: int, failures: int) -> Path:
    run = root / name
    (run / "drill").mkdir(parents=True)
    (run / "allure-results").mkdir()
    (run / "drill" / f"{name}.json").write_text("{}")
    (run / "allure-results" / f"{name}-result.json").write_text("{}")
    suite = ET.Element("testsuite", tests=str(tests), failures=str(failures), errors="0",
                       skipped="0", time="1.5")
    root_el = ET.Element("testsuites")
    root_el.append(suite)
    ET.ElementTree(root_el).write(run / "junit.xml")
    return run


def test_the_shards_outputs_merge_into_one_run(tmp_path: Path) -> None:
    first, second = _run_dir(tmp_path, "s1", 3, 1), _run_dir(tmp_path, "s2", 2, 0)
    out = tmp_path / "merged"
    records = merge_runs([first, second], out)
    assert sorted(p.name for p in records.iterdir()) == ["s1.json", "s2.json"]
    assert sorted(p.name for p in (out / "allure-results").iterdir()) == \
        ["s1-result.json", "s2-result.json"]
    merged = ET.parse(out / "junit.xml").getroot()
    assert (merged.get("tests"), merged.get("failures")) == ("5", "1")
    assert len(list(merged.iter("testsuite"))) == 2


def test_pytest_collects_disjoint_shards_that_cover_the_suite() -> None:
    """Through the plugin, as pytest-xdist workers and CI machines collect."""
    def collected(*extra: str) -> set[str]:
        done = subprocess.run([sys.executable, "-m", "pytest", "features", "--collect-only",
                               "-q", "-p", "no:cacheprovider", *extra], cwd=ROOT,
                              capture_output=True, text=True, check=False, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return {line for line in done.stdout.splitlines() if "::" in line}

    everything = collected()
    parts = [collected(f"--shard={i}/3", "--report-dir=/nonexistent-records") for i in (1, 2, 3)]
    assert set().union(*parts) == everything
    assert sum(len(p) for p in parts) == len(everything)  # disjoint
    done = subprocess.run([sys.executable, "-m", "pytest", "features", "--collect-only", "-q",
                           "-p", "no:cacheprovider", "--shard=4/3"], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 4 and "is not I/N" in done.stderr + done.stdout


@pytest.mark.slow
def test_two_shards_merged_report_what_one_run_reports(tmp_path: Path) -> None:
    feature = ROOT / "features" / "sample" / "routing.feature"

    def run(report_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "alertdrill.cli", "run", str(feature),
                               "--report-dir", str(report_dir), *extra], cwd=tmp_path,
                              capture_output=True, text=True, check=False, timeout=600)

    single = run(tmp_path / "single")
    assert single.returncode == 0, single.stdout + single.stderr
    shards = [run(tmp_path / f"shard{i}", f"--shard={i}/2") for i in (1, 2)]
    assert all(s.returncode in (0, 5) for s in shards), [s.stdout for s in shards]
    merged = subprocess.run([sys.executable, "-m", "alertdrill.cli", "report",
                             "--from", str(tmp_path / "shard1"), "--from", str(tmp_path / "shard2"),
                             "--out", str(tmp_path / "merged")], capture_output=True, text=True,
                            check=False, timeout=120)
    assert merged.returncode == 0, merged.stderr

    def counts(directory: Path) -> tuple[str, ...]:
        root = ET.parse(directory / "junit.xml").getroot()
        suites = list(root.iter("testsuite"))
        names = sorted(c.get("name", "") for s in suites for c in s.iter("testcase"))
        totals = tuple(str(sum(int(s.get(k, "0")) for s in suites))
                       for k in ("tests", "failures", "errors", "skipped"))
        return (*totals, *names)

    assert counts(tmp_path / "merged") == counts(tmp_path / "single")
    def headline(directory: Path) -> str:
        text = (directory / "drill-report.md").read_text()
        return next(line for line in text.splitlines() if line.startswith("**"))

    assert headline(tmp_path / "merged") == headline(tmp_path / "single")
