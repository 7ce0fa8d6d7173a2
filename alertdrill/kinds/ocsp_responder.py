"""``ocsp-responder``: answers ``/ocsp`` (alertdrill.targets.ocsp); a fault raises its latency."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alertdrill.kinds.base import Container, ContainerHost, HttpReady, Process, ProcessHost
from alertdrill.kinds.capabilities import Controllable
from alertdrill.kinds.python import PythonKind

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import ServiceSpec


class OcspResponder(PythonKind):
    """Latency faults through ``/-/control`` (which is also its readiness)."""

    name = "ocsp-responder"
    module = "alertdrill.targets.ocsp"
    rank = 9
    ready = HttpReady("/-/control")
    provides = (Controllable,)

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        return self.local(list, Controllable())

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        return self.in_image(port, [], None, Controllable())


KIND = OcspResponder()
