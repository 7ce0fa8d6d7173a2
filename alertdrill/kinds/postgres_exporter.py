"""``postgres-exporter``: prometheus-postgres-exporter connected to a PostgreSQL of the stack
(``of:``, default ``postgres``) — by unix socket locally, over the network in Docker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from alertdrill.backends.binaries import BINARIES, find_binary
from alertdrill.backends.ports import LOOPBACK
from alertdrill.errors import ConfigError
from alertdrill.kinds.base import Container, ContainerHost, Kind, Process, ProcessHost
from alertdrill.kinds.capabilities import ReportsOn

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import ServiceSpec


class PostgresExporter(Kind):
    """A restart of its PostgreSQL is done once it shows ``pg_up 1`` again (see ReportsOn)."""

    name = "postgres-exporter"
    image = "postgres-exporter"
    packages = (BINARIES["postgres-exporter"].package,)
    container_port = 9187
    rank = 6
    defaults: ClassVar[dict[str, Any]] = {"of": "postgres"}
    provides = (ReportsOn,)

    def _reports(self, spec: ServiceSpec) -> ReportsOn:
        return ReportsOn(str(self.option(spec, "of")), "/metrics", "pg_up 1")

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        binary = find_binary("postgres-exporter")
        target = str(self.option(spec, "of"))
        if target not in host.pg_sockets:
            raise ConfigError(f"{host.spec.root}/alertdrill.yml: postgres-exporter "
                              f"{spec.name!r} needs `of:` naming a postgres service declared "
                              "before it")
        dsn = (f"postgresql://postgres@/postgres?host={host.pg_sockets[target]}"
               "&sslmode=disable")
        return Process(lambda port: [binary, *_args(f"{LOOPBACK}:{port}")],
                       env={"DATA_SOURCE_NAME": dsn}, capabilities=(self._reports(spec),))

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        target = str(self.option(spec, "of"))
        services = host.spec.services
        if target not in services or services[target].kind != "postgres":
            raise ConfigError(f"{host.spec.root}/alertdrill.yml: postgres-exporter {spec.name!r} "
                              "needs `of:` naming a postgres service of the stack")
        dsn = (f"postgresql://postgres@{target}:{host.listen_port(services[target])}/postgres"
               "?sslmode=disable")
        return Container(_args(f"0.0.0.0:{port}"), environment={"DATA_SOURCE_NAME": dsn},
                         capabilities=(self._reports(spec),))


def _args(listen: str) -> list[str]:
    return [f"--web.listen-address={listen}", "--log.level=warn"]


KIND = PostgresExporter()
