"""Duplicates, the cluster's state and the stack's health are observed and reported."""

from __future__ import annotations

from alertdrill.engine import timeline as tl
from alertdrill.engine.cluster import dedup_window, find_duplicates, peer_state
from alertdrill.engine.health import Health, prometheus_health
from alertdrill.engine.timeline import Timeline
from alertdrill.report import observed_lines


def _notify(timeline: Timeline, t: float, peer: int, receiver: str = "dba", status: str = "firing",
            code: int = 200, integration: str = "probe") -> None:
    timeline.add(tl.NOTIFICATION, receiver, t=t, peer=peer, integration=integration, index=0,
                 status=status, response_code=code, alertnames=["PostgreSQLDown"],
                 alerts=[{"alertname": "PostgreSQLDown", "instance": "pg:9187"}])


def test_a_second_peer_inside_the_stagger_is_a_duplicate_a_later_repeat_is_not() -> None:
    timeline = Timeline()
    window = dedup_window(3, 0.3)
    assert window == 0.3 * 2 + 0.5
    _notify(timeline, 1.40, 0)
    _notify(timeline, 1.75, 1)          # same flush, second peer: duplicate
    _notify(timeline, 6.70, 1)          # a repeat (repeat_interval later), another peer: fine
    _notify(timeline, 6.80, 1, status="resolved")  # another status: another notification
    _notify(timeline, 7.00, 2, code=500, integration="slack")  # a failed attempt: not received
    found = find_duplicates(timeline.events(), window)
    assert [(d.first_peer, d.peer, d.t) for d in found] == [(0, 1, 1.75)]
    assert "alertmanager-0 at +1.40 s and alertmanager-1 at +1.75 s" in found[0].describe()


def test_the_same_peer_twice_is_never_a_duplicate() -> None:
    timeline = Timeline()
    _notify(timeline, 1.0, 0)
    _notify(timeline, 1.2, 0)
    assert find_duplicates(timeline.events(), 5.0) == []


def test_peer_state_reads_the_cluster_metrics() -> None:
    text = ("# HELP x\nalertmanager_cluster_members 3\nalertmanager_cluster_failed_peers 0\n"
            "alertmanager_cluster_health_score 0\n"
            'alertmanager_nflog_gossip_messages_propagated_total 7\n'
            'alertmanager_cluster_messages_received_total{msg_type="full_state"} 2\n'
            'alertmanager_cluster_messages_received_total{msg_type="update"} 5\n')
    state = peer_state(1, text)
    assert (state.members, state.failed_peers, state.messages_received) == (3, 0, 7)
    assert state.describe() == ("alertmanager-1: 3 members, 0 failed, health 0, 7 nflog gossip "
                                "messages")
    assert peer_state(2, None).describe() == "alertmanager-2: unreachable"


PROMETHEUS_METRICS = """\
prometheus_rule_group_iterations_missed_total{rule_group="a.yml;g"} 2
prometheus_rule_group_iterations_missed_total{rule_group="b.yml;h"} 1
prometheus_rule_group_last_duration_seconds{rule_group="a.yml;g"} 0.05
prometheus_rule_group_interval_seconds{rule_group="a.yml;g"} 0.25
prometheus_target_interval_length_seconds{interval="250ms",quantile="0.99"} 0.5
prometheus_target_interval_length_seconds{interval="1s",quantile="0.99"} NaN
"""


def test_prometheus_says_when_it_fell_behind() -> None:
    found = prometheus_health(PROMETHEUS_METRICS)
    assert found == {"rule_iterations_missed": 3, "slowest_rule_group": 0.2,
                     "scrape_interval_p99": 2.0}
    health = Health(**found, harness_lag_max=0.9)
    signs = health.behind(tolerance=0.5)
    assert len(signs) == 3, signs  # missed, scrapes late, harness lag (the group kept up)
    assert health.describe(0.5).startswith("⚠ the stack fell behind during this scenario")


def test_a_stack_that_kept_up_says_so() -> None:
    health = Health(0, 0.1, 1.01, 0.02)
    assert health.behind(0.5) == []
    assert health.describe(0.5).startswith("stack health: it kept up (rule-group iterations "
                                           "missed 0, slowest rule group 10 %")


def test_the_report_shows_duplicates_overload_and_the_cluster() -> None:
    record = {"stacks": [{
        "duplicates": [{"receiver": "dba", "integration": "probe", "status": "firing",
                        "alertnames": ["PostgreSQLDown"], "first_t": 1.4, "first_peer": 0,
                        "t": 1.75, "peer": 1}],
        "fell_behind": ["Prometheus missed 3 rule-group evaluation(s)"],
        "cluster": [{"peer": 0, "reachable": True, "members": 3, "failed_peers": 0},
                    {"peer": 1, "reachable": False}]}]}
    lines = observed_lines(record)
    assert lines[0].startswith("1 duplicate notification (the same one from a second peer")
    assert "alertmanager-0 at" in lines[0] and "alertmanager-1 at" in lines[0]
    assert lines[1] == "⚠ the stack fell behind: Prometheus missed 3 rule-group evaluation(s)"
    assert lines[2] == ("cluster at the end: alertmanager-0 3 members, 0 failed; "
                        "alertmanager-1 unreachable")
