"""Cron expressions as users write them, turned into APScheduler triggers that behave across DST.

Two differences from APScheduler 3's own `CronTrigger.from_crontab` are deliberate:
- weekday numbers follow crontab (0 or 7 = Sunday, 1 = Monday), not APScheduler 3's 0 = Monday;
- on the autumn DST change a job with a fixed hour fires once, at the first of the two identical
  wall-clock times (APScheduler 3 fires it twice); a job whose hour is `*` keeps firing every hour.
A time skipped by the spring change (02:30 in Europe/Berlin on the last Sunday of March) fires at
the same distance after the gap (03:30), once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from apscheduler.triggers.cron import CronTrigger

_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_TICK = timedelta(microseconds=1)


def parse_cron(expr: str) -> dict[str, str]:
    """A cron expression → CronTrigger keyword arguments; ValueError says what is wrong."""
    text = _MACROS.get(expr.strip().lower(), expr)
    fields = text.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    elif len(fields) != 6:
        raise ValueError(
            f"expected 5 cron fields (minute hour day month weekday) or 6 with seconds first, "
            f"got {len(fields)} in {expr!r}"
        )
    second, minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        raise ValueError(
            f"{expr!r} restricts both the day of month and the weekday; crontab would run on either, "
            "this scheduler only on both: restrict one of them"
        )
    kwargs = {"second": second, "minute": minute, "hour": hour, "day": day, "month": month,
              "day_of_week": _weekdays(weekday)}
    try:
        CronTrigger(timezone=UTC, **kwargs)
    except ValueError as e:
        raise ValueError(f"invalid cron {expr!r}: {e}") from None
    return kwargs


def _weekdays(field: str) -> str:
    """Crontab weekdays ('1-5', '0,6', '*/2', 'mon-fri') → APScheduler names ('mon,tue,...')."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        span, slash, step_text = part.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise ValueError(f"bad weekday step in {field!r}")
        step = int(step_text) if slash else 1
        if span == "*":
            lo, hi = 0, 6
        elif "-" in span:
            first, _, last = span.partition("-")
            lo, hi = _day(first, field), _day(last, field, end=True)
        else:
            lo = _day(span, field)
            hi = 6 if slash else lo
        if lo > hi:
            raise ValueError(f"weekday range {span!r} runs backwards in {field!r}")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(_DAYS[d] for d in sorted(days, key=lambda d: (d - 1) % 7))


def _day(token: str, field: str, end: bool = False) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    names = _DAYS if len(token) == 3 else _FULL_NAMES
    if token in names:
        n = names.index(token)
        return 7 if end and n == 0 else n
    raise ValueError(f"unknown weekday {token!r} in {field!r}; use 0-7 (0 and 7 are Sunday) or mon..sun")


_FULL_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


class LocalCronTrigger(CronTrigger):
    """CronTrigger that fires at local wall-clock times once per day across DST changes."""

    __slots__ = ("repeat_hours",)

    def __init__(self, timezone: tzinfo, **fields: Any) -> None:
        super().__init__(timezone=timezone, **fields)
        self.repeat_hours = str(fields.get("hour", "*")) == "*"

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None:
            fire = datetime.fromtimestamp(fire.timestamp(), self.timezone)  # real local time, fold set
            repeated = not self.repeat_hours and _second_occurrence(fire)
            behind = previous_fire_time is not None and fire.astimezone(UTC) <= previous_fire_time.astimezone(UTC)
            if not repeated and not behind:
                return fire
            fire = super().get_next_fire_time(fire, _later(fire))
        return None

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "repeat_hours": self.repeat_hours}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.repeat_hours = state.get("repeat_hours", True)


def _second_occurrence(t: datetime) -> bool:
    """True for the later of two identical wall-clock times (the hour repeated in autumn)."""
    return t.fold == 1 and t.replace(fold=0).utcoffset() != t.utcoffset()


def _later(t: datetime) -> datetime:
    """One tick later in real time (aware local arithmetic would be wall-clock arithmetic)."""
    return (t.astimezone(UTC) + _TICK).astimezone(t.tzinfo)


def cron_trigger(expr: str, timezone: tzinfo) -> LocalCronTrigger:
    return LocalCronTrigger(timezone, **parse_cron(expr))


def next_fire(trigger: CronTrigger, at_or_after: datetime) -> datetime | None:
    """The first fire time at or after `at_or_after`."""
    return trigger.get_next_fire_time(None, at_or_after.astimezone(trigger.timezone))


def first_fire_after(trigger: CronTrigger, moment: datetime) -> datetime | None:
    return next_fire(trigger, _later(moment))


def latest_fire(trigger: CronTrigger, now: datetime, after: datetime) -> datetime | None:
    """The last fire time in (after, now], found without walking every fire since `after`."""
    if after >= now:
        return None
    window = timedelta(seconds=1)
    while True:
        start = max(now - window, after + _TICK)
        fire = next_fire(trigger, start)
        if fire is not None and fire <= now:
            while True:
                following = trigger.get_next_fire_time(fire, _later(fire))
                if following is None or following > now:
                    return fire.astimezone(UTC)
                fire = following
        if start == after + _TICK:
            return None
        window *= 2
