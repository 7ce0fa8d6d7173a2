"""The GameDay's fault vocabulary and the watch view, without a stack (milliseconds)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

import pytest

from alertdrill.cli.watch import View, render
from alertdrill.engine import timeline as tl
from alertdrill.engine.drill import check_breakable
from alertdrill.engine.faults import Fault
from alertdrill.engine.gameday import ACTIONS, Injections, listing, parse
from alertdrill.engine.silences import Matcher
from alertdrill.errors import StepError
from alertdrill.sink.protocol import Destination


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_every_listed_example_parses(name: str) -> None:
    action, values = parse(shlex.split(ACTIONS[name].example))
    assert action.name == name
    assert f"alertdrill inject {ACTIONS[name].example}" in listing()
    assert values


def test_words_are_typed_and_checked() -> None:
    _, values = parse(["flood-log", "api-service", "50", "critical", "2m", "payment", "failed"])
    assert values == {"SERVICE": "api-service", "RATE": 50.0, "LEVEL": "CRITICAL",
                      "DURATION": 120.0, "MESSAGE": "payment failed"}
    assert parse(["flood-log", "x", "5", "INFO", "30 seconds"])[1]["DURATION"] == 30.0
    _, values = parse(["break-receiver", "team-web", "slack", "http", "500"])
    assert values["FAILURE"] == "http 500"
    _, values = parse(["silence", "ana", "2h", "CHG-1 deploy", "alertname=X", 'team="web ops"'])
    assert values == {"AUTHOR": "ana", "DURATION": 7200.0, "COMMENT": "CHG-1 deploy",
                      "LABELS": {"alertname": "X", "team": "web ops"}}
    assert parse(["push", "DiskFull"])[1] == {"ALERT": "DiskFull"}


@pytest.mark.parametrize(("words", "message"), [
    (["stp", "web"], "unknown fault 'stp'"),
    (["stop"], "`stop` takes SERVICE, not 0 argument(s)"),
    (["stop", "web", "db"], "`stop` takes SERVICE, not 2 argument(s)"),
    (["fill-disk", "node-exporter", "150"], "PCT: cannot read '150'"),
    (["latency", "api", "-1"], "SECONDS: cannot read '-1'"),
    (["break-receiver", "r", "sms", "timeout"], "INTEGRATION: cannot read 'sms'"),
    (["break-receiver", "r", "slack", "http", "418"], "FAILURE: cannot read 'http 418'"),
    (["silence", "ana", "soon", "why", "a=b"], "DURATION: cannot read 'soon'"),
    (["push", "X", "not a label"], "LABELS: cannot read"),
])
def test_mistakes_fail_before_anything_is_sent(words: list[str], message: str) -> None:
    with pytest.raises(StepError, match=None) as caught:
        parse(words)
    assert message in str(caught.value)
    if words[0] == "stp":
        assert "did you mean: stop?" in str(caught.value)


@dataclass
class FakeFault(Fault):
    """A fault that does nothing but be applied and reverted."""

    label: str = ""

    @property
    def name(self) -> str:
        return self.label

    def _apply(self) -> None:
        pass

    def _revert(self) -> None:
        pass


class FakeDrill:
    def __init__(self) -> None:
        self.timeline = tl.Timeline()
        self.calls: list[tuple[str, Any]] = []

    def stop_service(self, name: str, how: str) -> Fault:
        self.calls.append(("stop", name))
        return FakeFault(self.timeline, label=f"{how} {name}").apply()

    def start_service(self, name: str) -> None:
        self.calls.append(("start", name))

    def create_silence(self, matchers: list[Matcher], duration: float, author: str,
                       comment: str) -> str:
        self.calls.append(("silence", {m.name: m.value for m in matchers if m.op == "="}))
        return "id"

    def remove_silence(self, matchers: list[Matcher]) -> None:
        self.calls.append(("unsilence", {m.name: m.value for m in matchers if m.op == "="}))


def test_injections_revert_by_id_latest_or_all() -> None:
    drill = FakeDrill()
    injections = Injections()
    stop = injections.apply(drill, ["stop", "web"])
    start = injections.apply(drill, ["start", "db"])
    silence = injections.apply(drill, ["silence", "ana", "1h", "why", "alertname=X"])
    assert (stop.id, start.id, silence.id) == (1, 2, 3)
    assert stop.active and silence.active and not start.revertible
    assert [i.id for i in injections.revert()] == [3], "the latest active one"
    assert drill.calls[-1] == ("unsilence", {"alertname": "X"})
    with pytest.raises(StepError, match="already reverted"):
        injections.revert(3)
    with pytest.raises(StepError, match="leaves nothing to revert"):
        injections.revert(2)
    with pytest.raises(StepError, match="no injection #9"):
        injections.revert(9)
    assert [i.id for i in injections.revert(every=True)] == [1]
    with pytest.raises(StepError, match="nothing to revert"):
        injections.revert()
    assert [i["active"] for i in injections.to_json()] == [False, False, False]


def _event(t: float, kind: str, subject: str, labels: dict[str, str] | None = None,
           **detail: Any) -> dict[str, Any]:
    return {"t": t, "kind": kind, "subject": subject, "labels": labels or {}, "detail": detail}


def test_view_folds_states_notifications_and_faults() -> None:
    down = {"alertname": "TargetDown", "instance": "web:8080"}
    events = [
        _event(0.0, tl.STACK_WARNING, "stack", note="clamped"),
        _event(1.0, tl.FAULT_APPLIED, "stop web"),
        _event(1.4, tl.PROM_PENDING, "TargetDown", down),
        _event(2.0, tl.PROM_FIRING, "TargetDown", down),
        *[_event(2.1, tl.AM_ACTIVE, "TargetDown", down, peer=p, fingerprint="f1")
          for p in range(3)],
        _event(2.2, tl.AM_SUPPRESSED, "Other", {"alertname": "Other"}, peer=0, fingerprint="f2",
               silenced_by=["0123456789abcdef"]),
        _event(2.5, tl.NOTIFICATION, "team-web", integration="slack", status="firing",
               note="slack[0] from alertmanager-1 firing [FIRING:1] TargetDown → 500",
               response_code=500, fault="status 500"),
        _event(2.6, tl.NOTIFICATION, "oncall", integration="webhook", status="firing",
               alertnames=["TargetDown"], response_code=200),
    ]
    view = View()
    view.fold(events)
    state = {"stack": "sample", "time_scale": 60, "t": 3.0, "run_id": "r",
             "running": {"web": False, "db": True},
             "injections": [{"id": 1, "t": 1.0, "name": "stop web", "active": True,
                             "revertible": True}]}
    text = render(view, state, width=120)
    assert "services not running: web" in text and "1 start-up warning on the timeline" in text
    assert "FAULTS (1 active)" in text and "#1   +    1.00s  active    stop web" in text
    assert "FIRING   TargetDown{instance=web:8080}" in text and "since +2.00s" in text
    assert "active     TargetDown{instance=web:8080}  peers 0,1,2" in text
    assert "suppressed Other  peers 0  (silenced by 01234567)" in text
    assert "team-web" in text and "“[FIRING:1] TargetDown”" in text and "→ 500 (status 500)" in text
    assert "\x1b[" not in text
    assert "\x1b[31;1m" in render(view, state, colour=True)

    view.fold([_event(4.0, tl.PROM_INACTIVE, "TargetDown", down),
               *[_event(4.1, tl.AM_GONE, "TargetDown", down, peer=p, fingerprint="f1")
                 for p in range(3)]])
    text = render(view, state, width=120)
    assert "PROMETHEUS (0 alerts)" in text and "ALERTMANAGER (1 alert)" in text


def test_break_receiver_names_one_integration_by_position() -> None:
    """As the scenario step does (``the webhook[1] integration of "R" fails``): GameDay operators
    can break the ticket webhook of a receiver and leave its escalation webhook paged."""
    assert parse(["break-receiver", "dev-critical", "webhook[1]", "http", "500"])[1] == {
        "RECEIVER": "dev-critical", "INTEGRATION": ("webhook", 1), "FAILURE": "http 500"}
    assert parse(["break-receiver", "r", "slack", "timeout"])[1]["INTEGRATION"] == ("slack", None)
    assert parse(["break-receiver", "r", "any", "timeout"])[1]["INTEGRATION"] == (None, None)
    for word in ("webhook[x]", "any[0]", "webhook[-1]", "sms[0]"):
        with pytest.raises(StepError, match=f"INTEGRATION: cannot read '{re.escape(word)}'"):
            parse(["break-receiver", "r", word, "timeout"])


def test_a_break_that_would_fail_nothing_is_refused() -> None:
    dests = [Destination(0, "dev-critical", "webhook", 0), Destination(0, "dev-critical", "webhook", 1),
             Destination(0, "dev-critical", "slack", 0), Destination(0, "team-web", "email", 0)]
    for integration, index in (("webhook", 1), ("webhook", None), (None, None), ("slack", 0)):
        check_breakable(dests, "dev-critical", integration, index)
    with pytest.raises(StepError, match=r'no webhook\[2\] integration') as caught:
        check_breakable(dests, "dev-critical", "webhook", 2)
    assert "its integrations: slack, webhook, webhook[1]" in str(caught.value)
    with pytest.raises(StepError, match="has no pagerduty integration"):
        check_breakable(dests, "dev-critical", "pagerduty", None)
    with pytest.raises(StepError, match='no receiver "dev-critcal"'):
        check_breakable(dests, "dev-critcal", None, None)
