"""Likes: like what plays or what autocomplete finds, list them, share them, import them,
and a like button pressed by someone else."""

from __future__ import annotations

from sandbox.demo import Demo

TITLE = "Likes"


async def run(demo: Demo) -> None:
    alice, bob = demo.people["alice"], demo.people["bob"]

    reply = await demo.command(alice, "like")
    demo.expect(reply, "/like with no track likes what alice is playing", contains="Liked")
    demo.expect(
        reply, "...and saves it to her Spotify library", contains="saved it to your Spotify library"
    )

    reply = await demo.command(bob, "like")
    demo.expect(reply, "bob is playing nothing, and is told so", contains="Nothing is playing")

    suggestions = await demo.suggestions(alice, "like", "track", {"track": "moon"})
    demo.expect(bool(suggestions), "autocomplete suggests tracks from Spotify as she types")
    if suggestions:
        reply = await demo.command(alice, "like", {"track": suggestions[0]["value"]})
        demo.expect(reply, "the chosen suggestion is liked", contains="Liked")

    reply = await demo.command(alice, "likes")
    demo.expect(reply, "/likes lists her likes, newest first", contains="Your likes")

    reply = await demo.command(bob, "likes", {"member": alice})
    demo.expect(reply, "bob cannot see alice's likes while they are private", contains="private")

    reply = await demo.command(alice, "likes-privacy", {"visibility": "public"})
    demo.expect(reply, "alice makes her likes public", contains="public")

    reply = await demo.command(bob, "likes", {"member": alice})
    demo.expect(reply, "now bob sees them", contains="alice's likes")

    reply = await demo.command(alice, "likes-import")
    done = await demo.finished("alice", reply)
    demo.expect(done, "alice imports her Spotify liked songs", contains="liked songs from Spotify")

    results = await demo.command(bob, "search", {"query": "moon"})
    demo.expect(results, "bob's search results carry a like button each", contains="1. Like")
    if results.buttons and any(b.get("label") == "1. Like" for b in results.buttons):
        pressed = await demo.click(bob, results, "1. Like")
        demo.expect(pressed, "pressing it likes the track for bob", contains="Liked")

    suggestions = await demo.suggestions(bob, "unlike", "track", {"track": ""})
    demo.expect(bool(suggestions), "/unlike suggests bob's own likes as he types")
    if suggestions:
        reply = await demo.command(bob, "unlike", {"track": suggestions[0]["value"]})
        demo.expect(
            reply, "/unlike removes it in Encore and from his Spotify library", contains="Removed"
        )
