"""Posting digests: what a poster must do (`Poster`; the Discord one is
`bot.ui.digest_poster.DiscordPoster`) and how it fails. A fan-out is kept under Discord's
global rate limit by the budget every process shares (`bot.discord_budget`)."""

from __future__ import annotations

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
