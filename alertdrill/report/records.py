"""Per-scenario result records: one JSON file per scenario, what the drill report is built from.

A record holds everything a debrief needs without the stack: the feature and scenario, tags,
outcome and failure message, the time scale and tolerance, each step with its outcome and its
time on the timeline, the whole timeline, and three digests of it — the claims (every Then-step's
verdict, window, SLA and measured latency), every notification in arrival order (receiver,
integration, status, answer), and what Alertmanager held back (inhibited or silenced, and by
what). Records pass through :class:`alertdrill.report.redact.Redactor` before they are written.

Records of one pytest run replace those of the previous run in the same directory: each record
carries its run's key, and the first record a process writes removes the records of *other*
runs there (see :func:`write_record`) — so the workers of one parallel run (pytest-xdist, which
gives them one run id) never delete each other's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alertdrill.backends.process import run_id
from alertdrill.engine import timeline as tl
from alertdrill.errors import AlertdrillError, ExpectationFailed
from alertdrill.report.redact import Redactor, secrets_of_files
from alertdrill.settings import Settings

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

SCHEMA = "alertdrill.engine.scenario-record/1"
#: Outcomes a record can have.
OUTCOMES = ("passed", "failed", "error", "skipped")

_RUN_STARTED = time.time()
_replaced: set[Path] = set()
#: One key per run: pytest-xdist's run id (shared by its workers), else one per process.
RUN_KEY = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"{os.getpid()}-{time.time_ns()}"


@dataclass
class StepInfo:
    """One Gherkin step as it ran: ``started``/``ended`` are ``time.monotonic()`` readings."""

    keyword: str
    name: str
    line: int
    outcome: str = "not run"
    started: float | None = None
    ended: float | None = None


@dataclass
class ScenarioInfo:
    """What pytest and pytest-bdd know of one scenario when it ends."""

    nodeid: str
    feature_name: str
    feature_file: str
    scenario_name: str
    line: int = 0
    tags: list[str] = field(default_factory=list)
    outcome: str = "passed"
    message: str | None = None
    failed_step: str | None = None
    steps: list[StepInfo] = field(default_factory=list)
    started_wall: float = field(default_factory=time.time)
    started_monotonic: float = field(default_factory=time.monotonic)
    duration: float | None = None


def safe_id(feature_file: str, scenario_name: str, nodeid: str) -> str:
    """A file-name-safe, readable and unique id: ``<feature>--<scenario>-<hash of the node id>``."""
    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")

    stem = slug(Path(feature_file).with_suffix("").as_posix())
    name = f"{stem}--{slug(scenario_name)}"[:90].rstrip("-")
    return f"{name}-{hashlib.sha1(nodeid.encode()).hexdigest()[:8]}"


def resolve_report_dir(settings: Settings, rootpath: Path) -> Path:
    """The records' directory: the setting (relative to the working directory) or the default."""
    if settings.report_dir:
        return Path(settings.report_dir).expanduser().resolve()
    return Path(rootpath) / "reports" / "drill"


# -- what pytest knows ------------------------------------------------------------------------
def scenario_info(item: Any) -> ScenarioInfo | None:
    """The scenario of a pytest item, from what the alertdrill plugin stashed on it; None if the
    item is not a pytest-bdd scenario."""
    bdd = getattr(item, "_alertdrill_bdd", None)
    if bdd is None:
        return None
    feature, scenario = bdd
    outcome, message = _outcome(item)
    ran: list[dict[str, Any]] = list(getattr(item, "_alertdrill_steps", []))
    steps = []
    for index, step in enumerate(scenario.steps):
        info = StepInfo(step.keyword, step.name, int(step.line_number))
        if index < len(ran):
            info.outcome = ran[index]["outcome"]
            info.started, info.ended = ran[index]["started"], ran[index].get("ended")
        steps.append(info)
    started_wall, started_mono = getattr(item, "_alertdrill_started", (time.time(),
                                                                         time.monotonic()))
    tags = sorted(set(getattr(feature, "tags", ()) or ()) | set(getattr(scenario, "tags", ()) or ()))
    return ScenarioInfo(
        nodeid=item.nodeid, feature_name=feature.name, feature_file=feature.rel_filename,
        scenario_name=scenario.name, line=int(scenario.line_number), tags=tags,
        outcome=outcome, message=message,
        failed_step=getattr(item, "_alertdrill_failed_step", None), steps=steps,
        started_wall=started_wall, started_monotonic=started_mono,
        duration=time.monotonic() - started_mono)


def _outcome(item: Any) -> tuple[str, str | None]:
    reports: dict[str, Any] = getattr(item, "_alertdrill_reports", {})
    excinfo = getattr(item, "_alertdrill_excinfo", None)
    setup, call = reports.get("setup"), reports.get("call")
    if (setup is not None and setup.skipped) or (call is not None and call.skipped):
        return "skipped", None
    failed = (setup is not None and setup.failed) or (call is not None and call.failed)
    if call is None and not failed:
        return "error", "the scenario did not run"
    if not failed:
        return "passed", None
    exc = excinfo.value if excinfo is not None else None
    if exc is None:
        return "error", str(getattr(call or setup, "longreprtext", "") or "") or None
    kind = "failed" if isinstance(exc, (ExpectationFailed, AssertionError)) else "error"
    if isinstance(exc, AlertdrillError):
        text = str(exc) if isinstance(exc, ExpectationFailed) else f"{type(exc).__name__}: {exc}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return kind, text


# -- the record ---------------------------------------------------------------------------------
def build_record(info: ScenarioInfo, settings: Settings, drills: Sequence[Any] = (),
                 secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The redacted JSON record of one scenario and the stacks (``Drill``) it ran."""
    stacks = []
    config_files: list[Path] = []
    secrets = set(secrets)
    for drill in drills:
        own = getattr(drill.stack, "secrets", None)  # an external stack's credentials
        if callable(own):
            secrets |= set(own())
        spec = getattr(drill.stack, "spec", None)
        if spec is not None:
            config_files += [spec.alertmanager_config, spec.prometheus_config]
        timeline_json = drill.timeline.to_json()
        stacks.append({
            "name": spec.name if spec is not None else "stack",
            "wall_base": _iso(drill.timeline.wall_base),
            "startup": {k: round(v, 3) for k, v in getattr(drill.stack, "startup", {}).items()},
            "warnings": list(getattr(drill.stack, "warnings", [])),
            "timeline": timeline_json,
            **_observed(drill),
        })
        if settings.keep_workdir:  # where its logs and rendered configs were kept
            stacks[-1]["workdir"] = str(drill.stack.workdir)
    first = drills[0].timeline if drills else None
    steps = []
    for step in info.steps:
        entry: dict[str, Any] = {"keyword": step.keyword, "name": step.name, "line": step.line,
                                 "outcome": step.outcome}
        if first is not None and step.started is not None:
            entry["t_start"] = round(first.at_monotonic(step.started), 4)
            if step.ended is not None:
                entry["t_end"] = round(first.at_monotonic(step.ended), 4)
        steps.append(entry)
    events = stacks[0]["timeline"] if stacks else []
    record = {
        "schema": SCHEMA,
        "run_key": RUN_KEY,
        "run": {"id": run_id(), "started": _iso(_RUN_STARTED)},
        "id": safe_id(info.feature_file, info.scenario_name, info.nodeid),
        "nodeid": info.nodeid,
        "feature": {"name": info.feature_name, "file": info.feature_file},
        "scenario": {"name": info.scenario_name, "line": info.line},
        "tags": info.tags,
        "outcome": info.outcome,
        "message": info.message,
        "failed_step": info.failed_step,
        "started": _iso(info.started_wall),
        "duration": round(info.duration, 3) if info.duration is not None else None,
        "time_scale": settings.time_scale,
        "floor": settings.floor,
        "tolerance": settings.tolerance,
        "steps": steps,
        "stacks": stacks,
        "claims": claims_of(events),
        "notifications": notifications_of(events),
        "suppressed": suppressed_of(events),
    }
    return Redactor(secrets | secrets_of_files(config_files)).scrub(record)


def _observed(drill: Any) -> dict[str, Any]:
    """What the drill saw of the stack itself: duplicates, the cluster, its health."""
    found: dict[str, Any] = {}
    try:
        found["duplicates"] = [d.to_json() for d in drill.duplicates()]
        found["cluster"] = [vars(p) for p in getattr(drill, "final_cluster", [])]
        health = getattr(drill, "final_health", None)
        if health is not None:
            found["health"] = health.to_json()
            found["fell_behind"] = health.behind(drill.settings.tolerance)
    except Exception:  # a record is a report: never a reason to lose the rest of it
        logging.getLogger(__name__).exception("reading what the drill observed failed")
    return found


def write_record(record: dict[str, Any], directory: Path) -> Path:
    """Write ``<id>.json`` into ``directory``; the process's first write removes the records
    of other runs."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = directory.resolve()
    if key not in _replaced:
        _replaced.add(key)
        for old in directory.glob("*.json"):
            try:
                data = json.loads(old.read_text())
                if data.get("schema") == SCHEMA and data.get("run_key") != record.get("run_key"):
                    old.unlink()
            except (OSError, ValueError, AttributeError):
                continue
    path = directory / f"{record['id']}.json"
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(record, indent=1, ensure_ascii=False, default=str))
    tmp.replace(path)
    return path


def load_records(directory: Path) -> list[dict[str, Any]]:
    """Every record in ``directory`` (files of another schema are skipped), oldest first."""
    records = []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            logger.warning("skipping unreadable record %s", path)
            continue
        if isinstance(data, dict) and data.get("schema") == SCHEMA:
            records.append(data)
    records.sort(key=lambda r: (str(r.get("started") or ""), str(r.get("id"))))
    return records


def latest_records(directories: Iterable[Path], key: Callable[[dict[str, Any]], K],
                   keep: Callable[[dict[str, Any]], bool] = lambda record: True
                   ) -> dict[K, dict[str, Any]]:
    """The latest record (by its ``started``) of each ``key`` in ``directories``: what earlier
    runs say of a scenario — its duration for the shards and the mutation runs' order, its
    outcome for leaving out what fails without a mutant. Unreadable files are skipped."""
    found: dict[K, dict[str, Any]] = {}
    for directory in directories:
        for path in sorted(Path(directory).glob("*.json")):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if not isinstance(record, dict) or not keep(record):
                continue
            k = key(record)
            if k not in found or str(record.get("started") or "") >= str(
                    found[k].get("started") or ""):
                found[k] = record
    return found


# -- digests of a timeline (JSON events) ---------------------------------------------------------
def claims_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every claim's verdict, in the order they were decided."""
    return [{"t": e["t"], **e["detail"]} for e in events if e["kind"] == tl.CLAIM]


def notifications_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every notification in arrival order: who, through which integration, what, and our answer."""
    out = []
    for e in events:
        if e["kind"] != tl.NOTIFICATION:
            continue
        d = e["detail"]
        out.append({"t": e["t"], "receiver": e["subject"], "integration": d.get("integration"),
                    "index": d.get("index"), "peer": d.get("peer"), "status": d.get("status"),
                    "alertnames": d.get("alertnames") or [], "alerts": d.get("alerts") or [],
                    "response_code": d.get("response_code"), "fault": d.get("fault"),
                    "note": d.get("note", "")})
    return out


def suppressed_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each alert Alertmanager held back, first seen when, by which alerts or silences."""
    by_fingerprint: dict[str, dict[str, Any]] = {}
    for e in events:
        fingerprint = e["detail"].get("fingerprint")
        if fingerprint and e["kind"] in (tl.AM_ACTIVE, tl.AM_SUPPRESSED, tl.AM_UNPROCESSED):
            by_fingerprint.setdefault(fingerprint, e["labels"])
    silences: dict[str, dict[str, Any]] = {}
    for e in events:
        silence_id = e["detail"].get("silence_id")
        if e["kind"] == tl.ACTION and silence_id:
            silences[silence_id] = {"id": silence_id, "matchers": e["labels"],
                                    "created_by": e["detail"].get("created_by"),
                                    "comment": e["detail"].get("comment"),
                                    "note": e["detail"].get("note", "")}
    out: dict[str, dict[str, Any]] = {}
    for e in events:
        if e["kind"] != tl.AM_SUPPRESSED:
            continue
        d = e["detail"]
        key = d.get("fingerprint") or json.dumps(e["labels"], sort_keys=True)
        entry = out.get(key)
        if entry is None:
            entry = out[key] = {"t": e["t"], "alertname": e["subject"], "labels": e["labels"],
                                "peers": [], "inhibited_by": [], "silenced_by": []}
        if d.get("peer") is not None and d["peer"] not in entry["peers"]:
            entry["peers"].append(d["peer"])
        for fp in d.get("inhibited_by") or []:
            if all(i["fingerprint"] != fp for i in entry["inhibited_by"]):
                labels = by_fingerprint.get(fp, {})
                entry["inhibited_by"].append({"fingerprint": fp, "labels": labels,
                                              "alertname": labels.get("alertname", "?")})
        for sid in d.get("silenced_by") or []:
            if all(s["id"] != sid for s in entry["silenced_by"]):
                entry["silenced_by"].append(silences.get(sid, {"id": sid, "matchers": {},
                                                               "note": ""}))
    return sorted(out.values(), key=lambda x: x["t"])


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds")
