"""Digest schedules: when a digest is due, as APScheduler cron triggers in the user's timezone.

alerts.yaml names them; "daily" (08:00 UTC) exists unless redefined:

    digests:
      daily:    {at: "08:00", timezone: Asia/Shanghai}
      hourly:   {every: hour, at: ":05"}
      weekly:   {every: week, day: monday, at: "07:30", timezone: Europe/Berlin}
      workdays: {cron: "0 8 * * 1-5", timezone: UTC, send_empty: true}

A hit waiting for a digest is due at the schedule's first fire time after it was stored; the
period a digest covers runs from the fire time before that one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from monitor.models import QuietHours

DEBOUNCE = "debounce"  # the schedule name of a debounced profile's digest (window-aligned)
DEFAULT_SCHEDULE = "daily"
_TIME = re.compile(r"^(?:([01]?\d|2[0-3]))?:([0-5]\d)$")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
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
        if value[:3].lower() not in _WEEKDAYS:
            raise ValueError("expected a weekday name such as monday")
        return value

    @model_validator(mode="after")
    def _check_trigger(self) -> ScheduleSpec:
        trigger(self)  # raises ValueError with APScheduler's reason
        return self


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    trigger: CronTrigger
    timezone: str
    send_empty: bool = False

    def due_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment`."""
        fire: datetime | None = self.trigger.get_next_fire_time(None, moment + _TINY)
        if fire is None:  # a cron expression that never fires again (a past year)
            raise ValueError(f"digest schedule {self.name} never fires after {moment}")
        return fire

    def last_fire(self, moment: datetime) -> datetime | None:
        """The latest fire time at or before `moment` (None if none within a year)."""
        for span in (timedelta(hours=2), timedelta(days=2), timedelta(days=9), timedelta(days=400)):
            fire: datetime | None = self.trigger.get_next_fire_time(None, moment - span)
            if fire is None or fire > moment:
                continue
            while (following := self.due_after(fire)) <= moment:
                fire = following
            return fire
        return None

    def last_fire_before(self, moment: datetime) -> datetime | None:
        """The fire time before `moment`: where the period that ends at `moment` started."""
        return self.last_fire(moment - _TINY)


def trigger(spec: ScheduleSpec) -> CronTrigger:
    """The cron trigger a schedule entry describes (ValueError when APScheduler rejects it)."""
    if spec.cron is not None:
        fields = spec.cron.split()
        if len(fields) != 5:
            raise ValueError(
                f"cron {spec.cron!r}: expected 5 fields (minute hour day month weekday)"
            )
        minute, hour, day, month, weekday = fields
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_weekdays(weekday),
            timezone=spec.timezone,
        )
    match = _TIME.match(spec.at)
    assert match is not None
    hour, minute = match.group(1), match.group(2)
    if spec.every == "hour":
        return CronTrigger(minute=minute, timezone=spec.timezone)
    if hour is None:
        raise ValueError(f'at: {spec.at!r} needs an hour for a {spec.every}ly digest ("08:00")')
    if spec.every == "day":
        return CronTrigger(hour=hour, minute=minute, timezone=spec.timezone)
    weekday = spec.day[:3].lower()
    return CronTrigger(day_of_week=weekday, hour=hour, minute=minute, timezone=spec.timezone)


def _crontab_weekdays(field: str) -> str:
    """Crontab counts weekdays from Sunday = 0 (7 too); APScheduler 3 from Monday = 0: use names."""
    if "/" in field:
        return field  # a step such as */2 means the same in both
    return re.sub(r"\b[0-7]\b", lambda m: _WEEKDAYS[int(m.group())], field)


def build(specs: dict[str, ScheduleSpec]) -> dict[str, Schedule]:
    """The named schedules, with the built-in `daily` unless the file redefines it."""
    specs = {DEFAULT_SCHEDULE: ScheduleSpec(), **specs}
    return {
        name: Schedule(name, trigger(spec), spec.timezone, spec.send_empty)
        for name, spec in specs.items()
    }


def debounce_window(moment: datetime, window_seconds: float) -> tuple[datetime, datetime]:
    """The clock-aligned debounce window holding `moment`: (start, end)."""
    epoch = moment.timestamp()
    start = epoch - epoch % window_seconds
    zero = moment - timedelta(seconds=epoch - start)
    return zero, zero + timedelta(seconds=window_seconds)


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
