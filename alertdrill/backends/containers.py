"""Containers of one run on one private network, all labelled, always removed.

The rules the Docker backend (and the image smoke tests, and ``bench/images.py``) keep:

* every container and network carries the label ``alertdrill.run=<run id>``, so whatever one
  run created — also after a crash — is found and removed by that label alone;
* each run gets its own user-defined bridge network, where containers reach each other by
  service name (a network alias);
* a published port is bound to **127.0.0.1 only** with a port the engine chooses, and read back
  from the engine (never guessed), so nothing listens on the machine's other addresses.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil
import requests
from docker.errors import APIError, NotFound
from docker.types import EndpointConfig

from alertdrill.errors import StartupError

#: The label every container and network of a run carries.
RUN_LABEL = "alertdrill.run"
#: Which process made it (``host:pid:start time``): leftovers of a crashed run are those whose
#: owner no longer lives (see :func:`remove_leftovers`).
OWNER_LABEL = "alertdrill.owner"
LOOPBACK = "127.0.0.1"


def owner_label() -> str:
    """This process as an owner: its host, pid and start time (a reused pid is another owner)."""
    me = psutil.Process()
    return f"{socket.gethostname()}:{me.pid}:{me.create_time():.2f}"


def owner_alive(owner: str) -> bool:
    """True when the process an :data:`OWNER_LABEL` names still runs (or runs on another host,
    which this machine cannot tell)."""
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname():
        return True
    try:
        proc = psutil.Process(int(pid_text))
        return f"{proc.create_time():.2f}" == started
    except (ValueError, psutil.NoSuchProcess):
        return False
    except psutil.AccessDenied:
        return True


def labelled_containers(client: Any, label: str, *, running_only: bool = False,
                        status: Iterable[str] = ()) -> list[Any]:
    """Containers carrying ``label`` (``key`` or ``key=value``), stopped ones included.

    The engine lists, then inspects each container; one removed in between (a run cleaning up
    while another process looks) is skipped rather than raised as ``NotFound`` — a list is a
    snapshot, and a container gone by the time it is read was not there to find.
    """
    filters: dict[str, Any] = {"label": label}
    if status:
        filters["status"] = list(status)
    return list(client.containers.list(all=not running_only, filters=filters,
                                       ignore_removed=True))


def remove_labelled(client: Any, label: str) -> list[str]:
    """Remove every container, then network, then volume carrying ``label`` (``key=value``).

    Returns what was removed, as ``container NAME`` / ``network NAME`` / ``volume NAME``.
    """
    removed = []
    for container in labelled_containers(client, label):
        with contextlib.suppress(NotFound):
            container.remove(force=True, v=True)
            removed.append(f"container {container.name}")
    for network in client.networks.list(filters={"label": label}):
        with contextlib.suppress(NotFound):
            network.remove()
            removed.append(f"network {network.name}")
    for volume in client.volumes.list(filters={"label": label}):
        with contextlib.suppress(NotFound):
            volume.remove(force=True)
            removed.append(f"volume {volume.name}")
    return removed


@dataclass
class Leftovers:
    """What :func:`remove_leftovers` did: removed resources by run id, and runs it kept."""

    removed: dict[str, list[str]] = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line per run: what was removed, or why it was kept."""
        lines = [f"run {run}: removed {', '.join(items)}" for run, items in
                 sorted(self.removed.items())]
        lines += [f"run {run}: kept ({why})" for run, why in sorted(self.kept.items())]
        return "\n".join(lines) or "no container, network or volume of alertdrill is left"


def remove_leftovers(all_runs: bool = False, client: Any = None) -> Leftovers:
    """Remove the containers, networks and volumes of alertdrill runs, found by their labels.

    By default only those of *crashed* runs: every resource whose owner process (its
    :data:`OWNER_LABEL`) is gone. ``all_runs`` removes every labelled resource, also of runs
    still going (``alertdrill down --all``); resources without an owner label (image smoke
    tests) are removed only then.
    """
    if client is None:
        from alertdrill.backends.dockerd import ensure_engine
        client = ensure_engine().client
    result = Leftovers()
    runs: dict[str, set[str]] = {}
    for kind in (labelled_containers(client, RUN_LABEL),
                 client.networks.list(filters={"label": RUN_LABEL}),
                 client.volumes.list(filters={"label": RUN_LABEL})):
        for item in kind:
            labels = item.attrs.get("Labels") or item.attrs.get("Config", {}).get("Labels") or {}
            runs.setdefault(labels.get(RUN_LABEL, "?"), set()).add(labels.get(OWNER_LABEL, ""))
    for run, owners in runs.items():
        if not all_runs:
            if "" in owners:
                result.kept[run] = "no owner label; use --all"
                continue
            alive = [o for o in owners if owner_alive(o)]
            if alive:
                result.kept[run] = f"its process {alive[0]} still runs; use --all"
                continue
        removed = remove_labelled(client, f"{RUN_LABEL}={run}")
        if removed:
            result.removed[run] = removed
    return result


class ContainerRun:
    """A private network and the containers started on it; a context manager that cleans up."""

    def __init__(self, client: Any, run_id: str | None = None) -> None:
        self.client = client
        self.id = run_id or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.labels = {RUN_LABEL: self.id}
        self.network_name = f"alertdrill-{self.id}"
        self.network: Any = None

    def __enter__(self) -> ContainerRun:
        self.network = self.client.networks.create(
            self.network_name, driver="bridge", labels=self.labels, check_duplicate=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, image: str, name: str, command: list[str] | None = None,
            environment: Mapping[str, str] | None = None, ports: Iterable[int] = (),
            **kwargs: Any) -> Any:
        """Start a container reachable as ``name`` on the run's network.

        ``ports`` are container TCP ports to publish on 127.0.0.1 (read them back with
        :func:`published_port`).
        """
        assert self.network is not None, "use ContainerRun as a context manager"
        endpoint = EndpointConfig(self.client.api._version, aliases=[name])
        return self.client.containers.run(
            image, command, name=f"{name}-{self.id}", hostname=name, detach=True,
            labels=self.labels, environment=dict(environment or {}),
            network=self.network_name, networking_config={self.network_name: endpoint},
            ports={f"{port}/tcp": (LOOPBACK, None) for port in ports}, **kwargs)

    def close(self) -> None:
        """Remove every container and network with this run's label (also ones not ours)."""
        remove_labelled(self.client, f"{RUN_LABEL}={self.id}")
        self.network = None

    def leftovers(self) -> list[str]:
        """Names of containers and networks still carrying this run's label."""
        label = f"{RUN_LABEL}={self.id}"
        return ([c.name for c in labelled_containers(self.client, label)]
                + [n.name for n in self.client.networks.list(filters={"label": label})])


def published_port(container: Any, port: int, timeout: float = 10.0) -> int:
    """The host port the engine chose for ``port``/tcp; it must be bound to 127.0.0.1."""
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(f"{port}/tcp") or []
        if bindings:
            hosts = {b["HostIp"] for b in bindings}
            if hosts != {LOOPBACK}:
                raise StartupError(f"{container.name}: port {port} is published on {hosts}, "
                                   "not on 127.0.0.1 only")
            return int(bindings[0]["HostPort"])
        if container.status == "exited" or time.monotonic() > deadline:
            raise StartupError(f"{container.name} has no published port {port} "
                               f"(status {container.status})", log_tail(container))
        time.sleep(0.05)


def log_tail(container: Any, lines: int = 15) -> str:
    """The last lines of a container's output (for error messages)."""
    try:
        return str(container.logs(tail=lines).decode(errors="replace"))
    except (APIError, NotFound) as exc:
        return f"(no log: {exc})"


def wait_http(container: Any, url: str, accept: Callable[[requests.Response], bool],
              timeout: float = 30.0, request_timeout: float = 1.0) -> float:
    """Poll ``url`` until ``accept(response)``; return the seconds it took.

    Fails early, with the container's log, when the container exits.
    """
    t0 = time.monotonic()
    session = requests.Session()
    last = "no answer yet"
    while time.monotonic() - t0 < timeout:
        try:
            response = session.get(url, timeout=request_timeout)
            if accept(response):
                return time.monotonic() - t0
            last = f"HTTP {response.status_code}: {response.text[:200]!r}"
        except requests.RequestException as exc:
            last = str(exc)
        container.reload()
        if container.status in ("exited", "dead"):
            raise StartupError(f"{container.name} exited before {url} answered",
                               log_tail(container))
        time.sleep(0.05)
    raise StartupError(f"{url} ({container.name}) not ready within {timeout:.0f}s: {last}",
                       log_tail(container))
