"""The JSON API's bodies, written by PostgreSQL, are byte for byte what Python rendered.

`latest_by_artist_json`/`recent_json` (one statement, the JSON text built in SQL) against
`render()` of `latest_by_artist`/`recent` (rows, dataclasses, `json.dumps`), on messy data:
long names, many artists, unicode beyond the BMP, quotes, backslashes, markdown, control
characters, missing urls, every date precision, limits and windows of every size."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import event, insert

from bot.api import ReleaseApi, render
from bot.clock import FrozenClock
from bot.releases import ReleaseCopy
from bot.releases.reads import ascii_json
from db.engine import SessionFactory, create_engine, session_factory
from db.models import Artist, Release, ReleaseArtist

TODAY = dt.date(2026, 11, 6)
NOW = dt.datetime(2026, 11, 6, 12, 0, tzinfo=dt.UTC)

MESSY = [
    'Quote "marks" and \\backslashes\\',
    "**bold** _under_ ~~strike~~ `code` || spoiler || [link](https://x.y) <@123> @everyone",
    "Émilie Simon & Björk: Naïve Café",
    "東京事変 · 비투비 · Тату · עברית · العربية",
    "emoji \U0001f3b8\U0001f525 astral \U0001d11e and flags \U0001f1eb\U0001f1f7",
    "combining e\u0301 and zero\u200bwidth and line\u2028separator\u2029",
    "İstanbul ß ẞ ǅ ﬁ",  # case mappings Python and PostgreSQL do not share
    "tab\there\nnewline\r\x01\x1f\x7f controls",
    "slash / and </script> and &amp;",
    "   spaces   ",
    "",
]


def _messy_name(rng: random.Random, n: int) -> str:
    pick = rng.random()
    if pick < 0.1:
        return f"{n} " + "Very Long Name " * rng.randint(20, 120)
    if pick < 0.7:
        return f"{rng.choice(MESSY)} #{n}"
    return f"Plain {n}"


async def _fill(sessions: SessionFactory, seed: int) -> None:
    rng = random.Random(seed)
    artists = []
    for n in range(120):
        name = _messy_name(rng, n)
        artists.append(
            {
                "id": f"artist-{n:03d}",
                "name": name,
                "url": None if n % 7 == 0 else f'https://open.spotify.com/artist/{n}?q="x"',
            }
        )
    # Artists whose names differ only by case, and one that sorts the same as another.
    artists[1]["name"], artists[2]["name"] = "SAME name", "same NAME"
    releases, links = [], []
    for n in range(400):
        precision = rng.choice(["day", "day", "day", "month", "year"])
        day = TODAY - dt.timedelta(days=rng.randint(0, 400))
        if precision == "month":
            day = day.replace(day=1)
        if precision == "year":
            day = day.replace(month=1, day=1)
        if n == 5:  # years before 1000 (Python's "%Y" does not pad them; isoformat does)
            precision, day = "year", dt.date(999, 1, 1)
        releases.append(
            {
                "id": f"release-{n:04d}",
                "name": _messy_name(rng, n),
                "album_type": rng.choice(["album", "single", "compilation"]),
                "release_date": day,
                "release_date_precision": precision,
                "total_tracks": rng.randint(0, 30),
                "image_url": None if n % 5 == 0 else f"https://i.scdn.co/image/{n}",
                "url": None if n % 11 == 0 else f"https://open.spotify.com/album/{n}",
                "first_seen": NOW - dt.timedelta(minutes=rng.randint(0, 5)),
            }
        )
        count = 30 if n % 50 == 0 else rng.randint(1, 4)  # now and then, many artists
        for position, artist in enumerate(rng.sample(range(3, 120), count)):
            links.append(
                {
                    "release_id": f"release-{n:04d}",
                    "artist_id": artists[artist]["id"],
                    "position": position,
                }
            )
    # An old-year release of each precision, and the case twins on one release.
    releases.append(
        {
            "id": "release-old-month",
            "name": "Old month",
            "album_type": "album",
            "release_date": dt.date(987, 3, 1),
            "release_date_precision": "month",
            "total_tracks": 9,
            "image_url": None,
            "url": None,
            "first_seen": NOW,
        }
    )
    links += [
        {"release_id": "release-old-month", "artist_id": "artist-001", "position": 0},
        {"release_id": "release-old-month", "artist_id": "artist-002", "position": 1},
        {"release_id": "release-0001", "artist_id": "artist-002", "position": 7},
        {"release_id": "release-0001", "artist_id": "artist-001", "position": 8},
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(Artist), artists)
        await session.execute(insert(Release), releases)
        await session.execute(insert(ReleaseArtist), links)


async def _python_artists(copy: ReleaseCopy, limit: int, days: int) -> bytes:
    items = [artist.to_json() for artist in await copy.latest_by_artist(limit=limit, days=days)]
    return render({"items": items, "count": len(items)}).payload


async def _python_releases(copy: ReleaseCopy, limit: int, days: int) -> bytes:
    items = [release.to_json() for release in await copy.recent(limit=limit, days=days)]
    return render({"items": items, "count": len(items)}).payload


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_sql_bodies_are_the_python_bodies_byte_for_byte(
    sessions: SessionFactory, seed: int
) -> None:
    await _fill(sessions, seed)
    copy = ReleaseCopy(sessions, FrozenClock(NOW))
    windows = [(1, 1), (1, 14), (5, 14), (20, 14), (50, 60), (100, 365), (100, 1), (7, 200)]
    for limit, days in windows:
        expected = await _python_artists(copy, limit, days)
        assert await copy.latest_by_artist_json(limit=limit, days=days) == expected, (limit, days)
        expected = await _python_releases(copy, limit, days)
        assert await copy.recent_json(limit=limit, days=days) == expected, (limit, days)


async def test_the_bodies_cover_what_the_data_holds(sessions: SessionFactory) -> None:
    """The comparison above meets the messy cases (it is not vacuous)."""
    await _fill(sessions, 1)
    copy = ReleaseCopy(sessions, FrozenClock(NOW))
    body = await copy.latest_by_artist_json(limit=100, days=365)
    text = body.decode("ascii")
    for escaped in (
        "\\ud83c\\udfb8",
        "\\u00e9",
        '\\"marks\\"',
        "\\\\backslashes",
        "\\u2028",
        "\\u007f",
        "\\u0001",
        "\\n",
        "\\t",
        "null",
    ):
        assert escaped in text, escaped
    items = json.loads(body)["items"]
    assert max(len(item["releases"]) for item in items) > 1
    assert {len(r["release_date"]) for item in items for r in item["releases"]} == {4, 7, 10}
    # The whole copy, back to the years before 1000.
    old = await copy.latest_by_artist_json(limit=500, days=400_000)
    assert '"release_date":"999"' in old.decode() and '"release_date":"987-03"' in old.decode()
    assert old == await _python_artists(copy, 500, 400_000)
    assert await copy.recent_json(limit=500, days=400_000) == await _python_releases(
        copy, 500, 400_000
    )


async def test_an_empty_window_is_an_empty_list(sessions: SessionFactory) -> None:
    copy = ReleaseCopy(sessions, FrozenClock(NOW))
    assert await copy.latest_by_artist_json(limit=20, days=14) == b'{"count":0,"items":[]}'
    assert await copy.recent_json(limit=20, days=14) == b'{"count":0,"items":[]}'
    assert await _python_artists(copy, 20, 14) == b'{"count":0,"items":[]}'


def test_ascii_json_escapes_as_json_dumps_does() -> None:
    for value in [*MESSY, "\U0010ffff\ud7ff\ue000\uffff", "\x7f\x80\xff\u0100", "only \x7f"]:
        written = json.dumps(value, ensure_ascii=False)  # PostgreSQL leaves these unescaped
        assert ascii_json(written) == json.dumps(value).encode()


async def test_a_miss_is_one_statement_with_no_transaction_around_it(clean_database: str) -> None:
    """BEGIN and ROLLBACK around one read would be two more round trips per miss."""
    engine = create_engine(clean_database, pool_size=1)
    seen: list[tuple[str, object]] = []

    def executed(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append((statement, connection.get_execution_options().get("isolation_level")))

    event.listen(engine.sync_engine, "before_cursor_execute", executed)
    try:
        await _fill(session_factory(engine), 3)
        copy = ReleaseCopy(session_factory(engine), FrozenClock(NOW))
        seen.clear()
        await copy.latest_by_artist_json(limit=10, days=30)
        await copy.recent_json(limit=10, days=30)
        assert [level for _, level in seen] == ["AUTOCOMMIT", "AUTOCOMMIT"]
        assert "WITH latest AS" in seen[0][0] and "string_agg" in seen[1][0]
        # The connection goes back to the pool as it came: the next session has a transaction.
        async with session_factory(engine)() as session:
            connection = await session.connection()
            assert connection.in_transaction()
            raw = await connection.get_raw_connection()
            assert raw.dbapi_connection is not None and not raw.dbapi_connection.autocommit
    finally:
        await engine.dispose()


class SlowCopy:
    """A copy whose builds wait until released, counting how many run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.release = asyncio.Event()

    async def version(self) -> dt.datetime:
        return NOW

    async def latest_by_artist_json(self, *, limit: int, days: int) -> bytes:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        return b'{"count":0,"items":[]}'


async def test_at_most_a_few_answers_are_built_at_once_and_every_miss_is_answered() -> None:
    """50 clients missing at once must not take 50 pooled connections (the pool overflows
    and opens and closes connections under load); the others wait, then get their answer."""
    copy = SlowCopy()
    app = web.Application()
    app.router.add_get("/api/artists", ReleaseApi(cast(Any, copy), FrozenClock(NOW)).artists)
    async with TestClient(TestServer(app)) as client:
        asks = [
            asyncio.create_task(client.get(f"/api/artists?release_limit={n}")) for n in range(1, 31)
        ]
        while copy.running < ReleaseApi.BUILDS_AT_ONCE:
            await asyncio.sleep(0)
        for _ in range(50):
            await asyncio.sleep(0)  # every request had its chance to start a build
        assert copy.running == copy.most == ReleaseApi.BUILDS_AT_ONCE
        copy.release.set()
        responses = await asyncio.gather(*asks)
        assert [response.status for response in responses] == [200] * 30
        assert copy.most == ReleaseApi.BUILDS_AT_ONCE
