"""Per-scenario ownership of stacks: start on demand, and on every exit path revert faults,
write the scenario's result record (the drill report's input, see alertdrill.report.records), attach
the evidence (timeline, chart, payloads; logs and rendered configs on failure), stop everything.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alertdrill.backends import StackOptions, start_stack
from alertdrill.backends.pool import PoolKey, WarmPool
from alertdrill.engine.drill import Drill
from alertdrill.engine.stackspec import StackSpec
from alertdrill.report.records import ScenarioInfo, build_record, write_record
from alertdrill.report.redact import Redactor, secrets_of_files
from alertdrill.settings import Settings, resolve_stack_dir

logger = logging.getLogger(__name__)

try:  # allure-pytest-bdd is a dependency, but the engine must not die without it
    import allure
except ImportError:  # pragma: no cover
    allure = None  # type: ignore[assignment]


def search_paths(rootpath: Path, node_path: Path, feature_file: str | None,
                 extra: list[Path]) -> list[Path]:
    """Where a scenario's stack names resolve, nearest first: the feature file's directory (its
    binding module may live elsewhere, e.g. the one `alertdrill run` writes into a temp dir),
    the binding module's, the rootdir, the working directory, then ``extra``."""
    search = [node_path.parent, rootpath, Path.cwd(), *extra]
    if feature_file:
        search.insert(0, Path(feature_file).parent)
    return search


class Stacks:
    """Starts stacks for one scenario and owns their cleanup."""

    def __init__(self, settings: Settings, search: list[Path], report_dir: Path | None = None,
                 pool: WarmPool | None = None,
                 upcoming: Callable[[], tuple[str, list[Path]] | None] | None = None) -> None:
        self.settings = settings
        self.search = search
        self.report_dir = report_dir
        #: The worker's warm pool, and the stack the next scenario will start (name, search).
        self.pool = pool
        self.upcoming = upcoming
        self.drills: list[Drill] = []
        #: (stack name, workdir) of every stack kept by ``--keep-workdir``, once closed.
        self.kept: list[tuple[str, Path]] = []

    def resolve(self, name: str | None = None, search: list[Path] | None = None) -> Path:
        """The directory of stack ``name`` (or of the configured default)."""
        first = [Path(p) for p in self.settings.stack_dirs.split(os.pathsep) if p]
        return resolve_stack_dir(name or self.settings.stack,
                                 [*first, *(self.search if search is None else search)])

    def start(self, name: str | None = None) -> Drill:
        """Start stack ``name`` (or the configured default) — or take the warm one the pool
        started for it — and begin observing it; then warm the next scenario's."""
        key = self._key(self.resolve(name))
        spec = StackSpec.load(key.stack_dir)  # a bad manifest fails here, in this scenario
        taken = self.pool.take(key) if self.pool is not None else None
        if taken is not None:
            stack = taken.stack
            stack.startup["warm"] = taken.waited
        else:
            stack = start_stack(self.settings.backend, spec, key.options)
        drill = Drill(stack, self.settings)
        self.drills.append(drill)
        drill.begin()
        self._warm_next()
        return drill

    def _key(self, stack_dir: Path) -> PoolKey:
        return PoolKey(stack_dir, self.settings.backend, StackOptions.of(self.settings))

    def _warm_next(self) -> None:
        """Once this scenario's stack is usable (so the two starts do not compete), start the
        one the next scenario asks for; never one that no scenario after this one needs."""
        if self.pool is None or self.upcoming is None:
            return
        try:
            wanted = self.upcoming()
            if wanted is not None:
                self.pool.warm(self._key(self.resolve(wanted[0], wanted[1])))
        except Exception as exc:  # the next scenario resolves (and reports) it itself
            logger.debug("not warming the next scenario's stack: %s", exc)

    def close(self, failed: bool, scenario: ScenarioInfo | None = None) -> Path | None:
        """Revert faults, write the record, attach evidence, stop everything — also after an
        exception. Returns the record's path when ``scenario`` was given and it was written."""
        path = None
        try:
            for drill in reversed(self.drills):
                try:
                    drill.close()
                except Exception:
                    logger.exception("closing the scenario's drill failed")
            record = None
            if scenario is not None:
                try:
                    record = build_record(scenario, self.settings, self.drills)
                    if self.report_dir is not None:
                        path = write_record(record, self.report_dir)
                except Exception:
                    logger.exception("writing the scenario's record failed")
            for index, drill in enumerate(self.drills):
                try:
                    _attach(drill, failed, record, index)
                except Exception:
                    logger.exception("attaching the scenario's evidence failed")
        finally:
            for drill in reversed(self.drills):
                drill.stack.close()
            if self.settings.keep_workdir:
                self.kept += [(getattr(getattr(d.stack, "spec", None), "name", "stack"),
                               Path(d.stack.workdir)) for d in self.drills]
            self.drills.clear()
        return path


def _attach(drill: Drill, failed: bool, record: dict[str, Any] | None = None,
            index: int = 0) -> None:
    if allure is None:
        return
    if record is not None:
        from alertdrill import report
        if index == 0:
            _label(record, drill)
            allure.attach(report.markdown_section(record), name="drill report (Markdown)",
                          attachment_type=allure.attachment_type.TEXT)
        allure.attach(report.chart_svg(record, index), name="timeline chart",
                      attachment_type=allure.attachment_type.SVG)
    tl = drill.timeline
    spec = getattr(drill.stack, "spec", None)
    redact = Redactor(secrets_of_files([spec.alertmanager_config, spec.prometheus_config])
                      if spec is not None else ())
    allure.attach(redact.text(tl.render()), name="timeline",
                  attachment_type=allure.attachment_type.TEXT)
    allure.attach(json.dumps(redact.scrub(tl.to_json()), indent=2), name="timeline.json",
                  attachment_type=allure.attachment_type.JSON)
    # Payloads stay (what a human would have read), with URLs, credentials and headers scrubbed.
    payloads = [d.to_json() for d in drill.observer.deliveries]
    allure.attach(json.dumps(redact.scrub(payloads, keep={"payload"}), indent=2),
                  name="notifications.json", attachment_type=allure.attachment_type.JSON)
    if failed:
        for name, text in drill.stack.logs(200).items():
            allure.attach(text, name=f"log: {name}", attachment_type=allure.attachment_type.TEXT)
        for name, text in drill.stack.rendered_configs().items():
            allure.attach(text, name=f"config: {name}", attachment_type=allure.attachment_type.TEXT)


def _label(record: dict[str, Any], drill: Drill) -> None:
    """What allure-pytest-bdd leaves out: it labels the feature and turns Gherkin tags into
    tags, but sets no story or epic; the scenario becomes the story, the stack the epic."""
    allure.dynamic.story(record["scenario"]["name"])
    spec = getattr(drill.stack, "spec", None)
    if spec is not None:
        allure.dynamic.epic(f"stack: {spec.name}")
    allure.dynamic.label("time_scale", f"K={record['time_scale']:g}")


