"""Backends run a stack description somewhere: ``local`` processes, or ``docker`` containers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alertdrill.backends.base import RunningStack, ServiceHandle, StackOptions
from alertdrill.errors import ConfigError

if TYPE_CHECKING:  # the kinds import backends' process helpers, and stackspec imports the kinds
    from alertdrill.engine.stackspec import StackSpec

__all__ = ["RunningStack", "ServiceHandle", "StackOptions", "start_stack"]


def start_stack(backend: str, spec: StackSpec, options: StackOptions) -> RunningStack:
    """Start ``spec`` on the named backend and return it ready and usable."""
    if backend == "local":
        from alertdrill.backends.local import LocalStack

        return LocalStack(spec, options).start()
    if backend == "docker":
        from alertdrill.backends.docker import DockerStack

        return DockerStack(spec, options).start()
    raise ConfigError(f"unknown backend {backend!r}", "use --backend local or --backend docker")
