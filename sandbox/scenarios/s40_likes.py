"""Likes: like what plays or what autocomplete finds, list them, share them, import them,
and a like button pressed by someone else."""

from __future__ import annotations

import asyncio
import time

from sandbox.demo import Demo
from sandbox.harness import Reply

TITLE = "Likes"


async def _final_text(demo: Demo, reply: Reply, *, timeout: float = 30.0) -> str:
    """A long command's answer once it stopped reporting progress ("…")."""
    deadline = time.monotonic() + timeout
    while True:
        record = await demo.sandbox.discord.interaction(reply.record["id"])
        messages = record.get("followups") or [record.get("original") or {}]
        text = str(messages[-1].get("content") or "")
        if (text and not text.endswith("…")) or time.monotonic() > deadline:
            return text
        await asyncio.sleep(0.05)


async def run(demo: Demo) -> None:
    sandbox = demo.sandbox
    alice, bob = demo.people["alice"], demo.people["bob"]

    reply = await demo.command(alice, "like")
    demo.expect(reply, "/like with no track likes what alice is playing", contains="Liked")
    demo.expect(
        reply, "...and saves it to her Spotify library", contains="saved it to your Spotify library"
    )

    reply = await demo.command(bob, "like")
    demo.expect(reply, "bob is playing nothing, and is told so", contains="Nothing is playing")

    typed = "moon"
    suggestions = (await sandbox.autocomplete(alice, "like", "track", {"track": typed})).choices
    demo.show(
        "alice",
        f"types /like track:{typed}…",
        text="suggestions: " + ("; ".join(str(c["name"]) for c in suggestions[:5]) or "(none)"),
    )
    demo.expect(bool(suggestions), "autocomplete suggests tracks from Spotify as she types")
    if suggestions:
        choice = suggestions[0]
        reply = await sandbox.slash(alice, "like", {"track": choice["value"]})
        demo.show("alice", f"picks “{choice['name']}”", reply)
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
    text = await _final_text(demo, reply)
    demo.show("Encore", "finishes the import (the message counted up while it ran)", text=text)
    demo.expect(text, "alice imports her Spotify liked songs", contains="liked songs from Spotify")

    results = await demo.command(bob, "search", {"query": "moon"})
    demo.expect(results, "bob's search results carry a like button each", contains="1. Like")
    if results.buttons and any(b.get("label") == "1. Like" for b in results.buttons):
        pressed = await demo.click(bob, results, "1. Like")
        demo.expect(pressed, "pressing it likes the track for bob", contains="Liked")
