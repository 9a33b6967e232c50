"""The erasure lock on the real PostgreSQL: a write and /forget-me never interleave, and work
anchored to a link generation stores nothing once that link is gone."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from db.engine import SessionFactory
from db.erasure import erase, link_generation, still_linked, writing_about
from db.models import (
    USER_TABLES,
    Like,
    RadarBlock,
    RadarDelivery,
    RadarSettings,
    RadarShare,
    RadarWatch,
    SpotifyLink,
)
from tests.database_activity import DatabaseActivity

ALICE = 2002


async def linked(sessions: SessionFactory, generation: int = 5) -> None:
    now = dt.datetime.now(dt.UTC)
    async with sessions() as session, session.begin():
        session.add(
            SpotifyLink(
                discord_user_id=ALICE,
                spotify_account_id="alice",
                spotify_user_id="alice",
                display_name="Alice",
                access_token=b"-",
                refresh_token=b"-",
                access_expires_at=now,
                scopes="",
                authorized_at=now,
                generation=generation,
            )
        )


def a_like(track: str) -> Like:
    return Like(discord_user_id=ALICE, track_id=track, track_name=track, artist_names="x")


async def rows_about_alice(sessions: SessionFactory) -> int:
    total = 0
    async with sessions() as session:
        for table in USER_TABLES:
            total += int(
                await session.scalar(
                    select(func.count()).select_from(table).where(table.c.discord_user_id == ALICE)
                )
                or 0
            )
    return total


async def waiting_for(activity: DatabaseActivity, function: str) -> bool:
    backends = (await activity.now()).backends
    return any(function in b.query and b.state == "active" for b in backends)


async def until_waiting(activity: DatabaseActivity, function: str) -> None:
    async with asyncio.timeout(10):
        while not await waiting_for(activity, function):
            await asyncio.sleep(0.02)


async def anchored_write(sessions: SessionFactory, generation: int) -> bool:
    """What an import's page does: lock, check the anchor, insert. True if it stored."""
    async with sessions() as session, session.begin():
        await writing_about(session, ALICE)
        if not await still_linked(session, ALICE, generation):
            return False
        session.add(a_like("late"))
    return True


async def test_a_write_waits_for_an_erasure_in_progress_then_stores_nothing(
    sessions: SessionFactory, database_activity: DatabaseActivity
) -> None:
    await linked(sessions)
    async with sessions() as session:
        generation = await link_generation(session, ALICE)
    assert generation == 5
    async with sessions() as forgetting, forgetting.begin():
        await erase(forgetting, ALICE)  # deleted, not yet committed
        write = asyncio.create_task(anchored_write(sessions, generation))
        await until_waiting(database_activity, "pg_advisory_xact_lock_shared")
        assert not write.done()  # it waits for the erasure, it does not race it
    assert await write is False
    assert await rows_about_alice(sessions) == 0


async def test_an_erasure_waits_for_a_write_in_progress_and_deletes_what_it_wrote(
    sessions: SessionFactory, database_activity: DatabaseActivity
) -> None:
    await linked(sessions)

    async def forget() -> int:
        async with sessions() as session, session.begin():
            return await erase(session, ALICE)

    async with sessions() as writing, writing.begin():
        await writing_about(writing, ALICE)
        assert await still_linked(writing, ALICE, 5)
        writing.add(a_like("in-flight"))
        await writing.flush()  # inserted, not yet committed: invisible to the erasure
        forgetting = asyncio.create_task(forget())
        await until_waiting(database_activity, "pg_advisory_xact_lock(")
        assert not forgetting.done()
    assert await forgetting == 2  # the link and the like committed just before it
    assert await rows_about_alice(sessions) == 0


async def test_work_from_before_a_forget_stores_nothing_after_the_user_links_again(
    sessions: SessionFactory,
) -> None:
    await linked(sessions, generation=5)
    async with sessions() as session, session.begin():
        await erase(session, ALICE)
    await linked(sessions, generation=6)  # they came back and linked again
    assert await anchored_write(sessions, 5) is False  # the old import's next page
    assert await anchored_write(sessions, 6) is True  # a new import's


RADAR_TABLES = {
    "radar_watchlist",
    "radar_blocks",
    "radar_settings",
    "radar_shares",
    "radar_deliveries",
}


async def test_forget_me_deletes_the_whole_release_radar(sessions: SessionFactory) -> None:
    assert {table.name for table in USER_TABLES} >= RADAR_TABLES  # every radar table with a user
    await linked(sessions)
    async with sessions() as session, session.begin():
        session.add_all(
            [
                RadarWatch(
                    discord_user_id=ALICE, artist_id="a1", source="followed", artist_name="A"
                ),
                RadarWatch(discord_user_id=ALICE, artist_id="a2", source="manual", artist_name="B"),
                RadarBlock(discord_user_id=ALICE, artist_id="a3", artist_name="C"),
                RadarSettings(discord_user_id=ALICE, share=True, playlist=True, playlist_id="p"),
                RadarShare(discord_user_id=ALICE, guild_id=77),
                RadarDelivery(
                    discord_user_id=ALICE,
                    period=dt.date(2026, 12, 4),
                    status="queued",
                    release_ids=[],
                ),
            ]
        )
    assert await rows_about_alice(sessions) == 7
    async with sessions() as session, session.begin():
        assert await erase(session, ALICE) == 7
    assert await rows_about_alice(sessions) == 0
