"""Why a digest post carries Encore's own nonce: Discord can write the message and lose the
answer (a 502 from its edge), and whoever sends again then posts twice, unless the post
carries a nonce with `enforce_nonce`, the same on every attempt.

discord.py retries a 502 itself (up to 5 tries) and gives each `send` call a random nonce, so
its own retries of one call are covered. After it gives up, Encore's digest service tries
again later with a new call: only a nonce that is the same on every attempt (the digest
run's, `digest_nonce`) makes that retry find the first message instead of posting again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest

from bot.digests import Digest, PostFailed, digest_nonce
from bot.ui.digest import digest_message
from bot.ui.digest_poster import DiscordPoster
from sandbox.harness import Sandbox

GIVES_UP = 5  # discord.py sends a request 5 times on 502s before it raises


async def todays_digest(sandbox: Sandbox) -> Digest:
    await sandbox.services.releases.ingest()
    [newest] = await sandbox.services.releases.recent(limit=1)
    digest: Digest = await sandbox.services.digests.build(newest.release_date, "UTC")
    return digest


async def new_channel(sandbox: Sandbox, name: str) -> int:
    created = await sandbox.discord.create_channel(sandbox.guild_id, name)
    return int(created["id"])


async def posted_in(sandbox: Sandbox, channel_id: int) -> list[dict[str, Any]]:
    return [
        m for m in await sandbox.discord.messages(channel_id=channel_id) if m["kind"] == "channel"
    ]


async def test_a_digest_sent_without_a_nonce_is_posted_twice_when_the_answer_is_lost(
    sandbox: Sandbox,
) -> None:
    """The fault is real: discord.py's HTTP client retries the 502 and, with no nonce in the
    body, Discord creates the message a second time."""
    digest = await todays_digest(sandbox)
    channel = await new_channel(sandbox, "no-nonce")
    await sandbox.discord.lose_responses(1, channel_id=channel)

    with discord.http.handle_message_parameters(**digest_message(digest)) as params:
        await sandbox.bot.http.send_message(channel, params=params)

    posts = await posted_in(sandbox, channel)
    assert len(posts) == 2
    assert posts[0]["embeds"] == posts[1]["embeds"]


async def test_encores_nonce_makes_the_retry_after_discord_py_gives_up_post_once(
    sandbox: Sandbox,
) -> None:
    """Every answer is lost until discord.py gives up; the service's next attempt is a new
    call. Without Encore's nonce it posts a second digest; with it (and `enforce_nonce`)
    Discord hands back the message the first attempt created."""
    digest = await todays_digest(sandbox)
    poster = DiscordPoster(sandbox.bot)
    without, with_nonce = await new_channel(sandbox, "plain"), await new_channel(sandbox, "nonce")
    nonces = {without: None, with_nonce: digest_nonce(4242)}
    for channel in nonces:
        await sandbox.discord.lose_responses(GIVES_UP, channel_id=channel)

    async def post_until_it_arrives(channel: int) -> list[int]:
        answers: list[int] = []
        with pytest.raises(PostFailed):  # the message is written; the answers are lost
            await poster.post(channel, digest, nonce=nonces[channel])
        answers.append(await poster.post(channel, digest, nonce=nonces[channel]))
        return answers

    plain_answers, nonce_answers = await asyncio.gather(
        post_until_it_arrives(without), post_until_it_arrives(with_nonce)
    )

    assert len(await posted_in(sandbox, without)) == 2  # a duplicate digest
    [posted] = await posted_in(sandbox, with_nonce)  # once
    assert nonce_answers == [int(posted["id"])]  # the retry got the first message back
    lost = [r for r in await sandbox.discord.requests() if r.get("fault") == "lost_response"]
    assert len(lost) == 2 * GIVES_UP
    assert plain_answers  # both retries were answered
