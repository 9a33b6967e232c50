"""How long the event loop stalls while a 10,000-track shuffle queue rolls over into its next
cycle (`/shuffle next` past the last track), on a real PostgreSQL.

A ticker task asks for a 1 ms sleep again and again while the deal runs; the stall is the
longest it waited beyond that. The garbage collector is run before each deal, so what one
deal leaves for the collector is not counted against the next.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import update

from bench.report import machine, sized, table
from bot.clock import FrozenClock
from bot.music import ArtistRef, Track
from bot.shuffle import ShuffleQueues, SourceContents
from db.engine import SessionFactory, create_engine, session_factory
from db.migrate import upgrade
from db.models import ShuffleQueue, SpotifyLink
from sandbox.database import scratch_database

TRACKS = sized(10_000, 500)
RUNS = sized(7, 2)


def playlist() -> list[Track]:
    return [
        Track(
            f"{i:022d}",
            f"Song {i}: a long classical title, Op. {i % 97} No. {i % 7}",
            (ArtistRef(f"artist{i % 400:018d}", f"Artist {i % 400} & the Orchestra"),),
            album=f"Album {i % 900}: Complete Recordings",
            url=f"https://open.spotify.com/track/{i:022d}",
            duration_ms=200_000,
        )
        for i in range(TRACKS)
    ]


async def longest_stall_during(work: asyncio.Future[object]) -> float:
    worst = 0.0
    while not work.done():
        started = time.perf_counter()
        await asyncio.sleep(0.001)
        worst = max(worst, time.perf_counter() - started - 0.001)
    await work
    return worst * 1000


GENERATION = 1  # of each member's link: a queue is stored under a link (db.erasure)


async def linked_member(sessions: SessionFactory, user: int) -> int:
    """A member with a Spotify link (tokens are placeholders: no Spotify call is made)."""
    now = dt.datetime.now(dt.UTC)
    async with sessions() as session, session.begin():
        session.add(
            SpotifyLink(
                discord_user_id=user,
                spotify_account_id=f"member{user}",
                spotify_user_id=f"member{user}",
                display_name=f"Member {user}",
                access_token=b"-",
                refresh_token=b"-",
                access_expires_at=now,
                scopes="",
                authorized_at=now,
                generation=GENERATION,
            )
        )
    return user


async def main() -> None:
    async with scratch_database("encore_bench_rollover") as url:
        engine = create_engine(url)
        await upgrade(engine)
        sessions = session_factory(engine)
        queues = ShuffleQueues(sessions, FrozenClock(dt.datetime.now(dt.UTC)))
        tracks = playlist()
        stalls = []
        for run in range(RUNS):
            member = await linked_member(sessions, 1_000 + run)
            contents = SourceContents(f"source{run}", "Big", "v1", tracks)
            created = await queues.create(member, contents, GENERATION)
            assert created is not None
            async with sessions() as session, session.begin():
                await session.execute(
                    update(ShuffleQueue)
                    .where(ShuffleQueue.id == created.id)
                    .values(position=TRACKS - 2)
                )
            gc.collect()
            stalls.append(
                await longest_stall_during(asyncio.ensure_future(queues.deal(created.id, 5)))
            )
        await engine.dispose()
    print(
        table(
            f"Cycle rollover of a {TRACKS:,}-track queue ({machine()})",
            ["runs", "median stall", "worst stall"],
            [[RUNS, f"{statistics.median(stalls):.0f} ms", f"{max(stalls):.0f} ms"]],
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
