"""The local backend against the real binaries: start, read back ports, stop, clean up."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import requests

from alertdrill.backends.base import StackOptions
from alertdrill.backends.local import LocalStack
from alertdrill.backends.process import live_processes
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError, MissingBinaryError, PortBusyError, StartupError
from tests.helpers import ROOT, write_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sample_stack() -> LocalStack:
    stack = LocalStack(StackSpec.load(ROOT / "stack" / "sample")).start()
    yield stack
    stack.close()


def test_stack_is_usable_on_loopback_with_os_chosen_ports(sample_stack: LocalStack) -> None:
    stack = sample_stack
    assert set(stack.startup) >= {"preflight", "spawned", "ready", "usable"}
    assert len(stack.alertmanager_urls) == 3
    for url in [stack.prometheus_url, stack.sink_url, *stack.alertmanager_urls]:
        assert url.startswith("http://127.0.0.1:")
        assert not url.endswith(":0")
    status = requests.get(stack.alertmanager_urls[0] + "/api/v2/status", timeout=2).json()
    assert len(status["cluster"]["peers"]) == 3, "the peers gossip as one cluster"
    ams = requests.get(stack.prometheus_url + "/api/v1/alertmanagers", timeout=2).json()
    assert len(ams["data"]["activeAlertmanagers"]) == 3


def test_every_service_is_its_own_process_group(sample_stack: LocalStack) -> None:
    names = sample_stack.service_names()
    assert {"prometheus", "sink", "web", "db", "alertmanager-0", "alertmanager-2"} <= set(names)
    for name in names:
        proc = sample_stack.service(name).process
        assert proc is not None
        assert os.getpgid(proc.pid) == proc.pid != os.getpgid(0)


def test_unknown_service_lists_the_known_ones(sample_stack: LocalStack) -> None:
    with pytest.raises(ConfigError, match=r"services of this stack: .*prometheus"):
        sample_stack.service("nginx")


def test_stop_and_start_keep_the_address(sample_stack: LocalStack) -> None:
    web = sample_stack.service("web")
    url = web.url
    web.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/metrics", timeout=1)
    web.start()
    web.wait_ready(5)
    assert web.url == url
    assert "sample_info" in requests.get(url + "/metrics", timeout=2).text


def test_close_removes_processes_and_workdir(tmp_path: Path) -> None:
    before = {p.pid for p in live_processes()}
    stack = LocalStack(StackSpec.load(ROOT / "stack" / "sample"), StackOptions(peers=1)).start()
    pids = [stack.service(n).process.pid for n in stack.service_names()]
    workdir = stack.workdir
    assert workdir.is_dir() and (workdir / "prometheus.yml").is_file()
    stack.close()
    stack.close()  # idempotent
    assert not workdir.exists()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    assert {p.pid for p in live_processes()} == before


def _is_zombie(pid: int) -> bool:
    try:
        return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def test_invalid_alertmanager_config_fails_before_anything_starts(tmp_path: Path) -> None:
    stack_dir = write_stack(tmp_path, "route:\n  receiver: nobody\nreceivers:\n  - name: somebody\n")
    before = {p.pid for p in live_processes()}
    with pytest.raises(ConfigError) as err:
        LocalStack(StackSpec.load(stack_dir)).start()
    text = str(err.value)
    assert "alertmanager.yml is invalid" in text and "nobody" in text
    assert "amtool check-config" in text
    assert {p.pid for p in live_processes()} == before


def test_missing_binary_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTDRILL_PROMETHEUS", "/nonexistent/prometheus")
    with pytest.raises(MissingBinaryError, match="ALERTDRILL_PROMETHEUS"):
        LocalStack(StackSpec.load(ROOT / "stack" / "sample")).start()
    monkeypatch.setenv("ALERTDRILL_PROMETHEUS", "")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MissingBinaryError, match="apt-get install -y prometheus"):
        LocalStack(StackSpec.load(ROOT / "stack" / "sample")).start()


def test_busy_port_is_named(tmp_path: Path) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        with pytest.raises(PortBusyError, match=f"127.0.0.1:{port} is already in use"):
            LocalStack(StackSpec.load(ROOT / "stack" / "sample"),
                       StackOptions(sink_http_port=port)).start()
    finally:
        holder.close()


def test_a_service_that_dies_at_start_is_reported_with_its_log(tmp_path: Path) -> None:
    stack_dir = write_stack(tmp_path)
    prom = stack_dir / "prometheus.yml"
    # Valid YAML that Prometheus itself rejects: a label name may not start with a digit.
    prom.write_text(prom.read_text().replace("global:\n", "global:\n  external_labels: {0bad: x}\n"))
    with pytest.raises(StartupError, match="prometheus exited with code"):
        LocalStack(StackSpec.load(stack_dir), StackOptions(peers=1)).start()


def test_rules_true_on_missing_data_load_only_once_targets_are_up(tmp_path: Path) -> None:
    """An absent() rule would fire during Prometheus's first 5 s without targets: its rules
    wait aside; a stack without one loads its rules at start (and pays no reload)."""
    from alertdrill.backends.common import PENDING_RULES, defer_rules

    plain = tmp_path / "a" / "rules"
    plain.mkdir(parents=True)
    (plain / "00-x.yml").write_text("groups:\n- name: g\n  rules:\n  - alert: Down\n"
                                    "    expr: up == 0\n")
    assert defer_rules(plain) is None
    assert (plain / "00-x.yml").is_file()
    absent = tmp_path / "b" / "rules"
    absent.mkdir(parents=True)
    (absent / "00-x.yml").write_text("groups:\n- name: g\n  rules:\n  - alert: Gone\n"
                                     "    expr: absent(up{job=\"x\"})\n- name: h\n  rules: []\n")
    assert defer_rules(absent) == 2
    assert list(absent.iterdir()) == []
    assert (absent.with_name(PENDING_RULES) / "00-x.yml").is_file()
