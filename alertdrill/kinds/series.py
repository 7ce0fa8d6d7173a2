"""``series``: the stand-in serving the families the stack's rules select
(alertdrill.targets.series, its plan from alertdrill.analysis.seriesplan). The default kind."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from alertdrill.kinds.base import Container, ContainerHost, Process, ProcessHost
from alertdrill.kinds.capabilities import Controllable, SeriesDriven
from alertdrill.kinds.python import PYTHON_USER, PythonKind

if TYPE_CHECKING:
    from alertdrill.analysis.seriesplan import StandIn
    from alertdrill.engine.stackspec import ServiceSpec


class Series(PythonKind):
    """Steps drive its series (``/-/control``) and check names against its plan."""

    name = "series"
    module = "alertdrill.targets.series"
    rank = 0
    provides = (SeriesDriven, Controllable)

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        plan = host.series[spec.name]
        path = host.workdir / f"{spec.name}.series.json"

        def args() -> list[str]:
            path.write_text(_plan_text(plan))
            return ["--plan", str(path)]

        return self.local(args, SeriesDriven(plan), Controllable())

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        plan = host.series[spec.name]
        plans = host.directory(f"series-{spec.name}", PYTHON_USER)
        (plans / "plan.json").write_text(_plan_text(plan))
        (plans / "plan.json").chmod(0o644)
        return self.in_image(port, ["--plan", "/alertdrill/series/plan.json"],
                             {str(plans): ("/alertdrill/series", "ro")}, SeriesDriven(plan),
                             Controllable())


def _plan_text(plan: StandIn) -> str:
    return json.dumps(plan.to_json(), indent=1)


KIND = Series()
