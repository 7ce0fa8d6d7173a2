"""The ``init`` command: a drill project from a team's files, its updates, its CI file.

A drill project is a directory with::

    alertdrill-project.yml   where the configs came from, and what the features expect
    stack/                   the copied configs and their alertdrill.yml manifest
    features/                the generated baseline features (and any the team adds)
    reports/                 what `alertdrill run` writes

``alertdrill run`` with no ``--stack``/``--features`` in a directory holding
``alertdrill-project.yml`` runs ``features/`` against ``stack/`` (see :func:`find_project`).

Everything is built in a temporary directory first — copied, validated with promtool and amtool,
computed, generated — and only then moved into place, so bad input leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import yaml

from alertdrill.errors import ConfigError
from alertdrill.scaffold import PROJECT_FILE, ci
from alertdrill.scaffold.discover import Sources, discover
from alertdrill.scaffold.expectations import Expectations, compute
from alertdrill.scaffold.features import GENERATED_FILES, TripProvider, generate
from alertdrill.scaffold.stackcopy import (
    PROMETHEUS_DIR,
    manifest_text,
    plan_layout,
    plan_services,
    validate,
    write_stack,
)
from alertdrill.scaffold.update import Diff, compare, summary
from alertdrill.sink.integrations import BY_CONFIG_KEY, RECEIVER_WORDS
from alertdrill.text import plural
from alertdrill.yamlio import load_yaml

STACK_DIR = "stack"
FEATURES_DIR = "features"
#: Receiver integrations a drill can redirect to its sink (instrument refuses the others).
_REDIRECTABLE = set(BY_CONFIG_KEY)


@dataclass(frozen=True)
class Project:
    """A drill project found on disk."""

    root: Path
    stack: Path
    features: Path
    data: dict[str, Any]


def find_project(directory: Path) -> Project | None:
    """The drill project of ``directory`` (its ``alertdrill-project.yml``), or None."""
    path = directory / PROJECT_FILE
    if not path.is_file():
        return None
    data = load_yaml(path, PROJECT_FILE)
    root = directory.resolve()
    return Project(root, root / str(data.get("stack") or STACK_DIR),
                   root / str(data.get("features") or FEATURES_DIR), data)


@dataclass
class Staged:
    """A project built in a temporary directory, not yet installed."""

    tmp: Path
    sources: Sources
    expectations: Expectations
    files: dict[str, str]
    scenarios: dict[str, list[str]]
    untripped: list[tuple[str, str]]
    summary: dict[str, Any]
    services: int = 0
    left_out: list[tuple[str, str]] = field(default_factory=list)

    @property
    def stack(self) -> Path:
        """The staged stack directory."""
        return self.tmp / STACK_DIR


def default_trip() -> tuple[TripProvider | None, str]:
    """The series stand-ins' trip planner (``alertdrill.analysis.seriestrip.trip_steps``)."""
    from alertdrill.analysis.seriestrip import trip_steps

    trip: TripProvider = trip_steps  # type: ignore[assignment]
    return trip, ""


def now() -> str:
    """The generation time, as headers show it."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def build(sources: Sources, name: str, tmp: Path, trip: TripProvider | None = None,
          unavailable: str = "", generated: str | None = None) -> Staged:
    """Copy, validate, compute and generate into ``tmp``; raises ConfigError on bad input."""
    generated = generated or now()
    _check_receivers(sources.alertmanager)
    layout = plan_layout(sources)
    prometheus = yaml.safe_load(layout.texts[f"{PROMETHEUS_DIR}/prometheus.yml"]) or {}
    services = plan_services(prometheus)
    stack = tmp / STACK_DIR
    write_stack(layout, manifest_text(name, services, sources, generated), stack)
    validate(stack, layout.origins(sources))
    expectations = compute(stack)
    spec = _spec(stack)
    header = _header(sources, generated)
    made = generate(expectations, header, spec, trip, unavailable)
    return Staged(tmp, sources, expectations, made.files, made.scenarios, made.untripped,
                  summary(expectations, made.scenarios, stack), len(services.services),
                  services.left_out)


def _spec(stack: Path) -> object:
    from alertdrill.engine.stackspec import StackSpec

    try:
        return StackSpec.load(stack)
    except ConfigError:  # a manifest kind this alertdrill does not know yet (series)
        return None


def _check_receivers(alertmanager: Path) -> None:
    config = load_yaml(alertmanager, "alertmanager.yml")
    for receiver in config.get("receivers") or []:
        for key in receiver or {}:
            if key.endswith("_configs") and key not in _REDIRECTABLE:
                raise ConfigError(
                    f"{alertmanager}: receiver {receiver.get('name')!r} uses {key}, which a drill "
                    "cannot redirect to its sink (it would notify the real service)",
                    f"drills support {', '.join(RECEIVER_WORDS)} "
                    "integrations; replace it by a webhook in a copy for the drill")


def _header(sources: Sources, generated: str) -> str:
    lines = [f"# Generated by `alertdrill init` on {generated}, from:",
             f"#   prometheus.yml    {sources.prometheus}"]
    lines += [f"#   rules             {path}" for path in sources.rule_files]
    lines.append(f"#   alertmanager.yml  {sources.alertmanager}")
    lines += [f"#   templates         {path}" for path in sources.templates]
    lines += ["# (as copied into ../stack/). These are the expectations of the config as it was",
              "# then: `alertdrill init --update` recomputes them and shows what changed;",
              "# `--update --write` rewrites this file."]
    return "\n".join(lines)


# --- installing a staged project ---------------------------------------------------------------

def install(staged: Staged, out: Path, config_dir: Path | None) -> list[Path]:
    """Move the staged stack and features into ``out`` and write the project file."""
    out.mkdir(parents=True, exist_ok=True)
    stack = out / STACK_DIR
    if stack.exists():
        shutil.rmtree(stack)
    shutil.copytree(staged.stack, stack)
    features = out / FEATURES_DIR
    features.mkdir(exist_ok=True)
    written = [stack]
    for name in GENERATED_FILES:
        path = features / name
        if name in staged.files:
            path.write_text(staged.files[name])
            written.append(path)
        elif path.exists():
            path.unlink()  # no longer generated (e.g. the last inhibit rule went)
    data = {
        "stack": STACK_DIR,
        "features": FEATURES_DIR,
        "sources": {k: _relative(v, out) for k, v in (
            ("config_dir", config_dir), ("prometheus", staged.sources.prometheus),
            ("alertmanager", staged.sources.alertmanager)) if v is not None},
        "expectations": staged.summary,
    }
    (out / PROJECT_FILE).write_text(
        "# Written by `alertdrill init`. `alertdrill run` in this directory runs features/\n"
        "# against stack/; `alertdrill init --update` re-reads the sources below and shows what\n"
        "# changed (the expectations are what the generated features were computed to claim).\n"
        + yaml.safe_dump(data, sort_keys=False, width=100))
    written.append(out / PROJECT_FILE)
    return written


def _relative(path: Path, base: Path) -> str:
    return os.path.relpath(path.resolve(), base.resolve())


# --- the command -------------------------------------------------------------------------------

def run_init(args: Any, out_stream: TextIO = sys.stdout, trip: TripProvider | None = None,
             unavailable: str | None = None) -> int:
    """``alertdrill init``; ``args`` as the cli parses them. Returns the exit status."""
    out = (args.out or Path.cwd()).expanduser().resolve()
    if trip is None and unavailable is None:
        trip, unavailable = default_trip()
    given = args.source or args.prometheus_config or args.alertmanager_config
    if args.ci_shards != 1 and not args.ci:
        raise ConfigError(f"--ci-shards {args.ci_shards} without --ci",
                          "add --ci github or --ci gitlab (the shards are CI jobs)")
    if args.update:
        return _update(args, out, out_stream, trip, unavailable or "")
    if args.ci and not given:
        project = find_project(out)
        if project is None:
            raise ConfigError(f"{out} is not a drill project (no {PROJECT_FILE})",
                              "run `alertdrill init --from CONFIG_DIR --out DIR --ci "
                              f"{args.ci}` to make one, or --out an existing project")
        _write_ci(args.ci, project.root, project.stack, project.data, out_stream, args.force,
                  args.ci_shards)
        return 0
    if out.exists() and any(out.iterdir()) and not args.force:
        raise ConfigError(f"{out} is not empty", "choose an empty --out DIR, --update an "
                          "existing project, or --force to write into it anyway")
    sources = discover(args.source, args.prometheus_config, args.alertmanager_config)
    with tempfile.TemporaryDirectory(prefix="alertdrill-init-") as tmp:
        staged = build(sources, args.name or out.name, Path(tmp), trip, unavailable or "")
        install(staged, out, args.source)
    _report(staged, out, out_stream)
    if args.ci:
        project = find_project(out)
        assert project is not None
        _write_ci(args.ci, out, project.stack, project.data, out_stream, args.force,
                  args.ci_shards)
    out_stream.write(f"next:  cd {_shown(out)} && alertdrill run\n")
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


def _report(staged: Staged, out: Path, stream: TextIO) -> None:
    sources = staged.sources
    stream.write(f"found: {sources.prometheus}, {plural(len(sources.rule_files), 'rule file')}, "
                 f"{sources.alertmanager}, {plural(len(sources.templates), 'template')}\n")
    for note in sources.notes:
        stream.write(f"  note: {note}\n")
    stream.write(f"wrote {_shown(out)}/:\n")
    stream.write(f"  {STACK_DIR}/  copies of the configs; alertdrill.yml with "
                 f"{plural(staged.services, 'series stand-in')}"
                 + (f", {plural(len(staged.left_out), 'job')} left out (see its comments)"
                    if staged.left_out else "") + "\n")
    alerts = len(staged.expectations.routed)
    for name in staged.files:
        count = len(staged.scenarios.get(name, []))
        extra = (f", {plural(alerts, 'alert')} in the routing table"
                 if name == "routing.feature" else "")
        stream.write(f"  {FEATURES_DIR}/{name}  {plural(count, 'scenario')}{extra}\n")
    if staged.untripped:
        stream.write(f"  {plural(len(staged.untripped), 'rule')} without a fire-and-resolve "
                     "scenario (listed with why in the generated file)\n")
    stream.write(f"  {PROJECT_FILE}\n")


def _write_ci(kind: str, root: Path, stack: Path, data: dict[str, Any], stream: TextIO,
              force: bool, shards: int = 1) -> None:
    sources = [(root / str(v)) for k, v in (data.get("sources") or {}).items()]
    path = ci.write(kind, root, stack, sources, now(), force=force, shards=shards)
    split = f" in {shards} shards, merged into one report" if shards > 1 else ""
    stream.write(f"CI: {path} (runs `alertdrill run` in {_shown(root)}{split}, nightly and on "
                 "changes)\n")


def _update(args: Any, out: Path, stream: TextIO, trip: TripProvider | None,
            unavailable: str) -> int:
    project = find_project(out)
    if project is None:
        raise ConfigError(f"{out} is not a drill project (no {PROJECT_FILE})",
                          "run --update in the directory init wrote, or give it with --out")
    recorded = project.data.get("sources") or {}

    def source(key: str, given: Path | None) -> Path | None:
        if given is not None:
            return given
        value = recorded.get(key)
        return (project.root / str(value)).resolve() if value else None

    config_dir = source("config_dir", args.source)
    explicit = args.prometheus_config or args.alertmanager_config
    prom = source("prometheus", args.prometheus_config)
    am = source("alertmanager", args.alertmanager_config)
    if config_dir is not None and not explicit:  # search again: files may have moved
        sources = discover(config_dir)
    else:
        sources = discover(config_dir, prom, am)
    with tempfile.TemporaryDirectory(prefix="alertdrill-init-") as tmp:
        staged = build(sources, args.name or _stack_name(project), Path(tmp), trip, unavailable)
        diff = compare(project.data.get("expectations") or {}, staged.summary)
        stream.write(diff.render() + "\n")
        if args.write:
            install(staged, out, config_dir)
            stream.write(f"written: {STACK_DIR}/ and the generated features of {_shown(out)}\n")
            if args.ci:
                _write_ci(args.ci, out, out / STACK_DIR, project.data, stream, True,
                          args.ci_shards)
            return 0
    return _unwritten(diff, stream)


def _stack_name(project: Project) -> str:
    try:
        manifest = load_yaml(project.stack / "alertdrill.yml", "alertdrill.yml")
    except ConfigError:
        return project.root.name
    return str(manifest.get("name") or project.root.name)


def _unwritten(diff: Diff, stream: TextIO) -> int:
    if diff.expectations_changed:
        stream.write("not written: the expectations changed. Review the above, then "
                     "`alertdrill init --update --write` to accept them (exit status 1 until "
                     "then)\n")
        return 1
    if diff.files_changed:
        stream.write("not written: `alertdrill init --update --write` refreshes the copies\n")
    return 0
