"""/likes-export and /shuffle save end to end: a private playlist of the member's, made once
and replaced afterwards, with progress on long lists."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import select

from bot.playlist_saves import SaveInterrupted
from bot.spotify import WriteProgress
from bot.ui.errors import user_message
from db.models import EncorePlaylist, Like
from sandbox.harness import Reply, Sandbox


async def linked(sandbox: Sandbox, name: str, spotify_user: str | None = None) -> int:
    user = await sandbox.user(name)
    assert (await sandbox.link(user, spotify_user or name)).status == 200
    return user


async def finished(sandbox: Sandbox, reply: Reply, *, timeout: float = 60.0) -> dict[str, Any]:
    """The record of a deferred command once its answer stopped saying "in progress…"."""
    deadline = time.monotonic() + timeout
    while True:
        record = await sandbox.discord.interaction(reply.record["id"])
        messages = record.get("followups") or [record.get("original") or {}]
        content = str(messages[-1].get("content") or "")
        if (content and not content.endswith("…")) or time.monotonic() > deadline:
            return record | {"content": content}
        await asyncio.sleep(0.05)


async def playlists_named(sandbox: Sandbox, user: str, name: str) -> list[dict[str, Any]]:
    return [p for p in await sandbox.spotify.user_playlists(user) if p["name"] == name]


async def stored(sandbox: Sandbox, user: int) -> dict[str, str]:
    async with sandbox.services.sessions() as session:
        rows = await session.scalars(
            select(EncorePlaylist).where(EncorePlaylist.discord_user_id == user)
        )
        return {row.purpose: row.playlist_id for row in rows}


async def likes_newest_first(sandbox: Sandbox, user: int) -> list[str]:
    async with sandbox.services.sessions() as session:
        rows = await session.scalars(
            select(Like.track_id)
            .where(Like.discord_user_id == user)
            .order_by(Like.liked_at.desc(), Like.id.desc())
        )
        return [f"spotify:track:{track}" for track in rows]


async def test_exporting_no_likes_makes_no_playlist_and_says_so(sandbox: Sandbox) -> None:
    bob = await linked(sandbox, "bob")
    before = await sandbox.spotify.user_playlists("bob")

    answer = await finished(sandbox, await sandbox.slash(bob, "likes-export"))

    assert "no Encore likes to export" in answer["content"]
    assert await sandbox.spotify.user_playlists("bob") == before
    assert await stored(sandbox, bob) == {}


async def test_exporting_one_like_then_again_replaces_the_same_private_playlist(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    await sandbox.slash(alice, "like")  # what she plays now
    [liked] = await likes_newest_first(sandbox, alice)

    first = await finished(sandbox, await sandbox.slash(alice, "likes-export"))

    assert "as a new private playlist" in first["content"] and "(1 track)" in first["content"]
    [made] = await playlists_named(sandbox, "alice", "Encore likes")
    assert made["items"] == [liked] and made["public"] is False
    assert (await stored(sandbox, alice))["likes"] == made["id"]
    assert made["id"] in first["content"]  # linked in the answer

    # One more like, one more export: the same playlist, its tracks replaced.
    other = (await sandbox.spotify.catalog())["sample_tracks"][3]
    await sandbox.slash(alice, "like", {"track": other})
    again = await finished(sandbox, await sandbox.slash(alice, "likes-export"))

    assert "Replaced the tracks of" in again["content"] and "(2 tracks)" in again["content"]
    [same] = await playlists_named(sandbox, "alice", "Encore likes")
    assert same["id"] == made["id"]
    assert same["items"] == [f"spotify:track:{other}", liked]


async def test_exporting_2000_likes_shows_progress_and_writes_them_100_a_request(
    sandbox: Sandbox,
) -> None:
    fan = await linked(sandbox, "fan", "likes2000")
    await finished(sandbox, await sandbox.slash(fan, "likes-import"))
    expected = await likes_newest_first(sandbox, fan)
    assert len(expected) == 2000
    await sandbox.spotify.clear_requests()

    record = await finished(sandbox, await sandbox.slash(fan, "likes-export"))

    assert "(2,000 tracks)" in record["content"]
    [made] = await playlists_named(sandbox, "likes2000", "Encore likes")
    assert made["items"] == expected
    progress = [str(edit.get("content")) for edit in record["original"]["edits"]]
    assert "Making a new private playlist for 2,000 tracks…" in progress
    assert "Written 500 of 2,000 tracks…" in progress
    assert "Written 1,500 of 2,000 tracks…" in progress
    counts = await sandbox.spotify.request_counts(user="likes2000")
    assert counts["PUT /v1/playlists/{id}/items"] == 1
    assert counts["POST /v1/playlists/{id}/items"] == 19


async def test_an_export_stopped_by_spotify_halfway_says_so_and_the_next_one_finishes_it(
    sandbox: Sandbox,
) -> None:
    fan = await linked(sandbox, "fan", "likes2000")
    await finished(sandbox, await sandbox.slash(fan, "likes-import"))

    async def refuse_after_500(step: WriteProgress) -> None:
        if step.written == 500:
            await sandbox.spotify.add_fault(
                "^/v1/playlists/[^/]+/items$", method="POST", status=429, retry_after=30
            )

    with pytest.raises(SaveInterrupted) as stopped:
        await sandbox.services.saves.export_likes(fan, refuse_after_500)
    assert stopped.value.reached.written == 500
    message = user_message(stopped.value)
    assert "stopped after 500 of 2,000 tracks" in message and "Spotify is busy" in message
    [partial] = await playlists_named(sandbox, "likes2000", "Encore likes")
    assert len(partial["items"]) == 500

    await sandbox.spotify.clear_faults()
    again = await finished(sandbox, await sandbox.slash(fan, "likes-export"))

    assert "Replaced the tracks of" in again["content"]
    [whole] = await playlists_named(sandbox, "likes2000", "Encore likes")
    assert whole["id"] == partial["id"] and whole["items"] == await likes_newest_first(sandbox, fan)


async def test_an_export_whose_playlist_was_taken_over_makes_a_new_one(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    await sandbox.slash(alice, "like")
    await finished(sandbox, await sandbox.slash(alice, "likes-export"))
    # Last time's id now names someone else's playlist (as after deleting it on Spotify).
    carols = next(p for p in await sandbox.spotify.user_playlists("carol") if p["owner"] == "carol")
    async with sandbox.services.sessions() as session, session.begin():
        row = await session.get(EncorePlaylist, (alice, "likes"))
        assert row is not None
        row.playlist_id = carols["id"]

    again = await finished(sandbox, await sandbox.slash(alice, "likes-export"))

    assert "as a new private playlist" in again["content"]
    assert len(await playlists_named(sandbox, "alice", "Encore likes")) == 2
    assert (await sandbox.spotify.playlist(carols["id"]))["items"] == carols["items"]


async def test_shuffle_save_writes_the_order_from_the_next_track_on(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    await sandbox.slash(alice, "shuffle start", {"source": "Fifty"})
    await sandbox.slash(alice, "shuffle next", {"count": 3})
    coming = await sandbox.slash(alice, "shuffle peek", {"count": 20})

    saved = await finished(sandbox, await sandbox.slash(alice, "shuffle save"))

    [made] = await playlists_named(sandbox, "alice", "Encore shuffle")
    # Fifty holds 50 items; the messy catalogue's local files and repeats are not shuffled,
    # so the cycle is a little shorter: what was saved is the cycle after the 3 dealt.
    saved_count = len(made["items"])
    assert 40 <= saved_count <= 47
    assert f"your shuffle order ({saved_count} tracks)" in saved["content"]
    assert "From *Fifty*, starting with the next track." in saved["content"]
    first_ids = [uri.removeprefix("spotify:track:") for uri in made["items"][:20]]
    peeked = coming.embeds[0]["description"]
    assert [peeked.index(track) for track in first_ids] == sorted(
        peeked.index(track) for track in first_ids
    )
    # The queue did not move.
    status = await sandbox.slash(alice, "shuffle status")
    assert f"Played: 3 of {saved_count + 3}" in status.text


async def test_shuffle_save_without_a_queue_says_so(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    answer = await sandbox.slash(alice, "shuffle save")
    assert "shuffle" in answer.text.lower() and answer.ephemeral
    assert await playlists_named(sandbox, "alice", "Encore shuffle") == []


async def test_shuffle_save_of_2000_liked_songs_shows_progress_and_keeps_the_order(
    sandbox: Sandbox,
) -> None:
    fan = await linked(sandbox, "fan", "likes2000")
    await sandbox.slash(fan, "shuffle start", {"source": "liked"})
    [queue] = await sandbox.services.shuffle.queues.of_user(fan)
    order = [q.track.uri for q in await sandbox.services.shuffle.queues.upcoming(queue, 2000)]
    assert len(order) == 2000

    record = await finished(sandbox, await sandbox.slash(fan, "shuffle save"))

    assert "your shuffle order (2,000 tracks)" in record["content"]
    progress = [str(edit.get("content")) for edit in record["original"]["edits"]]
    assert "Written 1,000 of 2,000 tracks…" in progress
    [made] = await playlists_named(sandbox, "likes2000", "Encore shuffle")
    assert made["items"] == order
