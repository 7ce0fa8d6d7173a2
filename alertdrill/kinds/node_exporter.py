"""``node-exporter``: watching one small tmpfs the harness mounts (and only that).

It reads the mount table from ``--path.procfs``; a one-line ``1/mounts`` there makes it report
the harness's filesystem alone, with real sizes from statfs, so a disk-fill fault can never be
confused with (or touch) the machine's own disks. In Docker the tmpfs is mounted on the host
too (so the disk fault writes the very filesystem, with its real size limit) and bind-mounted.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from alertdrill.backends.binaries import BINARIES, find_binary
from alertdrill.backends.ports import LOOPBACK
from alertdrill.backends.process import mount_tmpfs
from alertdrill.kinds.base import Container, ContainerHost, Kind, Process, ProcessHost
from alertdrill.kinds.capabilities import Fillable

if TYPE_CHECKING:
    from alertdrill.engine.stackspec import ServiceSpec


class NodeExporter(Kind):
    """Disk faults fill its filesystem."""

    name = "node-exporter"
    image = "node-exporter"
    packages = (BINARIES["node-exporter"].package,)
    container_port = 9100
    rank = 3
    defaults: ClassVar[dict[str, Any]] = {"filesystem_mb": 32}
    provides = (Fillable,)

    def _filesystem(self, spec: ServiceSpec, workdir: Path) -> Path:
        fs = workdir / f"fs-{spec.name}"
        mount_tmpfs(fs, int(self.option(spec, "filesystem_mb")))
        return fs

    def process(self, spec: ServiceSpec, host: ProcessHost) -> Process:
        binary = find_binary("node-exporter")
        fs = self._filesystem(spec, host.workdir)
        proc_dir = host.workdir / f"proc-{spec.name}" / "1"
        proc_dir.mkdir(parents=True)
        (proc_dir / "mounts").write_text(_mount_table(fs))
        return Process(lambda port: [binary, *_args(f"{LOOPBACK}:{port}", proc_dir.parent)],
                       capabilities=(Fillable(fs),))

    def container(self, spec: ServiceSpec, host: ContainerHost, port: int) -> Container:
        fs = self._filesystem(spec, host.workdir)
        proc = host.directory(f"proc-{spec.name}")
        (proc / "1").mkdir(exist_ok=True)
        (proc / "1").chmod(0o755)
        (proc / "1" / "mounts").write_text(_mount_table(Path("/alertdrill/fs")))
        (proc / "1" / "mounts").chmod(0o644)
        return Container(_args(f"0.0.0.0:{port}", Path("/alertdrill/proc")),
                         mounts={str(fs): ("/alertdrill/fs", "ro"),
                                 str(proc): ("/alertdrill/proc", "ro")},
                         capabilities=(Fillable(fs),))


def _mount_table(fs: Path) -> str:
    return f"alertdrill {fs} tmpfs rw,relatime 0 0\n"


def _args(listen: str, procfs: Path) -> list[str]:
    return [f"--web.listen-address={listen}", "--collector.disable-defaults",
            "--collector.filesystem", f"--path.procfs={procfs}", "--log.level=warn"]


KIND = NodeExporter()
