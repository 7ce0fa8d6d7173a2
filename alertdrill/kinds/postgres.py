"""``postgres``: a real PostgreSQL — Debian's locally (unix socket only, as the ``postgres``
user), the image's in Docker (reached inside the stack's network only)."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from alertdrill.backends.process import make_tempdir, run_id
from alertdrill.errors import MissingBinaryError, StartupError
from alertdrill.kinds.base import CheckReady, Container, ContainerHost, ExecReady, Kind, Process, ProcessHost

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import ServiceSpec

#: Settings of every PostgreSQL of a stack: a drill needs no durability.
_SETTINGS = ["-c", "fsync=off", "-c", "max_connections=50"]


class Postgres(Kind):
    """Stopped with SIGINT ("fast" shutdown: SIGTERM waits for every client to leave)."""

    name = "postgres"
    image = "postgres"
    packages = ("postgresql",)
    container_port = 5432
    rank = 5

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        """PostgreSQL refuses to run as root, so it runs as the ``postgres`` user of Debian's
        package; its data directory is a copy of one initdb made once per run (0.7 s saved
        per stack)."""
        # The postgres user must reach its files: they live in a dir of the system temp dir
        # (ALERTDRILL_TMPDIR may sit under a private parent), removed with the stack.
        pg_root = make_tempdir(f"pg-{spec.name}-{run_id()}", system=True)
        host.extra_dirs.append(pg_root)
        data = pg_root / "data"
        sockets = pg_root / "socket"
        sockets.mkdir()
        shutil.copytree(postgres_template(), data, symlinks=True)
        _chown_tree(data, "postgres")
        _chown_tree(sockets, "postgres")
        bin_dir = postgres_bin_dir()
        host.pg_sockets[spec.name] = sockets
        return Process(
            lambda _port: [*_as_user("postgres"), str(bin_dir / "postgres"), "-D", str(data),
                           "-c", "listen_addresses=", "-c", f"unix_socket_directories={sockets}",
                           *_SETTINGS],
            ready=CheckReady(lambda: _accepts_connections(bin_dir, sockets)),
            stop_signal=signal.SIGINT)

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        """From the image (initdb done; the official image needs trust said aloud)."""
        return Container(["postgres", *_SETTINGS], ready=ExecReady(("pg_isready", "-q", "-U", "postgres")),
                         environment={"POSTGRES_HOST_AUTH_METHOD": "trust"}, stop_signal="SIGINT",
                         published=False)


_PG_TEMPLATE: Path | None = None


def postgres_bin_dir() -> Path:
    """Debian's PostgreSQL server binaries (the newest installed major version)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise MissingBinaryError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres)",
            "install it with `sudo apt-get install -y postgresql`, or run it in a container of its "
            "upstream image (--backend docker with ALERTDRILL_IMAGES=official)")
    return found[-1].parent


def _accepts_connections(bin_dir: Path, sockets: Path) -> bool:
    """``pg_isready``: the server accepts connections (its socket file appears earlier, while
    it still answers "the database system is starting up")."""
    if not (sockets / ".s.PGSQL.5432").exists():
        return False
    try:
        return subprocess.run([str(bin_dir / "pg_isready"), "-q", "-h", str(sockets)],
                              check=False, timeout=2).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _as_user(user: str) -> list[str]:
    """Run a child as ``user`` (PostgreSQL will not run as root)."""
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]


def _chown_tree(path: Path, user: str) -> None:
    subprocess.run(["chown", "-R", f"{user}:{user}", str(path)], check=True)


def postgres_template() -> Path:
    """An initdb'd data directory, made once per harness process and copied for each stack."""
    global _PG_TEMPLATE
    if _PG_TEMPLATE is None or not _PG_TEMPLATE.exists():
        root = make_tempdir(f"pg-template-{run_id()}", system=True)
        _chown_tree(root, "postgres")
        data = root / "data"
        result = subprocess.run(
            [*_as_user("postgres"), str(postgres_bin_dir() / "initdb"), "-D", str(data),
             "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StartupError(f"initdb failed: {result.stderr.strip()[-300:]}",
                               "PostgreSQL runs as the `postgres` user: the harness needs root "
                               "to switch to it")
        _PG_TEMPLATE = data
    return _PG_TEMPLATE


KIND = Postgres()
