"""The series stand-in's plan and trip steps, from a team's rules (tests/data/series)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from alertdrill.analysis.amroute import Matcher
from alertdrill.analysis.seriescontrol import select
from alertdrill.analysis.seriesplan import stand_ins, value_matching, value_not_matching
from alertdrill.analysis.seriestrip import trip_steps
from alertdrill.engine.stackspec import StackSpec
from alertdrill.errors import ConfigError, StepError

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "tests" / "data" / "series"


@pytest.fixture(scope="module")
def spec() -> StackSpec:
    return StackSpec.load(STACK)


def test_a_service_without_kind_and_an_unclaimed_target_are_stand_ins(spec: StackSpec) -> None:
    kinds = {n: (s.kind, s.addresses) for n, s in spec.services.items()}
    assert kinds == {"redis": ("series", ("redis:9121",)), "api": ("series", ("api:8080",)),
                     "batch": ("series", ("batch:9100",))}
    assert spec.services["batch"].options == {"auto": True}


@pytest.mark.parametrize("stack", ["stack/sample", "stack/reference", "stack/seed-001-routing",
                                   "examples/shop/stack", "bench/stack"])
def test_bundled_stacks_get_no_stand_in(stack: str) -> None:
    assert [s.name for s in StackSpec.load(ROOT / stack).services.values()
            if s.kind == "series"] == []


def test_families_types_labels_and_baseline(spec: StackSpec) -> None:
    api = stand_ins(spec)["api"]
    requests = api.families["http_requests_total"]
    assert requests.type == "counter"
    # code=~"5.." gives code="500" (errors flat); the denominator's healthy sibling code="200"
    assert [(s.labels, s.rate) for s in requests.series] == [({"code": "500"}, 0.0),
                                                               ({"code": "200"}, 10.0)]
    latency = api.families["http_request_duration_seconds"]
    assert latency.type == "histogram"
    assert latency.series[0].latency <= 0.5 and latency.series[0].rate > 0
    assert 1.0 in latency.buckets and 2.0 in latency.buckets  # the threshold, and past it
    assert api.family("http_request_duration_seconds_bucket") is latency
    # `api_build_info < 1` alone would give 2; the manifest's baseline says 1
    assert api.families["api_build_info"].series[0].value == 1.0
    redis = stand_ins(spec)["redis"]
    assert redis.families["redis_up"].series[0].value == 1.0  # redis_up == 0 → 1
    assert redis.families["redis_connected_clients"].series[0].value == 450.0  # > 900 → below
    assert "up" not in redis.families  # Prometheus's own
    # a selector with job="api" belongs to api only; one without a job matcher to every job
    assert "http_requests_total" not in redis.families
    assert "redis_up" in api.families
    assert "batch_last_success_timestamp_seconds" in stand_ins(spec)["batch"].families


def test_trip_plans(spec: StackSpec) -> None:
    assert trip_steps(spec, "RedisDown").steps == ['the service "redis" is stopped']
    assert trip_steps(spec, "RedisDown").revert_steps == ['the service "redis" is started again']
    assert trip_steps(spec, "RedisTooManyConnections").steps == [
        'the series redis_connected_clients of "redis" is set to 1800']
    assert trip_steps(spec, "RedisExporterDown").steps == [
        'the series redis_up of "redis" is set to 0']
    ratio = trip_steps(spec, "ApiHighErrorRate")
    assert len(ratio.steps) == 1 and ratio.steps[0].startswith(
        'the rate of http_requests_total{code="500"} of "api" rises to ')
    rate = float(ratio.steps[0].split(" rises to ")[1].split()[0])
    assert rate / (rate + 10) > 0.05
    assert trip_steps(spec, "ApiSlow").steps == [
        'the latency of http_request_duration_seconds of "api" rises to 2 seconds']
    assert trip_steps(spec, "BatchHeartbeatMissing").steps == [
        'the series batch_last_success_timestamp_seconds of "batch" disappears']
    assert trip_steps(spec, "BatchHeartbeatMissing").revert_steps == [
        'the series batch_last_success_timestamp_seconds of "batch" returns to its baseline']


@pytest.mark.parametrize(("rule", "why"), [
    ("Watchdog", "vector()"), ("BatchDiskFillingUp", "predict_linear"),
    ("BatchJobAbsent", "a stopped target still has up == 0")])
def test_rules_the_stand_in_cannot_trip_say_why(spec: StackSpec, rule: str, why: str) -> None:
    plan = trip_steps(spec, rule)
    assert not plan.trippable and plan.steps == [] and why in plan.reason


def test_unknown_rule_is_refused_with_a_suggestion(spec: StackSpec) -> None:
    with pytest.raises(ConfigError, match='did you mean "RedisDown"'):
        trip_steps(spec, "RedisDwn")


def test_regex_values() -> None:
    assert value_matching(Matcher("code", "=~", "5..")) == "500"
    assert value_matching(Matcher("code", "=~", "(5|4)[0-9]{2}")) == "500"
    assert value_matching(Matcher("queue", "=~", "mail|sms")) == "mail"
    assert value_not_matching(Matcher("code", "=~", "5..")) == "200"
    assert value_not_matching(Matcher("status", "=~", "2..|ok")) == "healthy"


def test_step_selection_refuses_with_did_you_mean(spec: StackSpec) -> None:
    redis = stand_ins(spec)["redis"]
    chosen = select(redis, "redis", 'redis_connected_clients{instance="redis:9121"}', "value")
    assert chosen.family.name == "redis_connected_clients" and chosen.labels == {}
    with pytest.raises(StepError, match='did you mean "redis_connected_clients"'):
        select(redis, "redis", "redis_conected_clients", "value")
    with pytest.raises(StepError, match="no target"):
        select(redis, "redis", 'redis_up{instance="other:1"}', "value")
    api = stand_ins(spec)["api"]
    with pytest.raises(StepError, match="is a counter"):
        select(api, "api", 'http_requests_total{code="500"}', "value")
    with pytest.raises(StepError, match="no series with"):
        select(api, "api", 'http_requests_total{code="404"}', "rate")


def _copy(tmp_path: Path, manifest: str) -> StackSpec:
    shutil.copytree(STACK, tmp_path / "s")
    (tmp_path / "s" / "alertdrill.yml").write_text(manifest)
    return StackSpec.load(tmp_path / "s")


def test_manifest_baseline_forms_and_refusals(tmp_path: Path) -> None:
    spec = _copy(tmp_path, """
services:
  api:
    address: api:8080
    baseline:
      'http_requests_total{code="200"}': {rate: 50}
      http_request_duration_seconds: {latency: 0.1, rate: 5}
      'http_requests_total{code="404"}': {rate: 1}
""")
    api = stand_ins(spec)["api"]
    by_code = {s.labels.get("code"): s.rate for s in api.families["http_requests_total"].series}
    assert by_code == {"500": 0.0, "200": 50.0, "404": 1.0}
    assert api.families["http_request_duration_seconds"].series[0].latency == 0.1
    for baseline, message in [("{http_requestz_total: {rate: 1}}", "did you mean"),
                              ("{http_requests_total: 5}", "is a counter"),
                              ("{'x{a=~\"b\"}': 1}", "only = matchers")]:
        bad = _copy(tmp_path / message.replace(" ", "-"),
                    f"services:\n  api:\n    address: api:8080\n    baseline: {baseline}\n")
        with pytest.raises(ConfigError, match=message):
            stand_ins(bad)


def test_unclaimed_targets_can_be_dropped(tmp_path: Path) -> None:
    spec = _copy(tmp_path, "unclaimed_targets: drop\nservices:\n  redis:\n    address: redis:9121\n")
    assert list(spec.services) == ["redis"]


def test_docker_translation_runs_the_stand_in_from_its_plan(tmp_path: Path, spec: StackSpec) -> None:
    from alertdrill.backends.docker_services import BuildContext, build_service
    from alertdrill.kinds.capabilities import SeriesDriven

    plans = stand_ins(spec)
    ctx = BuildContext(spec=spec, workdir=tmp_path, time_scale=60.0, images={"python": "img"},
                       client=None, labels={}, stack_network="net", suffix="x", sink_name="sink",
                       sink_port=8080, alertmanager_urls=[], authority=lambda: None,  # type: ignore[arg-type,return-value]
                       series=plans)
    svc = build_service(ctx, spec.services["redis"])
    assert svc.command == ["python", "-m", "alertdrill.targets.series", "--plan",
                           "/alertdrill/series/plan.json", "--listen", "0.0.0.0:9121"]
    driven = svc.capability(SeriesDriven)
    assert svc.ready_path == "/metrics" and driven is not None and driven.plan is plans["redis"]
    written = (tmp_path / "series-redis" / "plan.json").read_text()
    assert '"redis_connected_clients"' in written
