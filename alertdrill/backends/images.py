"""Container images for the Docker backend, built from this machine's Debian packages.

Why not simply pull ``prom/prometheus``? Machines such as CI's and the developers' reach no
container registry: ``docker pull`` and ``FROM <registry image>`` fail there. They do have the
very Debian packages the local backend runs (``scripts/bootstrap.sh`` installs them), so the
local images are made from those files, with no network at all:

1. **base** — a tiny root filesystem assembled here: the dynamic loader and libc, ``/bin/sh``
   (dash: ``RUN`` lines and PostgreSQL's ``initdb`` need a shell), ``/etc/passwd`` and
   ``/etc/group`` with the users the images run as, ``nsswitch.conf``, the CA bundle and the
   time-zone database. It is written as a tar and ``docker import``-ed: no ``FROM`` of a
   registry image anywhere.
2. **one image per service** — its Dockerfile under ``stack/docker/`` says ``FROM`` the base
   (passed as the build argument ``BASE``) and ``ADD``\\ s a tar of the service's files: the
   host's binaries, every shared library they load (``ldd``, recursively, also for libraries
   loaded with ``dlopen`` such as PostgreSQL's modules and Python's extension modules), and the
   data files they read. The build runs with ``network_mode="none"``.
3. **python** — Debian's ``python3.11`` and its standard library, plus a virtualenv installed in
   the build from a wheelhouse that ``pip wheel`` made on the host (the build has no PyPI), with
   the project's runtime dependencies pinned to the versions of the environment running this
   code, so containers run what the tests on the host run.

Images are tagged ``<repo>/<name>:<hash>`` and ``<repo>/<name>:local``, where ``<hash>`` is a
digest of everything the image is made of (file contents, Dockerfile, recipe, base, pinned
dependencies): a second ``make images`` finds every tag present and builds nothing, and a
changed input (a Debian upgrade, an edited Dockerfile) builds exactly the images it affects.
File digests and ``ldd`` answers are cached by (path, size, mtime, inode), so checking costs
well under a second.

Which image a service runs is chosen by :func:`image_for`: ``ALERTDRILL_IMAGES=local`` (default:
these images) or ``official`` (the pinned upstream images of :data:`OFFICIAL`, for machines with
a registry), and ``ALERTDRILL_IMAGE_<NAME>`` overrides one image (``ALERTDRILL_IMAGE_NODE_EXPORTER``).

Size (~820 lines): one build pipeline — base root filesystem, per-image layers from Debian
packages, digest cache, tagging — whose steps share the cache and the engine client; split at
the stage boundaries if a stage grows.
"""

from __future__ import annotations

import argparse
import fcntl
import fnmatch
import hashlib
import io
import json
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertdrill.errors import AlertdrillError, ConfigError, MissingBinaryError

logger = logging.getLogger(__name__)

#: Pinned upstream images for machines that reach a registry (``ALERTDRILL_IMAGES=official``).
#: Versions match Debian bookworm's packages, which the local images are built from, so both
#: modes run the same upstream release. ``python`` has no upstream image: it is the project's
#: own code and is always built locally (unless ``ALERTDRILL_IMAGE_PYTHON`` names another).
OFFICIAL: dict[str, str] = {
    "prometheus": "prom/prometheus:v2.42.0",
    "alertmanager": "prom/alertmanager:v0.25.0",
    "node-exporter": "prom/node-exporter:v1.5.0",
    "blackbox-exporter": "prom/blackbox-exporter:v0.23.0",
    "postgres-exporter": "prometheuscommunity/postgres-exporter:v0.11.1",
    # Debian ships 15.x; the official image needs POSTGRES_HOST_AUTH_METHOD=trust (or a
    # password) to accept the exporter, which the local image accepts on its network by default.
    "postgres": "postgres:15",
    # mtail's maintainers publish to GitHub's registry; this tag (Debian's 3.0.0~rc50) was NOT
    # verified from this machine, which reaches no registry. Override with ALERTDRILL_IMAGE_MTAIL.
    "mtail": "ghcr.io/google/mtail:v3.0.0-rc50",
}

#: Every image ``make images`` builds, in build order.
IMAGE_NAMES = ("prometheus", "alertmanager", "node-exporter", "blackbox-exporter",
               "postgres-exporter", "postgres", "mtail", "python")

#: Choice of image source: ``local`` (built here) or ``official`` (:data:`OFFICIAL`).
MODES = ("local", "official")

#: Users baked into the base (name, uid, gid, home). ``nobody`` is what upstream's Prometheus
#: images run as; 999 is the official postgres image's uid; the project's services run as 1000.
USERS = (("root", 0, 0, "/root"), ("nobody", 65534, 65534, "/nonexistent"),
         ("postgres", 999, 999, "/var/lib/postgresql"), ("alertdrill", 1000, 1000, "/home/alertdrill"))
GROUPS = (("root", 0), ("nogroup", 65534), ("postgres", 999), ("alertdrill", 1000))

_PG = "/usr/lib/postgresql/15"
#: Top-level links of Debian's merged /usr (and /var/run -> /run), mirrored from the host into
#: the base; every path added to an image is written at its host-resolved location.
_MERGED = ("/bin", "/sbin", "/lib", "/lib64", "/var/run", "/var/lock")


def repository() -> str:
    """The repository prefix of local images (``ALERTDRILL_IMAGE_REPO``, default ``alertdrill``)."""
    return os.environ.get("ALERTDRILL_IMAGE_REPO", "alertdrill").rstrip("/")


def override_variable(name: str) -> str:
    """The environment variable that overrides one image: ``ALERTDRILL_IMAGE_NODE_EXPORTER``."""
    return "ALERTDRILL_IMAGE_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def image_for(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The image reference a service named ``name`` runs, by the settings in ``environ``.

    Order: ``ALERTDRILL_IMAGE_<NAME>``, then ``ALERTDRILL_IMAGES`` (``local``/``official``).
    A local image is named by its ``:local`` tag, the latest build on this machine; where several
    checkouts share one engine, the refs :func:`build_images` returns (``:<hash>``) are exact.
    """
    env = os.environ if environ is None else environ
    if name not in IMAGE_NAMES:
        raise ConfigError(f"no image named {name!r}", f"images: {', '.join(IMAGE_NAMES)}")
    override = env.get(override_variable(name), "").strip()
    if override:
        return override
    mode = env.get("ALERTDRILL_IMAGES", "local").strip() or "local"
    if mode not in MODES:
        raise ConfigError(f"ALERTDRILL_IMAGES={mode!r} is not one of {', '.join(MODES)}",
                          "local: images built from this machine's Debian packages (on first use); "
                          "official: the pinned upstream images (needs a registry)")
    if mode == "official" and name in OFFICIAL:
        return OFFICIAL[name]
    repo = env.get("ALERTDRILL_IMAGE_REPO", repository()).rstrip("/")
    return f"{repo}/{name}:local"


# -- recipes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    """What goes into one image besides its Dockerfile (``stack/docker/<name>.Dockerfile``)."""

    name: str
    #: Debian packages the files come from: named in errors, versions recorded as a label.
    packages: tuple[str, ...]
    #: Host executables, with every library they load.
    binaries: tuple[str, ...] = ()
    #: Host directories copied whole (data files; any ELF file in them brings its libraries).
    trees: tuple[str, ...] = ()
    #: fnmatch patterns of host paths left out of ``trees``.
    exclude: tuple[str, ...] = ()
    #: (path in image, link target): the upstream images' binary names, e.g. /bin/prometheus.
    links: tuple[tuple[str, str], ...] = ()
    #: (file under stack/docker/, path in image): default configs, as upstream images ship one.
    files: tuple[tuple[str, str], ...] = ()
    #: (path, uid, gid, mode): writable directories the service needs.
    dirs: tuple[tuple[str, int, int, int], ...] = ()
    #: Host libraries added when present (with theirs); a missing one is no error.
    optional: tuple[str, ...] = ()
    #: The python image: a wheelhouse of the project and its pinned dependencies in the context.
    wheels: bool = False


RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("prometheus", ("prometheus",),
           binaries=("/usr/bin/prometheus", "/usr/bin/promtool"),
           # Debian's build reads its (classic) web UI from disk; its links to Debian's
           # JavaScript packages are followed, minus moment-timezone's 130 MB of raw data.
           trees=("/usr/share/prometheus/web",),
           exclude=("/usr/share/javascript/moment-timezone/data/*",),
           links=(("/bin/prometheus", "/usr/bin/prometheus"), ("/bin/promtool", "/usr/bin/promtool")),
           files=(("prometheus.yml", "/etc/prometheus/prometheus.yml"),),
           dirs=(("/prometheus", 65534, 65534, 0o755),)),
    Recipe("alertmanager", ("prometheus-alertmanager",),
           binaries=("/usr/bin/prometheus-alertmanager", "/usr/bin/amtool"),
           trees=("/usr/share/prometheus/alertmanager",),
           links=(("/bin/alertmanager", "/usr/bin/prometheus-alertmanager"),
                  ("/bin/amtool", "/usr/bin/amtool")),
           files=(("alertmanager.yml", "/etc/alertmanager/alertmanager.yml"),),
           dirs=(("/alertmanager", 65534, 65534, 0o755),)),
    Recipe("node-exporter", ("prometheus-node-exporter",),
           binaries=("/usr/bin/prometheus-node-exporter",),
           links=(("/bin/node_exporter", "/usr/bin/prometheus-node-exporter"),)),
    Recipe("blackbox-exporter", ("prometheus-blackbox-exporter",),
           binaries=("/usr/bin/prometheus-blackbox-exporter",),
           links=(("/bin/blackbox_exporter", "/usr/bin/prometheus-blackbox-exporter"),),
           files=(("blackbox.yml", "/etc/blackbox_exporter/config.yml"),)),
    Recipe("postgres-exporter", ("prometheus-postgres-exporter",),
           binaries=("/usr/bin/prometheus-postgres-exporter",),
           links=(("/bin/postgres_exporter", "/usr/bin/prometheus-postgres-exporter"),)),
    Recipe("postgres", ("postgresql-15", "postgresql-client-15"),
           binaries=tuple(f"{_PG}/bin/{b}" for b in ("postgres", "initdb", "pg_ctl", "pg_isready",
                                                      "psql")),
           trees=(f"{_PG}/lib", "/usr/share/postgresql/15"),
           # JIT would pull in LLVM (~100 MB) for nothing a drill needs; without llvmjit.so
           # PostgreSQL simply runs without JIT.
           exclude=(f"{_PG}/lib/bitcode", f"{_PG}/lib/bitcode/*", f"{_PG}/lib/llvmjit*",
                    "/usr/share/postgresql/15/man", "/usr/share/postgresql/15/man/*"),
           dirs=(("/var/lib/postgresql", 999, 999, 0o755), ("/var/run/postgresql", 999, 999, 0o2775))),
    Recipe("mtail", ("mtail",),
           binaries=("/usr/bin/mtail",),
           files=(("mtail-lines.mtail", "/etc/mtail/lines.mtail"),),
           dirs=(("/var/log/mtail", 0, 0, 0o1777),)),
    Recipe("python", ("python3.11", "libpython3.11-stdlib"),
           binaries=("/usr/bin/python3.11", "/usr/bin/python3"),
           trees=("/usr/lib/python3.11",),
           exclude=("/usr/lib/python3.11/config-*", "/usr/lib/python3.11/test",
                    "/usr/lib/python3.11/test/*", "*/tests", "*/tests/*", "*/idle_test",
                    "*/idle_test/*", "/usr/lib/python3.11/idlelib*", "/usr/lib/python3.11/tkinter*",
                    "/usr/lib/python3.11/turtledemo*", "/usr/lib/python3.11/sitecustomize.py"),
           dirs=(("/home/alertdrill", 1000, 1000, 0o755),),
           # What manylinux wheels may link against without bundling it (PEP 599's list,
           # less graphics): the wheels are installed in the build, after ldd has looked.
           optional=tuple(f"/lib/x86_64-linux-gnu/{lib}" for lib in (
               "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1", "libm.so.6",
               "libresolv.so.2", "libgcc_s.so.1", "libstdc++.so.6", "libz.so.1", "libcrypt.so.1",
               "libnsl.so.1", "libexpat.so.1")),
           wheels=True),
)}

#: The base image's own files.
BASE = Recipe("base", ("libc6", "dash", "ca-certificates", "tzdata"),
              binaries=("/bin/sh",),
              trees=("/usr/share/zoneinfo",),
              exclude=("/usr/share/zoneinfo/right", "/usr/share/zoneinfo/right/*"))


# -- a root filesystem, described before it is written ----------------------------------------
@dataclass
class Entry:
    """One path of an image's root filesystem."""

    kind: str  # "file", "dir" or "symlink"
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    source: Path | None = None  # host file, for kind "file"
    data: bytes | None = None  # generated content, for kind "file"
    target: str = ""  # for kind "symlink"


class DigestCache:
    """sha256 of host files and their ``ldd`` answers, keyed by (size, mtime, inode)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digests: dict[str, list[Any]] = {}
        self.ldd: dict[str, list[Any]] = {}
        try:
            loaded = json.loads(path.read_text())
            self.digests, self.ldd = loaded["digests"], loaded["ldd"]
        except (OSError, ValueError, KeyError):
            pass

    @staticmethod
    def _key(st: os.stat_result) -> list[int]:
        return [st.st_size, st.st_mtime_ns, st.st_ino]

    def digest(self, path: Path) -> str:
        """The file's sha256 (from the cache while its size, mtime and inode are unchanged)."""
        st = path.stat()
        cached = self.digests.get(str(path))
        if cached and cached[:3] == self._key(st):
            return str(cached[3])
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        self.digests[str(path)] = [*self._key(st), h.hexdigest()]
        return h.hexdigest()

    def libraries(self, paths: list[Path]) -> dict[Path, list[str]]:
        """The shared libraries (resolved paths, loader included) each ELF file needs."""
        result: dict[Path, list[str]] = {}
        todo = []
        for path in paths:
            cached = self.ldd.get(str(path))
            if cached and cached[:3] == self._key(path.stat()):
                result[path] = list(cached[3])
            else:
                todo.append(path)
        for start in range(0, len(todo), 64):
            batch = todo[start:start + 64]
            for path, libs in _run_ldd(batch).items():
                self.ldd[str(path)] = [*self._key(path.stat()), libs]
                result[path] = libs
        return result

    def save(self) -> None:
        """Write the cache (atomically)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"digests": self.digests, "ldd": self.ldd}))
        os.replace(tmp, self.path)


_LDD_LINE = re.compile(r"^\s*(?:(\S+)\s+=>\s+)?(\S+)\s+\(0x[0-9a-f]+\)\s*$")


def _run_ldd(paths: list[Path]) -> dict[Path, list[str]]:
    """Ask ``ldd`` which libraries the files load; a library it cannot find is an error."""
    proc = subprocess.run(["ldd", *map(str, paths)], capture_output=True, text=True, check=False)
    result: dict[Path, list[str]] = {p: [] for p in paths}
    current = paths[0] if len(paths) == 1 else None
    for line in proc.stdout.splitlines():
        if len(paths) > 1 and not line.startswith("\t") and line.endswith(":"):
            current = Path(line[:-1])
            continue
        if current is None:
            continue
        if "not found" in line:
            raise MissingBinaryError(f"{current} needs {line.split()[0]}, which is not installed",
                                     "install the Debian package providing it (apt-file search)")
        match = _LDD_LINE.match(line)
        if match and match.group(2).startswith("/"):
            result[current].append(match.group(2))
    return result


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


class Rootfs:
    """The files of one image layer: host files (by path), generated files, dirs, links."""

    def __init__(self, cache: DigestCache) -> None:
        self.cache = cache
        self.entries: dict[str, Entry] = {}
        self._elf: set[Path] = set()

    def add_dir(self, path: str, uid: int = 0, gid: int = 0, mode: int = 0o755) -> None:
        """A directory (parents made root-owned, 0755)."""
        path = _resolved(path)
        self._parents(path)
        self.entries[path] = Entry("dir", mode, uid, gid)

    def add_bytes(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """A generated file."""
        path = _resolved(path)
        self._parents(path)
        self.entries[path] = Entry("file", mode, data=data)

    def add_symlink(self, path: str, target: str) -> None:
        """A symbolic link (none when, on a merged /usr, the link would be its own target)."""
        if path not in _MERGED:
            path = _resolved(path)
            absolute = target if target.startswith("/") else os.path.join(os.path.dirname(path), target)
            if _resolved(os.path.normpath(absolute)) == path:
                return
        self._parents(path)
        self.entries[path] = Entry("symlink", 0o777, target=target)

    def add_host_path(self, path: str, depth: int = 0, exclude: tuple[str, ...] = ()) -> None:
        """A host file at its real location; each symlink on the way is kept as a link."""
        if depth > 20:
            raise AlertdrillError(f"too many symbolic links resolving {path}")
        host = Path(_resolved(path))
        key = str(host)
        if key in self.entries:
            return
        if host.is_symlink():
            target = os.readlink(host)
            self.add_symlink(key, target)
            resolved = target if target.startswith("/") else str(host.parent / target)
            if os.path.isdir(resolved):
                self.add_tree(resolved, exclude)
            elif os.path.exists(resolved) and not _excluded(resolved, exclude):
                self.add_host_path(resolved, depth + 1, exclude)
            return
        if not host.is_file():
            raise MissingBinaryError(f"{path} does not exist on this machine")
        self._parents(key)
        self.entries[key] = Entry("file", stat.S_IMODE(host.stat().st_mode), source=host)
        if _is_elf(host):
            self._elf.add(host)

    def add_tree(self, root: str, exclude: Iterable[str] = ()) -> None:
        """Every file, link and directory under a host directory, minus ``exclude`` patterns."""
        patterns = tuple(exclude)
        real_root = os.path.realpath(root)
        if not os.path.isdir(real_root):
            raise MissingBinaryError(f"{root} does not exist on this machine")
        for dirpath, dirnames, filenames in os.walk(real_root):
            dirnames[:] = sorted(d for d in dirnames
                                 if not _excluded(os.path.join(dirpath, d), patterns))
            if dirpath not in self.entries:
                self.add_dir(dirpath, mode=stat.S_IMODE(os.stat(dirpath).st_mode))
            for name in sorted(filenames) + [d for d in dirnames
                                             if os.path.islink(os.path.join(dirpath, d))]:
                full = os.path.join(dirpath, name)
                if _excluded(full, patterns) or (os.path.islink(full)
                                                 and not os.path.exists(full)):
                    continue
                self.add_host_path(full, exclude=patterns)

    def add_binary(self, path: str) -> None:
        """An executable, with its libraries (resolved later, with every ELF file's)."""
        self.add_host_path(path)

    def resolve_libraries(self) -> None:
        """Add every shared library of every ELF file, until nothing new is needed."""
        done: set[Path] = set()
        while self._elf - done:
            batch = sorted(self._elf - done)
            done.update(batch)
            for libs in self.cache.libraries(batch).values():
                for lib in libs:
                    self.add_host_path(lib)

    def _parents(self, path: str) -> None:
        parent = os.path.dirname(path)
        while parent not in ("/", "") and parent not in self.entries:
            self.entries[parent] = Entry("dir", 0o755)
            parent = os.path.dirname(parent)

    def digest(self) -> str:
        """A digest of every entry: paths, kinds, modes, owners, contents, link targets."""
        h = hashlib.sha256()
        for path in sorted(self.entries):
            e = self.entries[path]
            content = (self.cache.digest(e.source) if e.source is not None
                       else hashlib.sha256(e.data or b"").hexdigest() if e.kind == "file" else "")
            h.update(f"{path}\0{e.kind}\0{e.mode:o}\0{e.uid}\0{e.gid}\0{e.target}\0{content}\n"
                     .encode())
        return h.hexdigest()

    def size(self) -> int:
        """Bytes of file content."""
        return sum(e.source.stat().st_size if e.source else len(e.data or b"")
                   for e in self.entries.values() if e.kind == "file")

    def write_tar(self, dest: Path) -> None:
        """Write the layer as an uncompressed tar (parents before children)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".tmp")
        with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as tar:
            for path in sorted(self.entries):
                entry = self.entries[path]
                info = self._tarinfo(path, entry)
                if entry.source is not None:
                    with open(entry.source, "rb") as content:
                        tar.addfile(info, content)
                elif entry.kind == "file":
                    tar.addfile(info, io.BytesIO(entry.data or b""))
                else:
                    tar.addfile(info)
        os.replace(tmp, dest)

    @staticmethod
    def _tarinfo(path: str, e: Entry) -> tarfile.TarInfo:
        info = tarfile.TarInfo(path.lstrip("/"))
        info.mode, info.uid, info.gid = e.mode, e.uid, e.gid
        info.uname = info.gname = ""
        if e.kind == "dir":
            info.type = tarfile.DIRTYPE
        elif e.kind == "symlink":
            info.type, info.linkname = tarfile.SYMTYPE, e.target
        elif e.source is not None:
            st = e.source.stat()
            info.size, info.mtime = st.st_size, int(st.st_mtime)  # mtime keeps .pyc files valid
        else:
            info.size = len(e.data or b"")
        return info


def _resolved(path: str) -> str:
    """``path`` with its directory resolved as on the host (``/bin/x`` is ``/usr/bin/x``)."""
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def _excluded(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(path, p) for p in patterns)


# -- assembling each image ---------------------------------------------------------------------
def project_root() -> Path:
    """The checkout this module belongs to: the python image carries a wheel built from its
    sources, so images are built from a checkout (an editable install), not from a wheel."""
    root = Path(__file__).resolve().parents[2]  # alertdrill/backends/images.py → the checkout
    if not (root / "stack" / "docker").is_dir() or not (root / "pyproject.toml").is_file():
        raise ConfigError(f"{root} has no stack/docker/ directory",
                          "build images from a checkout of alertdrill (pip install -e .)")
    return root


def base_rootfs(cache: DigestCache) -> Rootfs:
    """The base: loader, libc, dash as /bin/sh, users, nsswitch, CA bundle, time zones."""
    fs = Rootfs(cache)
    # Mirror the host's merged-/usr links, so /lib64/ld-linux-x86-64.so.2 (the loader path
    # compiled into every binary) and /bin/sh resolve as they do on the host.
    for top in _MERGED:
        if os.path.islink(top):
            fs.add_symlink(top, os.readlink(top))
    for binary in BASE.binaries:
        fs.add_binary(binary)
    for tree in BASE.trees:
        fs.add_tree(tree, exclude=BASE.exclude)
    fs.add_host_path("/etc/ssl/certs/ca-certificates.crt")
    fs.add_host_path("/etc/os-release")
    fs.add_bytes("/etc/passwd", "".join(
        f"{n}:x:{u}:{g}:{n}:{h}:/usr/sbin/nologin\n" for n, u, g, h in USERS).encode())
    fs.add_bytes("/etc/group", "".join(f"{n}:x:{g}:\n" for n, g in GROUPS).encode())
    fs.add_bytes("/etc/nsswitch.conf", b"passwd: files\ngroup: files\nhosts: files dns\n")
    for path, mode in (("/tmp", 0o1777), ("/var/tmp", 0o1777), ("/root", 0o700), ("/run", 0o755)):
        fs.add_dir(path, mode=mode)
    fs.resolve_libraries()
    return fs


def image_rootfs(recipe: Recipe, cache: DigestCache, docker_dir: Path,
                 base: Rootfs | None = None) -> Rootfs:
    """The files one image adds to ``base`` (the base's own files are not repeated)."""
    fs = Rootfs(cache)
    for binary in recipe.binaries:
        fs.add_binary(binary)
    for library in recipe.optional:
        if os.path.exists(library):
            fs.add_binary(library)
    for tree in recipe.trees:
        fs.add_tree(tree, exclude=recipe.exclude)
    for link, target in recipe.links:
        fs.add_symlink(link, target)
    for name, dest in recipe.files:
        fs.add_bytes(dest, (docker_dir / name).read_bytes())
    for path, uid, gid, mode in recipe.dirs:
        fs.add_dir(path, uid, gid, mode)
    fs.resolve_libraries()
    # The base has these links; a layer's directory of the same name would replace them.
    for path in _MERGED:
        if fs.entries.pop(path, None) is not None:
            raise AlertdrillError(f"image {recipe.name} would replace the base's link {path}")
    for path, entry in list(fs.entries.items()):
        if base is not None and base.entries.get(path) == entry:
            del fs.entries[path]
    return fs


def debian_versions(packages: Iterable[str]) -> str:
    """``name=version`` of installed Debian packages (a label; unknown ones say so)."""
    parts = []
    for package in packages:
        proc = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                              capture_output=True, text=True, check=False)
        parts.append(f"{package}={proc.stdout.strip() or 'unknown'}")
    return " ".join(parts)


def pinned_requirements(distribution: str = "alertdrill") -> list[str]:
    """``name==version`` of every runtime dependency of ``distribution`` in this environment.

    Walking the installed metadata (not ``pip freeze``) leaves out dev tools such as ruff, so a
    new linter does not rebuild the python image; extras' requirements are not followed.
    """
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    todo = [distribution]
    while todo:
        name = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            key = canonicalize_name(req.name)
            if key in pins:
                continue
            try:
                pins[key] = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                continue
            todo.append(req.name)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def project_sources(root: Path) -> Iterator[Path]:
    """The files the project's wheel is made of (sources, metadata, readme, and the steps,
    fixtures, stacks and features it carries inside the package)."""
    yield root / "pyproject.toml"
    yield root / "README.md"
    for top in ("alertdrill", "steps", "fixtures", "stack", "features"):
        for path in sorted((root / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                yield path


@dataclass
class BuildResult:
    """What :func:`build_images` did for one image."""

    name: str
    ref: str
    tag: str
    built: bool
    seconds: float
    size: int = 0


@dataclass
class Builder:
    """Builds (or finds) the local images; one per ``make images`` run."""

    client: Any
    root: Path = field(default_factory=project_root)
    repo: str = field(default_factory=repository)
    force: bool = False
    log: Any = None

    def __post_init__(self) -> None:
        self.work = self.root / "build" / "images"
        self.docker_dir = self.root / "stack" / "docker"
        self.cache = DigestCache(self.work / "digests.json")
        self._base_ref: str | None = None
        self._base_fs: Rootfs | None = None

    def say(self, message: str) -> None:
        """Progress on stderr (``make images`` shows it)."""
        if self.log is not None:
            print(message, file=self.log, flush=True)

    # -- hashing ----------------------------------------------------------------------------
    def _digest(self, *parts: str) -> str:
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]

    def base(self) -> str:
        """The base image reference, imported when missing."""
        if self._base_ref:
            return self._base_ref
        fs = self._base_fs = base_rootfs(self.cache)
        tag = self._digest("base-v1", repr(BASE), fs.digest())
        ref = f"{self.repo}/base:{tag}"
        if self.force or not self._exists(ref):
            t0 = time.monotonic()
            tar = self.work / "base" / "rootfs.tar"
            fs.write_tar(tar)
            self.client.api.import_image_from_file(
                str(tar), repository=f"{self.repo}/base", tag=tag,
                changes=["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                         "ENV LANG=C.UTF-8",
                         f"LABEL alertdrill.inputs={tag}",
                         f"LABEL alertdrill.checkout={self.root}",
                         f"LABEL alertdrill.debian-packages=\"{debian_versions(BASE.packages)}\""])
            tar.unlink()
            self.say(f"  base: imported {ref} ({fs.size() / 1e6:.1f} MB of files) in "
                     f"{time.monotonic() - t0:.1f}s")
        self._tag(ref, f"{self.repo}/base:local")
        self._drop_superseded("base", keep=tag)
        self._base_ref = ref
        return ref

    def build(self, name: str) -> BuildResult:
        """Find ``<repo>/<name>:<hash>`` or build it; point ``:local`` at it."""
        t0 = time.monotonic()
        recipe = RECIPES[name]
        dockerfile = self.docker_dir / f"{name}.Dockerfile"
        if not dockerfile.is_file():
            raise ConfigError(f"{dockerfile} is missing")
        base = self.base()
        try:
            fs = image_rootfs(recipe, self.cache, self.docker_dir, self._base_fs)
        except MissingBinaryError as exc:
            raise MissingBinaryError(
                f"the {name} image is made of this machine's files: {exc.args[0]}",
                f"install them with `sudo apt-get install -y {' '.join(recipe.packages)}`") from None
        parts = ["image-v1", repr(recipe), base, dockerfile.read_text(), fs.digest()]
        if recipe.wheels:
            pins = pinned_requirements()
            parts += pins
            parts += [f"{p.relative_to(self.root)}:{self.cache.digest(p)}"
                      for p in project_sources(self.root)]
        tag = self._digest(*parts)
        ref = f"{self.repo}/{name}:{tag}"
        built = False
        if self.force or not self._exists(ref):
            self._build(recipe, dockerfile, fs, base, ref, tag)
            built = True
        self._tag(ref, f"{self.repo}/{name}:local")
        self._drop_superseded(name, keep=tag)
        image = self.client.images.get(ref)
        return BuildResult(name, ref, tag, built, time.monotonic() - t0, int(image.attrs["Size"]))

    def _build(self, recipe: Recipe, dockerfile: Path, fs: Rootfs, base: str, ref: str,
               tag: str) -> None:
        context = self.work / recipe.name
        shutil.rmtree(context, ignore_errors=True)
        context.mkdir(parents=True)
        shutil.copyfile(dockerfile, context / "Dockerfile")
        fs.write_tar(context / "rootfs.tar")
        if recipe.wheels:
            self._wheelhouse(context / "wheels")
        self.say(f"  {recipe.name}: building {ref} ({fs.size() / 1e6:.1f} MB of files)")
        labels = {"alertdrill.inputs": tag, "alertdrill.image": recipe.name,
                  "alertdrill.checkout": str(self.root),
                  "alertdrill.debian-packages": debian_versions(recipe.packages)}
        output: list[str] = []
        for chunk in self.client.api.build(
                path=str(context), dockerfile="Dockerfile", tag=ref, buildargs={"BASE": base},
                labels=labels, rm=True, forcerm=True, pull=False, network_mode="none",
                decode=True):
            if "error" in chunk:
                raise AlertdrillError(
                    f"building {ref} failed: {chunk['error'].strip()}",
                    "last build output:\n" + "".join(output[-15:]))
            if "stream" in chunk:
                output.append(chunk["stream"])
        # The python image's install stage stays behind untagged; nothing else uses it.
        self.client.images.prune(filters={"dangling": True, "label": "alertdrill.stage=install"})
        shutil.rmtree(context, ignore_errors=True)

    def _wheelhouse(self, dest: Path) -> None:
        """Wheels of the project and its pinned runtime dependencies, and pip itself."""
        dest.mkdir(parents=True)
        constraints = dest.parent / "constraints.txt"
        constraints.write_text("\n".join(pinned_requirements()) + "\n")
        from importlib import metadata
        pip_version = metadata.version("pip")
        for argv in (
            ["wheel", "--quiet", "--wheel-dir", str(dest), "--constraint", str(constraints),
             str(self.root)],
            ["download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", str(dest),
             f"pip=={pip_version}"],
        ):
            proc = subprocess.run([sys.executable, "-m", "pip", *argv], capture_output=True,
                                  text=True, check=False)
            if proc.returncode != 0:
                raise AlertdrillError(
                    f"pip {argv[0]} for the python image failed:\n{proc.stderr.strip()[-1500:]}",
                    "the host needs PyPI (or a pip cache holding these wheels) for this step")
        constraints.unlink()

    # -- docker helpers ---------------------------------------------------------------------
    def _exists(self, ref: str) -> bool:
        from docker.errors import ImageNotFound
        try:
            self.client.images.get(ref)
        except ImageNotFound:
            return False
        return True

    def _tag(self, ref: str, alias: str) -> None:
        image = self.client.images.get(ref)
        if alias not in image.tags:
            repo, _, tag = alias.rpartition(":")
            image.tag(repo, tag)

    def _drop_superseded(self, name: str, keep: str) -> None:
        """Remove older ``<repo>/<name>:<hash>`` tags this checkout built (disk hygiene).

        Only images labelled with this checkout's path: several checkouts (worktrees) share one
        engine, and one must not delete the images another one is using. In-use ones stay.
        """
        from docker.errors import APIError
        label = f"alertdrill.checkout={self.root}"
        for image in self.client.images.list(name=f"{self.repo}/{name}", filters={"label": label}):
            for old in image.tags:
                _, _, tag = old.rpartition(":")
                if re.fullmatch(r"[0-9a-f]{12}", tag) and tag != keep:
                    try:
                        self.client.images.remove(old)
                    except APIError as exc:
                        logger.info("keeping %s: %s", old, exc)


def build_images(names: Iterable[str] = IMAGE_NAMES, force: bool = False, log: Any = None,
                 client: Any = None) -> list[BuildResult]:
    """Build (or find up to date) the named local images; start dockerd first if needed."""
    if client is None:
        from alertdrill.backends.dockerd import ensure_engine
        client = ensure_engine().client
    builder = Builder(client, force=force, log=log)
    builder.work.mkdir(parents=True, exist_ok=True)
    # One build at a time per checkout: build contexts and the digest cache live in build/images.
    with open(builder.work / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return [builder.build(name) for name in names]
        finally:
            builder.cache.save()


def main(argv: list[str] | None = None) -> int:
    """``python -m alertdrill.backends.images [build|list] [NAME...]`` (``make images`` builds all)."""
    parser = argparse.ArgumentParser(prog="python -m alertdrill.backends.images",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=("build", "list"), default="build")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"of: {', '.join(IMAGE_NAMES)}")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in IMAGE_NAMES]
    if unknown:
        parser.error(f"unknown image {', '.join(unknown)}; images: {', '.join(IMAGE_NAMES)}")
    names = args.names or list(IMAGE_NAMES)
    try:
        if args.command == "list":
            for name in names:
                print(f"{name:18} {image_for(name)}")
            return 0
        t0 = time.monotonic()
        results = build_images(names, force=args.force, log=sys.stderr)
    except AlertdrillError as exc:
        print(f"alertdrill: {exc}", file=sys.stderr)
        return 2
    for r in results:
        state = "built" if r.built else "up to date"
        print(f"{r.name:18} {r.ref:44} {r.size / 1e6:6.1f} MB  {state} ({r.seconds:.1f}s)")
    print(f"{len(results)} images in {time.monotonic() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
