"""Claims can fail, and say why: the expectation engine on a hand-made timeline (no stack)."""

from __future__ import annotations

import pytest

from alertdrill import timeline as tl
from alertdrill.errors import ExpectationFailed
from alertdrill.expect import Expect, NotificationMatch
from alertdrill.sink.protocol import Destination
from alertdrill.sink.records import Delivery, NotifiedAlert
from alertdrill.timeline import Timeline
from alertdrill.timescale import TimeScale


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
