"""Smart shuffle queues: one stored order per user and source (a playlist or liked songs),
dealt a few tracks at a time, reshuffled each cycle and rebuilt when the playlist changes.

- `algorithm`: the order algorithm (pure, over any items and an artist key)
- `order`: orders over tracks: first cycle, next cycle, rebuilt after a change
- `sources`: reading a playlist or liked songs from Spotify
- `queues`: the stored queues in PostgreSQL
- `service`: what the /shuffle commands do
"""

from bot.shuffle.errors import NoShuffleQueue, NothingToShuffle
from bot.shuffle.order import PlaylistChange, first_order, following_order, rebuilt_order
from bot.shuffle.queues import (
    Dealt,
    QueuedTrack,
    QueueProgress,
    ShuffleQueues,
    StoredQueue,
    Upcoming,
)
from bot.shuffle.service import ShuffleService, SourceChoice, StartedQueue
from bot.shuffle.sources import LIKED, LIKED_NAME, SourceContents

__all__ = [
    "LIKED",
    "LIKED_NAME",
    "Dealt",
    "NoShuffleQueue",
    "NothingToShuffle",
    "PlaylistChange",
    "QueueProgress",
    "QueuedTrack",
    "ShuffleQueues",
    "ShuffleService",
    "SourceChoice",
    "SourceContents",
    "StartedQueue",
    "StoredQueue",
    "Upcoming",
    "first_order",
    "following_order",
    "rebuilt_order",
]
