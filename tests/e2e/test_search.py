"""/search, end to end: app-token search, pages by offset, links, empty and invalid queries."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import pytest

from sandbox.harness import Reply, Sandbox, render

SEARCH = r"^/v1/search"


async def searches(sandbox: Sandbox) -> list[dict[str, Any]]:
    return list(await sandbox.spotify.requests(path=SEARCH))


def positions(reply: Reply) -> list[int]:
    lines = reply.embeds[0]["description"].splitlines()
    return [int(line.split("`")[1]) for line in lines if line.startswith("`")]


def open_links(reply: Reply) -> list[dict[str, Any]]:
    return [b for b in reply.buttons if str(b.get("label", "")).endswith("Open in Spotify")]


async def test_an_unlinked_user_can_search_tracks_with_a_link_to_each(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")  # never linked

    reply = await sandbox.slash(carol, "search", {"query": "ocean"})

    assert reply.ephemeral and not reply.late
    assert reply.embeds[0]["title"] == "Search: ocean"
    assert positions(reply) == list(range(1, 11))
    links = open_links(reply)
    assert [b["label"] for b in links] == [f"{n}. Open in Spotify" for n in range(1, 11)]
    assert all(b["url"].startswith("https://open.spotify.com/track/") for b in links)
    for link in links:  # every track's link is the one in its line
        assert f"]({link['url']})" in reply.embeds[0]["description"]
    [call] = await searches(sandbox)
    assert call["user"] == "app"
    assert call["query"] == {"q": "ocean", "limit": "10", "offset": "0", "type": "track"}


async def test_next_and_previous_page_by_offset_and_a_page_seen_is_not_fetched_again(
    sandbox: Sandbox,
) -> None:
    carol = await sandbox.user("carol")
    first = await sandbox.slash(carol, "search", {"query": "ocean"})
    first_page = first.embeds[0]["description"]

    second = await sandbox.press(carol, first, "›")
    back = await sandbox.press(carol, second, "‹")

    assert positions(second) == list(range(11, 21))
    assert open_links(second)[0]["label"] == "11. Open in Spotify"
    assert back.embeds[0]["description"] == first_page
    assert [c["query"]["offset"] for c in await searches(sandbox)] == ["0", "10"]


async def test_paging_stops_at_spotifys_window_of_1000_results(sandbox: Sandbox) -> None:
    # Spotify answers `offset + limit <= 1000` only (the emulator's search_window=spotify):
    # 100 pages of 10, the last ending at result 1,000.
    carol = await sandbox.user("carol")
    first = await sandbox.slash(carol, "search", {"query": "ocean"})
    assert "(Spotify shows the first 1,000)" in first.text
    assert first.embeds[0]["footer"]["text"] == "Page 1 of 100"

    last = await sandbox.press(carol, first, "»")

    assert last.embeds[0]["footer"]["text"] == "Page 100 of 100"
    assert positions(last) == list(range(991, 1001))
    assert last.button("›").get("disabled")
    assert [c["query"]["offset"] for c in await searches(sandbox)] == ["0", "990"]
    assert all(c["status"] == 200 for c in await searches(sandbox))


async def test_albums_and_artists_can_be_searched_too(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")

    albums = await sandbox.slash(carol, "search", {"query": "ocean", "type": "album"})
    artists = await sandbox.slash(carol, "search", {"query": "ocean", "type": "artist"})

    assert albums.text.splitlines()[1].startswith("Albums 1–10 of ")
    assert all(b["url"].startswith("https://open.spotify.com/album/") for b in open_links(albums))
    assert artists.text.splitlines()[1].startswith("Artists 1–10 of 16")
    assert artists.embeds[0]["footer"]["text"] == "Page 1 of 2"
    assert [c["query"]["type"] for c in await searches(sandbox)] == ["album", "artist"]


async def test_a_search_without_results_says_so(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")

    reply = await sandbox.slash(carol, "search", {"query": "zzqqxx"})

    assert reply.text == "Spotify has no tracks matching “zzqqxx”."
    assert reply.ephemeral and reply.buttons == []


async def test_a_blank_or_overlong_query_is_refused_without_asking_spotify(
    sandbox: Sandbox,
) -> None:
    carol = await sandbox.user("carol")

    blank = await sandbox.slash(carol, "search", {"query": "   "})
    overlong = await sandbox.slash(carol, "search", {"query": "x" * 201})
    longest = await sandbox.slash(carol, "search", {"query": "ocean " + "x" * 194})

    assert blank.text == "Type something to search for." and blank.ephemeral
    assert overlong.text == ("That search is too long: keep it under 200 characters (it has 201).")
    assert longest.text.startswith("Spotify has no tracks matching")
    assert [c["query"]["q"] for c in await searches(sandbox)] == ["ocean " + "x" * 194]


async def test_spotify_busy_is_explained_in_time(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")
    await sandbox.spotify.add_fault(path=SEARCH, status=429, retry_after=30)

    reply = await sandbox.slash(carol, "search", {"query": "ocean"})

    assert reply.text == "Spotify is busy, try again in 30 s."
    assert reply.ephemeral and not reply.late


async def test_only_the_searcher_can_turn_the_pages(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")
    bob = await sandbox.user("bob")
    reply = await sandbox.slash(carol, "search", {"query": "ocean"})

    refused = await sandbox.press(bob, reply, "›")

    assert "These buttons belong to the person who ran the command" in refused.text
    assert refused.ephemeral
    assert [c["query"]["offset"] for c in await searches(sandbox)] == ["0"]


async def test_a_query_with_mentions_and_markdown_pings_nobody(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")

    reply = await sandbox.slash(carol, "search", {"query": "@everyone **loud**"})

    assert reply.message is not None
    assert reply.message["allowed_mentions"] == {"parse": []}
    assert "@\u200beveryone" in reply.text and r"\*\*loud\*\*" in reply.text


async def test_when_the_page_buttons_expire_the_links_and_likes_stay(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules["cogs.search"], "BUTTONS_TIMEOUT", 0.5)
    carol = await sandbox.user("carol")
    reply = await sandbox.slash(carol, "search", {"query": "ocean"})

    deadline = time.monotonic() + 10
    message = await sandbox.message(reply.message_id)
    while "buttons expired" not in render(message) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # polling for the edit, not timing it
        message = await sandbox.message(reply.message_id)

    assert "buttons expired, run the command again" in render(message)
    labels = [
        component.get("label") for row in message["components"] for component in row["components"]
    ]
    assert labels == [f"{n}. Open in Spotify" for n in range(1, 11)] + [
        f"{n}. Like" for n in range(1, 11)
    ]
