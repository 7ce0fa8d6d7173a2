"""Run settings, from (in increasing priority) defaults, ``ALERTDRILL_*`` variables, options."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from alertdrill import bundled
from alertdrill.errors import ConfigError

#: Where a stack can run (see README › Backends).
BACKENDS = ("local", "docker", "external")
#: How many Alertmanager peers a stack may have: what a manifest allows, and ``--peers``.
PEERS = range(1, 10)
#: The largest time scale: one real-world hour per measured second. Beyond it nearly every
#: interval of a real config (a 15 s scrape interval from K=60 on) sits on the floor, so the
#: run would no longer execute the arithmetic the config describes.
MAX_TIME_SCALE = 3600.0


@dataclass(frozen=True)
class Settings:
    """Everything a run can be told; each field has an ``ALERTDRILL_<NAME>`` variable."""

    #: Where the stack runs: ``local`` (real binaries as child processes), ``docker``
    #: (containers on a private network per stack) or ``external`` (a stack someone else runs,
    #: reached by URL: the manifest's ``external:`` section).
    backend: str = "local"
    #: Real-world seconds per measured second (see alertdrill.engine.timescale); 1 = as written.
    time_scale: float = 60.0
    #: The smallest interval a scaled config may use, in seconds.
    floor: float = 0.25
    #: Measured seconds added to every deadline, for process and polling jitter.
    tolerance: float = 0.5
    #: How often the observer polls Prometheus, Alertmanager and the sink, in seconds.
    poll_interval: float = 0.1
    #: The stack directory that "Given the stack is running" starts.
    stack: str = "sample"
    #: Directories searched first for a stack named in a step (``os.pathsep``-separated): a
    #: modified copy of a bundled stack placed there replaces it for the whole suite.
    stack_dirs: str = ""
    #: Override the number of Alertmanager peers of every stack (None = as the stack says);
    #: 1…9, the range a stack manifest allows (:data:`PEERS`).
    peers: int | None = None
    #: Keep each stack's temp workdir (logs, rendered configs) after the run, for debugging.
    keep_workdir: bool = False
    #: Where each scenario's result record (JSON) goes; empty = ``reports/drill`` under the
    #: pytest rootdir. A relative path is relative to the working directory.
    report_dir: str = ""
    #: Container images of the Docker backend: ``local`` (``make images``) or ``official``
    #: (pinned upstream images, needs a registry); ALERTDRILL_IMAGE_<NAME> overrides one.
    images: str = "local"
    #: Warm stacks per worker (alertdrill.backends.pool): the next scenario's stack starts while the
    #: current one runs; 0 turns the pool off. On by default since its 10-run verdict count
    #: (README › The warm pool); only the local backend's stacks are warmed.
    pool: int = 1

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then the environment, then explicit (non-None) overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"ALERTDRILL_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, f.type, raw)
        settings = cls(**values)
        clean = {k: v for k, v in overrides.items() if v is not None}
        settings = replace(settings, **clean)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Reject values that cannot work, with the variable to fix."""
        if not (math.isfinite(self.time_scale) and 0 < self.time_scale <= MAX_TIME_SCALE):
            raise ConfigError(f"time scale must be above 0 and at most {MAX_TIME_SCALE:g}, "
                              f"not {self.time_scale:g}",
                              "set --time-scale (or ALERTDRILL_TIME_SCALE) to e.g. 1 (as written) "
                              "or 60 (one real-world minute per second)")
        if not (math.isfinite(self.floor) and 0.05 <= self.floor <= 10):
            raise ConfigError(f"floor must be within 0.05…10 s, not {self.floor:g}",
                              "set --floor (or ALERTDRILL_FLOOR), in seconds; 0.25 is measured "
                              "safe on 2 cores")
        if not (math.isfinite(self.tolerance) and self.tolerance >= 0):
            raise ConfigError(f"tolerance must be 0 s or more, not {self.tolerance:g}",
                              "set --tolerance (or ALERTDRILL_TOLERANCE), in seconds; default 0.5")
        check_peers(self.peers)
        if not 0.01 <= self.poll_interval <= 0.1:
            raise ConfigError(f"poll interval must be within 0.01…0.1 s, not {self.poll_interval}")
        if self.images not in ("local", "official"):
            raise ConfigError(f"ALERTDRILL_IMAGES={self.images!r} is not local or official",
                              "local: images built from this machine's Debian packages (on first use); "
                              "official: the pinned upstream images (needs a registry)")
        from alertdrill.backends.pool import MAX_SIZE

        if not 0 <= self.pool <= MAX_SIZE:
            raise ConfigError(f"pool must be 0 (off) or {MAX_SIZE} warm stack, not {self.pool}",
                              "set --pool (or ALERTDRILL_POOL): 0 turns it off, 1 keeps the "
                              "next scenario's stack warm")
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown backend {self.backend!r}",
                              f"the backends are: {', '.join(BACKENDS)}")
        if self.backend == "external" and self.time_scale != 1:
            raise ConfigError(
                f"the external backend cannot scale time (time scale {self.time_scale:g}): a "
                "stack someone else runs keeps its own configs, so it runs in real time",
                "run it with --time-scale 1 (or ALERTDRILL_TIME_SCALE=1); every duration in "
                "the steps is then waited for as written")


def check_peers(peers: int | None) -> None:
    """``--peers``, ``ALERTDRILL_PEERS`` and the pytest option: the manifest's 1…9, or unset.

    One check for all three, so that no route can start a stack with no Alertmanager at all
    (``--peers -1`` once did, and its claims of "never notified" passed).
    """
    if peers is not None and peers not in PEERS:
        raise ConfigError(f"peers must be {PEERS.start}…{PEERS.stop - 1}, not {peers}",
                          "set --peers (or ALERTDRILL_PEERS) to the number of Alertmanager "
                          "peers, as alertmanager.peers of a stack manifest; leave it unset "
                          "for the stack's own")


def _coerce(name: str, type_name: object, raw: str) -> Any:
    kind = str(type_name).replace(" | None", "")
    try:
        if "bool" in kind:
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if "float" in kind:
            return float(raw)
        if "int" in kind:
            return int(raw)
    except ValueError:
        raise ConfigError(f"ALERTDRILL_{name.upper()}={raw!r} is not a valid {kind}") from None
    return raw


def resolve_stack_dir(name: str, search: list[Path]) -> Path:
    """A stack by path, or by name under ``stack/`` of one of the ``search`` roots, or else a
    bundled stack of that name (``alertdrill.bundled``): a team's own ``stack/sample`` wins."""
    candidate = Path(name)
    if candidate.is_absolute() and _is_stack(candidate):
        return candidate
    for root in search:
        for path in (root / name, root / "stack" / name):
            if _is_stack(path):
                return path.resolve()
    stacks = bundled.stacks_dir()
    if _is_stack(stacks / name) and name == candidate.name:
        return (stacks / name).resolve()
    raise ConfigError(
        f"no stack directory {name!r}",
        "give a path to a directory with prometheus.yml and alertmanager.yml, or the name of "
        f"one under stack/ (bundled: {', '.join(bundled.stack_names())})",
    )


def _is_stack(path: Path) -> bool:
    """A directory with a manifest or a prometheus.yml (a features/ dir of the same name is not)."""
    return any((path / f).is_file() for f in
               ("alertdrill.yml", "prometheus.yml", "prometheus/prometheus.yml"))
