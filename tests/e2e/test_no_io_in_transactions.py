"""While Spotify holds a call open, the database sees no transaction of ours on the table that
call is about, so no row of it is locked (the emulator's delay faults hold the call). Other
tables are left out: the outbox's own brief claims may run at the same moment."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import update

from db.models import SpotifyLink
from sandbox.harness import Sandbox
from tests.database_activity import DatabaseActivity


async def linked(sandbox: Sandbox, name: str) -> int:
    user = int(await sandbox.user(name))
    assert (await sandbox.link(user, name)).status == 200
    return user


async def in_flight(sandbox: Sandbox, path: str) -> None:
    """Until Spotify has the request and has not answered it yet."""
    async with asyncio.timeout(15):
        while not any(e["status"] is None for e in await sandbox.spotify.requests(path=path)):
            await asyncio.sleep(0.02)


async def test_a_token_refresh_spotify_holds_open_keeps_the_link_unlocked(
    sandbox: Sandbox, database_activity: DatabaseActivity
) -> None:
    alice = await linked(sandbox, "alice")
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            update(SpotifyLink).values(
                access_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
            )
        )
    await sandbox.spotify.add_fault(
        path="^/api/token$", grant_type="refresh_token", delay=1.0, times=1
    )
    await sandbox.spotify.clear_requests()
    commands = [asyncio.create_task(sandbox.slash(alice, "playlists")) for _ in range(5)]
    await in_flight(sandbox, "/api/token")
    seen = await database_activity.now()
    assert seen.transactions_on("spotify_links") == []
    replies = await asyncio.gather(*commands)
    assert all("playlist" in reply.text.lower() for reply in replies)
    refreshes = [
        e
        for e in await sandbox.spotify.requests(path="/api/token")
        if e.get("grant_type") == "refresh_token"
    ]
    assert len(refreshes) == 1


async def test_shuffle_play_while_spotify_takes_its_time_keeps_the_queue_unlocked(
    sandbox: Sandbox, database_activity: DatabaseActivity
) -> None:
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Eight", tracks=8)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    await sandbox.spotify.add_fault(path="^/v1/me/player/queue", delay=1.0, times=1)
    await sandbox.spotify.clear_requests()
    playing = asyncio.create_task(sandbox.slash(alice, "shuffle play", {"count": 3}))
    await in_flight(sandbox, "/v1/me/player/queue")
    seen = await database_activity.now()
    assert seen.transactions_on("shuffle_queues") == []
    reply = await playing
    assert "Added 3 tracks to your Spotify queue" in reply.text
