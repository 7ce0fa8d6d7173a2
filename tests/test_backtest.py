"""Backtesting's parts without a stack: selectors, the recording format and its resumption,
the record client (auth, retries, chunks), input_series, the alert state machine, episodes,
the replay scale and the comparison."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from alertdrill.backtest.alertstate import AlertInterval, AlertRule, alert_labels, intervals_of
from alertdrill.backtest.commands import parse_time
from alertdrill.backtest.compare import compare, flapping, pages_per_day
from alertdrill.backtest.episodes import Routing, episodes
from alertdrill.backtest.inputseries import expand_values, import_input_series, series_labels
from alertdrill.backtest.promapi import HttpOptions
from alertdrill.backtest.record import RecordPlan, record
from alertdrill.backtest.recording import (
    Header,
    RecordingWriter,
    journal_path,
    read_header,
    sample_lines,
)
from alertdrill.backtest.replay import Notification, choose_scale
from alertdrill.backtest.selectors import history_needed, rule_selectors, selectors_of
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError
from alertdrill.yamlio import load_yaml
from tests.helpers import ROOT

GRID = [float(i * 15) for i in range(40)]


# -- selectors -------------------------------------------------------------------------------
def test_selectors_keep_matchers_and_drop_offsets() -> None:
    expr = ('sum by (job) (rate(http_total{job="api",code=~"5.."}[5m] offset 1h)) '
            '/ on(job) up{job!="x"} and absent(foo)')
    assert selectors_of(expr) == ['http_total{job="api",code=~"5.."}', 'up{job!="x"}', "foo{}"]


def test_reference_stack_selectors_and_history() -> None:
    spec = StackSpec.load(ROOT / "stack" / "reference")
    found = rule_selectors(spec.rule_files)
    assert 'up{job="api-service"}' in found and len(found) == len(set(found))
    assert 'nginx_http_requests_total{job="web-app",status=~"5.."}' in found
    assert history_needed(spec.rule_files) == 600.0  # [5m] windows + the 5m lookback


def test_an_unparsable_rule_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="cannot parse the rule expression"):
        selectors_of("rate(x[5m]")


# -- the recording file ------------------------------------------------------------------------
def _header(**kw: Any) -> Header:
    return Header(**{"start": 0.0, "begin": 60.0, "end": 120.0, "step": 15.0, "source": "t",
                     **kw})


def test_a_recording_is_gzip_openmetrics_with_a_json_header_and_eof(tmp_path: Path) -> None:
    out = tmp_path / "r.om.gz"
    writer = RecordingWriter(out, _header())
    assert writer.open() == 0
    writer.add_chunk(['up{job="a"} 1 0', 'up{job="a"} 0 15'])
    writer.finish()
    text = gzip.decompress(out.read_bytes()).decode().splitlines()
    assert text[0].startswith("# HELP alertdrill_recording {")
    assert json.loads(text[0].split(" ", 3)[3])["format"] == "alertdrill-recording/1"
    assert text[1:] == ['up{job="a"} 1 0', 'up{job="a"} 0 15', "# EOF"]
    assert read_header(out) == _header()
    assert list(sample_lines(out)) == text[1:3]
    assert not journal_path(out).exists()


def test_a_truncated_or_partial_recording_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "r.om.gz"
    writer = RecordingWriter(out, _header())
    writer.open()
    writer.add_chunk(['up 1 0'])
    with pytest.raises(ConfigError, match="partial recording"):
        read_header(out)
    journal_path(out).unlink()  # as if only the data had been copied elsewhere
    with pytest.raises(ConfigError, match="ends without # EOF"):
        list(sample_lines(out))


def test_resuming_with_other_options_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "r.om.gz"
    RecordingWriter(out, _header()).open()
    with pytest.raises(ConfigError, match="partial recording of something else"):
        RecordingWriter(out, _header(step=30.0)).open()


# -- record against a fake Prometheus ----------------------------------------------------------
class FakePrometheus(ThreadingHTTPServer):
    """Answers query_range with one series per selector; ``fail(query, start)`` may say 503,
    400 or nothing (None) for a request."""

    def __init__(self, fail: Callable[[str, float], int | None] = lambda q, s: None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fail = fail
        self.asked: list[tuple[str, float, float, str | None]] = []
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakePrometheus

    def do_GET(self) -> None:
        q = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        start, end, step = float(q["start"]), float(q["end"]), float(q["step"])
        self.server.asked.append((q["query"], start, end, self.headers.get("Authorization")))
        code = self.server.fail(q["query"], start)
        if code:
            body: dict[str, Any] = {"status": "error", "errorType": "bad_data", "error": "no"}
        else:
            code = 200
            n = round((end - start) / step) + 1
            name = q["query"].split("{")[0]
            both = [{"metric": {"__name__": name, "job": "a"},
                     "values": [[start + i * step, str(i % 3)] for i in range(n)]}]
            if name == "up":  # `up` also matches the series the other selector selects
                both.append({"metric": {"__name__": "up", "job": "b"},
                             "values": [[start, "1"]]})
            body = {"status": "success", "data": {"resultType": "matrix", "result": both}}
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


def _plan(url: str, chunk: float = 600.0) -> RecordPlan:
    return RecordPlan(url, ('up{job="a"}', "up{}"), 0.0, 300.0, 1800.0, 60.0, chunk)


def test_chunks_tile_the_range_on_the_step() -> None:
    chunks = _plan("http://x").chunks()
    assert chunks == [(0.0, 540.0), (600.0, 1140.0), (1200.0, 1740.0), (1800.0, 1800.0)]


def test_record_dedups_series_sends_the_token_and_retries_a_503(tmp_path: Path) -> None:
    calls = {"n": 0}

    def fail(query: str, start: float) -> int | None:
        calls["n"] += 1
        return 503 if calls["n"] == 2 else None

    server = FakePrometheus(fail)
    try:
        out = tmp_path / "r.om.gz"
        counts = record(_plan(server.url), out, HttpOptions(bearer_token="s3cret", backoff=0.01),
                        progress=None)
    finally:
        server.shutdown()
    assert counts["requests"] == 4 * 2 + 1, "one retry of the 503"
    assert all(auth == "Bearer s3cret" for *_, auth in server.asked)
    lines = list(sample_lines(out))
    a_samples = [ln for ln in lines if ln.startswith('up{job="a"}')]
    assert len(a_samples) == 31, "every step 0…1800 once, though both selectors match it"
    assert sum(ln.startswith('up{job="b"}') for ln in lines) == 4


def test_a_rerun_resumes_after_the_last_complete_chunk(tmp_path: Path) -> None:
    out = tmp_path / "r.om.gz"
    broken = {"on": True}
    server = FakePrometheus(lambda q, s: 400 if broken["on"] and s >= 1200 else None)
    try:
        with pytest.raises(ConfigError, match="refused"):
            record(_plan(server.url), out, progress=None)
        assert json.loads(journal_path(out).read_text())["chunks"] == 2
        broken["on"] = False
        server.asked.clear()
        counts = record(_plan(server.url), out, progress=None)
        assert counts["resumed"] == 2
        assert {start for _, start, _, _ in server.asked} == {1200.0, 1800.0}
        whole = tmp_path / "whole.om.gz"
        record(_plan(server.url), whole, progress=None)
    finally:
        server.shutdown()
    assert list(sample_lines(out)) == list(sample_lines(whole))


def test_every_stretched_sample_lands_exactly_on_the_evaluation_grid(tmp_path: Path) -> None:
    from alertdrill.backtest.record import plan_for_stack
    from alertdrill.backtest.recording import format_timestamp

    begin = 1796187471.5446124  # a drill's t=0, with sub-millisecond digits
    plan = plan_for_stack("http://x", ROOT / "stack" / "sample", begin, begin + 5, 0.25,
                          time_scale=60)
    header = plan.header()
    assert header.begin == round(begin, 3)
    grid = {format_timestamp(header.begin + i * 15) for i in range(-40, 40)}
    for first, last in plan.chunks():
        t = first
        while t <= last + 1e-9:
            assert format_timestamp(plan.stretch(float(f"{t:.3f}"))) in grid
            t += plan.step


def test_time_scale_stretches_a_drill_back_to_real_world_time() -> None:
    plan = RecordPlan("http://x", ("up{}",), 95.0, 100.0, 110.0, 0.25, time_scale=60)
    header = plan.header()
    assert (header.begin, header.end, header.start, header.step) == (100.0, 700.0, -200.0, 15.0)


# -- input_series ------------------------------------------------------------------------------
def test_expanding_notation_is_promtools() -> None:
    assert expand_values("-2+4x3") == [-2, 2, 6, 10]
    assert expand_values("1-2x4") == [1, -1, -3, -5, -7]
    assert expand_values("1x4") == [1, 1, 1, 1, 1]
    assert expand_values("1 _x3 stale") == [1, None, None, None, None]
    with pytest.raises(ConfigError, match="notation"):
        expand_values("1 2 three")


def test_input_series_become_a_recording(tmp_path: Path) -> None:
    test_file = tmp_path / "t.test.yml"
    test_file.write_text("tests:\n  - interval: 1m\n    input_series:\n"
                         "      - series: 'up{job=\"a\",instance=\"x:1\"}'\n        values: '1 0 _ 1'\n")
    header = import_input_series(test_file, tmp_path / "r.om.gz", start=600)
    assert (header.begin, header.end, header.step) == (600, 780, 60)
    assert list(sample_lines(tmp_path / "r.om.gz")) == [
        'up{instance="x:1",job="a"} 1 600', 'up{instance="x:1",job="a"} 0 660',
        'up{instance="x:1",job="a"} 1 780']
    assert series_labels('foo{a="b"}') == {"__name__": "foo", "a": "b"}
    with pytest.raises(ConfigError, match="only ="):
        series_labels('foo{a=~"b"}')


# -- the alert state machine -------------------------------------------------------------------
def test_for_holds_pending_until_it_has_passed() -> None:
    assert intervals_of([2, 3, 4, 5], GRID, 30, 0) == [(30, 60, 90)]
    assert intervals_of([2, 3], GRID, 30, 0) == [], "pending only: never fired"
    assert intervals_of([2, 3, 5, 6, 7], GRID, 30, 0) == [(75, 105, 120)], "a gap resets for"


def test_keep_firing_for_bridges_gaps_shorter_than_it() -> None:
    assert intervals_of([2, 3, 4], GRID, 0, 0) == [(30, 30, 75)]
    assert intervals_of([2, 3, 4, 6, 7], GRID, 0, 30) == [(30, 30, 150)]
    assert intervals_of([2, 3, 4, 8], GRID, 0, 30) == [(30, 30, 105), (120, 120, 165)]
    assert intervals_of([37, 38, 39], GRID, 0, 0) == [(555, 555, None)], "firing at the end"


def test_alert_labels_add_rule_labels_alertname_and_external_labels() -> None:
    rule = AlertRule("Down", "up == 0", 15, labels={"severity": "page", "on": "{{ $labels.job }}"})
    labels = alert_labels(rule, {"__name__": "up", "job": "a", "cluster": "mine"}, 0,
                          {"cluster": "prod", "region": "eu"})
    assert labels == {"alertname": "Down", "job": "a", "severity": "page", "on": "a",
                      "cluster": "mine", "region": "eu"}


# -- episodes and the replay scale -------------------------------------------------------------
def _alert(fired: float, resolved: float | None, **labels: str) -> AlertInterval:
    labels = {"alertname": "TargetDown", "severity": "critical", "instance": "web:8080",
              "team": "web", **labels}
    return AlertInterval("TargetDown", tuple(sorted(labels.items())), fired - 30, fired, resolved)


def test_a_quiet_gap_is_cut_only_past_every_recurring_groups_repeat_interval() -> None:
    routing = Routing(ROOT / "stack" / "sample" / "alertmanager.yml")  # repeat 4h, interval 1m
    apart = episodes([_alert(0, 600), _alert(600 + 5 * 3600, 7 * 3600)], routing, 10**6, 60)
    assert len(apart) == 2, "5 h later > 4 h + 1 m: a fresh Alertmanager answers the same"
    close = episodes([_alert(0, 600), _alert(600 + 2 * 3600, 3 * 3600)], routing, 10**6, 60)
    assert len(close) == 1, "2 h later: the notification log still matters"
    other = episodes([_alert(0, 600), _alert(3600, 4000, instance="db:9187", team="db")],
                     routing, 10**6, 60)
    assert len(other) == 2, "another group: nothing carries over"


def test_the_replay_scale_clamps_nothing() -> None:
    sample = load_yaml(ROOT / "stack" / "sample" / "alertmanager.yml", "am")
    assert choose_scale(sample, peers=1) == 150, "group_wait 15 s / 0.1 s"
    assert choose_scale(sample, peers=3) == 50, "the peer timeout stays 15 s real (0.3 s × 50)"
    reference = load_yaml(ROOT / "stack" / "reference" / "alertmanager" / "alertmanager.yml", "am")
    assert choose_scale(reference, peers=1) == 300, "group_wait 30 s / 0.1 s"
    assert choose_scale(reference, peers=3) == 50


# -- comparison ------------------------------------------------------------------------------------
def _note(t: float, receiver: str = "team-web", status: str = "firing") -> Notification:
    return Notification(t, receiver, "slack", status, ("TargetDown",), (), 0)


def test_compare_finds_added_removed_and_delayed() -> None:
    old = [_note(100), _note(5000), _note(9000, "team-db")]
    new = [_note(130), _note(5300), _note(9000, "oncall-pager")]
    d = compare(old, new, tolerance=60, match_window=3600)
    assert [n.receiver for n in d.removed] == ["team-db"]
    assert [n.receiver for n in d.added] == ["oncall-pager"]
    assert [(o.t, n.t) for o, n in d.delayed] == [(5000, 5300)], "30 s is within the tolerance"
    assert compare(old, old, 60, 3600).empty()


def test_pages_per_day_count_firing_notifications_once_per_receiver() -> None:
    def email(t: float) -> Notification:
        return Notification(t, "team-web", "email", "firing", ("TargetDown",), (), 0)

    notes = [_note(0), email(1), _note(60, status="resolved"), _note(86400), email(86401),
             _note(90000)]  # the last one's e-mail was not delivered: counted on Slack
    assert pages_per_day(notes) == {"team-web": {"1970-01-01": 1, "1970-01-02": 2}}


def test_flapping_uses_the_window() -> None:
    assert flapping([_alert(0, 300), _alert(1000, 5000)], 600) == [_alert(0, 300)]


def test_times_are_unix_rfc3339_or_relative() -> None:
    assert parse_time("now-7d", now=10**6) == 10**6 - 7 * 86400
    assert parse_time("2026-11-25T00:00:00Z") == 1795564800
    assert parse_time("12.5") == 12.5
    with pytest.raises(ConfigError, match="not a time"):
        parse_time("yesterday")


# -- rendering ---------------------------------------------------------------------------------
def _result(old_notes: list[Notification], new_notes: list[Notification]) -> Any:
    from alertdrill.backtest.backtest import BacktestResult, SideResult
    from alertdrill.backtest.replay import ReplayResult

    header = Header(0.0, 0.0, 2 * 86400.0, 60.0, "test")
    sides = [SideResult(label, Path(label), [], ReplayResult(notes, 50, 1, 1.0, []), [])
             for label, notes in (("new", new_notes), ("old", old_notes))]
    return BacktestResult(Path("r.om.gz"), header, sides, compare(old_notes, new_notes, 60, 3600),
                          60, 600)


def test_every_format_shows_the_pages_and_what_the_change_lost() -> None:
    from alertdrill.backtest import render

    result = _result([_note(100), _note(90000, "team-db")], [_note(100)])
    text = render.text(result)
    assert "removed by the change (sent by old, not by new): 1" in text
    assert "team-db (slack)  firing  TargetDown" in text
    assert "team-db   0          1          0/0         0/1" in text
    markdown = render.markdown(result)
    assert "| team-db | 0 | 1 | 0/0 | 0/1 |" in markdown
    page = render.html_page(result)
    assert page.count("<polyline") == 2, "one line per config"
    assert "Removed by the change" in page and "team-db" in page
    data = json.loads(render.to_json(result))
    assert [n["receiver"] for n in data["differences"]["removed"]] == ["team-db"]


# -- the command line ------------------------------------------------------------------------------
def test_bad_input_is_one_message_and_status_4_before_anything_starts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from alertdrill.cli import main

    assert main(["record", "--out", str(tmp_path / "r.om.gz")]) == 4
    assert "record needs --prometheus, --stack and --from" in capsys.readouterr().err
    assert main(["backtest", "--recording", str(tmp_path / "none.om.gz"),
                 "--stack", str(ROOT / "stack" / "sample")]) == 4
    assert "no recording at" in capsys.readouterr().err
    (tmp_path / "bad.om.gz").write_bytes(gzip.compress(b"up 1 0\n# EOF\n"))
    assert main(["backtest", "--recording", str(tmp_path / "bad.om.gz"),
                 "--stack", str(ROOT / "stack" / "sample")]) == 4
    assert "does not start with an alertdrill_recording header" in capsys.readouterr().err


def test_record_from_input_series_on_the_command_line(tmp_path: Path) -> None:
    from alertdrill.cli import main

    test_file = ROOT / "stack" / "reference" / "prometheus" / "tests" / "api-service.test.yml"
    out = tmp_path / "api.om.gz"
    assert main(["record", "--input-series", str(test_file), "--start", "now-1h",
                 "--out", str(out)]) == 0
    header = read_header(out)
    assert header.step > 0 and header.end > header.begin
    assert any(line.startswith("up{") for line in sample_lines(out))


def test_the_drill_report_embeds_the_backtest_written_beside_it(tmp_path: Path) -> None:
    """`backtest --report-dir DIR`, then `alertdrill report --out DIR`: one drill report with
    the backtest's chart and tables (as `mutate` does with its section)."""
    from alertdrill import report as drill_report
    from alertdrill.backtest import render
    from tests.test_report import _record

    records = tmp_path / "drill"
    records.mkdir()
    (records / "one.json").write_text(json.dumps(_record()))
    html_path, md_path = drill_report.build(records, tmp_path)
    assert "<h2>Backtest</h2>" not in html_path.read_text()
    result = _result([_note(100), _note(90000, "team-db")], [_note(100)])
    assert render.write_report_section(result, tmp_path) == tmp_path / "backtest"
    html_path, md_path = drill_report.build(records, tmp_path)
    page = html_path.read_text()
    assert page.count("<h2>Backtest</h2>") == 1
    assert page.index("<h2>Backtest</h2>") < page.index("</main>")
    assert page.count("<polyline") >= 2, "the chart of pages over time, one line per config"
    text = md_path.read_text()
    assert "### Backtest" in text and "| team-db | 0 | 1 | 0/0 | 0/1 |" in text
