"""What the kinds the harness implements itself share: ``python -m`` of one of its modules.

Locally the module runs on a socket the harness binds (``--fd``: its port is known before it
starts and survives restarts); in Docker it runs in the project's python image as its user,
binding ``--listen 0.0.0.0:PORT`` itself. A kind of this family states its module, its
readiness and its arguments; :meth:`PythonKind.local` and :meth:`PythonKind.in_image` make the
process and the container of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from alertdrill.kinds.base import Container, ContainerHost, HttpReady, Kind, Process, ProcessHost, TlsReady
from alertdrill.kinds.capabilities import Capability

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import ServiceSpec

#: The uid:gid the project's python image runs as (``alertdrill``); its files are made theirs.
PYTHON_USER = (1000, 1000)


class PythonKind(Kind):
    """A service of the harness's own (alertdrill.targets, alertdrill.services)."""

    image = "python"
    container_port = 8080
    #: The module ``python -m`` runs.
    module: ClassVar[str]
    ready: ClassVar[HttpReady | TlsReady] = HttpReady("/metrics")

    def args(self, spec: ServiceSpec) -> list[str]:
        """The module's arguments, where they are the same on both backends."""
        return []

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        """The module with :meth:`args`."""
        return self.local(lambda: self.args(spec))

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        """The module with :meth:`args`, in the python image."""
        return self.in_image(port, self.args(spec))

    def local(self, args: Callable[[], list[str]], *capabilities: Capability) -> Process:
        """The local process: the module and ``args()`` (asked at every launch)."""
        return Process(lambda _port: [self.module, *args()], python=True, ready=self.ready,
                       capabilities=capabilities)

    def in_image(self, port: int, args: list[str], mounts: dict[str, tuple[str, str]] | None = None,
                 *capabilities: Capability) -> Container:
        """The container: the module and ``args`` as the python image's user, on ``port``."""
        return Container(["python", "-m", self.module, *args, "--listen", f"0.0.0.0:{port}"],
                         ready=self.ready, user="{}:{}".format(*PYTHON_USER),
                         mounts=dict(mounts or {}), capabilities=capabilities)


def data_mount(host: ContainerHost, name: str) -> dict[str, tuple[str, str]]:
    """A writable ``/alertdrill/data`` of the service's own (its SQLite state)."""
    data = host.directory(f"data-{name}", PYTHON_USER)
    return {str(data): ("/alertdrill/data", "rw")}
