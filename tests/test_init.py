"""`alertdrill init`: discovery, the stack copy and its manifest, the generated features (held
against amroute and amtool), the update's diff, the CI files — and, end to end, `alertdrill run`
on what init wrote, before and after a receiver is changed."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from alertdrill.analysis.amroute import match_routes
from alertdrill.analysis.lint import load_route_tree
from alertdrill.analysis.rulelabels import rule_label_sets
from alertdrill.backends.binaries import find_binary
from alertdrill.cli import build_parser
from alertdrill.cli.runner import RunOptions, project_defaults
from alertdrill.errors import ConfigError
from alertdrill.scaffold import PROJECT_FILE
from alertdrill.scaffold.ci import github, gitlab, repository_root, watched_paths
from alertdrill.scaffold.discover import discover
from alertdrill.scaffold.expectations import compute
from alertdrill.scaffold.features import labels_text
from alertdrill.scaffold.project import find_project, run_init
from alertdrill.scaffold.stackcopy import plan_services
from alertdrill.scaffold.update import compare
from tests.helpers import ROOT
from tests.initdata import write_team_configs


@dataclass
class FakePlan:
    """Stands in for alertdrill.analysis.seriesplan.TripPlan (branch series)."""

    steps: list[str] = field(default_factory=list)
    revert_steps: list[str] = field(default_factory=list)
    reason: str = ""


def fake_trip(spec: object, rule: str) -> FakePlan:
    if rule == "RedisDown":
        return FakePlan(['the series redis_up{instance="redis-1.cache.internal:9121"} of '
                         '"redis-redis-1" is set to 0'],
                        ['"redis-redis-1" returns to its baseline'])
    if rule == "PaymentsLatencyHigh":
        return FakePlan(['the latency of http_request_duration_seconds of "payments-api" rises '
                         "to 3 seconds"], ['"payments-api" returns to its baseline'])
    return FakePlan(reason=f"{rule}: not drivable in this fake")


def init(argv: list[str], trip: object = None, unavailable: str | None = "no planner"
         ) -> tuple[int, str]:
    args = build_parser().parse_args(["init", *argv])
    out = io.StringIO()
    status = run_init(args, out, trip=trip, unavailable=unavailable)  # type: ignore[arg-type]
    return status, out.getvalue()


@pytest.fixture
def team(tmp_path: Path) -> Path:
    return write_team_configs(tmp_path)


@pytest.fixture
def project(team: Path, tmp_path: Path) -> Path:
    out = tmp_path / "drill"
    status, _ = init(["--from", str(team), "--out", str(out)], trip=fake_trip)
    assert status == 0
    return out


# --- discovery ----------------------------------------------------------------------------------

def test_discovery_finds_the_files_by_content_and_rule_files_by_their_tail(team: Path) -> None:
    sources = discover(team)
    assert sources.prometheus == team / "prometheus" / "prometheus.yml"
    assert sources.alertmanager == team / "alertmanager" / "alertmanager.yml"
    assert [p.name for p in sources.rule_files] == ["cache.yml", "payments.yml", "platform.yml"]
    assert sources.templates == [team / "alertmanager" / "templates" / "teams.tmpl"]
    [note] = sources.notes  # /etc/prometheus/rules/*.yml exists nowhere here
    assert "'/etc/prometheus/rules/*.yml'" in note and "'rules/*.yml'" in note


def test_two_prometheus_configs_are_an_error_naming_both(team: Path) -> None:
    (team / "staging").mkdir()
    (team / "staging" / "prometheus.yml").write_text("scrape_configs: []\n")
    with pytest.raises(ConfigError) as caught:
        discover(team)
    assert "2 files" in str(caught.value) and "staging/prometheus.yml" in str(caught.value)
    assert "--prometheus-config" in str(caught.value)
    explicit = discover(team, prometheus=team / "prometheus" / "prometheus.yml")
    assert explicit.prometheus == team / "prometheus" / "prometheus.yml"


def test_no_prometheus_config_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "alertmanager.yml").write_text("route: {receiver: a}\nreceivers: [{name: a}]\n")
    with pytest.raises(ConfigError, match=r"no prometheus\.yml under"):
        discover(tmp_path)


def test_a_rule_file_promtool_rejects_stops_init_before_anything_is_written(
        team: Path, tmp_path: Path) -> None:
    (team / "rules" / "cache.yml").write_text(
        "groups:\n  - name: cache\n    rules:\n      - alert: Broken\n        expr: rate(x[5m]\n")
    out = tmp_path / "drill"
    with pytest.raises(ConfigError) as caught:
        init(["--from", str(team), "--out", str(out)])
    assert "promtool rejects" in str(caught.value)
    assert str(team / "rules" / "cache.yml") in str(caught.value)  # the original, not the copy
    assert not out.exists()


def test_a_non_empty_directory_is_refused_unless_forced(team: Path, tmp_path: Path) -> None:
    out = tmp_path / "drill"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    with pytest.raises(ConfigError, match="is not empty"):
        init(["--from", str(team), "--out", str(out)])
    assert init(["--from", str(team), "--out", str(out), "--force"])[0] == 0
    assert (out / "notes.txt").read_text() == "mine\n"
    assert (out / PROJECT_FILE).is_file()


# --- the stack copy and its manifest --------------------------------------------------------------

def test_the_copy_keeps_the_files_and_rewrites_only_the_rule_files_entry(project: Path,
                                                                         team: Path) -> None:
    stack = project / "stack"
    copied_am = (stack / "alertmanager" / "alertmanager.yml").read_text()
    assert copied_am == (team / "alertmanager" / "alertmanager.yml").read_text()
    copied_prom = (stack / "prometheus" / "prometheus.yml").read_text()
    original = (team / "prometheus" / "prometheus.yml").read_text()
    assert copied_prom == original.replace("/etc/prometheus/rules/*.yml",
                                           "imported-rules-1/rules/*.yml")
    assert (stack / "alertmanager" / "templates" / "teams.tmpl").is_file()
    for name in ("cache", "payments", "platform"):
        assert (stack / "prometheus" / "imported-rules-1" / "rules" / f"{name}.yml").read_text() \
            == (team / "rules" / f"{name}.yml").read_text()


def test_every_static_target_gets_a_series_stand_in_and_discovery_is_left_out(
        project: Path) -> None:
    manifest = yaml.safe_load((project / "stack" / "alertdrill.yml").read_text())
    services = manifest["services"]
    assert {s["address"]: s["kind"] for s in services.values()} == {
        "redis-1.cache.internal:9121": "series", "redis-2.cache.internal:9121": "series",
        "payments-api.internal:8080": "series", "node-1.internal:9100": "series",
        "node-2.internal:9100": "series"}
    assert services["payments-api"]["jobs"] == ["payments-api"]  # one target: the job's name
    text = (project / "stack" / "alertdrill.yml").read_text()
    assert "#   job kubernetes-pods: its targets come from kubernetes_sd_configs" in text


def test_a_probe_job_gets_one_stand_in_at_its_exporter() -> None:
    plan = plan_services({"scrape_configs": [{
        "job_name": "blackbox", "metrics_path": "/probe",
        "static_configs": [{"targets": ["https://a.example", "https://b.example"]}],
        "relabel_configs": [{"source_labels": ["__address__"], "target_label": "__param_target"},
                            {"target_label": "__address__", "replacement": "blackbox:9115"}]}]})
    assert [(s.name, s.address) for s in plan.services] == [("blackbox", "blackbox:9115")]


# --- routing table -------------------------------------------------------------------------------

def _amtool_receivers(config: Path, labels: dict[str, str]) -> set[str]:
    argv = [find_binary("amtool"), "config", "routes", "test", f"--config.file={config}",
            *(f"{k}={v}" for k, v in labels.items())]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    return set(done.stdout.strip().split(","))


def test_the_routing_table_is_what_amroute_and_amtool_say_for_what_the_drill_pushes(
        project: Path) -> None:
    stack = project / "stack"
    expectations = compute(stack)
    prom = yaml.safe_load((stack / "prometheus" / "prometheus.yml").read_text())
    docs = [yaml.safe_load(p.read_text()) for p in
            sorted((stack / "prometheus" / "imported-rules-1" / "rules").glob("*.yml"))]
    assert [r.labels for r in expectations.routed] == rule_label_sets(prom, docs)
    am = stack / "alertmanager" / "alertmanager.yml"
    tree = load_route_tree(am)
    assert tree is not None
    for alert in expectations.routed:
        ours = {r.receiver for r in match_routes(tree, alert.labels)}
        assert set(alert.receivers) == ours == _amtool_receivers(am, alert.labels), alert
    table = (project / "features" / "routing.feature").read_text()
    rows = {tuple(c.strip() for c in line.strip().strip("|").split("|"))
            for line in table.splitlines() if line.strip().startswith("|")}
    # the continue: a critical alert pages on-call and goes on to its team
    assert ("RedisDown", "critical", "cache", "redis-1.cache.internal:9121",
            "cache-slack, oncall-pagerduty") in rows
    # the nested route: payments' warnings go to Slack, not the webhook
    assert ("PaymentsLatencyHigh", "warning", "payments", "payments-api.internal:8080",
            "payments-slack") in rows
    # a rule of a discovered job: only its own labels are known; its team's route takes it
    assert ("KubePodCrashLooping", "warning", "platform", "", "platform-slack") in rows
    assert len(rows) == len(expectations.routed) + 1  # + the header


def test_the_table_header_says_it_was_generated_from_which_files(project: Path,
                                                                  team: Path) -> None:
    text = (project / "features" / "routing.feature").read_text()
    assert text.startswith("# Generated by `alertdrill init` on ")
    assert f"#   alertmanager.yml  {team / 'alertmanager' / 'alertmanager.yml'}" in text
    assert f"#   rules             {team / 'rules' / 'payments.yml'}" in text


# --- inhibitions -------------------------------------------------------------------------------

def test_one_inhibition_scenario_per_rule_the_alerts_can_exercise(project: Path) -> None:
    expectations = compute(project / "stack")
    cases = {c.index: c for c in expectations.inhibitions}
    assert sorted(cases) == [1, 2]
    node = cases[1]
    assert node.source["alertname"] == "NodeDown"
    assert node.target["team"] == "platform" and node.target["severity"] == "warning"
    assert node.source["instance"] == node.target["instance"]  # equal: [instance]
    assert (cases[2].source["alertname"], cases[2].target["alertname"]) == \
        ("RedisDown", "RedisMemoryHigh")
    [(index, why)] = expectations.inhibitions_skipped
    assert index == 3 and "no alerting rule's alert matches its source" in why
    text = (project / "features" / "inhibition.feature").read_text()
    assert (f'Then "RedisMemoryHigh" with labels {labels_text(cases[2].target)} is inhibited '
            "within 1 minute") in text
    assert 'And "cache-slack" is notified of "RedisDown" within 2 minutes' in text
    assert "#   inhibit rule 3: {alertname=\"DatacenterDown\"}" in text


# --- fire and resolve ---------------------------------------------------------------------------

def test_fire_and_resolve_scenarios_from_the_planner_with_windows_from_the_config(
        project: Path) -> None:
    text = (project / "features" / "fire_and_resolve.feature").read_text()
    redis = text[text.index("Scenario: RedisDown"):text.index("Scenario: PaymentsLatencyHigh")]
    # for 1m + 2×15 s scrape + 2×15 s evaluation + 1 min margin = 3 min; + group_wait 30 s → 4
    assert redis.rstrip().splitlines()[1:] == [
        "    Given the stack is running",
        '    When the series redis_up{instance="redis-1.cache.internal:9121"} of "redis-redis-1" '
        "is set to 0",
        '    Then the alert "RedisDown" fires within 3 minutes',
        '    And "cache-slack" is notified of "RedisDown" within 4 minutes',
        '    And "oncall-pagerduty" is notified of "RedisDown" within 4 minutes',
        '    When "redis-redis-1" returns to its baseline',
        '    Then the alert "RedisDown" resolves within 2 minutes',
        # + group_interval 5 min; slack sends resolved (written), pagerduty by default
        '    And "cache-slack" is notified via slack that "RedisDown" resolved within 7 minutes',
        '    And "oncall-pagerduty" is notified via pagerduty that "RedisDown" resolved within '
        "7 minutes"]
    latency = text[text.index("Scenario: PaymentsLatencyHigh"):]
    # rate(…[5m]) keeps the latency up to 5 minutes after the revert; payments-slack's Slack
    # integration does not send resolved (Alertmanager's default)
    assert 'Then the alert "PaymentsLatencyHigh" resolves within 7 minutes' in latency
    assert "# payments-slack: no integration sends resolved notifications" in latency
    header = text[:text.index("Feature:")]
    assert "# Rules the stand-in cannot trip (no scenario here):" in header
    assert "NodeDown: NodeDown: not drivable in this fake" in header


def test_without_a_planner_the_rules_not_tripped_are_listed_in_the_routing_feature(
        team: Path, tmp_path: Path) -> None:
    out = tmp_path / "drill"
    init(["--from", str(team), "--out", str(out)], trip=None, unavailable="no stand-in here")
    assert not (out / "features" / "fire_and_resolve.feature").exists()
    text = (out / "features" / "routing.feature").read_text()
    assert "RedisDown, RedisMemoryHigh, PaymentsHighErrorRate" in text
    assert ": no stand-in here" in text


# --- update ------------------------------------------------------------------------------------

def test_update_shows_receivers_gained_and_lost_and_exits_1_until_written(
        project: Path, team: Path) -> None:
    assert init(["--update", "--out", str(project)], trip=fake_trip)[:1] == (0,)
    am = team / "alertmanager" / "alertmanager.yml"
    am.write_text(am.read_text().replace("      receiver: cache-slack",
                                         "      receiver: platform-slack", 1))
    before = (project / "features" / "routing.feature").read_text()
    status, shown = init(["--update", "--out", str(project)], trip=fake_trip)
    assert status == 1
    assert "configs changed: alertmanager/alertmanager.yml" in shown
    assert ('~ RedisDown{instance="redis-1.cache.internal:9121", job="redis", '
            'severity="critical", team="cache"}: gains platform-slack; loses cache-slack') in shown
    assert "not written" in shown
    assert (project / "features" / "routing.feature").read_text() == before
    status, shown = init(["--update", "--write", "--out", str(project)], trip=fake_trip)
    assert status == 0 and "written" in shown
    assert "cache-slack, oncall-pagerduty" not in \
        (project / "features" / "routing.feature").read_text()
    status, shown = init(["--update", "--out", str(project)], trip=fake_trip)
    assert (status, shown.strip()) == (0, "nothing changed: the configs and the expectations "
                                          "are as generated")


def test_the_diff_names_alerts_and_scenarios_added_and_removed() -> None:
    old = {"routing": {"A{}": ["x"], "B{}": ["y"]}, "scenarios": {"f": ["one", "two"]},
           "files": {"a.yml": "1"}}
    new = {"routing": {"A{}": ["x", "z"], "C{}": ["y"]}, "scenarios": {"f": ["one", "three"]},
           "files": {"a.yml": "2"}}
    diff = compare(old, new)
    assert diff.receivers == [("A{}", ["z"], [])]
    assert diff.alerts_added == [("C{}", ["y"])] and diff.alerts_removed == [("B{}", ["y"])]
    assert diff.scenarios_added == ["f: three"] and diff.scenarios_removed == ["f: two"]
    assert diff.files_changed == ["a.yml"] and diff.expectations_changed
    assert not compare(old, {**old, "files": {"a.yml": "2"}}).expectations_changed


# --- run's default ------------------------------------------------------------------------------

def test_run_without_arguments_in_a_project_runs_its_features_on_its_stack(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALERTDRILL_STACK", raising=False)
    options = RunOptions()
    project_defaults(options, project)
    assert options.features == [project / "features"]
    assert options.stack == str(project / "stack")
    found = find_project(project)
    assert found is not None and found.stack == project / "stack"
    elsewhere = RunOptions()
    project_defaults(elsewhere, project.parent)
    assert elsewhere.features == [] and elsewhere.stack is None
    # a feature named on the command line still runs on the project's stack
    one = RunOptions(features=[project / "features" / "routing.feature"])
    project_defaults(one, project)
    assert one.features == [project / "features" / "routing.feature"]
    assert one.stack == str(project / "stack")
    given = RunOptions(stack="sample")
    project_defaults(given, project)
    assert given.stack == "sample" and given.features == [project / "features"]


# --- CI ----------------------------------------------------------------------------------------

def test_the_ci_files_watch_the_project_and_the_configs(project: Path, team: Path) -> None:
    root = repository_root(project, [team])
    assert root == project.parent
    paths = watched_paths(root, project, [team])
    assert paths == ["drill/**", "monitoring/**"]
    workflow = yaml.safe_load(github(root, project, project / "stack", paths, "now"))
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["paths"] == paths and triggers["schedule"][0]["cron"]
    steps = workflow["jobs"]["drill"]["steps"]
    assert steps[-1]["with"]["path"].split() == [
        "drill/reports/junit.xml", "drill/reports/allure-results/",
        "drill/reports/drill-report.html", "drill/reports/drill-report.md",
        "drill/reports/drill/"]
    job = yaml.safe_load(gitlab(root, project, project / "stack", paths, "now"))["alertdrill"]
    assert job["artifacts"]["reports"]["junit"] == "drill/reports/junit.xml"
    assert {"changes": paths} in job["rules"]


def test_sharded_ci_files_run_n_shard_jobs_and_one_merge_job(project: Path, team: Path) -> None:
    """Both CIs run the same shell: the shard's number from $CI_NODE_INDEX/$CI_NODE_TOTAL,
    which GitLab's parallel: sets and the GitHub matrix sets through env."""
    root = repository_root(project, [team])
    paths = watched_paths(root, project, [team])
    workflow = yaml.safe_load(github(root, project, project / "stack", paths, "now", shards=3))
    drill, report = workflow["jobs"]["drill"], workflow["jobs"]["report"]
    assert drill["strategy"]["matrix"]["shard"] == [1, 2, 3]
    assert drill["strategy"]["fail-fast"] is False
    assert drill["env"]["CI_NODE_INDEX"] == "${{ matrix.shard }}"
    assert drill["env"]["CI_NODE_TOTAL"] == "3"
    run = next(s["run"] for s in drill["steps"] if s.get("name") == "Run the drill")
    assert '--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"' in run
    assert '--report-dir "reports/shard-$CI_NODE_INDEX"' in run
    assert drill["steps"][-1]["with"]["name"] == "alertdrill-shard-${{ matrix.shard }}"
    assert report["needs"] == "drill" and report["if"] == "always()"
    fetch = report["steps"][1]["with"]
    assert fetch["pattern"] == "alertdrill-shard-*" and fetch["path"] == "drill/reports/"
    merge = next(s for s in report["steps"] if s.get("name") == "Merge the shards' reports")
    assert merge["working-directory"] == "drill" and "alertdrill report" in merge["run"]
    lab = yaml.safe_load(gitlab(root, project, project / "stack", paths, "now", shards=3))
    assert lab["alertdrill"]["parallel"] == 3
    assert lab["alertdrill"]["artifacts"]["paths"] == ["drill/reports/"]
    assert lab["alertdrill-report"]["needs"] == ["alertdrill"]
    assert lab["alertdrill-report"]["artifacts"]["paths"][0] == "drill/reports/junit.xml"
    single = yaml.safe_load(gitlab(root, project, project / "stack", paths, "now"))
    assert "parallel" not in single["alertdrill"] and "alertdrill-report" not in single


def test_ci_shards_out_of_range_or_without_ci_are_refused(team: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from alertdrill.cli import main

    for bad in ("0", "33", "two"):
        with pytest.raises(SystemExit) as exit_:
            main(["init", "--from", str(team), "--out", str(tmp_path / "d"), "--ci", "github",
                  "--ci-shards", bad])
        assert exit_.value.code == 4  # a usage error (README: exit statuses)
    assert "must be 32 or less" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="without --ci"):
        init(["--from", str(team), "--out", str(tmp_path / "d"), "--ci-shards", "2"])
    assert not (tmp_path / "d").exists(), "refused before anything was written"


def test_init_with_ci_writes_the_workflow_at_the_repository_root(team: Path,
                                                                 tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    status, _ = init(["--from", str(team), "--out", str(tmp_path / "drill"), "--ci", "github"])
    assert status == 0
    assert (tmp_path / ".github" / "workflows" / "alertdrill.yml").is_file()
    status, _ = init(["--out", str(tmp_path / "drill"), "--ci", "gitlab"])
    assert status == 0 and (tmp_path / ".gitlab-ci.yml").is_file()


# --- end to end ----------------------------------------------------------------------------------

def _run(project: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alertdrill.cli", "run", *extra], cwd=project,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_run_in_the_project_passes_then_fails_naming_the_alert_of_a_changed_route(
        team: Path, tmp_path: Path) -> None:
    out = tmp_path / "drill"
    done = subprocess.run([sys.executable, "-m", "alertdrill.cli", "init", "--from", str(team),
                           "--out", str(out)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    passed = _run(out, "--tags", "routing or inhibition")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "3 passed" in passed.stdout
    assert (out / "reports" / "junit.xml").is_file()
    assert (out / "reports" / "drill-report.html").is_file()
    am = out / "stack" / "alertmanager" / "alertmanager.yml"
    am.write_text(am.read_text().replace("      receiver: cache-slack",
                                         "      receiver: platform-slack", 1))
    failed = _run(out, "--tags", "routing")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "FAIL" in failed.stdout and "4 rows differ" in failed.stdout
    wrong = [line for line in failed.stdout.splitlines() if "expected ['cache-slack'" in line]
    assert wrong and all(("RedisDown" in line or "RedisMemoryHigh" in line)
                         and "platform-slack" in line for line in wrong)


@pytest.mark.slow
def test_the_fire_and_resolve_scenarios_pass_on_the_series_stand_in(team: Path,
                                                                     tmp_path: Path) -> None:
    out = tmp_path / "drill"
    done = subprocess.run([sys.executable, "-m", "alertdrill.cli", "init", "--from", str(team),
                           "--out", str(out)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert (out / "features" / "fire_and_resolve.feature").is_file()
    passed = _run(out, "--tags", "fire-and-resolve")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert " failed" not in passed.stdout and " passed" in passed.stdout


def _ci_commands(path: Path) -> list[tuple[str, str]]:
    """(working directory, command) of every run: step / script item of a written CI file."""
    data = yaml.safe_load(path.read_text())
    if "jobs" in data:
        return [(step.get("working-directory", "."), step["run"])
                for step in data["jobs"]["drill"]["steps"] if "run" in step]
    return [(".", item) for item in data["alertdrill"]["script"]]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_the_written_workflow_commands_run_in_a_fresh_venv(kind: str, team: Path,
                                                          tmp_path: Path) -> None:
    repo = tmp_path
    (repo / ".git").mkdir()
    status, _ = init(["--from", str(team), "--out", str(repo / "drill"), "--ci", kind])
    assert status == 0
    (repo / "drill" / "features" / "inhibition.feature").unlink()  # one scenario is enough here
    ci_file = repo / (".github/workflows/alertdrill.yml" if kind == "github" else ".gitlab-ci.yml")
    steps = _ci_commands(ci_file)
    assert len(steps) == 3
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path),
           # this checkout, as a team would point the variable at a wheel or a pinned version
           "ALERTDRILL_PIP_SPEC": f"-e {ROOT}"}
    for workdir, command in steps:
        if "apt-get install" in command:  # already satisfied on this machine: check, not run
            wanted = command.split("--no-install-recommends", 1)[1].split()
            installed = subprocess.run(["dpkg-query", "-W", "-f=${Status}\\n", *wanted],
                                       capture_output=True, text=True, check=False)
            assert installed.stdout.count("install ok installed") == len(wanted), installed
            continue
        done = subprocess.run(["bash", "-e", "-c", command], cwd=repo / workdir, env=env,
                              capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    assert (repo / ".alertdrill-venv" / "bin" / "alertdrill").is_file()
    assert "1 passed" in done.stdout
    assert (repo / "drill" / "reports" / "junit.xml").is_file()
    assert (repo / "drill" / "reports" / "drill-report.md").is_file()


@pytest.mark.slow
def test_the_sharded_gitlab_jobs_run_every_scenario_once_and_merge_into_one_report(
        team: Path, tmp_path: Path) -> None:
    """The shard jobs' commands, run as GitLab's parallel: 2 would (CI_NODE_INDEX 1 and 2, one
    after the other), then the merge job's in the same tree (GitLab unpacks every shard's
    reports/shard-I/ side by side): the merged JUnit counts every scenario exactly once."""
    import xml.etree.ElementTree as ET

    repo = tmp_path
    (repo / ".git").mkdir()
    status, _ = init(["--from", str(team), "--out", str(repo / "drill"), "--ci", "gitlab",
                      "--ci-shards", "2"])
    assert status == 0
    (repo / "drill" / "features" / "fire_and_resolve.feature").unlink(missing_ok=True)
    data = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path),
           "ALERTDRILL_PIP_SPEC": f"-e {ROOT}", "CI_NODE_TOTAL": "2"}

    def run(script: list[str], **extra: str) -> str:
        out = ""
        for command in script:
            if "apt-get install" in command:  # satisfied on this machine: check, not run
                wanted = command.split("--no-install-recommends", 1)[1].split()
                installed = subprocess.run(["dpkg-query", "-W", "-f=${Status}\\n", *wanted],
                                           capture_output=True, text=True, check=False)
                assert installed.stdout.count("install ok installed") == len(wanted)
                continue
            if "pip install" in command and (repo / ".alertdrill-venv").is_dir():
                continue  # one venv serves every job here
            done = subprocess.run(["bash", "-e", "-c", command], cwd=repo, capture_output=True,
                                  env={**env, **extra}, text=True, timeout=900, check=False)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            out += done.stdout
        return out

    counts = []
    for index in ("1", "2"):
        run(data["alertdrill"]["script"], CI_NODE_INDEX=index)
        junit = ET.parse(repo / "drill" / "reports" / f"shard-{index}" / "junit.xml").getroot()
        suite = junit if junit.tag == "testsuite" else junit.find("testsuite")
        assert suite is not None
        counts.append(int(suite.get("tests", "0")))
    assert all(counts), f"each shard ran something: {counts}"
    run(data["alertdrill-report"]["script"])
    merged = ET.parse(repo / "drill" / "reports" / "junit.xml").getroot()
    cases = [c.get("name") for c in merged.iter("testcase")]
    assert len(cases) == sum(counts) == len(set(cases)) == 3, cases
    assert (repo / "drill" / "reports" / "drill-report.md").is_file()


def test_check_in_a_project_checks_its_own_stack(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """`alertdrill check [--features]` in a drill project means the project's stack, as `run`
    does — not the bundled sample (whose receivers the generated features do not name)."""
    from alertdrill.cli import main

    monkeypatch.delenv("ALERTDRILL_STACK", raising=False)
    monkeypatch.chdir(project)
    assert main(["check", "--features", "features"]) == 0, capsys.readouterr().out
    assert main(["check", "--no-tools"]) == 0
    assert "stack: 0 errors" in capsys.readouterr().out
