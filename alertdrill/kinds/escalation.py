"""``escalation``: the escalation service (alertdrill.services.escalation), talking to every
Alertmanager peer, its state in SQLite (it survives restarts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alertdrill.kinds.base import Container, ContainerHost, HttpReady, Process, ProcessHost
from alertdrill.kinds.python import PythonKind, data_mount

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import ServiceSpec


class Escalation(PythonKind):
    """Starts after the Alertmanager peers: it is given their addresses."""

    name = "escalation"
    module = "alertdrill.services.escalation"
    container_port = 5000
    rank = 10
    late = True
    ready = HttpReady("/-/healthy")

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        db = str(host.workdir / f"{spec.name}.sqlite")
        return self.local(lambda: _args(db, host.scale.factor, host.alertmanager_urls()))

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        return self.in_image(port, _args(f"/alertdrill/data/{spec.name}.sqlite", host.time_scale,
                                         host.alertmanager_urls), data_mount(host, spec.name))


def _args(db: str, time_scale: float, peers: list[str]) -> list[str]:
    return ["--db", db, "--time-scale", f"{time_scale:g}",
            *[a for url in peers for a in ("--alertmanager", url)]]


KIND = Escalation()
