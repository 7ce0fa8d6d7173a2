"""When-steps that break (and heal) something real."""

from __future__ import annotations

from pytest_bdd import when

from alertdrill.drill import Drill
from steps.patterns import quoted, rx


@when(rx(rf"the service {quoted('service')} is (?P<how>stopped|killed)"))
def service_stopped(drill: Drill, service: str, how: str) -> None:
    """Stop (SIGTERM) or kill (SIGKILL) a service of the stack; SLAs count from here.

    Example: When the service "web" is stopped
    """
    drill.stop_service(service, how="kill" if how == "killed" else "stop")


@when(rx(rf"the service {quoted('service')} is started( again)?"))
def service_started(drill: Drill, service: str) -> None:
    """Start a service this scenario stopped, on the same address; SLAs count from here.

    Example: When the service "web" is started again
    """
    drill.start_service(service)
