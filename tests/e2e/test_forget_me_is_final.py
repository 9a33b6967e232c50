"""/forget-me wins over work in flight: an import, a shuffle start, a token refresh, a link
callback. Each is caught mid-call (the Spotify emulator holds its answer back), the member
forgets themselves through the real confirmation, and nothing about them is written after."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.errors import EncoreError, LinkRemoved, NotLinked
from db.models import USER_TABLES, SpotifyLink
from sandbox.browser import Browser, confirm_token, is_discord_authorize
from sandbox.harness import Sandbox

HELD = 3.0  # seconds the emulator holds the answer the work is waiting for


async def rows_about(sandbox: Sandbox, user: int) -> dict[str, int]:
    found: dict[str, int] = {}
    async with sandbox.services.sessions() as session:
        for table in USER_TABLES:
            count = await session.scalar(
                select(func.count()).select_from(table).where(table.c.discord_user_id == user)
            )
            if count:
                found[table.name] = int(count)
    return found


async def likes_of(sandbox: Sandbox, user: int) -> int:
    return (await rows_about(sandbox, user)).get("likes", 0)


async def in_flight(sandbox: Sandbox, path: str, at_least: int = 1) -> None:
    """Until `at_least` requests to `path` are being answered (held by a delay fault)."""
    async with asyncio.timeout(15):
        while True:
            log = await sandbox.spotify.requests(path=path)
            if sum(1 for entry in log if entry["status"] is None) >= at_least:
                return
            await asyncio.sleep(0.02)


async def forget_me(sandbox: Sandbox, user: int) -> None:
    """/forget-me and its confirmation, as the member does it; returns once it answered."""
    reply = await sandbox.slash(user, "forget-me")
    done = await sandbox.press(user, reply, "Delete everything")
    assert "deleted" in done.text


async def outcome_of(work: Awaitable[Any]) -> Any:
    try:
        return await work
    except EncoreError as error:
        return error


async def test_likes_imported_after_forget_me_are_not_stored(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    assert (await sandbox.link(alice, "alice")).status == 200  # 300 liked songs, 6 pages
    await sandbox.spotify.add_fault(path="^/v1/me/tracks", delay=HELD)
    importing = asyncio.create_task(outcome_of(sandbox.services.likes.import_from_spotify(alice)))
    async with asyncio.timeout(15):
        while await likes_of(sandbox, alice) < 50:  # the first page is stored...
            await asyncio.sleep(0.02)
    await in_flight(sandbox, "/v1/me/tracks")  # ...and the second is being fetched
    await forget_me(sandbox, alice)
    assert await rows_about(sandbox, alice) == {}
    outcome = await importing  # the page Spotify held back arrives after the erasure
    assert isinstance(outcome, LinkRemoved | NotLinked), outcome
    await sandbox.spotify.clear_faults()
    assert await rows_about(sandbox, alice) == {}


async def test_a_forgotten_import_stays_forgotten_when_the_member_links_again(
    sandbox: Sandbox,
) -> None:
    """Forget, then link again at once: the old import's next page is not the new link's."""
    alice = await sandbox.user("alice")
    assert (await sandbox.link(alice, "alice")).status == 200
    await sandbox.spotify.add_fault(path="^/v1/me/tracks", delay=HELD, times=2)
    importing = asyncio.create_task(outcome_of(sandbox.services.likes.import_from_spotify(alice)))
    await in_flight(sandbox, "/v1/me/tracks")
    await forget_me(sandbox, alice)
    assert (await sandbox.link(alice, "alice")).status == 200
    outcome = await importing
    assert isinstance(outcome, LinkRemoved), outcome
    assert await likes_of(sandbox, alice) == 0  # the new link has no likes until imported


async def test_a_shuffle_started_before_forget_me_is_not_stored(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    assert (await sandbox.link(alice, "alice")).status == 200
    await sandbox.spotify.add_fault(path="^/v1/me/tracks", delay=HELD)
    starting = asyncio.create_task(outcome_of(sandbox.services.shuffle.start(alice, "liked")))
    await in_flight(sandbox, "/v1/me/tracks")
    await forget_me(sandbox, alice)
    outcome = await starting
    assert isinstance(outcome, LinkRemoved | NotLinked), outcome
    await sandbox.spotify.clear_faults()
    assert await rows_about(sandbox, alice) == {}


async def test_a_token_refresh_answering_after_forget_me_stores_nothing(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    assert (await sandbox.link(alice, "alice")).status == 200
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            update(SpotifyLink)
            .where(SpotifyLink.discord_user_id == alice)
            .values(access_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))
        )
    await sandbox.spotify.add_fault(path="^/api/token$", delay=HELD, grant_type="refresh_token")
    calling = asyncio.create_task(
        outcome_of(sandbox.services.spotify.as_user(alice, lambda sp: sp.me()))
    )
    await in_flight(sandbox, "/api/token")
    await forget_me(sandbox, alice)
    outcome = await calling
    assert isinstance(outcome, NotLinked), outcome
    assert await rows_about(sandbox, alice) == {}


@pytest.mark.parametrize("refused", [False, True], ids=["linked", "development mode"])
async def test_a_link_callback_finishing_after_forget_me_stores_nothing(
    sandbox: Sandbox, refused: bool
) -> None:
    """The member forgets themselves while Spotify is still answering their link's `/me`:
    neither the link, its confirmation DM, nor the development-mode DM is written."""
    alice = await sandbox.user("alice")
    if refused:
        await sandbox.spotify.update_user("alice", allowlisted=False)
    url = await sandbox.personal_link(alice)
    async with Browser() as browser:
        _, page, _ = await browser.get(url)
        _, _, location = await browser.post(url, {"confirm": confirm_token(page) or ""})
        assert location is not None and is_discord_authorize(location)
        _, _, consent = await browser.get(await sandbox.discord.authorize(location, alice))
        assert consent is not None
        callback = await sandbox.spotify.authorize(consent, "alice")
        await sandbox.spotify.add_fault(path="^/v1/me/?$", delay=HELD)
        finishing = asyncio.create_task(browser.get(callback))
        await in_flight(sandbox, "/v1/me")
        await forget_me(sandbox, alice)
        status, page, _ = await finishing
    assert status in (403, 410), page
    assert await rows_about(sandbox, alice) == {}


async def test_a_shuffle_rebuild_finishing_after_forget_me_stores_nothing(
    sandbox: Sandbox,
) -> None:
    """The playlist changed on Spotify; resuming its queue rebuilds it from a fresh read,
    and the member forgets themselves while that read is held back."""
    alice = await sandbox.user("alice")
    assert (await sandbox.link(alice, "alice")).status == 200
    playlist = next(
        p for p in await sandbox.spotify.user_playlists("alice") if p["name"] == "Fifty"
    )
    assert not isinstance(
        await outcome_of(sandbox.services.shuffle.start(alice, playlist["id"])), EncoreError
    )
    await sandbox.spotify.add_tracks(playlist["id"], 3)  # a new snapshot: the queue is stale
    await sandbox.spotify.add_fault(f"^/v1/playlists/{playlist['id']}/items", delay=HELD)
    resuming = asyncio.create_task(
        outcome_of(sandbox.services.shuffle.start(alice, playlist["id"]))
    )
    await in_flight(sandbox, "/items")
    await forget_me(sandbox, alice)
    await resuming  # whatever it tells the member, it writes nothing
    await sandbox.spotify.clear_faults()
    assert await rows_about(sandbox, alice) == {}


async def test_a_playlist_save_answering_after_forget_me_remembers_no_playlist(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    assert (await sandbox.link(alice, "alice")).status == 200
    await sandbox.slash(alice, "like")
    await sandbox.spotify.add_fault(path="^/v1/me/playlists$", method="POST", delay=HELD)
    saving = asyncio.create_task(outcome_of(sandbox.services.saves.export_likes(alice)))
    await in_flight(sandbox, "/v1/me/playlists")
    await forget_me(sandbox, alice)
    outcome = await saving  # Spotify made the playlist; Encore must not remember it
    assert isinstance(outcome, LinkRemoved | NotLinked), outcome
    assert await rows_about(sandbox, alice) == {}  # no encore_playlists row either
