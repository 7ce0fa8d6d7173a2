"""Time scaling of configs and PromQL: exact, floored, and loud about what it cannot scale."""

from __future__ import annotations

import pytest

from alertdrill.analysis.promql import ScalingMismatch, durations_of, scale_expr, verify
from alertdrill.durations import parse_duration
from alertdrill.engine.timescale import (
    TimeScale,
    detect_kind,
    hold_scrape_timeouts,
    prometheus_flags,
    scale_alertmanager_config,
    scale_prometheus_config,
    scale_promtool_test,
    scale_rule_file,
)
from alertdrill.errors import ConfigError

K60 = TimeScale(60, 0.25)


def test_ranges_subqueries_and_offsets_are_divided() -> None:
    result = scale_expr("max_over_time(rate(x[5m])[1h:1m] offset -2m) > 0", 60, 0.25)
    assert result.expr == "max_over_time(rate(x[5s])[1m:1s] offset -2s) > 0"
    assert sorted(durations_of(result.expr)) == [
        ("offset", -2.0), ("range", 5.0), ("range", 60.0), ("resolution", 1.0)]
    assert result.warnings == []


def test_string_literals_and_comments_are_untouched() -> None:
    expr = 'rate(http{path=~".*\\\\[5m\\\\].*", q=\'[1h]\'}[5m]) # see [10m]'
    result = scale_expr(expr, 60, 0.25)
    assert '".*\\\\[5m\\\\].*"' in result.expr and "'[1h]'" in result.expr
    assert result.expr.endswith("[5s]) # see [10m]")


def test_offset_as_a_label_name_is_not_a_keyword() -> None:
    assert scale_expr("sum by (offset) (x{offset=\"1m\"})", 60, 0.25).changes == []


def test_subquery_without_resolution_keeps_its_colon() -> None:
    assert scale_expr("max_over_time(x[10m:])", 60, 0.25).expr == "max_over_time(x[10s:])"


def test_clamping_is_a_warning_with_the_real_world_effect() -> None:
    result = scale_expr("increase(x[10s])", 60, 0.25)
    assert result.expr == "increase(x[250ms])"
    [change] = result.changes
    assert change.clamped and change.original == 10 and change.scaled == 0.25
    assert "15s long in real-world terms" in result.warnings[0]


def test_rounding_is_to_whole_milliseconds() -> None:
    assert scale_expr("rate(x[7m])", 60, 0.25).expr == "rate(x[7s])"
    assert scale_expr("rate(x[1m])", 7, 0.25).expr == "rate(x[8s571ms])"


@pytest.mark.parametrize(("expr", "needle"), [
    ("predict_linear(x[1h], 4 * 3600) < 0", "predict_linear"),
    ("time() - x > 600", "time()"),
    ("hour() > 8", "hour()"),
    ("holt_winters(x[10m], 0.5, 0.5)", "holt_winters"),
    ("rate(x[5m] @ 1609746000)", "@ modifier"),
])
def test_unscalable_constructs_are_named(expr: str, needle: str) -> None:
    [warning] = scale_expr(expr, 60, 0.25, "rule 'R'").warnings
    assert warning.startswith("rule 'R':") and needle in warning


def test_verify_catches_a_rewrite_that_disagrees_with_the_parser() -> None:
    good = scale_expr("rate(x[5m])", 60, 0.25)
    good.expr = "rate(x[6s])"
    with pytest.raises(ScalingMismatch):
        verify("rate(x[5m])", good, 60)


def test_rule_file_for_interval_and_zero() -> None:
    doc = {"groups": [{"name": "g", "interval": "1m", "rules": [
        {"alert": "A", "expr": "up == 0", "for": "5m"},
        {"alert": "B", "expr": "rate(x[5m]) > 1", "for": "0s"},
        {"alert": "C", "expr": "up == 0", "for": "5s", "keep_firing_for": "10m"},
        {"record": "r", "expr": "sum(rate(x[1m]))"},
    ]}]}
    result = scale_rule_file(doc, K60)
    rules = result.doc["groups"][0]["rules"]
    assert result.doc["groups"][0]["interval"] == "1s"
    assert rules[0]["for"] == "5s" and rules[1]["for"] == "0s"
    assert rules[2]["for"] == "250ms" and rules[2]["keep_firing_for"] == "10s"
    assert rules[3]["expr"] == "sum(rate(x[1s]))"
    [clamp] = result.warnings
    assert "rule 'C' for: 5s → 250ms" in clamp and "15s in real-world terms" in clamp
    assert doc["groups"][0]["rules"][0]["for"] == "5m", "the user's document is never changed"


def test_prometheus_config_defaults_are_written_scaled() -> None:
    result = scale_prometheus_config({"scrape_configs": [
        {"job_name": "a", "scrape_interval": "5s"}, {"job_name": "b"}]}, K60)
    glob = result.doc["global"]
    assert (glob["scrape_interval"], glob["evaluation_interval"]) == ("1s", "1s")
    assert glob["scrape_timeout"] == "250ms"  # 10s/60 = 167ms → floor
    job_a = result.doc["scrape_configs"][0]
    assert (job_a["scrape_interval"] == "250ms" and "scrape_timeout" not in job_a) or \
        parse_duration(job_a["scrape_timeout"]) <= 0.25


def test_alertmanager_routes_and_defaults() -> None:
    doc = {"route": {"receiver": "r", "routes": [
        {"receiver": "a", "group_wait": "0s", "repeat_interval": "5m"},
        {"receiver": "b", "mute_time_intervals": ["weekends"]}]},
           "time_intervals": [{"name": "weekends"}]}
    result = scale_alertmanager_config(doc, K60)
    root = result.doc["route"]
    assert (root["group_wait"], root["group_interval"], root["repeat_interval"]) == (
        "500ms", "5s", "4m")
    assert result.doc["global"]["resolve_timeout"] == "5s"
    child = root["routes"][0]
    assert child == {"receiver": "a", "group_wait": "0s", "repeat_interval": "5s"}
    assert "group_interval" not in child, "inherited fields stay inherited"
    assert sum("calendar time" in w for w in result.warnings) == 2


def test_promtool_test_file() -> None:
    doc = {"rule_files": ["r.yml"], "evaluation_interval": "1m", "tests": [
        {"interval": "1m", "input_series": [{"series": "up", "values": "1 0x20"}],
         "alert_rule_test": [{"eval_time": "10m", "alertname": "A"}],
         "promql_expr_test": [{"expr": "rate(x[5m])", "eval_time": "5m", "exp_samples": []}]}]}
    result = scale_promtool_test(doc, K60)
    test = result.doc["tests"][0]
    assert result.doc["evaluation_interval"] == "1s" and test["interval"] == "1s"
    assert test["input_series"][0]["values"] == "1 0x20", "series notation is count-based"
    assert test["alert_rule_test"][0]["eval_time"] == "10s"
    assert test["promql_expr_test"][0] == {"expr": "rate(x[5s])", "eval_time": "5s",
                                           "exp_samples": []}


def test_flags_and_kinds() -> None:
    assert prometheus_flags(K60) == ["--rules.alert.resend-delay=1s",
                                     "--rules.alert.for-grace-period=10s",
                                     "--rules.alert.for-outage-tolerance=1m"]
    assert prometheus_flags(TimeScale(1))[0] == "--rules.alert.resend-delay=1m"
    assert detect_kind({"groups": []}) == "rules"
    assert detect_kind({"route": {}}) == "alertmanager"
    assert detect_kind({"scrape_configs": []}) == "prometheus"
    assert detect_kind({"rule_files": [], "tests": []}) == "promtool-test"
    with pytest.raises(ConfigError):
        detect_kind({"something": 1})


def test_scale_one_is_the_identity() -> None:
    assert TimeScale(1).interval(0.1) == (0.1, False)
    assert TimeScale(60).measured(120) == 2 and TimeScale(60).real(2) == 120


def test_held_jobs_keep_real_time_scrapes_and_say_so() -> None:
    doc = {"global": {"scrape_interval": "15s"},
           "scrape_configs": [{"job_name": "ocsp"}, {"job_name": "other"}]}
    scaled = scale_prometheus_config(doc, TimeScale(60, 0.25)).doc
    warnings = hold_scrape_timeouts(scaled, {"ocsp": 4.0}, TimeScale(60, 0.25))
    ocsp, other = scaled["scrape_configs"]
    assert (ocsp["scrape_timeout"], ocsp["scrape_interval"]) == ("4s", "4s")
    assert "scrape_timeout" not in other
    assert len(warnings) == 1 and "4m in real-world terms" in warnings[0]
    assert hold_scrape_timeouts(scaled, {"ocsp": 4.0}, TimeScale(60, 0.25)) == []  # idempotent


def test_a_job_held_at_real_time_adds_its_unscaled_delay_to_claims() -> None:
    """The OCSP probe job keeps a 4 s timeout (and so interval): what the hold adds over the
    scaled values is measured time the claims about its alerts must allow, at any K."""
    from alertdrill.engine.matches import Window
    from alertdrill.engine.timescale import held_delays

    config = {"global": {"scrape_interval": "15s", "scrape_timeout": "10s"},
              "scrape_configs": [{"job_name": "probe"}, {"job_name": "other"}]}
    for k in (60.0, 120.0):
        # scaled: interval and timeout on the 0.25 s floor; held: 4 s each
        assert held_delays(config, {"probe": 4.0}, TimeScale(k, 0.25)) == {"probe": 7.5}
    assert held_delays(config, {"probe": 4.0}, TimeScale(1.0, 0.25)) == {}  # 10 s ≥ 4 s
    window = Window(1.0, 1.0 + 5.0 + 7.5 + 0.5, 600.0, 5.0, 0.5, "x", 7.5, "job 'probe' is "
                    "scraped at real time")
    assert "(5.00 s measured + 7.50 s unscaled (job 'probe' is scraped at real time) + 0.50 s " \
           "tolerance)" in window.describe()
    assert window.contains(13.9) and not window.contains(14.1)
