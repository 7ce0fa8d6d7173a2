"""The inhibition table (exactly which alerts are held inhibited), as pure logic."""

from __future__ import annotations

from alertdrill.engine import timeline as tl
from alertdrill.engine.inhibitiontable import InhibitedRow, differences, inhibited
from alertdrill.engine.matches import Window
from alertdrill.engine.timeline import Event

WINDOW = Window(10.0, 13.5, 180.0, 3.0, 0.5, "push")


def held(t: float, alertname: str, by: list[str] | None = None, **labels: str) -> Event:
    return Event(t, tl.AM_SUPPRESSED, alertname, {"alertname": alertname, **labels},
                 {"inhibited_by": by if by is not None else ["f00"], "silenced_by": []})


def test_only_inhibited_alerts_of_the_window_count() -> None:
    events = [held(9.0, "Early"), held(11.0, "Api", severity="warning"),
              held(11.5, "Api", severity="warning"),        # the same alert seen again
              held(12.0, "Silenced", by=[]),                # suppressed, but not inhibited
              held(14.0, "Late")]
    seen = inhibited(events, WINDOW)
    assert [e.alertname for e in seen.values()] == ["Api"]


def test_a_row_never_inhibited_and_an_alert_no_row_allows_both_differ() -> None:
    seen = inhibited([held(11.0, "Api", severity="warning", instance="api:5000"),
                      held(11.0, "Pool", severity="critical")], WINDOW)
    rows = [InhibitedRow("Api", {"severity": "warning"}), InhibitedRow("Pool", {})]
    assert differences(rows, seen) == []
    assert differences([InhibitedRow("Api", {"severity": "critical"})], seen) == [
        "    Api{severity=critical}: expected inhibited, never was",
        "    Api{severity=warning, instance=api:5000}: inhibited, but no row says it may be",
        "    Pool{severity=critical}: inhibited, but no row says it may be",
    ]
