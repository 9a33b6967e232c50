"""Playlists and search: browsing your playlists page by page, and searching Spotify."""

from __future__ import annotations

from sandbox.demo import Demo

TITLE = "Playlists and search"


async def run(demo: Demo) -> None:
    sandbox = demo.sandbox
    alice, bob, carol = demo.people["alice"], demo.people["bob"], demo.people["carol"]

    reply = await demo.command(alice, "playlists")
    demo.expect(reply, "/playlists lists alice's 12 playlists, 10 a page", contains="Page 1 of 2")
    demo.expect(reply.ephemeral, "only alice sees her playlists")
    page_2 = await demo.click(alice, reply, "›")
    demo.expect(page_2, "the next page holds the last two", contains="Late Night")

    refused = await demo.click(bob, reply, "‹")
    demo.expect(refused, "bob cannot turn alice's pages", contains="belong to the person")

    names = await demo.autocomplete(alice, "playlist", "name", {"name": "road"})
    demo.expect(names == ["Road Trip · 37 tracks"], "autocomplete suggests from her playlists")
    calls = await sandbox.spotify.requests(path=r"^/v1/me/playlists", user="alice")
    demo.expect(len(calls) == 1, "autocomplete used the cached list: one Spotify call in all")

    # Picking a suggestion sends its value, the playlist's id, as the option: Discord shows
    # the suggestion's name.
    choice = await demo.suggestions(alice, "playlist", "name", {"name": "road"})
    reply = await demo.command(alice, "playlist", {"name": choice[0]["value"]})
    demo.expect(reply, "/playlist shows Road Trip's tracks, 12 a page", contains="Page 1 of 4")
    page_2 = await demo.click(alice, reply, "›")
    demo.expect(page_2, "the next page continues at track 13", contains="`13`")

    reply = await demo.command(alice, "playlist", {"name": "Dave's Picks"})
    demo.expect(
        reply, "a followed playlist Spotify will not let us read is explained", contains="own or"
    )

    reply = await demo.command(alice, "search", {"query": "ocean"})
    demo.expect(reply, "/search shows 10 tracks with links", contains="10. Open in Spotify")

    reply = await demo.command(carol, "search", {"query": "ocean", "type": "album"})
    demo.expect(reply, "carol has not linked Spotify and can still search", contains="Albums 1–10")
    page_2 = await demo.click(carol, reply, "›")
    demo.expect(page_2, "the next page asks Spotify for offset 10", contains="Albums 11–20")

    reply = await demo.command(carol, "search", {"query": "wolf", "type": "artist"})
    demo.expect(reply, "/search type:artist lists artists", contains="Artists 1–10")
    demo.expect(
        any(b.get("url") for b in reply.buttons), "each artist with an Open in Spotify link"
    )

    reply = await demo.command(carol, "search", {"query": "zzqqxx"})
    demo.expect(reply, "an empty result says so", contains="Spotify has no tracks matching")
    reply = await demo.command(carol, "search", {"query": "   "})
    demo.expect(reply, "a blank search is refused kindly", contains="Type something")
