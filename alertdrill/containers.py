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
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import requests
from docker.errors import APIError, NotFound
from docker.types import EndpointConfig

from alertdrill.errors import StartupError

#: The label every container and network of a run carries.
RUN_LABEL = "alertdrill.run"
LOOPBACK = "127.0.0.1"


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
        label = f"{RUN_LABEL}={self.id}"
        for container in self.client.containers.list(all=True, filters={"label": label}):
            with contextlib.suppress(NotFound):
                container.remove(force=True, v=True)
        for network in self.client.networks.list(filters={"label": label}):
            with contextlib.suppress(NotFound):
                network.remove()
        self.network = None

    def leftovers(self) -> list[str]:
        """Names of containers and networks still carrying this run's label."""
        label = f"{RUN_LABEL}={self.id}"
        return ([c.name for c in self.client.containers.list(all=True, filters={"label": label})]
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
