"""The Docker backend: what it derives from a stack description, and the stack in containers.

Tests marked ``docker`` start a Docker engine if none answers and build the local images when
missing (as ``make images`` does); they skip, saying why, only when no engine can be had. Every
one of them checks that nothing carrying its run's or stack's label is left afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from alertdrill.backends import dockerd
from alertdrill.backends.base import StackOptions
from alertdrill.backends.containers import (
    OWNER_LABEL,
    RUN_LABEL,
    labelled_containers,
    owner_alive,
    owner_label,
    remove_leftovers,
)
from alertdrill.backends.docker import STACK_LABEL, DockerStack, main
from alertdrill.backends.docker_services import HOST_PORTS, aliases_of, free_host_port, listen_port
from alertdrill.engine.drill import Drill
from alertdrill.engine.stackspec import ServiceSpec, StackSpec
from alertdrill.errors import ConfigError, StartupError, StepError
from alertdrill.settings import Settings
from tests.helpers import LONG_FEATURE, ROOT, docker_engine_or_skip, with_signals

docker = pytest.mark.docker


# -- pure parts -----------------------------------------------------------------------------
def test_a_service_listens_on_its_written_port_under_the_written_names() -> None:
    app = ServiceSpec("web-app", "app", ("web-app:80",))
    assert listen_port(app) == 80 and aliases_of(app) == ["web-app"]
    probe = ServiceSpec("ocsp", "ocsp-responder", ("http://ocsp-responder:8080/ocsp",))
    assert listen_port(probe) == 8080 and aliases_of(probe) == ["ocsp", "ocsp-responder"]
    assert listen_port(ServiceSpec("pg", "postgres")) == 5432


@pytest.mark.parametrize("module", ["alertdrill.targets.sample", "alertdrill.targets.ocsp"])
def test_a_python_service_binds_its_own_address_with_listen(module: str) -> None:
    """How services run in containers: --listen HOST:PORT instead of an inherited --fd."""
    port = free_host_port()
    child = subprocess.Popen([sys.executable, "-m", module, "--listen", f"127.0.0.1:{port}"],
                             stderr=subprocess.PIPE, text=True)
    try:
        path = "/metrics" if module.endswith("sample") else "/-/control"
        _wait(lambda: requests.get(f"http://127.0.0.1:{port}{path}", timeout=1).ok)
    finally:
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=5) == 0, child.stderr.read() if child.stderr else ""
    both = subprocess.run([sys.executable, "-m", module, "--fd", "3", "--listen", ":1"],
                          capture_output=True, text=True)
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_host_ports_are_free_and_below_the_ephemeral_range() -> None:
    ports = {free_host_port() for _ in range(20)}
    assert all(HOST_PORTS[0] <= p < HOST_PORTS[1] < 32768 for p in ports)


def test_docker_is_a_backend_and_an_unknown_one_is_refused() -> None:
    assert Settings.from_env({}, backend="docker").backend == "docker"
    with pytest.raises(ConfigError, match="local, docker"):
        Settings.from_env({"ALERTDRILL_BACKEND": "k8s"})


def test_two_services_claiming_one_name_are_refused_before_anything_starts(
        tmp_path: Path) -> None:
    spec = StackSpec.load(ROOT / "stack" / "sample")
    clash = StackSpec(spec.root, spec.prometheus_config, spec.alertmanager_config, spec.rule_files,
                      3, {"web": ServiceSpec("web", "sample-target", ("web:8080",)),
                          "db": ServiceSpec("db", "sample-target", ("web:9187",))})
    stack = DockerStack(clash, StackOptions())
    try:
        with pytest.raises(ConfigError, match="'web' would belong to both 'web' and 'db'"):
            stack._check_names()
    finally:
        stack.close()


def test_partition_steps_need_the_docker_backend_and_say_so() -> None:
    """A stack of processes on loopback (no disconnect) refuses every network cut clearly."""
    local = SimpleNamespace(prometheus_url="http://127.0.0.1:1", alertmanager_urls=[],
                            sink_url="http://127.0.0.1:1", startup={}, warnings=[],
                            service=lambda name: SimpleNamespace(name=name))
    drill = Drill(local, Settings.from_env({}))  # type: ignore[arg-type]
    for scope in ("all", "peers", "alertmanagers"):
        with pytest.raises(StepError, match="--backend docker"):
            drill.isolate_service("alertmanager-1", scope)
    with pytest.raises(StepError, match="was not cut off"):
        drill.reconnect_service("alertmanager-1")


def test_an_owner_label_names_this_process_and_a_dead_one_is_gone() -> None:
    assert owner_alive(owner_label())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host = owner_label().split(":")[0]
    assert not owner_alive(f"{host}:{child.pid}:1.00")
    assert owner_alive("some-other-host:1:1.00"), "another host's process cannot be judged"


# -- in containers ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine() -> dockerd.Engine:
    return docker_engine_or_skip()


def _labelled(client, label: str) -> list[str]:
    return ([f"container {c.name}" for c in labelled_containers(client, label)]
            + [f"network {n.name}" for n in client.networks.list(filters={"label": label})]
            + [f"volume {v.name}" for v in client.volumes.list(filters={"label": label})])


@docker
@pytest.mark.slow
def test_the_sample_stack_runs_in_containers_and_leaves_nothing(engine: dockerd.Engine) -> None:
    spec = StackSpec.load(ROOT / "stack" / "sample")
    stack = DockerStack(spec, StackOptions(), client=engine.client)
    label = f"{STACK_LABEL}={stack.id}"
    try:
        stack.start()
        assert stack.startup["ready"] <= stack.startup["usable"]
        names = {c.name for c in labelled_containers(engine.client, label, running_only=True)}
        assert names == {f"{n}-{stack.id}" for n in stack.service_names()}
        for container in labelled_containers(engine.client, label, running_only=True):
            assert container.labels[RUN_LABEL] and container.labels[OWNER_LABEL] == owner_label()
            for bindings in container.attrs["NetworkSettings"]["Ports"].values():
                assert {b["HostIp"] for b in bindings or []} <= {"127.0.0.1"}, container.name
        assert len(engine.client.networks.list(filters={"label": label})) == 3
        # Readiness as on the local backend, through the published ports.
        assert requests.get(stack.prometheus_url + "/-/ready", timeout=2).status_code == 200
        peers = requests.get(stack.alertmanager_urls[0] + "/api/v2/status", timeout=2).json()
        assert len(peers["cluster"]["peers"]) == 3
        # Prometheus scrapes the targets by the addresses prometheus.yml writes.
        targets = requests.get(stack.prometheus_url + "/api/v1/targets", timeout=2).json()
        scraped = {t["scrapeUrl"] for t in targets["data"]["activeTargets"]}
        assert scraped == {"http://web:8080/metrics", "http://db:9187/metrics"}

        web = stack.service("web")
        url = web.url
        web.stop()
        assert not web.running()
        with pytest.raises(requests.RequestException):
            requests.get(url + "/metrics", timeout=1)
        web.start()
        _wait(lambda: requests.get(url + "/metrics", timeout=1).status_code == 200)
        assert web.url == url, "a restarted service keeps its published port"

        web.pause()
        with pytest.raises(requests.Timeout):
            requests.get(url + "/metrics", timeout=0.5)
        web.resume()
        _wait(lambda: requests.get(url + "/metrics", timeout=1).status_code == 200)

        left = stack.disconnect("alertmanager-1", "peers")
        assert left == [stack.cluster_network]
        _wait(lambda: len(requests.get(stack.alertmanager_urls[0] + "/api/v2/status",
                                       timeout=1).json()["cluster"]["peers"]) == 2)
        stack.reconnect("alertmanager-1", "peers")
        _wait(lambda: len(requests.get(stack.alertmanager_urls[0] + "/api/v2/status",
                                       timeout=1).json()["cluster"]["peers"]) == 3, 15)
        with pytest.raises(ConfigError, match="not an Alertmanager peer"):
            stack.disconnect("web", "peers")
    finally:
        stack.close()
    assert _labelled(engine.client, label) == []
    assert not stack.workdir.exists()


@docker
@pytest.mark.slow
def test_a_container_that_exits_during_start_up_fails_the_start_and_leaves_nothing(
        engine: dockerd.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Prometheus's flags given to the Alertmanager image: it exits, and start() says so."""
    from alertdrill.backends.docker import resolve_images

    alertmanager = resolve_images(engine.client, ["alertmanager"])["alertmanager"]
    monkeypatch.setenv("ALERTDRILL_IMAGE_PROMETHEUS", alertmanager)
    stack = DockerStack(StackSpec.load(ROOT / "stack" / "sample"), StackOptions(),
                        client=engine.client)
    with pytest.raises(StartupError, match=r"prometheus .* exited"):
        stack.start()
    assert _labelled(engine.client, f"{STACK_LABEL}={stack.id}") == []
    assert not stack.workdir.exists()


@docker
def test_leftovers_of_a_dead_owner_are_removed_and_a_live_runs_kept(
        engine: dockerd.Engine) -> None:
    dead_run, live_run = f"test-dead-{uuid.uuid4().hex[:6]}", f"test-live-{uuid.uuid4().hex[:6]}"
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host = owner_label().split(":")[0]
    dead = engine.client.networks.create(
        f"alertdrill-{dead_run}", labels={RUN_LABEL: dead_run,
                                          OWNER_LABEL: f"{host}:{child.pid}:1.00"})
    live = engine.client.networks.create(
        f"alertdrill-{live_run}", labels={RUN_LABEL: live_run, OWNER_LABEL: owner_label()})
    try:
        result = remove_leftovers(client=engine.client)
        assert result.removed.get(dead_run) == [f"network {dead.name}"]
        assert live_run in result.kept and "still runs" in result.kept[live_run]
        assert f"run {dead_run}: removed network" in result.summary()
        assert _labelled(engine.client, f"{RUN_LABEL}={live_run}") == [f"network {live.name}"]
    finally:
        for net in (dead, live):
            try:
                net.remove()
            except Exception:
                pass


def test_the_leftovers_command_needs_its_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([])
    assert "--remove-leftovers" in capsys.readouterr().err


# -- interrupted mid-scenario ------------------------------------------------------------------

@docker
@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_an_interrupted_docker_run_leaves_no_container_network_or_volume(
        engine: dockerd.Engine, tmp_path: Path, sig: signal.Signals) -> None:
    """SIGINT: the run cleans up itself. SIGKILL: nothing can run in the child, its containers
    stay — and `--remove-leftovers` (no --all) removes exactly those, its owner being dead."""
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    label = f"{RUN_LABEL}={run_id}"
    (tmp_path / "f.feature").write_text(LONG_FEATURE.format(stack=ROOT / "stack" / "sample"))
    (tmp_path / "test_f.py").write_text(
        f"from pytest_bdd import scenarios\nscenarios({str(tmp_path / 'f.feature')!r})\n")
    env = {**os.environ, "ALERTDRILL_RUN_ID": run_id, "ALERTDRILL_BACKEND": "docker",
           "ALERTDRILL_TMPDIR": str(tmp_path / "tmp"),
           "ALERTDRILL_REPORT_DIR": str(tmp_path / "records")}
    child = subprocess.Popen(  # SIGINT at its default, whatever this suite inherited
        with_signals([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                      str(tmp_path / "test_f.py"), "--rootdir", str(ROOT), "-c",
                      str(ROOT / "pyproject.toml")]),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = ""
    try:
        # Up, and the fault applied: the web container has stopped, the others run.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            containers = labelled_containers(engine.client, label)
            stopped = [c for c in containers if c.name.startswith("web-") and c.status == "exited"]
            if len(containers) == 7 and stopped:
                break
            assert child.poll() is None, child.stdout.read() if child.stdout else ""
            time.sleep(0.3)
        else:
            pytest.fail("the child run never stopped the web container")
        time.sleep(1)  # into the 60-minute Then-step
        child.send_signal(sig)
        out, _ = child.communicate(timeout=60)
        if sig == signal.SIGKILL:
            assert len(_labelled(engine.client, label)) == 7 + 3, "SIGKILL leaves them"
            result = remove_leftovers(client=engine.client)
            assert run_id in result.removed, result.summary()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        left = _labelled(engine.client, label)
        if left:
            remove_leftovers(all_runs=False, client=engine.client)
            from alertdrill.backends.containers import remove_labelled
            remove_labelled(engine.client, label)
    assert left == [], f"left behind: {left}\n{out}"
    assert child.returncode != 0


def _wait(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (requests.RequestException, ValueError, KeyError) as exc:
            last = exc
        time.sleep(0.1)
    pytest.fail(f"not within {timeout}s ({last})")
