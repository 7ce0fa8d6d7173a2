"""Faults: real failures with ``apply()``/``revert()``, always reverted, always on the timeline."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import requests

from alertdrill.backends.base import RecoveryProbe, ServiceHandle
from alertdrill.backends.process import is_harness_mount
from alertdrill.engine import timeline as tl
from alertdrill.engine.timeline import Timeline
from alertdrill.errors import StartupError, StepError
from alertdrill.sink.client import SinkClient

if TYPE_CHECKING:
    from alertdrill.backends.certs import Authority


@dataclass
class Fault:
    """Base of every fault: records itself, reverts once, usable as a context manager."""

    timeline: Timeline
    active: bool = field(default=False, init=False)
    #: Whether applying it starts an SLA clock ("within D" counts from the latest anchor).
    anchors: ClassVar[bool] = True
    #: Anchor at the moment the fault starts rather than once ``_apply`` returned: a stopped
    #: service is gone for Prometheus from its signal on, while its own shutdown still runs
    #: (tens of ms), so an alert's activeAt could precede an anchor taken afterwards.
    anchors_at_start: ClassVar[bool] = False

    @property
    def name(self) -> str:
        """How the fault appears on the timeline and in reports."""
        raise NotImplementedError

    def _apply(self) -> None:
        raise NotImplementedError

    def _revert(self) -> None:
        raise NotImplementedError

    def apply(self) -> Fault:
        """Cause the failure; an anchor on the timeline (SLAs count from it)."""
        started = self.timeline.now() if self.anchors_at_start else None
        self._apply()
        self.active = True
        self.timeline.add(tl.FAULT_APPLIED, self.name, t=started, anchor=self.anchors,
                          note="fault applied", **self._recovery_detail())
        return self

    def revert(self) -> None:
        """Undo the failure (idempotent); also an anchor (resolution SLAs count from it).

        The anchor is taken once the world is as the step says — a service started again is
        *ready* again — so a service's own start-up (real seconds, never scaled) is not charged
        to the alerting pipeline's SLA; it is recorded beside the anchor as its own figure.
        """
        if not self.active:
            return
        self.ready = None  # an apply's restart (RestartService) is not this revert's
        self._revert()
        self.active = False
        at = None if self.ready is None else self.timeline.at_monotonic(self.ready.since)
        self.timeline.add(tl.FAULT_REVERTED, self.name, t=at, anchor=self.anchors,
                          note="fault reverted" + self._recovery_note(),
                          **self._recovery_detail())

    #: How the service became ready again after the last start/resume/reconnect.
    ready: Readiness | None = field(default=None, init=False)

    @property
    def recovery(self) -> float | None:
        """Seconds the service took to become ready again (None: nothing was restarted)."""
        return None if self.ready is None else self.ready.seconds

    def _recovery_note(self) -> str:
        return "" if self.recovery is None else f"; ready again after {self.recovery:.2f} s"

    def _recovery_detail(self) -> dict[str, Any]:
        return {} if self.recovery is None else {"recovery_s": round(self.recovery, 3)}

    def __enter__(self) -> Fault:
        return self.apply()

    def __exit__(self, *exc: object) -> None:
        self.revert()


#: How long a service may take to be ready again after a start, resume or reconnect (real
#: seconds: start-up is never scaled). PostgreSQL under load has been seen to need several.
RECOVERY_TIMEOUT = 30.0


@dataclass(frozen=True)
class Readiness:
    """When a service restarted by a revert was ready again."""

    #: Seconds from the revert's start to the check that saw it ready.
    seconds: float
    #: The monotonic moment it was last seen not ready: the end of the last check that said so
    #: (or the revert's start, if none did). The revert's anchor is taken here, not when the
    #: ready check returned: Prometheus scrapes on its own schedule and can see the service up
    #: while that check is still on its way — an alert once resolved 16 ms before an anchor
    #: taken after it. Not the *start* of that check either: a check queued behind a
    #: recovering exporter's backlog sees the service at its end, and an anchor at its start
    #: once charged 2.2 s of that wait to a resolution SLA (both in ``make`` runs, PostgreSQL
    #: stopped and started).
    since: float


def recover(service: ServiceHandle, action: Callable[[], None],
            probes: Sequence[RecoveryProbe] = ()) -> Readiness:
    """Run ``action`` (a start, resume or reconnect) and wait until ``service`` is ready again,
    counting from before the action: the service may be up for Prometheus before it returns."""
    begun = time.monotonic()
    action()
    return wait_until_ready(service, probes=probes, begun=begun)


def wait_until_ready(service: ServiceHandle, timeout: float = RECOVERY_TIMEOUT,
                     probes: Sequence[RecoveryProbe] = (),
                     begun: float | None = None) -> Readiness:
    """Block until the service answers its readiness probe, and every service reporting on it
    sees it up again (``probes``); when that happened (``begun``: the monotonic moment the
    revert started the service, default now).

    A StartupError (with what the service logged) when that does not happen within
    ``timeout``: a scenario must not go on to claim a recovery that never happened.
    """
    started = time.monotonic() if begun is None else begun
    since = started
    session = requests.Session()
    pending = list(probes)
    try:
        while True:
            ready = service.is_ready(session)
            if ready:
                pending = [probe for probe in pending if not probe(session)]
                if not pending:
                    break
            if time.monotonic() - started > timeout:
                waiting = (f": {pending[0].name} never saw it up again ({pending[0].line!r} "
                           f"on {pending[0].url})" if ready else "")
                tail = service.log_tail()
                raise StartupError(f"{service.name} was not ready again within {timeout:.0f} s"
                                   f"{waiting}", f"its log ends with:\n{tail}" if tail else
                                   "see the service's log in the scenario's evidence")
            since = time.monotonic()
            time.sleep(0.02)
    finally:
        session.close()
    return Readiness(time.monotonic() - started, since)


@dataclass
class StopService(Fault):
    """The service's process is stopped (SIGTERM) until reverted: scrapes are refused."""

    service: ServiceHandle | None = None
    how: str = "stop"
    #: What must see the service up again before the revert is done (its exporter).
    probes: Sequence[RecoveryProbe] = ()
    anchors_at_start: ClassVar[bool] = True

    @property
    def name(self) -> str:
        assert self.service is not None
        return f"{self.how} {self.service.name}"

    def _apply(self) -> None:
        assert self.service is not None
        if self.how == "kill":
            self.service.kill()
        else:
            self.service.stop()

    def _revert(self) -> None:
        assert self.service is not None
        self.ready = recover(self.service, self.service.start, self.probes)


@dataclass
class RestartService(Fault):
    """Stop the service and start it again at once (a deploy, a crash loop's single turn).

    Not an SLA anchor: restarting a part of the alerting pipeline (the escalation service, say)
    must not move the clock of the incident it is handling. Nothing is left to revert, but a
    revert makes sure the service runs.
    """

    service: ServiceHandle | None = None
    probes: Sequence[RecoveryProbe] = ()
    anchors: ClassVar[bool] = False

    @property
    def name(self) -> str:
        assert self.service is not None
        return f"restart {self.service.name}"

    def _apply(self) -> None:
        assert self.service is not None
        self.service.stop()
        self.ready = recover(self.service, self.service.start, self.probes)

    def _revert(self) -> None:
        assert self.service is not None
        self.service.start()  # no-op while it runs


@dataclass
class PauseService(Fault):
    """The service's process group is frozen (SIGSTOP) until reverted (SIGCONT).

    Unlike a stop, connections are accepted by the kernel and then hang: scrapes time out
    instead of being refused, and a frozen Alertmanager peer stalls whoever waits on it.
    """

    service: ServiceHandle | None = None

    @property
    def name(self) -> str:
        assert self.service is not None
        return f"pause {self.service.name}"

    def _apply(self) -> None:
        assert self.service is not None
        self.service.pause()

    def _revert(self) -> None:
        assert self.service is not None
        self.ready = recover(self.service, self.service.resume)


#: What a network cut removes a service from (the Docker backend's networks, see
#: alertdrill.backends.docker): every network; an Alertmanager peer's gossip with the other
#: peers; Prometheus's path to the Alertmanagers.
NETWORK_CUTS = {
    "all": "cut off from the network",
    "peers": "cut off from the other Alertmanager peers",
    "alertmanagers": "cut off from the Alertmanagers",
}


@dataclass
class IsolateService(Fault):
    """A service loses its network (``docker network disconnect``) until reverted (connect).

    ``scope`` says which networks (:data:`NETWORK_CUTS`). Needs a stack that can do it — the
    Docker backend; processes on loopback cannot be partitioned.
    """

    stack: Any = None
    service: ServiceHandle | None = None
    scope: str = "all"
    networks: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        assert self.service is not None
        return f"{self.service.name} {NETWORK_CUTS[self.scope]}"

    def _apply(self) -> None:
        assert self.service is not None
        self.networks = self.stack.disconnect(self.service.name, self.scope)

    def _revert(self) -> None:
        assert self.service is not None
        service = self.service
        self.ready = recover(service, lambda: self.stack.reconnect(service.name, self.scope))


#: How a broken receiver fails: the sink's fault modes, named as an operator would.
RECEIVER_FAILURES = {
    "http 500": ("status", 500),
    "http 503": ("status", 503),
    "http 429": ("status", 429),
    "timeout": ("delay", 0),
    "connection reset": ("drop", 0),
}


@dataclass
class BreakReceiver(Fault):
    """One receiver's integration fails at the sink (HTTP error, timeout, dropped connection).

    Only the harness's own sink is touched: the receiver's real service never was in the loop.
    """

    sink: SinkClient | None = None
    receiver: str = ""
    integration: str | None = None
    failure: str = "http 500"
    timeout_seconds: float = 30.0
    #: Only the receiver's integration at this position among those of its kind (webhook[1]).
    index: int | None = None
    _fault_id: str | None = None

    @property
    def name(self) -> str:
        via = f" {self.integration}" if self.integration else ""
        at = f"[{self.index}]" if self.index is not None else ""
        return f"break {self.receiver}{via}{at} ({self.failure})"

    def _apply(self) -> None:
        assert self.sink is not None
        mode, status = RECEIVER_FAILURES[self.failure]
        self._fault_id = self.sink.add_fault(self.receiver, self.integration, mode,
                                             status=status or 500,
                                             seconds=self.timeout_seconds if mode == "delay" else 0,
                                             index=self.index)

    def _revert(self) -> None:
        assert self.sink is not None
        self.sink.heal(self._fault_id)


@dataclass
class ControlTarget(Fault):
    """Change how one of the harness's own apps behaves (latency, 5xx rate, pool use).

    The app really slows down, fails or runs out of connections; its metrics follow. Revert
    restores the settings it had before.
    """

    service: ServiceHandle | None = None
    url: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    _before: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        assert self.service is not None
        what = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        return f"{self.service.name}: {what}"

    def _post(self, settings: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(self.url + "/-/control", json=settings, timeout=5)
        response.raise_for_status()
        return dict(response.json())

    def _apply(self) -> None:
        state = requests.get(self.url + "/-/control", timeout=5).json()
        names = {"pool_active": "pool_leaked"}
        self._before = {k: state[names.get(k, k)] for k in self.settings}
        self._post(self.settings)

    def _revert(self) -> None:
        self._post(self._before)


FILL_FILE = "alertdrill-fill.bin"


@dataclass
class FillDisk(Fault):
    """Fill the stack's own small filesystem to ``percent`` with a real file; revert deletes it.

    Only a filesystem the harness mounted for the stack is ever written (the service's
    ``filesystem``), never one of the machine's disks.
    """

    service: ServiceHandle | None = None
    filesystem: Path | None = None
    percent: float = 95.0

    @property
    def name(self) -> str:
        assert self.service is not None
        return f"fill disk of {self.service.name} to {self.percent:g} %"

    def _apply(self) -> None:
        assert self.filesystem is not None
        if not is_harness_mount(self.filesystem):
            raise StepError(f"refusing to fill {self.filesystem}: the harness did not mount it",
                            "disk faults only write into the stack's own tmpfs")
        stats = os.statvfs(self.filesystem)
        size = stats.f_blocks * stats.f_frsize
        used = size - stats.f_bavail * stats.f_frsize
        missing = int(size * self.percent / 100) - used
        chunk = b"\0" * (1 << 20)
        with open(self.filesystem / FILL_FILE, "ab") as fill:
            while missing > 0:
                fill.write(chunk[:min(len(chunk), missing)])
                missing -= len(chunk)
            fill.flush()
            os.fsync(fill.fileno())

    def _revert(self) -> None:
        assert self.filesystem is not None
        (self.filesystem / FILL_FILE).unlink(missing_ok=True)


@dataclass
class FloodLog(Fault):
    """Append log lines to a service's own log at ``rate`` lines/s for ``seconds`` (measured).

    A background thread writes them (lines mtail really reads); revert stops it. Only a log
    file inside the stack's workdir is ever written.
    """

    service: ServiceHandle | None = None
    log_file: Path | None = None
    workdir: Path | None = None
    level: str = "CRITICAL"
    message: str = "alertdrill log flood"
    rate: float = 50.0
    seconds: float = 1.0
    written: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        assert self.service is not None
        return (f"flood {self.service.name} log: {self.rate:g} {self.level} lines/s "
                f"for {self.seconds:g}s")

    def _apply(self) -> None:
        assert self.log_file is not None and self.workdir is not None
        if self.workdir not in self.log_file.resolve().parents:
            raise StepError(f"refusing to write {self.log_file}: not a log of the stack")
        self._stop.clear()
        self._thread = threading.Thread(target=self._write, name="alertdrill-flood",
                                        daemon=True)
        self._thread.start()

    def _write(self) -> None:
        assert self.log_file is not None
        started = time.monotonic()
        with open(self.log_file, "a", buffering=1) as log:
            while not self._stop.is_set():
                elapsed = time.monotonic() - started
                if elapsed >= self.seconds:
                    break
                due = min(int(elapsed * self.rate) + 1, int(self.seconds * self.rate))
                while self.written < due:
                    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
                    log.write(f"{stamp} {self.level} {self.message}\n")
                    self.written += 1
                self._stop.wait(0.02)
        self.timeline.add(tl.ACTION, self.name, note=f"flood ended: {self.written} lines")

    def _revert(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


@dataclass
class IssueCertificate(Fault):
    """The TLS endpoint serves a new certificate, issued by the stack's CA, expiring in ``days``.

    The next handshake (the blackbox exporter's next probe) sees it. Revert puts the previous
    certificate back, byte for byte. Only a certificate directory inside the stack's workdir is
    ever written.
    """

    service: ServiceHandle | None = None
    cert_dir: Path | None = None
    names: list[str] = field(default_factory=list)
    authority: Authority | None = None
    workdir: Path | None = None
    days: float = 10.0
    _saved: dict[str, bytes] = field(default_factory=dict)

    @property
    def name(self) -> str:
        assert self.service is not None
        return f"certificate of {self.service.name} expires in {self.days:g} days"

    def _apply(self) -> None:
        from alertdrill.backends.certs import CERT_FILE, KEY_FILE, issue_leaf

        assert self.cert_dir is not None and self.workdir is not None and self.authority is not None
        if self.workdir.resolve() not in self.cert_dir.resolve().parents:
            raise StepError(f"refusing to replace certificates in {self.cert_dir}: "
                            "not a directory of the stack")
        self._saved = {n: (self.cert_dir / n).read_bytes() for n in (KEY_FILE, CERT_FILE)}
        issue_leaf(self.authority, self.names, self.days, self.cert_dir)

    def _revert(self) -> None:
        from alertdrill.backends.certs import CERT_FILE, KEY_FILE

        assert self.cert_dir is not None
        for name in (KEY_FILE, CERT_FILE):  # the key first: the server reloads on the cert
            tmp = self.cert_dir / f"{name}.restore"
            tmp.write_bytes(self._saved[name])
            os.replace(tmp, self.cert_dir / name)


@dataclass
class DriveSeries(Fault):
    """Series of a stand-in (alertdrill.targets.series) are driven: a gauge set, a counter's
    rate, a histogram's latency, or the series gone. Revert returns them to their baseline.

    ``request`` is the stand-in's control request without its selection, e.g.
    ``{"set": {"rate": 12}}`` or ``{"absent": True}``; ``what`` says it for the timeline.
    """

    service: ServiceHandle | None = None
    url: str = ""
    family: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)
    what: str = ""

    @property
    def name(self) -> str:
        assert self.service is not None
        return f"{self.service.name}: {self.what}"

    def _post(self, request: dict[str, Any]) -> None:
        body = {"family": self.family, "labels": self.labels, **request}
        response = requests.post(self.url + "/-/control", json=body, timeout=5)
        if response.status_code == 400:
            raise StepError(f"the stand-in refused {self.what}: {response.json().get('error')}")
        response.raise_for_status()

    def _apply(self) -> None:
        self._post(self.request)

    def _revert(self) -> None:
        assert self.service is not None
        if not self.service.running():
            return  # a stand-in that starts again starts from its baseline
        self._post({"baseline": True})
