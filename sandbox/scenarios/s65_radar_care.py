"""Looking after a radar: bob blocks an artist he follows on Spotify (a block beats every
source) and lets it back; dave drops the artist he added by hand, and unfollowing one that
Spotify still lists says why it stays."""

from __future__ import annotations

from sandbox.demo import Demo

TITLE = "Release radar: block, unblock and unfollow"


async def run(demo: Demo) -> None:
    sandbox = demo.sandbox
    bob, dave = demo.people["bob"], demo.people["dave"]
    followed = await sandbox.spotify.followed_artists("bob")
    artist = followed[0]

    reply = await demo.command(bob, "radar block", {"artist": artist})
    demo.expect(reply, "bob blocks an artist he follows on Spotify", contains="is blocked")
    reply = await demo.command(bob, "radar list")
    demo.expect(reply, "his radar lists it under Blocked", contains="Blocked (1)")
    reply = await demo.command(bob, "radar unblock", {"artist": artist})
    demo.expect(reply, "bob lets it back", contains="back on your radar")

    reply = await demo.command(bob, "radar unfollow", {"artist": artist})
    demo.expect(
        reply, "unfollowing an artist Spotify still lists says why it stays", contains="stays on"
    )
    reply = await demo.command(dave, "radar unfollow", {"artist": artist})
    demo.expect(reply, "dave drops the artist he added by hand", contains="is off your radar")
