"""Backends run a stack description somewhere: ``local`` processes, ``docker`` containers, or
``external``: a stack someone else runs, reached by URL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from alertdrill.backends.base import RunningStack, ServiceHandle, StackOptions
from alertdrill.errors import ConfigError

if TYPE_CHECKING:  # the kinds import backends' process helpers, and stackspec imports the kinds
    from alertdrill.engine.stackspec import StackSpec

if TYPE_CHECKING:
    from alertdrill.engine.claimnames import ParsedStep

__all__ = ["RunningStack", "ServiceHandle", "StackOptions", "refuse_steps", "start_stack"]


def start_stack(backend: str, spec: StackSpec, options: StackOptions) -> RunningStack:
    """Start ``spec`` on the named backend and return it ready and usable."""
    if backend == "local":
        from alertdrill.backends.local import LocalStack

        return LocalStack(spec, options).start()
    if backend == "docker":
        from alertdrill.backends.docker import DockerStack

        return DockerStack(spec, options).start()
    if backend == "external":
        from alertdrill.backends.external import ExternalStack

        return ExternalStack(spec, options).start()
    raise ConfigError(f"unknown backend {backend!r}",
                      "use --backend local, --backend docker or --backend external")


def refuse_steps(backend: str, steps: Sequence[ParsedStep], resolve: Callable[[str], Path],
                 where: str) -> None:
    """Refuse, before the scenario's stack starts, the steps ``backend`` cannot honour (a
    StepError listing them all). Only the external backend refuses any: it acts on a stack
    someone else runs only through the actions that stack's manifest declares."""
    if backend != "external":
        return
    from alertdrill.backends.external import action_problems, refusal

    found = action_problems(steps, resolve)
    if found:
        raise refusal(found, where)
