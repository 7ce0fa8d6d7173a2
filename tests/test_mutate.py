"""``alertdrill mutate``: operators, equivalence, selection, report and CLI — nothing starts a
stack here (tests/test_mutate_e2e.py does)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from alertdrill.engine.stackspec import StackSpec
from alertdrill.mutate import report, selection
from alertdrill.mutate.equivalence import Checker, judge_all
from alertdrill.mutate.model import Edit, Mutant, apply_edits
from alertdrill.mutate.operators import NAMES, counts, generate, parse_operators
from alertdrill.mutate.runner import MutateOptions, plan, validate
from tests.helpers import ROOT

SHOP = ROOT / "examples" / "shop" / "stack"
SHOP_FEATURES = ROOT / "examples" / "shop" / "features"
REFERENCE = ROOT / "stack" / "reference"


@pytest.fixture(scope="module")
def shop() -> list[Mutant]:
    spec = StackSpec.load(SHOP)
    mutants = generate(spec)
    judge_all(spec, mutants)
    return mutants


@pytest.fixture(scope="module")
def reference() -> list[Mutant]:
    return generate(StackSpec.load(REFERENCE))


def one(mutants: list[Mutant], operator: str, contains: str = "") -> Mutant:
    found = [m for m in mutants if m.operator == operator and contains in m.description]
    assert found, f"no {operator} mutant with {contains!r}"
    return found[0]


def data(m: Mutant) -> dict:
    return yaml.safe_load(m.after)


def am_route(doc: dict, *path: int) -> dict:
    route = doc["route"]
    for index in path:
        route = route["routes"][index]
    return route


# -- the text edits ------------------------------------------------------------------------------
def test_edits_apply_from_the_end_and_refuse_to_overlap() -> None:
    assert apply_edits("abcdef", [Edit(0, 1, "X"), Edit(4, 6, "")]) == "Xbcd"
    with pytest.raises(ValueError, match="overlapping"):
        apply_edits("abcdef", [Edit(0, 3, ""), Edit(2, 4, "")])


def test_every_mutant_is_one_real_change_with_an_exact_diff(shop: list[Mutant],
                                                            reference: list[Mutant]) -> None:
    for m in [*shop, *reference]:
        assert m.before != m.after, m.id
        assert m.diff.startswith(f"--- a/{m.file}\n+++ b/{m.file}\n"), m.id
        removed = [ln[1:] for ln in m.diff.splitlines()[2:] if ln.startswith("-")]
        added = [ln[1:] for ln in m.diff.splitlines()[2:] if ln.startswith("+")]
        assert removed or added, m.id
        if m.site.scope != "template":
            assert yaml.safe_load(m.before) != yaml.safe_load(m.after), m.id
    assert len({m.id for m in reference}) == len(reference)


def test_ids_do_not_depend_on_the_operators_selected(reference: list[Mutant]) -> None:
    only = generate(StackSpec.load(REFERENCE), ("for-removed",))
    assert [m.id for m in only] == [m.id for m in reference if m.operator == "for-removed"]
    assert {m.operator for m in only} == {"for-removed"}


def test_every_operator_has_mutants_on_the_reference_stack(reference: list[Mutant]) -> None:
    # business-hours (the info-review route's active_time_intervals) gives the time shift one
    assert set(counts(reference)) == set(NAMES)


# -- each operator -------------------------------------------------------------------------------
def test_receiver_swapped(shop: list[Mutant]) -> None:
    m = one(shop, "receiver-swapped", "team=\"web\"")
    assert am_route(data(m), 1)["receiver"] == "payments-team"
    assert "-      receiver: storefront-team\n+      receiver: payments-team\n" in m.diff


def test_matcher_misspelt_and_flipped(shop: list[Mutant]) -> None:
    assert am_route(data(one(shop, "matcher-misspelt", 'team="web"')), 1)["matchers"] == \
        ['team="webb"']
    assert am_route(data(one(shop, "matcher-flipped", 'team="web"')), 1)["matchers"] == \
        ['team!="web"']
    inhibit = data(one(shop, "matcher-flipped", "inhibit rule 1 source"))["inhibit_rules"][0]
    assert inhibit["source_matchers"] == ['alertname!="ShopServiceDown"',
                                          'service="payments-gateway"']


def test_regex_widened(reference: list[Mutant]) -> None:
    m = one(reference, "regex-widened")
    assert am_route(data(m), 0)["matchers"] == ['escalation=~".*"']


def test_continue_flipped_both_ways(shop: list[Mutant]) -> None:
    assert am_route(data(one(shop, "continue-flipped", "severity")), 0)["continue"] is False
    added = one(shop, "continue-flipped", 'team="web"')
    assert am_route(data(added), 1)["continue"] is True
    assert "+      continue: true\n" in added.diff  # inserted at the route's indentation


def test_routes_reordered_keeps_each_route_whole(shop: list[Mutant]) -> None:
    m = one(shop, "routes-reordered", 'route {team="web"} and')
    routes = data(m)["route"]["routes"]
    before = yaml.safe_load(m.before)["route"]["routes"]
    assert routes == [before[0], before[2], before[1]]


def test_route_deleted(shop: list[Mutant]) -> None:
    m = one(shop, "route-deleted", 'team="payments"')
    assert [r["receiver"] for r in data(m)["route"]["routes"]] == ["shop-oncall", "storefront-team"]


def test_group_by_and_timing(shop: list[Mutant]) -> None:
    assert data(one(shop, "group-by-changed"))["route"]["group_by"] == ["alertname"]
    assert data(one(shop, "timing-multiplied", "group_wait"))["route"]["group_wait"] == "5m"
    assert data(one(shop, "timing-multiplied", "repeat_interval"))["route"]["repeat_interval"] \
        == "1d16h"


def test_inhibit_operators(shop: list[Mutant]) -> None:
    assert data(one(shop, "inhibit-deleted"))["inhibit_rules"] in (None, [])
    assert data(one(shop, "inhibit-equal-changed"))["inhibit_rules"][0]["equal"] == ["instance"]
    swapped = data(one(shop, "inhibit-swapped"))["inhibit_rules"][0]
    assert swapped["source_matchers"] == ['alertname="CheckoutErrorRate"']
    assert swapped["target_matchers"] == ['alertname="ShopServiceDown"',
                                          'service="payments-gateway"']


def test_send_resolved_flipped_and_written_out(shop: list[Mutant], reference: list[Mutant]) -> None:
    m = one(shop, "send-resolved-flipped", "payments-team, webhook")
    receiver = next(r for r in data(m)["receivers"] if r["name"] == "payments-team")
    assert receiver["webhook_configs"][0]["send_resolved"] is False
    assert receiver["slack_configs"][0]["send_resolved"] is True
    # ops-team's slack leaves it out (Alertmanager's default for slack: false): written as true
    inserted = one(reference, "send-resolved-flipped", "receiver ops-team, slack")
    ops = next(r for r in data(inserted)["receivers"] if r["name"] == "ops-team")
    assert ops["slack_configs"][0]["send_resolved"] is True


def test_rule_operators(shop: list[Mutant]) -> None:
    def rule(m: Mutant, name: str) -> dict:
        return next(r for g in data(m)["groups"] for r in g["rules"] if r.get("alert") == name)

    assert rule(one(shop, "for-lengthened", "ShopServiceDown"), "ShopServiceDown")["for"] == "5m"
    assert "for" not in rule(one(shop, "for-removed", "ShopServiceDown"), "ShopServiceDown")
    raised = rule(one(shop, "threshold-moved", "raised: > 0.05"), "CheckoutErrorRate")
    assert raised["expr"].rstrip().endswith("> 0.5")  # inside a block scalar
    lowered = rule(one(shop, "threshold-moved", "lowered: > 1"), "StorefrontSlow")
    assert lowered["expr"].rstrip().endswith("> 0.1")
    assert rule(one(shop, "label-changed", "ShopServiceDown"),
                "ShopServiceDown")["labels"]["severity"] == "warning"
    assert rule(one(shop, "label-misspelt", "StorefrontSlow"),
                "StorefrontSlow")["labels"]["severity"] == "warningg"
    deleted = data(one(shop, "rule-deleted", "CheckoutErrorRate"))
    assert [r["alert"] for g in deleted["groups"] for r in g["rules"] or []] == \
        ["ShopServiceDown", "StorefrontSlow"]


def test_a_zero_for_is_not_removed(reference: list[Mutant]) -> None:
    assert not [m for m in reference if m.operator == "for-removed" and "0s" in m.description]


def test_template_line_dropped(shop: list[Mutant]) -> None:
    m = one(shop, "template-line-dropped", "line 3")
    assert m.after.count("\n") == m.before.count("\n") - 1
    assert "-{{ end }}{{ end }}\n" in m.diff


def test_the_real_tools_accept_the_stack_and_reject_a_broken_template(shop: list[Mutant],
                                                                     tmp_path: Path) -> None:
    spec = StackSpec.load(SHOP)
    assert validate(SHOP, None, spec) is None
    m = one(shop, "template-line-dropped", "line 3")
    copy = tmp_path / "stack"
    shutil.copytree(SHOP, copy)
    (copy / m.file).write_text(m.after)
    assert "unexpected" in (validate(copy, m, spec) or "")  # amtool's own words
    ok = one(shop, "receiver-swapped")
    (copy / m.file).write_text(m.before)
    (copy / ok.file).write_text(ok.after)
    assert validate(copy, ok, spec) is None


def test_time_interval_shifted(tmp_path: Path) -> None:
    am = (SHOP / "alertmanager.yml").read_text().replace(
        "    - matchers: ['team=\"web\"']\n      receiver: storefront-team\n",
        "    - matchers: ['team=\"web\"']\n      receiver: storefront-team\n"
        "      mute_time_intervals: [nights]\n") + (
        "time_intervals:\n"
        "  - name: nights\n    time_intervals:\n"
        "      - times:\n          - start_time: '20:00'\n            end_time: '24:00'\n"
        "  - name: unused\n    time_intervals:\n"
        "      - times:\n          - start_time: '09:00'\n            end_time: '17:00'\n"
        "        weekdays: ['monday:friday']\n")
    spec = _stack_with(tmp_path, am)
    assert validate(spec.root, None, spec) is None  # amtool takes the stack as written
    mutants = generate(spec, ("time-interval-shifted",))
    judge_all(spec, mutants)
    assert [m.description for m in mutants] == ["time interval nights: 20:00–24:00 → 19:00–23:00",
                                                "time interval unused: 09:00–17:00 → 10:00–18:00"]
    nights, unused = mutants
    window = data(nights)["time_intervals"][0]["time_intervals"][0]["times"][0]
    assert window == {"start_time": "19:00", "end_time": "23:00"}
    assert not nights.equivalent and nights.affected_alerts is None
    assert nights.site.receivers == {"storefront-team"}
    assert unused.equivalent and "no route names" in unused.equivalence_note
    copy = tmp_path / "copy"
    shutil.copytree(spec.root, copy)
    (copy / nights.file).write_text(nights.after)
    assert validate(copy, nights, spec) is None


# -- equivalence ---------------------------------------------------------------------------------
def test_reordering_disjoint_siblings_is_equivalent(shop: list[Mutant]) -> None:
    m = one(shop, "routes-reordered", 'route {team="web"} and route {team="payments"}')
    assert m.equivalent, m.equivalence_note
    assert "same receivers" in m.equivalence_note


def test_reordering_overlapping_siblings_is_not(shop: list[Mutant]) -> None:
    m = one(shop, "routes-reordered", 'route {severity="critical"} and')
    assert not m.equivalent
    assert "ShopServiceDown" in (m.affected_alerts or set())


def test_continue_on_a_last_matching_route_is_equivalent(shop: list[Mutant]) -> None:
    assert one(shop, "continue-flipped", 'team="payments"').equivalent
    assert not one(shop, "continue-flipped", "severity").equivalent


def test_outside_the_static_view_is_never_equivalent(shop: list[Mutant]) -> None:
    for m in shop:
        if m.site.scope in ("rule", "template", "receiver"):
            assert not m.equivalent, m.id
    deleted = one(shop, "rule-deleted", "CheckoutErrorRate")
    # the rule's alert and the one its inhibit rule pairs it with
    assert deleted.affected_alerts == {"CheckoutErrorRate", "ShopServiceDown"}


def test_a_template_line_outside_every_define_is_equivalent(reference: list[Mutant]) -> None:
    """The reference template's heading comment: without its first line, the rest is loose
    text Alertmanager never executes (two survivors of ~340 s each in the measured run)."""
    templates = [m for m in reference if m.operator == "template-line-dropped"]
    judge_all(StackSpec.load(REFERENCE), templates)
    heading = one(templates, "template-line-dropped", "line 1 dropped")
    assert heading.equivalent and "every named template" in heading.equivalence_note
    assert not one(templates, "template-line-dropped", "line 8 dropped").equivalent
    assert not one(templates, "template-line-dropped", "line 2 dropped").equivalent


def _stack_with(tmp_path: Path, am: str) -> StackSpec:
    stack = tmp_path / "stack"
    shutil.copytree(SHOP, stack)
    (stack / "alertmanager.yml").write_text(am)
    return StackSpec.load(stack)


def test_an_inhibit_rule_that_never_applies_is_equivalent_when_changed(tmp_path: Path) -> None:
    am = (SHOP / "alertmanager.yml").read_text().replace(
        "    equal: [system]\n", "    equal: [system]\n"
        "  - source_matchers: ['alertname=\"NoSuchAlert\"']\n"
        "    target_matchers: ['severity=\"warning\"']\n    equal: [service]\n")
    spec = _stack_with(tmp_path, am)
    mutants = generate(spec, ("inhibit-deleted", "inhibit-equal-changed"))
    judge_all(spec, mutants)
    verdicts = {m.description: m.equivalent for m in mutants}
    assert verdicts == {"inhibit rule 1 deleted": False, "inhibit rule 2 deleted": True,
                        "inhibit rule 1: equal [system] → [instance]": False,
                        "inhibit rule 2: equal [service] → [instance]": True}


def test_a_regex_it_cannot_enumerate_is_not_proven(tmp_path: Path) -> None:
    """A regex on a label the rules leave unknown (templated) cannot be enumerated exactly."""
    am = (SHOP / "alertmanager.yml").read_text().replace(
        "    - matchers: ['team=\"web\"']", "    - matchers: ['team=\"web\"', 'region=~\"eu-.*\"']")
    spec = _stack_with(tmp_path, am)
    rules = spec.root / "rules" / "shop.yml"
    rules.write_text(rules.read_text().replace(
        "          severity: critical\n", "          severity: critical\n"
        "          region: '{{ $labels.instance }}'\n", 1))
    mutants = generate(spec, ("routes-reordered",))
    judge_all(spec, mutants)
    web_payments = one(mutants, "routes-reordered", "payments")
    assert not web_payments.equivalent
    assert "not proven" in web_payments.equivalence_note
    assert web_payments.affected_alerts is None  # so every scenario of the stack is selected


def test_equivalence_compares_timing_too(shop: list[Mutant]) -> None:
    m = one(shop, "timing-multiplied", "group_wait")
    assert not m.equivalent
    assert Checker(StackSpec.load(SHOP)).judge(m).alerts


# -- selection -----------------------------------------------------------------------------------
def test_selection_reads_stacks_and_names() -> None:
    scenarios = selection.read_scenarios(sorted(SHOP_FEATURES.glob("*.feature")))
    assert len(scenarios) == 5
    down = next(s for s in scenarios if s.name.startswith("checkout goes down"))
    assert down.stacks == {""}
    assert {"ShopServiceDown", "payments-team", "checkout"} <= down.names
    table = selection.read_scenarios([ROOT / "features/reference/routing_table.feature"])[0]
    assert table.all_rules and "PostgreSQLDown" in table.names and "dba-team" in table.names
    assert table.stacks == {"reference"}


def test_a_mutant_no_scenario_names_selects_nothing(shop: list[Mutant]) -> None:
    spec = StackSpec.load(SHOP)
    scenarios = selection.read_scenarios(sorted(SHOP_FEATURES.glob("*.feature")))
    names = selection.StackNames.of(spec)
    slow = one(shop, "for-removed", "StorefrontSlow")
    assert [s for s in scenarios if selection.sees(s, slow, "stack", names)] == []
    down = one(shop, "for-removed", "ShopServiceDown")
    assert len([s for s in scenarios if selection.sees(s, down, "stack", names)]) == 5
    # another stack's scenarios never see it
    assert not [s for s in scenarios if selection.sees(s, down, "other", names)
                and "" not in s.stacks]


def test_the_rule_unit_tests_scenario_sees_rule_mutants_only(reference: list[Mutant]) -> None:
    spec = StackSpec.load(ROOT / "stack" / "reference")
    names = selection.StackNames.of(spec)
    [unit] = selection.read_scenarios([ROOT / "features/reference/rule_tests.feature"])
    assert unit.rule_tests == {"reference"} and not unit.stacks
    assert selection.sees(unit, one(reference, "threshold-moved"), "reference", names)
    assert selection.sees(unit, one(reference, "label-misspelt"), "reference", names)
    assert not selection.sees(unit, one(reference, "send-resolved-flipped"), "reference", names)
    assert not selection.sees(unit, one(reference, "template-line-dropped"), "reference", names)
    assert not selection.sees(unit, one(reference, "threshold-moved"), "other", names)


def test_ordered_fastest_first_unknown_last(tmp_path: Path) -> None:
    scenarios = selection.read_scenarios(sorted(SHOP_FEATURES.glob("*.feature")))
    records = tmp_path / "drill"
    records.mkdir()
    for index, (scenario, seconds) in enumerate([(scenarios[3], 5.0), (scenarios[1], 20.0)]):
        (records / f"{index}.json").write_text(json.dumps(
            {"duration": seconds, "started": "2026-01-01T00:00:00",
             "feature": {"file": f"features/{scenario.feature.name}"},
             "scenario": {"name": scenario.name}}))
    known = selection.durations([records])
    order = selection.ordered(scenarios, known)
    assert order[:2] == [scenarios[3], scenarios[1]]
    assert order[2:] == [scenarios[0], scenarios[2], scenarios[4]]
    # A scenario that killed mutants in this run goes first — most kills per second first:
    # 8 in 20 s (0.4/s) before 1 in 5 s (0.2/s), then the rest as before.
    kills = {(scenarios[1].feature.name, scenarios[1].name): 8,
             (scenarios[3].feature.name, scenarios[3].name): 1}
    order = selection.ordered(scenarios, known, kills)
    assert order == [scenarios[1], scenarios[3], scenarios[0], scenarios[2], scenarios[4]]


# -- report --------------------------------------------------------------------------------------
def _result(shop: list[Mutant]) -> report.Result:
    killed = one(shop, "receiver-swapped")
    survived = one(shop, "send-resolved-flipped", "payments-team, webhook")
    equivalent = one(shop, "routes-reordered", 'route {team="web"} and')
    invalid = one(shop, "template-line-dropped", "line 3")
    return report.Result("shop", str(SHOP), [
        report.Outcome(killed, "killed", by="claim", scenario="checkout goes down",
                       step='Then "shop-oncall" is notified via pagerduty of "ShopServiceDown"'),
        report.Outcome(survived, "survived"),
        report.Outcome(equivalent, "equivalent", message=equivalent.equivalence_note),
        report.Outcome(invalid, "invalid", message="amtool: unexpected {{end}}"),
    ], 0.0, 60.0)


def test_score_excludes_equivalent_and_invalid(shop: list[Mutant]) -> None:
    result = _result(shop)
    assert result.scored == 2 and result.score == 0.5
    assert report.exit_status(result, None) == 0
    assert report.exit_status(result, 0.5) == 0
    assert report.exit_status(result, 0.51) == 1
    empty = report.Result("shop", "", [], 0.0, 1.0)
    assert empty.score is None and report.exit_status(empty, 0.1) == 1


def test_reports_name_the_killer_and_show_survivors_diffs(shop: list[Mutant]) -> None:
    result = _result(shop)
    md = report.markdown(result)
    assert "**Score: 0.50 (1 of 2 killed)**" in md
    assert "checkout goes down" in md and "-        send_resolved: true" in md
    # an alert the static view routes to the receiver, not a placeholder
    assert '"payments-team" is notified via webhook that "CheckoutErrorRate" resolved' in md
    assert "<alert>" not in md
    page = report.render_html(result)
    assert "<section" in page and "{{end}}" in page and "<pre>" in page
    doc = json.loads(report.to_json(result))
    assert doc["score"] == 0.5 and doc["counts"]["invalid"] == 1
    survivor = next(m for m in doc["mutants"] if m["status"] == "survived")
    assert survivor["diff"].startswith("--- a/alertmanager.yml") and survivor["suggestion"]
    text = report.terminal(result)
    assert "SURVIVED" in text and "would be caught by" in text


# -- planning and the CLI ------------------------------------------------------------------------
def test_unknown_operator_or_mutant_is_refused() -> None:
    from alertdrill.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown operator bogus"):
        parse_operators("for-removed,bogus")
    with pytest.raises(ConfigError, match="no mutant M999"):
        plan(MutateOptions(stack=str(SHOP), features=[SHOP_FEATURES], mutants="M001,M999"))
    with pytest.raises(ConfigError, match="min-score"):
        plan(MutateOptions(stack=str(SHOP), features=[SHOP_FEATURES], min_score=1.5))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alertdrill.cli", "mutate", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


@pytest.mark.parametrize("args", [
    ["--stack", str(SHOP), "--features", str(SHOP_FEATURES), "--min-score", "2"],
    ["--stack", str(SHOP), "--features", str(SHOP_FEATURES), "--operators", "nope"],
    ["--stack", str(SHOP), "--features", str(SHOP_FEATURES), "--parallel", "0"],
    ["--stack", str(SHOP)],
    ["--stack", "no-such-stack", "--features", str(SHOP_FEATURES)],
], ids=["min-score", "operator", "parallel", "no-features", "no-stack"])
def test_bad_options_exit_4_before_anything_starts(args: list[str], tmp_path: Path) -> None:
    done = _cli(*args, "--report-dir", str(tmp_path / "r"))
    assert done.returncode == 4, done.stdout + done.stderr
    assert not (tmp_path / "r").exists()


def test_list_on_the_reference_stack_counts_per_operator() -> None:
    done = _cli("--stack", "stack/reference", "--features", "features/reference", "--list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    table = {ln.split()[0]: ln.split()[1:] for ln in lines
             if ln.split() and ln.split()[0] in (*NAMES, "total")}
    assert set(table) == {*NAMES, "total"}
    assert int(table["total"][0]) == sum(int(table[n][0]) for n in table if n != "total")
    assert int(table["routes-reordered"][1]) > 0  # some proven equivalent
    assert any("[equivalent]" in ln for ln in lines)
    assert "proven equivalent (not run)" in lines[-1]


def test_an_equivalent_mutant_is_reported_without_running(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    """No tool, no child run: the equivalent mutant goes straight to the report."""
    from alertdrill.mutate import runner

    spawned: list[object] = []
    monkeypatch.setattr(runner._Runner, "run_one", lambda self, m: spawned.append(m))
    real_validate = runner.validate
    validated: list[object] = []

    def counting(stack: Path, mutant: object, spec: StackSpec) -> str | None:
        validated.append(mutant)
        return real_validate(stack, mutant, spec)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "validate", counting)
    ident = one(generate(StackSpec.load(SHOP)), "routes-reordered", 'route {team="web"} and').id
    out = io.StringIO()
    status, result = runner.run(MutateOptions(stack=str(SHOP), features=[SHOP_FEATURES],
                                              mutants=ident, report_dir=tmp_path, min_score=0.5),
                                out=out)
    assert "1 proven equivalent" in out.getvalue() and "EQUIVALENT" in out.getvalue()
    assert result is not None and [o.status for o in result.outcomes] == ["equivalent"]
    assert spawned == [] and validated == [None]  # only the unmutated stack was validated
    assert status == 1  # nothing could be scored: a --min-score gate does not pass vacuously


def test_the_order_plugin_keeps_the_listed_scenarios_in_the_listed_order(tmp_path: Path) -> None:
    """Collection only (no stack): what a mutant's run would execute, and in which order."""
    from alertdrill.cli.runner import write_binding
    from alertdrill.mutate.order import ENV

    binding = tmp_path / "binding"
    binding.mkdir()
    modules = write_binding(binding, [SHOP_FEATURES])
    scenarios = selection.read_scenarios(sorted(SHOP_FEATURES.glob("*.feature")))
    wanted = [scenarios[4], scenarios[0]]
    listing = tmp_path / "scenarios.json"
    listing.write_text(json.dumps([list(s.key) for s in wanted]))

    def collect(env: dict[str, str]) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", *map(str, modules), "-c",
             str(binding / "pytest.ini"), "--rootdir", str(binding), "--collect-only", "-q",
             "-p", "alertdrill.mutate.order"],
            capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
            env={**os.environ, **env})
        return [ln for ln in done.stdout.splitlines() if "::" in ln]

    assert len(collect({})) == 5  # the control: without a listing, every scenario
    ids = collect({ENV: str(listing)})
    assert len(ids) == 2, ids
    slug = [s.name.split(":")[0].split(" ")[0:2] for s in wanted]
    assert [i.rsplit("::", 1)[1].startswith("test_" + "_".join(w)) for i, w in
            zip(ids, slug, strict=True)] == [True, True], (ids, slug)


def test_scenarios_failing_in_earlier_records_are_known(tmp_path: Path) -> None:
    records = tmp_path / "drill"
    records.mkdir()
    for index, (started, outcome) in enumerate([("2026-01-01T00:00:00", "failed"),
                                                ("2026-01-02T00:00:00", "passed")]):
        (records / f"a{index}.json").write_text(json.dumps(
            {"outcome": outcome, "started": started, "feature": {"file": "x/a.feature"},
             "scenario": {"name": "flaky then fixed"}}))
    (records / "b.json").write_text(json.dumps(
        {"outcome": "error", "started": "2026-01-01T00:00:00",
         "feature": {"file": "x/b.feature"}, "scenario": {"name": "broken"}}))
    assert selection.failing([records]) == {("b.feature", "broken")}


def test_the_operators_make_the_hand_written_mutants_of_test_mutations(
        reference: list[Mutant]) -> None:
    """tests/test_mutations.py's seven realistic mutants of the reference config, by hand:
    the operators make five of them byte for byte, and the two misspellings at the same site
    (they double the last letter where the hand wrote an s)."""
    from tests.test_mutations import MUTANTS

    # The seven edits of the routing and rules; the mutants after them target the message
    # claims (template edits, resolve_timeout, webhooks swapped) that no operator aims at.
    seven = MUTANTS[:7]
    assert seven[-1].name == "inhibition compares the wrong label (the seed's)"
    for hand in seven:
        before = (REFERENCE / hand.file).read_text()
        after = before.replace(hand.before, hand.after)
        same_file = [m for m in reference if m.file == hand.file]
        if any(m.after == after for m in same_file):
            continue
        assert hand.name.endswith("misspelt"), f"no operator makes {hand.name!r}"
        value = hand.before.split("matchers: ['", 1)[1].split("']", 1)[0]
        assert any(m.operator == "matcher-misspelt" and f"{value} →" in m.description
                   for m in same_file), hand.name


def test_the_drill_report_embeds_the_mutation_section_beside_it(shop: list[Mutant],
                                                                 tmp_path: Path) -> None:
    from alertdrill import report as drill_report
    from tests.test_report import _record

    records = tmp_path / "drill"
    records.mkdir()
    (records / "one.json").write_text(json.dumps(_record()))
    html_path, md_path = drill_report.build(records, tmp_path)
    assert 'id="mutation"' not in html_path.read_text()
    report.write(_result(shop), tmp_path / "mutate")
    html_path, md_path = drill_report.build(records, tmp_path)
    page = html_path.read_text()
    assert page.count('<section class="mutation" id="mutation">') == 1
    assert page.index('id="mutation"') < page.index("</main>")
    assert "## Mutation report — shop" in md_path.read_text()
