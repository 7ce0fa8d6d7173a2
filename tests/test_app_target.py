"""The web/api app really behaves as its faults say, and its metrics follow."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from alertdrill.backends.ports import bind_listener, port_of


@pytest.fixture(params=["web", "api"])
def app(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[str, str]]:
    sock = bind_listener(0)
    url = f"http://127.0.0.1:{port_of(sock)}"
    proc = subprocess.Popen([sys.executable, "-m", "alertdrill.targets.app", "--fd",
                             str(sock.fileno()), "--flavor", request.param, "--rate", "40",
                             "--log-file", str(tmp_path / "access.log")],
                            pass_fds=[sock.fileno()], start_new_session=True)
    sock.close()
    try:
        yield request.param, url
    finally:
        proc.terminate()
        proc.wait(5)


def _metric(url: str, name: str) -> float:
    total = 0.0
    for line in requests.get(url + "/metrics", timeout=5).text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            head, value = line.rsplit(" ", 1)
            if head == name or head.startswith(name + "{"):
                total += float(value)
    return total


def _wait(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_errors_are_real_failed_requests(app: tuple[str, str]) -> None:
    flavor, url = app
    assert requests.get(url + "/", timeout=5).status_code == 200
    requests.post(url + "/-/control", json={"error_rate": 1.0}, timeout=5).raise_for_status()
    assert requests.get(url + "/", timeout=5).status_code == 500
    if flavor == "web":
        assert _wait(lambda: _metric(url, 'nginx_http_requests_total{status="500"}') > 0)
    else:
        assert _wait(lambda: _metric(url, "flask_http_request_exceptions_total") > 0)
    requests.post(url + "/-/control", json={"error_rate": 0}, timeout=5).raise_for_status()
    assert requests.get(url + "/", timeout=5).status_code == 200


def test_latency_is_really_spent(app: tuple[str, str]) -> None:
    _, url = app
    requests.post(url + "/-/control", json={"latency": 0.3}, timeout=5).raise_for_status()
    started = time.monotonic()
    requests.get(url + "/", timeout=5)
    # Tolerance: at least the configured 0.3 s; the upper bound is loose (2 cores, load).
    assert 0.3 <= time.monotonic() - started < 3.0


def test_pool_leak_shows_in_the_gauge_and_heals() -> None:
    sock = bind_listener(0)
    url = f"http://127.0.0.1:{port_of(sock)}"
    proc = subprocess.Popen([sys.executable, "-m", "alertdrill.targets.app", "--fd",
                             str(sock.fileno()), "--flavor", "api", "--rate", "5"],
                            pass_fds=[sock.fileno()], start_new_session=True)
    sock.close()
    try:
        assert _wait(lambda: requests.get(url + "/-/healthy", timeout=1).ok)
        requests.post(url + "/-/control", json={"pool_active": 19}, timeout=5).raise_for_status()
        assert _wait(lambda: _metric(url, "flask_db_connection_pool_active") >= 19)
        assert _metric(url, "flask_db_connection_pool_size") == 20
        requests.post(url + "/-/control", json={"pool_active": 0}, timeout=5).raise_for_status()
        assert _wait(lambda: _metric(url, "flask_db_connection_pool_active") <= 2)
    finally:
        proc.terminate()
        proc.wait(5)


def test_unknown_settings_are_refused(app: tuple[str, str]) -> None:
    _, url = app
    response = requests.post(url + "/-/control", json={"latncy": 1}, timeout=5)
    assert response.status_code == 400 and "latncy" in response.json()["error"]
