"""/playlists and /playlist, end to end: pages, Spotify calls, caching, errors, safety."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import FrozenClock
from sandbox.harness import Reply, Sandbox, render

LIST_CALLS = r"^/v1/me/playlists"


async def linked(sandbox: Sandbox, spotify_user: str, discord_name: str | None = None) -> int:
    user: int = await sandbox.user(discord_name or f"{spotify_user}-discord")
    outcome = await sandbox.link(user, spotify_user)
    assert outcome.status == 200, outcome.page
    return user


async def calls(sandbox: Sandbox, path: str = LIST_CALLS) -> list[dict[str, Any]]:
    return list(await sandbox.spotify.requests(path=path))


def entries(reply: Reply) -> list[str]:
    """The playlist names listed on the page shown."""
    description = reply.embeds[0]["description"]
    return re.findall(r"^\*\*\[(.+?)\]\(", description, flags=re.MULTILINE)


def footer(reply: Reply) -> str:
    return str(reply.embeds[0]["footer"]["text"])


async def alice_playlist(sandbox: Sandbox, name: str) -> dict[str, Any]:
    catalog = await sandbox.spotify.catalog()
    playlists = catalog["users"]["alice"]["playlists"]
    return next(p for p in playlists if p["name"] == name)


async def test_a_user_without_playlists_is_told_so_privately(sandbox: Sandbox) -> None:
    user = await linked(sandbox, "p0")

    reply = await sandbox.slash(user, "playlists")

    assert "You have no playlists on Spotify yet" in reply.text
    assert reply.ephemeral and not reply.late
    assert reply.buttons == []
    assert len(await calls(sandbox)) == 1


@pytest.mark.parametrize(
    ("spotify_user", "pages", "last_page_size", "spotify_calls"),
    [("p1", 1, 1, 1), ("p49", 5, 9, 1), ("p50", 5, 10, 1), ("p51", 6, 1, 2)],
)
async def test_playlists_are_paged_ten_at_a_time_from_spotify_pages_of_fifty(
    sandbox: Sandbox, spotify_user: str, pages: int, last_page_size: int, spotify_calls: int
) -> None:
    user = await linked(sandbox, spotify_user)

    first = await sandbox.slash(user, "playlists")

    assert first.ephemeral and not first.late
    assert footer(first) == f"Page 1 of {pages}"
    assert len(entries(first)) == min(10, (pages - 1) * 10 + last_page_size)
    if pages == 1:
        assert first.buttons == []  # nothing to page through
    else:
        last = await sandbox.press(user, first, "»")
        assert footer(last) == f"Page {pages} of {pages}"
        assert len(entries(last)) == last_page_size
        assert last.button("›")["disabled"] and not last.button("‹").get("disabled")
    assert len(await calls(sandbox)) == spotify_calls


async def test_237_playlists_take_five_calls_and_a_second_look_within_a_minute_none(
    sandbox: Sandbox,
) -> None:
    user = await linked(sandbox, "p237")

    first = await sandbox.slash(user, "playlists")
    assert [c["query"]["offset"] for c in await calls(sandbox)] == ["0", "50", "100", "150", "200"]
    assert first.embeds[0]["title"] == "Your 237 playlists"
    assert footer(first) == "Page 1 of 24"

    again = await sandbox.slash(user, "playlists")
    last = await sandbox.press(user, again, "»")

    assert footer(last) == "Page 24 of 24" and len(entries(last)) == 7
    assert len(await calls(sandbox)) == 5


@pytest.fixture
async def frozen_sandbox(clean_database: str) -> AsyncIterator[tuple[Sandbox, FrozenClock]]:
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    async with Sandbox(clean_database, clock=clock) as running:
        yield running, clock


async def test_the_cached_list_is_fetched_again_after_a_minute(
    frozen_sandbox: tuple[Sandbox, FrozenClock],
) -> None:
    sandbox, clock = frozen_sandbox
    user = await linked(sandbox, "p51")
    await sandbox.slash(user, "playlists")

    clock.advance(seconds=59)
    await sandbox.slash(user, "playlists")
    assert len(await calls(sandbox)) == 2

    clock.advance(seconds=2)
    await sandbox.slash(user, "playlists")
    assert len(await calls(sandbox)) == 4


async def test_each_playlist_shows_its_link_owner_track_count_and_collaboration(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice", "alice")
    road_trip = await alice_playlist(sandbox, "Road Trip")

    reply = await sandbox.slash(alice, "playlists")

    lines = reply.embeds[0]["description"].splitlines()
    assert entries(reply)[:4] == ["Empty", "One Hit", "Fifty", "Fifty-One"]
    at = lines.index(f"**[Road Trip](https://open.spotify.com/playlist/{road_trip['id']})**")
    assert lines[at + 1] == "by Alice · 37 tracks · collaborative"
    assert "by Carol · 120 tracks · collaborative" in lines
    assert "by Alice · 1 track" in lines and "by Alice · 0 tracks" in lines


async def test_only_the_person_who_ran_it_can_turn_the_pages(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice", "alice")
    bob = await sandbox.user("bob")
    reply = await sandbox.slash(alice, "playlists")

    refused = await sandbox.press(bob, reply, "›")

    assert "These buttons belong to the person who ran the command" in refused.text
    assert refused.ephemeral
    shown = await sandbox.message(reply.message_id)
    assert "(Page 1 of 2)" in render(shown)

    turned = await sandbox.press(alice, reply, "›")
    assert footer(turned) == "Page 2 of 2"
    assert entries(turned) == ["Workout", "Late Night"]


async def test_page_buttons_stop_after_a_while_and_the_message_says_so(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules["cogs.playlists"], "BUTTONS_TIMEOUT", 0.5)
    alice = await linked(sandbox, "alice", "alice")
    reply = await sandbox.slash(alice, "playlists")
    assert reply.buttons

    deadline = time.monotonic() + 10
    message = await sandbox.message(reply.message_id)
    while "buttons expired" not in render(message) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # polling for the edit, not timing it
        message = await sandbox.message(reply.message_id)

    assert "buttons expired, run the command again" in render(message)
    assert not message.get("components")


async def test_an_expired_token_is_refreshed_once_and_the_call_retried_once(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice", "alice")
    await sandbox.spotify.clear_requests()
    assert await sandbox.spotify.expire_tokens("alice") >= 1

    reply = await sandbox.slash(alice, "playlists")

    assert reply.embeds[0]["title"] == "Your 12 playlists"
    assert [c["status"] for c in await calls(sandbox)] == [401, 200]
    refreshes = [
        c for c in await calls(sandbox, "^/api/token") if c.get("grant_type") == "refresh_token"
    ]
    assert len(refreshes) == 1


async def test_spotify_busy_is_explained_in_time(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice", "alice")
    await sandbox.spotify.add_fault(path=LIST_CALLS, status=429, retry_after=30)

    reply = await sandbox.slash(alice, "playlists")

    assert reply.text == "Spotify is busy, try again in 30 s."
    assert reply.ephemeral and not reply.late


async def test_an_unlinked_user_is_told_to_link(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")

    reply = await sandbox.slash(carol, "playlists")

    assert "/link" in reply.text and reply.ephemeral
    assert await calls(sandbox) == []


async def test_autocomplete_fills_from_spotify_once_then_answers_from_the_cache(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice", "alice")
    fifty = await alice_playlist(sandbox, "Fifty")

    first = await sandbox.autocomplete(alice, "playlist", "name", {"name": ""})
    fi = await sandbox.autocomplete(alice, "playlist", "name", {"name": "fi"})
    fifty_one = await sandbox.autocomplete(alice, "playlist", "name", {"name": "Fifty-"})
    nothing = await sandbox.autocomplete(alice, "playlist", "name", {"name": "polka"})

    assert len(first.choices) == 12
    assert fi.choices == [
        {"name": "Fifty · 50 tracks", "value": fifty["id"]},
        {
            "name": "Fifty-One · 51 tracks",
            "value": (await alice_playlist(sandbox, "Fifty-One"))["id"],
        },
    ]
    assert [c["name"] for c in fifty_one.choices] == ["Fifty-One · 51 tracks"]
    assert nothing.choices == []
    assert len(await calls(sandbox)) == 1

    chosen = await sandbox.slash(alice, "playlist", {"name": fifty["id"]})
    assert chosen.embeds[0]["title"] == "Fifty"
    assert len(await calls(sandbox)) == 1  # the choice's id was found in the cache


async def test_autocomplete_for_an_unlinked_user_suggests_nothing(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")

    reply = await sandbox.autocomplete(carol, "playlist", "name", {"name": "ro"})

    assert reply.kind == 8 and reply.choices == []


async def test_a_playlist_is_shown_twelve_tracks_a_page_fetched_fifty_at_a_time(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice", "alice")
    thousand = await alice_playlist(sandbox, "Thousand")
    items = f"^/v1/playlists/{thousand['id']}/items"

    first = await sandbox.slash(alice, "playlist", {"name": thousand["id"]})
    assert first.embeds[0]["url"] == f"https://open.spotify.com/playlist/{thousand['id']}"
    assert footer(first) == "Page 1 of 84"
    assert "by Alice · 1,000 tracks" in first.text
    assert first.text.count("](https://open.spotify.com/track/") == 12

    page_2 = await sandbox.press(alice, first, "›")
    page_5 = first
    for _ in range(3):
        page_5 = await sandbox.press(alice, first, "›")
    last = await sandbox.press(alice, first, "»")

    assert "`  13`" in page_2.text and "`  24`" in page_2.text
    assert "`  49`" in page_5.text and "`  60`" in page_5.text  # spans two Spotify pages
    assert "` 997`" in last.text and "`1000`" in last.text and "`1001`" not in last.text
    offsets = [c["query"]["offset"] for c in await calls(sandbox, items)]
    assert offsets == ["0", "50", "950"]


async def test_a_playlist_can_be_given_by_name_or_link(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice", "alice")
    late_night = await alice_playlist(sandbox, "Late Night")

    by_name = await sandbox.slash(alice, "playlist", {"name": "road trip"})
    by_url = await sandbox.slash(
        alice, "playlist", {"name": f"https://open.spotify.com/playlist/{late_night['id']}?si=x"}
    )
    by_uri = await sandbox.slash(
        alice, "playlist", {"name": f"spotify:playlist:{late_night['id']}"}
    )

    assert by_name.embeds[0]["title"] == "Road Trip"
    assert "by Alice · 37 tracks · collaborative" in by_name.text
    assert by_url.embeds[0]["title"] == by_uri.embeds[0]["title"] == "Late Night"
    assert footer(by_url) == "Page 1 of 2"


async def test_an_unknown_or_ambiguous_name_is_explained(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice", "alice")

    unknown = await sandbox.slash(alice, "playlist", {"name": "Polka Party"})
    ambiguous = await sandbox.slash(alice, "playlist", {"name": "fifty"})  # exact name wins
    several = await sandbox.slash(alice, "playlist", {"name": "carol"})

    assert "None of your playlists has that name" in unknown.text and unknown.ephemeral
    assert ambiguous.embeds[0]["title"] == "Fifty"
    assert "2 of your playlists match that name" in several.text


async def test_a_playlist_spotify_will_not_let_us_read_is_explained(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice", "alice")
    daves_picks = await alice_playlist(sandbox, "Dave's Picks")  # followed, not hers

    reply = await sandbox.slash(alice, "playlist", {"name": daves_picks["id"]})

    assert reply.text == (
        "Spotify does not let Encore read that playlist: only playlists you own or "
        "collaborate on can be read."
    )
    assert reply.ephemeral and not reply.late
    statuses = [c["status"] for c in await calls(sandbox, f"/playlists/{daves_picks['id']}/items")]
    assert statuses == [403]


async def test_a_collaborative_playlist_of_someone_else_can_be_read(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice", "alice")

    reply = await sandbox.slash(alice, "playlist", {"name": "Shared with Carol"})

    assert reply.embeds[0]["title"] == "Shared with Carol"
    assert footer(reply) == "Page 1 of 10"


async def test_names_with_mentions_and_markdown_ping_nobody_and_show_as_typed(
    sandbox: Sandbox,
) -> None:
    await sandbox.spotify.create_playlist(
        "p0", "@everyone **FREE** [nitro](https://x.y) <@&1>", tracks=2
    )
    user = await linked(sandbox, "p0")

    listing = await sandbox.slash(user, "playlists")
    shown = await sandbox.slash(user, "playlist", {"name": "@everyone"})

    for reply in (listing, shown):
        assert reply.message is not None
        assert reply.message["allowed_mentions"] == {"parse": []}
        assert "@\u200beveryone" in reply.text and "@everyone" not in reply.text
        assert r"\*\*FREE\*\*" in reply.text
    link_text = "@\u200beveryone " + r"\*\*FREE\*\* \[nitro\](https://x.y) \<@&1>"
    assert f"**[{link_text}](https://open.spotify.com/playlist/" in listing.text
    # What a member reads: the name exactly as typed, a link to the playlist, no ping.
    assert "@everyone **FREE** [nitro](https://x.y) <@&1>" in listing.seen


async def test_two_commands_at_once_share_one_round_of_spotify_calls(sandbox: Sandbox) -> None:
    user = await linked(sandbox, "p237")

    first, second = await asyncio.gather(
        sandbox.slash(user, "playlists"),
        sandbox.autocomplete(user, "playlist", "name", {"name": "#23"}),
    )

    assert footer(first) == "Page 1 of 24"
    names = [choice["name"] for choice in second.choices]
    assert len(names) == 9 and all("#23" in name for name in names)  # #23, #230 ... #237
    assert len(await calls(sandbox)) == 5


async def test_after_unlink_the_cached_playlists_are_not_shown(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice", "alice")
    await sandbox.slash(alice, "playlists")

    await sandbox.slash(alice, "unlink")
    reply = await sandbox.slash(alice, "playlists")
    suggestions = await sandbox.autocomplete(alice, "playlist", "name", {"name": ""})

    assert "/link" in reply.text and "Your 12 playlists" not in reply.text
    assert suggestions.choices == []


async def test_a_slow_spotify_leaves_autocomplete_empty_in_time_and_the_fill_finishes_later(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice", "alice")
    await sandbox.spotify.add_fault(path=LIST_CALLS, delay=2.5, times=1)

    slow = await sandbox.autocomplete(alice, "playlist", "name", {"name": "road"})

    assert slow.kind == 8 and slow.choices == [] and not slow.late
    deadline = time.monotonic() + 10
    later = slow
    while not later.choices and time.monotonic() < deadline:
        # Each keystroke joins the fill under way (or reads its result), never starts one.
        later = await sandbox.autocomplete(alice, "playlist", "name", {"name": "road"})
    assert [c["name"] for c in later.choices] == ["Road Trip · 37 tracks"]
    assert len(await calls(sandbox)) == 1
