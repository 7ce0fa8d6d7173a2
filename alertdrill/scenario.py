"""Per-scenario ownership of stacks: start on demand, and on every exit path revert faults,
attach the evidence (timeline, payloads; logs and rendered configs on failure), stop everything.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from alertdrill.backends import StackOptions, start_stack
from alertdrill.drill import Drill
from alertdrill.settings import Settings, resolve_stack_dir
from alertdrill.stackspec import StackSpec

logger = logging.getLogger(__name__)

try:  # allure-pytest-bdd is a dependency, but the engine must not die without it
    import allure
except ImportError:  # pragma: no cover
    allure = None  # type: ignore[assignment]


class Stacks:
    """Starts stacks for one scenario and owns their cleanup."""

    def __init__(self, settings: Settings, search: list[Path]) -> None:
        self.settings = settings
        self.search = search
        self.drills: list[Drill] = []

    def start(self, name: str | None = None) -> Drill:
        """Start stack ``name`` (or the configured default) and begin observing it."""
        path = resolve_stack_dir(name or self.settings.stack, self.search)
        spec = StackSpec.load(path)
        options = StackOptions(
            peers=self.settings.peers or None,
            keep_workdir=self.settings.keep_workdir,
            time_scale=self.settings.time_scale,
            floor=self.settings.floor,
        )
        stack = start_stack(self.settings.backend, spec, options)
        drill = Drill(stack, self.settings)
        self.drills.append(drill)
        return drill.begin()

    def close(self, failed: bool) -> None:
        """Revert faults, attach evidence, stop everything — also after an exception."""
        for drill in reversed(self.drills):
            try:
                drill.close()
                _attach(drill, failed)
            except Exception:
                logger.exception("closing the scenario's drill failed")
            finally:
                drill.stack.close()
        self.drills.clear()


def _attach(drill: Drill, failed: bool) -> None:
    if allure is None:
        return
    tl = drill.timeline
    allure.attach(tl.render(), name="timeline", attachment_type=allure.attachment_type.TEXT)
    allure.attach(json.dumps(tl.to_json(), indent=2), name="timeline.json",
                  attachment_type=allure.attachment_type.JSON)
    payloads = [d.to_json() for d in drill.observer.deliveries]
    allure.attach(json.dumps(payloads, indent=2), name="notifications.json",
                  attachment_type=allure.attachment_type.JSON)
    if failed:
        for name, text in drill.stack.logs(200).items():
            allure.attach(text, name=f"log: {name}", attachment_type=allure.attachment_type.TEXT)
        for name, text in drill.stack.rendered_configs().items():
            allure.attach(text, name=f"config: {name}", attachment_type=allure.attachment_type.TEXT)


