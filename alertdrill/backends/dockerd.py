"""Make sure a Docker engine answers, starting Debian's ``dockerd`` only when none runs.

The Docker backend, ``make images`` and the image smoke tests need an engine. Machines such as
CI's and the developers' have Debian's ``docker.io`` installed (``scripts/bootstrap.sh`` does it)
but no init system to start it, so the harness starts ``dockerd`` itself when, and only when:

* no engine answers on ``DOCKER_HOST`` (or the default socket),
* ``DOCKER_HOST`` is not set to some other engine (we would be starting the wrong one),
* no ``dockerd`` process exists already (another user's may still be starting: we wait for
  it instead of starting a second daemon on the same socket and data directory),
* we are root, and ``dockerd`` is installed.

Otherwise the error says exactly what to run. A started daemon is left running on purpose (the
next run reuses it and its image store); its PID and log are in :data:`STATE_DIR`, so whoever
wants to stop it knows exactly which process that is (``kill $(cat …/dockerd.pid)``).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import psutil
from docker.errors import DockerException

from alertdrill.errors import AlertdrillError, DockerUnavailableError

#: Where the daemon's log, PID file and start lock go (``ALERTDRILL_DOCKERD_DIR`` overrides).
STATE_DIR = Path(os.environ.get("ALERTDRILL_DOCKERD_DIR", "/var/tmp/alertdrill"))
#: How long a freshly started (or someone else's starting) daemon may take to answer.
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Engine:
    """A Docker engine that answers, and whether this process started it."""

    client: docker.DockerClient
    version: str
    started_pid: int | None = None
    log_path: Path | None = None


def client_or_none(timeout: float = 5.0) -> docker.DockerClient | None:
    """A client whose engine answers ``/_ping`` now, or None (never raises)."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (DockerException, OSError):
        return None
    return client


def _existing_dockerd() -> list[int]:
    """PIDs of every dockerd process on the machine (running, starting, or stuck)."""
    found = []
    for proc in psutil.process_iter(["name", "exe"]):
        name = proc.info.get("name") or ""
        exe = proc.info.get("exe") or ""
        if name == "dockerd" or exe.endswith("/dockerd"):
            found.append(proc.pid)
    return found


@contextlib.contextmanager
def _start_lock(state_dir: Path) -> Iterator[None]:
    """One starter at a time: two harness processes must not both start a daemon."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "dockerd.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _wait_answering(timeout: float, pid: int | None, log_path: Path | None) -> docker.DockerClient:
    """Poll until the engine answers; fail early if the daemon we wait for has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client = client_or_none(timeout=2.0)
        if client is not None:
            return client
        if pid is not None and not psutil.pid_exists(pid):
            break
        with contextlib.suppress(psutil.Error):
            if pid is not None and psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                break
        time.sleep(0.2)
    tail = _tail(log_path) if log_path else ""
    what = f"dockerd (pid {pid})" if pid else "the Docker engine"
    state = "exited" if pid is not None and not _alive(pid) else f"did not answer within {timeout:.0f}s"
    raise DockerUnavailableError(
        f"{what} {state}" + (f"; its log ends with:\n{tail}" if tail else ""),
        f"read {log_path} for the cause" if log_path else "check `docker info`",
    )


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def ensure_engine(timeout: float = START_TIMEOUT, state_dir: Path | None = None) -> Engine:
    """An answering Docker engine; start Debian's ``dockerd`` when allowed (see module doc).

    Raises DockerUnavailableError with the exact command to run when it cannot.
    """
    state_dir = state_dir or STATE_DIR
    client = client_or_none()
    if client is not None:
        return Engine(client, str(client.version().get("Version", "?")))
    docker_host = os.environ.get("DOCKER_HOST", "")
    if docker_host and docker_host not in ("unix:///var/run/docker.sock", "unix:///run/docker.sock"):
        raise DockerUnavailableError(
            f"DOCKER_HOST={docker_host} does not answer",
            "start that engine, or unset DOCKER_HOST to use (and if needed start) the local one")
    dockerd = shutil.which("dockerd") or next(
        (p for p in ("/usr/sbin/dockerd", "/usr/bin/dockerd") if os.access(p, os.X_OK)), None)
    if dockerd is None:
        sudo = "" if os.geteuid() == 0 else "sudo "
        raise DockerUnavailableError(
            "no Docker engine answers and dockerd is not installed",
            f"install Debian's engine with `{sudo}apt-get install -y docker.io`, then run again")
    log_path = state_dir / "dockerd.log"
    if os.geteuid() != 0:
        running = _existing_dockerd()
        if running:
            raise DockerUnavailableError(
                f"dockerd runs (pid {running[0]}) but does not answer this user",
                "join the `docker` group (`sudo usermod -aG docker $USER`, then log in again) "
                "or run as root; if it has just been started, try again in a few seconds")
        raise DockerUnavailableError(
            "no Docker engine answers, and starting dockerd needs root",
            f"start it with `sudo sh -c 'mkdir -p {state_dir} && nohup {dockerd} "
            f">{log_path} 2>&1 & echo $! >{state_dir}/dockerd.pid'`, or run "
            f"`sudo {sys.executable} -m alertdrill.backends.dockerd`; then add yourself to the "
            "`docker` group or run as root")
    with _start_lock(state_dir):
        client = client_or_none()
        if client is not None:  # someone started it while we waited for the lock
            return Engine(client, str(client.version().get("Version", "?")))
        running = _existing_dockerd()
        if running:
            # Another daemon exists (maybe still starting): wait for it, never start a second.
            client = _wait_answering(timeout, running[0], None)
            return Engine(client, str(client.version().get("Version", "?")))
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [dockerd], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # not in our process group: Ctrl-C must not stop it
                close_fds=True)
        (state_dir / "dockerd.pid").write_text(f"{proc.pid}\n")
        client = _wait_answering(timeout, proc.pid, log_path)
        return Engine(client, str(client.version().get("Version", "?")), proc.pid, log_path)


def main(argv: list[str] | None = None) -> int:
    """``python -m alertdrill.backends.dockerd``: make sure an engine answers; say which, and how."""
    parser = argparse.ArgumentParser(prog="python -m alertdrill.backends.dockerd", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=START_TIMEOUT)
    args = parser.parse_args(argv)
    try:
        engine = ensure_engine(args.timeout)
    except AlertdrillError as exc:
        print(f"alertdrill: {exc}", file=sys.stderr)
        return 2
    if engine.started_pid:
        print(f"dockerd {engine.version} started: pid {engine.started_pid}, log {engine.log_path}, "
              f"pid file {engine.log_path.parent / 'dockerd.pid' if engine.log_path else '?'}")
    else:
        print(f"Docker engine {engine.version} answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
