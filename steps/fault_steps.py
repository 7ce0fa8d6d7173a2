"""When-steps that break (and heal) something real."""

from __future__ import annotations

from pytest_bdd import when

from alertdrill.durations import parse_human
from alertdrill.engine.claimnames import acts_on
from alertdrill.engine.drill import Drill
from alertdrill.sink.integrations import step_pattern

from .patterns import DURATION, quoted, rx


@when(rx(rf"the service {quoted('service')} is (?P<how>stopped|killed)"))
@acts_on(lambda args: ("kill" if args.get("how") == "killed" else "stop", "start"))
def service_stopped(drill: Drill, service: str, how: str) -> None:
    """Stop (SIGTERM) or kill (SIGKILL) a service of the stack; SLAs count from here.

    Example: When the service "web" is stopped
    """
    drill.stop_service(service, how="kill" if how == "killed" else "stop")


@when(rx(rf"the service {quoted('service')} is started( again)?"))
@acts_on(("start",))
def service_started(drill: Drill, service: str) -> None:
    """Start a service this scenario stopped, on the same address; SLAs count from here.

    Example: When the service "web" is started again
    """
    drill.start_service(service)


@when(rx(rf"the service {quoted('service')} is restarted"))
@acts_on(("stop", "start"))
def service_restarted(drill: Drill, service: str) -> None:
    """Stop and start a service at once; SLAs keep counting from the previous action.

    Example: When the service "escalation-service" is restarted
    """
    drill.restart_service(service)


@when(rx(rf"the service {quoted('service')} is paused"))
@acts_on(("pause", "resume"))
def service_paused(drill: Drill, service: str) -> None:
    """Freeze a service (SIGSTOP): connections hang instead of being refused.

    Example: When the service "web" is paused
    """
    drill.pause_service(service)


@when(rx(rf"the service {quoted('service')} is resumed"))
@acts_on(("resume",))
def service_resumed(drill: Drill, service: str) -> None:
    """Unfreeze a service this scenario paused (SIGCONT).

    Example: When the service "web" is resumed
    """
    drill.resume_service(service)


_FAILURE = r"(?P<failure>http 500|http 503|http 429|timeout|connection reset)"


@when(rx(rf"the {step_pattern(indexed=True)} integration of {quoted('receiver')} fails with "
         rf"{_FAILURE}"))
def integration_broken(drill: Drill, integration: str, index: str | None, receiver: str,
                       failure: str) -> None:
    """One integration of a receiver fails at the sink until healed (a receiver outage).

    Every one of its kind, or one by position (webhook[1]: the receiver's second webhook).

    Example: When the webhook[1] integration of "dev-critical" fails with http 500
    """
    drill.break_receiver(receiver, integration, failure, int(index) if index else None)


@when(rx(rf"the receiver {quoted('receiver')} is healed"))
def receiver_healed(drill: Drill, receiver: str) -> None:
    """Every broken integration of the receiver answers normally again.

    Example: When the receiver "team-web" is healed
    """
    drill.heal_receiver(receiver)


@when(rx(rf"the 5xx rate of {quoted('service')} is raised to (?P<percent>\d+(?:\.\d+)?) ?%"))
@acts_on(("control",))
def error_rate_raised(drill: Drill, service: str, percent: str) -> None:
    """That share of the app's real requests now fail with HTTP 500.

    Example: When the 5xx rate of "api-service" is raised to 50 %
    """
    drill.control_target(service, error_rate=float(percent) / 100)


@when(rx(rf"the latency of {quoted('service')} is raised to (?P<seconds>\d+(?:\.\d+)?) "
         r"(?:s|seconds?)"))
@acts_on(("control",))
def latency_raised(drill: Drill, service: str, seconds: str) -> None:
    """Every real request of the app now takes this long (literal seconds: a latency is a
    measured value compared with the rule's numeric threshold, so it is not time-scaled).

    Example: When the latency of "api-service" is raised to 2 seconds
    """
    drill.control_target(service, latency=float(seconds))


@when(rx(rf"the connection pool use of {quoted('service')} is raised to "
         r"(?P<percent>\d+(?:\.\d+)?) ?%"))
@acts_on(("control",))
def pool_raised(drill: Drill, service: str, percent: str) -> None:
    """Connections leak until that share of the app's pool (its 20 connections) is checked out.

    Example: When the connection pool use of "api-service" is raised to 95 %
    """
    drill.use_pool(service, float(percent))


@when(rx(rf"the faults of {quoted('service')} are reverted"))
@acts_on(("control",))
def target_restored(drill: Drill, service: str) -> None:
    """The app behaves normally again (latency, 5xx rate and pool as before).

    Example: When the faults of "api-service" are reverted
    """
    drill.restore_target(service)


@when(rx(rf"the disk of {quoted('service')} is filled to (?P<percent>\d+(?:\.\d+)?) ?%"))
@acts_on(("fill-disk",))
def disk_filled(drill: Drill, service: str, percent: str) -> None:
    """Write a real file into the stack's own small filesystem until it is that full.

    Example: When the disk of "node-exporter" is filled to 95 %
    """
    drill.fill_disk(service, float(percent))


@when(rx(rf"the disk of {quoted('service')} is freed"))
@acts_on(("fill-disk",))
def disk_freed(drill: Drill, service: str) -> None:
    """Delete what the fill wrote.

    Example: When the disk of "node-exporter" is freed
    """
    drill.free_disk(service)


@when(rx(rf"the log of {quoted('service')} is flooded with (?P<rate>\d+(?:\.\d+)?) "
         rf"(?P<level>[A-Z]+) lines per second for {DURATION}(?: saying {quoted('message')})?"))
@acts_on(("flood-log",))
def log_flooded(drill: Drill, service: str, rate: str, level: str, duration: str,
                message: str | None) -> None:
    """Append real log lines to the service's log (mtail counts them); the time is real-world.

    Example: When the log of "api-service" is flooded with 50 CRITICAL lines per second for 1 minute
    """
    drill.flood_log(service, level, float(rate), parse_human(duration), message)


@when(rx(rf"the certificate of {quoted('service')} is reissued to expire in "
         r"(?P<days>-?\d+(?:\.\d+)?) days?"))
@acts_on(("certificate",))
def certificate_reissued(drill: Drill, service: str, days: str) -> None:
    """The TLS endpoint now serves a certificate from the stack's CA expiring in N calendar
    days (not time-scaled: expiry is compared with the wall clock).

    Example: When the certificate of "cartorio-tls" is reissued to expire in 10 days
    """
    drill.issue_certificate(service, float(days))


@when(rx(rf"the certificate of {quoted('service')} is restored"))
@acts_on(("certificate",))
def certificate_restored(drill: Drill, service: str) -> None:
    """The endpoint serves the certificate it had before this scenario replaced it.

    Example: When the certificate of "cartorio-tls" is restored
    """
    drill.restore_certificate(service)


@when(rx(rf"the service {quoted('service')} is cut off from the network"))
@acts_on(("network-cut",))
def service_isolated(drill: Drill, service: str) -> None:
    """Disconnect the service from every network (Docker backend only) until reconnected.

    Nothing reaches it and it reaches nothing; its published port goes too.

    Example: When the service "web" is cut off from the network
    """
    drill.isolate_service(service, "all")


@when(rx(rf"the Alertmanager peer {quoted('service')} is cut off from the other peers"))
@acts_on(("network-cut",))
def peer_partitioned(drill: Drill, service: str) -> None:
    """Split the cluster (Docker backend only): the peer loses its gossip with the others.

    It still gets Prometheus's alerts and still reaches the receivers: a split brain.

    Example: When the Alertmanager peer "alertmanager-1" is cut off from the other peers
    """
    drill.isolate_service(service, "peers")


@when(rx(r"Prometheus is cut off from the Alertmanagers"))
@acts_on(("network-cut",), service="prometheus")
def prometheus_isolated(drill: Drill) -> None:
    """Prometheus can no longer send alerts to any peer (Docker backend only).

    It still scrapes its targets and evaluates its rules.

    Example: When Prometheus is cut off from the Alertmanagers
    """
    drill.isolate_service("prometheus", "alertmanagers")


@when(rx(rf"(?:the service|the Alertmanager peer) {quoted('service')} is reconnected"))
@acts_on(("network-cut",))
def service_reconnected(drill: Drill, service: str) -> None:
    """Undo every network cut of the service (same names, same addresses).

    Example: When the service "alertmanager-1" is reconnected
    """
    drill.reconnect_service(service)


@when(rx(r"Prometheus is reconnected to the Alertmanagers"))
@acts_on(("network-cut",), service="prometheus")
def prometheus_reconnected(drill: Drill) -> None:
    """Prometheus reaches the Alertmanagers again.

    Example: When Prometheus is reconnected to the Alertmanagers
    """
    drill.reconnect_service("prometheus", "alertmanagers")
