"""Faults a test can switch on: Discord doing the work and losing the answer.

``lose_responses(count, channel_id=None, dms=False)`` makes the next ``count`` message
creates (in that channel, or in DMs, or anywhere) create the message and then answer
``502 Bad Gateway`` with Cloudflare's HTML page, as Discord's edge does when the origin's
answer is lost. discord.py retries a 502 (``discord/http.py``: 500/502/504/524 are retried
after ``1 + 2 * tries`` s, up to 5 tries); without ``enforce_nonce`` the retry posts a
second message, with it Discord returns the first one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import JSON, Channel


@dataclass
class LostResponses:
    remaining: int
    channel_id: int | None = None
    dms: bool = False

    def matches(self, ch: Channel) -> bool:
        if self.channel_id is not None:
            return ch.id == self.channel_id
        if self.dms:
            return ch.is_bot_dm
        return True


class Faults:
    def __init__(self) -> None:
        self.lost: list[LostResponses] = []

    def reset(self) -> None:
        self.lost.clear()

    def lose_responses(self, count: int, channel_id: int | None = None, dms: bool = False) -> None:
        self.lost.append(LostResponses(remaining=count, channel_id=channel_id, dms=dms))

    def take_lost_response(self, ch: Channel) -> bool:
        """Whether this message create's answer is lost (using up one of the fault's count)."""
        for fault in self.lost:
            if fault.remaining > 0 and fault.matches(ch):
                fault.remaining -= 1
                return True
        return False

    def view(self) -> list[JSON]:
        return [
            {
                "kind": "lost_response",
                "remaining": f.remaining,
                "channel_id": str(f.channel_id) if f.channel_id else None,
                "dms": f.dms,
            }
            for f in self.lost
        ]
