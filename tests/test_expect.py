"""Claims can fail, and say why: the expectation engine on a hand-made timeline (no stack)."""

from __future__ import annotations

import pytest

from alertdrill.engine import timeline as tl
from alertdrill.engine.expect import Expect
from alertdrill.engine.matches import NotificationMatch
from alertdrill.engine.timeline import Timeline
from alertdrill.engine.timescale import TimeScale
from alertdrill.errors import ExpectationFailed
from alertdrill.sink.protocol import Destination
from alertdrill.sink.records import Delivery, NotifiedAlert


class FakeObserver:
    """Stands in for the poller: the timeline is filled by the test itself."""

    def __init__(self) -> None:
        self.polls = 0

    def poll(self) -> None:
        self.polls += 1


def _delivery(receiver: str, alertname: str, status: str = "firing", integration: str = "probe",
              group: str = "g1", text: str = "") -> Delivery:
    alert = NotifiedAlert(labels={"alertname": alertname}, annotations={}, status=status,
                          starts_at="", ends_at="", fingerprint="f")
    return Delivery(seq=1, arrived=0.0, destination=Destination(0, receiver, integration, 0),
                    status=status if integration == "probe" else None,
                    alerts=(alert,) if integration == "probe" else (), group_key=group,
                    text=text, payload={}, response_code=200, fault=None)


def _notify(timeline: Timeline, t: float, delivery: Delivery) -> None:
    timeline.add(tl.NOTIFICATION, delivery.destination.receiver, t=t,
                 integration=delivery.destination.integration, peer=0,
                 status=delivery.status, alertnames=sorted(delivery.alertnames),
                 response_code=delivery.response_code,
                 _delivery=delivery)


def _expect(scale: float = 1.0, tolerance: float = 0.05) -> tuple[Timeline, Expect]:
    timeline = Timeline()
    return timeline, Expect(timeline, FakeObserver(), TimeScale(scale), tolerance)  # type: ignore[arg-type]


def test_notified_finds_the_event_inside_the_window() -> None:
    timeline, expect = _expect()
    timeline.add(tl.FAULT_APPLIED, "stop web", t=0.0, anchor=True)
    _notify(timeline, 0.1, _delivery("team-web", "TargetDown"))
    event = expect.notified(NotificationMatch("team-web", "TargetDown"), 0.2)
    assert event.subject == "team-web"


def test_missing_notification_lists_what_did_arrive() -> None:
    timeline, expect = _expect()
    timeline.add(tl.FAULT_APPLIED, "stop web", t=0.0, anchor=True)
    _notify(timeline, 0.05, _delivery("team-db", "TargetDown"))
    with pytest.raises(ExpectationFailed) as err:
        expect.notified(NotificationMatch("team-web", "TargetDown"), 0.1)
    text = str(err.value)
    assert '✗ expected "team-web" notified of "TargetDown"' in text
    assert "nothing matching happened at all" in text
    assert "team-db" in text and "stop web" in text
    assert "window t=+0.000s … t=+0.150s" in text


def test_late_notification_is_named_as_late() -> None:
    timeline, expect = _expect()
    timeline.add(tl.FAULT_APPLIED, "stop web", t=0.0, anchor=True)
    _notify(timeline, 5.0, _delivery("team-web", "TargetDown"))
    with pytest.raises(ExpectationFailed, match="matching events outside the window"):
        expect.notified(NotificationMatch("team-web", "TargetDown"), 0.1)


def test_events_before_the_anchor_do_not_count() -> None:
    timeline, expect = _expect()
    _notify(timeline, -0.5, _delivery("team-web", "TargetDown"))
    timeline.add(tl.FAULT_APPLIED, "stop web", t=0.0, anchor=True)
    with pytest.raises(ExpectationFailed):
        expect.notified(NotificationMatch("team-web", "TargetDown"), 0.05)


def test_never_fails_on_a_notification_in_the_window() -> None:
    timeline, expect = _expect()
    timeline.add(tl.FAULT_APPLIED, "stop web", t=0.0, anchor=True)
    _notify(timeline, 0.05, _delivery("team-db", "TargetDown"))
    with pytest.raises(ExpectationFailed, match="NO notification"):
        expect.never_notified(NotificationMatch("team-db", "TargetDown", None), 0.1)
    expect.never_notified(NotificationMatch("team-web", "TargetDown", None), 0.1)


def test_resolved_is_not_firing() -> None:
    timeline, expect = _expect()
    timeline.add(tl.FAULT_APPLIED, "stop web", t=0.0, anchor=True)
    _notify(timeline, 0.05, _delivery("team-web", "TargetDown", status="resolved"))
    with pytest.raises(ExpectationFailed):
        expect.notified(NotificationMatch("team-web", "TargetDown", "firing"), 0.05)
    expect.notified(NotificationMatch("team-web", "TargetDown", "resolved"), 0.05)


def test_text_integrations_match_on_the_rendered_text() -> None:
    timeline, expect = _expect()
    timeline.add(tl.FAULT_APPLIED, "stop web", t=0.0, anchor=True)
    _notify(timeline, 0.05, _delivery("team-web", "X", integration="slack",
                                      text="[FIRING:1] TargetDown (web:8080)"))
    expect.notified(NotificationMatch("team-web", "TargetDown", "firing", "slack"), 0.1)
    with pytest.raises(ExpectationFailed):
        expect.notified(NotificationMatch("team-web", "OtherAlert", "firing", "slack"), 0.05)


def test_only_receivers_fails_on_an_unexpected_receiver() -> None:
    timeline, expect = _expect()
    timeline.add(tl.ACTION, "A", t=0.0, anchor=True)
    _notify(timeline, 0.01, _delivery("a", "A"))
    _notify(timeline, 0.02, _delivery("b", "A"))
    expect.only_receivers(["a", "b"], "A", 0.05)
    with pytest.raises(ExpectationFailed, match=r"unexpected: \['b'\]"):
        expect.only_receivers(["a"], "A", 0.05)
    with pytest.raises(ExpectationFailed):
        expect.only_receivers(["a", "b", "c"], "A", 0.05)


def test_exactly_once_per_group_reports_duplicates() -> None:
    timeline, expect = _expect()
    timeline.add(tl.ACTION, "A", t=0.0, anchor=True)
    _notify(timeline, 0.01, _delivery("a", "A", group="g1"))
    _notify(timeline, 0.02, _delivery("b", "A", group="g1"))
    assert expect.once_per_group("A", 0.05) == {("a", "g1"): 1, ("b", "g1"): 1}
    _notify(timeline, 0.03, _delivery("a", "A", group="g1"))
    with pytest.raises(ExpectationFailed, match="a group g1: 2×"):
        expect.once_per_group("A", 0.05)


def test_scale_divides_the_real_world_window_but_not_the_tolerance() -> None:
    timeline, expect = _expect(scale=60, tolerance=0.5)
    timeline.add(tl.FAULT_APPLIED, "x", t=1.0, anchor=True)
    window = expect.window(120)
    assert window.start == 1.0
    assert window.end == pytest.approx(1.0 + 2.0 + 0.5)
    assert "2 min" in window.describe() and "2.00 s measured" in window.describe()


# -- every claim leaves its verdict on the timeline (what the drill report reads) ------------
def _claims(timeline: Timeline) -> list[tl.Event]:
    return timeline.events([tl.CLAIM])


def test_a_passing_claim_records_its_window_sla_and_measured_latency() -> None:
    timeline, expect = _expect(scale=60, tolerance=0.5)
    timeline.add(tl.FAULT_APPLIED, "stop web", t=1.0, anchor=True)
    _notify(timeline, 2.25, _delivery("team-web", "TargetDown"))
    expect.notified(NotificationMatch("team-web", "TargetDown"), 180)
    (claim,) = _claims(timeline)
    d = claim.detail
    assert not claim.anchor, "a verdict must never move the SLA clock"
    assert d["claim"] == "notified" and d["passed"] is True
    assert d["text"] == '"team-web" notified of "TargetDown" within 3 min'
    assert (d["window_start"], d["deadline"], d["window_end"]) == (1.0, 4.0, 4.5)
    assert (d["sla_real"], d["sla_measured"], d["tolerance"]) == (180, 3.0, 0.5)
    assert d["matched_t"] == 2.25 and d["measured"] == 1.25
    assert (d["receiver"], d["alertname"], d["status"]) == ("team-web", "TargetDown", "firing")
    assert '"stop web"' in d["counted_from"]


def test_a_failing_claim_records_a_failure_and_keeps_its_message() -> None:
    timeline, expect = _expect()
    timeline.add(tl.FAULT_APPLIED, "stop web", t=0.0, anchor=True)
    with pytest.raises(ExpectationFailed, match='✗ expected the alert "TargetDown" firing'):
        expect.alert_state("TargetDown", tl.PROM_FIRING, 0.05)
    (claim,) = _claims(timeline)
    assert claim.detail["passed"] is False and "measured" not in claim.detail
    assert claim.detail["text"] == 'the alert "TargetDown" fires within 0.05 s'


def test_claims_about_absence_and_counts_record_the_offending_events() -> None:
    timeline, expect = _expect()
    timeline.add(tl.FAULT_APPLIED, "stop web", t=0.0, anchor=True)
    _notify(timeline, 0.02, _delivery("team-db", "TargetDown"))
    expect.never_notified(NotificationMatch("team-web", "TargetDown", None), 0.05)
    with pytest.raises(ExpectationFailed):
        expect.never_notified(NotificationMatch("team-db", "TargetDown", None), 0.05)
    with pytest.raises(ExpectationFailed):
        expect.notified_exactly(NotificationMatch("team-db", "TargetDown"), 2, 0.05)
    ok, never, exactly = _claims(timeline)
    assert ok.detail["passed"] is True and "measured" not in ok.detail
    assert never.detail["passed"] is False and never.detail["offending_t"] == [0.02]
    assert exactly.detail["passed"] is False and exactly.detail["count"] == 1
    assert exactly.detail["expected_count"] == 2


def test_only_receivers_records_one_claim_per_receiver_and_the_whole_claim() -> None:
    timeline, expect = _expect()
    timeline.add(tl.ACTION, "A", t=0.0, anchor=True)
    _notify(timeline, 0.01, _delivery("a", "A"))
    _notify(timeline, 0.03, _delivery("b", "A"))
    expect.only_receivers(["a", "b"], "A", 0.05)
    parts = [c for c in _claims(timeline) if c.detail.get("part_of")]
    whole = [c for c in _claims(timeline) if c.detail["claim"] == "only_receivers"]
    assert [c.detail["receiver"] for c in parts] == ["a", "b"]
    assert [c.detail["measured"] for c in parts] == [0.01, 0.03]
    assert len(whole) == 1 and whole[0].detail["passed"] is True
    assert whole[0].detail["measured"] == 0.03, "the whole claim holds once the last receiver got it"
    with pytest.raises(ExpectationFailed):
        expect.only_receivers(["a", "c"], "A", 0.05)
    assert _claims(timeline)[-1].detail["claim"] == "only_receivers"
    assert _claims(timeline)[-1].detail["passed"] is False
