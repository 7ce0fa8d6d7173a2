"""Find the real binaries the stack runs, with an actionable message when one is missing."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from alertdrill.errors import MissingBinaryError


@dataclass(frozen=True)
class BinarySpec:
    """How to find one binary: environment override, names on PATH, and its Debian package."""

    key: str
    env: str
    names: tuple[str, ...]
    package: str


BINARIES: dict[str, BinarySpec] = {
    spec.key: spec
    for spec in (
        BinarySpec("prometheus", "ALERTDRILL_PROMETHEUS", ("prometheus",), "prometheus"),
        # Debian names the binary prometheus-alertmanager; upstream tarballs call it alertmanager.
        BinarySpec(
            "alertmanager",
            "ALERTDRILL_ALERTMANAGER",
            ("prometheus-alertmanager", "alertmanager"),
            "prometheus-alertmanager",
        ),
        BinarySpec("promtool", "ALERTDRILL_PROMTOOL", ("promtool",), "prometheus"),
        BinarySpec(
            "amtool", "ALERTDRILL_AMTOOL", ("amtool",), "prometheus-alertmanager"
        ),
        BinarySpec("mtail", "ALERTDRILL_MTAIL", ("mtail",), "mtail"),
        BinarySpec(
            "postgres-exporter",
            "ALERTDRILL_POSTGRES_EXPORTER",
            ("prometheus-postgres-exporter", "postgres_exporter"),
            "prometheus-postgres-exporter",
        ),
        BinarySpec(
            "node-exporter",
            "ALERTDRILL_NODE_EXPORTER",
            ("prometheus-node-exporter", "node_exporter"),
            "prometheus-node-exporter",
        ),
        BinarySpec(
            "blackbox-exporter",
            "ALERTDRILL_BLACKBOX_EXPORTER",
            ("prometheus-blackbox-exporter", "blackbox_exporter"),
            "prometheus-blackbox-exporter",
        ),
    )
}

#: Packages every backend needs on the host: promtool and amtool check the configs before any
#: stack starts, in containers too (so the Docker backend is no way around them).
HOST_PACKAGES = frozenset({"prometheus", "prometheus-alertmanager"})


def find_binary(key: str) -> str:
    """Return the absolute path of binary ``key``, honouring its ``ALERTDRILL_*`` override."""
    spec = BINARIES[key]
    override = os.environ.get(spec.env)
    if override:
        path = shutil.which(override)
        if path is None:
            raise MissingBinaryError(
                f"{spec.env}={override!r} does not name an executable file",
                f"point {spec.env} at the {key} binary, or unset it to search PATH",
            )
        return path
    for name in spec.names:
        path = shutil.which(name)
        if path:
            return path
    hint = f"install it with `sudo apt-get install -y {spec.package}`, or set " \
           f"{spec.env}=/path/to/{spec.names[-1]}"
    if spec.package not in HOST_PACKAGES:
        hint += ", or run it in a container of its upstream image (--backend docker with " \
                "ALERTDRILL_IMAGES=official)"
    raise MissingBinaryError(f"{key} is not installed: none of {', '.join(spec.names)} is on PATH",
                             hint)
