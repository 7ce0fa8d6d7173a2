"""Service kinds are declared once: the registry, and what each kind makes on both backends.

Pure: no process or container starts. The local backend's ``ManagedProcess`` is replaced by a
recorder and the side effects that need root or a real PostgreSQL (tmpfs, initdb, chown) by
plain directories, so each kind's argv, readiness, mounts and capabilities can be pinned.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from alertdrill.backends import docker_services, local_services
from alertdrill.backends.certs import make_authority
from alertdrill.backends.local_services import LaunchContext, LocalService
from alertdrill.engine.stackspec import SERVICE_KINDS, ServiceSpec, StackSpec
from alertdrill.engine.timescale import TimeScale
from alertdrill.errors import ConfigError
from alertdrill.kinds import KINDS, kind
from alertdrill.kinds import node_exporter as node_kind
from alertdrill.kinds import postgres as postgres_kind
from alertdrill.kinds.capabilities import (
    CertificateHolder,
    Controllable,
    Fillable,
    LogFloodable,
    ReportsOn,
    SeriesDriven,
)

SERVICES = {
    "api": ServiceSpec("api", "app", ("api:8080",), {"flavor": "api", "rate": 7}),
    "target": ServiceSpec("target", "sample-target", ("target:9000",)),
    "redis": ServiceSpec("redis", "series", ("redis:9121",)),
    "node": ServiceSpec("node", "node-exporter", ("node:9100",), {"filesystem_mb": 16}),
    "mtail": ServiceSpec("mtail", "mtail", ("mtail:3903",), {"logs_of": "api"}),
    "db": ServiceSpec("db", "postgres"),
    "pgexp": ServiceSpec("pgexp", "postgres-exporter", ("pgexp:9187",), {"of": "db"}),
    "bb": ServiceSpec("bb", "blackbox-exporter", ("bb:9115",)),
    "site": ServiceSpec("site", "tls-endpoint", ("site.example:443",), {"certificate_days": 30}),
    "ocsp": ServiceSpec("ocsp", "ocsp-responder", ("http://ocsp:8080/ocsp",)),
    "esc": ServiceSpec("esc", "escalation", ("esc:5000",)),
    "tix": ServiceSpec("tix", "tickets", (), {"jira": "team/jira/2"}),
}


class _Plan:
    def to_json(self) -> dict[str, Any]:
        return {"families": {}}


PLAN = _Plan()


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StackSpec:
    """Every kind in one stack; root-only and slow side effects replaced by directories."""
    root = tmp_path / "stack"
    (root / "mtail").mkdir(parents=True)
    (root / "prometheus.yml").write_text("scrape_configs: []\n")
    (root / "alertmanager.yml").write_text("route: {receiver: r}\nreceivers: [{name: r}]\n")
    (root / "blackbox.yml").write_text("modules:\n  tls:\n    prober: tcp\n    tcp: {tls: true}\n")
    template = tmp_path / "pg-template"
    template.mkdir()
    monkeypatch.setattr(node_kind, "mount_tmpfs", lambda path, size: path.mkdir(parents=True))
    monkeypatch.setattr(postgres_kind, "postgres_template", lambda: template)
    monkeypatch.setattr(postgres_kind, "postgres_bin_dir", lambda: Path("/pg/bin"))
    monkeypatch.setattr(postgres_kind, "_chown_tree", lambda path, user: None)
    monkeypatch.setattr(postgres_kind, "make_tempdir",
                        lambda name, system=False: (tmp_path / name).mkdir() or tmp_path / name)
    for module in ("node_exporter", "mtail", "postgres_exporter", "blackbox_exporter"):
        monkeypatch.setattr(f"alertdrill.kinds.{module}.find_binary", lambda name: f"/bin/{name}")
    return StackSpec(root, root / "prometheus.yml", root / "alertmanager.yml", (), 3, SERVICES)


def test_the_registry_finds_every_kind_module_in_the_order_messages_list_them() -> None:
    assert list(KINDS) == ["series", "sample-target", "app", "node-exporter", "mtail", "postgres",
                           "postgres-exporter", "blackbox-exporter", "tls-endpoint",
                           "ocsp-responder", "escalation", "tickets"]
    assert tuple(KINDS) == SERVICE_KINDS
    assert [k.name for k in KINDS.values() if k.late] == ["escalation"]
    with pytest.raises(ConfigError, match="unknown service kind 'redis'"):
        kind("redis")


def _local(stack: StackSpec, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, LocalService], dict[str, Any]]:
    """Every service built and launched once on port 4321 (binaries) with a recorder."""
    launched: dict[str, Any] = {}

    class Recorder:
        def __init__(self, name: str, argv: list[str], log: Path, env: Any = None,
                     pass_fds: Any = ()) -> None:
            launched[name] = {"argv": argv, "env": env, "fds": len(pass_fds)}

    monkeypatch.setattr(local_services, "ManagedProcess", Recorder)
    (tmp_path / "work").mkdir()
    ctx = LaunchContext(stack, tmp_path / "work", TimeScale(60.0, 0.25), "http://127.0.0.1:7", {},
                        lambda: ["http://127.0.0.1:1"], series={"redis": PLAN})  # type: ignore[dict-item]
    built = {}
    for name, spec in SERVICES.items():
        svc = built[name] = local_services.build_service(ctx, spec)
        svc.port = svc.port or 4321
        svc.launch()
    return built, launched


def test_local_processes_are_the_kinds_argv(stack: StackSpec, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    built, launched = _local(stack, tmp_path, monkeypatch)
    work = tmp_path / "work"
    python = {name: launched[name]["argv"][2:-2] for name in
              ("api", "target", "redis", "site", "ocsp", "esc", "tix")}
    assert python == {
        "api": ["alertdrill.targets.app", "--flavor", "api", "--rate", "7", "--log-file",
                f"{work}/api.access.log"],
        "target": ["alertdrill.targets.sample", "--name", "target"],
        "redis": ["alertdrill.targets.series", "--plan", f"{work}/redis.series.json"],
        "site": ["alertdrill.targets.tls", "--cert-dir", f"{work}/certs-site"],
        "ocsp": ["alertdrill.targets.ocsp"],
        "esc": ["alertdrill.services.escalation", "--db", f"{work}/esc.sqlite", "--time-scale", "60",
                "--alertmanager", "http://127.0.0.1:1"],
        "tix": ["alertdrill.services.tickets", "--db", f"{work}/tix.sqlite", "--jira-url",
                "http://127.0.0.1:7/n/0/team/jira/2"],
    }
    assert all(launched[n]["argv"][:2] == [sys.executable, "-m"] and launched[n]["fds"] == 1
               for n in python)
    assert launched["node"]["argv"] == [
        "/bin/node-exporter", "--web.listen-address=127.0.0.1:4321", "--collector.disable-defaults",
        "--collector.filesystem", f"--path.procfs={work}/proc-node", "--log.level=warn"]
    assert launched["mtail"]["argv"] == [
        "/bin/mtail", "-progs", f"{stack.root}/mtail", "-logs", f"{work}/api.access.log",
        "-address", "127.0.0.1", "-port", "4321", "-poll_interval", "250ms", "-logtostderr"]
    assert launched["bb"]["argv"] == ["/bin/blackbox-exporter", f"--config.file={work}/bb.yml",
                                      "--web.listen-address=127.0.0.1:4321", "--log.level=warn"]
    assert launched["db"]["argv"][:6] == ["setpriv", "--reuid=postgres", "--regid=postgres",
                                          "--init-groups", "--", "/pg/bin/postgres"]
    assert launched["db"]["argv"][-4:] == ["-c", "fsync=off", "-c", "max_connections=50"]
    data = Path(launched["db"]["argv"][7])
    assert data.name == "data" and launched["db"]["argv"][11] == \
        f"unix_socket_directories={data.parent}/socket"
    assert launched["pgexp"]["env"] == {"DATA_SOURCE_NAME": "postgresql://postgres@/postgres?"
                                        f"host={data.parent}/socket&sslmode=disable"}
    # readiness and stop signals
    assert {n: s.ready_path for n, s in built.items() if s.ready_path != "/metrics"} == {
        "db": None, "site": None, "ocsp": "/-/control", "esc": "/-/healthy", "tix": "/-/healthy"}
    assert built["db"].stop_signal == signal.SIGINT and built["db"].ready_check is not None
    assert built["site"].ready_check is not None and built["site"].ready_check() is False


def test_each_kind_provides_what_it_declares_on_both_backends(
        stack: StackSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built, _ = _local(stack, tmp_path, monkeypatch)
    (tmp_path / "docker").mkdir()
    ca = make_authority("test")
    ctx = docker_services.BuildContext(
        spec=stack, workdir=tmp_path / "docker", time_scale=60.0,
        images={k.image: f"img-{k.image}" for k in KINDS.values()}, client=None, labels={},
        stack_network="net", suffix="x", sink_name="sink", sink_port=8080,
        alertmanager_urls=["http://alertmanager-0:9093"], authority=lambda: ca,
        series={"redis": PLAN})  # type: ignore[dict-item]
    containers = {name: docker_services.build_service(ctx, spec) for name, spec in SERVICES.items()}
    for services in (built, containers):
        offered = {n: {type(c) for c in s.capabilities} for n, s in services.items()}
        assert offered == {n: set(kind(spec.kind).provides) for n, spec in SERVICES.items()}
        assert services["node"].capability(Fillable) is not None
        assert services["api"].capability(LogFloodable) is not None
        assert services["api"].capability(Controllable) is not None
        assert services["redis"].capability(SeriesDriven).plan is PLAN  # type: ignore[union-attr]
        assert services["pgexp"].capability(ReportsOn) == ReportsOn("db", "/metrics", "pg_up 1")
        assert services["target"].capability(Fillable) is None
    holder = containers["site"].capability(CertificateHolder)
    assert holder is not None and holder.names == ("site", "site.example", "127.0.0.1")
    local_holder = built["site"].capability(CertificateHolder)
    assert local_holder is not None and local_holder.names == ("site.example", "127.0.0.1")
    assert containers["site"].command[-2:] == ["--listen", "0.0.0.0:443"]  # the written port
    assert containers["tix"].port == 5001  # none written: the kind's
    assert containers["db"].port == 0 and containers["db"].stop_signal == "SIGINT"
    assert containers["db"].environment == {"POSTGRES_HOST_AUTH_METHOD": "trust"}
    assert containers["pgexp"].environment["DATA_SOURCE_NAME"] == \
        "postgresql://postgres@db:5432/postgres?sslmode=disable"
    assert containers["tix"].command[2:-2] == [
        "alertdrill.services.tickets", "--db", "/alertdrill/data/tix.sqlite", "--jira-url",
        "http://sink:8080/n/0/team/jira/2"]
    assert {n: c.image for n, c in containers.items() if not c.image.endswith("python")} == {
        "node": "img-node-exporter", "mtail": "img-mtail", "db": "img-postgres",
        "pgexp": "img-postgres-exporter", "bb": "img-blackbox-exporter"}


def test_a_kind_that_runs_a_debian_binary_declares_its_package_and_init_installs_it() -> None:
    """The CI templates of ``alertdrill init --ci`` install what the stack's kinds declare —
    a kind is the one place that knows its package (no second table in the scaffold)."""
    from alertdrill.backends.binaries import BINARIES
    from alertdrill.bundled import stacks_dir
    from alertdrill.scaffold.ci import BASE_PACKAGES, packages

    by_binary = {"node-exporter": "node-exporter", "mtail": "mtail",
                 "postgres-exporter": "postgres-exporter",
                 "blackbox-exporter": "blackbox-exporter"}
    for name, binary in by_binary.items():
        assert kind(name).packages == (BINARIES[binary].package,), name
    assert kind("postgres").packages == ("postgresql",)
    assert all(kind(k).packages == () for k in ("app", "series", "sample-target"))
    reference = packages(stacks_dir() / "reference")
    assert reference[:len(BASE_PACKAGES)] == list(BASE_PACKAGES)
    assert {"postgresql", "mtail", "prometheus-node-exporter", "prometheus-postgres-exporter",
            "prometheus-blackbox-exporter"} <= set(reference)
    assert packages(stacks_dir() / "sample") == list(BASE_PACKAGES)
