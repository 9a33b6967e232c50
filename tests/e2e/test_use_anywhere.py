"""Personal commands anywhere (user install), server commands in servers only, and the
message commands over the Spotify links of a message."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from sandbox.control import ControlError
from sandbox.harness import Reply, Sandbox

PERSONAL = {
    "link",
    "account",
    "unlink",
    "forget-me",
    "np",
    "recent",
    "top",
    "search",
    "like",
    "unlike",
    "likes",
    "likes-privacy",
    "likes-import",
    "likes-export",
    "playlists",
    "playlist",
    "shuffle",
    "releases",
}
MESSAGE_COMMANDS = {"Like on Spotify", "Add to my queue", "Save to a playlist"}


async def linked(sandbox: Sandbox, name: str, spotify_user: str | None = None) -> int:
    user = await sandbox.user(name)
    assert (await sandbox.link(user, spotify_user or name)).status == 200
    return user


async def finished(sandbox: Sandbox, reply: Reply, *, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        record = await sandbox.discord.interaction(reply.record["id"])
        messages = record.get("followups") or [record.get("original") or {}]
        content = str(messages[-1].get("content") or "")
        if (content and not content.endswith("…")) or time.monotonic() > deadline:
            return content
        await asyncio.sleep(0.05)


async def test_every_synced_command_says_where_it_works_and_for_which_install(
    sandbox: Sandbox,
) -> None:
    synced: list[dict[str, Any]] = (await sandbox.discord.commands())["global"]
    by_name = {command["name"]: command for command in synced}

    for command in synced:
        assert command.get("contexts"), command["name"]
        assert command.get("integration_types"), command["name"]
    assert PERSONAL | MESSAGE_COMMANDS | {"digest"} <= set(by_name)
    for name in PERSONAL | MESSAGE_COMMANDS:
        assert sorted(by_name[name]["contexts"]) == [0, 1, 2], name
        assert sorted(by_name[name]["integration_types"]) == [0, 1], name
    for name in MESSAGE_COMMANDS:
        assert by_name[name]["type"] == 3
    assert by_name["digest"]["contexts"] == [0]
    assert by_name["digest"]["integration_types"] == [0]


async def test_a_user_install_answers_in_a_dm_with_someone_else_privately(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    friend = await sandbox.user("friend")
    await sandbox.discord.update_user(alice, installed_app=True)
    dm = await sandbox.discord.create_private_channel([alice, friend])

    injected = await sandbox.discord.command("np", alice, channel_id=dm["id"])
    now = await sandbox.reply(injected["id"])

    assert now.record["context"] == 2
    assert now.ephemeral and now.embeds[0]["title"] == "Now playing"
    # A server command is not offered there at all.
    with pytest.raises(ControlError) as refused:
        await sandbox.discord.command("digest", alice, channel_id=dm["id"])
    assert "not offered in a private channel" in str(refused.value)


async def test_personal_commands_answer_in_a_server_without_the_bot(sandbox: Sandbox) -> None:
    dave = await linked(sandbox, "dave")
    await sandbox.discord.update_user(dave, installed_app=True)
    elsewhere = await sandbox.discord.create_guild("No bot here", bot_member=False)

    recent = await sandbox.slash(
        dave,
        "recent",
        guild_id=int(elsewhere["id"]),
        channel_id=int(elsewhere["channels"][0]["id"]),
    )

    assert recent.ephemeral and recent.embeds[0]["title"] == "Recently played (1)"
    assert recent.record["context"] == 0


async def test_in_the_bot_dm_personal_commands_work_without_a_user_install(
    sandbox: Sandbox,
) -> None:
    carol = await linked(sandbox, "carol")
    answer = await sandbox.slash(carol, "np", dm=True)
    assert "Nothing is playing" in answer.text


# -- message commands -----------------------------------------------------------------------


async def links_message(sandbox: Sandbox, author: int) -> tuple[int, dict[str, Any]]:
    """A message holding every kind of Spotify link: a track URL with a locale, an album
    URI, one of alice's playlists, a playlist she may not read, and the track again."""
    catalog = await sandbox.spotify.catalog()
    track = catalog["sample_tracks"][2]
    album = catalog["sample_albums"][1]
    playlists = {p["name"]: p for p in await sandbox.spotify.user_playlists("alice")}
    mine, closed = playlists["One Hit"], playlists["Dave's Picks"]
    content = (
        f"check https://open.spotify.com/intl-de/track/{track}?si=abc and spotify:album:{album}"
        f"\nmy list: <https://open.spotify.com/playlist/{mine['id']}> and dave's "
        f"spotify:playlist:{closed['id']} (same song: spotify:track:{track})"
    )
    message_id = await sandbox.post(author, content)
    album_tracks = await album_track_uris(sandbox, album)
    return message_id, {
        "track": f"spotify:track:{track}",
        "album": f"spotify:album:{album}",
        "album_tracks": album_tracks,
        "mine": mine,
        "closed": closed,
    }


async def album_track_uris(sandbox: Sandbox, album: str) -> list[str]:
    found: dict[str, Any] = await sandbox.services.spotify.as_app(lambda sp: sp.album(album))
    return [f"spotify:track:{t['id']}" for t in found["tracks"]["items"]]


async def test_like_on_spotify_likes_each_track_and_saves_albums_and_playlists(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    message_id, links = await links_message(sandbox, alice)
    await sandbox.spotify.clear_requests()

    answer = await sandbox.message_command(alice, "Like on Spotify", message_id)
    text = await finished(sandbox, answer)

    assert (
        "saved it to your Spotify library" in text
        and "Saved 1 album and 2 playlists to your Spotify library" in text
    )
    assert links["track"].removeprefix("spotify:track:") in await sandbox.spotify.library("alice")
    saved = await sandbox.spotify.requests(path="/v1/me/library", user="alice")
    uris = {uri for request in saved for uri in request["query"]["uris"].split(",")}
    assert {links["album"], f"spotify:playlist:{links['mine']['id']}"} <= uris


async def test_like_on_spotify_without_library_permission_keeps_the_likes_and_says_why(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    scopes = "user-read-private playlist-read-private user-library-read"
    assert (await sandbox.link(alice, "alice", scopes=scopes)).status == 200
    message_id, _ = await links_message(sandbox, alice)

    text = await finished(
        sandbox, await sandbox.message_command(alice, "Like on Spotify", message_id)
    )

    assert "Liked" in text and "not saved to your Spotify library" in text
    assert (
        "The 1 album and 2 playlists could not be saved" in text and "`user-library-modify`" in text
    )
    assert await sandbox.spotify.requests(path="/v1/me/library", user="alice") == []


async def test_add_to_my_queue_queues_every_track_the_links_name(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    message_id, links = await links_message(sandbox, alice)

    answer = await sandbox.message_command(alice, "Add to my queue", message_id)
    text = await finished(sandbox, answer)

    expected = [links["track"], *links["album_tracks"], *links["mine"]["items"]]
    expected = list(dict.fromkeys(expected))
    assert await sandbox.spotify.queue("alice") == expected
    assert f"Added {len(expected)} of {len(expected)} tracks" in text
    assert "1 playlist(s) could not be read" in text and answer.ephemeral


async def test_save_to_a_playlist_appends_to_one_saved_playlist(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    message_id, links = await links_message(sandbox, alice)
    expected = list(
        dict.fromkeys([links["track"], *links["album_tracks"], *links["mine"]["items"]])
    )

    picker = await sandbox.message_command(alice, "Save to a playlist", message_id)
    assert "Where should the" in picker.text and "could not be read" in picker.text
    assert picker.options[0] == "Saved from Discord"
    first = await finished(sandbox, await sandbox.choose(alice, picker, "default"))
    other = await sandbox.post(
        alice,
        f"and https://open.spotify.com/track/{(await sandbox.spotify.catalog())['sample_tracks'][3]}",
    )
    picker = await sandbox.message_command(alice, "Save to a playlist", other)
    second = await finished(sandbox, await sandbox.choose(alice, picker, "Saved from Discord"))

    assert "new private playlist" in first and "could not be read" in first
    assert "Saved 1 track to your playlist" in second
    [made] = [
        p
        for p in await sandbox.spotify.user_playlists("alice")
        if p["name"] == "Saved from Discord"
    ]
    assert made["items"][: len(expected)] == expected and len(made["items"]) == len(expected) + 1


async def test_save_to_a_playlist_offers_the_default_first_then_only_the_members_own(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    track = (await sandbox.spotify.catalog())["sample_tracks"][4]
    message_id = await sandbox.post(alice, f"spotify:track:{track}")
    listed = await sandbox.spotify.user_playlists("alice")
    own = [p["name"] for p in listed if p["owner"] == "alice"]
    others = [p["name"] for p in listed if p["owner"] != "alice"]
    assert own and others

    picker = await sandbox.message_command(alice, "Save to a playlist", message_id)

    assert picker.ephemeral and picker.options == ["Saved from Discord", *own][:25]
    assert not set(others) & set(picker.options[1:])
    road_trip = next(p for p in listed if p["name"] == "Road Trip")
    before = len(road_trip["items"])
    done = await finished(sandbox, await sandbox.choose(alice, picker, "Road Trip"))

    assert "Saved 1 track to your playlist" in done and "Road Trip" in done
    after = next(
        p for p in await sandbox.spotify.user_playlists("alice") if p["id"] == road_trip["id"]
    )
    assert after["items"] == [*road_trip["items"], f"spotify:track:{track}"][: before + 1]
    assert len(after["items"]) == before + 1
    assert "Saved from Discord" not in [
        p["name"] for p in await sandbox.spotify.user_playlists("alice")
    ]


async def test_the_picker_of_a_member_with_300_messy_playlists_fits_in_one_select(
    sandbox: Sandbox,
) -> None:
    hoarder = await linked(sandbox, "hoarder")
    track = (await sandbox.spotify.catalog())["sample_tracks"][4]
    message_id = await sandbox.post(hoarder, f"spotify:track:{track}")
    listed = await sandbox.spotify.user_playlists("hoarder")
    assert len(listed) >= 300

    picker = await sandbox.message_command(hoarder, "Save to a playlist", message_id)

    options = picker.select["options"]
    assert len(options) == 25 and options[0]["label"] == "Saved from Discord"
    assert all(1 <= len(o["label"]) <= 100 and "\n" not in o["label"] for o in options)
    assert len({o["value"] for o in options}) == 25
    # (the conftest fails the test if Discord would have refused the picker)


async def test_a_playlist_deleted_before_it_is_picked_is_explained_and_nothing_is_made(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    track = (await sandbox.spotify.catalog())["sample_tracks"][4]
    message_id = await sandbox.post(alice, f"spotify:track:{track}")
    picker = await sandbox.message_command(alice, "Save to a playlist", message_id)
    fifty = next(p for p in await sandbox.spotify.user_playlists("alice") if p["name"] == "Fifty")
    # Deleted on Spotify meanwhile: Spotify answers 404 for it from now on.
    await sandbox.spotify.add_fault(path=f"^/v1/playlists/{fifty['id']}$", status=404, method="GET")

    done = await finished(sandbox, await sandbox.choose(alice, picker, "Fifty"))

    assert "gone from Spotify or is no longer yours" in done
    after = {p["name"]: p for p in await sandbox.spotify.user_playlists("alice")}
    assert "Saved from Discord" not in after and after["Fifty"]["items"] == fifty["items"]


async def test_a_message_without_spotify_links_says_so(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    message_id = await sandbox.post(
        alice, "https://open.spotify.com/artist/0000000000000000000000 lol"
    )
    for name in MESSAGE_COMMANDS:
        answer = await sandbox.message_command(alice, name, message_id)
        assert "no Spotify track, album or playlist links" in answer.text and answer.ephemeral


async def test_a_message_command_in_a_dm_between_two_people_through_a_user_install(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    friend = await sandbox.user("friend")
    await sandbox.discord.update_user(alice, installed_app=True)
    dm = await sandbox.discord.create_private_channel([alice, friend])
    track = (await sandbox.spotify.catalog())["sample_tracks"][2]
    message_id = await sandbox.post(friend, f"try spotify:track:{track}", channel_id=int(dm["id"]))

    answer = await sandbox.message_command(alice, "Add to my queue", message_id)

    assert answer.record["context"] == 2 and answer.ephemeral
    assert "to your Spotify queue" in await finished(sandbox, answer)
    assert await sandbox.spotify.queue("alice") == [f"spotify:track:{track}"]
