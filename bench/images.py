"""Benchmark of the Docker backend's local images: numbers, printed — not a test.

    .venv/bin/python bench/images.py [--from-scratch] [--cold-pip] [--trials N]

1. ``make images`` time: with ``--from-scratch`` every ``alertdrill/*`` image and the digest
   cache are removed first (so the base is imported and every image built again; ``--cold-pip``
   also bypasses pip's cache, as on a fresh machine); then a second, up-to-date run.
2. Image sizes: the whole image, and what it adds to the shared base.
3. Container start to ready, N trials per image: from the ``containers.run`` call to the first
   successful answer (HTTP through the 127.0.0.1-published port, ``pg_isready`` for PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alertdrill.backends.containers import ContainerRun, published_port, wait_http  # noqa: E402
from alertdrill.backends.dockerd import ensure_engine  # noqa: E402
from alertdrill.backends.images import build_images, repository  # noqa: E402

#: name -> (container port, path, text the answer must contain, extra run arguments)
HTTP = {
    "prometheus": (9090, "/-/ready", "Ready", {}),
    "alertmanager": (9093, "/-/ready", "OK", {}),
    "node-exporter": (9100, "/metrics", "node_exporter_build_info", {}),
    "blackbox-exporter": (9115, "/metrics", "blackbox_exporter_build_info", {}),
    "postgres-exporter": (9187, "/metrics", "pg_up", {"environment": {
        "DATA_SOURCE_NAME": "postgresql://postgres@postgres:5432/postgres?sslmode=disable"}}),
    "mtail": (3903, "/metrics", "mtail_default_lines_total", {}),
    "python": (8080, "/_health", "", {"command": [
        "python", "-m", "alertdrill.sink", "--http", "0.0.0.0:8080", "--smtp", "0.0.0.0:2525"]}),
}


def _from_scratch(client) -> None:
    repo = repository()
    for image in client.images.list():
        for tag in image.tags:
            if tag.startswith(f"{repo}/"):
                client.images.remove(tag, force=True)
    shutil.rmtree(ROOT / "build" / "images", ignore_errors=True)


def _ready_postgres(container, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while container.exec_run(["pg_isready", "-q", "-U", "postgres"]).exit_code != 0:
        if time.monotonic() > deadline:
            raise RuntimeError("postgres not ready")
        time.sleep(0.02)


def bench_start(client, refs: dict[str, str], trials: int) -> None:
    print(f"\ncontainer start -> ready ({trials} trials each; from containers.run to first answer)")
    for name in [*HTTP, "postgres"]:
        times = []
        for _ in range(trials):
            with ContainerRun(client) as run:
                if name == "postgres-exporter":  # needs a database to report on
                    _ready_postgres(run.run(refs["postgres"], "postgres"))
                t0 = time.monotonic()
                if name == "postgres":
                    _ready_postgres(run.run(refs[name], name))
                else:
                    port, path, text, extra = HTTP[name]
                    container = run.run(refs[name], name, ports=[port], **extra)
                    host_port = published_port(container, port)
                    wait_http(container, f"http://127.0.0.1:{host_port}{path}",
                              lambda r, text=text: r.status_code == 200 and text in r.text)
                times.append(time.monotonic() - t0)
        print(f"  {name:18} median {statistics.median(times):6.3f} s   min {min(times):6.3f}   "
              f"max {max(times):6.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from-scratch", action="store_true",
                        help="remove every alertdrill/* image and the digest cache first")
    parser.add_argument("--cold-pip", action="store_true", help="no pip cache for the wheelhouse")
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    t0 = time.monotonic()
    engine = ensure_engine()
    print(f"engine {engine.version}: answering after {time.monotonic() - t0:.2f} s"
          + (f" (started dockerd, pid {engine.started_pid})" if engine.started_pid else ""))
    client = engine.client
    if args.from_scratch:
        _from_scratch(client)
    if args.cold_pip:
        os.environ["PIP_NO_CACHE_DIR"] = "1"
    t0 = time.monotonic()
    first = build_images(client=client)
    first_s = time.monotonic() - t0
    os.environ.pop("PIP_NO_CACHE_DIR", None)
    t0 = time.monotonic()
    second = build_images(client=client)
    second_s = time.monotonic() - t0
    built = sum(r.built for r in first)
    print(f"make images: {first_s:.1f} s ({built} built"
          f"{', from scratch' if args.from_scratch else ''}"
          f"{', cold pip cache' if args.cold_pip else ''}); second run {second_s:.2f} s "
          f"({sum(r.built for r in second)} built)")
    base = client.images.get(f"{repository()}/base:local").attrs["Size"]
    print(f"\nimage sizes (base {base / 1e6:.1f} MB, shared by all)")
    for r in second:
        print(f"  {r.name:18} {r.size / 1e6:7.1f} MB   adds {(r.size - base) / 1e6:7.1f} MB")
    bench_start(client, {r.name: r.ref for r in second}, args.trials)
    return 0


if __name__ == "__main__":
    sys.exit(main())
