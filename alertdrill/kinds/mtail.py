"""``mtail``: tailing the access log of an app of the stack (``logs_of:``) with the stack's
programs (``progs:``, default ``mtail/``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from alertdrill.backends.binaries import BINARIES, find_binary
from alertdrill.backends.ports import LOOPBACK
from alertdrill.errors import ConfigError
from alertdrill.kinds.base import Container, ContainerHost, Kind, Process, ProcessHost

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import ServiceSpec, StackSpec


class Mtail(Kind):
    """Reads the same host file the app writes (mounted read-only in Docker)."""

    name = "mtail"
    image = "mtail"
    packages = (BINARIES["mtail"].package,)
    container_port = 3903
    rank = 4
    defaults: ClassVar[dict[str, Any]] = {"progs": "mtail"}

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        binary = find_binary("mtail")
        source, progs = mtail_sources(host.spec, spec)
        log = host.access_log(source)
        return Process(lambda port: [binary, *_args(str(progs), str(log), LOOPBACK, port)])

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        source, progs = mtail_sources(host.spec, spec)
        logs = host.workdir / f"log-{source}"
        if not logs.is_dir():
            raise ConfigError(f"{host.spec.root}/alertdrill.yml: mtail service {spec.name!r} reads "
                              f"the log of {source!r}, which must be an app declared before it")
        return Container(_args("/alertdrill/progs", f"/alertdrill/log/{source}.access.log",
                               "0.0.0.0", port),
                         mounts={str(progs.resolve()): ("/alertdrill/progs", "ro"),
                                 str(logs): ("/alertdrill/log", "ro")})


def mtail_sources(spec: StackSpec, service: ServiceSpec) -> tuple[str, Path]:
    """The app whose log an mtail service reads (``logs_of``) and its programs directory
    (``progs``, default ``mtail``), checked before anything starts."""
    source = service.options.get("logs_of")
    if not source or source not in spec.services:
        raise ConfigError(f"{spec.root}/alertdrill.yml: mtail service {service.name!r} "
                          "needs `logs_of:` naming an app service of the stack")
    progs = spec.root / str(KIND.option(service, "progs"))
    if not progs.is_dir():
        raise ConfigError(f"mtail programs directory {progs} does not exist")
    return str(source), progs


def _args(progs: str, log: str, address: str, port: int) -> list[str]:
    return ["-progs", progs, "-logs", log, "-address", address, "-port", str(port),
            "-poll_interval", "250ms", "-logtostderr"]


KIND = Mtail()
