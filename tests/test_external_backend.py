"""The external backend against a stack that is not its own.

The local backend starts the sample stack here (at K=60, so that it reacts in real seconds);
from then on the test plays the team that runs it: it routes the stack's receivers to the sink
alertdrill will run (rewrites the Alertmanager configs' delivery URLs and reloads the peers, as
the README's snippet asks a team to do), and gives "web" a stop and a start command that act on
it by a pid file (SIGTERM; a new process on the same address). ``alertdrill run --backend
external`` then sees only URLs and those commands. One child run holds every scenario, so the
staging stack starts once (CPU is shared).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from alertdrill.backends.base import StackOptions
from alertdrill.backends.external import ExternalStack, action_problems
from alertdrill.backends.external_config import load_external
from alertdrill.backends.local import LocalStack
from alertdrill.engine.claimnames import ParsedStep
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError
from alertdrill.settings import Settings
from tests.helpers import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _copy_configs(dest: Path) -> None:
    dest.mkdir(parents=True)
    for name in ("prometheus.yml", "alertmanager.yml"):
        shutil.copy(ROOT / "stack" / "sample" / name, dest / name)
    for name in ("rules", "templates"):
        shutil.copytree(ROOT / "stack" / "sample" / name, dest / name)


def _manifest(staging: dict[str, Any], stop: str, start: str) -> str:
    peers = ", ".join(staging["alertmanagers"])
    return textwrap.dedent(f"""\
        alertmanager: {{peers: 3}}
        services:
          web: {{kind: sample-target, address: web:8080}}
          db: {{kind: sample-target, address: db:9187}}
        external:
          prometheus: {{url: {staging['prometheus']}}}
          alertmanagers: [{peers}]
          sink: {{listen: "127.0.0.1:{staging['sink']}", smtp_listen: "127.0.0.1:{staging['smtp']}"}}
          services:
            web:
              stop: {json.dumps(stop)}
              start: {json.dumps(start)}
              ready_url: {staging['web']}/metrics
              timeout: 20s
        """)


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Someone else's stack: started by the local backend, then addressed only by URL."""
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus is not installed")
    root = tmp_path_factory.mktemp("staging")
    stack = LocalStack(StackSpec.load(ROOT / "stack" / "sample"), StackOptions(time_scale=60))
    stack.start()
    pidfile = root / "web.pid"
    try:
        sink, smtp = _free_port(), _free_port()
        # The team's part: route the receivers to alertdrill's sink, reload every peer.
        for index, url in enumerate(stack.alertmanager_urls):
            path = stack.workdir / f"alertmanager-{index}.yml"
            path.write_text(path.read_text()
                            .replace(stack.sink_url, f"http://127.0.0.1:{sink}")
                            .replace(f"127.0.0.1:{stack.smtp_port}", f"127.0.0.1:{smtp}"))
            assert requests.post(url + "/-/reload", timeout=5).status_code == 200
        web = stack.service("web")
        assert web.process is not None
        pidfile.write_text(str(web.process.pid))
        yield {"prometheus": stack.prometheus_url, "alertmanagers": stack.alertmanager_urls,
               "sink": sink, "smtp": smtp, "web": web.url, "web_port": web.port,
               "pidfile": pidfile, "root": root}
    finally:
        if pidfile.exists():  # the web process the start command launched, if it runs
            try:
                os.kill(int(pidfile.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
        stack.close()


def _features(staging: dict[str, Any]) -> Path:
    """The scenarios and two stack directories: one whose web commands work, one whose stop
    command does nothing (the broken case a claim must catch)."""
    features = staging["root"] / "features"
    pid = staging["pidfile"]
    # The web process is the test's child: once stopped it is a zombie until reaped, so
    # "is it running" is asked of its port (as a health check would), not of its pid. Like
    # `systemctl start`, a start of a running service does nothing.
    script = staging["root"] / "web.sh"
    script.write_text(textwrap.dedent(f"""\
        #!/bin/bash
        answers() {{ (exec 3<>/dev/tcp/127.0.0.1/{staging['web_port']}) 2>/dev/null; }}
        case "$1" in
          stop) kill -TERM "$(cat {pid})"; while answers; do sleep 0.05; done ;;
          start) answers || {{ {sys.executable} -m alertdrill.targets.sample \\
                   --listen 127.0.0.1:{staging['web_port']} --name web >>{staging['root']}/web.log 2>&1 &
                 echo $! >{pid}; }} ;;
        esac
        """))
    stop, start = f"bash {script} stop", f"bash {script} start"
    for name, stop_command in (("staging", stop), ("staging-nostop", "true")):
        _copy_configs(features / name)
        (features / name / "alertdrill.yml").write_text(_manifest(staging, stop_command, start))
    (features / "external.feature").write_text(textwrap.dedent("""\
        Feature: a stack someone else runs, by URL and declared commands

          Scenario: routing on staging
            Given the stack "staging" is running
            When the alert "CheckoutSlow" is pushed to Alertmanager with labels {L}
            Then only "oncall-pager" and "web-frontend" are notified of "CheckoutSlow" within 3 seconds
            When the alert "CheckoutSlow" is resolved in Alertmanager with labels {L}
            Then "web-frontend" is notified that "CheckoutSlow" resolved within 10 seconds

          Scenario: web stops and starts on staging
            Given the stack "staging" is running
            When the service "web" is stopped
            Then the alert "TargetDown" with labels instance=web:8080 fires within 20 seconds
            And "team-web" is notified via slack of "TargetDown" within 20 seconds
            When the service "web" is started again
            Then the alert "TargetDown" resolves within 20 seconds
            And "team-web" is notified that "TargetDown" resolved within 20 seconds

          Scenario: what a scenario leaves in staging's Alertmanagers is taken back at its end
            Given the stack "staging" is running
            When a silence for alertname="LeftBehind" is created by "drill" for 1 hour with comment "test"
            And the alert "LeftBehind" is pushed to Alertmanager with labels severity=info
            Then "LeftBehind" is silenced within 10 seconds

          Scenario: a stop command that does nothing is caught
            Given the stack "staging-nostop" is running
            When the service "web" is stopped
            Then the alert "TargetDown" with labels instance=web:8080 fires within 4 seconds

          Scenario: faults the stack does not declare are refused
            Given the stack "staging" is running
            When the service "db" is stopped
            And the service "web" is paused
            And the disk of "web" is filled to 95 %
        """).replace("{L}", "severity=critical, team=web, component=frontend"))
    return features


def _cli(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alertdrill.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, "ALERTDRILL_TIME_SCALE": ""})


@pytest.mark.slow
def test_scenarios_on_a_stack_addressed_only_by_url_and_commands(staging: dict[str, Any]) -> None:
    features = _features(staging)
    out = staging["root"] / "reports"
    result = _cli(["run", str(features), "--backend", "external", "--time-scale", "1",
                   "--report-dir", str(out)], staging["root"], timeout=240)
    records = {r["scenario"]["name"]: r for r in
               (json.loads(p.read_text()) for p in (out / "drill").glob("*.json"))}
    outcomes = {name: r["outcome"] for name, r in records.items()}
    assert outcomes == {"routing on staging": "passed",
                        "web stops and starts on staging": "passed",
                        "what a scenario leaves in staging's Alertmanagers is taken back at its "
                        "end": "passed",
                        "a stop command that does nothing is caught": "failed",
                        "faults the stack does not declare are refused": "error"}, result.stdout
    assert result.returncode == 1
    # Every command is on the timeline with who ran it; the stop was undone by the start.
    commands = [e for e in records["web stops and starts on staging"]["stacks"][0]["timeline"]
                if e["kind"] == "command"]
    assert [(e["detail"]["action"], e["detail"]["exit_code"]) for e in commands] == [
        ("stop", 0), ("start", 0)]
    assert all("@" in e["detail"]["by"] for e in commands)
    # The broken stop: nothing happened, and the claim said so.
    assert "TargetDown" in records["a stop command that does nothing is caught"]["message"]
    refused = records["faults the stack does not declare are refused"]
    assert not refused["stacks"], "refused before the scenario's stack started"
    message = refused["message"]
    assert "the service 'db' declares no actions" in message
    assert "the service 'web' declares no pause: command (declared: stop, start)" in message
    assert "fill-disk needs a service alertdrill runs itself" in message
    # The pushed alert was resolved and the silence expired when that scenario ended.
    for url in staging["alertmanagers"]:
        alerts = requests.get(url + "/api/v2/alerts", params={"filter": 'alertname="LeftBehind"'},
                              timeout=5).json()
        assert alerts == [], f"{url} still holds the pushed alert"
        silences = requests.get(url + "/api/v2/silences", timeout=5).json()
        assert [x["status"]["state"] for x in silences
                if x["comment"] == "test"] == ["expired"], url
    # web runs again: the one process the start command launched (a second start did nothing).
    assert requests.get(staging["web"] + "/metrics", timeout=5).status_code == 200
    assert "busy" not in (staging["root"] / "web.log").read_text()


# -- without a stack --------------------------------------------------------------------------
def test_time_scaling_is_refused_before_anything_starts(tmp_path: Path) -> None:
    _stack(tmp_path / "features", "external:\n  prometheus: http://127.0.0.1:9\n  alertmanagers: "
           "[http://127.0.0.1:9]\n")
    (tmp_path / "features" / "x.feature").write_text(
        'Feature: f\n  Scenario: s\n    Given the stack "s" is running\n')
    for args in (["--time-scale", "60"], []):  # the default K=60 too
        result = _cli(["run", str(tmp_path / "features"), "--backend", "external",
                       "--report-dir", str(tmp_path / "out"), *args], tmp_path, timeout=60)
        assert result.returncode == 4, result.stdout + result.stderr
        assert "the external backend cannot scale time (time scale 60)" in result.stderr
        assert "--time-scale 1" in result.stderr
        assert not (tmp_path / "out" / "drill").exists(), "nothing ran"


def test_the_settings_refuse_a_scaled_external_run() -> None:
    with pytest.raises(ConfigError, match="cannot scale time"):
        Settings.from_env({}, backend="external")
    assert Settings.from_env({}, backend="external", time_scale=1).time_scale == 1


def _stack(tmp_path: Path, external: str) -> StackSpec:
    _copy_configs(tmp_path / "s")
    (tmp_path / "s" / "alertdrill.yml").write_text(
        "alertmanager: {peers: 1}\nservices:\n  web: {kind: sample-target, address: web:8080}\n"
        + external)
    return StackSpec.load(tmp_path / "s")


def test_the_manifest_is_checked_before_anything_starts(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("s3cret-token\n")
    spec = _stack(tmp_path, textwrap.dedent("""\
        external:
          prometheus: https://prom.staging:9090/
          alertmanagers: [{url: https://am.staging:9093, bearer_token_file: ../token}]
          http: {basic_auth: {username: drill, password_env: DRILL_PW}, insecure_skip_verify: true}
          services:
            web: {stop: systemctl stop web, start: systemctl start web}
        """))
    os.environ["DRILL_PW"] = "pw-123"
    try:
        config = load_external(spec.external, spec.root)
    finally:
        del os.environ["DRILL_PW"]
    assert config.prometheus.url == "https://prom.staging:9090"
    assert config.prometheus.http.session().auth == ("drill", "pw-123")
    peer = config.alertmanagers[0].http.session()
    assert peer.headers["Authorization"] == "Bearer s3cret-token" and peer.verify is False
    assert config.secrets() == {"pw-123", "s3cret-token"}
    for broken, error in [
        ("external:\n  alertmanagers: [http://a:9093]\n", "prometheus: .* is missing"),
        ("external:\n  prometheus: prom:9090\n  alertmanagers: [http://a:9093]\n",
         "not an http:// or https:// URL"),
        ("external:\n  prometheus: http://p:9090\n  alertmanagers: [http://a:9093]\n"
         "  services: {web: {stop: x}}\n", "stop: is declared without start:"),
        ("external:\n  prometheus: http://p:9090\n  alertmanagers: [http://a:9093]\n"
         "  services: {web: {reboot: x}}\n", "unknown key.* reboot"),
    ]:
        bad = _stack(tmp_path / str(abs(hash(broken))), broken)
        with pytest.raises(ConfigError, match=error):
            load_external(bad.external, bad.root)
    wrong = _stack(tmp_path / "w", "external:\n  prometheus: http://p:9090\n  alertmanagers: "
                   "[http://a:9093, http://b:9093]\n  services: {wbe: {start: x}}\n")
    with pytest.raises(ConfigError, match="lists 2 peer"):
        ExternalStack(wrong, StackOptions(time_scale=1))
    one = _stack(tmp_path / "o", "external:\n  prometheus: http://p:9090\n  alertmanagers: "
                 "[http://a:9093]\n  services: {wbe: {start: x}}\n")
    with pytest.raises(ConfigError, match=r'no service .wbe. \(did you mean "web"\?\)'):
        ExternalStack(one, StackOptions(time_scale=1))
    with pytest.raises(ConfigError, match="cannot scale time"):
        ExternalStack(one, StackOptions(time_scale=60))


def test_undeclared_actions_are_listed_per_step(tmp_path: Path) -> None:
    spec = _stack(tmp_path, "external:\n  prometheus: http://p:9090\n  alertmanagers: "
                  "[http://a:9093]\n  services: {web: {pause: p, resume: r}}\n")
    steps = [ParsedStep("Given the stack", 1, {}, starts_stack=""),
             ParsedStep('When the service "web" is paused', 2, {}, acts_on=("web", ("pause", "resume"))),
             ParsedStep('When the service "web" is killed', 3, {}, acts_on=("web", ("kill", "start"))),
             ParsedStep('When the service "api" is stopped', 4, {}, acts_on=("api", ("stop", "start")))]
    found = action_problems(steps, lambda name: spec.root)
    assert [p.split(" ‹")[0] for p in found] == ["line 3", "line 4"]
    assert "declares no kill: command (declared: pause, resume)" in found[0]
    assert action_problems(steps[:2], lambda name: spec.root) == []
