"""``tickets``: one Jira ticket per alert key (alertdrill.services.tickets), through the
sink's Jira API; its state in SQLite."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alertdrill.kinds.base import Container, ContainerHost, HttpReady, Process, ProcessHost
from alertdrill.kinds.python import PythonKind, data_mount

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import ServiceSpec


class Tickets(PythonKind):
    """``jira: RECEIVER/INTEGRATION/N`` (default ``<name>/jira/0``): the sink route it files
    tickets through."""

    name = "tickets"
    module = "alertdrill.services.tickets"
    container_port = 5001
    rank = 11
    ready = HttpReady("/-/healthy")

    def _args(self, spec: ServiceSpec, db: str, sink_url: str) -> list[str]:
        jira = str(spec.options.get("jira", f"{spec.name}/jira/0"))  # the default names it
        receiver, _, rest = jira.partition("/")
        return ["--db", db, "--jira-url", f"{sink_url}/n/0/{receiver}/{rest or 'jira/0'}"]

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        db = str(host.workdir / f"{spec.name}.sqlite")
        return self.local(lambda: self._args(spec, db, host.sink_url))

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        sink_url = f"http://{host.sink_name}:{host.sink_port}"
        return self.in_image(port, self._args(spec, f"/alertdrill/data/{spec.name}.sqlite", sink_url),
                             data_mount(host, spec.name))


KIND = Tickets()
