"""Child processes the harness owns: one process group each, logs captured, always reaped.

Every process is registered the moment it is spawned, and every temp dir the moment it is made,
so that teardown — normal, failed, interrupted by Ctrl-C or SIGTERM, or at interpreter exit —
finds and removes all of them. The harness signals only process groups it created itself.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil

logger = logging.getLogger(__name__)

#: Every child carries this variable, so leftovers of a crashed run can be found by run id.
RUN_ID_ENV = "ALERTDRILL_RUN_ID"
#: ... and the pid of the harness process that started it: a child whose harness is gone is a
#: leftover (``alertdrill down --all`` ends those, and only those).
HARNESS_PID_ENV = "ALERTDRILL_HARNESS_PID"

#: If the harness itself is killed (SIGKILL: no cleanup can run), the kernel sends SIGTERM to
#: each child: util-linux's setpriv sets PR_SET_PDEATHSIG and execs the service, keeping its
#: pid. (A preexec_fn could do the same, but is unsafe while the observer thread runs.)
_PDEATHSIG = (["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else [])

_lock = threading.Lock()
_live: dict[int, ManagedProcess] = {}
_tempdirs: set[Path] = set()
_mounts: set[Path] = set()
#: Other things to undo at teardown (a Docker stack's containers and networks), by token.
_cleanups: dict[int, tuple[str, Callable[[], None]]] = {}
_next_token = 0


def run_id() -> str:
    """The id of this harness run: inherited from the environment, or made once per process."""
    rid = os.environ.get(RUN_ID_ENV)
    if not rid:
        rid = f"{os.getpid()}-{int(time.time())}"
        os.environ[RUN_ID_ENV] = rid
    return rid


class ManagedProcess:
    """A child in its own process group, with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        pass_fds: Sequence[int] = (),
        tie_to_parent: bool = True,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        launcher = _PDEATHSIG if tie_to_parent else []
        self.log_path = log_path
        self.started_at = time.monotonic()
        full_env = dict(os.environ)
        full_env[RUN_ID_ENV] = run_id()
        full_env[HARNESS_PID_ENV] = str(os.getpid())
        full_env.update(env or {})
        with open(log_path, "ab") as log:
            self.popen = subprocess.Popen(
                [*launcher, *self.argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=full_env,
                pass_fds=tuple(pass_fds),
                process_group=0,
            )
        self.pid = self.popen.pid
        self.pgid = self.pid
        with _lock:
            _live[self.pid] = self
        logger.debug("started %s pid=%d: %s", name, self.pid, " ".join(self.argv))

    def alive(self) -> bool:
        """True while the process has not exited (a paused process is alive)."""
        return self.popen.poll() is None

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to this process's whole group (our own group, never anyone else's)."""
        if self.alive():
            try:
                os.killpg(self.pgid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 3.0, sig: int = signal.SIGTERM) -> int | None:
        """Stop the group: ``sig`` (resuming it first if paused), then SIGKILL after ``timeout``."""
        if self.alive():
            self.send_signal(signal.SIGCONT)
            self.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("%s (pid %d) ignored signal %d; killing", self.name, self.pid, sig)
                self.send_signal(signal.SIGKILL)
                self.popen.wait(5)
        # Reap stragglers of the group (a shell's children) even when the leader is gone.
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        with _lock:
            _live.pop(self.pid, None)
        return self.popen.returncode

    def log_tail(self, lines: int = 15) -> str:
        """The last ``lines`` of the process's output, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def listening(self) -> list[tuple[str, int]]:
        """(``tcp``|``udp``, port) pairs the process listens on, read back from the kernel."""
        try:
            conns = psutil.Process(self.pid).net_connections("inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return []
        found = []
        for conn in conns:
            if conn.type == socket.SOCK_STREAM and conn.status == psutil.CONN_LISTEN:
                found.append(("tcp", conn.laddr.port))
            elif conn.type == socket.SOCK_DGRAM and conn.laddr:
                found.append(("udp", conn.laddr.port))
        return found


def make_tempdir(prefix: str, system: bool = False) -> Path:
    """A registered temp dir (under ``$ALERTDRILL_TMPDIR`` if set) that cleanup removes.

    ``system``: in the system temp dir instead, traversable by other users — for services
    that run as another user (PostgreSQL), which could not reach a private parent directory.
    """
    parent = None if system else (os.environ.get("ALERTDRILL_TMPDIR") or None)
    if parent:
        Path(parent).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"alertdrill-{prefix}-", dir=parent))
    if system:
        path.chmod(0o711)
    with _lock:
        _tempdirs.add(path)
    return path


def remove_tempdir(path: Path) -> None:
    """Remove a registered temp dir now (unmounting the harness's mounts inside it first)."""
    with _lock:
        inside = [m for m in _mounts if m == path or path in m.parents]
    for mount in inside:
        unmount(mount)
    shutil.rmtree(path, ignore_errors=True)
    with _lock:
        _tempdirs.discard(path)


#: Written into a temp dir kept on purpose (``--keep-workdir``): not a leftover.
KEPT_MARKER = ".alertdrill-kept"
#: The pytest user property (``item.user_properties``, hence JUnit too) naming the workdir a
#: stack kept (``--keep-workdir``): the suite's ``stacks`` fixture sets it at the end of the
#: scenario, ``alertdrill run``'s progress display prints it.
KEPT_PROPERTY = "kept workdir"


def keep_tempdir(path: Path) -> None:
    """Keep a registered temp dir after the run (``--keep-workdir``): unmount the harness's
    mounts inside it, mark it as kept, and take it off the cleanup list."""
    with _lock:
        inside = [m for m in _mounts if m == path or path in m.parents]
    for mount in inside:
        unmount(mount)
    try:
        (path / KEPT_MARKER).touch()
    except OSError:
        pass
    with _lock:
        _tempdirs.discard(path)
    logger.info("kept %s", path)


def mount_tmpfs(path: Path, size_mb: int) -> None:
    """Mount a size-limited tmpfs the harness owns at ``path`` (needs root), registered for cleanup."""
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", f"alertdrill-{run_id()}",
         str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        from alertdrill.errors import StartupError

        raise StartupError(
            f"cannot mount a {size_mb} MiB tmpfs at {path}: {result.stderr.strip()}",
            "the disk-fill service needs root (CAP_SYS_ADMIN) to mount its small filesystem; "
            "run as root, or remove the node-exporter service from alertdrill.yml",
        )
    with _lock:
        _mounts.add(path)


def is_harness_mount(path: Path) -> bool:
    """True only for a filesystem this process mounted (and that is still mounted)."""
    with _lock:
        ours = path in _mounts
    return ours and os.path.ismount(path)


def unmount(path: Path) -> None:
    """Unmount one of the harness's mounts (lazily, so a busy mount still goes)."""
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
    with _lock:
        _mounts.discard(path)


def register_cleanup(name: str, undo: Callable[[], None]) -> int:
    """Run ``undo`` at teardown (interpreter exit, or :func:`cleanup_all`) unless unregistered.

    For what is not a child process: a Docker stack registers the removal of its containers and
    networks here the moment it creates the first one, so Ctrl-C, SIGTERM and exit all reach it.
    """
    global _next_token
    with _lock:
        _next_token += 1
        _cleanups[_next_token] = (name, undo)
        return _next_token


def unregister_cleanup(token: int) -> None:
    """Forget a cleanup (its owner has cleaned up itself)."""
    with _lock:
        _cleanups.pop(token, None)


def cleanup_all() -> None:
    """Undo every registered cleanup, stop every live child and remove every temp dir: the
    last line of defence."""
    with _lock:
        undos = list(_cleanups.values())
        _cleanups.clear()
    for name, undo in reversed(undos):
        try:
            undo()
        except Exception:
            logger.exception("cleaning up %s failed", name)
    with _lock:
        procs = list(_live.values())
        dirs = list(_tempdirs)
        mounts = list(_mounts)
    for proc in procs:
        try:
            proc.stop(timeout=1.0)
        except Exception:
            logger.exception("could not stop %s", proc.name)
    for mount in mounts:
        unmount(mount)
    for path in dirs:
        remove_tempdir(path)


def live_processes() -> list[ManagedProcess]:
    """The children currently registered (for tests and diagnostics)."""
    with _lock:
        return list(_live.values())


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def install_signal_handlers() -> None:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt, so they unwind like Ctrl-C does.

    pytest (and the CLI) tear fixtures down on KeyboardInterrupt; making every terminating
    signal take that path means one cleanup route instead of three.

    A signal the harness was started with *ignored* stays ignored, as Python itself leaves an
    ignored SIGINT: the parent asked for it — ``nohup`` ignores SIGHUP, and a non-interactive
    shell starts a background job (``alertdrill run &`` in a script) with SIGINT ignored so that
    a Ctrl-C meant for the script's foreground does not end it. Such a run stops on SIGTERM,
    with the same cleanup (README › Troubleshooting); :func:`ignored_signals` names what is
    ignored, for the run's header.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, _raise_interrupt)


def ignored_signals() -> list[str]:
    """The terminating signals this process ignores (inherited so): ``["SIGINT"]`` in a
    background job of a script."""
    return [sig.name for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
            if signal.getsignal(sig) == signal.SIG_IGN]


atexit.register(cleanup_all)
