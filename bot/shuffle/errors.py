"""What can stop a shuffle."""

from __future__ import annotations

from bot.errors import EncoreError
from bot.shuffle.sources import LIKED


class NoShuffleQueue(EncoreError):
    user_message = (
        "You have no shuffle queue yet: start one with `/shuffle start` and pick a playlist "
        "or your liked songs."
    )


class NothingToShuffle(EncoreError):
    """An empty source. Its message quotes the playlist's name, so `bot.ui` renders it
    (`bot.ui.shuffle.nothing_to_shuffle`), where names are made safe to show."""

    user_message = "That source is empty, so there is nothing to shuffle."

    def __init__(self, source: str, name: str, *, removed: bool) -> None:
        super().__init__()
        self.source = source
        self.name = name
        self.removed = removed  # it emptied since its queue was made: the queue is gone
        what = "liked songs" if self.liked else f"playlist {name!r}"
        self.args = (
            f"{what} is empty now; its queue was removed" if removed else f"{what} is empty",
        )

    @property
    def liked(self) -> bool:
        return self.source == LIKED
