"""Release dates as Spotify spells them: a year, a month or a day."""

from __future__ import annotations

import datetime as dt


def parse_release_date(value: str, precision: str | None = None) -> tuple[dt.date, str]:
    """Spotify's "2026", "2026-11" or "2026-11-03" as a date (first day of the period) and precision."""
    parts = value.strip().split("-")
    try:
        numbers = [int(part) for part in parts]
        if len(numbers) == 1:
            return dt.date(numbers[0], 1, 1), "year"
        if len(numbers) == 2:
            return dt.date(numbers[0], numbers[1], 1), "month"
        if len(numbers) == 3:
            return dt.date(*numbers), "day"
    except ValueError:
        pass
    raise ValueError(f"not a Spotify release date: {value!r} ({precision})")


def format_release_date(day: dt.date, precision: str) -> str:
    """Back to Spotify's spelling, so a year-only release is not shown as January 1st."""
    if precision == "year":
        return f"{day:%Y}"
    if precision == "month":
        return f"{day:%Y-%m}"
    return day.isoformat()
