"""Likes end to end: /like, /unlike, /likes, privacy, import and the like button."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import discord
from sqlalchemy import func, select, update

from bot.likes import ImportProgress
from bot.ui.digest_poster import DiscordPoster
from bot.ui.likes import like_button
from db.models import Like, SpotifyLink, UserPreferences
from sandbox.harness import Reply, Sandbox
from sandbox.markdown import block, shows

ALL_BUT_LIBRARY_WRITE = (
    "user-read-private playlist-read-private playlist-read-collaborative "
    "user-library-read user-read-currently-playing user-modify-playback-state"
)


# -- helpers: what the database and Spotify hold ----------------------------------------------


async def likes_of(sandbox: Sandbox, user: int) -> list[Like]:
    async with sandbox.services.sessions() as session:
        rows = await session.scalars(
            select(Like).where(Like.discord_user_id == user).order_by(Like.liked_at.desc())
        )
        return list(rows.all())


async def like_count(sandbox: Sandbox, user: int) -> int:
    async with sandbox.services.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Like).where(Like.discord_user_id == user)
        )
        return int(count or 0)


async def linked(sandbox: Sandbox, name: str, spotify_user: str | None = None) -> int:
    user: int = await sandbox.user(name)
    outcome = await sandbox.link(user, spotify_user or name)
    assert outcome.status == 200, outcome.page
    return user


async def linked_with_scopes(sandbox: Sandbox, name: str, scopes: str) -> int:
    """Link through the real flow, but consent to `scopes` only (Spotify grants what is asked)."""
    user: int = await sandbox.user(name)
    outcome = await sandbox.link(user, name, scopes=scopes)
    assert outcome.status == 200, outcome.page
    return user


async def sample_tracks(sandbox: Sandbox) -> list[str]:
    return list((await sandbox.spotify.catalog())["sample_tracks"])


async def playing(sandbox: Sandbox, spotify_user: str) -> str:
    users = {u["id"]: u for u in await sandbox.spotify.users()}
    return str(users[spotify_user]["playing"])


async def post_with_like_button(sandbox: Sandbox, item_id: str, *, kind: str = "track") -> int:
    """A message the bot posts in the server's channel with a like button, as search or a
    digest would; returns its id."""
    view = discord.ui.View(timeout=None)
    view.add_item(like_button(item_id, kind=kind))
    channel = sandbox.bot.get_partial_messageable(sandbox.channel_id)
    message = await channel.send("A track worth a listen", view=view)
    return int(message.id)


async def shown(sandbox: Sandbox, reply: Reply) -> tuple[str, dict[str, Any]]:
    """What the user sees now in answer to a deferred command, and its record."""
    record = await sandbox.discord.interaction(reply.record["id"])
    messages = record.get("followups") or [record.get("original") or {}]
    return str(messages[-1].get("content") or ""), record


async def finished(sandbox: Sandbox, reply: Reply, *, timeout: float = 30.0) -> dict[str, Any]:
    """The record of a deferred command once its answer stopped saying "in progress…"."""
    deadline = time.monotonic() + timeout
    while True:
        content, record = await shown(sandbox, reply)
        if (content and not content.endswith("…")) or time.monotonic() > deadline:
            return record | {"content": content}
        await asyncio.sleep(0.05)


# -- /like ------------------------------------------------------------------------------------


async def test_like_without_a_track_likes_what_is_playing_and_saves_it_to_spotify(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    now_playing = await playing(sandbox, "alice")

    reply = await sandbox.slash(alice, "like")

    assert reply.ephemeral
    assert reply.text.startswith("Liked ") and "saved it to your Spotify library" in reply.text
    [like] = await likes_of(sandbox, alice)
    assert like.track_id == now_playing and like.saved_to_spotify
    assert like.track_name and like.artist_names and like.album_name and like.url
    assert shows(reply.seen, like.track_name)
    assert (await sandbox.spotify.library("alice"))[0] == now_playing


async def test_like_without_a_track_when_nothing_plays_says_so_and_stores_nothing(
    sandbox: Sandbox,
) -> None:
    bob = await linked(sandbox, "bob")

    reply = await sandbox.slash(bob, "like")

    assert reply.ephemeral
    assert "Nothing is playing on your Spotify right now" in reply.text
    assert await like_count(sandbox, bob) == 0


async def test_liking_twice_is_one_like(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    track = (await sample_tracks(sandbox))[1]

    await sandbox.slash(alice, "like", {"track": track})
    again = await sandbox.slash(alice, "like", {"track": track})

    assert "already in your likes" in again.text
    assert await like_count(sandbox, alice) == 1
    assert (await sandbox.spotify.library("alice")).count(track) == 1


async def test_a_link_a_uri_or_free_text_each_like_the_track_they_name(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    first, second = (await sample_tracks(sandbox))[:2]

    by_url = await sandbox.slash(
        alice, "like", {"track": f"https://open.spotify.com/intl-de/track/{first}?si=abc"}
    )
    by_uri = await sandbox.slash(alice, "like", {"track": f"spotify:track:{second}"})
    assert by_url.text.startswith("Liked ") and by_uri.text.startswith("Liked ")
    liked = {like.track_id: like for like in await likes_of(sandbox, alice)}
    assert set(liked) == {first, second}

    # Free text: the top search result, and the reply says which track that was.
    name = liked[first].track_name
    await sandbox.slash(alice, "unlike", {"track": first})
    by_text = await sandbox.slash(alice, "like", {"track": name})
    assert "top match for" in by_text.text and shows(by_text.seen, name)
    top = (await likes_of(sandbox, alice))[0]
    assert name.lower() in f"{top.track_name} {top.artist_names}".lower()
    assert shows(by_text.seen, top.track_name)


async def test_text_spotify_cannot_find_is_answered_and_nothing_is_stored(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")

    reply = await sandbox.slash(alice, "like", {"track": "zzqxj no such song zzqxj"})

    assert reply.ephemeral and "found no track" in reply.text
    assert await like_count(sandbox, alice) == 0


async def test_an_unlinked_user_is_told_to_link(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")

    reply = await sandbox.slash(carol, "like", {"track": (await sample_tracks(sandbox))[0]})

    assert reply.ephemeral and "/link" in reply.text
    assert await like_count(sandbox, carol) == 0


async def test_without_library_permission_the_like_is_kept_in_encore_and_the_user_told(
    sandbox: Sandbox,
) -> None:
    alice = await linked_with_scopes(sandbox, "alice", ALL_BUT_LIBRARY_WRITE)
    track = (await sample_tracks(sandbox))[2]
    library_before = await sandbox.spotify.library("alice")

    reply = await sandbox.slash(alice, "like", {"track": track})

    assert reply.text.startswith("Liked ")
    assert "not saved to your Spotify library" in reply.text and "/link" in reply.text
    [like] = await likes_of(sandbox, alice)
    assert like.track_id == track and not like.saved_to_spotify
    assert await sandbox.spotify.library("alice") == library_before
    assert await sandbox.spotify.requests(path="/v1/me/library") == []  # not even tried


async def test_a_like_made_without_permission_is_saved_once_it_is_granted(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    track = (await sample_tracks(sandbox))[2]
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            update(SpotifyLink)
            .where(SpotifyLink.discord_user_id == alice)
            .values(scopes=ALL_BUT_LIBRARY_WRITE)
        )
    await sandbox.slash(alice, "like", {"track": track})
    assert track not in await sandbox.spotify.library("alice")

    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            update(SpotifyLink)
            .where(SpotifyLink.discord_user_id == alice)
            .values(scopes=ALL_BUT_LIBRARY_WRITE + " user-library-modify")
        )
    again = await sandbox.slash(alice, "like", {"track": track})

    assert "already in your likes" in again.text
    assert "saved to your Spotify library now" in again.text
    assert track in await sandbox.spotify.library("alice")
    [like] = await likes_of(sandbox, alice)
    assert like.saved_to_spotify


async def test_when_spotify_refuses_the_save_the_like_is_kept_and_the_user_told(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    track = (await sample_tracks(sandbox))[0]
    await sandbox.spotify.add_fault("^/v1/me/library$", method="PUT", status=429, retry_after=20)

    reply = await sandbox.slash(alice, "like", {"track": track})

    assert reply.text.startswith("Liked ") and "not saved to Spotify" in reply.text
    assert "20 s" in reply.text
    [like] = await likes_of(sandbox, alice)
    assert not like.saved_to_spotify


# -- autocomplete -----------------------------------------------------------------------------


async def test_autocomplete_searches_spotify_at_most_once_per_distinct_prefix(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    await sandbox.spotify.clear_requests()

    typed = ["mo", "mo", " MO ", "moo", "moo", "moon", "Moon"]
    answers = [
        await sandbox.autocomplete(alice, "like", "track", {"track": text}) for text in typed
    ]

    searches = await sandbox.spotify.requests(path="/v1/search")
    assert len(searches) == 3  # "mo", "moo", "moon"
    assert all(entry["user"] == "app" for entry in searches)
    assert all(answer.kind == 8 and not answer.late for answer in answers)
    moon = answers[-1].choices
    assert 0 < len(moon) <= 10
    assert all("moon" in choice["name"].lower() for choice in moon)
    assert all(len(choice["value"]) == 22 for choice in moon)  # a track id


async def test_a_suggestion_chosen_from_autocomplete_is_liked_by_its_id(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    suggestion = (await sandbox.autocomplete(alice, "like", "track", {"track": "moon"})).choices[0]

    reply = await sandbox.slash(alice, "like", {"track": suggestion["value"]})

    assert reply.text.startswith("Liked ") and "top match" not in reply.text
    [like] = await likes_of(sandbox, alice)
    assert like.track_id == suggestion["value"]


async def test_autocomplete_answers_in_time_when_spotify_is_slow(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    await sandbox.spotify.add_fault("^/v1/search$", delay=4.0, times=1)

    slow = await sandbox.autocomplete(alice, "like", "track", {"track": "night"})

    assert slow.kind == 8 and not slow.late
    assert slow.choices == []


async def test_autocomplete_for_one_letter_offers_recent_likes_without_searching(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    track = (await sample_tracks(sandbox))[0]
    await sandbox.slash(alice, "like", {"track": track})
    await sandbox.spotify.clear_requests()

    answer = await sandbox.autocomplete(alice, "like", "track", {"track": "x"})

    assert [choice["value"] for choice in answer.choices] == [track]
    assert await sandbox.spotify.requests(path="/v1/search") == []


# -- /unlike ----------------------------------------------------------------------------------


async def test_unlike_removes_the_like_in_encore_and_from_the_spotify_library(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    keep, drop = (await sample_tracks(sandbox))[:2]
    for track in (keep, drop):
        await sandbox.slash(alice, "like", {"track": track})
    assert drop in await sandbox.spotify.library("alice")

    reply = await sandbox.slash(alice, "unlike", {"track": drop})

    assert reply.ephemeral and "from your likes and from your Spotify library" in reply.text
    assert [like.track_id for like in await likes_of(sandbox, alice)] == [keep]
    library = await sandbox.spotify.library("alice")
    assert drop not in library and keep in library


async def test_unlike_autocomplete_offers_only_the_users_own_likes_matching_the_text(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    bob = await linked(sandbox, "bob")
    first, second, third = (await sample_tracks(sandbox))[:3]
    await sandbox.slash(alice, "like", {"track": first})
    await sandbox.slash(alice, "like", {"track": second})
    await sandbox.slash(bob, "like", {"track": third})
    await sandbox.spotify.clear_requests()
    name = (await likes_of(sandbox, alice))[-1].track_name  # the first one she liked

    everything = await sandbox.autocomplete(alice, "unlike", "track", {"track": ""})
    narrowed = await sandbox.autocomplete(alice, "unlike", "track", {"track": name[:4].upper()})

    assert [c["value"] for c in everything.choices] == [second, first]  # newest first
    assert first in [c["value"] for c in narrowed.choices]
    assert third not in [c["value"] for c in narrowed.choices]
    assert await sandbox.spotify.requests(path="/v1/") == []


async def test_unlike_of_a_track_not_in_the_likes_says_so(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")

    reply = await sandbox.slash(alice, "unlike", {"track": (await sample_tracks(sandbox))[0]})

    assert reply.ephemeral and "not in your likes" in reply.text


async def test_unlike_after_unlinking_still_removes_the_like_in_encore(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    track = (await sample_tracks(sandbox))[0]
    await sandbox.slash(alice, "like", {"track": track})
    await sandbox.slash(alice, "unlink")

    reply = await sandbox.slash(alice, "unlike", {"track": track})

    assert "Removed" in reply.text
    assert await like_count(sandbox, alice) == 0


# -- /likes and privacy -----------------------------------------------------------------------


async def test_likes_with_none_yet_says_so(sandbox: Sandbox) -> None:
    bob = await linked(sandbox, "bob")

    reply = await sandbox.slash(bob, "likes")

    assert reply.ephemeral and "no likes yet" in reply.text and "/like" in reply.text


async def test_likes_lists_newest_first_ten_a_page(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    imported = await sandbox.slash(alice, "likes-import")
    await finished(sandbox, imported)
    newest_first = [like.track_name for like in await likes_of(sandbox, alice)]
    assert len(newest_first) == 300

    first = await sandbox.slash(alice, "likes")

    assert first.ephemeral
    [embed] = first.embeds
    assert embed["title"] == "Your likes (300)"
    assert embed["footer"]["text"].startswith("Page 1 of 30")
    lines = block(embed["description"]).splitlines()
    assert len(lines) == 10
    assert all(shows(line, name) for name, line in zip(newest_first[:10], lines, strict=True))

    second = await sandbox.click(alice, first.button("›")["custom_id"], first.message_id)
    [embed] = second.embeds
    assert embed["footer"]["text"].startswith("Page 2 of 30")
    assert shows(block(embed["description"]).splitlines()[0], newest_first[10])


async def test_a_members_likes_are_private_until_they_make_them_public(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    bob = await linked(sandbox, "bob")
    await sandbox.slash(alice, "like", {"track": (await sample_tracks(sandbox))[0]})
    name = (await likes_of(sandbox, alice))[0].track_name

    hidden = await sandbox.slash(bob, "likes", {"member": alice})
    assert hidden.ephemeral and "keeps their likes private" in hidden.text
    assert not shows(hidden.seen, name)

    made_public = await sandbox.slash(alice, "likes-privacy", {"visibility": "public"})
    assert "public" in made_public.text
    shown = await sandbox.slash(bob, "likes", {"member": alice})
    assert "alice's likes (1)" in shown.text and shows(shown.seen, name)

    await sandbox.slash(alice, "likes-privacy", {"visibility": "private"})
    hidden_again = await sandbox.slash(bob, "likes", {"member": alice})
    assert "keeps their likes private" in hidden_again.text
    async with sandbox.services.sessions() as session:
        preferences = await session.get(UserPreferences, alice)
    assert preferences is not None and preferences.likes_public is False


# -- /likes-import ----------------------------------------------------------------------------


async def test_import_brings_in_2000_liked_songs_once_with_progress_and_spotifys_dates(
    sandbox: Sandbox,
) -> None:
    fan = await linked(sandbox, "fan", "likes2000")
    await sandbox.spotify.clear_requests()

    started = await sandbox.slash(fan, "likes-import")
    record = await finished(sandbox, started)

    assert "Imported 2,000 liked songs" in record["content"]
    assert "2,000 new" in record["content"]
    progress = [str(edit.get("content")) for edit in record["original"]["edits"]]
    assert "Imported 100 of 2,000…" in progress and "Imported 1,900 of 2,000…" in progress
    pages = await sandbox.spotify.requests(path="/v1/me/tracks")
    assert len(pages) == 40
    likes = await likes_of(sandbox, fan)
    assert len(likes) == 2000 and all(like.saved_to_spotify for like in likes)
    spotify_order = await sandbox.spotify.library("likes2000")
    assert [like.track_id for like in likes[:5]] == spotify_order[:5]
    assert likes[0].liked_at - likes[-1].liked_at > dt.timedelta(days=30)  # Spotify's added_at

    again = await finished(sandbox, await sandbox.slash(fan, "likes-import"))
    assert "0 new" in again["content"] and "2,000 were already there" in again["content"]
    assert await like_count(sandbox, fan) == 2000


async def test_import_interrupted_by_a_429_keeps_what_it_read(sandbox: Sandbox) -> None:
    fan = await linked(sandbox, "fan", "likes2000")
    seen: list[ImportProgress] = []

    async def on_page(progress: ImportProgress) -> None:
        seen.append(progress)
        if progress.imported == 300:  # Spotify starts refusing after six pages
            await sandbox.spotify.add_fault("^/v1/me/tracks$", status=429, retry_after=120)

    result = await sandbox.services.likes.import_from_spotify(fan, on_page)

    assert not result.complete and result.read == 300 and result.total == 2000
    assert result.interrupted_by is not None and "2 min" in result.interrupted_by.user_message
    assert await like_count(sandbox, fan) == 300

    await sandbox.spotify.clear_faults()
    finished_later = await sandbox.services.likes.import_from_spotify(fan)
    assert finished_later.complete and finished_later.added == 1700
    assert await like_count(sandbox, fan) == 2000


async def test_import_stopped_by_spotify_tells_the_user_how_far_it_got(sandbox: Sandbox) -> None:
    fan = await linked(sandbox, "fan", "likes2000")
    await sandbox.spotify.add_fault("^/v1/me/tracks$", delay=0.3)  # a slow Spotify...

    started = await sandbox.slash(fan, "likes-import")
    # ...that starts refusing once the user has seen the import make progress.
    while "Imported" not in (await shown(sandbox, started))[0]:
        await asyncio.sleep(0.05)
    await sandbox.spotify.add_fault("^/v1/me/tracks$", status=429, retry_after=30)
    record = await finished(sandbox, started)

    assert record["content"].startswith("The import stopped after ")
    assert "of 2,000" in record["content"] and "/likes-import" in record["content"]
    read = int(record["content"].split("after ")[1].split(" of")[0].replace(",", ""))
    assert 100 <= read < 2000
    assert await like_count(sandbox, fan) == read


async def test_import_without_library_read_permission_asks_to_link_again(
    sandbox: Sandbox,
) -> None:
    alice = await linked_with_scopes(sandbox, "alice", "user-read-private user-library-modify")

    reply = await sandbox.slash(alice, "likes-import")

    assert reply.ephemeral and "/link" in reply.text
    assert await like_count(sandbox, alice) == 0


# -- the like button --------------------------------------------------------------------------


async def test_the_like_button_works_after_a_restart_for_whoever_presses_it(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    bob = await linked(sandbox, "bob")
    track = (await sample_tracks(sandbox))[3]
    message_id = await post_with_like_button(sandbox, track)

    await sandbox.restart_bot()
    pressed = await sandbox.click(bob, f"encore:like:track:{track}", message_id)

    assert pressed.ephemeral and pressed.text.startswith("Liked ")
    assert [like.track_id for like in await likes_of(sandbox, bob)] == [track]
    assert await like_count(sandbox, alice) == 0
    assert track in await sandbox.spotify.library("bob")

    again = await sandbox.click(bob, f"encore:like:track:{track}", message_id)
    assert "already in your likes" in again.text


async def test_the_like_button_tells_an_unlinked_user_to_link(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")
    message_id = await post_with_like_button(sandbox, (await sample_tracks(sandbox))[0])

    pressed = await sandbox.click(
        carol, f"encore:like:track:{(await sample_tracks(sandbox))[0]}", message_id
    )

    assert pressed.ephemeral and "/link" in pressed.text
    assert await like_count(sandbox, carol) == 0


async def test_the_like_button_on_a_release_likes_its_first_track(sandbox: Sandbox) -> None:
    bob = await linked(sandbox, "bob")
    album = (await sandbox.spotify.catalog())["sample_albums"][0]
    album_id = album["id"] if isinstance(album, dict) else str(album)
    message_id = await post_with_like_button(sandbox, album_id, kind="album")

    pressed = await sandbox.click(bob, f"encore:like:album:{album_id}", message_id)

    assert pressed.ephemeral and "the first track of" in pressed.text
    [like] = await likes_of(sandbox, bob)
    assert like.track_id in await sandbox.spotify.library("bob")


# -- /forget-me -------------------------------------------------------------------------------


async def test_forget_me_deletes_the_users_likes_and_preferences_and_nobody_elses(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    bob = await linked(sandbox, "bob")
    track = (await sample_tracks(sandbox))[0]
    for user in (alice, bob):
        await sandbox.slash(user, "like", {"track": track})
        await sandbox.slash(user, "likes-privacy", {"visibility": "public"})

    asked = await sandbox.slash(alice, "forget-me")
    await sandbox.click(alice, asked.button("Delete everything")["custom_id"], asked.message_id)

    assert await like_count(sandbox, alice) == 0
    assert await like_count(sandbox, bob) == 1
    async with sandbox.services.sessions() as session:
        assert await session.get(UserPreferences, alice) is None
        assert await session.get(UserPreferences, bob) is not None


async def test_search_results_carry_a_like_button_for_each_track(sandbox: Sandbox) -> None:
    bob = await linked(sandbox, "bob")
    results = await sandbox.slash(bob, "search", {"query": "moon"})
    first = results.button("1. Like")

    pressed = await sandbox.click(bob, str(first["custom_id"]), results.message_id)

    track_id = str(first["custom_id"]).rsplit(":", 1)[-1]
    assert pressed.ephemeral and pressed.text.startswith("Liked ")
    assert [like.track_id for like in await likes_of(sandbox, bob)] == [track_id]
    assert len([b for b in results.buttons if b.get("label", "").endswith(". Like")]) == 10


async def test_a_digest_post_carries_like_buttons_that_like_a_releases_first_track(
    sandbox: Sandbox,
) -> None:
    bob = await linked(sandbox, "bob")
    await sandbox.services.releases.ingest()
    [newest] = await sandbox.services.releases.recent(limit=1)
    digest = await sandbox.services.digests.build(newest.release_date, "UTC")
    message_id = await DiscordPoster(sandbox.bot).post(sandbox.channel_id, digest)
    post = await sandbox.message(message_id)
    buttons = [b for row in post["components"] for b in row["components"]]
    assert 0 < len(buttons) <= 10
    assert all(str(b["custom_id"]).startswith("encore:like:album:") for b in buttons)

    pressed = await sandbox.click(bob, str(buttons[0]["custom_id"]), message_id)

    assert pressed.ephemeral and "the first track of" in pressed.text
    assert buttons[0]["label"] in pressed.text
    [like] = await likes_of(sandbox, bob)
    assert like.track_id in await sandbox.spotify.library("bob")
