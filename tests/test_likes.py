"""Likes without the sandbox: what counts as a track reference, and autocomplete's search cache."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.clock import FrozenClock
from bot.errors import SpotifyBusy
from bot.likes import TrackSearchCache
from bot.music import ArtistRef, Track
from bot.spotify import track_id_in

TRACK = "4uLU6hMCjMI75M1A2tKUQC"


@pytest.mark.parametrize(
    "typed",
    [
        TRACK,
        f"  {TRACK} ",
        f"spotify:track:{TRACK}",
        f"https://open.spotify.com/track/{TRACK}",
        f"https://open.spotify.com/intl-pt-BR/track/{TRACK}?si=0123abcd",
    ],
)
def test_an_id_a_uri_or_a_link_names_the_track(typed: str) -> None:
    assert track_id_in(typed) == TRACK


@pytest.mark.parametrize(
    "typed",
    ["never gonna give you up", f"https://open.spotify.com/album/{TRACK}", "spotify:track:short"],
)
def test_anything_else_is_free_text(typed: str) -> None:
    assert track_id_in(typed) is None


class CountingSearch:
    """Stands in for Spotify's search behind the cache: counts, can be slow or fail."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.release = asyncio.Event()
        self.release.set()
        self.fail = False

    async def __call__(self, text: str) -> list[Track]:
        self.asked.append(text)
        await self.release.wait()
        if self.fail:
            raise SpotifyBusy(5)
        return [Track(id=TRACK, name=f"{text} song", artists=(ArtistRef("a", "Artist"),))]


def cache_with(search: CountingSearch, clock: FrozenClock, budget: float = 2.0) -> TrackSearchCache:
    return TrackSearchCache(search, clock, budget=budget)


async def test_the_same_text_in_any_case_or_spacing_is_searched_once_a_minute() -> None:
    search, clock = CountingSearch(), FrozenClock(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    cache = cache_with(search, clock)

    for typed in ("Moon", "moon", "  MOON ", "moon"):
        assert [t.name for t in await cache.tracks(typed)] == ["moon song"]
    clock.advance(seconds=59)
    await cache.tracks("moon")
    assert search.asked == ["moon"]

    clock.advance(seconds=2)
    await cache.tracks("moon")
    assert search.asked == ["moon", "moon"]


async def test_keystrokes_while_a_search_runs_share_it() -> None:
    search, clock = CountingSearch(), FrozenClock(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    cache = cache_with(search, clock)
    search.release.clear()

    waiting = [asyncio.create_task(cache.tracks("star")) for _ in range(3)]
    await asyncio.sleep(0)
    search.release.set()

    assert all(len(found) == 1 for found in await asyncio.gather(*waiting))
    assert search.asked == ["star"]


async def test_a_slow_search_answers_empty_in_time_and_its_result_serves_the_next_keystroke() -> (
    None
):
    search, clock = CountingSearch(), FrozenClock(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    cache = cache_with(search, clock, budget=0.01)
    search.release.clear()

    assert await cache.tracks("river") == []
    search.release.set()
    await asyncio.sleep(0)

    assert [t.name for t in await cache.tracks("river")] == ["river song"]
    assert search.asked == ["river"]


async def test_a_failed_search_is_not_cached() -> None:
    search, clock = CountingSearch(), FrozenClock(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    cache = cache_with(search, clock)
    search.fail = True

    assert await cache.tracks("fire") == []
    search.fail = False

    assert [t.name for t in await cache.tracks("fire")] == ["fire song"]
    assert search.asked == ["fire", "fire"]
