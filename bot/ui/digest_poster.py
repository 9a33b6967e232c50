"""Posting digests through discord.py: any logged-in client, the gateway bot or the worker's
REST client (paced below Discord's global rate limit by the shared `bot.discord_budget`)."""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from bot.digests import ChannelUnavailable, Digest, PostFailed, PostRefused
from bot.ui.digest import digest_message

RATE_LIMITED_ATTEMPTS = 4


class DiscordPoster:
    """Posts digests through any logged-in client: the gateway bot or the worker's REST client."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post(self, channel_id: int, digest: Digest, *, nonce: str | None = None) -> int:
        channel = self._client.get_partial_messageable(channel_id)
        attempts = 0
        message_body = digest_message(digest)
        if nonce is not None:
            # discord.py sends `enforce_nonce` with it: its own retry after a 5xx whose
            # message was written anyway gets that message back, not a second post.
            message_body["nonce"] = nonce
        while True:
            try:
                message = await channel.send(**message_body)
            except discord.NotFound as error:
                if error.code == 10008:  # the nonce's message was deleted: a member did that
                    raise PostRefused("the digest posted earlier today was deleted") from None
                raise ChannelUnavailable(_describe(error)) from None
            except discord.Forbidden as error:
                raise ChannelUnavailable(_describe(error)) from None
            except discord.HTTPException as error:
                if error.status == 400:
                    raise PostRefused(refused_fields(error)) from None
                # discord.py gave up on a 429 (a channel's own bucket, or Discord's limit
                # met by something outside Encore): a rate limit means wait, not fail.
                attempts += 1
                if error.status != 429 or attempts == RATE_LIMITED_ATTEMPTS:
                    raise PostFailed(type(error).__name__) from None
                await asyncio.sleep(attempts)
            except (aiohttp.ClientError, TimeoutError) as error:
                raise PostFailed(type(error).__name__) from None
            else:
                return message.id

    async def find_posted(self, channel_id: int, digest: Digest) -> int | None:
        me = self._client.user
        channel = self._client.get_partial_messageable(channel_id)
        try:
            async for message in channel.history(limit=25):
                if me is not None and message.author.id != me.id:
                    continue
                if any(
                    (e.footer.text or "").startswith(digest.marker_prefix) for e in message.embeds
                ):
                    return message.id
        except (discord.Forbidden, discord.NotFound) as error:
            raise ChannelUnavailable(_describe(error)) from None
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
            raise PostFailed(type(error).__name__) from None
        return None


def refused_fields(error: discord.HTTPException) -> str:
    """What Discord refused, from its `errors` tree (discord.py flattens it into `text` as
    `In embeds.0.title: Must be 256 or fewer in length.` lines)."""
    lines = [line.strip() for line in (error.text or "").splitlines() if line.strip()]
    fields = [line[3:] for line in lines if line.startswith("In ")]
    return "; ".join(fields) or f"{error.code}: {lines[0] if lines else error.status}"


def _describe(error: discord.HTTPException) -> str:
    if isinstance(error, discord.NotFound):
        return "the channel no longer exists (404)"
    return "Encore may not post there (403): it needs View Channel, Send Messages and Embed Links"
