"""The ``external:`` section of a stack manifest: a stack someone else runs, read and checked
before anything starts.

Why a section of its own: the external backend starts nothing of the stack. It needs the URLs
of Prometheus and of every Alertmanager peer (with the credentials and TLS settings a staging
stack asks for), where alertdrill's own sink listens (the team routes a test receiver there),
and, per service, the shell commands that *are* its faults — ``stop:``, ``start:``, ``kill:``,
``pause:``, ``resume:`` — since alertdrill may not signal processes it did not start. Every
problem is one ConfigError naming the key, raised while the manifest is read.

```yaml
external:
  prometheus: https://prometheus.staging:9090         # or {url: …, <http options>}
  alertmanagers:                                      # one per peer, in peer order
    - https://am-0.staging:9093
    - {url: https://am-1.staging:9093, bearer_token_file: /run/secrets/am1}
  http:                                               # defaults for every URL above
    basic_auth: {username: drill, password_file: /run/secrets/drill}
    ca_file: /etc/ssl/staging-ca.pem
  sink: {listen: 0.0.0.0:9199}                        # where the test receiver delivers
  services:
    web:
      stop: ssh web-1 sudo systemctl stop web
      start: ssh web-1 sudo systemctl start web
      ready_url: http://web-1:8080/metrics            # or ready: a command (exit 0 = ready)
```
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from alertdrill.backends.external_k8s import KubernetesTarget, load_target
from alertdrill.durations import parse_duration
from alertdrill.errors import ConfigError

#: The actions a service may declare, and the one that undoes each (None: nothing to undo).
ACTIONS: Mapping[str, str | None] = {"stop": "start", "kill": "start", "pause": "resume",
                                     "start": None, "resume": None}
#: HTTP options an endpoint (or the ``http:`` defaults) may carry.
HTTP_KEYS = ("basic_auth", "bearer_token", "bearer_token_file", "bearer_token_env", "ca_file",
             "cert_file", "key_file", "insecure_skip_verify")
_AUTH_KEYS = ("basic_auth", "bearer_token", "bearer_token_file", "bearer_token_env")
_SERVICE_KEYS = (*ACTIONS, "ready", "ready_url", "timeout", "kubernetes")
DEFAULT_COMMAND_TIMEOUT = 60.0
DEFAULT_SINK = "127.0.0.1:9199"
_WHERE = "alertdrill.yml external"
_HINT = "see README › Backends › external"


@dataclass(frozen=True)
class HttpOptions:
    """How one URL is reached: its credentials and TLS settings (secrets read at load time)."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure_skip_verify: bool = False

    def session(self) -> requests.Session:
        """A requests session that sends these credentials and checks TLS as configured."""
        session = requests.Session()
        if self.username is not None:
            session.auth = (self.username, self.password or "")
        if self.bearer_token:
            session.headers["Authorization"] = f"Bearer {self.bearer_token}"
        if self.insecure_skip_verify:
            session.verify = False
        elif self.ca_file is not None:
            session.verify = str(self.ca_file)
        if self.cert_file is not None:
            session.cert = (str(self.cert_file), str(self.key_file)) if self.key_file else \
                str(self.cert_file)
        return session

    def secrets(self) -> set[str]:
        """The values no record or report may show."""
        return {s for s in (self.password, self.bearer_token) if s}


@dataclass(frozen=True)
class Endpoint:
    """A URL of the stack and how to reach it."""

    url: str
    http: HttpOptions


@dataclass(frozen=True)
class ServiceActions:
    """What the harness may do to one service: a shell command per declared action."""

    name: str
    commands: Mapping[str, str]
    ready: str | None = None
    ready_url: str | None = None
    timeout: float = DEFAULT_COMMAND_TIMEOUT
    #: The workload the service is, when its actions go through the Kubernetes API instead.
    kubernetes: KubernetesTarget | None = None

    def declared(self) -> list[str]:
        """The actions it declares (all five for a Kubernetes workload)."""
        return list(ACTIONS) if self.kubernetes is not None else list(self.commands)


@dataclass(frozen=True)
class ExternalConfig:
    """The whole ``external:`` section, checked."""

    prometheus: Endpoint
    alertmanagers: tuple[Endpoint, ...]
    sink_listen: str
    sink_smtp_listen: str
    services: Mapping[str, ServiceActions]

    def secrets(self) -> set[str]:
        """Every credential of every endpoint."""
        return {s for e in (self.prometheus, *self.alertmanagers) for s in e.http.secrets()}


def _secret(raw: Mapping[str, Any], key: str, where: str, base: Path) -> str | None:
    """``key``, ``key_file`` (relative to the stack directory) or ``key_env``."""
    if raw.get(key) is not None:
        return str(raw[key])
    if raw.get(f"{key}_file") is not None:
        path = base / str(raw[f"{key}_file"])
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{where}.{key}_file: cannot read {path}: {exc.strerror}",
                              _HINT) from None
    if raw.get(f"{key}_env") is not None:
        name = str(raw[f"{key}_env"])
        if name not in os.environ:
            raise ConfigError(f"{where}.{key}_env: the variable {name} is not set", _HINT)
        return os.environ[name]
    return None


def _http(raw: Mapping[str, Any], defaults: Mapping[str, Any], where: str, base: Path) -> HttpOptions:
    own = {k: v for k, v in raw.items() if k in HTTP_KEYS}
    if any(k in own for k in _AUTH_KEYS):  # an endpoint's own credentials replace the defaults'
        defaults = {k: v for k, v in defaults.items() if k not in _AUTH_KEYS}
    merged = {**defaults, **own}
    basic = merged.get("basic_auth")
    username = password = None
    if basic is not None:
        if not isinstance(basic, Mapping) or not basic.get("username"):
            raise ConfigError(f"{where}.basic_auth needs a username (and password, password_file "
                              "or password_env)", _HINT)
        username = str(basic["username"])
        password = _secret(basic, "password", f"{where}.basic_auth", base)
    token = _secret(merged, "bearer_token", where, base)
    if username is not None and token:
        raise ConfigError(f"{where}: basic_auth and a bearer token both given", "choose one")

    def path(key: str) -> Path | None:
        if merged.get(key) is None:
            return None
        found = base / str(merged[key])
        if not found.is_file():
            raise ConfigError(f"{where}.{key}: no file {found}", _HINT)
        return found

    return HttpOptions(username, password, token, path("ca_file"), path("cert_file"),
                       path("key_file"), bool(merged.get("insecure_skip_verify", False)))


def _endpoint(raw: Any, defaults: Mapping[str, Any], where: str, base: Path) -> Endpoint:
    entry: Mapping[str, Any] = {"url": raw} if isinstance(raw, str) else raw
    if not isinstance(entry, Mapping) or not isinstance(entry.get("url"), str):
        raise ConfigError(f"{where}: give a URL (http://… or https://…) or {{url: …}}", _HINT)
    unknown = sorted(set(entry) - {"url", *HTTP_KEYS})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}",
                          f"an endpoint takes url and {', '.join(HTTP_KEYS)}")
    url = entry["url"].rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: {url!r} is not an http:// or https:// URL", _HINT)
    return Endpoint(url, _http(entry, defaults, where, base))


def _service(name: str, raw: Any, base: Path) -> ServiceActions:
    where = f"{_WHERE}.services.{name}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: give the service's actions, e.g. stop: and start: commands",
                          _HINT)
    unknown = sorted(set(raw) - set(_SERVICE_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}",
                          f"a service declares {', '.join(ACTIONS)} (shell commands), ready "
                          "(a command) or ready_url, and timeout")
    commands = {action: str(raw[action]) for action in ACTIONS if raw.get(action)}
    target = load_target(raw["kubernetes"], where, base) if raw.get("kubernetes") else None
    if target is not None and commands:
        raise ConfigError(f"{where}: kubernetes: and commands ({', '.join(commands)}) both given",
                          "a Kubernetes workload's actions are the API's: drop the commands, "
                          "or drop kubernetes: and write kubectl commands")
    for action, undo in ACTIONS.items():
        if action in commands and undo is not None and undo not in commands:
            raise ConfigError(f"{where}: {action}: is declared without {undo}:",
                              f"every fault is undone when the scenario ends: declare the {undo} "
                              "command too")
    try:
        timeout = parse_duration(raw.get("timeout", DEFAULT_COMMAND_TIMEOUT))
    except ValueError as exc:
        raise ConfigError(f"{where}.timeout: {exc}") from None
    return ServiceActions(name, commands, raw.get("ready"), raw.get("ready_url"), timeout, target)


def load_external(section: Mapping[str, Any], base: Path) -> ExternalConfig:
    """Check the ``external:`` section of the manifest in ``base``; ConfigError on any problem."""
    if not section:
        raise ConfigError("--backend external needs an external: section in the stack's "
                          "alertdrill.yml (the URLs of its Prometheus and Alertmanagers)", _HINT)
    unknown = sorted(set(section) - {"prometheus", "alertmanagers", "http", "sink", "services"})
    if unknown:
        raise ConfigError(f"{_WHERE}: unknown key(s) {', '.join(unknown)}",
                          "external: takes prometheus, alertmanagers, http, sink, services")
    defaults = section.get("http") or {}
    if not isinstance(defaults, Mapping) or set(defaults) - set(HTTP_KEYS):
        raise ConfigError(f"{_WHERE}.http: takes {', '.join(HTTP_KEYS)}", _HINT)
    if "prometheus" not in section:
        raise ConfigError(f"{_WHERE}: prometheus: (its URL) is missing", _HINT)
    prometheus = _endpoint(section["prometheus"], defaults, f"{_WHERE}.prometheus", base)
    peers = section.get("alertmanagers") or []
    if not isinstance(peers, list) or not peers:
        raise ConfigError(f"{_WHERE}.alertmanagers: give the URL of every Alertmanager peer, "
                          "in peer order (alertmanager-0 first)", _HINT)
    alertmanagers = tuple(_endpoint(raw, defaults, f"{_WHERE}.alertmanagers[{i}]", base)
                          for i, raw in enumerate(peers))
    sink = section.get("sink") or {}
    services = section.get("services") or {}
    if not isinstance(services, Mapping):
        raise ConfigError(f"{_WHERE}.services: a mapping of service name → actions", _HINT)
    return ExternalConfig(prometheus, alertmanagers, str(sink.get("listen", DEFAULT_SINK)),
                          str(sink.get("smtp_listen", "127.0.0.1:0")),
                          {str(n): _service(str(n), raw, base) for n, raw in services.items()})
