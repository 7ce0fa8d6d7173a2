"""The Docker backend's images: how they are chosen, assembled, and that each one serves.

Tests marked ``docker`` start a Docker engine if none answers (root, Debian's docker.io) and
build the local images if missing (``make images``; a no-op when up to date), then run each image
on a fresh labelled network with its port published on 127.0.0.1 only. They skip only when no
engine can be had, and say why.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from alertdrill.backends import dockerd
from alertdrill.backends.containers import ContainerRun, published_port, wait_http
from alertdrill.backends.images import (
    IMAGE_NAMES,
    OFFICIAL,
    DigestCache,
    Rootfs,
    build_images,
    image_for,
    override_variable,
    pinned_requirements,
)
from alertdrill.errors import ConfigError, DockerUnavailableError
from tests.helpers import docker_engine_or_skip

ROOT = Path(__file__).resolve().parents[1]
docker = pytest.mark.docker


# -- choosing an image ----------------------------------------------------------------------
def test_local_images_by_default_official_on_request_and_one_overridden() -> None:
    assert image_for("prometheus", {}) == "alertdrill/prometheus:local"
    assert image_for("postgres", {"ALERTDRILL_IMAGES": "official"}) == "postgres:15"
    assert image_for("node-exporter", {"ALERTDRILL_IMAGES": "official"}) == "prom/node-exporter:v1.5.0"
    # The project's own services have no upstream image.
    assert image_for("python", {"ALERTDRILL_IMAGES": "official"}) == "alertdrill/python:local"
    env = {"ALERTDRILL_IMAGES": "official", "ALERTDRILL_IMAGE_NODE_EXPORTER": "my/node:1"}
    assert override_variable("node-exporter") == "ALERTDRILL_IMAGE_NODE_EXPORTER"
    assert image_for("node-exporter", env) == "my/node:1"
    assert image_for("prometheus", env) == OFFICIAL["prometheus"]
    assert image_for("mtail", {"ALERTDRILL_IMAGE_REPO": "reg.local/ad"}) == "reg.local/ad/mtail:local"


def test_unknown_mode_or_image_is_refused() -> None:
    with pytest.raises(ConfigError, match="ALERTDRILL_IMAGES='latest'"):
        image_for("prometheus", {"ALERTDRILL_IMAGES": "latest"})
    with pytest.raises(ConfigError, match="no image named 'grafana'"):
        image_for("grafana", {})


def _debian_upstream_version(package: str) -> str | None:
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        return None
    version = proc.stdout.split(":")[-1].rsplit("-", 1)[0]  # no epoch, no Debian revision
    return version.split("+")[0].replace("~", "-")


@pytest.mark.parametrize(("image", "package"), [
    ("prometheus", "prometheus"), ("alertmanager", "prometheus-alertmanager"),
    ("node-exporter", "prometheus-node-exporter"),
    ("blackbox-exporter", "prometheus-blackbox-exporter"),
    ("postgres-exporter", "prometheus-postgres-exporter"), ("mtail", "mtail"),
    ("postgres", "postgresql-15"),
])
def test_official_pins_are_the_debian_releases_the_local_images_hold(image: str, package: str) -> None:
    version = _debian_upstream_version(package)
    if version is None:
        pytest.skip(f"Debian package {package} is not installed")
    tag = OFFICIAL[image].rsplit(":", 1)[1].removeprefix("v")
    if image == "postgres":
        assert version.split(".")[0] == tag  # postgres:15 follows the major release
    else:
        assert tag == version


def test_every_dockerfile_builds_from_the_imported_base_only() -> None:
    for name in IMAGE_NAMES:
        text = (ROOT / "stack" / "docker" / f"{name}.Dockerfile").read_text()
        assert re.search(r"^ARG BASE$", text, re.M), name
        stages: set[str] = set()
        for match in re.finditer(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I):
            source, stage = match.groups()
            assert source == "${BASE}" or source in stages, f"{name}: FROM {source}"
            if stage:
                stages.add(stage)


# -- assembling a root filesystem -----------------------------------------------------------
def test_a_binary_brings_its_links_and_libraries(tmp_path: Path) -> None:
    if not Path("/usr/bin/python3").is_symlink():
        pytest.skip("needs Debian's /usr/bin/python3 link")
    fs = Rootfs(DigestCache(tmp_path / "cache.json"))
    fs.add_binary("/usr/bin/python3")
    fs.resolve_libraries()
    link = fs.entries["/usr/bin/python3"]
    assert link.kind == "symlink"
    assert fs.entries[str(Path("/usr/bin") / link.target)].kind == "file"
    libc = [p for p in fs.entries if p.endswith("/libc.so.6")]
    assert libc and all(not p.startswith(("/lib/", "/lib64/")) for p in fs.entries), \
        "paths are written where they really are on a merged /usr"
    assert any("ld-linux" in p for p in fs.entries)


def test_digest_follows_content_owner_and_mode(tmp_path: Path) -> None:
    cache = DigestCache(tmp_path / "cache.json")
    (tmp_path / "f").write_text("one")

    def digest(uid: int = 0, mode: int = 0o644) -> str:
        fs = Rootfs(cache)
        fs.add_host_path(str(tmp_path / "f"))
        fs.add_dir("/data", uid=uid, mode=mode)
        return fs.digest()

    first = digest()
    assert digest() == first
    time.sleep(0.01)
    (tmp_path / "f").write_text("two")  # same size: the (size, mtime, inode) key still changes
    second = digest()
    assert second != first
    assert digest(uid=999) != second
    assert digest(mode=0o700) != second


def test_layer_tar_keeps_owners_modes_and_links(tmp_path: Path) -> None:
    import tarfile

    fs = Rootfs(DigestCache(tmp_path / "cache.json"))
    fs.add_dir("/var/lib/postgresql", uid=999, gid=999, mode=0o700)
    fs.add_bytes("/etc/app/config.yml", b"a: 1\n")
    fs.add_symlink("/opt/tool", "/usr/bin/tool")
    fs.write_tar(tmp_path / "layer.tar")
    with tarfile.open(tmp_path / "layer.tar") as tar:
        members = {m.name: m for m in tar.getmembers()}
        pg = members["var/lib/postgresql"]
        assert (pg.isdir(), pg.uid, pg.gid, pg.mode) == (True, 999, 999, 0o700)
        assert members["opt/tool"].issym() and members["opt/tool"].linkname == "/usr/bin/tool"
        config = tar.extractfile("etc/app/config.yml")
        assert config is not None and config.read() == b"a: 1\n"
        assert members["etc/app"].isdir()  # parents come first, root-owned


def test_python_image_pins_runtime_dependencies_only() -> None:
    pins = pinned_requirements()
    names = {p.split("==")[0] for p in pins}
    assert {"requests", "pyyaml", "docker", "urllib3"} <= names  # direct and transitive
    assert not names & {"ruff", "mypy"}, "dev tools must not rebuild the python image"


# -- the engine -----------------------------------------------------------------------------
def test_no_engine_for_another_docker_host_is_reported_not_started(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    expected = re.escape("DOCKER_HOST=tcp://127.0.0.1:1 does not answer")
    with pytest.raises(DockerUnavailableError, match=expected):
        dockerd.ensure_engine(timeout=1, state_dir=tmp_path)


def test_no_engine_without_root_says_the_exact_command(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(dockerd, "client_or_none", lambda timeout=5.0: None)
    monkeypatch.setattr(dockerd.shutil, "which", lambda name: "/usr/sbin/dockerd")
    monkeypatch.setattr(dockerd.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(dockerd, "_existing_dockerd", lambda: [])
    with pytest.raises(DockerUnavailableError, match="needs root") as err:
        dockerd.ensure_engine(timeout=1, state_dir=tmp_path)
    assert "sudo sh -c" in str(err.value) and "/usr/sbin/dockerd" in str(err.value)
    assert not (tmp_path / "dockerd.pid").exists()


def test_an_engine_this_user_cannot_reach_is_not_started_twice(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(dockerd, "client_or_none", lambda timeout=5.0: None)
    monkeypatch.setattr(dockerd.shutil, "which", lambda name: "/usr/sbin/dockerd")
    monkeypatch.setattr(dockerd.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(dockerd, "_existing_dockerd", lambda: [4242])
    with pytest.raises(DockerUnavailableError, match=r"dockerd runs \(pid 4242\)") as err:
        dockerd.ensure_engine(timeout=1, state_dir=tmp_path)
    assert "docker` group" in str(err.value)


def test_no_dockerd_says_which_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(dockerd, "client_or_none", lambda timeout=5.0: None)
    monkeypatch.setattr(dockerd.shutil, "which", lambda name: None)
    monkeypatch.setattr(dockerd.os, "access", lambda path, mode: False)
    with pytest.raises(DockerUnavailableError, match=re.escape("apt-get install -y docker.io")):
        dockerd.ensure_engine(timeout=1, state_dir=tmp_path)


# -- the images, running --------------------------------------------------------------------
@pytest.fixture(scope="module")
def engine() -> dockerd.Engine:
    return docker_engine_or_skip()


@pytest.fixture(scope="module")
def images(engine: dockerd.Engine) -> dict[str, str]:
    """Every local image, built if missing (as `make images` does), by name."""
    return {r.name: r.ref for r in build_images(client=engine.client)}


@pytest.fixture
def run(engine: dockerd.Engine):
    """A fresh labelled network; every container and network of it is gone afterwards."""
    with ContainerRun(engine.client) as containers:
        yield containers
    assert containers.leftovers() == []


@docker
def test_second_build_reuses_every_image(engine: dockerd.Engine, images: dict[str, str]) -> None:
    t0 = time.monotonic()
    again = build_images(client=engine.client)
    assert [r.built for r in again] == [False] * len(IMAGE_NAMES)
    assert {r.name: r.ref for r in again} == images
    assert time.monotonic() - t0 < 15
    for name, ref in images.items():
        local = engine.client.images.get(f"alertdrill/{name}:local")
        assert ref in local.tags, f":local must point at the current build of {name}"


@docker
@pytest.mark.parametrize(("name", "port", "path", "expect"), [
    ("prometheus", 9090, "/-/ready", "Ready"),
    ("alertmanager", 9093, "/-/ready", "OK"),
    ("node-exporter", 9100, "/metrics", "node_exporter_build_info"),
    ("blackbox-exporter", 9115, "/metrics", "blackbox_exporter_build_info"),
])
def test_image_answers_on_its_loopback_port(run: ContainerRun, images: dict[str, str], name: str,
                                            port: int, path: str, expect: str) -> None:
    container = run.run(images[name], name, ports=[port])
    host_port = published_port(container, port)
    wait_http(container, f"http://127.0.0.1:{host_port}{path}",
              lambda r: r.status_code == 200 and expect in r.text)
    assert container.attrs["Config"]["User"] == "nobody"


@docker
def test_prometheus_and_alertmanager_images_carry_their_tools(run: ContainerRun,
                                                               images: dict[str, str]) -> None:
    for image, tool in (("prometheus", "promtool"), ("alertmanager", "amtool")):
        container = run.run(images[image], image)
        code, out = container.exec_run([f"/bin/{tool}", "--version"])
        assert code == 0 and tool in out.decode(), out


@docker
def test_blackbox_exporter_probes(run: ContainerRun, images: dict[str, str]) -> None:
    container = run.run(images["blackbox-exporter"], "blackbox", ports=[9115])
    port = published_port(container, 9115)
    base = f"http://127.0.0.1:{port}"
    wait_http(container, base + "/metrics", lambda r: r.status_code == 200)
    # The exporter probes its own /metrics inside the container: a real HTTP probe.
    ok = requests.get(base + "/probe", params={"module": "http_2xx",
                                               "target": "http://127.0.0.1:9115/metrics"}, timeout=10)
    assert re.search(r"^probe_success 1$", ok.text, re.M), ok.text[-500:]
    refused = requests.get(base + "/probe", params={"module": "tcp_connect",
                                                    "target": "127.0.0.1:1"}, timeout=10)
    assert re.search(r"^probe_success 0$", refused.text, re.M), refused.text[-500:]


@docker
def test_postgres_runs_as_non_root_and_the_exporter_sees_it_up(run: ContainerRun,
                                                               images: dict[str, str]) -> None:
    t0 = time.monotonic()
    db = run.run(images["postgres"], "postgres")
    deadline = t0 + 30
    while db.exec_run(["pg_isready", "-q", "-U", "postgres"]).exit_code != 0:
        db.reload()
        assert db.status == "running" and time.monotonic() < deadline, db.logs()[-800:]
        time.sleep(0.1)
    top = db.top(ps_args="-o pid,uid,comm")
    column = [t.upper() for t in top["Titles"]].index("UID")
    uids = {line[column] for line in top["Processes"]}
    assert uids == {"999"}, f"postgres must run as uid 999 only, ran as {uids}"
    exporter = run.run(images["postgres-exporter"], "postgres-exporter", ports=[9187],
                       environment={"DATA_SOURCE_NAME":
                                    "postgresql://postgres@postgres:5432/postgres?sslmode=disable"})
    port = published_port(exporter, 9187)
    wait_http(exporter, f"http://127.0.0.1:{port}/metrics",
              lambda r: re.search(r"^pg_up 1$", r.text, re.M) is not None)


@docker
def test_postgres_exporter_reports_a_missing_database_down(run: ContainerRun,
                                                           images: dict[str, str]) -> None:
    exporter = run.run(images["postgres-exporter"], "postgres-exporter", ports=[9187],
                       # Nothing listens there; an address, not a name, so no DNS query leaves.
                       environment={"DATA_SOURCE_NAME":
                                    "postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable"})
    port = published_port(exporter, 9187)
    # A scrape with the database unreachable can take over a second (the exporter retries).
    wait_http(exporter, f"http://127.0.0.1:{port}/metrics",
              lambda r: re.search(r"^pg_up 0$", r.text, re.M) is not None, request_timeout=5.0)


@docker
def test_mtail_counts_the_lines_of_its_log(run: ContainerRun, images: dict[str, str]) -> None:
    container = run.run(images["mtail"], "mtail", ports=[3903])
    port = published_port(container, 3903)
    url = f"http://127.0.0.1:{port}/metrics"
    wait_http(container, url, lambda r: "mtail_default_lines_total" in r.text)
    pattern = re.compile(r'^mtail_default_lines_total\{prog="lines.mtail"\} ([1-9]\d*)$', re.M)
    # mtail finds new files by polling its glob and tails them from their end, so keep
    # appending until a line is counted (bounded).
    for _ in range(60):
        container.exec_run(["sh", "-c", "echo line >> /var/log/mtail/app.log"])
        if pattern.search(requests.get(url, timeout=2).text):
            break
        time.sleep(0.25)
    else:
        pytest.fail(f"mtail never counted a line; log:\n{container.logs()[-800:].decode()}")


@docker
def test_python_image_runs_the_sink(run: ContainerRun, images: dict[str, str]) -> None:
    helped = run.run(images["python"], "help")
    assert helped.wait(timeout=30)["StatusCode"] == 0
    assert b"usage: python -m alertdrill.sink" in helped.logs()
    sink = run.run(images["python"], "sink", ports=[8080],
                   command=["python", "-m", "alertdrill.sink", "--http", "0.0.0.0:8080",
                            "--smtp", "0.0.0.0:2525"])
    port = published_port(sink, 8080)
    wait_http(sink, f"http://127.0.0.1:{port}/_health", lambda r: r.status_code == 200)
    assert sink.attrs["Config"]["User"] == "alertdrill"
    for module in ("alertdrill.targets.sample", "alertdrill.targets.app"):
        code, out = sink.exec_run(["python", "-m", module, "--help"])
        assert code == 0, out


@docker
def test_a_failing_test_still_leaves_nothing(engine: dockerd.Engine, images: dict[str, str]) -> None:
    with pytest.raises(RuntimeError), ContainerRun(engine.client) as containers:
        containers.run(images["node-exporter"], "node-exporter", ports=[9100])
        raise RuntimeError("a test fails here")
    assert containers.leftovers() == []


@docker
def test_a_changed_input_rebuilds_that_image_only(engine: dockerd.Engine, tmp_path: Path) -> None:
    """Inputs are hashed: an edited Dockerfile gives a new tag; an untouched image is reused."""
    import shutil
    import uuid

    from alertdrill.backends.images import Builder

    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "stack" / "docker", root / "stack" / "docker")
    repo = f"alertdrill-test-{uuid.uuid4().hex[:8]}"
    client = engine.client
    try:
        first = {n: Builder(client, root=root, repo=repo).build(n) for n in ("node-exporter", "mtail")}
        assert all(r.built for r in first.values())
        dockerfile = root / "stack" / "docker" / "node-exporter.Dockerfile"
        dockerfile.write_text(dockerfile.read_text() + "# edited\n")
        again = {n: Builder(client, root=root, repo=repo).build(n) for n in ("node-exporter", "mtail")}
        assert again["node-exporter"].built and again["node-exporter"].tag != first["node-exporter"].tag
        assert not again["mtail"].built and again["mtail"].tag == first["mtail"].tag
        tags = {t for image in client.images.list(name=f"{repo}/node-exporter") for t in image.tags}
        assert tags == {f"{repo}/node-exporter:{again['node-exporter'].tag}",
                        f"{repo}/node-exporter:local"}, "the superseded tag is removed"
    finally:
        for image in client.images.list():
            for tag in image.tags:
                if tag.startswith(f"{repo}/"):
                    client.images.remove(tag, force=True)


@docker
def test_a_missing_host_file_names_the_package_to_install(engine: dockerd.Engine,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from alertdrill.backends import images as images_module
    from alertdrill.errors import MissingBinaryError

    broken = images_module.Recipe("node-exporter", ("prometheus-node-exporter",),
                                  binaries=("/usr/bin/no-such-exporter",))
    monkeypatch.setitem(images_module.RECIPES, "node-exporter", broken)
    with pytest.raises(MissingBinaryError, match="no-such-exporter does not exist") as err:
        images_module.Builder(engine.client).build("node-exporter")
    assert "apt-get install -y prometheus-node-exporter" in str(err.value)
