"""Time-of-day routing: make the run's time intervals see a chosen moment instead of now.

Alertmanager's ``time_intervals`` (and the older ``mute_time_intervals``) are evaluated
against its wall clock, which no time scale compresses: a scenario that wants to know what
happens "on Saturday at 03:00 in Europe/Berlin" cannot wait for it. So the run's
alertmanager.yml is rewritten: every named interval becomes an interval, in UTC, that is
active at the real instant ``now + Δ`` exactly when the original is active at the virtual
instant ``moment + Δ`` — for every minute Δ of the next :data:`HORIZON` (24 h). The original is
evaluated here minute by minute as Alertmanager evaluates it (``times`` as [start, end) minutes
of the day, inclusive ``weekdays``/``days_of_month``/``months``/``years`` ranges, negative days
counted from the month's end, each entry in its own ``location``), with zoneinfo doing the
calendar and DST arithmetic; the active minutes are then written back as one entry per UTC day
holding their exact ``times``, day, month and year.

The virtual clock starts at the moment's minute when the real clock is at the start of its
current minute (the seconds already gone in it count), and then runs in REAL time: intervals
are calendar time and are not scaled, so a scenario's scaled waits (5 real-world minutes are 5
measured seconds at K=60) move the virtual clock by 5 seconds, not 5 minutes. What this cannot
model: time passing across an interval boundary at scaled speed (put the moment on the side of
the boundary the claim is about, or use two scenarios); moments more than 24 h of real time
away from the step; and anything that reads the clock elsewhere (Prometheus rules with
``hour()`` or ``day_of_week()`` see the real time).
"""

from __future__ import annotations

import calendar
import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alertdrill.errors import StepError

#: How far ahead (real time) the rewritten intervals are exact.
HORIZON = timedelta(hours=24)
#: The keys of alertmanager.yml that hold named time intervals.
INTERVAL_KEYS = ("time_intervals", "mute_time_intervals")

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Alertmanager's weekday numbers: sunday 0 … saturday 6 (so a range cannot wrap over Sunday:
#: "monday:sunday" is refused by Alertmanager, "sunday:saturday" is every day).
AM_WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
_MOMENT_RE = re.compile(
    r"(?:(?P<weekday>[A-Za-z]+) )?(?:(?P<date>\d{4}-\d{2}-\d{2}) )?(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?: in (?P<zone>[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)*))?")


@dataclass(frozen=True)
class Moment:
    """The virtual wall-clock moment a scenario says it is, as an aware datetime."""

    at: datetime
    text: str

    def describe(self) -> str:
        """``Saturday 2026-12-05 03:00 Europe/Berlin (UTC+01:00)``."""
        offset = f"{self.at:%z}"
        return f"{self.at:%A %Y-%m-%d %H:%M} {self.at.tzinfo} (UTC{offset[:3]}:{offset[3:]})"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise StepError(f"unknown time zone {name!r}",
                        "use an IANA zone name, e.g. Europe/Berlin, America/Sao_Paulo, UTC") from None


def parse_moment(text: str, today: datetime | None = None) -> Moment:
    """``Saturday 03:00 in Europe/Berlin``, ``2026-12-25 10:00 in America/Sao_Paulo`` or both
    (``Friday 2026-12-25 10:00``, checked to agree). A weekday alone means the next such day on
    or after ``today`` (default: now) in that zone. No zone: UTC. A wall time that does not
    exist in the zone (a DST gap) is refused; an ambiguous one (a DST fold) is its first."""
    match = _MOMENT_RE.fullmatch(text.strip())
    if not match:
        raise StepError(f"cannot read the moment {text!r}",
                        "write a weekday or a date, a time and a zone: Saturday 03:00 in "
                        "Europe/Berlin, or 2026-12-25 10:00 in America/Sao_Paulo")
    zone = _zone(match.group("zone") or "UTC")
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    if hour > 23 or minute > 59:
        raise StepError(f"{hour:02d}:{minute:02d} is not a time of day", "use 00:00 … 23:59")
    weekday = match.group("weekday")
    if weekday is not None and weekday.lower() not in WEEKDAYS:
        raise StepError(f"{weekday!r} is not a weekday", "Monday … Sunday")
    if match.group("date"):
        try:
            day = date.fromisoformat(match.group("date"))
        except ValueError:
            raise StepError(f"{match.group('date')} is not a date") from None
        if weekday is not None and WEEKDAYS[day.weekday()] != weekday.lower():
            raise StepError(f"{day} is a {WEEKDAYS[day.weekday()].title()}, not a "
                            f"{weekday.title()}")
    elif weekday is not None:
        start = (today or datetime.now(UTC)).astimezone(zone).date()
        day = start + timedelta(days=(WEEKDAYS.index(weekday.lower()) - start.weekday()) % 7)
    else:
        raise StepError(f"the moment {text!r} names no day", "give a weekday or a date")
    naive = datetime(day.year, day.month, day.day, hour, minute)
    at = naive.replace(tzinfo=zone, fold=0)
    if at.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise StepError(f"{naive:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks skip it "
                        "for daylight saving time)", "choose a time outside the gap")
    return Moment(at, text.strip())


# -- Alertmanager's evaluation of one interval entry ---------------------------------------
def _bounds(part: str, names: tuple[str, ...] | None, what: str) -> int:
    value = part.strip().lower()
    if names is not None and value in names:
        return names.index(value) + (0 if names is AM_WEEKDAYS else 1)
    try:
        return int(value)
    except ValueError:
        raise StepError(f"time interval: {part!r} is not a {what}") from None


def _ranges(items: Iterable[Any], names: tuple[str, ...] | None, what: str
            ) -> list[tuple[int, int]]:
    found = []
    for item in items:
        text = str(item)
        first, _, last = text.partition(":")
        begin = _bounds(first, names, what)
        found.append((begin, _bounds(last, names, what) if last else begin))
    return found


def _minutes(text: str) -> int:
    hours, _, minutes = str(text).partition(":")
    return int(hours) * 60 + int(minutes)


def entry_contains(entry: dict[str, Any], instant: datetime) -> bool:
    """Whether one entry of a named interval contains ``instant``, as Alertmanager decides."""
    location = str(entry.get("location") or "UTC")
    local = instant.astimezone() if location == "Local" else instant.astimezone(_zone(location))
    if entry.get("times"):
        minute = local.hour * 60 + local.minute
        if not any(_minutes(t["start_time"]) <= minute < _minutes(t["end_time"])
                   for t in entry["times"]):
            return False
    length = calendar.monthrange(local.year, local.month)[1]
    checks = (("weekdays", local.isoweekday() % 7, AM_WEEKDAYS, "weekday"),
              ("months", local.month, MONTHS, "month"),
              ("years", local.year, None, "year"))
    for key, value, names, what in checks:
        if entry.get(key) and not any(begin <= value <= end
                                      for begin, end in _ranges(entry[key], names, what)):
            return False
    days = _ranges(entry.get("days_of_month") or [], None, "day of month")
    return not days or any(_day_in(local.day, begin, end, length) for begin, end in days)


def _day_in(day: int, begin: int, end: int, length: int) -> bool:
    """Alertmanager's day-of-month range test: negatives count from the month's end (-1 is
    the last day), and a bound beyond the month is clamped to it."""
    if begin < 0:
        begin = length + begin + 1
    if end < 0:
        end = length + end + 1
    begin, end = max(begin, 1), min(end, length)
    return begin <= day <= end


def interval_contains(entries: list[dict[str, Any]], instant: datetime) -> bool:
    """Whether a named interval (its list of entries) contains ``instant``; none: never."""
    return any(entry_contains(entry, instant) for entry in entries or [])


# -- the rewrite -------------------------------------------------------------------------------
def shifted_entries(entries: list[dict[str, Any]], moment: datetime, now: datetime,
                    horizon: timedelta = HORIZON) -> list[dict[str, Any]]:
    """UTC entries active at ``now0 + Δ`` exactly when ``entries`` are at ``moment + Δ``, for
    every whole minute Δ in [0, horizon), ``now0`` being ``now`` at the start of its minute."""
    now0 = now.astimezone(UTC).replace(second=0, microsecond=0)
    virtual0 = moment.astimezone(UTC).replace(second=0, microsecond=0)
    steps = int(horizon.total_seconds() // 60)
    by_day: dict[date, list[tuple[int, int]]] = {}
    start: int | None = None
    for step in range(steps + 1):
        active = step < steps and interval_contains(entries, virtual0 + timedelta(minutes=step))
        if active and start is None:
            start = step
        if not active and start is not None:
            _add_range(by_day, now0 + timedelta(minutes=start), now0 + timedelta(minutes=step))
            start = None
    return [{"times": [{"start_time": _hhmm(a), "end_time": _hhmm(b)} for a, b in ranges],
             "days_of_month": [str(day.day)], "months": [str(day.month)],
             "years": [str(day.year)]}
            for day, ranges in sorted(by_day.items())]


def _add_range(by_day: dict[date, list[tuple[int, int]]], begin: datetime, end: datetime) -> None:
    """Split a real UTC range at midnights into (day, start minute, end minute) pieces."""
    while begin < end:
        midnight = datetime(begin.year, begin.month, begin.day, tzinfo=UTC) + timedelta(days=1)
        piece_end = min(end, midnight)
        start = begin.hour * 60 + begin.minute
        stop = 1440 if piece_end == midnight else piece_end.hour * 60 + piece_end.minute
        by_day.setdefault(begin.date(), []).append((start, stop))
        begin = piece_end


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def interval_names(config: dict[str, Any]) -> list[str]:
    """The named time intervals of an alertmanager.yml."""
    return [str(item.get("name")) for key in INTERVAL_KEYS for item in config.get(key) or []
            if isinstance(item, dict)]


def shift_config(config: dict[str, Any], moment: datetime, now: datetime,
                 horizon: timedelta = HORIZON) -> dict[str, Any]:
    """A copy of an alertmanager.yml whose every named time interval sees ``moment`` at
    ``now`` (see the module's docstring); the routes that name them are unchanged."""
    shifted = copy.deepcopy(config)
    for key in INTERVAL_KEYS:
        for item in shifted.get(key) or []:
            if isinstance(item, dict):
                item["time_intervals"] = shifted_entries(item.get("time_intervals") or [],
                                                         moment, now, horizon)
    return shifted
