"""What crashed runs leave behind, found and removed — only ever the harness's own.

A harness that is SIGKILLed cannot clean up. The kernel still ends its children
(PR_SET_PDEATHSIG), except those it cannot: a *paused* service (SIGSTOP) keeps the SIGTERM
pending forever, and a machine without ``setpriv`` has no death signal at all. Its temp dirs,
its tmpfs mounts and PostgreSQL's directories stay too. This module finds them by what the
harness itself stamped on them, and nothing else:

- **processes** carrying ``ALERTDRILL_RUN_ID`` *and* ``ALERTDRILL_HARNESS_PID`` (every child of
  :class:`alertdrill.backends.process.ManagedProcess` gets both) whose harness process is gone (or is a
  newer process that reused the pid). A process without the harness pid is never touched;
- **temp dirs** ``alertdrill-<name>-<run id>-…`` (workdirs, PostgreSQL dirs) whose run id no live
  process carries and whose harness (the pid of a ``<pid>-<time>`` run id) is gone, older than a
  minute; a workdir kept on purpose (``--keep-workdir`` marks it) stays;
- **tmpfs mounts** named ``alertdrill-<run id>`` inside such a temp dir;
- with a ``run_id`` (a GameDay whose supervisor died): everything of exactly that run.

Docker containers and networks are the Docker backend's: ``alertdrill.backends.docker``'s
``remove_leftovers()`` when that module exists.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from alertdrill.backends.process import HARNESS_PID_ENV, KEPT_MARKER, RUN_ID_ENV

_DEFAULT_RUN_ID = re.compile(r"^(?:gameday-)?(\d+)-(\d{9,11})$")
_MIN_AGE = 60.0


@dataclass
class Found:
    """Leftovers and what was left alone (and why)."""

    processes: list[psutil.Process] = field(default_factory=list)
    tempdirs: list[Path] = field(default_factory=list)
    mounts: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        """Nothing to remove."""
        return not (self.processes or self.tempdirs or self.mounts)


def temp_roots() -> list[Path]:
    """Where the harness makes temp dirs: ``$ALERTDRILL_TMPDIR`` and the system temp dir."""
    roots = [Path(tempfile.gettempdir())]
    custom = os.environ.get("ALERTDRILL_TMPDIR")
    if custom:
        roots.insert(0, Path(custom))
    return [r for i, r in enumerate(roots) if r.is_dir() and r not in roots[:i]]


def _environ(proc: psutil.Process) -> dict[str, str]:
    try:
        return proc.environ()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
        return {}


def _alive_since(pid: int, before: float) -> bool:
    """True when ``pid`` is a live process started no later than ``before`` (so not a reuse)."""
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and proc.create_time() <= before + 1
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _harness_alive(rid: str) -> bool:
    """For a default run id ``<pid>-<time>``: its harness process still runs."""
    match = _DEFAULT_RUN_ID.match(rid)
    return match is not None and _alive_since(int(match.group(1)), float(match.group(2)))


def find(run_id: str | None = None) -> Found:
    """Leftovers of dead harnesses (or, given ``run_id``, everything of that run)."""
    found = Found()
    me = os.getpid()
    live_runs: set[str] = set()
    unattributed = 0
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == me:
            continue
        env = _environ(proc)
        rid = env.get(RUN_ID_ENV)
        if not rid:
            continue
        if run_id is not None:
            if rid == run_id and HARNESS_PID_ENV in env:
                found.processes.append(proc)
            continue
        harness = env.get(HARNESS_PID_ENV)
        if not harness or not harness.isdigit():
            unattributed += 1
            live_runs.add(rid)
            continue
        try:
            started = proc.create_time()
        except psutil.NoSuchProcess:
            continue
        if _alive_since(int(harness), started):
            live_runs.add(rid)
        else:
            found.processes.append(proc)
    if unattributed:
        found.notes.append(f"{unattributed} process(es) of alertdrill runs without a harness pid "
                           "(older versions) left alone")
    left_runs = {_environ(p).get(RUN_ID_ENV, "") for p in found.processes}
    now = time.time()
    for root in temp_roots():
        for path in sorted(root.glob("alertdrill-*")):
            if not path.is_dir() or path.is_symlink():
                continue
            name = path.name
            if run_id is not None:
                if f"-{run_id}-" in name:
                    found.tempdirs.append(path)
                continue
            rid = _run_id_in(name, live_runs | left_runs)
            if rid is None:
                continue  # not a dir the harness names by run id (records, check copies)
            if rid in live_runs or _harness_alive(rid):
                continue
            if (path / KEPT_MARKER).exists():
                found.notes.append(f"{path}: kept on purpose (--keep-workdir), left alone")
                continue
            try:
                age = now - path.stat().st_mtime
            except OSError:
                continue
            if age < _MIN_AGE and rid not in left_runs:
                continue
            found.tempdirs.append(path)
    found.mounts = _mounts_inside(found.tempdirs)
    return found


def _run_id_in(name: str, known: set[str]) -> str | None:
    """The run id a harness temp dir's name carries: a known one, or a ``<pid>-<time>`` one."""
    for rid in known:
        if rid and f"-{rid}-" in name:
            return rid
    match = re.search(r"-((?:gameday-)?\d+-\d{9,11})-[a-z0-9_]+$", name)
    return match.group(1) if match else None


def _mounts_inside(dirs: list[Path]) -> list[Path]:
    mounts = []
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        parts = line.split()
        if len(parts) < 2 or not parts[0].startswith("alertdrill-"):
            continue
        point = Path(parts[1].replace("\\040", " "))
        if any(point == d or d in point.parents for d in dirs):
            mounts.append(point)
    return mounts


def remove(found: Found) -> list[str]:
    """End the processes (their whole group when they lead one), unmount, remove dirs."""
    done = []
    for proc in found.processes:
        try:
            leader = os.getpgid(proc.pid) == proc.pid
            name = " ".join(proc.cmdline()[:2]) or proc.name()
        except (psutil.NoSuchProcess, ProcessLookupError):
            continue
        try:
            if leader:
                os.killpg(proc.pid, signal.SIGCONT)
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
        except (ProcessLookupError, PermissionError, psutil.NoSuchProcess):
            continue
        done.append(f"killed pid {proc.pid} ({name})")
    _gone, alive = psutil.wait_procs(found.processes, timeout=5)
    for proc in alive:
        done.append(f"pid {proc.pid} did not exit")
    for mount in found.mounts:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)
        done.append(f"unmounted {mount}")
    for path in found.tempdirs:
        shutil.rmtree(path, ignore_errors=True)
        done.append(f"removed {path}")
    return done


def docker_leftovers() -> list[str]:
    """The Docker backend's cleanup of *crashed* runs (resources whose owner process is gone),
    when that backend and a Docker engine are there: one line per run removed."""
    try:
        from alertdrill.backends.docker import remove_leftovers
    except ImportError:
        return []
    from alertdrill.backends.dockerd import client_or_none

    client = client_or_none()
    if client is None:
        return []  # no engine answers: nothing of ours runs in one, and none is started for this
    result = remove_leftovers(all_runs=False, client=client)
    return [f"Docker run {run}: removed {', '.join(items)}"
            for run, items in sorted(result.removed.items())]
