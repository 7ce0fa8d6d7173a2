"""Extra process flags from alertdrill.yml: checked before start, passed to the processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
import yaml

from alertdrill.backends.base import StackOptions
from alertdrill.backends.local import LocalStack
from alertdrill.engine.stackspec import StackSpec, with_flags
from alertdrill.errors import ConfigError
from tests.helpers import write_stack


def _manifest(stack: Path, **changes: object) -> Path:
    path = stack / "alertdrill.yml"
    manifest = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if key == "alertmanager":
            manifest.setdefault("alertmanager", {}).update(value)
        elif key.startswith("service:"):
            manifest["services"][key.split(":", 1)[1]].update(value)
        else:
            manifest[key] = value
    path.write_text(yaml.safe_dump(manifest))
    return stack


def test_flags_are_read_for_prometheus_the_peers_and_a_service(tmp_path: Path) -> None:
    stack = _manifest(write_stack(tmp_path), prometheus_flags=["--query.max-samples=1234567"],
                      alertmanager={"flags": ["--log.format=json"]},
                      **{"service:web": {"flags": ["--verbose"]}})
    spec = StackSpec.load(stack)
    assert spec.prometheus_flags == ("--query.max-samples=1234567",)
    assert spec.alertmanager_flags == ("--log.format=json",)
    assert spec.services["web"].flags == ("--verbose",)
    assert "flags" not in spec.services["web"].options


@pytest.mark.parametrize(("changes", "message"), [
    ({"prometheus_flags": "--x=1"}, "must be a list of strings"),
    ({"prometheus_flags": ["query.max-samples=1"]}, "is not a flag"),
    ({"prometheus_flags": ["--config.file=/etc/p.yml"]}, "--config.file is set by alertdrill"),
    ({"prometheus_flags": ["--rules.alert.resend-delay=1m"]}, "set by alertdrill"),
    ({"alertmanager": {"flags": ["--cluster.peer=10.0.0.1:9094"]}}, "--cluster.peer is set by"),
    ({"alertmanager": {"flags": ["--storage.path=/x"]}}, "--storage.path is set by"),
    ({"service:web": {"flags": [3]}}, "services.web.flags must be a list of strings"),
])
def test_bad_flags_are_refused_before_start(tmp_path: Path, changes: dict[str, object],
                                            message: str) -> None:
    stack = _manifest(write_stack(tmp_path), **changes)
    with pytest.raises(ConfigError, match=message):
        StackSpec.load(stack)


def test_a_flag_the_manifest_sets_replaces_the_harness_default() -> None:
    argv = ["prometheus", "--log.level=info", "--web.enable-lifecycle"]
    assert with_flags(argv, ("--log.level=debug", "--query.timeout=1m")) == [
        "prometheus", "--web.enable-lifecycle", "--log.level=debug", "--query.timeout=1m"]
    assert with_flags(argv, ()) == argv


@pytest.mark.slow
def test_the_local_backend_passes_them_to_prometheus_and_every_peer(tmp_path: Path) -> None:
    stack = _manifest(write_stack(tmp_path), prometheus_flags=["--query.max-samples=1234567"],
                      alertmanager={"flags": ["--log.format=json"]})
    with LocalStack(StackSpec.load(stack), StackOptions(peers=2)) as running:
        flags = requests.get(running.prometheus_url + "/api/v1/status/flags", timeout=2).json()
        assert flags["data"]["query.max-samples"] == "1234567"
        for index in range(2):
            log = (running.workdir / f"alertmanager-{index}.log").read_text()
            first = next(line for line in log.splitlines() if line.strip())
            assert first.startswith("{"), first  # --log.format=json took effect
    assert not os.path.exists(running.workdir)


def test_a_services_flags_reach_its_process_and_its_container(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alertdrill.backends import docker_services, local_services
    from alertdrill.backends.certs import make_authority
    from alertdrill.backends.local_services import LaunchContext
    from alertdrill.engine.stackspec import ServiceSpec
    from alertdrill.engine.timescale import TimeScale
    from alertdrill.kinds import KINDS

    root = tmp_path / "stack"
    root.mkdir()
    (root / "prometheus.yml").write_text("scrape_configs: []\n")
    (root / "alertmanager.yml").write_text("route: {receiver: r}\nreceivers: [{name: r}]\n")
    (root / "blackbox.yml").write_text("modules:\n  tls:\n    prober: tcp\n    tcp: {tls: true}\n")
    services = {
        "bb": ServiceSpec("bb", "blackbox-exporter", ("bb:9115",), {},
                          ("--log.level=debug", "--timeout-offset=0.2")),
        "target": ServiceSpec("target", "sample-target", ("target:9000",), {}, ("--verbose",)),
    }
    spec = StackSpec(root, root / "prometheus.yml", root / "alertmanager.yml", (), 1, services)
    monkeypatch.setattr("alertdrill.kinds.blackbox_exporter.find_binary", lambda n: f"/bin/{n}")
    launched: dict[str, list[str]] = {}

    class Recorder:
        def __init__(self, name: str, argv: list[str], *_: object, **__: object) -> None:
            launched[name] = argv

    monkeypatch.setattr(local_services, "ManagedProcess", Recorder)
    (tmp_path / "work").mkdir()
    ctx = LaunchContext(spec, tmp_path / "work", TimeScale(60.0, 0.25), "http://127.0.0.1:7", {},
                        lambda: ["http://127.0.0.1:1"], series={})
    for svc_spec in services.values():
        svc = local_services.build_service(ctx, svc_spec)
        svc.port = svc.port or 4321
        svc.launch()
    # the kind's --log.level=warn gives way to the manifest's; the rest is appended
    assert launched["bb"][-3:] == ["--web.listen-address=127.0.0.1:4321", "--log.level=debug",
                                   "--timeout-offset=0.2"]
    assert "--log.level=warn" not in launched["bb"]
    assert launched["target"][-3:-2] == ["--verbose"]  # before the harness's own --fd N

    (tmp_path / "docker").mkdir()
    ca = make_authority("test")
    dctx = docker_services.BuildContext(
        spec=spec, workdir=tmp_path / "docker", time_scale=60.0,
        images={k.image: f"img-{k.image}" for k in KINDS.values()}, client=None, labels={},
        stack_network="net", suffix="x", sink_name="sink", sink_port=8080,
        alertmanager_urls=["http://alertmanager-0:9093"], authority=lambda: ca, series={})
    command = docker_services.build_service(dctx, services["bb"]).command
    assert command[-2:] == ["--log.level=debug", "--timeout-offset=0.2"]
    assert "--log.level=warn" not in command
