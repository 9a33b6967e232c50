"""What can stop a shuffle, as the user is told it."""

from __future__ import annotations

from bot.errors import EncoreError


class NoShuffleQueue(EncoreError):
    user_message = (
        "You have no shuffle queue yet: start one with `/shuffle start` and pick a playlist "
        "or your liked songs."
    )


class NothingToShuffle(EncoreError):
    """An empty source; the message names it."""
