"""Posting digests: what a poster must do (`Poster`; the Discord one is
`bot.ui.digest_poster.DiscordPoster`), how it fails, and the pacing that keeps a fan-out
under Discord's global rate limit."""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.digests.digest import Digest


class ChannelUnavailable(Exception):
    """Discord answered 403 or 404 for the channel: retrying soon would only add invalid requests."""


class PostFailed(Exception):
    """Anything else (5xx, a timeout): worth retrying in a few minutes."""


class PostRefused(Exception):
    """Discord refused the message itself (400, `50035` Invalid Form Body): a bug in how
    Encore built it, not an outage. The same digest would be refused again: not retried.
    `fields` names what Discord refused (`embeds.0.fields.1.name: Must be 256 or fewer...`)."""

    def __init__(self, fields: str) -> None:
        super().__init__(fields)
        self.fields = fields


def digest_nonce(run_id: int) -> str:
    """The nonce of a digest run's post: the same on every attempt (a retry after a lost
    answer, a recovery by another worker), so Discord creates the message once."""
    return f"dg{run_id}"


class Poster(Protocol):
    async def post(self, channel_id: int, digest: Digest, *, nonce: str | None = None) -> int:
        """Post the digest (with `nonce` and `enforce_nonce` when given); the message's id."""
        ...

    async def find_posted(self, channel_id: int, digest: Digest) -> int | None:
        """The id of this digest if it is among the channel's recent messages."""
        ...

    def share_with(self, posters: int) -> None:
        """`posters` workers are fanning out now: take only this one's share of the rate."""
        ...


class Pacer:
    """Spaces requests evenly at `per_second` for every task of this process.

    discord.py has no pre-emptive global limit: a fan-out to thousands of channels must pace
    itself below Discord's 50 requests/s or it collects 429s (and, at scale, a ban).
    """

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = 0.0

    @property
    def per_second(self) -> float:
        return 1.0 / self._interval

    @per_second.setter
    def per_second(self, value: float) -> None:
        self._interval = 1.0 / value

    async def wait(self) -> None:
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)
