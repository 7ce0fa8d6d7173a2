"""The drill report: records, the chart, the SLA table, escaping, redaction, the CLI, a browser.

The unit tests build records the way a run does — a real Timeline, real Expect claims (against a
clock the test sets), ``build_record`` — from hand-made events, so every number below is known.
The browser test renders the report of a REAL run (three scenarios of the sample stack in a
child pytest) in headless Chromium and looks at the DOM and the pixels.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from alertdrill import report
from alertdrill.engine import timeline as tl
from alertdrill.engine.expect import Expect
from alertdrill.engine.matches import NotificationMatch
from alertdrill.engine.timeline import Timeline
from alertdrill.engine.timescale import TimeScale
from alertdrill.errors import ExpectationFailed
from alertdrill.report import records
from alertdrill.report.records import ScenarioInfo, StepInfo, build_record, write_record
from alertdrill.report.redact import REDACTED, Redactor, secrets_in
from alertdrill.settings import Settings
from tests.helpers import ROOT, run_pytest

K = 60.0
SLACK_URL = "https://hooks.slack.com/services/T0SECRET/B0SECRET/abcDEFsecretTOKEN123"
ROUTING_KEY = "3f9c2b7e1d4a4c8e9b0f1a2b3c4d5e6f"
SMTP_PASSWORD = "Tr0ub4dor&3-smtp-secret"
BEARER = "eyJhbGciOiJIUzI1NiJ9.secret-bearer-value"


class _Observer:
    def poll(self) -> None:
        pass


def _notify(timeline: Timeline, t: float, receiver: str, integration: str = "probe",
            status: str | None = "firing", alerts: list[dict[str, str]] | None = None,
            code: int = 200, note: str = "") -> None:
    alerts = alerts if alerts is not None else (
        [{"alertname": "DBDown", "instance": "db:5432"}] if integration == "probe" else [])
    timeline.add(tl.NOTIFICATION, receiver, t=t, integration=integration, index=0, peer=0,
                 status=status, alertnames=sorted({a["alertname"] for a in alerts}),
                 alerts=alerts, response_code=code, fault=None if code < 300 else "http 500",
                 note=note or f"{integration}[0] from alertmanager-0 {status} → {code}")


def _scenario(name: str = "db dies, the DBAs and the executives are paged",
              outcome: str = "failed", message: str | None = None) -> ScenarioInfo:
    return ScenarioInfo(
        nodeid=f"features/test_x.py::test_{abs(hash(name))}", feature_name="Database outages",
        feature_file="sample/database.feature", scenario_name=name, line=7, tags=["nightly"],
        outcome=outcome, message=message,
        failed_step='Then "team-x" is notified of "DBDown" within 1 minute (line 12)'
        if outcome == "failed" else None,
        steps=[StepInfo("Given", 'the stack "sample" is running', 5, "passed"),
               StepInfo("When", 'the service "db" is stopped', 8, "passed"),
               StepInfo("Then", '"team-x" is notified of "DBDown" within 1 minute', 12,
                        "failed" if outcome == "failed" else "passed")],
        duration=9.5)


def _stack_dir(tmp_path: Path) -> SimpleNamespace:
    """A stack spec whose alertmanager.yml holds real-looking secrets."""
    am = tmp_path / "alertmanager.yml"
    am.write_text(
        "global:\n"
        f"  smtp_auth_password: '{SMTP_PASSWORD}'\n"
        f"  slack_api_url: '{SLACK_URL}'\n"
        "route: {receiver: dba-critical}\n"
        "receivers:\n"
        "  - name: dba-critical\n"
        f"    pagerduty_configs: [{{routing_key: '{ROUTING_KEY}'}}]\n"
        "    webhook_configs:\n"
        "      - url: https://hooks.example.com/alerts?token=hook-token-123456\n"
        "        http_config:\n"
        f"          authorization: {{credentials: '{BEARER}'}}\n")
    prom = tmp_path / "prometheus.yml"
    prom.write_text("global: {scrape_interval: 15s}\n")
    return SimpleNamespace(name="sample", alertmanager_config=am, prometheus_config=prom)


def _drill(tmp_path: Path | None = None, receiver_x: str = "team-x") -> tuple[Any, str]:
    """A drill's worth of timeline: a DB outage, an inhibition, an escalation, a failed claim."""
    clock = [0.0]
    timeline = Timeline(clock=lambda: clock[0])
    expect = Expect(timeline, _Observer(), TimeScale(K), 0.5)  # type: ignore[arg-type]
    timeline.add(tl.STACK_READY, "stack", t=0.0, note="ready")
    timeline.add(tl.FAULT_APPLIED, "stop db", t=0.5, anchor=True, note="fault applied")
    db = {"alertname": "DBDown", "instance": "db:5432", "severity": "critical"}
    timeline.add(tl.PROM_PENDING, "DBDown", db, t=0.6)
    timeline.add(tl.PROM_FIRING, "DBDown", db, t=1.1)
    timeline.add(tl.AM_ACTIVE, "DBDown", db, t=1.3, peer=0, fingerprint="fp-db")
    pool = {"alertname": "PoolExhausted", "instance": "api:5000"}
    timeline.add(tl.AM_SUPPRESSED, "PoolExhausted", pool, t=1.4, peer=0, fingerprint="fp-pool",
                 inhibited_by=["fp-db"], silenced_by=[],
                 note=f"peer 0, inhibited by 1; Authorization: Bearer {BEARER}")
    _notify(timeline, 1.5, "dba-critical")
    _notify(timeline, 1.52, "dba-critical", "pagerduty", None, code=202,
            note=f"pagerduty[0] DBDown routing_key={ROUTING_KEY} → 202")
    _notify(timeline, 1.6, "executive-escalation",
            alerts=[{**db, "escalation": "immediate"}])
    _notify(timeline, 1.61, "team-web", "slack", None, code=500,
            note=f"slack[0] posted to {SLACK_URL} → 500")
    _notify(timeline, 2.3, "dba-team")  # after a 1-minute window (ends at 0.5 + 1.0 + 0.5)
    timeline.add(tl.STACK_WARNING, "stack", t=0.01,
                 note=f"smtp login with password {SMTP_PASSWORD} dropped")
    clock[0] = 2.9
    expect.alert_state("DBDown", tl.PROM_FIRING, 120, {"instance": "db:5432"})
    expect.notified(NotificationMatch("dba-critical", "DBDown"), 180)
    expect.notified(NotificationMatch("executive-escalation", "DBDown"), 180)
    expect.suppressed("PoolExhausted", "inhibited", 180)
    expect.never_notified(NotificationMatch("team-db", "DBDown", None), 120)
    message = ""
    try:
        expect.notified(NotificationMatch(receiver_x, "DBDown"), 60)
    except ExpectationFailed as exc:
        message = str(exc)
    timeline.add(tl.FAULT_REVERTED, "stop db", t=3.0, anchor=True, note="fault reverted")
    timeline.add(tl.PROM_INACTIVE, "DBDown", db, t=3.4)
    _notify(timeline, 3.8, "dba-critical", status="resolved")
    clock[0] = 7.0
    expect.notified(NotificationMatch("dba-critical", "DBDown", "resolved"), 180)
    spec = _stack_dir(tmp_path) if tmp_path is not None else None
    stack = SimpleNamespace(spec=spec, startup={"usable": 5.5}, warnings=[])
    return SimpleNamespace(stack=stack, timeline=timeline), message


def _record(tmp_path: Path | None = None, **kw: Any) -> dict[str, Any]:
    drill, message = _drill(tmp_path, kw.pop("receiver_x", "team-x"))
    info = _scenario(message=message, **kw)
    return build_record(info, Settings(time_scale=K, tolerance=0.5), [drill])


# -- the record --------------------------------------------------------------------------------
def test_the_record_holds_scenario_claims_notifications_and_suppressions() -> None:
    rec = _record()
    assert rec["schema"] == records.SCHEMA
    assert rec["feature"] == {"name": "Database outages", "file": "sample/database.feature"}
    assert (rec["outcome"], rec["tags"], rec["time_scale"], rec["tolerance"]) == \
        ("failed", ["nightly"], K, 0.5)
    assert rec["message"].startswith('✗ expected "team-x" notified of "DBDown" within 1 min')
    assert [s["outcome"] for s in rec["steps"]] == ["passed", "passed", "failed"]
    assert [c["claim"] for c in rec["claims"]] == [
        "alert_state", "notified", "notified", "suppressed", "never_notified", "notified",
        "notified"]
    assert [c["passed"] for c in rec["claims"]] == [True, True, True, True, True, False, True]
    assert [(n["receiver"], n["integration"], n["response_code"])
            for n in rec["notifications"]][:4] == [
        ("dba-critical", "probe", 200), ("dba-critical", "pagerduty", 202),
        ("executive-escalation", "probe", 200), ("team-web", "slack", 500)]
    (held,) = rec["suppressed"]
    assert held["alertname"] == "PoolExhausted"
    assert [i["alertname"] for i in held["inhibited_by"]] == ["DBDown"], "by what, not a hash"
    assert any(e["kind"] == tl.CLAIM for e in rec["stacks"][0]["timeline"])


def test_write_record_replaces_the_previous_runs_records(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "_replaced", set())
    (tmp_path / "old.json").write_text(json.dumps({"schema": records.SCHEMA, "id": "old"}))
    (tmp_path / "notes.json").write_text('{"mine": true}')
    first = write_record(_record(), tmp_path)
    second = write_record(_record(receiver_x="team-y", name="another"), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["notes.json", first.name, second.name]), "only records of this run, and foreign files"
    assert [r["scenario"]["name"] for r in records.load_records(tmp_path)] == [
        "db dies, the DBAs and the executives are paged", "another"]


def test_safe_ids_are_file_names_and_unique_per_node() -> None:
    a = records.safe_id("sample/x.feature", 'web "stops" / <now>', "t.py::a")
    b = records.safe_id("sample/x.feature", 'web "stops" / <now>', "t.py::b")
    assert re.fullmatch(r"[a-z0-9-]+", a) and a != b
    assert a.startswith("sample-x--web-stops-now-")


# -- the SLA table -----------------------------------------------------------------------------
def _row(rows: list[report.SlaRow], what: str) -> report.SlaRow:
    (row,) = [r for r in rows if r.what == what]
    return row


def test_sla_rows_measure_from_the_action_and_carry_the_claims_sla() -> None:
    rows = report.sla_rows(_record())
    detect = _row(rows, "DBDown{instance=db:5432} firing in Prometheus")
    assert (detect.phase, detect.verdict, detect.sla_real) == ("detect", "passed", 120)
    assert detect.start == 0.5 and detect.measured == pytest.approx(0.6)
    notify = _row(rows, "dba-critical ← DBDown")
    assert (notify.phase, notify.verdict) == ("notify", "passed")
    assert notify.measured == pytest.approx(1.0) and notify.sla_measured == 3.0
    escalate = _row(rows, "executive-escalation ← DBDown")
    assert (escalate.phase, escalate.verdict) == ("escalate", "passed")
    assert escalate.measured == pytest.approx(1.1)
    missed = _row(rows, "team-x ← DBDown")
    assert (missed.verdict, missed.measured, missed.note) == ("failed", None, "never arrived")
    unclaimed = _row(rows, "dba-team ← DBDown")
    assert (unclaimed.verdict, unclaimed.sla_real) == ("no claim", None)
    assert unclaimed.measured == pytest.approx(1.8)
    held = _row(rows, "PoolExhausted inhibited in Alertmanager")
    assert held.phase == "suppress" and held.measured == pytest.approx(0.9)
    resolved = _row(rows, "dba-critical ← DBDown (resolved)")
    assert (resolved.phase, resolved.verdict, resolved.start) == ("resolve", "passed", 3.0)
    assert resolved.measured == pytest.approx(0.8)
    prom_resolved = _row(rows, "DBDown{instance=db:5432} resolved in Prometheus")
    assert prom_resolved.verdict == "no claim" and prom_resolved.measured == pytest.approx(0.4)
    assert [r.phase for r in rows] == sorted((r.phase for r in rows), key=report.PHASES.index)


def test_a_late_notification_is_measured_and_fails() -> None:
    """dba-team's notification came at +1.8 s, after a 1-minute window (1.0 s + 0.5 s
    tolerance from t=0.5): measured, and a fail."""
    rows = report.sla_rows(_record(receiver_x="dba-team"))
    late = _row(rows, "dba-team ← DBDown")
    assert late.verdict == "failed" and late.measured == pytest.approx(1.8)
    assert "after the window" in late.note


def test_the_sla_table_shows_real_world_equivalents_in_html_and_markdown() -> None:
    rec = _record()
    md = report.markdown_section(rec)
    line = next(x for x in md.splitlines() if x.startswith("| Time to detect"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[3:7] == ["0.60 s", "36.0 s", "2 min (2.00 s + 0.50 s tol.)", "✓ pass"]
    esc = next(x for x in md.splitlines() if x.startswith("| Time to escalate"))
    assert "executive-escalation" in esc and "1 min 6 s" in esc  # 1.1 s × 60
    page = report.render_html([rec])
    assert '<td class="fail">✗ FAIL</td>' in page and '<td class="pass">✓ pass</td>' in page


# -- the chart -----------------------------------------------------------------------------------
def test_the_chart_has_one_marker_per_notification_at_its_time() -> None:
    rec = _record()
    svg = report.chart_svg(rec)
    root = ET.fromstring(svg)  # well-formed, standalone
    ns = "{http://www.w3.org/2000/svg}"
    marks = [g for g in root.iter(f"{ns}g") if "mk-notification" in g.get("class", "").split()]
    assert len(marks) == len(rec["notifications"]) == 6
    assert sorted(float(g.get("data-t", "nan")) for g in marks) == sorted(
        n["t"] for n in rec["notifications"])
    failed = [g for g in marks if "mk-failed" in g.get("class", "")]
    assert [g.get("data-receiver") for g in failed] == ["team-web"]
    resolved = [g for g in marks if "mk-resolved" in g.get("class", "")]
    assert len(resolved) == 1


def test_the_chart_marks_actions_alert_states_and_every_claims_deadline() -> None:
    rec = _record()
    svg = report.chart_svg(rec)
    for kind, count in [("mk mk-action", 2), ("mk mk-pending", 1), ("mk mk-firing", 1),
                        ("mk mk-inactive", 1), ("mk mk-suppressed", 1),
                        ("mk mk-claim mk-claim-pass", 6), ("mk mk-claim mk-claim-fail", 1)]:
        assert len(re.findall(rf'class="{kind}"', svg)) == count, kind
    # Real-world labels under the measured ticks: at K=60, 1 s is 1 min.
    assert ">1 s</text>" in svg and ">1 min</text>" in svg
    assert ">▼ stop db</text>" in svg and ">▲ revert stop db</text>" in svg
    # The failed claim's lane exists although nothing arrived there.
    assert ">team-x · routing (probe)</text>" in svg


# -- pass/fail, escaping, self-containment ---------------------------------------------------------
def test_summary_counts_pass_fail_and_error() -> None:
    ok = _record(outcome="passed", name="ok one")
    ok["message"] = None
    bad = _record(name="bad one")
    err = build_record(ScenarioInfo(nodeid="t::e", feature_name="F", feature_file="f.feature",
                                    scenario_name="broken", outcome="error",
                                    message="StartupError: prometheus did not become usable"),
                       Settings())
    page = report.render_html([ok, bad, err])
    assert "1 of 3" not in page and "2 of 3 scenarios did not pass" in page
    assert re.search(r'<div class="card ok"><div class="n">1</div>', page)
    assert re.search(r'<div class="card bad"><div class="n">1</div>', page)
    assert re.search(r'<div class="card err"><div class="n">1</div>', page)
    assert page.count('<section class="scenario failed"') == 1
    assert "Error — the scenario could not run to its end" in page
    assert "No stack was started for this scenario." in page
    md = report.markdown([ok, bad, err])
    assert "**3 scenarios: 1 passed, 1 failed, 1 error**" in md


def test_user_strings_are_escaped_in_html_and_svg() -> None:
    evil = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    rec = _record(name=evil, receiver_x='<b onmouseover="x()">team</b>')
    page = report.render_html([rec])
    assert "<script" not in page and "<img" not in page and "<b onmouseover" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in page
    assert "&lt;b onmouseover=&quot;x()&quot;&gt;team&lt;/b&gt;" in page
    ET.fromstring(report.chart_svg(rec))  # still well-formed XML with the hostile names
    assert "<script" not in report.markdown([rec]) and "<img" not in report.markdown([rec])


def test_the_page_is_self_contained() -> None:
    page = report.render_html([_record()])
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "<style>" in page and "<svg" in page
    # Nothing is fetched: no src/href but in-page anchors, no CSS url(); the only URL in an
    # attribute is the SVG namespace (a name, never loaded).
    assert re.findall(r'(?:src|href)\s*=\s*"(?!#)[^"]*"', page) == []
    assert "url(" not in page
    assert set(re.findall(r'="([a-z]+://[^"]*)"', page)) == {"http://www.w3.org/2000/svg"}


# -- secrets ------------------------------------------------------------------------------------------
def test_no_secret_reaches_the_record_or_the_report(tmp_path: Path) -> None:
    rec = _record(tmp_path, name=f"uses {SLACK_URL}")
    rec_path = write_record(rec, tmp_path / "records")
    html_path, md_path = report.build(tmp_path / "records", tmp_path / "out")
    for path in (rec_path, html_path, md_path):
        text = path.read_text()
        for secret in (SLACK_URL, "T0SECRET", "abcDEFsecretTOKEN123", ROUTING_KEY, SMTP_PASSWORD,
                       BEARER, "hook-token-123456"):
            assert secret not in text, f"{secret!r} leaked into {path.name}"
        assert REDACTED in text
    # What is not secret survives: receivers, alert names.
    page = html_path.read_text()
    assert "dba-critical" in page and "PoolExhausted" in page and "team-web" in page


def test_the_redactor_removes_url_paths_headers_and_known_secrets() -> None:
    r = Redactor([SMTP_PASSWORD, "short"])
    assert r.text("curl -u a:b https://user:pw@hooks.example.com/x/y?token=1 now") == \
        f"curl -u a:b https://hooks.example.com/{REDACTED} now"
    assert r.text(f"Authorization: Bearer {BEARER}") == f"Authorization: {REDACTED}"
    assert r.text("Basic dXNlcjpwYXNz") == f"Basic {REDACTED}"
    assert r.text("Basic routing works") == "Basic routing works"
    assert r.text(f"password={SMTP_PASSWORD}") == f"password={REDACTED}"
    assert r.text("a short word") == "a short word", "too-short secrets are not matched"
    assert r.scrub({"payload": {"x": 1}, "headers": {"A": "b"}, "labels": {"team": "web"}}) == \
        {"payload": REDACTED, "headers": REDACTED, "labels": {"team": "web"}}
    assert secrets_in({"receivers": [{"slack_configs": [{"api_url": SLACK_URL,
                                                           "channel": "#web"}]}]}) == {SLACK_URL}


# -- Markdown ---------------------------------------------------------------------------------------
def _cells(line: str) -> list[str]:
    body = line.strip()
    assert body.startswith("|") and body.endswith("|"), line
    return re.split(r"(?<!\\)\|", body[1:-1])


def test_markdown_tables_are_well_formed() -> None:
    rec = _record(name="pipes | in | names")
    rec["claims"][0]["text"] = "a | b\nc"
    md = report.markdown([rec])
    lines = md.splitlines()
    tables = 0
    i = 0
    while i < len(lines):
        if lines[i].startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            tables += 1
            width = len(_cells(block[0]))
            assert re.fullmatch(r"\|(---\|)+", block[1]), block[1]
            assert len(_cells(block[1])) == width
            for row in block[2:]:
                assert len(_cells(row)) == width, row
            continue
        i += 1
    assert tables >= 5  # summary, arrivals, SLA, claims, inhibited
    assert "pipes \\| in \\| names" in md and "a \\| b c" in md
    assert md.count("```") % 2 == 0


# -- the command -------------------------------------------------------------------------------------
def test_alertdrill_report_writes_both_files_and_prints_their_paths(tmp_path: Path) -> None:
    write_record(_record(), tmp_path / "drill")
    result = subprocess.run([sys.executable, "-m", "alertdrill.cli", "report", "--from",
                             str(tmp_path / "drill")], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(tmp_path / "drill-report.html"),
                                     str(tmp_path / "drill-report.md")]
    assert "<svg" in (tmp_path / "drill-report.html").read_text()


def test_alertdrill_report_without_records_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "alertdrill.cli", "report", "--from",
                             str(tmp_path / "nothing"), "--out", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 3  # could not run: nothing to build from
    assert result.stderr.startswith(f"alertdrill: no scenario records in {tmp_path / 'nothing'}")
    assert "alertdrill run" in result.stderr and "make " not in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "drill-report.html").exists()


# -- a real run, rendered by a real browser ------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                        else None)
_REAL_FEATURE = """\
Feature: The drill report shows what a real run did
  Background:
    Given the stack "{stack}" is running

  @nightly
  Scenario: web stops and pages web's receivers, then resolves
    When the service "web" is stopped
    Then the alert "TargetDown" with labels instance=web:8080 fires within 2 minutes
    And "team-web" is notified via slack of "TargetDown" within 3 minutes
    And "oncall-pager" is notified of "TargetDown" within 3 minutes
    When the service "web" is started again
    Then "team-web" is notified that "TargetDown" resolved within 3 minutes

  Scenario: a claim that cannot hold fails and shows what arrived
    When the service "web" is stopped
    Then "team-db" is notified of "TargetDown" within 1 minute

  Scenario: a typo is refused before any stack starts
    When the service "web" is stoped
"""


def _chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp / "profile"
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-extensions", f"--user-data-dir={profile}",
         "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package "
                    "`chromium`; scripts/bootstrap.sh installs it as root)")
def test_a_real_runs_report_renders_in_a_browser(tmp_path: Path) -> None:
    from PIL import Image

    project = tmp_path / "project"
    project.mkdir()
    (project / "real.feature").write_text(_REAL_FEATURE.format(stack=ROOT / "stack" / "sample"))
    (project / "test_real.py").write_text(
        f"from pytest_bdd import scenarios\nscenarios({str(project / 'real.feature')!r})\n")
    recs = tmp_path / "records"
    run = run_pytest([str(project / "test_real.py"), "-q", "--rootdir", str(ROOT), "-c",
                      str(ROOT / "pyproject.toml"), "--report-dir", str(recs)], env={},
                     timeout=240)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out  # one failed claim and one typo, on purpose
    assert "1 passed" in out and "2 failed" in out, out
    by_name = {r["scenario"]["name"]: r for r in records.load_records(recs)}
    assert {n: r["outcome"] for n, r in by_name.items()} == {
        "web stops and pages web's receivers, then resolves": "passed",
        "a claim that cannot hold fails and shows what arrived": "failed",
        "a typo is refused before any stack starts": "error"}
    passed = by_name["web stops and pages web's receivers, then resolves"]
    assert passed["tags"] == ["nightly"], "a Gherkin tag reaches the record (and is a marker)"
    assert [c["passed"] for c in passed["claims"]] == [True, True, True, True]
    assert all(0 < c["measured"] <= c["sla_measured"] + c["tolerance"] for c in passed["claims"])
    assert {(n["receiver"], n["integration"]) for n in passed["notifications"]} >= {
        ("team-web", "slack"), ("team-web", "probe"), ("oncall-pager", "pagerduty")}

    html_path, _ = report.build(recs, tmp_path / "out")
    page_url = html_path.as_uri()
    dom_run = _chromium("--dump-dom", page_url, tmp=tmp_path)
    dom = dom_run.stdout
    assert "<svg" in dom and 'class="mk mk-notification' in dom, dom_run.stderr[-2000:]
    assert dom.count('class="mk mk-notification') == sum(
        len(r["notifications"]) for r in by_name.values())
    assert "<table class=\"sla\">" in dom and "Time to detect" in dom and "✗ FAIL" in dom
    console = [line for line in dom_run.stderr.splitlines()
               if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console

    shot = tmp_path / "report.png"
    shot_run = _chromium(f"--screenshot={shot}", "--window-size=1400,2000", page_url,
                         tmp=tmp_path)
    assert shot.is_file(), shot_run.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1400, 2000)
    # The first chart: find the slack marker's purple and the firing triangle's red; the chart
    # area around them must be rich in colours (markers, lanes, text), not a blank box.
    pixels = image.load()
    assert pixels is not None
    purple = [(x, y) for y in range(0, 2000, 2) for x in range(0, 1400, 2)
              if _near(pixels[x, y], (0x7C, 0x3A, 0xED))]
    red = [(x, y) for y in range(0, 2000, 2) for x in range(0, 1400, 2)
           if _near(pixels[x, y], (0xDC, 0x26, 0x26))]
    assert len(purple) > 20 and len(red) > 20, (len(purple), len(red))
    top = min(y for _, y in purple)
    area = image.crop((0, max(0, top - 200), 1400, min(2000, top + 150)))
    colours = area.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 300, f"only {len(colours)} colours in the chart area"


def _near(rgb: Any, want: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(rgb, want, strict=True))


# -- Allure ---------------------------------------------------------------------------------------------
def test_allure_gets_the_chart_the_markdown_and_labels_and_no_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alertdrill.engine import scenario
    from alertdrill.sink.protocol import Destination
    from alertdrill.sink.records import Delivery

    attached: list[tuple[str, str, str]] = []
    labels: list[tuple[str, str]] = []
    fake = SimpleNamespace(
        attach=lambda body, name, attachment_type: attached.append((name, attachment_type, body)),
        attachment_type=SimpleNamespace(TEXT="text", JSON="json", SVG="svg"),
        dynamic=SimpleNamespace(story=lambda v: labels.append(("story", v)),
                                epic=lambda v: labels.append(("epic", v)),
                                label=lambda k, v: labels.append((k, v))))
    monkeypatch.setattr(scenario, "allure", fake)
    drill, message = _drill(tmp_path)
    drill.observer = SimpleNamespace(deliveries=[Delivery(
        seq=1, arrived=0.0, destination=Destination(0, "team-web", "slack", 0), status="firing",
        alerts=(), group_key="g", text=f"posted with {SLACK_URL}",
        payload={"text": "TargetDown", "api_url": SLACK_URL,
                 "headers": {"Authorization": f"Bearer {BEARER}"}},
        response_code=200)])
    rec = build_record(_scenario(message=message), Settings(time_scale=K), [drill])
    scenario._attach(drill, failed=False, record=rec)
    by_name = {name: (kind, body) for name, kind, body in attached}
    assert by_name["timeline chart"][0] == "svg" and "<svg" in by_name["timeline chart"][1]
    assert by_name["drill report (Markdown)"][1].startswith("## ❌ FAILED")
    assert ("story", "db dies, the DBAs and the executives are paged") in labels
    assert ("epic", "stack: sample") in labels
    payloads = json.loads(by_name["notifications.json"][1])
    assert payloads[0]["payload"]["text"] == "TargetDown", "the payload itself is kept"
    everything = "\n".join(body for _, _, body in attached)
    for secret in (SLACK_URL, "abcDEFsecretTOKEN123", BEARER, SMTP_PASSWORD, ROUTING_KEY):
        assert secret not in everything


def test_escalation_is_an_escalation_receiver_or_a_level_above_the_first_page() -> None:
    assert report.is_escalation("executive-escalation")
    assert report.is_escalation("team-lead", [{"alertname": "A", "escalation": "level-2"}])
    assert report.is_escalation("cto", [{"alertname": "A", "escalation": "executive"}])
    assert not report.is_escalation("dba-critical", [{"alertname": "A",
                                                      "escalation": "immediate"}])
    assert not report.is_escalation("team-web", [{"alertname": "A"}])


def test_parallel_workers_of_one_run_keep_each_others_records(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-xdist workers share a run key; each one's first write clears other runs only."""
    monkeypatch.setattr(records, "_replaced", set())
    first = write_record(_record(), tmp_path)
    monkeypatch.setattr(records, "_replaced", set())  # a second worker process, same run
    second = write_record(_record(receiver_x="team-y", name="another"), tmp_path)
    assert first.exists() and second.exists()


def test_observed_clocks_start_at_the_fault_that_names_the_alerts_service() -> None:
    """A GameDay applies several faults; an unclaimed row counts from the one about its alert."""
    from alertdrill.report import sla_rows

    events = [
        {"t": 1.0, "kind": tl.FAULT_APPLIED, "subject": "stop web-app", "labels": {},
         "detail": {}, "anchor": True},
        {"t": 2.0, "kind": tl.FAULT_APPLIED, "subject": "certificate of cartorio-tls expires in 5 "
         "days", "labels": {}, "detail": {}, "anchor": True},
        {"t": 3.0, "kind": tl.PROM_FIRING, "subject": "WebAppDown",
         "labels": {"alertname": "WebAppDown", "instance": "web-app:80"}, "detail": {},
         "anchor": False},
        {"t": 4.0, "kind": tl.PROM_FIRING, "subject": "Unrelated",
         "labels": {"alertname": "Unrelated", "instance": "db:5432"}, "detail": {}, "anchor": False},
    ]
    record = {"time_scale": 60, "claims": [], "notifications": [],
              "stacks": [{"timeline": events}]}
    rows = {r.what: r for r in sla_rows(record)}
    assert rows["WebAppDown{instance=web-app:80} firing in Prometheus"].start == 1.0
    assert rows["Unrelated{instance=db:5432} firing in Prometheus"].start == 2.0  # the latest
