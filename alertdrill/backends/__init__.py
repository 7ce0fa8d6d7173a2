"""Backends run a stack description somewhere: ``local`` processes today, containers later."""

from __future__ import annotations

from alertdrill.backends.base import RunningStack, ServiceHandle, StackOptions

__all__ = ["RunningStack", "ServiceHandle", "StackOptions", "start_stack"]


def start_stack(backend: str, spec: object, options: StackOptions) -> RunningStack:
    """Start ``spec`` on the named backend and return it ready and usable."""
    from alertdrill.errors import ConfigError
    from alertdrill.stackspec import StackSpec

    assert isinstance(spec, StackSpec)
    if backend == "local":
        from alertdrill.backends.local import LocalStack

        return LocalStack(spec, options).start()
    raise ConfigError(f"unknown backend {backend!r}", "use --backend local")
