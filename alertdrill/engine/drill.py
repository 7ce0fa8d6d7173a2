"""One scenario's world: a running stack, its timeline, the observer, the faults, the claims.

Steps hold a ``Drill`` and call its methods; everything stateful lives here so that steps stay
parsing-only and so that the same engine drives the CLI's GameDay mode.

Size (~610 lines): one method per action a step or a GameDay can take, each a few lines over
a fault or a capability; the facade is the point (steps and the supervisor see only ``Drill``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from alertdrill.analysis.rulelabels import rule_label_sets
from alertdrill.analysis.seriescontrol import select
from alertdrill.analysis.seriesplan import StandIn, did_you_mean
from alertdrill.analysis.staticreach import reachable_receivers
from alertdrill.backends.base import PartitionableStack, RunningStack
from alertdrill.engine import clock, liveconfig, timeofday
from alertdrill.engine import timeline as tl
from alertdrill.engine.cluster import (
    Duplicate,
    PeerState,
    dedup_window,
    describe_cluster,
    find_duplicates,
    peer_state,
)
from alertdrill.engine.expect import Expect
from alertdrill.engine.faults import (
    NETWORK_CUTS,
    RECEIVER_FAILURES,
    BreakReceiver,
    ControlTarget,
    DriveSeries,
    Fault,
    FillDisk,
    FloodLog,
    IsolateService,
    IssueCertificate,
    PauseService,
    RestartService,
    StopService,
)
from alertdrill.engine.health import Health, LagMonitor, metric_samples
from alertdrill.engine.health import snapshot as health_snapshot
from alertdrill.engine.observe import AlertmanagerAPI, Observer, PrometheusAPI
from alertdrill.engine.push import AlertPush
from alertdrill.engine.silences import Matcher, SilenceBook
from alertdrill.engine.stackspec import StackSpec
from alertdrill.engine.timeline import Timeline
from alertdrill.engine.timescale import TimeScale
from alertdrill.errors import ConfigError, StepError
from alertdrill.kinds.capabilities import (
    CertificateHolder,
    Controllable,
    Fillable,
    LogFloodable,
    SeriesDriven,
)
from alertdrill.settings import Settings
from alertdrill.sink.client import SinkClient
from alertdrill.sink.integrations import (
    delivering_integrations,
    has_integration,
    label,
    receiver_integrations,
)
from alertdrill.sink.protocol import Destination
from alertdrill.yamlio import load_yaml

logger = logging.getLogger(__name__)


def check_breakable(destinations: list[Destination], receiver: str, integration: str | None,
                    index: int | None) -> None:
    """StepError unless ``receiver`` has the integration (``None``: any; ``index``: that one).

    A break that matches no destination would fail nothing, and a drill built on it would pass
    for the wrong reason; the scenario steps are checked before start, a GameDay's
    ``break-receiver`` only here."""
    known = delivering_integrations(destinations)
    if receiver not in known:
        raise StepError(f'the stack has no receiver "{receiver}"',
                        f"receivers of this stack: {', '.join(sorted(known))}")
    own = known[receiver]
    if integration is not None and not has_integration(own, integration, index):
        named = integration + (f"[{index}]" if index is not None else "")
        raise StepError(f'the receiver "{receiver}" has no {named} integration',
                        f"its integrations: {', '.join(sorted(map(label, own))) or 'none'}")


class Drill:
    """A scenario bound to a usable stack; ``close()`` reverts every fault it applied."""

    def __init__(self, stack: RunningStack, settings: Settings) -> None:
        self.stack = stack
        self.settings = settings
        self.scale = TimeScale(settings.time_scale, settings.floor)
        self.timeline = Timeline()
        # A stack someone else runs (the external backend) says how each URL is reached.
        session_for = getattr(stack, "session_for", None)
        self._session_for: Callable[[str], requests.Session | None] = \
            session_for if callable(session_for) else (lambda url: None)
        self.prometheus = PrometheusAPI(stack.prometheus_url,
                                        session=self._session_for(stack.prometheus_url))
        self.alertmanagers = [
            AlertmanagerAPI(url, peer, session=self._session_for(url))
            for peer, url in enumerate(stack.alertmanager_urls)
        ]
        attach = getattr(stack, "attach_timeline", None)
        if callable(attach):  # it records the commands it runs on the scenario's timeline
            attach(self.timeline)
        self.sink = SinkClient(stack.sink_url)
        self.observer = Observer(
            self.timeline, self.prometheus, self.alertmanagers, self.sink, settings.poll_interval
        )
        self.expect = Expect(self.timeline, self.observer, self.scale, settings.tolerance,
                             _static_reach(stack), self.diagnosis, _held_delays(stack, self.scale))
        self.lag = LagMonitor()
        #: Taken when the scenario ends (before the stack stops), for its record.
        self.final_health: Health | None = None
        self.final_cluster: list[PeerState] = []
        self.faults: list[Fault] = []
        #: Alerts pushed and not resolved yet: resolved at close on a shared stack.
        self._pushed: dict[str, tuple[str, dict[str, str]]] = {}
        self._silence_book = SilenceBook(self.alertmanagers, self.timeline, self.scale)
        #: The silences this scenario made: their matchers (as written) → their ids.
        self.silences: dict[str, str] = self._silence_book.ids
        self.live_config = liveconfig.LiveConfig(stack, self.scale, self.timeline)
        self._closed = False

    def begin(self) -> Drill:
        """Take t=0 now (the stack is usable) and start observing."""
        self.timeline.rebase()
        self.timeline.add(tl.STACK_READY, "stack", note=_startup_note(self.stack.startup),
                          time_scale=self.scale.factor, floor=self.scale.floor)
        for warning in self.stack.warnings:
            self.timeline.add(tl.STACK_WARNING, "stack", note=warning)
        self.observer.start()
        self.lag.start()
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
        if getattr(self.stack, "shared", False):
            self._clean_shared_stack()
        try:
            self.final_health = self.health()
            self.final_cluster = self.cluster_state()
        except Exception:
            logger.exception("reading the stack's health at the end failed")
        self.lag.stop()
        self.observer.stop()

    def _clean_shared_stack(self) -> None:
        """On a stack that outlives the scenario (someone else's), take back what the scenario
        left in its Alertmanagers: resolve the alerts it pushed, expire its silences — on the
        local and Docker backends the stack goes away with them."""
        for alertname, labels in list(self._pushed.values()):
            try:
                self.push_alert(alertname, labels, resolved=True)
            except Exception:
                logger.exception("resolving the pushed alert %s failed", alertname)
        for key, silence_id in list(self.silences.items()):
            for api in self.alertmanagers:
                try:
                    api.expire_silence(silence_id)
                except requests.RequestException:
                    continue
                self.silences.pop(key)
                self.timeline.add(tl.ACTION, "silence", note=f"silence {silence_id[:8]} expired "
                                  "at the scenario's end (a shared stack)")
                break

    # -- observation of the stack itself ---------------------------------------------------
    def health(self) -> Health:
        """Prometheus's and the harness's own pace so far (see alertdrill.engine.health)."""
        return health_snapshot(self.stack.prometheus_url, self.lag,
                               session=self._session_for(self.stack.prometheus_url))

    def cluster_state(self) -> list[PeerState]:
        """Each Alertmanager peer's view of the cluster, from its own metrics."""
        states = []
        for api in self.alertmanagers:
            try:
                text: str | None = api.metrics()
            except Exception:
                text = None
            states.append(peer_state(api.peer, text))
        return states

    def duplicates(self) -> list[Duplicate]:
        """Notifications a second peer delivered within the peers' stagger (not repeats)."""
        window = dedup_window(len(self.alertmanagers),
                              self.stack.peer_timeout)
        return find_duplicates(self.timeline.events([tl.NOTIFICATION]), window)

    def diagnosis(self) -> list[str]:
        """What every failed claim ends with: duplicates, the cluster's state, the stack's
        health over the scenario."""
        lines = []
        duplicates = self.duplicates()
        if duplicates:
            lines.append(f"duplicates ({len(duplicates)}: the same notification from a second "
                         "peer within the peers' stagger):")
            lines += [f"  {d.describe()}" for d in duplicates]
        if len(self.alertmanagers) > 1:
            lines.append(describe_cluster(self.cluster_state()))
        lines.append(self.health().describe(self.settings.tolerance))
        return lines

    # -- actions --------------------------------------------------------------------------
    def wait(self, real_seconds: float) -> None:
        """Let ``real_seconds`` of the modelled world pass (see alertdrill.engine.clock)."""
        clock.wait_for(self.timeline, self.scale, real_seconds)

    def wait_until(self, real_seconds: float) -> None:
        """Block until the scenario clock reads ``real_seconds`` (see alertdrill.engine.clock)."""
        clock.wait_until(self.timeline, self.scale, real_seconds, self.settings.tolerance)

    def apply(self, fault: Fault) -> Fault:
        """Apply a fault and keep it for automatic revert."""
        self.faults.append(fault)
        return fault.apply()

    def stop_service(self, name: str, how: str = "stop") -> Fault:
        """Stop (or kill) a service until ``start_service``: a real outage."""
        return self.apply(StopService(self.timeline, service=self.stack.service(name), how=how,
                                      probes=self.stack.recovery_probes(name)))

    def start_service(self, name: str) -> None:
        """Revert the stop of ``name``."""
        self._revert_matching(StopService, name,
                              f'the service "{name}" was not stopped by this scenario, so it '
                              'cannot be started', 'stop it first with: When the service "NAME" '
                              "is stopped")

    def restart_service(self, name: str) -> Fault:
        """Stop and start a service at once; not an SLA anchor (the incident's clock runs on)."""
        return self.apply(RestartService(self.timeline, service=self.stack.service(name),
                                         probes=self.stack.recovery_probes(name)))

    def pause_service(self, name: str) -> Fault:
        """Freeze a service (SIGSTOP) until ``resume_service``."""
        return self.apply(PauseService(self.timeline, service=self.stack.service(name)))

    def resume_service(self, name: str) -> None:
        """Revert the pause of ``name``."""
        self._revert_matching(PauseService, name,
                              f'the service "{name}" was not paused by this scenario',
                              'pause it first with: When the service "NAME" is paused')

    def isolate_service(self, name: str, scope: str = "all") -> Fault:
        """Cut a service off the network (``scope``: all of it, an Alertmanager peer's gossip
        with the other peers, or Prometheus's path to the Alertmanagers) until reconnected.

        Only stacks whose services have networks of their own can: the Docker backend.
        """
        if scope not in NETWORK_CUTS:
            raise StepError(f"unknown network cut {scope!r}", f"one of {', '.join(NETWORK_CUTS)}")
        if not isinstance(self.stack, PartitionableStack):
            raise StepError(
                f'"{name}" cannot be {NETWORK_CUTS[scope]} on this backend: its processes share '
                "the machine's loopback, which cannot be partitioned",
                "network partitions need the Docker backend: run with --backend docker "
                "(or ALERTDRILL_BACKEND=docker; its images are built on first use)")
        service = self.stack.service(name)
        try:
            self.stack.networks_of(name, scope)
        except ConfigError as exc:
            raise StepError(str(exc.args[0]), exc.hint) from None
        return self.apply(IsolateService(self.timeline, stack=self.stack, service=service,
                                         scope=scope))

    def peer_index(self, name: str) -> int:
        """The index of Alertmanager peer ``alertmanager-N``."""
        prefix, _, number = name.rpartition("-")
        if prefix != "alertmanager" or not number.isdigit() or \
                int(number) >= len(self.alertmanagers):
            raise StepError(f'"{name}" is not an Alertmanager peer of the stack',
                            f"peers: alertmanager-0 … alertmanager-{len(self.alertmanagers) - 1}")
        return int(number)

    def reconnect_service(self, name: str, scope: str | None = None) -> None:
        """Revert the network cuts of ``name`` (every one, or those of ``scope``)."""
        found = [f for f in self.faults if isinstance(f, IsolateService) and f.active
                 and _target_of(f) == name and scope in (None, f.scope)]
        if not found:
            raise StepError(f'"{name}" was not cut off from the network by this scenario',
                            'cut it off first, e.g.: When the service "NAME" is cut off from '
                            "the network")
        for fault in reversed(found):
            fault.revert()

    def control_target(self, name: str, **settings: Any) -> Fault:
        """Raise a fault inside one of the harness's own apps (see alertdrill.targets.app)."""
        service = self.stack.service(name)
        url = service.url
        control = service.capability(Controllable)
        try:
            ok = control is not None and \
                requests.get(url + control.path, timeout=2).status_code == 200
        except requests.RequestException:
            ok = False
        if not ok:
            raise StepError(f'the service "{name}" has no fault controls',
                            "latency, 5xx rate and pool faults need a service of kind `app`")
        return self.apply(ControlTarget(self.timeline, service=service, url=url,
                                        settings=settings))

    def use_pool(self, name: str, percent: float) -> Fault:
        """Leak connections of an app until ``percent`` of its pool (``app.POOL_SIZE``) is
        checked out."""
        from alertdrill.targets.app import POOL_SIZE

        return self.control_target(name, pool_active=round(percent / 100 * POOL_SIZE))

    def restore_target(self, name: str) -> None:
        """Revert every control fault applied to ``name``."""
        self._revert_matching(ControlTarget, name,
                              f'no fault was raised in "{name}" by this scenario',
                              'raise one first, e.g.: When the 5xx rate of "NAME" is raised to 50 %',
                              every=True)

    def _stand_in(self, name: str) -> tuple[Any, StandIn]:
        """A series service of the stack and its plan (StepError naming the stand-ins)."""
        handles = {n: self.stack.service(n) for n in self.stack.service_names()}
        found = {n: h.capability(SeriesDriven) for n, h in handles.items()}
        stand_ins = {n: driven.plan for n, driven in found.items() if driven is not None}
        if name not in stand_ins:
            raise StepError(f'"{name}" is not a series stand-in of the stack'
                            + did_you_mean(name, stand_ins),
                            f"series services: {', '.join(sorted(stand_ins)) or 'none'} (kind "
                            "`series` in alertdrill.yml, or a scrape target no service claims)")
        return handles[name], stand_ins[name]

    def drive_series(self, name: str, series: str, drive: str, amount: float = 0.0,
                     window_real: float = 0.0) -> Fault:
        """Drive series of a stand-in: ``value`` (a gauge), ``rate`` (per measured second),
        ``latency`` (seconds), ``increase`` (``amount`` every real-world ``window_real``, i.e.
        a rate over the scaled window), ``absent`` (not served). Reverted to its baseline."""
        service, plan = self._stand_in(name)
        chosen = select(plan, name, series, drive)
        if drive != "absent" and (amount < 0 and drive != "value"):
            raise StepError(f"a {drive} cannot be negative ({amount:g})")
        if drive == "absent":
            request: dict[str, Any] = {"absent": True}
            what = f"{series} disappears"
        elif drive == "increase":
            seconds = self.scale.measured(window_real)
            request = {"set": {"rate": amount / seconds}}
            what = f"{series} increases by {amount:g} per {seconds:g} s measured"
        else:
            request = {"set": {drive: amount}}
            unit = {"value": "", "rate": "/s", "latency": " s"}[drive]
            what = f"{series} {drive} {amount:g}{unit}"
        return self.apply(DriveSeries(self.timeline, service=service, url=service.url,
                                      family=chosen.family.name, labels=chosen.labels,
                                      request=request, what=what))

    def series_to_baseline(self, name: str, series: str | None = None) -> None:
        """Revert the drives of a stand-in (those of one series, or all) to its baseline."""
        _, plan = self._stand_in(name)
        chosen = select(plan, name, series, "baseline") if series else None
        found = [f for f in self.faults if isinstance(f, DriveSeries) and f.active
                 and _target_of(f) == name and (chosen is None or (
                     f.family == chosen.family.name and (chosen.labels.items() <= f.labels.items()
                                                         or f.labels.items() <= chosen.labels.items())
                 ))]
        if not found:
            what = f"{series} of " if series else ""
            raise StepError(f'{what}"{name}" was not driven by this scenario',
                            'drive it first, e.g.: When the series NAME of "SERVICE" is set to 1')
        for fault in reversed(found):
            fault.revert()

    def fill_disk(self, name: str, percent: float) -> Fault:
        """Fill the small filesystem the stack mounted for service ``name`` to ``percent``."""
        if not 0 < percent <= 100:
            raise StepError(f"cannot fill a disk to {percent:g} %", "use a percentage in 1…100")
        service = self.stack.service(name)
        fillable = service.capability(Fillable)
        if fillable is None:
            raise StepError(f'the service "{name}" has no filesystem of the stack\'s own',
                            "disk faults need a service of kind `node-exporter`, which watches "
                            "a small tmpfs the harness mounts")
        return self.apply(FillDisk(self.timeline, service=service, filesystem=fillable.filesystem,
                                   percent=percent))

    def free_disk(self, name: str) -> None:
        """Delete what ``fill_disk`` wrote."""
        self._revert_matching(FillDisk, name,
                              f'the disk of "{name}" was not filled by this scenario',
                              'fill it first: When the disk of "NAME" is filled to 95 %',
                              every=True)

    def flood_log(self, name: str, level: str, rate: float, duration_real: float,
                  message: str | None = None) -> Fault:
        """Write ``rate`` lines/s of ``level`` into service ``name``'s log for a (scaled) time."""
        service = self.stack.service(name)
        floodable = service.capability(LogFloodable)
        if floodable is None:
            raise StepError(f'the service "{name}" has no log the stack owns',
                            "log floods need a service of kind `app` (it writes an access log)")
        if not 0 < rate <= 100_000:
            raise StepError(f"cannot flood {rate:g} lines per second", "use 1…100000")
        return self.apply(FloodLog(self.timeline, service=service, log_file=floodable.log_file,
                                   workdir=self.stack.workdir, level=level,
                                   message=message or f"alertdrill flood ({level})", rate=rate,
                                   seconds=self.scale.measured(duration_real)))

    def issue_certificate(self, name: str, days: float) -> Fault:
        """Serve a certificate from the stack's CA that expires in ``days`` (calendar days:
        an expiry is compared with the wall clock, which is never scaled)."""
        service = self.stack.service(name)
        holder = service.capability(CertificateHolder)
        if holder is None:
            raise StepError(f'the service "{name}" serves no certificate of the stack',
                            "certificate faults need a service of kind `tls-endpoint`")
        if not -3650 <= days <= 3650:
            raise StepError(f"cannot issue a certificate expiring in {days:g} days",
                            "use -3650…3650 (negative: already expired)")
        return self.apply(IssueCertificate(
            self.timeline, service=service, cert_dir=holder.cert_dir, names=list(holder.names),
            authority=holder.authority, workdir=self.stack.workdir,
            days=days))

    def restore_certificate(self, name: str) -> None:
        """Put back the certificate the endpoint served before this scenario replaced it."""
        self._revert_matching(IssueCertificate, name,
                              f'the certificate of "{name}" was not replaced by this scenario',
                              'replace it first: When the certificate of "NAME" is reissued to '
                              "expire in 10 days", every=True)

    def break_receiver(self, receiver: str, integration: str | None, failure: str,
                       index: int | None = None) -> Fault:
        """Make one receiver's integration (all of that kind, or the one at ``index``) fail at
        the sink until ``heal_receiver``."""
        if failure not in RECEIVER_FAILURES:
            raise StepError(f"unknown receiver failure {failure!r}",
                            f"use one of: {', '.join(RECEIVER_FAILURES)}")
        check_breakable(self.stack.destinations(), receiver, integration, index)
        return self.apply(BreakReceiver(self.timeline, sink=self.sink, receiver=receiver,
                                        integration=integration, failure=failure, index=index))

    def heal_receiver(self, receiver: str) -> None:
        """Revert every break of ``receiver``."""
        self._revert_matching(BreakReceiver, receiver,
                              f'the receiver "{receiver}" was not broken by this scenario',
                              'break it first, e.g.: When the slack integration of "R" fails '
                              "with http 500", every=True)

    def _revert_matching(self, kind: type[Fault], target: str, message: str, hint: str,
                         every: bool = False) -> None:
        """Revert the newest active fault of ``kind`` on ``target`` (or all of them)."""
        found = [f for f in reversed(self.faults)
                 if isinstance(f, kind) and f.active and _target_of(f) == target]
        if not found:
            raise StepError(message, hint)
        for fault in found if every else found[:1]:
            fault.revert()

    def create_silence(self, matchers: list[Matcher], duration_real: float, created_by: str,
                       comment: str, starts_in_real: float = 0.0) -> str:
        """A silence as the on-call guide demands it (see alertdrill.engine.silences.SilenceBook)."""
        return self._silence_book.create(matchers, duration_real, created_by, comment,
                                         starts_in_real)

    def remove_silence(self, matchers: list[Matcher]) -> None:
        """Expire the silence this scenario created for exactly these matchers."""
        self._silence_book.remove(matchers)

    def replace_alertmanager_config(self, relative: str) -> None:
        """Replace the stack's alertmanager.yml by ``relative`` (in the stack directory),
        scaled and instrumented as at start, and reload every peer (alertdrill.engine.liveconfig)."""
        self.live_config.replace_alertmanager_config(relative)

    def replace_rule_file(self, rule_file: str, relative: str) -> None:
        """Replace one of the stack's rule files by ``relative`` and reload Prometheus; returns
        once Prometheus lists its Alertmanagers again (see alertdrill.engine.liveconfig)."""
        self.live_config.replace_rule_file(rule_file, relative)

    def set_time_of_day(self, moment: timeofday.Moment) -> None:
        """Make every time interval of the running alertmanager.yml see ``moment`` now, for
        the rest of the scenario (see alertdrill.engine.liveconfig.LiveConfig.set_time_of_day)."""
        self.live_config.set_time_of_day(moment)

    def failed_notifications(self, integration: str, attempts: bool = False) -> float:
        """Failures Alertmanager counted for ``integration``, summed over the reachable peers.

        ``attempts``: every failed request (``alertmanager_notification_requests_failed_total``);
        otherwise notifications whose retries all failed (``alertmanager_notifications_failed_total``
        — only after Alertmanager's notify timeout, at least 10 s, which is not scaled).
        """
        metric = ("alertmanager_notification_requests_failed_total" if attempts
                  else "alertmanager_notifications_failed_total")
        total = 0.0
        for api in self.alertmanagers:
            try:
                text = api.metrics()
            except Exception:
                continue
            total += sum(value for name, labels, value in metric_samples(text)
                         if name == metric and labels.get("integration") == integration)
        return total

    def push_rule_alerts(self, leave_out: frozenset[str] = frozenset()) -> list[dict[str, str]]:
        """Push one alert per alerting rule of the stack, labelled as Prometheus would label it
        (the rule's own labels and the scrape target's, where they are known without running
        the rule: see alertdrill.analysis.rulelabels), so that Alertmanager's routing of *every* rule can
        be checked at once — but the rules named in ``leave_out``. Returns the label sets
        pushed."""
        spec = self._spec()
        prometheus = load_yaml(spec.prometheus_config, "prometheus.yml")
        docs = [load_yaml(path, path.name) for path in spec.rule_files]
        pushed = [labels for labels in rule_label_sets(prometheus, docs)
                  if labels["alertname"] not in leave_out]
        if not pushed:
            raise StepError("this stack has no alerting rules to push")
        for labels in pushed:
            rest = {k: v for k, v in labels.items() if k != "alertname"}
            self.push_alert(labels["alertname"], rest)
        return pushed

    def _spec(self) -> StackSpec:
        """The stack directory's spec, for steps that read the stack's own configs."""
        spec = getattr(self.stack, "spec", None)
        if spec is None:
            raise StepError("this backend does not say which stack directory it runs")
        return spec

    def resolve_pushed_alerts(self) -> int:
        """Resolve every alert this scenario pushed and has not resolved yet (endsAt=now, as
        Prometheus sends when conditions clear); the number resolved. None pushed is an error:
        a resolved-notification claim after it could only hold vacuously."""
        pushed = list(self._pushed.values())
        if not pushed:
            raise StepError("no pushed alert is still firing to resolve",
                            "push alerts first, e.g. When every alerting rule's alert is "
                            "pushed to Alertmanager")
        for alertname, labels in pushed:
            self.push_alert(alertname, labels, resolved=True)
        return len(pushed)

    def integrations_of_receivers(self) -> dict[str, frozenset[tuple[str, int]]]:
        """receiver → its integrations, from the stack's alertmanager.yml (as written, before
        the harness's instrumentation)."""
        spec = self._spec()
        return receiver_integrations(load_yaml(spec.alertmanager_config, "alertmanager.yml"))

    def push_alert(self, alertname: str, labels: dict[str, str],
                   annotations: dict[str, str] | None = None, resolved: bool = False) -> None:
        """Send an alert to every peer, as Prometheus does; an anchor on the timeline."""
        self.push(AlertPush(alertname, labels, annotations or {}, resolved=resolved))

    def push(self, alert: AlertPush) -> None:
        """Send ``alert`` (with its own timing and content) to every peer; an anchor.

        The anchor is the moment of the push's own clock reading (before the first peer gets
        it): an alert that started longer than group_wait ago is notified at once, so its
        notification can arrive before the last peer has answered."""
        at = self.timeline.now()
        body = alert.payload(datetime.now(UTC), self.scale)
        sent = 0
        for api in self.alertmanagers:
            try:
                api.post_alerts([body])
                sent += 1
            except Exception as exc:
                logger.info("peer %d refused the alert: %s", api.peer, exc)
        if sent == 0:
            raise StepError(f'no Alertmanager peer accepted the alert "{alert.alertname}"')
        key = _labels_key({"alertname": alert.alertname, **alert.labels})
        if alert.resolved:
            self._pushed.pop(key, None)
        else:  # resolved at the end on a stack that outlives the scenario (_clean_shared_stack)
            self._pushed[key] = (alert.alertname, dict(alert.labels))
        self.timeline.add(tl.ACTION, alert.alertname, body["labels"], t=at, anchor=True,
                          note=f"{alert.describe()} to {sent} peer(s)")


def _static_reach(stack: RunningStack) -> Callable[[str], frozenset[str] | None] | None:
    """The routing tree's static answer to "can this alert reach that receiver?" (None when
    the stack's configs cannot be read that way; claims then just do not say "vacuously")."""
    spec = getattr(stack, "spec", None)
    if spec is None:
        return None
    try:
        return reachable_receivers(spec)
    except Exception:  # a report nicety: never a reason to fail a scenario
        logger.exception("reading the static routing of %s failed", spec.name)
        return None


def _held_delays(stack: RunningStack, scale: TimeScale
                 ) -> Callable[[str], tuple[float, str]] | None:
    """alertname → the unscaled measured seconds its pipeline spends in scrape jobs held at
    real time (a probe measuring literal seconds), and why; None when the stack holds none."""
    spec = getattr(stack, "spec", None)  # like _static_reach: a backend may not say
    if spec is None or not spec.min_scrape_timeouts:
        return None
    from alertdrill.analysis.staticreach import alert_shapes_of
    from alertdrill.engine.timescale import held_delays

    delays = held_delays(load_yaml(spec.prometheus_config, "prometheus.yml"),
                         spec.min_scrape_timeouts, scale)
    shapes = alert_shapes_of(spec)

    def unscaled(alertname: str) -> tuple[float, str]:
        jobs = {job for shape in shapes.get(alertname, ()) for job in (shape.get("job") or ())
                if job in delays}
        if not jobs:
            return 0.0, ""
        job = max(jobs, key=lambda j: delays[j])
        return delays[job], f"job {job!r} is scraped at real time"

    return unscaled


def _target_of(fault: Fault) -> str | None:
    """What a fault acts on: a service's name, or a receiver's."""
    service = getattr(fault, "service", None)
    if service is not None:
        return str(service.name)
    return getattr(fault, "receiver", None)


def _labels_key(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _startup_note(startup: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}s" for k, v in startup.items())
