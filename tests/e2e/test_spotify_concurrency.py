"""One slow Spotify endpoint cannot starve the others: an endpoint holds at most half of the
pool's threads, so /search answers while a slow endpoint's calls are still pending."""

from __future__ import annotations

import asyncio
from typing import Any

from sandbox.harness import Sandbox

SLOW = 6.0  # the emulator holds every /me/playlists answer this long (under SPOTIFY_TIMEOUT)


async def held(sandbox: Sandbox, path: str) -> int:
    return sum(1 for entry in await sandbox.spotify.requests(path=path) if entry["status"] is None)


async def test_a_slow_endpoint_holds_half_the_pool_and_search_still_answers(
    sandbox: Sandbox,
) -> None:
    alice, bob = await sandbox.user("alice"), await sandbox.user("bob")
    assert (await sandbox.link(alice, "alice")).status == 200
    await sandbox.spotify.add_fault("^/v1/me/playlists", delay=SLOW)
    threads = sandbox.settings.spotify_threads
    spotify = sandbox.services.spotify

    async def playlists() -> Any:
        return await spotify.as_user(alice, lambda sp: sp.current_user_playlists(limit=50))

    slow = [asyncio.create_task(playlists()) for _ in range(threads * 2)]  # more than the pool
    try:
        async with asyncio.timeout(15):
            while await held(sandbox, "^/v1/me/playlists") < threads // 2:
                await asyncio.sleep(0.02)
        reply = await sandbox.slash(bob, "search", {"query": "heart"})
        assert reply.embeds and "Open in Spotify" in reply.text  # answered...
        assert not any(task.done() for task in slow)  # ...while every slow call still waits
        assert await held(sandbox, "^/v1/me/playlists") == threads // 2  # never more at once
    finally:
        for task in slow:
            task.cancel()
        await asyncio.gather(*slow, return_exceptions=True)
