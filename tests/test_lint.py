"""`alertdrill check`: the route matcher, the rule label analysis, each lint check (positive and
negative cases on small inline stacks), the real tools' verdicts, and the seed's known bugs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from alertdrill.analysis.amroute import (
    ConcreteLabels,
    Matcher,
    MatcherError,
    Route,
    Tri,
    all3,
    implies,
    match3,
    match_routes,
    matchers_from_config,
    parse_matchers,
)
from alertdrill.analysis.lint import Finding, check_stack, load_route_tree
from alertdrill.analysis.rulelabels import ExprLabels, Shape, alert_shapes, target_shapes
from alertdrill.backends.binaries import find_binary
from alertdrill.errors import MissingBinaryError
from tests.helpers import ROOT

SEED = ROOT / "tests" / "data" / "seed-001"
SEED_AM = "tests/data/seed-001/alertmanager/alertmanager.yml"

# --- the route matcher ------------------------------------------------------------------------


def test_parse_matchers_reads_alertmanagers_syntax() -> None:
    assert parse_matchers('severity="critical"') == [Matcher("severity", "=", "critical")]
    assert parse_matchers('{team=~"dev|ops", tier!=backend}') == [
        Matcher("team", "=~", "dev|ops"), Matcher("tier", "!=", "backend")]
    assert parse_matchers(r'msg="a \"quoted\", comma"') == [
        Matcher("msg", "=", 'a "quoted", comma')]
    assert parse_matchers('x !~ "a.*"') == [Matcher("x", "!~", "a.*")]
    for bad in ('severity=="x"', '="x"', 'a="unterminated', "a"):
        with pytest.raises(MatcherError):
            parse_matchers(bad)


def test_matchers_are_fully_anchored_and_missing_labels_are_empty() -> None:
    team = Matcher("team", "=~", "dev")
    assert team.matches("dev") and not team.matches("devops") and not team.matches("xdev")
    assert Matcher("team", "=~", "dev|ops").matches("ops")
    assert Matcher("team", "!~", "dev.*").matches("ops")
    assert not Matcher("team", "!~", "dev.*").matches("devops")
    # A missing label has the value "": != and .* match it, = and .+ do not.
    assert Matcher("team", "!=", "dev").matches("")
    assert Matcher("team", "=~", ".*").matches("")
    assert not Matcher("team", "=~", ".+").matches("")
    assert not Matcher("team", "=", "dev").matches("")


def test_legacy_match_maps_are_matchers_and_yaml_scalars_are_text() -> None:
    route = {"matchers": ['a="1"'], "match": {"maintenance": True, "n": 5},
             "match_re": {"team": "dev|ops"}}
    assert matchers_from_config(route) == [
        Matcher("a", "=", "1"), Matcher("maintenance", "=", "true"), Matcher("n", "=", "5"),
        Matcher("team", "=~", "dev|ops")]
    inhibit = {"source_match": {"alertname": "X"}, "target_matchers": ['b!="2"']}
    assert matchers_from_config(inhibit, "source_") == [Matcher("alertname", "=", "X")]
    assert matchers_from_config(inhibit, "target_") == [Matcher("b", "!=", "2")]


def _tree() -> Route:
    def route(text: str, receiver: str | None, *children: Route, cont: bool = False) -> Route:
        node = Route(tuple(parse_matchers(text)) if text else (), receiver, cont,
                     list(children))
        for child in children:
            if child.receiver is None:
                child.receiver = receiver  # inherited, as lint._route does
        return node

    return route("", "default",
                 route('severity="critical"', "pager", cont=True),
                 route('team="web"', "web", route('tier="frontend"', "frontend")),
                 route('team=~"web|db"', "web-or-db"),
                 route('team="db"', None))


@pytest.mark.parametrize(("labels", "receivers"), [
    ({"team": "web"}, ["web"]),                                 # the sibling after it is not tried
    ({"team": "web", "tier": "frontend"}, ["frontend"]),        # the deepest matching child
    ({"team": "web", "severity": "critical"}, ["pager", "web"]),  # continue: true falls through
    ({"team": "db"}, ["web-or-db"]),                            # first match wins, regex anchored
    ({"team": "dbx"}, ["default"]),                             # no child matches: the root
    ({"severity": "critical"}, ["pager"]),
])
def test_match_routes_follows_alertmanagers_dispatch(labels: dict[str, str],
                                                     receivers: list[str]) -> None:
    assert [r.receiver for r in match_routes(_tree(), labels)] == receivers


def test_an_inherited_receiver_is_the_parents() -> None:
    tree = _tree()
    assert tree.routes[3].receiver == "default"


def test_three_valued_matching() -> None:
    crit = Matcher("severity", "=", "critical")
    assert match3(crit, frozenset({"critical"})) is Tri.YES
    assert match3(crit, frozenset({"warning", ""})) is Tri.NO
    assert match3(crit, frozenset({"critical", "warning"})) is Tri.MAYBE
    assert match3(crit, None) is Tri.MAYBE
    assert match3(Matcher("x", "=~", ".*"), None) is Tri.YES
    assert all3([crit, Matcher("team", "=", "db")], Shape({"severity": frozenset({"critical"})},
                                                          open=False)) is Tri.NO
    assert all3([crit], ConcreteLabels({"severity": "critical"})) is Tri.YES


def test_implies_only_what_is_certain() -> None:
    def m(text: str) -> list[Matcher]:
        return parse_matchers(text) if text else []

    assert implies(m('team="db", tier="x"'), m('team="db"'))      # a subset
    assert implies(m('team="db"'), m(""))                         # no matchers: always
    assert implies(m('team="db"'), m('team=~"db|web"'))           # the value is accepted
    assert implies(m('team="db"'), m('team!="web"'))
    assert implies(m('a="1"'), m('b=~".*"'))
    assert not implies(m('team="db"'), m('team="web"'))
    assert not implies(m('team=~"db|web"'), m('team="db"'))
    assert not implies(m('tier="x"'), m('team!="web"'))           # team may be web


def _amtool_routes(config: Path, labels: dict[str, str]) -> list[str]:
    argv = [find_binary("amtool"), "config", "routes", "test", f"--config.file={config}",
            *(f"{k}={v}" for k, v in labels.items())]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    return done.stdout.strip().split(",")


@pytest.mark.parametrize("labels", [
    {"alertname": "WebAppDown", "severity": "critical", "team": "development",
     "tier": "frontend", "escalation": "immediate"},
    {"alertname": "APISlowResponse", "severity": "warning", "team": "development",
     "tier": "backend"},
    {"alertname": "DiskSpaceLow", "severity": "critical", "team": "operations"},
    {"alertname": "X", "severity": "warning", "team": "development", "maintenance": "true"},
    {"alertname": "Unowned", "severity": "info"},
    {"alertname": "Y", "severity": "warning", "team": "operations", "category": "performance"},
])
def test_match_routes_agrees_with_amtool_on_the_reference_tree(labels: dict[str, str]) -> None:
    config = ROOT / "stack" / "reference" / "alertmanager" / "alertmanager.yml"
    tree = load_route_tree(config)
    assert tree is not None
    ours = [r.receiver for r in match_routes(tree, labels)]
    assert ours == _amtool_routes(config, labels)


# --- what labels a rule's alerts carry --------------------------------------------------------

PROM = """\
global:
  external_labels: {cluster: prod}
rule_files: [rules/*.yml]
scrape_configs:
  - job_name: node
    static_configs:
      - targets: [node-exporter:9100]
        labels: {host: h1}
  - job_name: api
    static_configs:
      - targets: [api:5000]
        labels: {host: h1}
    relabel_configs:
      - target_label: team
        replacement: dev
  - job_name: db
    static_configs:
      - targets: [db-exporter:9187, db-exporter-2:9187]
  - job_name: probe
    static_configs:
      - targets: [site:443]
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
"""


def _exprs(prom: str = PROM, recorded: tuple[str, ...] = ()) -> ExprLabels:
    import yaml

    return ExprLabels(target_shapes(yaml.safe_load(prom)), recorded)


def _values(shapes: list[Shape], label: str) -> set[str] | None:
    found: set[str] = set()
    for shape in shapes:
        poss = shape.get(label)
        if poss is None:
            return None
        found |= poss
    return found


def test_target_labels_come_from_static_configs_and_constant_relabelling() -> None:
    [api] = _exprs().of('up{job="api"} == 0')
    assert (api.get("instance"), api.get("team"), api.get("host"), api.get("job")) == (
        frozenset({"api:5000"}), frozenset({"dev"}), frozenset({"h1"}), frozenset({"api"}))
    assert api.get("anything") == frozenset({""}), "up carries only the target labels"
    [probe] = _exprs().of('up{job="probe"}')
    assert probe.get("instance") is None, "instance rewritten from a source label: unknown"


def test_expressions_keep_drop_and_combine_labels_as_promql_does() -> None:
    exprs = _exprs()
    assert _values(exprs.of('rate(x{job="db"}[5m]) > 1'), "instance") == {
        "db-exporter:9187", "db-exporter-2:9187"}
    assert exprs.of('x{job="db"}')[0].get("mode") is None, "exporter labels are unknown"
    summed = exprs.of('sum by (instance) (rate(x{job="api"}[5m])) > 1')
    assert _values(summed, "instance") == {"api:5000"} and _values(summed, "host") == {""}
    assert _values(exprs.of('sum(x{job="api"})'), "instance") == {""}
    assert _values(exprs.of('sum without (host) (x{job="api"})'), "host") == {""}
    assert _values(exprs.of('x{job="api"}'), "host") == {"h1"}
    on = exprs.of('x{job="api"} / on(instance) y{job="api"}')
    assert _values(on, "host") == {""} and _values(on, "instance") == {"api:5000"}
    assert _values(exprs.of('x{job="api"} / ignoring(host) y'), "host") == {""}
    left = exprs.of('x{job="api"} * on(host) group_left(instance) up{job="node"}')
    assert _values(left, "instance") == {"node-exporter:9100"}
    either = exprs.of('up{job="node"} == 0 or up{job="api"} == 0')
    assert _values(either, "instance") == {"node-exporter:9100", "api:5000"}
    assert _values(exprs.of('up{job="node"} and up{job="api"}'), "instance") == {
        "node-exporter:9100"}
    assert _values(exprs.of('absent(up{job="api", env="x"})'), "env") == {"x"}
    assert _values(exprs.of('absent(up{job="api"})'), "instance") == {""}
    assert _values(exprs.of(
        'histogram_quantile(0.9, sum by (le, instance) (rate(h_bucket{job="api"}[5m])))'),
        "le") == {""}
    assert _values(exprs.of('label_replace(up{job="api"}, "host", "$1", "instance", "(.*)")'),
                   "host") is None
    # No job matcher: any job's targets (the probe job's instance is unknown).
    assert _values(exprs.of("x"), "instance") is None
    no_probe = _exprs(PROM.split("  - job_name: probe")[0])
    assert _values(no_probe.of('x{mode="idle"}'), "instance") == {
        "node-exporter:9100", "api:5000", "db-exporter:9187", "db-exporter-2:9187"}
    assert _values(exprs.of('x{job="db", instance="db-exporter:9187"}'), "instance") == {
        "db-exporter:9187"}


def test_what_cannot_be_known_is_unknown() -> None:
    assert _values(_exprs(recorded=("job:x:rate5m",)).of('job:x:rate5m{job="api"} > 1'),
                   "instance") is None
    assert _values(_exprs().of('x{job="nosuchjob"}'), "instance") is None
    assert _values(_exprs().of("this is not promql"), "instance") is None
    sd = "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs: [{role: pod}]\n"
    assert _values(_exprs(sd).of('up{job="k"}'), "instance") is None


def test_alert_labels_add_rule_labels_alertname_and_external_labels() -> None:
    rule = {"alert": "ApiDown", "expr": 'up{job="api"} == 0',
            "labels": {"severity": "critical", "team": "ops",
                       "tier": "{{ $labels.job }}"}}
    [shape] = alert_shapes(rule, _exprs(), {"cluster": "prod", "team": "ignored"})
    assert shape.get("alertname") == frozenset({"ApiDown"})
    assert shape.get("team") == frozenset({"ops"}), "the rule's label wins over the target's"
    assert shape.get("tier") is None, "a templated label value is unknown"
    assert shape.get("cluster") == frozenset({"prod"})
    assert shape.singular is False  # tier is unknown


# --- each check on small stacks ---------------------------------------------------------------

RULES = """\
groups:
  - name: g
    rules:
      - alert: NodeDown
        expr: up{job="node"} == 0
        labels: {severity: critical, team: ops}
      - alert: ApiDown
        expr: up{job="api"} == 0
        labels: {severity: critical, team: dev}
      - alert: ApiSlow
        expr: api_latency_seconds{job="api"} > 1
        labels: {severity: warning, team: dev}
      - alert: DbDown
        expr: pg_up{job="db"} == 0
        labels: {severity: critical, team: db}
"""

AM = """\
route:
  receiver: default
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
    - matchers: ['team="dev"']
      receiver: dev
receivers:
  - name: default
  - name: pager
  - name: dev
"""


def _stack(root: Path, *, prometheus: str = PROM, rules: str | None = RULES,
           alertmanager: str = AM) -> Path:
    (root / "rules").mkdir(parents=True, exist_ok=True)
    (root / "prometheus.yml").write_text(prometheus)
    if rules is not None:
        (root / "rules" / "rules.yml").write_text(rules)
    (root / "alertmanager.yml").write_text(alertmanager)
    return root


def _line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line of ``text`` containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _found(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def _am(*routes: str, inhibit: str = "", receivers: str = "") -> str:
    tree = "".join(textwrap.indent(textwrap.dedent(r), "    ") for r in routes)
    text = f"route:\n  receiver: default\n  routes:\n{tree}receivers:\n  - name: default\n"
    for name in ("pager", "dev", "ops", "db", "maint"):
        if f"receiver: {name}\n" in tree:
            text += f"  - name: {name}\n"
    text += receivers
    if inhibit:
        text += "inhibit_rules:\n" + textwrap.indent(textwrap.dedent(inhibit), "  ")
    return text


ALL_ROUTES = ("- matchers: ['team=\"ops\"']\n  receiver: ops\n",
              "- matchers: ['team=\"db\"']\n  receiver: db\n",
              "- matchers: ['severity=\"critical\"']\n  receiver: pager\n",
              "- matchers: ['team=\"dev\"']\n  receiver: dev\n")


def test_a_clean_stack_has_no_finding(tmp_path: Path) -> None:
    assert check_stack(_stack(tmp_path, alertmanager=_am(*ALL_ROUTES)), tools=False) == []


def test_env_placeholders_are_reported_with_their_line(tmp_path: Path) -> None:
    am = _am(*ALL_ROUTES, receivers=textwrap.indent(textwrap.dedent("""\
        - name: hook
          webhook_configs:
            - url: '${HOOK_URL}'
          slack_configs:
            - api_url: https://hooks.example.com/x
              text: '{{ $labels.instance }} costs $5'
        """), "  "))
    am = am.replace("route:\n  receiver: default\n  routes:\n",
                    "route:\n  receiver: default\n  routes:\n    - matchers: ['x=\"y\"']\n"
                    "      receiver: hook\n")
    prom = PROM.replace("external_labels: {cluster: prod}",
                        "external_labels: {cluster: '${CLUSTER}'}\n  scrape_interval: ${SI}")
    findings = check_stack(_stack(tmp_path, alertmanager=am, prometheus=prom), tools=False)
    found = _found(findings, "env-placeholder")
    assert {(f.file.name, f.line, f.severity) for f in found} == {
        ("alertmanager.yml", _line_of(am, "${HOOK_URL}"), "error"),
        ("prometheus.yml", 2, "warning"),   # external_labels: only with a feature flag
        ("prometheus.yml", 3, "error")}
    assert all("$labels" not in f.message and "$5" not in f.message for f in found)


def test_a_receiver_no_route_uses_is_reported(tmp_path: Path) -> None:
    am = _am(*ALL_ROUTES, receivers="  - name: orphan\n")
    findings = check_stack(_stack(tmp_path, alertmanager=am), tools=False)
    [unused] = _found(findings, "receiver-unused")
    assert "'orphan'" in unused.message and unused.line == am.splitlines().index(
        "  - name: orphan") + 1
    assert _found(findings, "receiver-unused") == [unused], "maint is used below"


def test_a_route_without_receiver_uses_its_parents(tmp_path: Path) -> None:
    am = _am(*ALL_ROUTES).replace("  - name: maint\n", "")
    am = am.replace("routes:\n", "routes:\n    - matchers: ['x=\"1\"']\n      routes:\n"
                    "        - matchers: ['y=\"1\"']\n          receiver: ops\n", 1)
    assert _found(check_stack(_stack(tmp_path, alertmanager=am), tools=False),
                  "receiver-unused") == []


@pytest.mark.parametrize(("earlier", "later", "shadowed"), [
    ("- receiver: pager\n", "- matchers: ['team=\"db\"']\n  receiver: db\n", True),
    ("- matchers: ['team=\"db\"']\n  receiver: pager\n",
     "- matchers: ['team=\"db\"', 'tier=\"x\"']\n  receiver: db\n", True),
    ("- matchers: ['team=~\"db|dev\"']\n  receiver: pager\n",
     "- match: {team: db}\n  receiver: db\n", True),
    ("- receiver: pager\n  continue: true\n", "- matchers: ['team=\"db\"']\n  receiver: db\n",
     False),
    ("- matchers: ['team=\"dev\"']\n  receiver: pager\n",
     "- matchers: ['team=\"db\"']\n  receiver: db\n", False),
    ("- matchers: ['team=\"db\"', 'tier=\"x\"']\n  receiver: pager\n",
     "- matchers: ['team=\"db\"']\n  receiver: db\n", False),
])
def test_route_shadowed_by_an_earlier_sibling(tmp_path: Path, earlier: str, later: str,
                                              shadowed: bool) -> None:
    am = _am(earlier, later, *ALL_ROUTES)
    found = _found(check_stack(_stack(tmp_path, alertmanager=am), tools=False), "route-shadowed")
    later_line = 4 + earlier.count("\n")
    assert [(f.line, f.severity) for f in found if f.line == later_line] == (
        [(later_line, "error")] if shadowed else [])


def test_route_unreachable_when_every_rule_alert_is_taken_first(tmp_path: Path) -> None:
    # As in seed 001: every rule has a team (or is critical), so the maintenance route,
    # last, can never receive a rule's alert, though ApiSlow (open labels) could carry it.
    maint = "- matchers: ['maintenance=\"true\"']\n  receiver: maint\n"
    am = _am(*ALL_ROUTES, maint)
    [found] = _found(check_stack(_stack(tmp_path, alertmanager=am), tools=False),
                     "route-unreachable")
    assert found.line == _line_of(am, "maintenance") and found.severity == "warning"
    assert "(ApiSlow, DbDown)" in found.message, \
        "up-based alerts (NodeDown, ApiDown) carry only target labels: never maintenance"
    assert 'line 6 {team="db"} → db; line 10 {team="dev"} → dev)' in found.message
    # First, it is reachable: no finding.
    assert _found(check_stack(_stack(tmp_path, alertmanager=_am(maint, *ALL_ROUTES)),
                              tools=False), "route-unreachable") == []


def test_route_unreachable_is_silent_for_alerts_that_may_get_through(tmp_path: Path) -> None:
    maint = "- matchers: ['maintenance=\"true\"']\n  receiver: maint\n"
    rules = RULES + ("      - alert: Teamless\n        expr: x{job=\"db\"} > 1\n"
                     "        labels: {severity: warning}\n")
    findings = check_stack(_stack(tmp_path, rules=rules, alertmanager=_am(*ALL_ROUTES, maint)),
                           tools=False)
    assert _found(findings, "route-unreachable") == []
    # A route no rule alert can match at all is for alerts from elsewhere: not reported.
    # (Here no rule's alerts can carry `maintenance`: they keep only known labels.)
    closed = RULES.replace('api_latency_seconds{job="api"} > 1',
                           'sum by (instance) (api_latency_seconds{job="api"}) > 1')
    closed = closed.replace('pg_up{job="db"} == 0', 'sum by (instance) (pg_up{job="db"}) == 0')
    findings = check_stack(_stack(tmp_path, rules=closed, alertmanager=_am(*ALL_ROUTES, maint)),
                           tools=False)
    assert _found(findings, "route-unreachable") == []


INHIBIT_NODE = """\
- source_matchers: ['alertname="NodeDown"']
  target_matchers: ['severity=~"critical|warning"']
  equal: [EQUAL]
"""


def _inhibit_findings(tmp_path: Path, inhibit: str, rules: str = RULES) -> list[Finding]:
    am = _am(*ALL_ROUTES, inhibit=inhibit)
    return [f for f in check_stack(_stack(tmp_path, rules=rules, alertmanager=am), tools=False)
            if f.code.startswith("inhibit-")]


def test_inhibit_source_no_rule_produces(tmp_path: Path) -> None:
    [found] = _inhibit_findings(tmp_path, INHIBIT_NODE.replace("NodeDown", "HostDown")
                                .replace("EQUAL", "host"))
    am = (tmp_path / "alertmanager.yml").read_text()
    assert (found.code, found.line) == ("inhibit-source-unproduced",
                                        _line_of(am, "source_matchers"))
    assert 'alertname="HostDown"' in found.message
    assert _inhibit_findings(tmp_path, INHIBIT_NODE.replace("EQUAL", "cluster")) == []
    [target] = _inhibit_findings(tmp_path, INHIBIT_NODE.replace("critical|warning", "info")
                                 .replace("EQUAL", "host"))
    assert (target.code, target.line) == ("inhibit-target-unproduced",
                                          _line_of(am, "target_matchers"))


def test_inhibit_source_counts_the_alerts_of_a_rule_file_that_does_not_parse(
        tmp_path: Path) -> None:
    broken = RULES.replace("labels: {severity: critical, team: ops}", 'labels: {x: "a"b"}')
    findings = _inhibit_findings(tmp_path, INHIBIT_NODE.replace("EQUAL", "host"), rules=broken)
    assert _found(findings, "inhibit-source-unproduced") == []


def test_inhibit_equal_labels_that_never_agree(tmp_path: Path) -> None:
    inhibit = ("- source_matchers: ['alertname=\"DbDown\"']\n"
               "  target_matchers: ['alertname=\"ApiSlow\"']\n  equal: [instance]\n")
    [found] = _inhibit_findings(tmp_path, inhibit)
    equal_line = _line_of((tmp_path / "alertmanager.yml").read_text(), "equal:")
    assert (found.code, found.line, found.severity) == ("inhibit-equal-never", equal_line,
                                                        "warning")
    assert "db-exporter:9187" in found.message and "api:5000" in found.message
    # host: ApiSlow's is h1; the db target has none, but pg_up may carry the exporter's own
    # `host` label — unknown, so silent.
    assert _inhibit_findings(tmp_path, inhibit.replace("instance", "host")) == []
    aggregated = RULES.replace('pg_up{job="db"} == 0', 'sum by (instance) (pg_up{job="db"}) == 0')
    [never] = _inhibit_findings(tmp_path, inhibit.replace("instance", "host"), rules=aggregated)
    assert never.code == "inhibit-equal-never" and "DbDown: host=∅" in never.message
    # Same host on both sides: applies.
    same = inhibit.replace("DbDown", "ApiDown").replace("instance", "host")
    assert _inhibit_findings(tmp_path, same) == []
    # cluster is an external label, on every alert: applies.
    assert _inhibit_findings(tmp_path, inhibit.replace("instance", "cluster")) == []


def test_inhibit_equal_stays_silent_when_a_label_is_unknown(tmp_path: Path) -> None:
    rules = RULES.replace('pg_up{job="db"} == 0', 'label_replace(pg_up{job="db"}, "instance", '
                          '"$1", "server", "(.*)") == 0')
    inhibit = ("- source_matchers: ['alertname=\"DbDown\"']\n"
               "  target_matchers: ['alertname=\"ApiSlow\"']\n  equal: [instance]\n")
    assert _inhibit_findings(tmp_path, inhibit, rules=rules) == []


def test_inhibit_equal_on_alertname_and_severity_pairs(tmp_path: Path) -> None:
    inhibit = ("- source_matchers: ['severity=\"critical\"']\n"
               "  target_matchers: ['severity=\"warning\"']\n  equal: [alertname]\n")
    [found] = _inhibit_findings(tmp_path, inhibit)
    assert found.code == "inhibit-equal-never", "no alert exists at both severities"
    both = RULES + ("      - alert: ApiSlow\n        expr: api_latency_seconds{job=\"api\"} > 5\n"
                    "        labels: {severity: critical, team: dev}\n")
    assert _inhibit_findings(tmp_path, inhibit, rules=both) == []


def test_inhibit_that_can_never_hide_some_of_its_targets(tmp_path: Path) -> None:
    # NodeDown (instance node-exporter:9100) vs the API's and DB's alerts: never equal
    # instances, as in seed 001 (A4); on host, the API's alerts are hidden, the DB's not.
    aggregated = RULES.replace('pg_up{job="db"} == 0', 'sum by (instance) (pg_up{job="db"}) == 0')
    [found] = _inhibit_findings(tmp_path, INHIBIT_NODE.replace("EQUAL", "host"), rules=aggregated)
    assert (found.code, found.line) == (
        "inhibit-equal-partial", _line_of((tmp_path / "alertmanager.yml").read_text(), "equal:"))
    assert "DbDown" in found.message and "ApiDown" not in found.message
    assert "NodeDown: host=h1" in found.message
    [instance] = _inhibit_findings(tmp_path, INHIBIT_NODE.replace("EQUAL", "instance"))
    assert instance.code == "inhibit-equal-never", \
        "NodeDown alone could pair with itself, but one target alert is never its own source"


def test_deprecated_match_fields_say_what_to_write(tmp_path: Path) -> None:
    am = _am(*ALL_ROUTES, "- match: {team: x}\n  match_re: {tier: 'a|b'}\n  receiver: maint\n",
             inhibit="- source_match: {alertname: NodeDown}\n"
                     "  target_matchers: ['team=\"dev\"']\n")
    found = _found(check_stack(_stack(tmp_path, alertmanager=am), tools=False),
                   "deprecated-match")
    assert [(f.line, f.severity) for f in found] == [(12, "warning"), (13, "warning"),
                                                      (23, "warning")]
    assert 'matchers: ["team=\\"x\\""]' in found[0].message
    assert 'source_matchers: ["alertname=\\"NodeDown\\""]' in found[2].message


def test_rule_files_the_config_does_not_load(tmp_path: Path) -> None:
    root = _stack(tmp_path, alertmanager=_am(*ALL_ROUTES))
    (root / "extra").mkdir()
    (root / "extra" / "more.yml").write_text(RULES)
    (root / "extra" / "broken.yml").write_text('groups:\n- name: g\n  rules:\n  - alert: X\n'
                                               '    expr: up\n    labels: {a: "b"c"}\n')
    (root / "extra" / "rules.test.yml").write_text("rule_files: [x.yml]\ntests: []\n")
    findings = check_stack(root, tools=False)
    assert sorted((f.file.name, f.line, f.code) for f in findings) == [
        ("broken.yml", 1, "rules-not-loaded"), ("broken.yml", 6, "yaml"),
        ("more.yml", 1, "rules-not-loaded")]


def test_a_prometheus_yml_that_does_not_parse_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    root = _stack(tmp_path, alertmanager=_am(*ALL_ROUTES, receivers="  - name: orphan\n",
                                             inhibit=INHIBIT_NODE.replace("EQUAL", "host")),
                  prometheus="scrape_configs: [\n")
    findings = check_stack(root, tools=False)
    assert [(f.file.name, f.code) for f in findings] == [
        ("alertmanager.yml", "receiver-unused"), ("prometheus.yml", "yaml")]
    assert findings[1].line == 2


def test_a_missing_alertmanager_yml_is_a_finding_and_the_rest_is_checked(tmp_path: Path) -> None:
    root = _stack(tmp_path, prometheus=PROM.replace("global:\n", "global:\n  x: ${X}\n"))
    (root / "alertmanager.yml").unlink()
    findings = check_stack(root, tools=False)
    assert [(f.file.name, f.line, f.code) for f in findings] == [
        (tmp_path.name, 1, "stack"), ("prometheus.yml", 2, "env-placeholder")]
    assert "\n" not in findings[0].message and "no alertmanager.yml" in findings[0].message


def test_a_rule_files_pattern_matching_nothing(tmp_path: Path) -> None:
    root = _stack(tmp_path, alertmanager=_am(*ALL_ROUTES),
                  prometheus=PROM.replace("rule_files: [rules/*.yml]",
                                          "rule_files:\n  - rules/*.yml\n  - alerts/*.yml"))
    [found] = check_stack(root, tools=False)
    assert (found.code, found.line, found.severity) == ("rule-files", 5, "warning")


# --- the real tools ---------------------------------------------------------------------------

def test_amtool_words_become_findings_and_the_own_lint_still_runs(tmp_path: Path) -> None:
    am = _am(*ALL_ROUTES, receivers="  - name: orphan\n    email_configs:\n"
             "      - to: a@example.com\n        subject: hi\n")
    findings = check_stack(_stack(tmp_path, alertmanager=am))
    [amtool] = _found(findings, "amtool")
    assert amtool.line == am.splitlines().index("        subject: hi") + 1
    assert "field subject not found" in amtool.message and amtool.severity == "error"
    assert _found(findings, "receiver-unused"), "the own lint ran on the rejected file"


def test_amtool_is_rerun_past_placeholders(tmp_path: Path) -> None:
    am = _am(*ALL_ROUTES, receivers="  - name: hooks\n    slack_configs:\n"
             "      - api_url: '${SLACK}'\n        body: x\n")
    am = am.replace("routes:\n", "routes:\n    - matchers: ['h=\"1\"']\n      receiver: hooks\n", 1)
    findings = check_stack(_stack(tmp_path, alertmanager=am))
    messages = {(f.line, f.code): f.message for f in findings}
    body = am.splitlines().index("        body: x") + 1
    assert "field body not found" in messages[(body, "amtool")]
    assert (body - 1, "env-placeholder") in messages


def test_promtool_words_become_findings_with_their_line(tmp_path: Path) -> None:
    rules = RULES.replace('pg_up{job="db"} == 0', 'rate(pg_up{job="db"}[5m] == 0')
    findings = check_stack(_stack(tmp_path, rules=rules, alertmanager=_am(*ALL_ROUTES)))
    [found] = _found(findings, "promtool")
    assert found.file.name == "rules.yml" and found.line == 14
    assert "could not parse expression" in found.message
    prom = PROM.replace("global:\n", "global:\n  scrape_interval: 15x\n")
    [bad] = _found(check_stack(_stack(tmp_path, prometheus=prom, rules=RULES,
                                      alertmanager=_am(*ALL_ROUTES))), "promtool")
    assert bad.file.name == "prometheus.yml" and bad.line == 2 and '"15x"' in bad.message


def test_a_missing_tool_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTDRILL_PROMTOOL", str(tmp_path / "no-promtool"))
    root = _stack(tmp_path, alertmanager=_am(*ALL_ROUTES))
    with pytest.raises(MissingBinaryError, match="ALERTDRILL_PROMTOOL"):
        check_stack(root)
    assert check_stack(root, tools=False) == []


# --- the command, on the seed and the reference stack -----------------------------------------

def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alertdrill.cli", "check", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def seed() -> tuple[int, set[tuple[str, int, str]], list[dict[str, object]]]:
    result = _check("--stack", "tests/data/seed-001", "--format", "json")
    findings = json.loads(result.stdout)["findings"]
    return result.returncode, {(f["file"], f["line"], f["code"]) for f in findings}, findings


@pytest.mark.parametrize(("finding", "bug"), [
    ((SEED_AM, 4, "env-placeholder"), "A1 ${SMTP_HOST}:${SMTP_PORT}"),
    ((SEED_AM, 153, "env-placeholder"), "A1 ${SLACK_WEBHOOK_OPS}"),
    ((SEED_AM, 192, "env-placeholder"), "A1 ${WEBHOOK_ESCALATION}"),
    ((SEED_AM, 139, "amtool"), "A2 subject:"),
    ((SEED_AM, 140, "amtool"), "A2 body:"),
    ((SEED_AM, 313, "amtool"), "A2 body: of the maintenance receiver"),
    ((SEED_AM, 104, "route-unreachable"), "A3 the maintenance route"),
    ((SEED_AM, 131, "inhibit-equal-never"), "A5 PostgreSQLDown vs the API's pool, on instance"),
    ((SEED_AM, 117, "inhibit-equal-never"), "A7 no rule exists at both severities"),
    ((SEED_AM, 30, "deprecated-match"), "A10 match:"),
    ((SEED_AM, 113, "deprecated-match"), "A10 source_match:"),
    ((SEED_AM, 120, "inhibit-source-unproduced"), "R4 no NodeDown rule"),
    (("tests/data/seed-001/prometheus/alert_rules/cartorio_certificados.yml", 11, "promtool"),
     "R10 the 000 rule file does not parse"),
    (("tests/data/seed-001/prometheus/alert_rules/cartorio_certificados.yml", 1,
      "rules-not-loaded"), "R11 written where rule_files does not look"),
])
def test_check_finds_the_seed_bugs(seed: tuple[int, set[tuple[str, int, str]], list[object]],
                                   finding: tuple[str, int, str], bug: str) -> None:
    assert finding in seed[1], bug


def test_check_on_the_seed_fails_with_the_tools_words(
        seed: tuple[int, set[tuple[str, int, str]], list[dict[str, object]]]) -> None:
    returncode, _, findings = seed
    assert returncode == 1
    by_place = {(f["line"], f["code"]): str(f["message"]) for f in findings
                if f["file"] == SEED_AM}
    assert "field subject not found in type config.plain" in by_place[(139, "amtool")]
    assert "maintenance-receiver" in by_place[(104, "route-unreachable")]
    assert "postgres-exporter:9187" in by_place[(131, "inhibit-equal-never")]
    assert "api-service:5000" in by_place[(131, "inhibit-equal-never")]
    assert not any(f["code"] in ("route-shadowed", "receiver-unused") for f in findings)


def test_seed_a4_once_r4_is_fixed(tmp_path: Path) -> None:
    """A4 needs a NodeDown rule to reason about: with the one R4 asks for, equal [instance]
    can only ever pair NodeDown with the node exporter's own alerts, never a service's."""
    stack = tmp_path / "seed"
    shutil.copytree(SEED, stack)
    (stack / "prometheus" / "rules" / "nodedown.yml").write_text(
        "groups:\n- name: r4\n  rules:\n  - alert: NodeDown\n"
        "    expr: up{job=\"node-exporter\"} == 0\n"
        "    labels: {severity: critical, team: operations}\n")
    findings = check_stack(stack, tools=False)
    [a4] = [f for f in findings if f.line == 124 and f.file.name == "alertmanager.yml"]
    assert a4.code == "inhibit-equal-partial"
    assert "WebAppDown" in a4.message and "APIDBConnectionPoolExhausted" in a4.message
    assert "NodeDown: instance=node-exporter:9100" in a4.message
    assert "HighCPUUsage" not in a4.message, "node metrics may well carry the exporter's instance"
    assert not any(f.code == "inhibit-source-unproduced" and f.line == 120 for f in findings)


def test_check_on_the_reference_stack() -> None:
    """The reference stack is clean. Both findings the check once made there were fixed in the
    stack: APIHighErrorRate exists at both severities (the critical→warning inhibition has work
    to do), and every aggregation keeps `host` (NodeDown's inhibition can hide its alerts)."""
    result = _check("--stack", "stack/reference")
    assert (result.returncode, result.stdout) == (0, "stack/reference: 0 errors, 0 warnings\n")


def test_check_on_the_sample_stack_by_name_is_clean() -> None:
    result = _check("--stack", "sample")
    assert (result.returncode, result.stdout) == (0, "stack/sample: 0 errors, 0 warnings\n")


def test_check_usage_errors_exit_4() -> None:
    result = _check("--stack", "no/such/dir")
    assert result.returncode == 4 and "no stack directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_help_explains_every_check() -> None:
    from alertdrill.analysis.lint import CHECKS

    result = _check("--help")
    assert result.returncode == 0
    for code in CHECKS:
        assert code in result.stdout
