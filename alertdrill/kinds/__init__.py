"""Service kinds, declared once: one module of this package per kind.

Each module defines ``KIND``, an :class:`~alertdrill.kinds.base.Kind` that states the kind's
name, its local process, its container, its options' defaults and its capabilities
(:mod:`alertdrill.kinds.capabilities`). The registry finds the modules itself, so adding a
kind is adding one module (and its test): the manifest accepts the name, both backends run
it, and faults reach what it provides. ``base``, ``capabilities`` and ``python`` (what the
harness's own services share) define no kind.
"""

from __future__ import annotations

import importlib
import pkgutil

from alertdrill.errors import ConfigError
from alertdrill.kinds.base import Kind


def _discover() -> dict[str, Kind]:
    """Every ``KIND`` of the package's modules, in the order of their ``rank`` (then name)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        declared = getattr(importlib.import_module(f"{__name__}.{info.name}"), "KIND", None)
        if isinstance(declared, Kind):
            found.append(declared)
    return {k.name: k for k in sorted(found, key=lambda k: (k.rank, k.name))}


#: Every kind the harness knows how to run, by name (the manifest's ``kind:``).
KINDS: dict[str, Kind] = _discover()


def kind(name: str) -> Kind:
    """The kind called ``name``; a ConfigError listing the known ones for any other."""
    try:
        return KINDS[name]
    except KeyError:
        raise ConfigError(f"unknown service kind {name!r}",
                          f"known kinds: {', '.join(KINDS)}") from None
