"""``blackbox-exporter``: probing with the stack's modules (``config:``, default
``blackbox.yml``), every TLS module trusting the stack's CA."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from alertdrill.backends.binaries import BINARIES, find_binary
from alertdrill.backends.ports import LOOPBACK
from alertdrill.errors import ConfigError
from alertdrill.kinds.base import Container, ContainerHost, Kind, Process, ProcessHost
from alertdrill.yamlio import dump_yaml, load_yaml

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import ServiceSpec, StackSpec


class BlackboxExporter(Kind):
    """Probes verify the chain the harness issued, and measure its expiry."""

    name = "blackbox-exporter"
    image = "blackbox-exporter"
    packages = (BINARIES["blackbox-exporter"].package,)
    container_port = 9115
    rank = 7
    defaults: ClassVar[dict[str, Any]] = {"config": "blackbox.yml"}

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        binary = find_binary("blackbox-exporter")
        config = blackbox_config(host.spec, spec, str(host.ca_file))
        path = host.workdir / f"{spec.name}.yml"
        path.write_text(dump_yaml(config))
        return Process(lambda port: [binary, *_args(str(path), f"{LOOPBACK}:{port}")])

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        config = blackbox_config(host.spec, spec, "/alertdrill/config/ca.crt")
        config_dir = host.directory(f"config-{spec.name}")
        (config_dir / "config.yml").write_text(dump_yaml(config))
        host.authority().write(config_dir)
        for path in config_dir.iterdir():
            path.chmod(0o644)
        return Container(_args("/alertdrill/config/config.yml", f"0.0.0.0:{port}"),
                         mounts={str(config_dir): ("/alertdrill/config", "ro")})


def blackbox_config(spec: StackSpec, service: ServiceSpec, ca_file: str) -> dict[str, Any]:
    """The blackbox exporter's modules as the stack gives them (``config:``, default
    ``blackbox.yml``), each module that speaks TLS trusting the stack's CA: probes verify the
    chain the harness issued, and measure its expiry, instead of skipping checks."""
    source = spec.root / str(KIND.option(service, "config"))
    config = load_yaml(source, "blackbox exporter config")
    for name, module in (config.get("modules") or {}).items():
        if not isinstance(module, dict):
            raise ConfigError(f"{source}: module {name!r} must be a mapping")
        for prober in ("tcp", "http"):
            section = module.get(prober)
            if isinstance(section, dict):
                tls = dict(section.get("tls_config") or {})
                tls["ca_file"] = ca_file
                section["tls_config"] = tls
    return config


def _args(config: str, listen: str) -> list[str]:
    return [f"--config.file={config}", f"--web.listen-address={listen}", "--log.level=warn"]


KIND = BlackboxExporter()
