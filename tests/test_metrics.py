"""Results as metrics: ``alertdrill.prom`` (checked by the real promtool and read by the real
node-exporter's textfile collector), the push to a real Pushgateway, and the report's trend
section from a history of runs."""

from __future__ import annotations

import copy
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from alertdrill import report
from alertdrill.cli import main
from alertdrill.engine.health import metric_samples
from alertdrill.errors import AlertdrillError
from alertdrill.report.metrics import METRICS_FILE, push_metrics, write_metrics
from alertdrill.report.records import write_record
from alertdrill.report.trend import Trend, load_runs, sparkline_text
from tests.test_report import _record


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(name, frozenset(labels.items())): value for name, labels, value in metric_samples(text)}


def _key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    base = {"feature": "sample/database.feature",
            "scenario": "db dies, the DBAs and the executives are paged"}
    return name, frozenset({**base, **labels}.items())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{proc.args} exited with {proc.returncode}"
        try:
            if requests.get(url, timeout=0.5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_the_metrics_hold_each_phase_per_alert_and_receiver_claims_and_durations(
        tmp_path: Path) -> None:
    text = write_metrics([_record(), _record(name="web down", outcome="passed")],
                         tmp_path).read_text()
    got = _samples(text)
    # K=60: dba-critical's first notification 1.0 measured s after "stop db" = 60 real-world s.
    assert got[_key("alertdrill_time_to_seconds", phase="notify", alertname="DBDown",
                    receiver="dba-critical")] == 60.0
    assert got[_key("alertdrill_time_to_measured_seconds", phase="notify", alertname="DBDown",
                    receiver="dba-critical")] == 1.0
    assert got[_key("alertdrill_time_to_seconds", phase="detect", alertname="DBDown",
                    receiver="")] == 36.0
    assert got[_key("alertdrill_time_to_seconds", phase="escalate", alertname="DBDown",
                    receiver="executive-escalation")] == 66.0
    assert got[_key("alertdrill_time_to_seconds", phase="resolve", alertname="DBDown",
                    receiver="dba-critical")] == 48.0
    # team-x's claim never held: an SLA and a 0, but no latency (nothing arrived).
    assert got[_key("alertdrill_sla_met", phase="notify", alertname="DBDown",
                    receiver="team-x")] == 0.0
    assert got[_key("alertdrill_sla_seconds", phase="notify", alertname="DBDown",
                    receiver="team-x")] == 60.0
    assert _key("alertdrill_time_to_seconds", phase="notify", alertname="DBDown",
                receiver="team-x") not in got
    assert got[_key("alertdrill_claims", verdict="held")] == 6.0
    assert got[_key("alertdrill_claims", verdict="failed")] == 1.0
    assert got[_key("alertdrill_scenario_passed")] == 0.0
    assert got[_key("alertdrill_scenario_duration_seconds")] == 9.5
    assert got[("alertdrill_scenarios", frozenset({("outcome", "passed")}))] == 1.0
    assert got[("alertdrill_scenarios", frozenset({("outcome", "failed")}))] == 1.0
    assert text.rstrip().endswith("# EOF"), "OpenMetrics text"


def test_the_file_passes_promtool_check_metrics_and_a_broken_one_does_not(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) is not installed")
    path = write_metrics([_record(), _record(name="web down", outcome="passed")], tmp_path)
    ok = subprocess.run([promtool, "check", "metrics"], input=path.read_bytes(),
                        capture_output=True, timeout=30, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = path.read_text().replace("# TYPE alertdrill_claims gauge",
                                      "# TYPE alertdrill_claims gauge\nalertdrill_claims{ 1")
    bad = subprocess.run([promtool, "check", "metrics"], input=broken.encode(),
                         capture_output=True, timeout=30, check=False)
    assert bad.returncode != 0, "the check must be able to fail"


def test_node_exporters_textfile_collector_reads_the_file(tmp_path: Path) -> None:
    binary = shutil.which("prometheus-node-exporter")
    if binary is None:
        pytest.skip("prometheus-node-exporter is not installed")
    write_metrics([_record()], tmp_path)
    port = _free_port()
    proc = subprocess.Popen([binary, "--collector.disable-defaults", "--collector.textfile",
                             f"--collector.textfile.directory={tmp_path}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_http(f"http://127.0.0.1:{port}/metrics", proc)
        got = _samples(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert got[("node_textfile_scrape_error", frozenset())] == 0.0
    assert got[_key("alertdrill_time_to_seconds", phase="notify", alertname="DBDown",
                    receiver="dba-critical")] == 60.0


def test_report_pushgateway_reaches_a_real_pushgateway(tmp_path: Path) -> None:
    binary = shutil.which("prometheus-pushgateway")
    if binary is None:
        pytest.skip("prometheus-pushgateway (Debian package) is not installed: scripts/bootstrap.sh")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([binary, f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_http(url + "/-/ready", proc)
        write_record(_record(), tmp_path / "drill")
        assert main(["report", "--from", str(tmp_path / "drill"), "--pushgateway", url]) == 0
        got = _samples(requests.get(url + "/metrics", timeout=5).text)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    key = _key("alertdrill_time_to_seconds", phase="notify", alertname="DBDown",
               receiver="dba-critical", job="alertdrill", instance="")
    assert got[key] == 60.0
    assert got[_key("alertdrill_claims", verdict="failed", job="alertdrill", instance="")] == 1.0


def test_a_push_nobody_answers_is_one_clear_error() -> None:
    with pytest.raises(AlertdrillError, match=r"pushing the run's metrics to .* failed"):
        push_metrics([_record()], f"http://127.0.0.1:{_free_port()}")


# -- the trend ----------------------------------------------------------------------------------
def _run_of(index: int, k: float, failed: bool) -> dict[str, Any]:
    """A record of run ``index``: the same timeline at time scale ``k`` (so dba-critical's
    notification reads k real-world seconds), its team-x claim failed or not."""
    rec = copy.deepcopy(_record(receiver_x="team-x" if failed else "dba-critical"))
    rec["run_key"] = f"run-{index}"
    rec["run"]["started"] = f"2026-11-0{index}T03:00:00.000+00:00"
    rec["time_scale"] = k
    rec["outcome"] = "failed" if failed else "passed"
    return rec


def test_the_trend_shows_each_runs_time_to_notify_and_which_runs_broke(tmp_path: Path) -> None:
    history = tmp_path / "history"
    for index, (k, failed) in enumerate([(60, False), (120, True), (90, False)], 1):
        write_record(_run_of(index, k, failed), history / f"ci-{index}" / "drill")
    current = _run_of(4, 30, False)
    trend = Trend.of(history, [current])
    assert [r.key for r in trend.runs] == ["run-1", "run-2", "run-3", "run-4"]
    (db,) = [a for a in trend.alerts if a.alertname == "DBDown"]
    assert db.notify == [60.0, 120.0, 90.0, 30.0], "the fastest notification, real-world"
    assert db.broke == [False, True, False, False]
    assert sparkline_text(db) == "▅✗▆▃"
    assert trend.run_rows()[1][3] == "db dies, the DBAs and the executives are paged"
    assert [r.key for r in Trend.of(history, [current], last=2).runs] == ["run-3", "run-4"]
    out = tmp_path / "out"
    write_record(current, tmp_path / "now")
    report.build(tmp_path / "now", out, history, 10)
    page = (out / "drill-report.html").read_text()
    assert "Trend over the last 4 runs" in page and page.count('<svg class="trend"') == len(
        trend.alerts)
    assert "run 2: 2 min — a claim failed" in page
    assert "| DBDown | `▅✗▆▃` | 30.0 s | 30.0 s … 2 min | 2 |" in (out / "drill-report.md").read_text()
    assert (out / METRICS_FILE).is_file()


def test_report_history_from_the_command_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    write_record(_run_of(1, 60, True), tmp_path / "history" / "a")
    write_record(_run_of(2, 60, False), tmp_path / "now")
    assert main(["report", "--from", str(tmp_path / "now"), "--out", str(tmp_path / "out"),
                 "--history", str(tmp_path / "history")]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith(METRICS_FILE)
    assert "Trend over the last 2 runs" in (tmp_path / "out" / "drill-report.md").read_text()
    assert main(["report", "--from", str(tmp_path / "now"), "--history",
                 str(tmp_path / "nowhere")]) == 4
    assert "no such directory" in capsys.readouterr().err
    assert len(load_runs(tmp_path / "history")) == 1
