"""A warm pool: the next scenario's stack starts while the current scenario runs.

Most of a scenario's start-up is waiting, not work: Prometheus's discovery manager publishes
its targets and Alertmanagers only every 5 s (a constant of Prometheus 2.x), so a stack takes
about 5.5 s to become usable on any machine. While one scenario runs, the pool starts the stack
the *next* scenario of this worker will ask for (pytest knows it: ``nextitem``), so that one
finds it usable and its clock starts at once.

What keeps a warm stack honest:

* a stack is never reused: each serves exactly one scenario, and a started stack nobody took
  is closed — alerts, silences, the notification log and faults cannot leak between scenarios;
* it is started only for a scenario that is next and asks for the same stack directory with the
  same options (never for one that no remaining scenario needs), at most ``size`` at a time;
* when taken, it must be as quiet as a fresh one: no alert pending or firing in Prometheus, none
  in any Alertmanager peer, no notification received by the sink. A stack whose own baseline
  fires something (a Watchdog rule) is closed and the scenario starts a stack of its own, so
  the notification it expects happens after its clock starts, as it would cold;
* a start that failed in the background is dropped silently: the scenario then starts the stack
  itself, and the error (a bad config, a busy port) is reported there, in its own words.

Threads: every stack starts on the pool's one long-lived thread. Children are tied to the
thread that spawned them (PR_SET_PDEATHSIG, :mod:`alertdrill.backends.process`), so that thread lives
until :meth:`WarmPool.close`, which first closes every stack it still holds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from alertdrill.backends.base import RunningStack, StackOptions
from alertdrill.sink.client import SinkClient, SinkError

logger = logging.getLogger(__name__)

#: Most warm stacks one worker may hold. pytest tells a worker only its *next* scenario, so a
#: second warm stack could only be one that no scenario is known to need: the bound is 1.
MAX_SIZE = 1
#: The backends whose stacks the pool warms. ``local`` is the one measured (bench/pool.py: 10 of
#: 10 verdict runs clean, the suite 18 % shorter on 2 cores). ``external`` starts nothing, and a
#: second handle on someone else's stack while a fault runs on it would only compete with the
#: scenario; ``docker`` has not been measured with it, so it is left cold rather than guessed.
POOLED_BACKENDS = frozenset({"local"})


def pool_size(size: int, backend: str) -> int:
    """How many warm stacks a worker keeps for ``backend`` with ``--pool size``: 0 where the
    backend is not pooled, whatever the setting says."""
    return size if backend in POOLED_BACKENDS else 0


@dataclass(frozen=True)
class PoolKey:
    """What makes two stacks interchangeable: the same directory, backend and options."""

    stack_dir: Path
    backend: str
    options: StackOptions


@dataclass
class Taken:
    """A stack from the pool, and how long the scenario waited for it (seconds)."""

    stack: RunningStack
    waited: float


class WarmPool:
    """Stacks started ahead of the scenarios that will take them (see the module's docstring)."""

    def __init__(self, size: int, start: Callable[[PoolKey], RunningStack]) -> None:
        self.size = size
        self._start = start
        self._lock = threading.Lock()
        self._pending: list[tuple[PoolKey, Future[RunningStack]]] = []
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False
        #: Why warm stacks were not used (``not quiet: …``), for the benchmark and tests.
        self.discarded: list[str] = []

    def warm(self, key: PoolKey) -> bool:
        """Start a stack for ``key`` in the background unless the pool is full (or off)."""
        with self._lock:
            if self._closed or self.size <= 0 or len(self._pending) >= self.size:
                return False
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1,
                                                    thread_name_prefix="alertdrill-pool")
            self._pending.append((key, self._executor.submit(self._start, key)))
            return True

    def take(self, key: PoolKey) -> Taken | None:
        """The oldest warm stack for ``key``, once usable and quiet; None to start one cold."""
        with self._lock:
            found = next((item for item in self._pending if item[0] == key), None)
            if found is None:
                return None
            self._pending.remove(found)
        t0 = time.monotonic()
        try:
            stack = found[1].result()
        except Exception as exc:  # the scenario's own start reports it
            logger.info("a warm start of %s failed (%s); starting cold", key.stack_dir, exc)
            self.discarded.append(f"failed: {exc}")
            return None
        noise = busy(stack)
        if noise:
            self.discarded.append(f"not quiet: {noise}")
            logger.info("warm stack %s not quiet (%s); starting cold", key.stack_dir, noise)
            stack.close()
            return None
        return Taken(stack, time.monotonic() - t0)

    @property
    def holding(self) -> int:
        """Warm stacks started or starting, not yet taken."""
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        """Close every stack nobody took (waiting for one still starting), then the thread."""
        with self._lock:
            self._closed = True
            pending, self._pending = self._pending, []
            executor, self._executor = self._executor, None
        for _key, future in pending:
            if future.cancel():
                continue
            try:
                stack = future.result()
            except Exception:
                continue  # a failed start cleaned up after itself
            try:
                stack.close()
            except Exception:
                logger.exception("closing a warm stack failed")
        if executor is not None:
            executor.shutdown(wait=True)


def start_warm(key: PoolKey) -> RunningStack:
    """Start the stack ``key`` names, as a scenario would (the pool's start function)."""
    from alertdrill.backends import start_stack
    from alertdrill.engine.stackspec import StackSpec

    return start_stack(key.backend, StackSpec.load(key.stack_dir), key.options)


def busy(stack: RunningStack, timeout: float = 2.0) -> str:
    """What a fresh stack would not have: an active alert or a received notification ("" when
    quiet). An API that does not answer counts as busy: the stack is not as fresh either."""
    try:
        alerts = requests.get(f"{stack.prometheus_url}/api/v1/alerts", timeout=timeout)
        alerts.raise_for_status()
        active = [a["labels"].get("alertname", "?") for a in alerts.json()["data"]["alerts"]]
        if active:
            return f"Prometheus has {', '.join(sorted(set(active)))} pending or firing"
        for url in stack.alertmanager_urls:
            peer = requests.get(f"{url}/api/v2/alerts", timeout=timeout)
            peer.raise_for_status()
            if peer.json():
                return f"{url} holds {len(peer.json())} alert(s)"
        received = SinkClient(stack.sink_url, timeout).deliveries()
        if received:
            return f"the sink received {len(received)} notification(s)"
    except (requests.RequestException, SinkError, ValueError, KeyError) as exc:
        return f"its APIs did not answer ({type(exc).__name__})"
    return ""
