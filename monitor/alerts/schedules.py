"""Digest schedules: when a digest is due, as APScheduler cron triggers in the user's timezone.

alerts.yaml names them; "daily" (08:00 UTC) exists unless redefined:

    digests:
      daily:    {at: "08:00", timezone: Asia/Shanghai}
      hourly:   {every: hour, at: ":05"}
      weekly:   {every: week, day: monday, at: "07:30", timezone: Europe/Berlin}
      workdays: {cron: "0 8 * * 1-5", timezone: UTC, send_empty: true}

A hit waiting for a digest is due at the schedule's first fire time after it was stored; the
period a digest covers runs from the fire time before that one.

A `cron` reads as crontab does (man 5 crontab): when both the day of the month and the weekday
are restricted (neither starts with `*`), a day matching either fires, where one CronTrigger
would need both; when only one is, only that one counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from monitor.models import QuietHours

DEBOUNCE = "debounce"  # the schedule name of a debounced profile's digest (window-aligned)
DEFAULT_SCHEDULE = "daily"
_TIME = re.compile(r"^(?:([01]?\d|2[0-3]))?:([0-5]\d)$")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_NAMES = {  # full names accepted beside the three-letter forms
    name: name[:3]
    for name in ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
}
_TINY = timedelta(microseconds=1)


class ScheduleSpec(BaseModel):
    """One entry of `digests:` in alerts.yaml, validated."""

    model_config = ConfigDict(extra="forbid")

    every: Literal["hour", "day", "week"] = "day"
    at: str = "08:00"
    day: str = "monday"
    cron: str | None = None
    timezone: str = "UTC"
    send_empty: bool = False

    @field_validator("at")
    @classmethod
    def _check_at(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError('expected a time such as "08:00" (or ":05" for hourly)')
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r}; use an IANA name such as Asia/Shanghai"
            ) from None
        return value

    @field_validator("day")
    @classmethod
    def _check_day(cls, value: str) -> str:
        _weekday(value.lower())  # raises ValueError with the accepted forms
        return value

    @model_validator(mode="after")
    def _check_trigger(self) -> ScheduleSpec:
        trigger(self)  # raises ValueError with APScheduler's reason
        return self


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    trigger: BaseTrigger  # a CronTrigger, or two of them in an OrTrigger (see _crontab)
    timezone: str
    send_empty: bool = False

    def due_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment` (in UTC: arithmetic on local wall-clock
        time would lose which of the two 02:30s of an autumn night it meant)."""
        fire: datetime | None = self.trigger.get_next_fire_time(
            None, moment.astimezone(UTC) + _TINY
        )
        if fire is None:  # a cron expression that never fires again (a past year)
            raise ValueError(f"digest schedule {self.name} never fires after {moment}")
        return fire.astimezone(UTC)

    def last_fire(self, moment: datetime) -> datetime | None:
        """The latest fire time at or before `moment` (None if none within a year)."""
        moment = moment.astimezone(UTC)
        for span in (timedelta(hours=2), timedelta(days=2), timedelta(days=9), timedelta(days=400)):
            found: datetime | None = self.trigger.get_next_fire_time(None, moment - span)
            if found is None or found.astimezone(UTC) > moment:
                continue
            fire = found.astimezone(UTC)
            while (following := self.due_after(fire)) <= moment and following > fire:
                fire = following
            return fire
        return None

    def last_fire_before(self, moment: datetime) -> datetime | None:
        """The fire time before `moment`: where the period that ends at `moment` started."""
        return self.last_fire(moment.astimezone(UTC) - _TINY)


def trigger(spec: ScheduleSpec) -> BaseTrigger:
    """The trigger a schedule entry describes (ValueError when APScheduler rejects it)."""
    if spec.cron is not None:
        return _crontab(spec.cron, spec.timezone)
    match = _TIME.match(spec.at)
    assert match is not None
    hour, minute = match.group(1), match.group(2)
    if spec.every == "hour":
        return CronTrigger(minute=minute, timezone=spec.timezone)
    if hour is None:
        kind = "daily" if spec.every == "day" else "weekly"
        raise ValueError(f'at: {spec.at!r} needs an hour for a {kind} digest ("08:00")')
    if spec.every == "day":
        return CronTrigger(hour=hour, minute=minute, timezone=spec.timezone)
    weekday = _WEEKDAYS[_weekday(spec.day.lower())]
    return CronTrigger(day_of_week=weekday, hour=hour, minute=minute, timezone=spec.timezone)


def _crontab(expression: str, timezone: str) -> BaseTrigger:
    """A crontab line's five fields as a trigger. With the day of the month and the weekday
    both restricted, crontab fires on a day matching either; APScheduler's CronTrigger needs
    both, so that is two triggers, one per field, firing at the earlier. A field starting with
    `*` (`*`, `*/2`) counts as unrestricted, as in cron itself (Vixie cron, cronie)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron {expression!r}: expected 5 fields (minute hour day month weekday)")
    minute, hour, day, month, weekday = fields
    days = _crontab_weekdays(weekday)

    def cron(**date: str) -> CronTrigger:
        return CronTrigger(minute=minute, hour=hour, month=month, timezone=timezone, **date)

    if day.startswith("*") or weekday.startswith("*"):
        return cron(day=day, day_of_week=days)
    return OrTrigger([cron(day=day), cron(day_of_week=days)])


def _crontab_weekdays(field: str) -> str:
    """Crontab counts weekdays from Sunday = 0 (7 too); APScheduler 3 from Monday = 0. The
    field's days, steps and ranges included, are spelt out as names APScheduler reads alike."""
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.lower().split(","):
        span, _, step = item.partition("/")
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first = _weekday(low)
            last = _weekday(high, end=True) if high else (6 if step else first)
        if last < first:
            raise ValueError(f"weekday range {span!r} runs backwards")
        days.update(day % 7 for day in range(first, last + 1, int(step) if step else 1))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def _weekday(token: str, *, end: bool = False) -> int:
    """0 (Sunday) to 6 for a crontab number or a day name; 7 stays 7 at the end of a range."""
    token = token.strip()
    if token.isdigit() and int(token) <= 7:
        return int(token) if end else int(token) % 7
    name = _WEEKDAY_NAMES.get(token, token)
    if name in _WEEKDAYS:
        return _WEEKDAYS.index(name)
    raise ValueError(f"weekday {token!r}: use 0-7 (0 and 7 are Sunday) or a name such as mon")


def build(specs: dict[str, ScheduleSpec]) -> dict[str, Schedule]:
    """The named schedules, with the built-in `daily` unless the file redefines it."""
    specs = {DEFAULT_SCHEDULE: ScheduleSpec(), **specs}
    return {
        name: Schedule(name, trigger(spec), spec.timezone, spec.send_empty)
        for name, spec in specs.items()
    }


def debounce_window(moment: datetime, window_seconds: float) -> tuple[datetime, datetime]:
    """The clock-aligned debounce window holding `moment`: (start, end), in UTC."""
    epoch = moment.timestamp()
    start = datetime.fromtimestamp(epoch - epoch % window_seconds, UTC)
    return start, start + timedelta(seconds=window_seconds)


def quiet_until(quiet: QuietHours, moment: datetime) -> datetime | None:
    """When the quiet hours holding `moment` end, or None if `moment` is not in them."""
    zone = ZoneInfo(quiet.timezone)
    local = moment.astimezone(zone)
    now = local.time()
    if quiet.start < quiet.end:
        inside = quiet.start <= now < quiet.end
    else:  # across midnight: 22:00–07:00
        inside = now >= quiet.start or now < quiet.end
    if not inside:
        return None
    end = datetime.combine(local.date(), quiet.end, tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone)
    return end.astimezone(moment.tzinfo)
