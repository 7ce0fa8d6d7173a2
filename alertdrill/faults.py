"""Faults: real failures with ``apply()``/``revert()``, always reverted, always on the timeline."""

from __future__ import annotations

from dataclasses import dataclass, field

from alertdrill import timeline as tl
from alertdrill.backends.base import ServiceHandle
from alertdrill.timeline import Timeline


@dataclass
class Fault:
    """Base of every fault: records itself, reverts once, usable as a context manager."""

    timeline: Timeline
    active: bool = field(default=False, init=False)

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
        self._apply()
        self.active = True
        self.timeline.add(tl.FAULT_APPLIED, self.name, anchor=True, note="fault applied")
        return self

    def revert(self) -> None:
        """Undo the failure (idempotent); also an anchor (resolution SLAs count from it)."""
        if not self.active:
            return
        self._revert()
        self.active = False
        self.timeline.add(tl.FAULT_REVERTED, self.name, anchor=True, note="fault reverted")

    def __enter__(self) -> Fault:
        return self.apply()

    def __exit__(self, *exc: object) -> None:
        self.revert()


@dataclass
class StopService(Fault):
    """The service's process is stopped (SIGTERM) until reverted: scrapes are refused."""

    service: ServiceHandle | None = None
    how: str = "stop"

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
        self.service.start()
