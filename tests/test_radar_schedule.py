"""The radar's calendar: the weekly delivery in the member's zone (DST included), the
checker's cadence around Friday, the release types a member names."""

from __future__ import annotations

import datetime as dt

from bot.radar.schedule import check_interval, next_delivery, parse_types

UTC = dt.UTC


def test_the_default_radar_comes_on_friday_at_nine_in_the_members_zone() -> None:
    thursday = dt.datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    when, period = next_delivery(thursday, 4, dt.time(9, 0), "Europe/Berlin")
    assert period == dt.date(2026, 12, 4)
    assert when == dt.datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # 09:00 CET


def test_a_delivery_just_past_moves_to_the_next_week() -> None:
    friday = dt.datetime(2026, 12, 4, 9, 0, 1, tzinfo=UTC)
    when, period = next_delivery(friday, 4, dt.time(9, 0), "UTC")
    assert period == dt.date(2026, 12, 11) and when.hour == 9


def test_a_time_skipped_by_daylight_saving_still_delivers_that_day() -> None:
    # Sunday 29 March 2026, 02:30 does not exist in Berlin: it is delivered at 03:30.
    before = dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    when, period = next_delivery(before, 6, dt.time(2, 30), "Europe/Berlin")
    assert period == dt.date(2026, 3, 29)
    assert when == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_artists_are_checked_four_times_as_often_around_friday() -> None:
    assert check_interval(dt.datetime(2026, 12, 1, 12, tzinfo=UTC)) == dt.timedelta(hours=24)
    assert check_interval(dt.datetime(2026, 12, 3, 13, tzinfo=UTC)) == dt.timedelta(hours=6)
    assert check_interval(dt.datetime(2026, 12, 4, 23, tzinfo=UTC)) == dt.timedelta(hours=6)
    assert check_interval(dt.datetime(2026, 12, 5, 12, tzinfo=UTC)) == dt.timedelta(hours=24)


def test_release_types_are_read_in_any_order_and_case() -> None:
    assert parse_types("Single, ALBUM") == ("album", "single")
    assert parse_types("appears on,compilation") == ("compilation", "appears_on")
    assert parse_types("ep") == ()
