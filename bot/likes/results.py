"""What the likes service answers: a user's liked tracks, what a like or an unlike did, an
import's progress and outcome, and the errors a user can meet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.errors import EncoreError
from bot.music import Track
from db.models import Like


class NothingPlaying(EncoreError):
    user_message = "Nothing is playing on your Spotify right now. Name a track: `/like track:...`."


class NotInLikes(EncoreError):
    user_message = "That track is not in your likes. `/likes` shows what is."


class LikesPrivate(EncoreError):
    user_message = (
        "That member keeps their likes private. They can share them with "
        "`/likes-privacy visibility:public`."
    )


@dataclass(frozen=True)
class LikedTrack:
    """One row of a user's likes, shown without asking Spotify."""

    id: str
    name: str
    artist_names: str
    album: str | None
    url: str | None
    liked_at: dt.datetime

    @classmethod
    def from_row(cls, row: Like) -> LikedTrack:
        return cls(
            row.track_id, row.track_name, row.artist_names, row.album_name, row.url, row.liked_at
        )


@dataclass(frozen=True)
class LikeResult:
    """What happened when a user liked a track, on Encore's side and on Spotify's."""

    track: Track
    already_liked: bool
    saved_to_spotify: bool
    saved_just_now: bool = False  # this like (or a retry of it) saved it on Spotify
    scope_missing: bool = False  # the user did not let Encore change their library
    spotify_error: EncoreError | None = None  # Spotify refused or failed the save
    searched_for: str | None = None  # free text the track was found by
    album_name: str | None = None  # liked from an album: its first track was liked


@dataclass(frozen=True)
class UnlikeResult:
    track: LikedTrack
    removed_from_spotify: bool
    scope_missing: bool = False
    spotify_error: EncoreError | None = None


@dataclass(frozen=True)
class LikesPage:
    total: int
    tracks: list[LikedTrack]


@dataclass(frozen=True)
class ImportProgress:
    imported: int  # liked songs read from Spotify so far
    total: int  # liked songs Spotify says the user has


@dataclass(frozen=True)
class ImportResult:
    read: int  # liked songs read from Spotify
    total: int
    added: int  # of those, new to Encore
    interrupted_by: EncoreError | None = None  # Spotify stopped answering part-way

    @property
    def complete(self) -> bool:
        return self.interrupted_by is None


ProgressReport = Callable[[ImportProgress], Awaitable[None]]
