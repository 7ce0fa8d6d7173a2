"""User-facing errors: every one says what went wrong and what to do about it.

The pytest plugin shows these without a traceback (see ``alertdrill.plugin``), because a harness
user needs the next action, not the harness's call stack.
"""

from __future__ import annotations


class AlertdrillError(Exception):
    """Base of every error the harness raises on purpose; its message is the whole story."""

    hint: str = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  → {self.hint}" if self.hint else base


class MissingBinaryError(AlertdrillError):
    """A real binary (prometheus, alertmanager, …) the stack needs is not installed."""


class ConfigError(AlertdrillError):
    """A user's config (alertmanager.yml, prometheus.yml, rule file, stack manifest) is invalid."""


class PortBusyError(AlertdrillError):
    """A fixed port the user asked for is already taken by another process."""


class StartupError(AlertdrillError):
    """A service did not become ready in time; the message carries the tail of its log."""


class ExpectationFailed(AlertdrillError, AssertionError):
    """A Then-step's claim about the timeline did not hold; lists what was expected and seen."""


class StepError(AlertdrillError):
    """A Gherkin step's text could not be understood (bad duration, unknown receiver, …)."""


class DockerUnavailableError(AlertdrillError):
    """No Docker engine answers and the harness may not (or cannot) start one."""


# -- exit statuses ------------------------------------------------------------------------------
#: The exit statuses of every ``alertdrill`` command (README › Command line › Exit statuses);
#: ``run``'s are pytest's, and the others follow them.
EXIT_OK = 0
#: The answer is no: a scenario failed, ``check`` found an error, the stack did not come up.
EXIT_FAILED = 1
#: Ctrl-C, SIGTERM or SIGHUP (everything started is still taken down).
EXIT_INTERRUPTED = 2
#: The command could not do its job for a reason outside its arguments: a missing tool, no
#: GameDay up, no records to build a report from (``run``: the scenarios passed, the report
#: could not be built).
EXIT_NOT_RUN = 3
#: A usage error: an unknown option, a bad value, no such stack or feature file, an unknown
#: fault — said before anything starts.
EXIT_USAGE = 4
#: ``run``: no scenario selected.
EXIT_NOTHING_SELECTED = 5


def exit_status(exc: AlertdrillError) -> int:
    """The exit status of a command that stopped on ``exc``: bad input is a usage error."""
    return EXIT_USAGE if isinstance(exc, (ConfigError, StepError)) else EXIT_NOT_RUN
