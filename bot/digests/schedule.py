"""Schedule arithmetic: a server's post time in its own IANA time zone, across DST changes."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from bot.errors import BadInput

UTC = dt.UTC
DEFAULT_TIME = dt.time(9, 0)
# Offered before anything is typed.
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def parse_post_time(text: str) -> dt.time:
    """'9:00', '09:00' or '21:30' (24-hour clock)."""
    hours, sep, minutes = text.strip().partition(":")
    valid = sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2
    if valid and int(hours) <= 23 and int(minutes) <= 59:
        return dt.time(int(hours), int(minutes))
    raise BadInput(
        f"`{text}` is not a time of day. Use HH:MM on the 24-hour clock, e.g. `09:00` or `18:30`."
    )


@cache
def timezone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


@cache
def _canonical_zones() -> dict[str, str]:
    return {name.lower(): name for name in timezone_names()}


def parse_timezone(text: str) -> str:
    """An IANA zone name, matched without regard to case."""
    name = _canonical_zones().get(text.strip().lower().replace(" ", "_"))
    if name is None:
        raise BadInput(
            f"`{text}` is not a time zone I know. Use an IANA name such as `Europe/Berlin`, "
            "`America/New_York` or `UTC` (the command suggests names as you type)."
        )
    return name


def timezone_suggestions(typed: str, limit: int = 25) -> list[str]:
    """Zone names containing what was typed; names whose city starts with it first
    ("ber" -> Europe/Berlin)."""
    wanted = typed.strip().lower().replace(" ", "_")
    if not wanted:
        return list(COMMON_ZONES[:limit])
    matches = [name for name in timezone_names() if wanted in name.lower()]
    matches.sort(key=lambda n: (not n.lower().rsplit("/", 1)[-1].startswith(wanted), len(n), n))
    return matches[:limit]


def scheduled_at(day: dt.date, post_time: dt.time, timezone: str) -> dt.datetime:
    """The UTC instant of `post_time` on local `day`.

    zoneinfo resolves a time skipped by a spring-forward with the offset before the jump
    (02:30 becomes 03:30) and a repeated fall-back time as its first occurrence (fold=0).
    """
    return dt.datetime.combine(day, post_time, ZoneInfo(timezone)).astimezone(UTC)


def due_local_date(now: dt.datetime, post_time: dt.time, timezone: str) -> dt.date:
    """The latest local date whose post time has come: what a digest claimed now is for."""
    day = now.astimezone(ZoneInfo(timezone)).date() + dt.timedelta(days=1)
    while scheduled_at(day, post_time, timezone) > now:
        day -= dt.timedelta(days=1)
    return day


def next_post_at(
    now: dt.datetime, post_time: dt.time, timezone: str, *, after_date: dt.date | None = None
) -> dt.datetime:
    """The first post time strictly after `now` (and for a local date after `after_date`)."""
    day = now.astimezone(ZoneInfo(timezone)).date() - dt.timedelta(days=1)
    if after_date is not None:
        day = max(day, after_date + dt.timedelta(days=1))
    while scheduled_at(day, post_time, timezone) <= now:
        day += dt.timedelta(days=1)
    return scheduled_at(day, post_time, timezone)
