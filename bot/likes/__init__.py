"""Likes: tracks a user likes through Encore, saved to their Spotify library when allowed.

- `results`: what the service answers, and the errors users meet
- `search_cache`: autocomplete's track search, cached and time-boxed
- `service`: liking, unliking, the list and its privacy, the import
"""

from bot.likes.results import (
    ImportProgress,
    ImportResult,
    LikedTrack,
    LikeResult,
    LikesPage,
    LikesPrivate,
    NothingPlaying,
    NotInLikes,
    ProgressReport,
    UnlikeResult,
)
from bot.likes.search_cache import TrackSearchCache, normalise
from bot.likes.service import READ_SCOPE, SAVE_SCOPE, LikeService

__all__ = [
    "READ_SCOPE",
    "SAVE_SCOPE",
    "ImportProgress",
    "ImportResult",
    "LikeResult",
    "LikeService",
    "LikedTrack",
    "LikesPage",
    "LikesPrivate",
    "NotInLikes",
    "NothingPlaying",
    "ProgressReport",
    "TrackSearchCache",
    "UnlikeResult",
    "normalise",
]
