"""Time-of-day rewriting: the shifted intervals hold at the real clock exactly when the
originals hold at the virtual moment, minute by minute, across DST, month ends and years."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from alertdrill.engine.timeofday import (
    entry_contains,
    interval_contains,
    interval_names,
    parse_moment,
    shift_config,
    shifted_entries,
)
from alertdrill.errors import StepError

BERLIN = ZoneInfo("Europe/Berlin")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
BUSINESS = [{"weekdays": ["monday:friday"], "times": [{"start_time": "09:00", "end_time": "18:00"}],
             "location": "America/Sao_Paulo"}]


# -- the moment ------------------------------------------------------------------------------
def test_a_weekday_means_the_next_such_day_on_or_after_today_in_that_zone() -> None:
    wednesday = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
    assert parse_moment("Saturday 03:00 in Europe/Berlin", wednesday).at == \
        datetime(2026, 12, 5, 3, 0, tzinfo=BERLIN)
    assert parse_moment("Wednesday 23:00 in Europe/Berlin", wednesday).at.day == 2  # today
    # 01:00 on Wednesday in UTC is still Tuesday in São Paulo: Tuesday is "today" there.
    assert parse_moment("Tuesday 10:00 in America/Sao_Paulo",
                        datetime(2026, 12, 2, 1, 0, tzinfo=UTC)).at.day == 1


def test_a_date_is_taken_as_written_and_must_agree_with_its_weekday() -> None:
    assert parse_moment("2026-12-25 10:00 in America/Sao_Paulo").at == \
        datetime(2026, 12, 25, 10, 0, tzinfo=SAO_PAULO)
    assert parse_moment("Friday 2026-12-25 10:00").at.tzinfo == ZoneInfo("UTC")
    with pytest.raises(StepError, match="is a Friday, not a Monday"):
        parse_moment("Monday 2026-12-25 10:00")


@pytest.mark.parametrize(("text", "why"), [
    ("Saturday 03:00 in Mars/Olympus", "unknown time zone"),
    ("Saturday 25:00", "not a time of day"),
    ("Caturday 03:00", "not a weekday"),
    ("03:00 in Europe/Berlin", "names no day"),
    ("at three", "cannot read the moment"),
    ("2026-03-29 02:30 in Europe/Berlin", "does not exist"),  # the spring-forward gap
])
def test_bad_moments_are_refused_saying_why(text: str, why: str) -> None:
    with pytest.raises(StepError, match=why):
        parse_moment(text)


def test_an_ambiguous_wall_time_is_its_first_occurrence() -> None:
    # 2026-10-25 02:30 happens twice in Berlin; the first is still summer time (+02:00).
    assert parse_moment("2026-10-25 02:30 in Europe/Berlin").at.utcoffset() == timedelta(hours=2)


# -- Alertmanager's evaluation ---------------------------------------------------------------
def _at(text: str, zone: ZoneInfo = SAO_PAULO) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(("when", "inside"), [
    ("2026-12-01 08:59", False), ("2026-12-01 09:00", True), ("2026-12-01 17:59", True),
    ("2026-12-01 18:00", False),  # end_time is exclusive
    ("2026-12-05 10:00", False),  # a Saturday
    ("2026-12-04 17:30", True),   # a Friday: the range is inclusive
])
def test_times_are_half_open_and_weekday_ranges_inclusive(when: str, inside: bool) -> None:
    assert interval_contains(BUSINESS, _at(when)) is inside


def test_each_entry_is_read_in_its_own_location() -> None:
    # 12:30 UTC on a Tuesday is 09:30 in São Paulo (in) and 13:30 in Berlin.
    instant = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
    assert interval_contains(BUSINESS, instant)
    assert not interval_contains(BUSINESS, instant - timedelta(hours=4))
    assert entry_contains({"times": [{"start_time": "12:00", "end_time": "13:00"}]}, instant)


@pytest.mark.parametrize(("days", "when", "inside"), [
    (["-1"], "2026-02-28", True), (["-1"], "2028-02-28", False), (["-1"], "2028-02-29", True),
    (["-7:-1"], "2026-12-25", True), (["-7:-1"], "2026-12-24", False),
    (["1:-1"], "2026-06-15", True),   # mixed signs: every day
    (["25:35"], "2026-02-28", True),  # a bound past the month's end is clamped
    (["1", "15"], "2026-06-15", True), (["1", "15"], "2026-06-16", False),
])
def test_days_of_month_count_negatives_from_the_months_end(days: list[str], when: str,
                                                           inside: bool) -> None:
    entry = {"days_of_month": days}
    assert entry_contains(entry, datetime.fromisoformat(when + "T12:00").replace(tzinfo=UTC)) \
        is inside


def test_weekdays_are_numbered_as_alertmanager_does_sunday_first() -> None:
    saturday, sunday = datetime(2026, 12, 5, 12, tzinfo=UTC), datetime(2026, 12, 6, 12, tzinfo=UTC)
    every_day = {"weekdays": ["sunday:saturday"]}
    assert entry_contains(every_day, saturday) and entry_contains(every_day, sunday)
    weekend = {"weekdays": ["saturday", "sunday"]}
    assert entry_contains(weekend, sunday) and not entry_contains(weekend, sunday - timedelta(days=2))
    assert not entry_contains({"weekdays": ["monday:saturday"]}, sunday)


def test_months_by_name_or_number_and_years() -> None:
    entry = {"months": ["december", "1:2"], "years": ["2026:2027"]}
    assert entry_contains(entry, datetime(2026, 12, 31, tzinfo=UTC))
    assert entry_contains(entry, datetime(2027, 2, 1, tzinfo=UTC))
    assert not entry_contains(entry, datetime(2027, 3, 1, tzinfo=UTC))
    assert not entry_contains(entry, datetime(2028, 1, 1, tzinfo=UTC))


def test_an_interval_without_entries_is_never_active_and_an_empty_entry_always() -> None:
    assert not interval_contains([], datetime(2026, 1, 1, tzinfo=UTC))
    assert interval_contains([{}], datetime(2026, 1, 1, tzinfo=UTC))


def test_the_dst_nights_have_one_hour_more_or_less_of_an_interval() -> None:
    night = [{"times": [{"start_time": "02:00", "end_time": "02:45"}], "location": "Europe/Berlin"}]
    fall = datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN).astimezone(UTC)
    spring = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN).astimezone(UTC)
    minutes = [sum(interval_contains(night, start + timedelta(minutes=m)) for m in range(300))
               for start in (fall, spring)]
    assert minutes == [90, 0]  # 02:00–02:45 twice when clocks fall back, never when they spring


def test_an_end_of_24_00_reaches_midnight() -> None:
    entry = {"times": [{"start_time": "22:00", "end_time": "24:00"}]}
    assert entry_contains(entry, datetime(2026, 1, 1, 23, 59, tzinfo=UTC))
    assert not entry_contains(entry, datetime(2026, 1, 2, 0, 0, tzinfo=UTC))


# -- the rewrite -------------------------------------------------------------------------------
def _equivalent(entries: list[dict[str, Any]], moment: datetime, now: datetime,
                hours: int = 24) -> None:
    """At every minute of the horizon, the shifted entries at the real clock say what the
    originals say at the virtual one."""
    horizon = timedelta(hours=hours)
    shifted = shifted_entries(entries, moment, now, horizon)
    now0 = now.replace(second=0, microsecond=0)
    virtual0 = moment.astimezone(UTC)  # absolute: aware + timedelta would add wall time
    for minute in range(int(horizon.total_seconds() // 60)):
        delta = timedelta(minutes=minute)
        assert interval_contains(shifted, now0 + delta) is \
            interval_contains(entries, virtual0 + delta), f"differs {minute} minutes on"


NOW = datetime(2026, 12, 2, 4, 11, 37, tzinfo=UTC)  # a Wednesday, 37 s into the minute

CASES = {
    "business hours from a Tuesday morning": (BUSINESS, _at("2026-12-01 09:30")),
    "business hours from a Friday evening (the weekend follows)": (BUSINESS, _at("2026-12-04 17:00")),
    "a night range in São Paulo crossing UTC midnight": (
        [{"times": [{"start_time": "20:00", "end_time": "24:00"}, {"start_time": "00:00",
                                                                   "end_time": "06:00"}],
          "location": "America/Sao_Paulo"}], _at("2026-06-10 19:00")),
    "Berlin's spring-forward night": (
        [{"times": [{"start_time": "01:30", "end_time": "03:30"}], "location": "Europe/Berlin"}],
        datetime(2026, 3, 28, 23, 0, tzinfo=BERLIN)),
    "Berlin's fall-back night": (
        [{"times": [{"start_time": "02:00", "end_time": "02:45"}], "location": "Europe/Berlin"}],
        datetime(2026, 10, 25, 0, 30, tzinfo=BERLIN)),
    "the last day of February, across a month's end": (
        [{"days_of_month": ["-1"], "location": "Europe/Berlin"}],
        datetime(2028, 2, 28, 20, 0, tzinfo=BERLIN)),
    "new year's eve, across a year's end": (
        [{"months": ["december"], "days_of_month": ["31"], "years": ["2026"]},
         {"months": ["january"], "days_of_month": ["1"], "times": [{"start_time": "00:00",
                                                                     "end_time": "02:00"}]}],
        datetime(2026, 12, 31, 12, 0, tzinfo=UTC)),
    "an interval that is never active": ([{"years": ["2020"]}], _at("2026-12-01 09:30")),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_the_shifted_intervals_are_equivalent_minute_by_minute(case: str) -> None:
    entries, moment = CASES[case]
    _equivalent(entries, moment, NOW)


def test_the_real_clock_now_falls_where_the_moment_falls() -> None:
    shifted = shifted_entries(BUSINESS, _at("2026-12-01 09:30"), NOW)
    assert interval_contains(shifted, NOW)  # Tuesday 09:30 in São Paulo: business hours
    assert not interval_contains(shift_config({"time_intervals": [
        {"name": "b", "time_intervals": BUSINESS}]}, _at("2026-12-05 10:00"), NOW)[
        "time_intervals"][0]["time_intervals"], NOW)  # Saturday 10:00: not


def test_an_interval_moved_by_one_hour_changes_the_answer() -> None:
    later = [{**BUSINESS[0], "times": [{"start_time": "10:00", "end_time": "18:00"}]}]
    moment = _at("2026-12-01 09:30")
    assert interval_contains(shifted_entries(BUSINESS, moment, NOW), NOW)
    assert not interval_contains(shifted_entries(later, moment, NOW), NOW)


def test_the_shifted_entries_are_whole_utc_days_with_exact_times() -> None:
    shifted = shifted_entries(BUSINESS, _at("2026-12-01 09:30"), NOW)
    assert shifted == [
        {"times": [{"start_time": "04:11", "end_time": "12:41"}], "days_of_month": ["2"],
         "months": ["12"], "years": ["2026"]},
        {"times": [{"start_time": "03:41", "end_time": "04:11"}], "days_of_month": ["3"],
         "months": ["12"], "years": ["2026"]},
    ]


def test_shift_config_rewrites_both_keys_and_keeps_everything_else() -> None:
    config = {"route": {"receiver": "r", "routes": [{"receiver": "x",
                                                      "active_time_intervals": ["b"]}]},
              "time_intervals": [{"name": "b", "time_intervals": BUSINESS}],
              "mute_time_intervals": [{"name": "m", "time_intervals": [{"weekdays": ["sunday"]}]}]}
    shifted = shift_config(config, _at("2026-12-01 09:30"), NOW)
    assert interval_names(shifted) == ["b", "m"]
    assert shifted["route"] == config["route"]
    assert config["time_intervals"][0]["time_intervals"] is BUSINESS  # the input is untouched
    assert shifted["mute_time_intervals"][0]["time_intervals"] == []  # no Sunday in 24 h
