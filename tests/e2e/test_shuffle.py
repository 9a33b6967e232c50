"""/shuffle end to end: the real bot, the Discord and Spotify emulators, real PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import select

from bot.clock import FrozenClock
from db.models import ShuffleQueue
from sandbox.harness import Reply, Sandbox

TRACK_URL = "https://open.spotify.com/track/"


async def linked(sandbox: Sandbox, name: str) -> int:
    user: int = await sandbox.user(name)
    outcome = await sandbox.link(user, name)
    assert outcome.status == 200, outcome.page
    return user


async def playlist_id(sandbox: Sandbox, owner: str, name: str) -> str:
    catalog = await sandbox.spotify.catalog()
    for playlist in catalog["users"][owner]["playlists"]:
        if playlist["name"] == name:
            return str(playlist["id"])
    raise LookupError(name)


async def queues(sandbox: Sandbox, user: int) -> list[ShuffleQueue]:
    async with sandbox.services.sessions() as session:
        found = await session.scalars(
            select(ShuffleQueue)
            .where(ShuffleQueue.discord_user_id == user)
            .order_by(ShuffleQueue.id)
        )
        return list(found)


async def the_queue(sandbox: Sandbox, user: int) -> ShuffleQueue:
    (queue,) = await queues(sandbox, user)
    return queue


def dealt(reply: Reply) -> list[str]:
    """Track ids of the tracks a next/play answer handed out, from their Open buttons."""
    return [
        str(button["url"]).removeprefix(TRACK_URL)
        for button in reply.buttons
        if "Open in Spotify" in str(button.get("label"))
    ]


async def next_tracks(sandbox: Sandbox, user: int, count: int) -> tuple[list[str], Reply]:
    reply = await sandbox.slash(user, "shuffle next", {"count": count})
    return dealt(reply), reply


async def distinct_tracks(sandbox: Sandbox, user: int, playlist: str) -> list[str]:
    """The playlist's distinct track ids, as Spotify lists them now."""
    page: dict[str, Any] = await sandbox.services.spotify.as_user(
        user, lambda sp: sp.playlist_items(playlist, limit=50)
    )
    ids: list[str] = []
    while True:
        # What a queue holds: tracks (no podcast episode, no local file), each once.
        ids += [
            entry["item"]["id"]
            for entry in page["items"]
            if entry.get("item")
            and entry["item"].get("type", "track") == "track"
            and not entry.get("is_local")
            and entry["item"].get("id")
        ]
        if not page.get("next"):
            return list(dict.fromkeys(ids))
        page = await sandbox.services.spotify.as_user(user, lambda sp, shown=page: sp.next(shown))


# -- starting ----------------------------------------------------------------------------


async def test_autocomplete_offers_liked_songs_and_playlists_from_one_spotify_call(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    await sandbox.spotify.clear_requests()

    everything = await sandbox.autocomplete(alice, "shuffle start", "source", {"source": ""})
    for typed in ("r", "ro", "roa", "road"):
        narrowed = await sandbox.autocomplete(alice, "shuffle start", "source", {"source": typed})

    names = [choice["name"] for choice in everything.choices]
    assert names[0] == "Liked songs" and everything.choices[0]["value"] == "liked"
    assert "Road Trip · 37 tracks" in names
    assert "Dave's Picks · 80 tracks · by Dave" in names  # someone else's: says whose
    assert [choice["name"] for choice in narrowed.choices] == ["Road Trip · 37 tracks"]
    assert narrowed.choices[0]["value"] == await playlist_id(sandbox, "alice", "Road Trip")
    assert len(await sandbox.spotify.requests(path="^/v1/me/playlists")) == 1


async def test_start_shuffles_once_and_stores_order_position_cycle_and_snapshot(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    road_trip = await playlist_id(sandbox, "alice", "Road Trip")

    reply = await sandbox.slash(alice, "shuffle start", {"source": road_trip})

    assert reply.ephemeral
    assert "Shuffled **Road Trip**" in reply.text
    queue = await the_queue(sandbox, alice)
    assert (queue.source, queue.source_name, queue.position, queue.cycle) == (
        road_trip,
        "Road Trip",
        0,
        1,
    )
    assert sorted(t["id"] for t in queue.tracks) == sorted(
        await distinct_tracks(sandbox, alice, road_trip)
    )
    catalog = await sandbox.spotify.catalog()
    (info,) = [p for p in catalog["users"]["alice"]["playlists"] if p["id"] == road_trip]
    assert queue.snapshot_id == info["snapshot_id"]


async def test_a_playlist_can_be_started_by_its_name_or_link(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    late_night = await playlist_id(sandbox, "alice", "Late Night")

    by_name = await sandbox.slash(alice, "shuffle start", {"source": "late night"})
    by_link = await sandbox.slash(
        alice, "shuffle start", {"source": f"https://open.spotify.com/playlist/{late_night}"}
    )

    assert "Shuffled **Late Night**" in by_name.text
    assert "Resuming **Late Night** at track 1 of 15" in by_link.text
    assert [q.source for q in await queues(sandbox, alice)] == [late_night]


async def test_starting_again_resumes_where_the_queue_stood(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    workout = await playlist_id(sandbox, "alice", "Workout")
    await sandbox.slash(alice, "shuffle start", {"source": workout})
    for _ in range(2):
        await next_tracks(sandbox, alice, 10)
    await next_tracks(sandbox, alice, 1)

    reply = await sandbox.slash(alice, "shuffle start", {"source": workout})

    total = len(await distinct_tracks(sandbox, alice, workout))
    assert f"Resuming **Workout** at track 22 of {total} (cycle 1)" in reply.text
    assert (await the_queue(sandbox, alice)).position == 21


async def test_next_acts_on_the_queue_used_last(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    late_night = await playlist_id(sandbox, "alice", "Late Night")
    fifty = await playlist_id(sandbox, "alice", "Fifty")
    await sandbox.slash(alice, "shuffle start", {"source": late_night})
    await sandbox.slash(alice, "shuffle start", {"source": fifty})
    await next_tracks(sandbox, alice, 2)
    await sandbox.slash(alice, "shuffle start", {"source": late_night})  # back to it

    ids, reply = await next_tracks(sandbox, alice, 1)

    by_source = {q.source: q for q in await queues(sandbox, alice)}
    assert by_source[late_night].position == 1 and by_source[fifty].position == 2
    assert ids == [by_source[late_night].tracks[0]["id"]]
    assert "Late Night" in reply.text
    status = await sandbox.slash(alice, "shuffle status")
    assert "Source: **Late Night**" in status.text
    assert "**Fifty**: track 3 of" in status.text  # the other queue is kept


# -- dealing ---------------------------------------------------------------------------


async def test_next_gives_the_next_tracks_with_open_and_like_buttons(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Eight", tracks=8)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    order = [t["id"] for t in (await the_queue(sandbox, alice)).tracks]

    ids, reply = await next_tracks(sandbox, alice, 3)

    assert reply.ephemeral
    assert ids == order[:3]
    labels = [button["label"] for button in reply.buttons]
    assert labels == [
        "1. Open in Spotify",
        "Like",
        "2. Open in Spotify",
        "Like",
        "3. Open in Spotify",
        "Like",
    ]
    assert reply.buttons[1]["custom_id"] == f"encore:like:track:{order[0]}"
    assert "next: track 4 of" in reply.text
    assert (await the_queue(sandbox, alice)).position == 3


async def test_peek_shows_what_comes_next_without_moving(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Eight", tracks=8)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    queue = await the_queue(sandbox, alice)
    await next_tracks(sandbox, alice, 2)

    reply = await sandbox.slash(alice, "shuffle peek", {"count": 3})

    for track in queue.tracks[2:5]:
        assert track["name"] in reply.seen
    assert queue.tracks[1]["name"] not in reply.seen
    assert "not moved" in reply.text
    assert (await the_queue(sandbox, alice)).position == 2
    ids, _ = await next_tracks(sandbox, alice, 1)
    assert ids == [queue.tracks[2]["id"]]


async def test_status_says_source_position_total_and_cycle(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Eight", tracks=8)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    await next_tracks(sandbox, alice, 3)
    total = len((await the_queue(sandbox, alice)).tracks)

    reply = await sandbox.slash(alice, "shuffle status")

    assert reply.ephemeral
    assert "Source: **Eight**" in reply.text
    assert f"Played: 3 of {total}" in reply.text
    assert "Cycle: 1" in reply.text
    assert "Next: track 4" in reply.text


async def test_stop_deletes_the_current_queue_only(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    late_night = await playlist_id(sandbox, "alice", "Late Night")
    await sandbox.slash(alice, "shuffle start", {"source": "liked"})
    await sandbox.slash(alice, "shuffle start", {"source": late_night})

    reply = await sandbox.slash(alice, "shuffle stop")

    assert "Stopped shuffling **Late Night**" in reply.text
    assert "now continues your liked songs" in reply.text
    assert [q.source for q in await queues(sandbox, alice)] == ["liked"]
    await sandbox.slash(alice, "shuffle stop")
    assert await queues(sandbox, alice) == []
    nothing = await sandbox.slash(alice, "shuffle next")
    assert "no shuffle queue yet" in nothing.text


async def test_the_queue_survives_a_bot_restart(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Eight", tracks=8)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    order = [t["id"] for t in (await the_queue(sandbox, alice)).tracks]
    first, _ = await next_tracks(sandbox, alice, 2)

    await sandbox.restart_bot()
    after, _ = await next_tracks(sandbox, alice, 2)

    assert first + after == order[:4]
    queue = await the_queue(sandbox, alice)
    assert (queue.position, [t["id"] for t in queue.tracks]) == (4, order)


async def test_two_next_presses_at_once_get_different_tracks(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Eight", tracks=8)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    order = [t["id"] for t in (await the_queue(sandbox, alice)).tracks]

    one, two = await asyncio.gather(
        sandbox.slash(alice, "shuffle next"), sandbox.slash(alice, "shuffle next")
    )

    assert len(dealt(one)) == len(dealt(two)) == 1
    assert sorted(dealt(one) + dealt(two)) == sorted(order[:2])
    assert (await the_queue(sandbox, alice)).position == 2


# -- cycles ----------------------------------------------------------------------------


async def test_every_track_plays_once_a_cycle_and_a_new_cycle_starts_fresh(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Eight", tracks=8)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    tracks = await distinct_tracks(sandbox, alice, playlist["id"])
    n = len(tracks)

    cycle_one: list[str] = []
    answers: list[Reply] = []
    for _ in range(n):
        ids, reply = await next_tracks(sandbox, alice, 1)
        cycle_one += ids
        answers.append(reply)
    cycle_two: list[str] = []
    for _ in range(n):
        ids, _ = await next_tracks(sandbox, alice, 1)
        cycle_two += ids

    assert sorted(cycle_one) == sorted(tracks)
    assert sorted(cycle_two) == sorted(tracks)
    assert all("new" not in a.text and "cycle 2 began" not in a.text for a in answers[:-1])
    assert "That was the end of cycle 1: cycle 2 began" in answers[-1].text
    quarter = max(1, n // 4)
    assert not set(cycle_one[-quarter:]) & set(cycle_two[:quarter])
    queue = await the_queue(sandbox, alice)
    assert (queue.cycle, queue.position) == (3, 0)


async def test_next_across_the_end_of_a_cycle_continues_in_the_new_order(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Twenty", tracks=20)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    n = len((await the_queue(sandbox, alice)).tracks)
    first, _ = await next_tracks(sandbox, alice, 10)
    more, _ = await next_tracks(sandbox, alice, n - 10 - 3)

    ids, reply = await next_tracks(sandbox, alice, 8)

    queue = await the_queue(sandbox, alice)
    assert (queue.cycle, queue.position) == (2, 5)
    cycle_one = first + more + ids[:3]
    new_order = [t["id"] for t in queue.tracks]
    assert sorted(cycle_one) == sorted(new_order)
    assert ids[3:] == new_order[:5]
    assert not set(cycle_one[-(n // 4) :]) & set(new_order[: n // 4])
    assert "cycle 2 begins: a fresh order" in reply.text
    assert "next: track 6 of" in reply.text


async def test_peek_at_the_end_of_a_cycle_says_a_new_one_follows(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Eight", tracks=8)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    n = len((await the_queue(sandbox, alice)).tracks)
    await next_tracks(sandbox, alice, n - 2)

    reply = await sandbox.slash(alice, "shuffle peek", {"count": 5})

    assert "Then cycle 1 ends, and cycle 2 starts with a fresh order" in reply.text


# -- a playlist that changed -------------------------------------------------------------


async def test_a_changed_playlist_mixes_in_new_tracks_without_replaying_played_ones(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Eight", tracks=8)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    before = await distinct_tracks(sandbox, alice, playlist["id"])
    played, _ = await next_tracks(sandbox, alice, 3)

    changed = await sandbox.spotify.add_tracks(playlist["id"], 5)
    resumed = await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})

    after = await distinct_tracks(sandbox, alice, playlist["id"])
    added = set(after) - set(before)
    assert f"{len(added)} new track" in resumed.text
    assert "The 3 tracks you already heard this cycle stay played" in resumed.text
    assert f"Resuming **Eight** at track 4 of {len(after)}" in resumed.text
    queue = await the_queue(sandbox, alice)
    assert queue.snapshot_id == changed["snapshot_id"]
    assert [t["id"] for t in queue.tracks[:3]] == played
    rest, _ = await next_tracks(sandbox, alice, len(after) - 3)
    assert set(rest) == set(after) - set(played)
    assert added <= set(rest)


async def test_next_notices_a_change_only_after_five_minutes(clean_database: str) -> None:
    clock = FrozenClock(dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC))
    async with Sandbox(clean_database, clock=clock) as sandbox:
        alice = await linked(sandbox, "alice")
        playlist = await sandbox.spotify.create_playlist(owner="alice", name="Eight", tracks=8)
        await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
        old_total = len((await the_queue(sandbox, alice)).tracks)
        await sandbox.spotify.add_tracks(playlist["id"], 5)
        await sandbox.spotify.clear_requests()

        clock.advance(minutes=4)
        await next_tracks(sandbox, alice, 1)
        assert await sandbox.spotify.requests(path="^/v1/playlists/") == []
        assert len((await the_queue(sandbox, alice)).tracks) == old_total

        clock.advance(minutes=2)
        ids, reply = await next_tracks(sandbox, alice, 1)

        queue = await the_queue(sandbox, alice)
        assert len(queue.tracks) == len(await distinct_tracks(sandbox, alice, playlist["id"]))
        assert len(queue.tracks) > old_total
        assert queue.position == 2 and ids == [queue.tracks[1]["id"]]
        assert f"next: track 3 of {len(queue.tracks)}" in reply.text


# -- Spotify's playback queue ------------------------------------------------------------


async def test_play_adds_the_next_tracks_to_the_spotify_queue(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Eight", tracks=8)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    order = [t["id"] for t in (await the_queue(sandbox, alice)).tracks]
    queued_before = await sandbox.spotify.queue("alice")

    reply = await sandbox.slash(alice, "shuffle play", {"count": 2})

    assert "Added 2 tracks to your Spotify queue" in reply.text
    assert dealt(reply) == order[:2]
    assert await sandbox.spotify.queue("alice") == [
        *queued_before,
        f"spotify:track:{order[0]}",
        f"spotify:track:{order[1]}",
    ]
    assert (await the_queue(sandbox, alice)).position == 2


async def test_play_without_premium_says_so_and_does_not_move(sandbox: Sandbox) -> None:
    bob = await linked(sandbox, "bob")
    await sandbox.slash(bob, "shuffle start", {"source": "Bob's Mix"})

    reply = await sandbox.slash(bob, "shuffle play", {"count": 3})

    assert reply.ephemeral
    assert "needs Spotify Premium" in reply.text
    assert "Your shuffle queue did not move" in reply.text
    assert (await the_queue(sandbox, bob)).position == 0
    assert await sandbox.spotify.queue("bob") == []


async def test_play_without_an_active_device_says_so_and_does_not_move(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    await sandbox.slash(alice, "shuffle start", {"source": "Late Night"})
    await next_tracks(sandbox, alice, 2)
    await sandbox.spotify.update_user("alice", active_device=False)

    reply = await sandbox.slash(alice, "shuffle play", {"count": 2})

    assert "no active device" in reply.text
    assert "Your shuffle queue did not move" in reply.text
    assert (await the_queue(sandbox, alice)).position == 2


# -- sources that cannot be shuffled -----------------------------------------------------


async def test_a_playlist_spotify_will_not_let_us_read_is_explained(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    daves = await playlist_id(sandbox, "alice", "Dave's Picks")

    reply = await sandbox.slash(alice, "shuffle start", {"source": daves})

    assert reply.ephemeral
    assert "Spotify does not let Encore read that playlist" in reply.text
    assert await queues(sandbox, alice) == []


async def test_an_empty_playlist_is_explained(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")

    reply = await sandbox.slash(alice, "shuffle start", {"source": "Empty"})

    assert "“Empty” is empty, so there is nothing to shuffle" in reply.text
    assert await queues(sandbox, alice) == []


async def test_no_liked_songs_is_explained(sandbox: Sandbox) -> None:
    bob = await linked(sandbox, "bob")

    reply = await sandbox.slash(bob, "shuffle start", {"source": "liked"})

    assert "You have no liked songs on Spotify yet" in reply.text
    assert await queues(sandbox, bob) == []


async def test_liked_songs_can_be_shuffled(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")

    reply = await sandbox.slash(alice, "shuffle start", {"source": "liked"})
    ids, _ = await next_tracks(sandbox, alice, 5)

    library = await sandbox.spotify.library("alice")
    assert "Shuffled your liked songs: 300 tracks" in reply.text
    queue = await the_queue(sandbox, alice)
    assert (queue.source, queue.source_name) == ("liked", "Liked songs")
    assert sorted(t["id"] for t in queue.tracks) == sorted(library)
    assert set(ids) <= set(library) and len(set(ids)) == 5
    # Every page of GET /me/tracks was read (300 songs, 50 a page).
    assert len(await sandbox.spotify.requests(path="^/v1/me/tracks")) >= 6


async def test_liked_songs_changed_on_spotify_are_picked_up_on_resume(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    await sandbox.slash(alice, "shuffle start", {"source": "liked"})
    played, _ = await next_tracks(sandbox, alice, 4)
    library = await sandbox.spotify.library("alice")
    catalog = await sandbox.spotify.catalog()
    new = next(t for t in catalog["sample_tracks"] if t not in library)
    await sandbox.services.spotify.as_user(
        alice,
        lambda sp: (
            sp.current_user_saved_tracks_add([new]),
            sp.current_user_saved_tracks_delete([played[0]]),
        ),
    )

    reply = await sandbox.slash(alice, "shuffle start", {"source": "liked"})

    assert "1 new track mixed in, 1 removed track dropped" in reply.text
    assert "Resuming your liked songs at track 4 of 300" in reply.text
    queue = await the_queue(sandbox, alice)
    assert [t["id"] for t in queue.tracks[:3]] == played[1:]
    assert new in [t["id"] for t in queue.tracks[3:]]


async def test_commands_need_a_linked_account(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")

    for name, options in (("shuffle start", {"source": "liked"}), ("shuffle next", {})):
        reply = await sandbox.slash(carol, name, options)
        assert reply.ephemeral
        assert "You have not linked a Spotify account yet" in reply.text


async def test_a_batch_larger_than_a_short_playlist_never_points_past_its_end(
    sandbox: Sandbox,
) -> None:
    """`/shuffle play count:4` and `next count:10` on a 3-track playlist: each batch goes into
    the next cycle at most, never past its end, and the footer names a track that exists."""
    alice = await linked(sandbox, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Three", tracks=3)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    n = len((await the_queue(sandbox, alice)).tracks)
    assert n == 3

    await next_tracks(sandbox, alice, 2)  # track 3 of cycle 1 is next
    reply = await sandbox.slash(alice, "shuffle play", {"count": 4})

    queue = await the_queue(sandbox, alice)
    assert queue.cycle == 2 and 0 <= queue.position < n
    assert f"next: track {queue.position + 1} of {n} (cycle 2)" in reply.text
    played = dealt(reply)
    assert len(played) == 1 + queue.position
    assert f"{len(played)} of the 4 asked for" in reply.seen
    assert len(await sandbox.spotify.queue("alice")) >= len(played)

    for _ in range(3):
        ids, reply = await next_tracks(sandbox, alice, 10)
        queue = await the_queue(sandbox, alice)
        assert 0 <= queue.position < n, reply.text
        assert f"next: track {queue.position + 1} of {n} (cycle {queue.cycle})" in reply.text
        assert 0 < len(ids) <= 2 * n - 1
