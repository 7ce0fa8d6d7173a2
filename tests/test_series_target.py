"""The series stand-in process: its exposition (parsed back with prometheus_client's parser)
and its control endpoint, on a real socket."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from alertdrill.analysis.seriesplan import stand_ins
from alertdrill.backends.ports import bind_listener, port_of
from alertdrill.engine.stackspec import StackSpec

STACK = Path(__file__).resolve().parent / "data" / "series"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[str]:
    plan = stand_ins(StackSpec.load(STACK))["api"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan.to_json()))
    sock = bind_listener(0)
    url = f"http://127.0.0.1:{port_of(sock)}"
    proc = subprocess.Popen([sys.executable, "-m", "alertdrill.targets.series", "--plan",
                             str(path), "--fd", str(sock.fileno())], pass_fds=[sock.fileno()])
    sock.close()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/metrics", timeout=0.5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def _scrape(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = requests.get(url + "/metrics", timeout=2)
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            samples.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return samples


def _control(url: str, body: dict[str, object]) -> requests.Response:
    return requests.post(url + "/-/control", json=body, timeout=2)


def test_exposition_types_and_baseline(api: str) -> None:
    text = requests.get(api + "/metrics", timeout=2).text
    assert "# TYPE http_requests_total counter" in text
    assert "# TYPE http_request_duration_seconds histogram" in text
    assert "# TYPE api_build_info gauge" in text
    time.sleep(0.3)
    samples = _scrape(api)
    assert samples["api_build_info"][()] == 1.0
    assert samples["http_requests_total"][(("code", "500"),)] == 0.0
    assert samples["http_requests_total"][(("code", "200"),)] > 0  # 10/s since start
    buckets = samples["http_request_duration_seconds_bucket"]
    # fast observations: all in the buckets at or above the baseline latency
    assert buckets[(("le", "0.25"),)] == 0.0
    assert buckets[(("le", "0.5"),)] == buckets[(("le", "+Inf"),)] > 0


def test_a_counter_rises_at_the_rate_asked_per_measured_second(api: str) -> None:
    assert _control(api, {"family": "http_requests_total", "labels": {"code": "500"},
                          "set": {"rate": 12}}).status_code == 200
    first = _scrape(api)["http_requests_total"][(("code", "500"),)]
    time.sleep(1.0)
    second = _scrape(api)["http_requests_total"][(("code", "500"),)]
    assert 10 <= second - first <= 14


def test_latency_gauge_absent_and_baseline(api: str) -> None:
    _control(api, {"family": "http_request_duration_seconds", "set": {"latency": 2.5}})
    before = _scrape(api)["http_request_duration_seconds_bucket"]
    time.sleep(0.5)
    after = _scrape(api)["http_request_duration_seconds_bucket"]
    grew = {le for (le_label,), v in after.items() for le in [le_label[1]]
            if v > before[(le_label,)]}
    assert grew == {"2.5", "5.0", "7.5", "10.0", "+Inf"}
    _control(api, {"family": "api_build_info", "set": {"value": 0.5}})
    assert _scrape(api)["api_build_info"][()] == 0.5
    _control(api, {"family": "api_build_info", "absent": True})
    assert "api_build_info" not in _scrape(api)
    _control(api, {"baseline": True})
    assert _scrape(api)["api_build_info"][()] == 1.0


@pytest.mark.parametrize(("body", "error"), [
    ({"family": "http_requests_totl", "set": {"rate": 1}}, 'did you mean "http_requests_total"'),
    ({"family": "http_requests_total", "set": {"value": 1}}, "is a counter"),
    ({"family": "http_requests_total", "labels": {"code": "404"}, "set": {"rate": 1}},
     "no series with"),
    ({"family": "http_requests_total", "set": {"rate": -1}}, "cannot be negative")])
def test_bad_control_requests_are_refused(api: str, body: dict[str, object], error: str) -> None:
    response = _control(api, body)
    assert response.status_code == 400 and error in response.json()["error"]
