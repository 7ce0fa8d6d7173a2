"""Shards across machines: ``--shard I/N`` runs a deterministic, duration-balanced part of the
scenarios, and ``alertdrill report --from DIR …`` merges what every shard wrote.

Every shard computes the same assignment from the same inputs — the collected scenarios, sorted,
and the durations earlier records give them — so N machines that run ``--shard 1/N`` … ``N/N``
run each scenario exactly once with no coordination. Durations balance the shards when they
are known (longest first, each to the least loaded shard); without records every scenario
counts the same, which balances the counts.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from alertdrill.errors import ConfigError
from alertdrill.report.records import latest_records

#: The weight of a scenario no earlier record knows (any constant balances by count).
UNKNOWN_SECONDS = 1.0


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` → ``(2, 3)``; anything else is a usage error."""
    index, sep, total = text.partition("/")
    try:
        i, n = int(index), int(total)
    except ValueError:
        i = n = 0
    if not sep or not 1 <= i <= n:
        raise ConfigError(f"--shard {text!r} is not I/N with 1 ≤ I ≤ N",
                          "e.g. --shard 1/3, --shard 2/3 and --shard 3/3 on three machines")
    return i, n


def scenario_key(nodeid: str) -> str:
    """What identifies a scenario across runners (``pytest features`` or ``alertdrill run``
    bind it in differently named modules): its test function's name."""
    return nodeid.rsplit("::", 1)[-1]


def durations_from(directories: Iterable[Path]) -> dict[str, float]:
    """Seconds each scenario took in the records found in ``directories`` (the latest wins)."""
    latest = latest_records(directories, lambda r: scenario_key(str(r.get("nodeid", ""))),
                            keep=lambda r: r.get("duration") is not None)
    return {key: float(record["duration"]) for key, record in latest.items()}


def assign(nodeids: Sequence[str], total: int,
           durations: Mapping[str, float]) -> list[list[str]]:
    """The scenarios of each of ``total`` shards: longest first, each to the least loaded
    shard (ties: the lower shard), from the sorted node ids — the same answer everywhere."""
    known = [durations.get(scenario_key(n), UNKNOWN_SECONDS) for n in nodeids]
    order = sorted(range(len(nodeids)), key=lambda i: (-known[i], nodeids[i]))
    shards: list[list[str]] = [[] for _ in range(total)]
    load = [0.0] * total
    for i in order:
        target = min(range(total), key=lambda s: (load[s], s))
        shards[target].append(nodeids[i])
        load[target] += known[i]
    return [sorted(shard) for shard in shards]


def select(nodeids: Sequence[str], shard: str, durations: Mapping[str, float]) -> set[str]:
    """The node ids shard ``I/N`` runs."""
    index, total = parse_shard(shard)
    return set(assign(sorted(nodeids), total, durations)[index - 1])


# -- merging what the shards wrote ---------------------------------------------------------------
def merge_runs(sources: Sequence[Path], out: Path) -> Path:
    """Put every shard's run outputs (each a report dir: ``drill/`` records, ``junit.xml``,
    ``allure-results/``) into ``out`` as one run's; returns the merged records directory.

    A source that is a records directory itself (``*.json`` in it, no ``drill/``) is taken
    as such.
    """
    records = out / "drill"
    records.mkdir(parents=True, exist_ok=True)
    allure = out / "allure-results"
    suites: list[ET.Element] = []
    for source in sources:
        if not source.is_dir():
            raise ConfigError(f"--from {source}: no such directory",
                              "give each shard's report directory (or its drill/ records)")
        run_dir = source if (source / "drill").is_dir() else None
        for record in sorted((run_dir / "drill" if run_dir else source).glob("*.json")):
            shutil.copy2(record, records / record.name)
        if run_dir is None:
            continue
        junit = run_dir / "junit.xml"
        if junit.is_file():
            root = ET.parse(junit).getroot()
            suites += list(root.iter("testsuite")) if root.tag == "testsuites" else [root]
        if (run_dir / "allure-results").is_dir():
            allure.mkdir(exist_ok=True)
            for item in (run_dir / "allure-results").iterdir():
                shutil.copy2(item, allure / item.name)
    if suites:
        _write_junit(suites, out / "junit.xml")
    return records


def _write_junit(suites: list[ET.Element], path: Path) -> None:
    merged = ET.Element("testsuites")
    for key in ("tests", "failures", "errors", "skipped"):
        merged.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    merged.set("time", f"{sum(float(s.get('time', '0')) for s in suites):.3f}")
    for suite in suites:
        merged.append(suite)
    ET.ElementTree(merged).write(path, encoding="utf-8", xml_declaration=True)
