"""``sample-target``: the harness's sample exporter (alertdrill.targets.sample)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alertdrill.kinds.python import PythonKind

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import ServiceSpec


class SampleTarget(PythonKind):
    """A few families under the service's name."""

    name = "sample-target"
    module = "alertdrill.targets.sample"
    rank = 1

    def args(self, spec: ServiceSpec) -> list[str]:
        return ["--name", spec.name]


KIND = SampleTarget()
