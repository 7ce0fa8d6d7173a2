"""Faults refuse to act on anything the stack did not create, and always revert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alertdrill.backends.process import make_tempdir, mount_tmpfs, remove_tempdir
from alertdrill.engine import timeline as tl
from alertdrill.engine.faults import FILL_FILE, FillDisk, IssueCertificate, RestartService, StopService
from alertdrill.engine.timeline import Timeline
from alertdrill.errors import StepError


class FakeService:
    """A service handle recording what was done to it."""

    name = "svc"

    def __init__(self, ready_after: float | None = 0.0) -> None:
        self.calls: list[str] = []
        #: Seconds after a start until the readiness probe answers (None: never).
        self.ready_after = ready_after
        self.started_at = 0.0

    def is_ready(self, session: object) -> bool:
        import time

        if self.ready_after is None:
            return False
        return time.monotonic() - self.started_at >= self.ready_after

    def log_tail(self, lines: int = 15) -> str:
        return "FATAL: could not start"

    def stop(self) -> None:
        self.calls.append("stop")

    def kill(self) -> None:
        self.calls.append("kill")

    def start(self) -> None:
        import time

        self.calls.append("start")
        self.started_at = time.monotonic()


def test_fill_refuses_a_directory_the_harness_did_not_mount(tmp_path: Path) -> None:
    fault = FillDisk(Timeline(), service=FakeService(), filesystem=tmp_path, percent=50)
    with pytest.raises(StepError, match="did not mount"):
        fault.apply()
    assert not (tmp_path / FILL_FILE).exists()


def test_fill_and_revert_on_a_harness_tmpfs() -> None:
    import os

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    workdir = make_tempdir("faults-test")
    try:
        fs = workdir / "fs"
        mount_tmpfs(fs, 4)
        timeline = Timeline()
        with FillDisk(timeline, service=FakeService(), filesystem=fs, percent=90):
            stats = os.statvfs(fs)
            used = 1 - stats.f_bavail / stats.f_blocks
            assert 0.88 <= used <= 0.92, used
        assert not (fs / FILL_FILE).exists()
        kinds = [e.kind for e in timeline.events()]
        assert kinds == [tl.FAULT_APPLIED, tl.FAULT_REVERTED]
    finally:
        remove_tempdir(workdir)
    assert not workdir.exists()
    assert str(workdir) not in Path("/proc/mounts").read_text()


def test_stop_reverts_once_and_records_anchors() -> None:
    service = FakeService()
    timeline = Timeline()
    fault = StopService(timeline, service=service, how="kill")
    fault.apply()
    fault.revert()
    fault.revert()
    assert service.calls == ["kill", "start"]
    assert [e.anchor for e in timeline.events()] == [True, True]


def test_restart_is_not_an_sla_anchor() -> None:
    service = FakeService()
    timeline = Timeline()
    RestartService(timeline, service=service).apply()
    assert service.calls == ["stop", "start"]
    assert [e.anchor for e in timeline.events()] == [False]
    assert timeline.anchor() is None


def test_certificate_fault_refuses_outside_the_stack_and_restores_bytes(tmp_path: Path) -> None:
    from alertdrill.backends.certs import CERT_FILE, issue_leaf, leaf_expiry, make_authority

    ca = make_authority()
    workdir = tmp_path / "stack"
    certs = workdir / "certs"
    issue_leaf(ca, ["site"], 90, certs)
    before = (certs / CERT_FILE).read_bytes()
    outside = IssueCertificate(Timeline(), service=FakeService(), cert_dir=certs, names=["site"],
                               authority=ca, workdir=tmp_path / "other", days=10)
    with pytest.raises(StepError, match="not a directory of the stack"):
        outside.apply()
    assert (certs / CERT_FILE).read_bytes() == before
    fault = IssueCertificate(Timeline(), service=FakeService(), cert_dir=certs, names=["site"],
                             authority=ca, workdir=workdir, days=10)
    with fault:
        left = leaf_expiry(certs) - datetime.now(UTC)
        assert timedelta(days=9, hours=23) < left <= timedelta(days=10)
    assert (certs / CERT_FILE).read_bytes() == before


def test_a_started_service_anchors_the_clock_once_it_is_ready_again() -> None:
    """The resolution SLA must not include the service's own start-up (real, unscaled
    seconds): the revert's anchor is taken where the service became ready — at the end of the
    last check that saw it not ready — and the start-up time is its own figure on the event."""
    timeline = Timeline()
    service = FakeService(ready_after=0.3)
    fault = StopService(timeline, service=service)
    fault.apply()
    fault.revert()
    reverted = timeline.events([tl.FAULT_REVERTED])[0]
    ready = timeline.at_monotonic(service.started_at + 0.3)
    # Never after the moment it was ready; tolerance below it: one 20 ms poll and a check's
    # own time, with 80 ms to spare for a loaded machine's scheduling.
    assert ready - 0.1 <= reverted.t <= ready
    assert reverted.anchor
    assert 0.3 <= reverted.detail["recovery_s"] < 1.0
    assert "ready again after" in reverted.detail["note"]


class QueuedCheck(FakeService):
    """A readiness check that waits ``wait`` seconds before it sees the service (a probe
    queued behind Prometheus's scrapes of a just-restarted exporter), then answers."""

    wait = 0.05

    def is_ready(self, session: object) -> bool:
        import time

        time.sleep(self.wait)
        return super().is_ready(session)


def test_the_anchor_is_never_after_what_prometheus_may_already_have_seen() -> None:
    """Prometheus scrapes on its own schedule: it can see the service up while the harness's
    check is still on its way, and an alert once resolved 16 ms before an anchor taken when
    that check returned. Whatever the checks' timing, the anchor is at or before the moment
    the service was ready (exact: it is the end of a check that saw it down)."""
    for ready_after in (0.0, 0.03, 0.12, 0.2):
        timeline = Timeline()
        service = QueuedCheck(ready_after=ready_after)
        fault = StopService(timeline, service=service)
        fault.apply()
        fault.revert()
        reverted = timeline.events([tl.FAULT_REVERTED])[0]
        assert reverted.t <= timeline.at_monotonic(service.started_at + ready_after), ready_after
        assert reverted.detail["recovery_s"] >= ready_after


def test_a_slow_check_that_saw_the_service_down_is_not_charged_to_the_sla() -> None:
    """A check that waited 0.4 s behind a backlog and then saw the service down says it was
    down at its end: the anchor is no earlier than that end (an anchor at the check's start
    once charged 2.2 s of such a wait to a resolution SLA)."""
    timeline = Timeline()
    service = QueuedCheck(ready_after=0.3)
    service.wait = 0.4
    fault = StopService(timeline, service=service)
    fault.apply()
    fault.revert()
    reverted = timeline.events([tl.FAULT_REVERTED])[0]
    # The first check (0 … 0.4 s) ends after readiness (0.3 s) and says ready: nothing saw it
    # down, so the anchor is the revert's start, not 0.4 s later and not at the check's end.
    assert reverted.t <= timeline.at_monotonic(service.started_at)
    # A check that ends before readiness and says "down" moves the anchor to its end.
    timeline = Timeline()
    service = QueuedCheck(ready_after=0.5)
    service.wait = 0.4
    fault = StopService(timeline, service=service)
    fault.apply()
    fault.revert()
    reverted = timeline.events([tl.FAULT_REVERTED])[0]
    down_seen = timeline.at_monotonic(service.started_at + 0.4)
    # Tolerance: at or after the first check's end (0.4 s); before readiness (0.5 s).
    assert down_seen <= reverted.t <= timeline.at_monotonic(service.started_at + 0.5)


def test_a_restarts_readiness_is_not_reused_by_its_revert() -> None:
    """A restart waits for readiness when applied; its revert restarts nothing, so it is
    stamped when it happens, not back at the restart's readiness."""
    timeline = Timeline()
    fault = RestartService(timeline, service=FakeService(ready_after=0.05))
    fault.apply()
    applied = timeline.events([tl.FAULT_APPLIED])[0]
    assert applied.detail["recovery_s"] >= 0.05
    before = timeline.now()
    fault.revert()
    reverted = timeline.events([tl.FAULT_REVERTED])[0]
    assert reverted.t >= before and "recovery_s" not in reverted.detail


def test_a_service_that_never_becomes_ready_again_fails_the_step() -> None:
    from alertdrill.engine.faults import wait_until_ready
    from alertdrill.errors import StartupError

    service = FakeService(ready_after=None)
    with pytest.raises(StartupError, match="svc was not ready again within 0 s") as err:
        wait_until_ready(service, timeout=0.1)
    assert "FATAL: could not start" in str(err.value)


def test_a_restart_is_done_when_what_reports_on_the_service_sees_it_up() -> None:
    """PostgreSQL's exporter drains a backlog of scrapes after an outage (real seconds): the
    revert waits for it, so the resolution SLA counts from when PostgreSQL is seen up."""
    import time

    class Probe:
        name, url, line = "exporter", "http://x/metrics", "pg_up 1"

        def __init__(self) -> None:
            self.calls = 0

        def __call__(self, session: object) -> bool:
            self.calls += 1
            return self.calls >= 5

    timeline = Timeline()
    probe = Probe()
    fault = StopService(timeline, service=FakeService(), probes=[probe])
    fault.apply()
    before = time.monotonic()
    fault.revert()
    assert probe.calls == 5
    assert time.monotonic() - before >= 4 * 0.02  # Tolerance: four 20 ms polls at least


def test_an_exporter_that_never_sees_the_service_fails_the_step() -> None:
    from alertdrill.engine.faults import wait_until_ready
    from alertdrill.errors import StartupError

    class Never:
        name, url, line = "exporter", "http://x/metrics", "pg_up 1"

        def __call__(self, session: object) -> bool:
            return False

    with pytest.raises(StartupError, match="exporter never saw it up again"):
        wait_until_ready(FakeService(), timeout=0.1, probes=[Never()])  # type: ignore[list-item]
