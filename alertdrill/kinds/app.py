"""``app``: an application with fault controls and an access log (alertdrill.targets.app)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from alertdrill.kinds.base import Container, ContainerHost, Process, ProcessHost
from alertdrill.kinds.capabilities import Controllable, LogFloodable
from alertdrill.kinds.python import PYTHON_USER, PythonKind

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import ServiceSpec


class App(PythonKind):
    """Latency, 5xx and pool faults through ``/-/control``; log floods into its access log
    (which an ``mtail`` service of the stack may read)."""

    name = "app"
    module = "alertdrill.targets.app"
    rank = 2
    defaults: ClassVar[dict[str, Any]] = {"flavor": "web", "rate": 20}
    provides = (LogFloodable, Controllable)

    def _args(self, spec: ServiceSpec, log_file: str) -> list[str]:
        return ["--flavor", str(self.option(spec, "flavor")), "--rate", str(self.option(spec, "rate")),
                "--log-file", log_file]

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        log = host.access_log(spec.name)
        return self.local(lambda: self._args(spec, str(log)), LogFloodable(log), Controllable())

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        logs = host.directory(f"log-{spec.name}", PYTHON_USER)
        log = logs / f"{spec.name}.access.log"
        log.touch()
        log.chmod(0o644)
        if os.geteuid() == 0:
            os.chown(log, *PYTHON_USER)
        return self.in_image(port, self._args(spec, f"/alertdrill/log/{log.name}"),
                             {str(logs): ("/alertdrill/log", "rw")}, LogFloodable(log), Controllable())


KIND = App()
