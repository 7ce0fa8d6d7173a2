"""A claim of absence that the routing tree makes true anyway says that it holds vacuously."""

from __future__ import annotations

from pathlib import Path

from alertdrill.analysis.staticreach import reachable_receivers
from alertdrill.engine.expect import Expect
from alertdrill.engine.matches import NotificationMatch
from alertdrill.engine.stackspec import StackSpec
from alertdrill.engine.timeline import Timeline
from alertdrill.engine.timescale import TimeScale

PROMETHEUS = """\
global: {scrape_interval: 15s, evaluation_interval: 15s}
rule_files: [rules.yml]
scrape_configs:
  - job_name: web
    static_configs: [{targets: ["web:8080"]}]
"""
RULES = """\
groups:
  - name: g
    rules:
      - alert: WebDown
        expr: up{job="web"} == 0
        labels: {team: web, severity: critical}
      - alert: Anything
        expr: up == 0
        labels: {severity: "{{ $labels.job }}"}
"""
ALERTMANAGER = """\
route:
  receiver: default
  routes:
    - matchers: ['team="web"']
      receiver: web-team
    - matchers: ['team="db"']
      receiver: db-team
    - matchers: ['escalation="level-2"']
      receiver: level-2
receivers: [{name: default}, {name: web-team}, {name: db-team}, {name: level-2}]
"""


def _stack(tmp_path: Path, manifest: str = "") -> StackSpec:
    (tmp_path / "prometheus.yml").write_text(PROMETHEUS)
    (tmp_path / "rules.yml").write_text(RULES)
    (tmp_path / "alertmanager.yml").write_text(ALERTMANAGER)
    if manifest:
        (tmp_path / "alertdrill.yml").write_text(manifest)
    return StackSpec.load(tmp_path)


def test_a_rule_with_a_fixed_team_reaches_only_its_team(tmp_path: Path) -> None:
    reach = reachable_receivers(_stack(tmp_path))
    assert reach("WebDown") == {"web-team"}
    # no team label at all: the default (and nothing matching on team or escalation)
    assert reach("Anything") == {"default"}
    assert reach("PushedByAStep") is None


def test_labels_a_stack_service_adds_stay_possible(tmp_path: Path) -> None:
    reach = reachable_receivers(_stack(tmp_path, "services:\n  esc: {kind: escalation}\n"))
    assert reach("Anything") == {"default", "level-2"}


def test_a_never_claim_that_cannot_fail_says_so(tmp_path: Path) -> None:
    timeline = Timeline()

    class _Observer:
        def poll(self) -> None:
            pass

    expect = Expect(timeline, _Observer(), TimeScale(60.0, 0.25), 0.0,  # type: ignore[arg-type]
                    reachable_receivers(_stack(tmp_path)))
    expect.never_notified(NotificationMatch("db-team", "WebDown", None), 0.0)
    expect.never_notified(NotificationMatch("web-team", "WebDown", None), 0.0)
    vacuous, meaningful = [e.detail["text"] for e in timeline.events(["claim"])]
    assert 'holds vacuously: no label set the rules can give "WebDown" is routed to "db-team"' \
        in vacuous
    assert "vacuously" not in meaningful
