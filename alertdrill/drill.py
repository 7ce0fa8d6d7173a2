"""One scenario's world: a running stack, its timeline, the observer, the faults, the claims.

Steps hold a ``Drill`` and call its methods; everything stateful lives here so that steps stay
parsing-only and so that the same engine drives the CLI's GameDay mode.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from alertdrill import timeline as tl
from alertdrill.backends.base import RunningStack
from alertdrill.errors import StepError
from alertdrill.expect import Expect
from alertdrill.faults import Fault, StopService
from alertdrill.observe import AlertmanagerAPI, Observer, PrometheusAPI
from alertdrill.settings import Settings
from alertdrill.sink.client import SinkClient
from alertdrill.timeline import Timeline
from alertdrill.timescale import TimeScale

logger = logging.getLogger(__name__)


class Drill:
    """A scenario bound to a usable stack; ``close()`` reverts every fault it applied."""

    def __init__(self, stack: RunningStack, settings: Settings) -> None:
        self.stack = stack
        self.settings = settings
        self.scale = TimeScale(settings.time_scale, settings.floor)
        self.timeline = Timeline()
        self.prometheus = PrometheusAPI(stack.prometheus_url)
        self.alertmanagers = [
            AlertmanagerAPI(url, peer) for peer, url in enumerate(stack.alertmanager_urls)
        ]
        self.sink = SinkClient(stack.sink_url)
        self.observer = Observer(
            self.timeline, self.prometheus, self.alertmanagers, self.sink, settings.poll_interval
        )
        self.expect = Expect(self.timeline, self.observer, self.scale, settings.tolerance)
        self.faults: list[Fault] = []
        self._closed = False

    def begin(self) -> Drill:
        """Take t=0 now (the stack is usable) and start observing."""
        self.timeline.rebase()
        self.timeline.add(tl.STACK_READY, "stack", note=_startup_note(self.stack.startup),
                          time_scale=self.scale.factor, floor=self.scale.floor)
        for warning in self.stack.warnings:
            self.timeline.add(tl.STACK_WARNING, "stack", note=warning)
        self.observer.start()
        return self

    def close(self) -> None:
        """Revert every active fault (newest first) and stop observing; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for fault in reversed(self.faults):
            try:
                fault.revert()
            except Exception:
                logger.exception("reverting %s failed", fault.name)
        self.observer.stop()

    # -- actions --------------------------------------------------------------------------
    def apply(self, fault: Fault) -> Fault:
        """Apply a fault and keep it for automatic revert."""
        self.faults.append(fault)
        return fault.apply()

    def stop_service(self, name: str, how: str = "stop") -> Fault:
        """Stop (or kill) a service until ``start_service``: a real outage."""
        return self.apply(StopService(self.timeline, service=self.stack.service(name), how=how))

    def start_service(self, name: str) -> None:
        """Revert the stop of ``name``."""
        for fault in reversed(self.faults):
            if isinstance(fault, StopService) and fault.active and fault.service is not None \
                    and fault.service.name == name:
                fault.revert()
                return
        raise StepError(
            f'the service "{name}" was not stopped by this scenario, so it cannot be started',
            'stop it first with: When the service "NAME" is stopped',
        )

    def push_alert(self, alertname: str, labels: dict[str, str],
                   annotations: dict[str, str] | None = None, resolved: bool = False) -> None:
        """Send an alert to every peer, as Prometheus does; an anchor on the timeline."""
        now = datetime.now(UTC)
        alert: dict[str, Any] = {
            "labels": {"alertname": alertname, **labels},
            "annotations": annotations or {},
            "startsAt": now.isoformat(),
        }
        if resolved:
            alert["endsAt"] = now.isoformat()
        else:
            # Like Prometheus: valid for a while, so the alert does not resolve by itself.
            alert["endsAt"] = (now + timedelta(hours=1)).isoformat()
        sent = 0
        for api in self.alertmanagers:
            try:
                api.post_alerts([alert])
                sent += 1
            except Exception as exc:
                logger.info("peer %d refused the alert: %s", api.peer, exc)
        if sent == 0:
            raise StepError(f'no Alertmanager peer accepted the alert "{alertname}"')
        self.timeline.add(
            tl.ACTION, alertname, alert["labels"], anchor=True,
            note=f"{'resolved' if resolved else 'pushed'} to {sent} peer(s)",
        )


def _startup_note(startup: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}s" for k, v in startup.items())
