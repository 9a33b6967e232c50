"""The playlist writer: a private playlist of the member's, new or last time's, 100 items a
request, with progress, through the Spotify emulator."""

from __future__ import annotations

import pytest

from bot.errors import MissingScope
from bot.spotify import PlaylistWriter, WriteProgress
from sandbox.harness import Sandbox


async def liked_uris(sandbox: Sandbox, user: str) -> list[str]:
    return [f"spotify:track:{track}" for track in await sandbox.spotify.library(user)]


async def playlist_named(sandbox: Sandbox, user: str, name: str) -> dict[str, object]:
    return next(p for p in await sandbox.spotify.user_playlists(user) if p["name"] == name)


async def test_a_new_private_playlist_gets_every_item_in_order_100_a_request(
    sandbox: Sandbox,
) -> None:
    member = await sandbox.user("hoarder")
    assert (await sandbox.link(member, "likes2000")).status == 200
    uris = await liked_uris(sandbox, "likes2000")
    assert len(uris) == 2000
    await sandbox.spotify.clear_requests()
    seen: list[WriteProgress] = []

    async def progress(step: WriteProgress) -> None:
        seen.append(step)

    written = await PlaylistWriter(sandbox.services.spotify).write(
        member, uris, name="Encore: *my* likes", description="From Encore", progress=progress
    )

    assert written.created and written.written == 2000 and written.skipped == 0
    stored = await playlist_named(sandbox, "likes2000", "Encore: *my* likes")
    assert stored["id"] == written.playlist_id and stored["public"] is False
    assert stored["items"] == uris
    assert written.url.endswith(written.playlist_id)
    counts = await sandbox.spotify.request_counts(user="likes2000")
    assert counts["POST /v1/me/playlists"] == 1
    assert counts["PUT /v1/playlists/{id}/items"] == 1
    assert counts["POST /v1/playlists/{id}/items"] == 19
    # The id comes first (so a caller can keep it), then each request's progress.
    assert seen[0] == WriteProgress(written.playlist_id, 0, 2000, True)
    assert [step.written for step in seen[1:]] == list(range(100, 2001, 100))


async def test_last_times_playlist_is_replaced_not_duplicated(sandbox: Sandbox) -> None:
    member = await sandbox.user("alice")
    assert (await sandbox.link(member, "alice")).status == 200
    uris = await liked_uris(sandbox, "alice")
    writer = PlaylistWriter(sandbox.services.spotify)
    first = await writer.write(member, uris[:150], name="Encore likes")
    before = len(await sandbox.spotify.user_playlists("alice"))

    again = await writer.write(
        member, uris[150:151], name="Encore likes", replace=first.playlist_id
    )

    assert not again.created and again.playlist_id == first.playlist_id
    assert (await sandbox.spotify.playlist(first.playlist_id))["items"] == uris[150:151]
    assert len(await sandbox.spotify.user_playlists("alice")) == before

    emptied = await writer.write(member, [], name="Encore likes", replace=first.playlist_id)
    assert not emptied.created and emptied.written == 0
    assert (await sandbox.spotify.playlist(first.playlist_id))["items"] == []


async def test_a_playlist_that_is_gone_or_someone_elses_is_not_written_a_new_one_is(
    sandbox: Sandbox,
) -> None:
    member = await sandbox.user("alice")
    assert (await sandbox.link(member, "alice")).status == 200
    carols = await playlist_named(sandbox, "carol", "Carol's Chill")
    uris = (await liked_uris(sandbox, "alice"))[:3]
    writer = PlaylistWriter(sandbox.services.spotify)

    instead = await writer.write(member, uris, name="Mine", replace=str(carols["id"]))
    assert instead.created and instead.playlist_id != carols["id"]
    assert (await sandbox.spotify.playlist(str(carols["id"])))["items"] == carols["items"]

    missing = await writer.write(member, uris, name="Mine", replace="0" * 22)
    assert (
        missing.created and (await sandbox.spotify.playlist(missing.playlist_id))["items"] == uris
    )


async def test_local_files_are_skipped_and_nothing_is_asked_of_spotify_for_an_empty_list(
    sandbox: Sandbox,
) -> None:
    member = await sandbox.user("alice")
    assert (await sandbox.link(member, "alice")).status == 200
    uris = (await liked_uris(sandbox, "alice"))[:2]
    writer = PlaylistWriter(sandbox.services.spotify)
    written = await writer.write(
        member, [uris[0], "spotify:local:Artist:Album:Song:120", uris[1]], name="With a file"
    )
    assert written.written == 2 and written.skipped == 1
    assert (await sandbox.spotify.playlist(written.playlist_id))["items"] == uris

    await sandbox.spotify.clear_requests()
    empty = await writer.write(member, [], name="Nothing yet")
    assert empty.created and empty.written == 0
    counts = await sandbox.spotify.request_counts(user="alice")
    assert (
        "PUT /v1/playlists/{id}/items" not in counts
        and "POST /v1/playlists/{id}/items" not in counts
    )


async def test_a_link_without_the_playlist_permission_is_told_before_anything_is_made(
    sandbox: Sandbox,
) -> None:
    member = await sandbox.user("alice")
    scopes = "user-read-private user-library-read"
    assert (await sandbox.link(member, "alice", scopes=scopes)).status == 200
    before = len(await sandbox.spotify.user_playlists("alice"))
    with pytest.raises(MissingScope) as refused:
        await PlaylistWriter(sandbox.services.spotify).write(member, [], name="x")
    assert refused.value.missing == ("playlist-modify-private",)
    assert len(await sandbox.spotify.user_playlists("alice")) == before
