"""When-steps that drive the series of a stand-in (a ``series`` service, see README › Manifest).

The series is written as PromQL (a name, optional ``{label="value"}``); target labels
(``instance``, ``job``, static labels) must name one of the stand-in's targets. A family the
stand-in does not serve, or a service that is not a stand-in, is refused at the step, at once.
"""

from __future__ import annotations

from pytest_bdd import when

from alertdrill.durations import parse_duration, parse_human
from alertdrill.engine.drill import Drill

from .patterns import quoted, rx

#: A series as PromQL: a metric name and optional equality matchers.
SERIES = r"(?P<series>[A-Za-z_:][A-Za-z0-9_:]*(?:\{[^}]*\})?)"
NUMBER = r"(?P<number>-?\d+(?:\.\d+)?(?:e-?\d+)?)"


@when(rx(rf"the series {SERIES} of {quoted('service')} is set to {NUMBER}"))
def series_set(drill: Drill, series: str, service: str, number: str) -> None:
    """A gauge of the stand-in now reads this value (until it returns to its baseline).

    Example: When the series redis_connected_clients{instance="redis:9121"} of "redis" is set to 950
    """
    drill.drive_series(service, series, "value", float(number))


@when(rx(rf"the rate of {SERIES} of {quoted('service')} (?:rises|falls|drops) to {NUMBER} "
         r"per second"))
def series_rate(drill: Drill, series: str, service: str, number: str) -> None:
    """A counter (or a histogram's observations) grows by N per measured second: rate() reads N.

    Example: When the rate of http_requests_total{code="500"} of "api" rises to 12 per second
    """
    drill.drive_series(service, series, "rate", float(number))


@when(rx(rf"the increase of {SERIES} of {quoted('service')} over (?P<window>\d+(?:\.\d+)?\s*"
         rf"[a-z]+(?:\d+[a-z]+)*) rises to {NUMBER}"))
def series_increase(drill: Drill, series: str, service: str, window: str, number: str) -> None:
    """A counter grows by N every real-world window, so increase(x[window]) reads N.

    Example: When the increase of jobs_failed_total of "batch" over 1h rises to 5
    """
    try:
        seconds = parse_duration(window)  # as the rule writes it: 1h, 1h30m
    except ValueError:
        seconds = parse_human(window)  # as a person does: 1 hour
    drill.drive_series(service, series, "increase", float(number), seconds)


@when(rx(rf"the latency of {SERIES} of {quoted('service')} (?:rises|falls|drops) to "
         rf"{NUMBER} (?:s|seconds?)"))
def series_latency(drill: Drill, series: str, service: str, number: str) -> None:
    """A histogram's observations now take this long (literal seconds, not time-scaled).

    Example: When the latency of http_request_duration_seconds of "api" rises to 2.5 seconds
    """
    drill.drive_series(service, series, "latency", float(number))


@when(rx(rf"the series {SERIES} of {quoted('service')} disappears"))
def series_disappears(drill: Drill, series: str, service: str) -> None:
    """The stand-in no longer serves these series (absent() sees them gone).

    Example: When the series redis_up of "redis" disappears
    """
    drill.drive_series(service, series, "absent")


@when(rx(rf"the series {SERIES} of {quoted('service')} returns to its baseline"))
def series_baseline(drill: Drill, series: str, service: str) -> None:
    """The series this scenario drove are back to their healthy baseline.

    Example: When the series redis_connected_clients of "redis" returns to its baseline
    """
    drill.series_to_baseline(service, series)


@when(rx(rf"{quoted('service')} returns to its baseline"))
def stand_in_baseline(drill: Drill, service: str) -> None:
    """Every series of the stand-in this scenario drove is back to its baseline.

    Example: When "redis" returns to its baseline
    """
    drill.series_to_baseline(service)
