"""The external backend: a stack someone else runs (a staging stack), reached only by URL.

Nothing of the stack is started or signalled by alertdrill. It observes Prometheus and every
Alertmanager peer through their HTTP APIs (with the credentials and TLS the manifest's
``external:`` section gives, :mod:`alertdrill.backends.external_config`), runs its own
notification sink locally — the team routes a test receiver's webhook to it — and acts on a
service only through the shell commands the manifest declares for it (``stop:``, ``start:``,
``kill:``, ``pause:``, ``resume:``). Each command is recorded on the scenario's timeline with
who ran it, and every fault is undone by its declared counterpart on every exit path (the
faults' own revert, which ``Drill.close`` runs).

What it refuses, before anything starts: a time scale other than 1 (``Settings.validate``: the
stack's configs are its own, so it runs in real time), a manifest whose ``external:`` section
is incomplete, and any step acting on a service in a way the manifest does not declare
(:func:`action_problems`, called by the pytest plugin before the scenario's stack starts).
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from alertdrill.analysis.seriesplan import did_you_mean
from alertdrill.backends.base import StackOptions
from alertdrill.backends.common import StackBase
from alertdrill.backends.external_config import (
    ACTIONS,
    Endpoint,
    ExternalConfig,
    ServiceActions,
    load_external,
)
from alertdrill.backends.external_k8s import KubernetesActions
from alertdrill.backends.local_services import LocalService, wait_all_ready
from alertdrill.backends.process import ManagedProcess, keep_tempdir, remove_tempdir
from alertdrill.engine import timeline as tl
from alertdrill.engine.claimnames import BUILTIN_SERVICES
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError, StartupError, StepError
from alertdrill.kinds.capabilities import CapabilityT
from alertdrill.sink.integrations import RECEIVER_WORDS, receiver_integrations
from alertdrill.sink.protocol import Destination
from alertdrill.yamlio import load_yaml

if TYPE_CHECKING:
    from alertdrill.engine.claimnames import ParsedStep
    from alertdrill.engine.timeline import Timeline

logger = logging.getLogger(__name__)
_HINT = "see README › Backends › external"


def operator() -> str:
    """Who runs the commands: the user and the machine, as the timeline records them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


@dataclass
class CommandRun:
    """One declared command as it ran."""

    service: str
    action: str
    command: str
    by: str
    exit_code: int
    seconds: float
    output: str

    def note(self) -> str:
        """How the timeline tells it."""
        return (f"{self.action} {self.service}: `{self.command}` run by {self.by} → exit "
                f"{self.exit_code} in {self.seconds:.2f} s")


def _shell(command: str, timeout: float, service: str, action: str) -> tuple[int, str]:
    """Run a declared command; its exit status and what it printed."""
    env = {**os.environ, "ALERTDRILL_SERVICE": service, "ALERTDRILL_ACTION": action}
    try:
        done = subprocess.run(command, shell=True, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        return -1, f"timed out after {timeout:g} s: {exc.output or ''}"
    return done.returncode, (done.stdout + done.stderr).strip()


@dataclass
class ExternalService:
    """A service of someone else's stack: its URL (if it has one) and its declared actions."""

    name: str
    base_url: str = ""
    actions: ServiceActions | None = None
    session: requests.Session = field(default_factory=requests.Session)
    record: Callable[[CommandRun], None] = lambda run: None
    state: str = "running"
    last_output: str = ""
    _k8s: KubernetesActions | None = None

    @property
    def url(self) -> str:
        """Its base URL ("" when the manifest gives it none)."""
        return self.base_url

    def capability(self, wanted: type[CapabilityT]) -> CapabilityT | None:
        """None: alertdrill owns no file, log or control of a service it did not start."""
        return None

    def _run(self, action: str) -> CommandRun:
        actions = self.actions
        if actions is None or action not in actions.declared():
            raise StepError(f'the service "{self.name}" declares no {action}: command',
                            f"declare it under external.services.{self.name}.{action} in "
                            "alertdrill.yml, or leave the step out; " + _HINT)
        started = time.monotonic()
        if actions.kubernetes is not None:
            command = f"kubernetes {action} {actions.kubernetes.describe()}"
            try:
                code, output = 0, self._kubernetes().run(action)
            except StepError as exc:
                code, output = 1, str(exc)
        else:
            command = actions.commands[action]
            code, output = _shell(command, actions.timeout, self.name, action)
        run = CommandRun(self.name, action, command, operator(), code,
                         time.monotonic() - started, output[-2000:])
        self.last_output = output
        self.record(run)
        return run

    def _kubernetes(self) -> KubernetesActions:
        assert self.actions is not None and self.actions.kubernetes is not None
        if self._k8s is None:
            self._k8s = KubernetesActions(self.actions.kubernetes)
        return self._k8s

    def _act(self, action: str, state: str) -> None:
        """Run ``action``; when it fails, run its undo at once (it may have half-happened)."""
        run = self._run(action)
        if run.exit_code == 0:
            self.state = state
            return
        undo = ACTIONS.get(action)
        if undo is not None:
            try:
                self._run(undo)
            except StepError:
                logger.exception("undoing the failed %s of %s failed", action, self.name)
        raise StepError(f'{action} of "{self.name}" failed: `{run.command}` exited with '
                        f"{run.exit_code}" + (f": {run.output.splitlines()[-1]}"
                                              if run.output else ""),
                        f"run it by hand to see why; {_HINT}")

    def stop(self) -> None:
        """The declared ``stop:`` command."""
        self._act("stop", "stopped")

    def kill(self) -> None:
        """The declared ``kill:`` command."""
        self._act("kill", "stopped")

    def start(self) -> None:
        """The declared ``start:`` command."""
        self._act("start", "running")

    def pause(self) -> None:
        """The declared ``pause:`` command."""
        self._act("pause", "paused")

    def resume(self) -> None:
        """The declared ``resume:`` command."""
        self._act("resume", "running")

    def running(self) -> bool:
        """As far as its commands say: not stopped."""
        return self.state != "stopped"

    def is_ready(self, session: requests.Session) -> bool:
        """Its ``ready:`` command exits 0, or its ``ready_url`` (else its URL's ``/-/ready``)
        answers 200; a service with neither counts as ready once its command returned."""
        actions = self.actions
        if actions is not None and actions.kubernetes is not None and not actions.ready_url:
            return self._kubernetes().ready()
        if actions is not None and actions.ready:
            try:
                return subprocess.run(actions.ready, shell=True, capture_output=True,
                                      timeout=5, check=False).returncode == 0
            except subprocess.TimeoutExpired:
                return False
        url = actions.ready_url if actions is not None and actions.ready_url else (
            f"{self.base_url}/-/ready" if self.base_url else None)
        if url is None:
            return True
        try:
            return self.session.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def log_tail(self, lines: int = 15) -> str:
        """What its last command printed."""
        return "\n".join(self.last_output.splitlines()[-lines:])


class ExternalStack(StackBase["ExternalService | LocalService"]):
    """Someone else's stack, addressed by URL; only the sink is alertdrill's own process."""

    #: Read by ``Drill``: pushed alerts are resolved and silences expired when a scenario ends,
    #: as nothing else would clean them from a stack that outlives the scenario.
    shared = True

    def __init__(self, spec: StackSpec, options: StackOptions | None = None) -> None:
        options = options or StackOptions()
        # Checked before StackBase makes the workdir: a refusal leaves nothing behind.
        self.config: ExternalConfig = check_manifest(spec, options)
        super().__init__(spec, options)
        self.commands: list[CommandRun] = []
        self._timeline: Timeline | None = None
        self.timeout = 5.0

    # -- what Drill reads ------------------------------------------------------------------
    def session_for(self, url: str) -> requests.Session | None:
        """The credentials and TLS settings of the endpoint ``url`` belongs to."""
        for endpoint in (self.config.prometheus, *self.config.alertmanagers):
            if url.rstrip("/") == endpoint.url:
                return endpoint.http.session()
        return None

    def attach_timeline(self, timeline: Timeline) -> None:
        """Record every command on ``timeline`` from now on (the scenario's)."""
        self._timeline = timeline

    def secrets(self) -> set[str]:
        """Credentials no record may show."""
        return self.config.secrets()

    def logs(self, lines: int = 20) -> dict[str, str]:
        """The sink's log and every command's output."""
        sink = self.sink_service
        out = {"sink": sink.process.log_tail(lines) if isinstance(sink, LocalService)
               and sink.process else "(never started)"}
        out["commands"] = "\n".join(f"{run.note()}\n{run.output}" for run in self.commands[-lines:])
        return out

    def close(self) -> None:
        """Stop the sink and remove the workdir; the stack itself is left as it is."""
        if self._closed:
            return
        self._closed = True
        if self.sink_service is not None:
            try:
                self.sink_service.stop()
            except Exception:
                logger.exception("stopping the sink failed")
        if self.options.keep_workdir:
            keep_tempdir(self.workdir)
        else:
            remove_tempdir(self.workdir)

    # -- start-up --------------------------------------------------------------------------
    def _start(self) -> None:
        t0 = time.monotonic()
        self._reach(self.config.prometheus, "Prometheus")
        for index, endpoint in enumerate(self.config.alertmanagers):
            self._reach(endpoint, f"Alertmanager peer {index}")
        self.startup["reached"] = time.monotonic() - t0
        self._configs = {"alertmanager.yml": self.spec.alertmanager_config,
                         "prometheus.yml": self.spec.prometheus_config}
        self._destinations = _destinations(self.spec)
        self.prometheus = self._service("prometheus", self.config.prometheus)
        self.alertmanagers = [self._service(f"alertmanager-{i}", e)
                              for i, e in enumerate(self.config.alertmanagers)]
        for name in self.config.services:
            if name not in ("prometheus", *(f"alertmanager-{i}" for i in range(self.peers))):
                self.services[name] = self._service(name, None)
        self._start_sink()
        self.startup["usable"] = time.monotonic() - t0

    def _service(self, name: str, endpoint: Endpoint | None) -> ExternalService:
        return ExternalService(name, endpoint.url if endpoint else "",
                               self.config.services.get(name),
                               endpoint.http.session() if endpoint else requests.Session(),
                               self._record)

    def _record(self, run: CommandRun) -> None:
        self.commands.append(run)
        with open(self.workdir / "commands.log", "a", encoding="utf-8") as log:
            log.write(json.dumps(vars(run)) + "\n")
        if self._timeline is not None:
            self._timeline.add(tl.COMMAND, run.service, action=run.action, command=run.command,
                               by=run.by, exit_code=run.exit_code,
                               seconds=round(run.seconds, 3), note=run.note())

    def _reach(self, endpoint: Endpoint, what: str) -> None:
        """One readiness request, so that a wrong URL or credential is said before a scenario
        runs (not as claims that time out)."""
        try:
            answer = endpoint.http.session().get(endpoint.url + "/-/ready", timeout=self.timeout)
        except requests.RequestException as exc:
            raise StartupError(f"{what} at {endpoint.url} cannot be reached: {exc}",
                               "check the URL and, for https, ca_file; " + _HINT) from None
        if answer.status_code in (401, 403):
            raise StartupError(f"{what} at {endpoint.url} refused alertdrill's credentials "
                               f"(HTTP {answer.status_code})",
                               "check basic_auth / bearer_token under external: in alertdrill.yml")
        if answer.status_code != 200:
            raise StartupError(f"{what} at {endpoint.url} is not ready: HTTP "
                               f"{answer.status_code} on /-/ready", _HINT)

    def _start_sink(self) -> None:
        ready_file = self.workdir / "sink.ready.json"
        log = self.workdir / "sink.log"
        argv = [sys.executable, "-m", "alertdrill.sink", "--http", self.config.sink_listen,
                "--smtp", self.config.sink_smtp_listen, "--ready-file", str(ready_file),
                "--forward-file", str(self.workdir / "forwards.json")]
        (self.workdir / "forwards.json").write_text("{}")
        host = self.config.sink_listen.rpartition(":")[0].strip("[]") or "127.0.0.1"

        def launch() -> ManagedProcess:
            ready_file.unlink(missing_ok=True)
            return ManagedProcess("sink", argv, log)

        svc = LocalService("sink", launch, None, ready_check=ready_file.exists)
        self.sink_service = svc
        svc.start()
        wait_all_ready([svc], self.options.ready_timeout)
        ports = json.loads(ready_file.read_text())
        svc.port = int(ports["http_port"])
        svc.ready_path = "/_health"
        svc.ready_check = None
        self._sink_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host

    @property
    def sink_url(self) -> str:
        """Where the sink answers (its listen address; loopback when it listens on all)."""
        assert isinstance(self.sink_service, LocalService)
        return f"http://{self._sink_host}:{self.sink_service.port}"


def check_manifest(spec: StackSpec, options: StackOptions) -> ExternalConfig:
    """The stack's ``external:`` section, checked against the run's options and the stack's
    own names; ConfigError on any mismatch."""
    if options.time_scale != 1:
        raise ConfigError(f"the external backend cannot scale time (time scale "
                          f"{options.time_scale:g})", "run with --time-scale 1")
    config = load_external(spec.external, spec.root)
    peers = options.peers or spec.peers
    if len(config.alertmanagers) != peers:
        raise ConfigError(
            f"alertdrill.yml: external.alertmanagers lists {len(config.alertmanagers)} "
            f"peer(s), alertmanager.peers says {peers}",
            "make them agree: steps name the peers alertmanager-0 … alertmanager-N-1")
    known = {*spec.services, *BUILTIN_SERVICES, *(f"alertmanager-{i}" for i in range(peers))}
    for name in config.services:
        if name not in known or name == "sink":
            raise ConfigError(f"alertdrill.yml: external.services.{name}: the stack has no "
                              f"service {name!r}" + did_you_mean(name, sorted(known - {"sink"})),
                              "declare actions for a service of the manifest's services:, "
                              "prometheus or alertmanager-N")
    return config


def _destinations(spec: StackSpec) -> list[Destination]:
    """Every (receiver, integration) of the stack's alertmanager.yml, as peer 0 would deliver
    them (a sink-routed receiver's URL carries its own peer and index)."""
    config = load_yaml(spec.alertmanager_config, "alertmanager.yml")
    return [Destination(0, receiver, integration, index)
            for receiver, have in receiver_integrations(config).items()
            for integration, index in sorted(have, key=lambda ref: (RECEIVER_WORDS.index(ref[0]),
                                                                    ref[1]))]


# -- steps the backend cannot honour -----------------------------------------------------------
def action_problems(steps: Sequence[ParsedStep], resolve: Callable[[str], Path]) -> list[str]:
    """Every step that acts on a service in a way its stack's ``external:`` section does not
    declare, as one line each (``line N ‹step›: …``); steps before any stack-starting step are
    not checked."""
    found: list[str] = []
    config: ExternalConfig | None = None
    for step in steps:
        if step.starts_stack is not None:
            spec = StackSpec.load(resolve(step.starts_stack))
            config = load_external(spec.external, spec.root)
            continue
        if config is None or step.acts_on is None:
            continue
        service, actions = step.acts_on
        declared = config.services.get(service)
        where = f"line {step.line} ‹{step.text}›"
        if declared is None:
            found.append(f"{where}: the service {service!r} declares no actions under "
                         f"external.services" + did_you_mean(service, sorted(config.services)))
            continue
        for action in actions:
            if action not in ACTIONS:
                found.append(f"{where}: {action} needs a service alertdrill runs itself; on the "
                             f"external backend services are acted on only by their declared "
                             f"commands ({', '.join(ACTIONS)})")
                break
            if action not in declared.declared():
                found.append(f"{where}: the service {service!r} declares no {action}: command "
                             f"(declared: {', '.join(declared.declared()) or 'none'})")
                break
    return found


def refusal(problems: list[str], where: str) -> StepError:
    """One error for all of a scenario's undeclared actions."""
    return StepError(f"{where}: {len(problems)} step(s) the external backend cannot run — it acts "
                     "on someone else's stack only through the actions alertdrill.yml declares:\n"
                     + "\n".join(f"    {p}" for p in problems),
                     "declare the commands under external.services.<service> (stop: with start:, "
                     "pause: with resume:), or leave the steps out")
