"""Digest schedules, debounce windows and quiet hours (monitor.alerts.schedules): pure functions
of their arguments, checked against instants worked out by hand.

Time zones used: Asia/Shanghai is UTC+8 all year; Europe/Berlin is UTC+1 in winter and UTC+2 in
summer, changing on 2026-03-29 (02:00 CET → 03:00 CEST) and 2026-10-25 (03:00 CEST → 02:00 CET).
2026-06-01 is a Monday.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from monitor.alerts.schedules import (
    Schedule,
    ScheduleSpec,
    build,
    debounce_window,
    quiet_until,
)
from monitor.models import QuietHours

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = "Asia/Shanghai"
DAILY_SHANGHAI = {"at": "08:00", "timezone": SHANGHAI}
DAILY_BERLIN = {"at": "08:00", "timezone": "Europe/Berlin"}
HOURLY_SHANGHAI = {"every": "hour", "at": ":05", "timezone": SHANGHAI}
HOURLY_BERLIN = {"every": "hour", "at": ":30", "timezone": "Europe/Berlin"}
WEEKLY_SHANGHAI = {"every": "week", "day": "monday", "at": "07:30", "timezone": SHANGHAI}
WEEKLY_BERLIN = {"every": "week", "day": "Monday", "at": "07:30", "timezone": "Europe/Berlin"}
WORKDAYS_SHANGHAI = {"cron": "0 8 * * 1-5", "timezone": SHANGHAI}
SUNDAYS_BERLIN = {"cron": "0 8 * * 0", "timezone": "Europe/Berlin"}
LEAP_DAY = {"cron": "0 8 29 2 *"}


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def in_utc(moment: datetime | None) -> datetime | None:
    """`moment` in UTC: an instant in a repeated hour (fold=1) never compares equal across
    zones (PEP 495), so results are compared in UTC."""
    return None if moment is None else moment.astimezone(UTC)


def schedule(**spec: Any) -> Schedule:
    """The schedule one `digests:` entry of alerts.yaml describes."""
    return build({"it": ScheduleSpec.model_validate(spec)})["it"]


def fire_days(spec: dict[str, Any], count: int = 7) -> list[str]:
    """The weekday names of the next `count` fire times after Sunday 2026-05-31 20:00 CST."""
    it, moment, days = schedule(**spec), utc(2026, 5, 31, 12), []
    for _ in range(count):
        moment = it.due_after(moment)
        days.append(moment.astimezone(ZoneInfo(spec.get("timezone", "UTC"))).strftime("%a"))
    return days


# -- due_after and last_fire -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "moment", "expected"),
    [
        # daily 08:00 Shanghai = 00:00 UTC: strictly after, even at the fire time itself
        (DAILY_SHANGHAI, utc(2026, 5, 31, 23, 59, 59), utc(2026, 6, 1)),
        (DAILY_SHANGHAI, utc(2026, 6, 1), utc(2026, 6, 2)),
        (DAILY_SHANGHAI, utc(2026, 6, 1, 12), utc(2026, 6, 2)),
        (HOURLY_SHANGHAI, utc(2026, 6, 1, 10, 5), utc(2026, 6, 1, 11, 5)),
        (HOURLY_SHANGHAI, utc(2026, 6, 1, 10, 4, 59), utc(2026, 6, 1, 10, 5)),
        # Monday 07:30 Shanghai is Sunday 23:30 UTC; Monday 08:00 CST is past it
        (WEEKLY_SHANGHAI, utc(2026, 6, 1), utc(2026, 6, 7, 23, 30)),
        (WORKDAYS_SHANGHAI, utc(2026, 6, 5, 1), utc(2026, 6, 8)),  # Friday → Monday
        # Berlin daily 08:00 across the spring change: 07:00 UTC, then 06:00 UTC
        (DAILY_BERLIN, utc(2026, 3, 28, 7), utc(2026, 3, 29, 6)),
        # … and across the autumn change: 06:00 UTC, then 07:00 UTC
        (DAILY_BERLIN, utc(2026, 10, 24, 6), utc(2026, 10, 25, 7)),
        # 02:30 does not exist on 2026-03-29: the next :30 is 03:30 CEST, one hour later
        (HOURLY_BERLIN, utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30)),
        # 02:30 happens twice on 2026-10-25 (CEST, then CET): one real hour apart
        (HOURLY_BERLIN, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
        (HOURLY_BERLIN, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 2, 30)),
        (WEEKLY_BERLIN, utc(2026, 3, 29, 12), utc(2026, 3, 30, 5, 30)),  # CEST
        (WEEKLY_BERLIN, utc(2026, 10, 25, 12), utc(2026, 10, 26, 6, 30)),  # CET
        (SUNDAYS_BERLIN, utc(2026, 3, 28, 12), utc(2026, 3, 29, 6)),
        (LEAP_DAY, utc(2026, 6, 1), utc(2028, 2, 29, 8)),
    ],
)
def test_due_after(spec: dict[str, Any], moment: datetime, expected: datetime) -> None:
    assert in_utc(schedule(**spec).due_after(moment)) == expected


@pytest.mark.parametrize(
    ("spec", "moment", "expected"),
    [
        (DAILY_SHANGHAI, utc(2026, 6, 1), utc(2026, 6, 1)),  # at the fire time: that one
        (DAILY_SHANGHAI, utc(2026, 6, 1, 12), utc(2026, 6, 1)),
        (DAILY_SHANGHAI, utc(2026, 5, 31, 23, 59), utc(2026, 5, 31)),
        (HOURLY_SHANGHAI, utc(2026, 6, 1, 10, 4, 59), utc(2026, 6, 1, 9, 5)),
        (WEEKLY_SHANGHAI, utc(2026, 6, 3), utc(2026, 5, 31, 23, 30)),
        (WORKDAYS_SHANGHAI, utc(2026, 6, 7), utc(2026, 6, 5)),  # Sunday → Friday's
        (DAILY_BERLIN, utc(2026, 3, 29, 5, 59), utc(2026, 3, 28, 7)),
        (DAILY_BERLIN, utc(2026, 3, 29, 6), utc(2026, 3, 29, 6)),
        (DAILY_BERLIN, utc(2026, 10, 25, 7), utc(2026, 10, 25, 7)),
        (DAILY_BERLIN, utc(2026, 10, 25, 6, 59), utc(2026, 10, 24, 6)),
        (HOURLY_BERLIN, utc(2026, 3, 29, 1, 29), utc(2026, 3, 29, 0, 30)),
        (WEEKLY_BERLIN, utc(2026, 3, 30, 5, 29), utc(2026, 3, 23, 6, 30)),
        (LEAP_DAY, utc(2026, 6, 1), None),  # none within a year
    ],
)
def test_last_fire(spec: dict[str, Any], moment: datetime, expected: datetime | None) -> None:
    assert in_utc(schedule(**spec).last_fire(moment)) == expected


@pytest.mark.parametrize(
    ("spec", "moment", "expected"),
    [
        (DAILY_SHANGHAI, utc(2026, 6, 2), utc(2026, 6, 1)),  # a period ending at a fire time
        (DAILY_BERLIN, utc(2026, 3, 29, 6), utc(2026, 3, 28, 7)),  # 23 hours long
        (DAILY_BERLIN, utc(2026, 10, 25, 7), utc(2026, 10, 24, 6)),  # 25 hours long
        (WEEKLY_SHANGHAI, utc(2026, 6, 7, 23, 30), utc(2026, 5, 31, 23, 30)),
    ],
)
def test_last_fire_before_is_where_the_period_started(
    spec: dict[str, Any], moment: datetime, expected: datetime
) -> None:
    assert in_utc(schedule(**spec).last_fire_before(moment)) == expected


@pytest.mark.parametrize(
    ("spec", "fire", "expected"),
    [
        (HOURLY_BERLIN, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 2, 30)),
        (
            {"at": "02:30", "timezone": "Europe/Berlin"},
            utc(2026, 10, 25, 1, 30),
            utc(2026, 10, 26, 1, 30),
        ),
    ],
    ids=["hourly", "daily-02:30"],
)
def test_due_after_a_fire_in_the_repeated_hour_moves_on(
    spec: dict[str, Any], fire: datetime, expected: datetime
) -> None:
    it = schedule(**spec)
    fire_as_given = it.due_after(fire - timedelta(hours=1))  # 02:30 CET, the second 02:30
    assert in_utc(fire_as_given) == fire
    assert in_utc(it.due_after(fire_as_given)) == expected  # what last_fire relies on


# -- crontab weekdays ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "expected"),
    [
        ("1", ["Mon"] * 7),
        ("0", ["Sun"] * 7),
        ("7", ["Sun"] * 7),
        ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]),
        ("5-7", ["Fri", "Sat", "Sun", "Fri", "Sat", "Sun", "Fri"]),
        ("0,6", ["Sat", "Sun", "Sat", "Sun", "Sat", "Sun", "Sat"]),
        ("mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]),
        pytest.param(
            "*/2",
            ["Tue", "Thu", "Sat", "Sun", "Tue", "Thu", "Sat"],  # crontab: 0,2,4,6
        ),
        pytest.param(
            "1-5/2",
            ["Mon", "Wed", "Fri", "Mon", "Wed", "Fri", "Mon"],
        ),
        pytest.param(
            "0-2",
            ["Mon", "Tue", "Sun", "Mon", "Tue", "Sun", "Mon"],
        ),
    ],
)
def test_crontab_weekdays(weekday: str, expected: list[str]) -> None:
    assert fire_days({"cron": f"0 8 * * {weekday}", "timezone": SHANGHAI}) == expected


# -- crontab's day of the month and weekday ---------------------------------------------------
#
# man 5 crontab: "If both fields are restricted (i.e., don't start with *), the command will be
# run when either field matches the current time. For example, "30 4 1,15 * 5" would cause a
# command to be run at 4:30 am on the 1st and 15th of each month, plus every Friday."
# Calendar: 2026-06-01 is a Monday, 2026-07-01 a Wednesday, 2026-08-01 a Saturday.


def fire_dates(cron: str, until: datetime) -> str:
    """The dates (MM-DD) of the fire times after Sunday 2026-05-31 00:00 UTC, up to `until`."""
    it, moment, dates = schedule(cron=cron), utc(2026, 5, 31), []
    while (moment := it.due_after(moment)) <= until:
        dates.append(f"{moment:%m-%d}")
    return " ".join(dates)


@pytest.mark.parametrize(
    ("cron", "until", "expected"),
    [
        pytest.param(  # both restricted: the 1st of the month, and every Monday
            "0 8 1 * 1",
            utc(2026, 8, 4),
            "06-01 06-08 06-15 06-22 06-29 07-01 07-06 07-13 07-20 07-27 08-01 08-03",
            id="1st-or-monday",
        ),
        pytest.param(  # the manual's own example: lists, and a weekday number
            "30 4 1,15 * 5",
            utc(2026, 7, 31, 12),
            "06-01 06-05 06-12 06-15 06-19 06-26 07-01 07-03 07-10 07-15 07-17 07-24 07-31",
            id="manual-example",
        ),
        pytest.param(  # ranges, weekday names, 7 for Sunday
            "0 8 10-12 * sat-7",
            utc(2026, 7, 1),
            "05-31 06-06 06-07 06-10 06-11 06-12 06-13 06-14 06-20 06-21 06-27 06-28",
            id="ranges",
        ),
        pytest.param(  # only the day of the month restricted: only it counts
            "0 8 1 * *", utc(2026, 9, 2), "06-01 07-01 08-01 09-01", id="day-only"
        ),
        pytest.param(  # only the weekday restricted: only it counts
            "0 8 * * 1",
            utc(2026, 7, 7),
            "06-01 06-08 06-15 06-22 06-29 07-06",
            id="weekday-only",
        ),
        pytest.param(  # the month still restricts both: June only, then June of 2027
            "0 8 1 6 1",
            utc(2027, 6, 8),
            "06-01 06-08 06-15 06-22 06-29 06-01 06-07",
            id="month",
        ),
        pytest.param(  # a field starting with * counts as unrestricted, as in cron: both
            "0 8 */10 * 1",  # must match, the 1st, 11th, 21st or 31st on a Monday
            utc(2026, 9, 30),
            "06-01 08-31 09-21",
            id="star-step",
        ),
    ],
)
def test_cron_day_and_weekday_as_crontab(cron: str, until: datetime, expected: str) -> None:
    assert fire_dates(cron, until) == expected


def test_a_digest_period_of_a_cron_with_day_and_weekday_starts_at_either() -> None:
    it = schedule(cron="0 8 1 * 1")
    assert in_utc(it.last_fire(utc(2026, 7, 5))) == utc(2026, 7, 1, 8)  # a Wednesday, the 1st
    assert in_utc(it.last_fire_before(utc(2026, 7, 6, 8))) == utc(2026, 7, 1, 8)
    assert in_utc(it.last_fire(utc(2026, 7, 1, 7))) == utc(2026, 6, 29, 8)  # a Monday


# -- invalid entries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "where", "message"),
    [
        ({"at": "25:00"}, ("at",), 'expected a time such as "08:00"'),
        ({"at": "8"}, ("at",), 'expected a time such as "08:00"'),
        ({"every": "hour", "at": "5"}, ("at",), '(or ":05" for hourly)'),
        ({"every": "day", "at": ":05"}, (), "needs an hour"),
        ({"timezone": "Mars/Olympus"}, ("timezone",), "unknown timezone 'Mars/Olympus'"),
        ({"cron": "0 8 * *"}, (), "expected 5 fields (minute hour day month weekday)"),
        ({"cron": "61 8 * * *"}, (), "higher than the maximum value (59)"),
        ({"every": "week", "day": "funday"}, ("day",), "a name such as mon"),
        ({"every": "month"}, ("every",), "Input should be 'hour', 'day' or 'week'"),
        ({"evry": "day"}, ("evry",), "Extra inputs are not permitted"),
        pytest.param(
            {"every": "week", "day": "monkey"},
            ("day",),
            "a name such as mon",
        ),
    ],
)
def test_invalid_entry_names_the_problem(
    spec: dict[str, Any], where: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        ScheduleSpec.model_validate(spec)
    (error,) = caught.value.errors()
    assert error["loc"] == where
    assert message in error["msg"]


def test_daily_without_an_hour_says_daily() -> None:
    with pytest.raises(ValidationError, match="needs an hour for a daily digest"):
        ScheduleSpec(every="day", at=":05")


def test_built_in_daily_schedule_is_kept_unless_redefined() -> None:
    assert build({})["daily"].due_after(utc(2026, 6, 1, 8)) == utc(2026, 6, 2, 8)
    redefined = build({"daily": ScheduleSpec.model_validate(DAILY_SHANGHAI)})
    assert redefined["daily"].due_after(utc(2026, 6, 1, 8)) == utc(2026, 6, 2)


# -- debounce windows ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "seconds", "start", "end"),
    [
        (utc(2026, 6, 1, 10, 17, 33), 3600, utc(2026, 6, 1, 10), utc(2026, 6, 1, 11)),
        (utc(2026, 6, 1, 11), 3600, utc(2026, 6, 1, 11), utc(2026, 6, 1, 12)),  # a new one
        (utc(2026, 6, 1, 10, 59, 59), 3600, utc(2026, 6, 1, 10), utc(2026, 6, 1, 11)),
        (utc(2026, 6, 1, 10, 17, 33), 900, utc(2026, 6, 1, 10, 15), utc(2026, 6, 1, 10, 30)),
        (utc(2026, 6, 1, 10, 17, 33), 5400, utc(2026, 6, 1, 9), utc(2026, 6, 1, 10, 30)),
        (utc(2026, 6, 1, 10, 17, 33), 86400, utc(2026, 6, 1), utc(2026, 6, 2)),
        # a moment written in another zone gets the same (UTC-aligned) window
        (
            datetime(2026, 6, 1, 12, 17, tzinfo=BERLIN),
            3600,
            utc(2026, 6, 1, 10),
            utc(2026, 6, 1, 11),
        ),
        pytest.param(
            datetime(2026, 3, 29, 3, 10, tzinfo=BERLIN),  # 01:10 UTC, just after the change
            7200,
            utc(2026, 3, 29),
            utc(2026, 3, 29, 2),
        ),
    ],
)
def test_debounce_window_is_clock_aligned(
    moment: datetime, seconds: float, start: datetime, end: datetime
) -> None:
    assert debounce_window(moment, seconds) == (start, end)


# -- quiet hours -----------------------------------------------------------------------------

MIDDAY_UTC = QuietHours(time(12), time(14))
NIGHT_BERLIN = QuietHours(time(22), time(7), "Europe/Berlin")
OFFICE_SHANGHAI = QuietHours(time(9), time(17), SHANGHAI)


@pytest.mark.parametrize(
    ("quiet", "moment", "expected"),
    [
        (MIDDAY_UTC, utc(2026, 6, 1, 13), utc(2026, 6, 1, 14)),
        (MIDDAY_UTC, utc(2026, 6, 1, 12), utc(2026, 6, 1, 14)),  # the start is inside
        (MIDDAY_UTC, utc(2026, 6, 1, 11, 59), None),
        (MIDDAY_UTC, utc(2026, 6, 1, 14), None),  # the end is not
        (OFFICE_SHANGHAI, utc(2026, 6, 1, 3), utc(2026, 6, 1, 9)),  # 11:00 CST
        (OFFICE_SHANGHAI, utc(2026, 6, 1, 10), None),  # 18:00 CST
        (NIGHT_BERLIN, utc(2026, 6, 1, 21, 30), utc(2026, 6, 2, 5)),  # 23:30 → 07:00 next day
        (NIGHT_BERLIN, utc(2026, 6, 2, 1), utc(2026, 6, 2, 5)),  # 03:00 → 07:00 same day
        (NIGHT_BERLIN, utc(2026, 6, 1, 20), utc(2026, 6, 2, 5)),  # 22:00 sharp
        (NIGHT_BERLIN, utc(2026, 6, 1, 19, 59), None),  # 21:59
        (NIGHT_BERLIN, utc(2026, 6, 2, 5), None),  # 07:00 sharp
        (NIGHT_BERLIN, utc(2026, 6, 2, 12), None),  # 14:00
        # the night of a change: 23:30 CET → 07:00 CEST, and 23:30 CEST → 07:00 CET
        (NIGHT_BERLIN, utc(2026, 3, 28, 22, 30), utc(2026, 3, 29, 5)),
        (NIGHT_BERLIN, utc(2026, 10, 24, 21, 30), utc(2026, 10, 25, 6)),
    ],
)
def test_quiet_until(quiet: QuietHours, moment: datetime, expected: datetime | None) -> None:
    until = quiet_until(quiet, moment)
    assert until == expected
    if until is not None:
        assert until.utcoffset() == timedelta(0)  # given back in the moment's own zone
