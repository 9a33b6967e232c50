"""Smart shuffle: a queue over one of alice's playlists, dealt, peeked at and played into
her Spotify queue; bob, without Premium, is told why he cannot play."""

from __future__ import annotations

from sandbox.demo import Demo

TITLE = "Smart shuffle"


async def run(demo: Demo) -> None:
    sandbox = demo.sandbox
    alice, bob = demo.people["alice"], demo.people["bob"]

    suggestions = await demo.suggestions(alice, "shuffle start", "source", {"source": "road"})
    names = [str(choice["name"]) for choice in suggestions]
    demo.expect(names == ["Road Trip · 37 tracks"], "autocomplete suggests her playlist")
    everything = await demo.suggestions(alice, "shuffle start", "source", {"source": ""})
    demo.expect(
        everything[:1] == [{"name": "Liked songs", "value": "liked"}],
        "an empty source offers Liked songs first",
    )

    road_trip = str(suggestions[0]["value"])
    reply = await demo.command(alice, "shuffle start", {"source": road_trip})
    demo.expect(reply, "the playlist is shuffled once, artists spread out", contains="37 tracks")
    demo.expect(reply.ephemeral, "only alice sees her queue")

    reply = await demo.command(alice, "shuffle next", {"count": 3})
    opens = [b for b in reply.buttons if "Open in Spotify" in str(b.get("label"))]
    demo.expect(len(opens) == 3, "three tracks, each with an Open in Spotify button")
    demo.expect(reply, "the footer says what comes next", contains="next: track 4 of 37")
    pressed = await demo.click(alice, reply, "Like")
    # The shuffle may deal first a track she liked from the digest: then it says so.
    liked = pressed.text.lower()
    demo.expect(
        pressed.message is not None and ("liked" in liked or "already in your likes" in liked),
        "a shuffled track's Like button likes it",
    )

    reply = await demo.command(alice, "shuffle peek", {"count": 3})
    demo.expect(reply, "peek shows tracks 4 to 6 without moving", contains="not moved")

    reply = await demo.command(alice, "shuffle status")
    demo.expect(reply, "status: source, position, total, cycle", contains="Played: 3 of 37")

    queued_before = await sandbox.spotify.queue("alice")
    reply = await demo.command(alice, "shuffle play", {"count": 2})
    demo.expect(reply, "two tracks go to her Spotify queue", contains="Added 2 tracks")
    queued = (await sandbox.spotify.queue("alice"))[len(queued_before) :]
    music = sandbox.spotify_emulator.catalog.music
    queued_names = [music.track_name[music.track_index[uri.rsplit(":", 1)[-1]]] for uri in queued]
    demo.show("Spotify", "shows alice's playback queue", text="\n".join(queued_names) or "(empty)")
    demo.expect(len(queued) == 2, "Spotify's queue received exactly those two")

    reply = await demo.command(alice, "shuffle start", {"source": road_trip})
    demo.expect(reply, "starting again resumes", contains="Resuming **Road Trip** at track 6")

    await demo.command(bob, "shuffle start", {"source": "Bob's Mix"})
    reply = await demo.command(bob, "shuffle play")
    demo.expect(reply, "bob, without Premium, is told why", contains="needs Spotify Premium")
    demo.expect(reply, "and that his queue did not move", contains="did not move")

    reply = await demo.command(bob, "shuffle stop")
    demo.expect(reply, "/shuffle stop deletes his queue", contains="deleted its queue")
    reply = await demo.command(bob, "shuffle status")
    demo.expect(reply, "and then he has none", contains="/shuffle start")
