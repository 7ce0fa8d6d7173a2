"""Claims about the timeline, each with a deadline, an explicit tolerance, and a useful failure.

Every claim counts from the timeline's latest anchor (the last fault applied or reverted, or
alerts pushed): "notified within 2 minutes" means within 2 real-world minutes of the outage.
A claim that fails says what it expected, the exact window it checked, and everything that did
happen, in arrival order — so the first read of a red CI run tells what went wrong.

Every claim also leaves a ``claim`` event on the timeline (pass or fail): its text, window,
real-world SLA, measured SLA, tolerance and, when it passed, the time of the event that satisfied
it — what the drill report's SLA table and chart are built from.

Size (~535 lines): one method per claim kind (``ClaimKind``) sharing the window, the wait and
the failure message; what a claim looks at lives in :mod:`alertdrill.engine.matches`; the claims on a
notification's content are in :mod:`alertdrill.engine.expect_content` (mixed in).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from alertdrill.durations import human
from alertdrill.engine import timeline as tl
from alertdrill.engine.claimkinds import ClaimKind
from alertdrill.engine.deliverytable import DeliveryTable, delivered, differences
from alertdrill.engine.expect_content import ContentClaims
from alertdrill.engine.inhibitiontable import InhibitedRow, inhibited
from alertdrill.engine.inhibitiontable import differences as inhibition_differences
from alertdrill.engine.matches import Match, NotificationMatch, Window, labels_text
from alertdrill.engine.observe import Observer
from alertdrill.engine.timeline import Event, Timeline
from alertdrill.engine.timescale import TimeScale
from alertdrill.errors import ExpectationFailed
from alertdrill.text import plural

#: Waits re-check the timeline this often (the observer itself polls every 100 ms).
CHECK_EVERY = 0.05


class Expect(ContentClaims):
    """The claims steps make, bound to one scenario's timeline and observer."""

    def __init__(
        self,
        timeline: Timeline,
        observer: Observer,
        scale: TimeScale,
        tolerance: float,
        reach: Callable[[str], frozenset[str] | None] | None = None,
        diagnose: Callable[[], list[str]] | None = None,
        unscaled: Callable[[str], tuple[float, str]] | None = None,
    ) -> None:
        self.timeline = timeline
        self.observer = observer
        self.scale = scale
        self.tolerance = tolerance
        #: alertname → the receivers the routing tree can send it to (None: not known), so a
        #: claim of absence that cannot fail says so (see alertdrill.analysis.staticreach).
        self.reach = reach
        #: Lines every failure ends with: the stack's health and the cluster's state, so a
        #: red run on an overloaded machine or a split cluster says so (see Drill.diagnosis).
        self.diagnose = diagnose
        #: alertname → (measured seconds its pipeline takes beyond the scaled config, why): a
        #: scrape job held at real time (manifest ``min_scrape_timeout``) for its rules' probes.
        self.unscaled = unscaled
        self._part_of: str | None = None
        self._from_first = False

    # -- windows and waiting --------------------------------------------------------------
    @contextmanager
    def from_first_action(self) -> Iterator[None]:
        """Claims made inside count from the scenario's *first* action, not its latest: for
        what is counted over a whole incident (duplicates while a peer was frozen and resumed)."""
        previous, self._from_first = self._from_first, True
        try:
            yield
        finally:
            self._from_first = previous

    def window(self, within_real: float, alertname: str | None = None,
               batch: bool = False) -> Window:
        """The window a claim "within ``within_real`` seconds" checks, from the latest anchor
        (or the first one, inside :meth:`from_first_action`; with ``batch``, the first of the
        latest burst of actions — those after the last claim made before the latest one).

        For an alert whose rule reads a scrape job held at real time (a probe that measures
        literal seconds), the time the hold adds is not scaled: it is added to the window as
        its own figure, like the tolerance (see :attr:`unscaled`).
        """
        anchors = [e for e in self.timeline.events() if e.anchor]
        anchor = (anchors[0] if self._from_first else anchors[-1]) if anchors else None
        if batch and anchors:
            # The first of the latest burst of actions (those after the last claim before the
            # latest action): pushes whose first alerts are notified, or inhibited, before the
            # last one is sent.
            latest = anchors[-1].t
            claims = [e.t for e in self.timeline.events([tl.CLAIM]) if e.t <= latest]
            anchor = next(a for a in anchors if not claims or a.t >= claims[-1])
        start = anchor.t if anchor else 0.0
        label = f'"{anchor.subject}" ({anchor.kind})' if anchor else "(stack ready)"
        measured = self.scale.measured(within_real)
        extra, why = (self.unscaled(alertname) if self.unscaled is not None and alertname
                      else (0.0, ""))
        return Window(start, start + measured + extra + self.tolerance, within_real, measured,
                      self.tolerance, label, extra, why)

    def _wait(self, find: Callable[[], Event | None], window: Window) -> Event | None:
        """Poll ``find`` until it returns an event or the window closes (then one last poll)."""
        remaining = max(0.0, window.end - self.timeline.now())
        retrying = Retrying(
            stop=stop_after_delay(remaining),
            wait=wait_fixed(CHECK_EVERY),
            retry=retry_if_result(lambda found: found is None),
            reraise=True,
        )
        try:
            found = retrying(find)
        except RetryError:
            found = None
        if found is None:
            self.observer.poll()
            found = find()
        return found

    def _sleep_until(self, t: float) -> None:
        """Let the timeline reach ``t`` (used by claims about absence and counts)."""
        remaining = t - self.timeline.now()
        if remaining > 0:
            time.sleep(remaining)
        self.observer.poll()

    # -- claims ---------------------------------------------------------------------------
    def alert_state(self, alertname: str, kind: str, within_real: float,
                    labels: dict[str, str] | None = None) -> Event:
        """Prometheus reports ``alertname`` in state ``kind`` inside the window."""
        window = self.window(within_real, alertname)
        wanted = labels or {}

        def matches(e: Event) -> bool:
            return (e.kind == kind and e.alertname == alertname
                    and all(e.labels.get(k) == v for k, v in wanted.items()))

        def find() -> Event | None:
            return next((e for e in self.timeline.events([kind]) if matches(e)
                         and window.contains(e.t)), None)

        found = self._wait(find, window)
        state = kind.split(".")[-1]
        words = _STATE_WORDS.get(state, state)
        self._claim(ClaimKind.ALERT_STATE, f'the alert "{alertname}"{labels_text(wanted)} {words}', window,
                    found, matches, alertname=alertname, state=state, match_labels=dict(wanted))
        if found is None:
            self._fail(f'the alert "{alertname}"{labels_text(wanted)} {state} {window.describe()}',
                       matches, window, kinds=_ALERT_KINDS)
        assert found is not None
        return found

    def suppressed(self, alertname: str, how: str, within_real: float,
                   labels: dict[str, str] | None = None) -> Event:
        """An Alertmanager peer reports ``alertname`` (with ``labels``) suppressed
        (``inhibited`` or ``silenced``)."""
        window = self.window(within_real, alertname)
        key = "inhibited_by" if how == "inhibited" else "silenced_by"
        wanted = labels or {}

        def matches(e: Event) -> bool:
            return (e.kind == tl.AM_SUPPRESSED and e.alertname == alertname
                    and bool(e.detail.get(key))
                    and all(e.labels.get(k) == v for k, v in wanted.items()))

        def find() -> Event | None:
            return next((e for e in self.timeline.events([tl.AM_SUPPRESSED]) if matches(e)
                         and window.contains(e.t)), None)

        found = self._wait(find, window)
        self._claim(ClaimKind.SUPPRESSED, f'"{alertname}"{labels_text(wanted)} is {how}', window, found,
                    matches, alertname=alertname, how=how)
        if found is None:
            self._fail(f'"{alertname}"{labels_text(wanted)} {how} in Alertmanager '
                       f"{window.describe()}", matches, window)
        assert found is not None
        return found

    def routed(self, alertname: str, receivers: Iterable[str], within_real: float,
               exact: bool = False, labels: dict[str, str] | None = None) -> Event:
        """Alertmanager's own routing decision for the alert (its v2 API ``receivers``) names
        every receiver given (and, ``exact``, no other) — seen as soon as the alert arrives,
        without waiting out a long group_wait (a maintenance route's 1 h)."""
        window = self.window(within_real, alertname)
        wanted = set(receivers)
        only = labels or {}

        def of_alert(e: Event) -> bool:
            return (e.kind in (tl.AM_ACTIVE, tl.AM_SUPPRESSED) and e.alertname == alertname
                    and all(e.labels.get(k) == v for k, v in only.items()))

        def matches(e: Event) -> bool:
            if not of_alert(e):
                return False
            got = set(e.detail.get("receivers") or [])
            return got == wanted if exact else wanted <= got

        def find() -> Event | None:
            return next((e for e in self.timeline.events([tl.AM_ACTIVE, tl.AM_SUPPRESSED])
                         if matches(e) and window.contains(e.t)), None)

        found = self._wait(find, window)
        text = (f'"{alertname}"{labels_text(only)} routed to {"exactly " if exact else ""}'
                f"{sorted(wanted)}")
        self._claim(ClaimKind.ROUTED, text, window, found, matches, alertname=alertname)
        if found is None:
            seen = sorted({r for e in self.timeline.events([tl.AM_ACTIVE, tl.AM_SUPPRESSED])
                           if of_alert(e) for r in e.detail.get("receivers") or []})
            self._fail(f"{text} by Alertmanager {window.describe()}; Alertmanager routed it to "
                       f"{seen or 'nothing (the alert never arrived)'}", matches, window)
        assert found is not None
        return found

    def notified(self, match: Match, within_real: float) -> Event:
        """A matching notification arrives inside the window."""
        window = self.window(within_real, _alertname(match))

        def find() -> Event | None:
            return next((e for e in self.timeline.events([tl.NOTIFICATION])
                         if match(e) and window.contains(e.t)), None)

        found = self._wait(find, window)
        self._claim(ClaimKind.NOTIFIED, match.describe(), window, found, match, **_about(match))
        if found is None:
            self._fail(f"{match.describe()} {window.describe()}", match, window)
        assert found is not None
        return found

    def notified_between(self, match: Match, earliest_real: float,
                         latest_real: float) -> Event:
        """The first matching notification arrives no earlier than ``earliest_real`` and no
        later than ``latest_real`` (both from the latest anchor; the tolerance widens both)."""
        if earliest_real > latest_real:
            raise ValueError("the earliest time must not be after the latest")
        window = self.window(latest_real, _alertname(match))
        found = self.notified(match, latest_real)
        earliest = window.start + self.scale.measured(earliest_real) - self.tolerance
        self._claim(ClaimKind.NOTIFIED_NOT_BEFORE, f"{match.describe()} not before "
                    f"{human(earliest_real)}", window, found, match, passed=found.t >= earliest,
                    offending=[found] if found.t < earliest else (),
                    earliest_real=earliest_real, **_about(match))
        if found.t < earliest:
            self._fail(f"{match.describe()} NOT BEFORE {human(earliest_real)} "
                       f"(t={earliest:+.3f}s, tolerance included) and {window.describe()}",
                       match, window, found=[found])
        return found

    def notified_at_least(self, match: Match, times: int,
                          within_real: float) -> list[Event]:
        """At least ``times`` matching notifications arrive in the window (repeats, retries)."""
        window = self.window(within_real, _alertname(match))

        def hits() -> list[Event]:
            return [e for e in self.timeline.events([tl.NOTIFICATION])
                    if match(e) and window.contains(e.t)]

        def find() -> Event | None:
            found = hits()
            return found[times - 1] if len(found) >= times else None

        found = self._wait(find, window)
        self._claim(ClaimKind.NOTIFIED_AT_LEAST, f"{match.describe()} at least {times}×", window, found,
                    match, count=len(hits()), expected_count=times, **_about(match))
        if found is None:
            got = hits()
            self._fail(f"{match.describe()} at least {times}× {window.describe()}, got {len(got)}×",
                       match, window, found=got)
        return hits()

    def never_notified(self, match: Match, within_real: float) -> None:
        """No matching notification arrives during the whole window (which is waited out)."""
        window = self.window(within_real, _alertname(match))
        self._sleep_until(window.end)
        hits = [e for e in self.timeline.events([tl.NOTIFICATION]) if match(e)
                and window.contains(e.t)]
        self._claim(ClaimKind.NEVER_NOTIFIED, f"NO notification: {match.describe()}"
                    f"{self._vacuous(match)}", window, None,
                    match, passed=not hits, offending=hits, **_about(match))
        if hits:
            self._fail(f"NO notification: {match.describe()} {window.describe()}", match, window,
                       found=hits)

    def count(self, match: Match, within_real: float) -> list[Event]:
        """All matching notifications of the whole window (which is waited out)."""
        window = self.window(within_real, _alertname(match))
        self._sleep_until(window.end)
        return [e for e in self.timeline.events([tl.NOTIFICATION]) if match(e)
                and window.contains(e.t)]

    def notified_exactly(self, match: Match, times: int, within_real: float) -> None:
        """Exactly ``times`` matching notifications in the window."""
        hits = self.count(match, within_real)
        window = self.window(within_real, _alertname(match))
        self._claim(ClaimKind.NOTIFIED_EXACTLY, f"{match.describe()} exactly {times}×"
                    f"{self._vacuous(match)}", window,
                    hits[0] if hits else None, match, passed=len(hits) == times,
                    offending=hits if len(hits) != times else (), count=len(hits),
                    expected_count=times, **_about(match))
        if len(hits) != times:
            self._fail(f"{match.describe()} exactly {times}× {window.describe()}, "
                       f"got {len(hits)}×", match, window, found=hits)

    def only_receivers(self, receivers: Iterable[str], alertname: str, within_real: float) -> None:
        """``alertname`` reaches exactly the receivers named: each of them, and no other."""
        wanted = set(receivers)
        window = self.window(within_real, alertname)
        text = f'only {", ".join(sorted(wanted))} notified of "{alertname}"'
        firsts: list[Event] = []
        with self._within(text):
            try:
                for receiver in sorted(wanted):
                    firsts.append(self.notified(NotificationMatch(receiver, alertname),
                                                within_real))
            except ExpectationFailed:
                self._claim(ClaimKind.ONLY_RECEIVERS, text, window, None, NotificationMatch(None, alertname),
                            passed=False, alertname=alertname, receivers=sorted(wanted))
                raise
        hits = self.count(NotificationMatch(None, alertname), within_real)
        got = {e.subject for e in hits}
        last = max(firsts, key=lambda e: e.t) if firsts else None
        self._claim(ClaimKind.ONLY_RECEIVERS, text, window, last, NotificationMatch(None, alertname),
                    passed=got == wanted, offending=[e for e in hits if e.subject not in wanted],
                    alertname=alertname, receivers=sorted(wanted))
        if got != wanted:
            extra, missing = sorted(got - wanted), sorted(wanted - got)
            self._fail(
                f'"{alertname}" routed to exactly {sorted(wanted)} {window.describe()}; '
                f"unexpected: {extra or 'none'}, missing: {missing or 'none'}",
                NotificationMatch(None, alertname), window, found=hits,
            )

    def once_per_group(self, alertname: str, within_real: float) -> dict[tuple[str, str], int]:
        """Every (receiver, group) that got ``alertname`` firing got it exactly once."""
        return self.per_group(alertname, 1, 1, within_real)

    def routing_table(self, rows: list[tuple[str, dict[str, str], set[str]]],
                      within_real: float, pushed: list[dict[str, str]] | None = None) -> None:
        """Alertmanager routes each (alert, labels) row to exactly its receivers; with
        ``pushed``, every pushed alert must also be covered by a row (a new rule without a
        routing expectation fails too). All rows are checked before failing, and the failure is
        a table of expected beside what Alertmanager decided."""
        window = self.window(within_real)

        def decided(name: str, labels: dict[str, str]) -> set[str] | None:
            for e in self.timeline.events([tl.AM_ACTIVE, tl.AM_SUPPRESSED]):
                if e.alertname == name and all(e.labels.get(k) == v for k, v in labels.items()):
                    return set(e.detail.get("receivers") or [])
            return None

        def wrong() -> list[str]:
            bad = []
            for name, labels, receivers in rows:
                got = decided(name, labels)
                if got != receivers:
                    bad.append(f"    {name}{labels_text(labels)}: expected {sorted(receivers)}, "
                               f"Alertmanager: {sorted(got) if got is not None else 'never saw it'}")
            for labels in pushed or []:
                if not any(labels.get("alertname") == name
                           and all(labels.get(k) == v for k, v in want.items())
                           for name, want, _ in rows):
                    bad.append(f"    {labels.get('alertname')}{labels_text(labels)}: pushed, but no "
                               "row of the table says where it must go")
            return bad

        self._wait(lambda: self.timeline.add(tl.CHECK, "routing table", note="all rows hold")
                   if not wrong() else None, window)
        problems = wrong()
        self._claim(ClaimKind.ROUTING_TABLE, f"the routing table ({len(rows)} rows)", window, None,
                    lambda e: False, passed=not problems, wrong_rows=len(problems))
        self._fail_rows(problems, "Alertmanager's routing to match the table", "row", window)

    def delivery_table(self, table: DeliveryTable, within_real: float) -> None:
        """Every receiver delivers ``table.status`` notifications through exactly its row's
        integrations, and no other receiver through any, during the whole window (waited out:
        a silence is part of the claim), counted from the first of the latest burst of
        actions. See :mod:`alertdrill.engine.deliverytable`."""
        window = self.window(within_real, batch=True)
        self._sleep_until(window.end)
        events = self.timeline.events([tl.NOTIFICATION])
        problems = differences(table, delivered(events, table.status, window))
        self._claim(ClaimKind.DELIVERY_TABLE, f"the {table.status} delivery table "
                    f"({plural(len(table.rows), 'receiver')})", window, None, lambda e: False,
                    passed=not problems, wrong_rows=len(problems))
        self._fail_rows(problems, f"the {table.status} notifications to go through exactly the "
                        "table's integrations", "receiver", window,
                        ["  notifications, in arrival order:",
                         *(f"    {e.describe()}" for e in events)])

    def inhibited_exactly(self, rows: list[InhibitedRow], within_real: float) -> None:
        """Exactly the rows' alerts are inhibited on some peer during the window (waited out),
        counted like the delivery table. See :mod:`alertdrill.engine.inhibitiontable`."""
        window = self.window(within_real, batch=True)
        self._sleep_until(window.end)
        problems = inhibition_differences(rows, inhibited(self.timeline.events(), window))
        self._claim(ClaimKind.INHIBITION_TABLE, f"the inhibition table ({plural(len(rows), 'row')})",
                    window, None, lambda e: False, passed=not problems, wrong_rows=len(problems))
        self._fail_rows(problems, "exactly the table's alerts to be inhibited", "row", window)

    @staticmethod
    def _fail_rows(problems: list[str], expected: str, unit: str, window: Window,
                   evidence: Iterable[str] = ()) -> None:
        """A table claim's failure, with every row that differs (a table is checked whole,
        not stopped at its first wrong row); nothing when none does."""
        if problems:
            raise ExpectationFailed(
                f"✗ expected {expected} {window.describe()}; "
                f"{plural(len(problems), unit)} differ:\n" + "\n".join([*problems, *evidence]))

    def per_group(self, alertname: str, at_least: int, at_most: int,
                  within_real: float) -> dict[tuple[str, str], int]:
        """Every (receiver, group) that got ``alertname`` firing got it between ``at_least``
        and ``at_most`` times (the window is waited out). The counts seen — and so the number
        of duplicates — go on the timeline whatever the verdict, for the report."""
        match = NotificationMatch(None, alertname)
        hits = self.count(match, within_real)
        window = self.window(within_real, alertname)
        groups: dict[tuple[str, str], int] = {}
        for e in hits:
            delivery = e.detail["_delivery"]
            key = (e.subject, delivery.group_key or "?")
            groups[key] = groups.get(key, 0) + 1
        outside = {k: v for k, v in groups.items() if not at_least <= v <= at_most}
        duplicates = sum(max(0, v - 1) for v in groups.values())
        bounds = "exactly once" if at_least == at_most == 1 else \
            f"at least {at_least}× and at most {at_most}×"
        seen = ", ".join(f"{r}: {n}×" for (r, _), n in sorted(groups.items())) or "nothing"
        self.timeline.add(tl.CHECK, f'deliveries per group of "{alertname}"',
                          note=f"{len(groups)} group(s), {duplicates} duplicate(s): {seen}",
                          groups=len(groups), duplicates=duplicates)
        self._claim(ClaimKind.PER_GROUP, f'every group of "{alertname}" delivered {bounds}',
                    window, hits[0] if hits else None, match,
                    passed=bool(groups) and not outside,
                    offending=[e for e in hits if (e.subject, e.detail["_delivery"].group_key
                                                   or "?") in outside],
                    alertname=alertname, groups=len(groups), duplicates=duplicates)
        if not groups:
            self._fail(f'"{alertname}" delivered at all {window.describe()}', match, window)
        if outside:
            detail = "; ".join(f"{r} group {g}: {n}×" for (r, g), n in sorted(outside.items()))
            self._fail(f'each group of "{alertname}" delivered {bounds} '
                       f"{window.describe()}; out of bounds: {detail}", match, window, found=hits)
        return groups

    def repeats(self, match: Match, times: int, min_gap_real: float,
                within_real: float) -> list[Event]:
        """At least ``times`` notifications in the window, no two closer than ``min_gap_real``
        (a repeat_interval: Alertmanager must re-send an unresolved alert, and not sooner)."""
        found = self.notified_at_least(match, times, within_real)
        window = self.window(within_real, _alertname(match))
        gap = self.scale.measured(min_gap_real) - self.tolerance
        close = [(a, b) for a, b in pairwise(found) if b.t - a.t < gap]
        self._claim(ClaimKind.REPEATS, f"{match.describe()} never twice within {human(min_gap_real)}",
                    window, found[0] if found else None, match, passed=not close,
                    offending=[b for _, b in close], **_about(match))
        if close:
            pairs = "; ".join(f"t={a.t:+.3f}s → t={b.t:+.3f}s" for a, b in close)
            self._fail(f"{match.describe()} no sooner than every {human(min_gap_real)} "
                       f"({gap:.3f} s measured, tolerance included) {window.describe()}; too "
                       f"close: {pairs}", match, window, found=found)
        return found

    def eventually(self, expected: str, check: Callable[[], str | None],
                   within_real: float) -> Event:
        """``check`` (returning a note when satisfied) holds inside the window."""
        window = self.window(within_real)

        def find() -> Event | None:
            note = check()
            return self.timeline.add(tl.CHECK, expected, note=note) if note else None

        found = self._wait(find, window)
        self._claim(ClaimKind.EVENTUALLY, expected, window, found, lambda e: False)
        if found is None:
            self._fail(f"{expected} {window.describe()}", lambda e: False, window)
        assert found is not None
        return found

    # -- the claim record ----------------------------------------------------------------
    @contextmanager
    def _within(self, parent: str) -> Iterator[None]:
        """Claims made inside are parts of ``parent`` (e.g. each receiver of an "only" claim)."""
        previous, self._part_of = self._part_of, parent
        try:
            yield
        finally:
            self._part_of = previous

    def _claim(self, claim: ClaimKind, text: str, window: Window, matched: Event | None,
               match: Callable[[Event], bool], passed: bool | None = None,
               offending: Iterable[Event] = (), **about: Any) -> Event:
        """Put the claim's verdict on the timeline, as a ``claim`` event (not an anchor).

        ``measured`` is how long after the window's start the satisfying event came (the
        latency an SLA table shows); a failed claim records the first matching event after its
        window (``late_t``), if any, so a report can say by how much it was missed.
        """
        ok = matched is not None if passed is None else passed
        detail: dict[str, Any] = {
            "claim": claim,
            "text": f"{text} within {human(window.real)}",
            "passed": ok,
            "window_start": round(window.start, 4),
            "window_end": round(window.end, 4),
            "deadline": round(window.start + window.measured, 4),
            "sla_real": window.real,
            "sla_measured": window.measured,
            "tolerance": window.tolerance,
            "counted_from": window.anchor,
            "time_scale": self.scale.factor,
        }
        if matched is not None:
            detail["matched_t"] = round(matched.t, 4)
            detail["matched_kind"] = matched.kind
            detail["measured"] = round(matched.t - window.start, 4)
        bad = list(offending)
        if bad:
            detail["offending_t"] = [round(e.t, 4) for e in bad]
        if not ok and not bad:
            late = next((e for e in self.timeline.events(since=window.start)
                         if e.kind != tl.CLAIM and match(e) and not window.contains(e.t)), None)
            if late is not None:
                detail["late_t"] = round(late.t, 4)
                detail["late_measured"] = round(late.t - window.start, 4)
        if self._part_of:
            detail["part_of"] = self._part_of
        detail.update(about)
        verdict = "✓" if ok else "✗"
        took = f" ({human(detail['measured'])} measured)" if "measured" in detail else ""
        return self.timeline.add(tl.CLAIM, detail["text"], note=f"{verdict}{took}", **detail)

    def _vacuous(self, match: Match) -> str:
        """" — holds vacuously: …" when the routing tree never sends the alert to the receiver
        (the claim still runs: the static view could be wrong; its reader must know)."""
        receiver = getattr(match, "receiver", None)
        alertname = getattr(match, "alertname", None)
        if self.reach is None or not receiver or not alertname:
            return ""
        reachable = self.reach(alertname)
        if reachable is None or receiver in reachable:
            return ""
        return (f' — holds vacuously: no label set the rules can give "{alertname}" is routed '
                f'to "{receiver}"')

    # -- failure --------------------------------------------------------------------------
    def _fail(self, expected: str, match: Callable[[Event], bool], window: Window,
              kinds: Iterable[str] = (), found: list[Event] | None = None) -> None:
        lines = [f"✗ expected {expected}"]
        if found:
            lines.append("  offending events:")
            lines += [f"    {e.describe()}" for e in found]
        else:
            late = [e for e in self.timeline.events() if match(e) and not window.contains(e.t)]
            if late:
                lines.append("  matching events outside the window:")
                lines += [f"    {e.describe()}" for e in late]
            else:
                lines.append("  nothing matching happened at all.")
        anchors = [e for e in self.timeline.events() if e.anchor]
        if anchors:
            lines.append("  actions:")
            lines += [f"    {e.describe()}" for e in anchors]
        lines.append("  notifications, in arrival order:")
        notes = self.timeline.events([tl.NOTIFICATION])
        lines += [f"    {e.describe()}" for e in notes] or ["    (none)"]
        alert_events = self.timeline.events(kinds or _ALERT_KINDS)
        lines.append("  alert states:")
        lines += [f"    {e.describe()}" for e in alert_events[-40:]] or ["    (none)"]
        if self.diagnose is not None:
            try:
                lines += [f"  {line}" for line in self.diagnose()]
            except Exception as exc:  # the diagnosis must never hide the verdict
                lines.append(f"  (stack health unavailable: {exc})")
        raise ExpectationFailed("\n".join(lines))


_STATE_WORDS = {"firing": "fires", "pending": "is pending", "inactive": "resolves"}


def _about(match: Match) -> dict[str, Any]:
    """What a notification claim is about, for reports (receiver lanes, SLA rows)."""
    return {key: getattr(match, key, None)
            for key in ("receiver", "alertname", "status", "integration")}


_ALERT_KINDS = (tl.PROM_PENDING, tl.PROM_FIRING, tl.PROM_INACTIVE, tl.AM_ACTIVE, tl.AM_SUPPRESSED,
                tl.AM_GONE)


def _alertname(match: Match) -> str | None:
    name = getattr(match, "alertname", None)
    return str(name) if name else None
