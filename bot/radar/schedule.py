"""When things happen: a member's weekly radar (a weekday and local time in their zone, by
default Friday 09:00, the day releases land) and how often the checker looks at an artist."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.digests import scheduled_at

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_DAY = 4  # Friday
DEFAULT_TIME = dt.time(9, 0)
RELEASE_TYPES = ("album", "single", "compilation", "appears_on")
DEFAULT_TYPES = ("album", "single")

CHECK_EVERY = dt.timedelta(hours=24)
# Releases land on Friday at midnight, market by market (UTC+14 to UTC-12): from Thursday
# noon to Saturday noon UTC each artist is looked at four times as often.
CHECK_EVERY_AROUND_FRIDAY = dt.timedelta(hours=6)


def next_delivery(
    now: dt.datetime, day: int, at: dt.time, timezone: str
) -> tuple[dt.datetime, dt.date]:
    """The first delivery strictly after `now`: its UTC instant and its local date (the period)."""
    local_today = now.astimezone(ZoneInfo(timezone)).date()
    for ahead in range(-1, 9):
        date = local_today + dt.timedelta(days=ahead)
        if date.weekday() != day:
            continue
        when = scheduled_at(date, at, timezone)
        if when > now:
            return when, date
    raise AssertionError("a weekday comes back within 8 days")


def period_of(when: dt.datetime, timezone: str) -> dt.date:
    """The period a delivery due at `when` is for: its local date."""
    return when.astimezone(ZoneInfo(timezone)).date()


def around_friday(now: dt.datetime) -> bool:
    utc = now.astimezone(dt.UTC)
    hours = utc.weekday() * 24 + utc.hour  # Monday 00:00 = 0
    return 3 * 24 + 12 <= hours < 5 * 24 + 12  # Thursday 12:00 .. Saturday 12:00


def check_interval(now: dt.datetime) -> dt.timedelta:
    """How long until an artist checked now is due again."""
    return CHECK_EVERY_AROUND_FRIDAY if around_friday(now) else CHECK_EVERY


def parse_types(text: str) -> tuple[str, ...]:
    """`album,single` (any order, any case) -> the release types, in their usual order."""
    wanted = {part.strip().lower().replace(" ", "_") for part in text.split(",") if part.strip()}
    return tuple(kind for kind in RELEASE_TYPES if kind in wanted)
