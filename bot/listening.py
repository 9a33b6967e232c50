"""What a member listens to: now playing, recently played, top artists and tracks, adding
to their playback queue, and the tracks behind links people post (message commands).

Each read is one Spotify call (these endpoints give at most 50 items, and Spotify forgets
plays older than the last 50): nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.errors import (
    BadInput,
    EncoreError,
    MissingScope,
    NoActiveDevice,
    NotFound,
    PlaylistNotReadable,
    PremiumRequired,
)
from bot.likes import LikeResult, LikeService
from bot.music import ArtistRef, Track
from bot.spotify import PAGE_SIZE, SpotifyForbidden, SpotifyGateway, SpotifyRef
from bot.spotify.webapi import WebAPI

PLAYBACK_SCOPE = "user-read-playback-state"  # /me/player: device, private session
PLAYING_SCOPE = "user-read-currently-playing"  # older links: currently-playing only
RECENT_SCOPE = "user-read-recently-played"
TOP_SCOPE = "user-top-read"
QUEUE_SCOPE = "user-modify-playback-state"
LIBRARY_SCOPE = "user-library-modify"
LIBRARY_URIS = 40  # the most `/me/library` takes a request

RECENT_LIMIT = 50  # Spotify keeps the last 50 plays
TOP_LIMIT = 50  # and ranks at most 50 a call
MAX_TRACKS_FROM_LINKS = 100  # tracks one message command reads from albums and playlists

Period = Literal["short_term", "medium_term", "long_term"]
PERIODS: dict[str, Period] = {
    "4 weeks": "short_term",
    "6 months": "medium_term",
    "all time": "long_term",
}
PlayingState = Literal["track", "nothing", "private", "ad", "episode"]


@dataclass(frozen=True)
class Device:
    name: str
    kind: str  # Computer, Smartphone, Speaker...
    volume_percent: int | None


@dataclass(frozen=True)
class NowPlaying:
    """What the member's Spotify plays. Only `state == "track"` carries a track."""

    state: PlayingState
    track: Track | None = None
    album_image: str | None = None
    progress_ms: int = 0
    is_playing: bool = False
    device: Device | None = None
    episode: str | None = None  # an episode's name, with its show's
    show: str | None = None


@dataclass(frozen=True)
class RecentPlay:
    track: Track
    played_at: dt.datetime


@dataclass(frozen=True)
class TopArtist:
    artist: ArtistRef
    genres: tuple[str, ...]


@dataclass(frozen=True)
class TopList:
    kind: Literal["artists", "tracks"]
    period: Period
    artists: tuple[TopArtist, ...] = ()
    tracks: tuple[Track, ...] = ()

    @property
    def total(self) -> int:
        return len(self.artists) if self.kind == "artists" else len(self.tracks)


@dataclass(frozen=True)
class LinkedTracks:
    """The tracks behind the links of a message, and what could not be read."""

    refs: tuple[SpotifyRef, ...]
    tracks: tuple[Track, ...]
    unreadable: tuple[SpotifyRef, ...] = ()  # playlists Spotify will not show us
    missing: tuple[SpotifyRef, ...] = ()  # links to nothing Spotify knows
    cut: bool = False  # more than MAX_TRACKS_FROM_LINKS


@dataclass(frozen=True)
class QueueResult:
    queued: tuple[Track, ...]
    asked: int
    stopped_by: EncoreError | None = None
    skipped: tuple[SpotifyRef, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class LikedLinks:
    """What "Like on Spotify" did with a message's links."""

    liked: tuple[LikeResult, ...]
    albums: int
    playlists: int
    library_problem: EncoreError | None = None  # albums and playlists were not saved


class ListeningService:
    def __init__(self, spotify: SpotifyGateway, likes: LikeService) -> None:
        self._spotify = spotify
        self._likes = likes

    # -- now playing ---------------------------------------------------------------------

    async def now_playing(self, discord_user_id: int) -> NowPlaying:
        """From `/me/player` (device, private session); a link made before Encore asked for
        `user-read-playback-state` gets what `currently-playing` says."""
        # as_user checks the scopes on the link it reads anyway (MissingScope before Spotify
        # is asked): one read of the link, not one to check and one to call.
        try:
            answer = await self._spotify.as_user(
                discord_user_id,
                lambda sp: sp.current_playback(additional_types="episode"),
                scopes={PLAYBACK_SCOPE},
            )
        except MissingScope as missing:
            try:
                answer = await self._spotify.as_user(
                    discord_user_id,
                    lambda sp: sp.currently_playing(additional_types="episode"),
                    scopes={PLAYING_SCOPE},
                )
            except MissingScope:
                raise missing from None  # ask for what a new link gets
        return _now_playing(answer)

    # -- recently played and top ---------------------------------------------------------

    async def recent(self, discord_user_id: int) -> list[RecentPlay]:
        """The last 50 tracks played, newest first."""
        answer: dict[str, Any] | None = await self._spotify.as_user(
            discord_user_id,
            lambda sp: sp.current_user_recently_played(limit=RECENT_LIMIT),
            scopes={RECENT_SCOPE},
        )
        plays: list[RecentPlay] = []
        for entry in (answer or {}).get("items") or []:
            item = entry.get("track") or {}
            played = _timestamp(entry.get("played_at"))
            if item.get("id") and played is not None:
                plays.append(RecentPlay(Track.from_spotify(item), played))
        return plays

    async def top(
        self, discord_user_id: int, kind: Literal["artists", "tracks"], period: Period
    ) -> TopList:
        """The member's 50 top artists or tracks over `period`, best first."""
        if kind == "artists":
            answer: dict[str, Any] = await self._spotify.as_user(
                discord_user_id,
                lambda sp: sp.current_user_top_artists(limit=TOP_LIMIT, time_range=period),
                scopes={TOP_SCOPE},
            )
            artists = tuple(
                TopArtist(ArtistRef.from_spotify(item), tuple(item.get("genres") or ()))
                for item in (answer or {}).get("items") or []
                if item
            )
            return TopList(kind, period, artists=artists)
        answer = await self._spotify.as_user(
            discord_user_id,
            lambda sp: sp.current_user_top_tracks(limit=TOP_LIMIT, time_range=period),
            scopes={TOP_SCOPE},
        )
        tracks = tuple(
            Track.from_spotify(item)
            for item in (answer or {}).get("items") or []
            if item and item.get("id")
        )
        return TopList(kind, period, tracks=tracks)

    # -- the playback queue --------------------------------------------------------------

    async def queue(self, discord_user_id: int, tracks: Sequence[Track]) -> QueueResult:
        """Add tracks to the member's Spotify queue in order. Premium and an active device
        are needed; the first refusal stops the rest (it would refuse them too)."""
        await self._spotify.require_scopes(discord_user_id, {QUEUE_SCOPE})
        queued: list[Track] = []
        for track in tracks:
            try:
                await self._spotify.as_user(
                    discord_user_id, _adding_to_queue(track.uri), scopes={QUEUE_SCOPE}
                )
            except (PremiumRequired, NoActiveDevice) as error:
                if not queued:
                    raise
                return QueueResult(tuple(queued), len(tracks), stopped_by=error)
            queued.append(track)
        return QueueResult(tuple(queued), len(tracks))

    async def like_links(self, discord_user_id: int, refs: Sequence[SpotifyRef]) -> LikedLinks:
        """Tracks liked as /like does (Encore and the Spotify library); albums and playlists
        saved to the library. A library that refuses keeps the likes and says why."""
        liked = [
            await self._likes.like_track(discord_user_id, ref.id)
            for ref in refs
            if ref.kind == "track"
        ]
        albums = sum(1 for ref in refs if ref.kind == "album")
        playlists = sum(1 for ref in refs if ref.kind == "playlist")
        problem: EncoreError | None = None
        try:
            await self.save_to_library(discord_user_id, refs)
        except (MissingScope, PremiumRequired, SpotifyForbidden, BadInput) as error:
            problem = error
        return LikedLinks(tuple(liked), albums, playlists, problem)

    async def save_to_library(self, discord_user_id: int, refs: Sequence[SpotifyRef]) -> int:
        """Albums and playlists into the member's Spotify library (`PUT /me/library`, 40
        URIs a request); tracks are liked through the likes service instead."""
        uris = [ref.uri for ref in refs if ref.kind != "track"]
        for start in range(0, len(uris), LIBRARY_URIS):
            batch = uris[start : start + LIBRARY_URIS]
            await self._spotify.as_user(
                discord_user_id, _saving_to_library(batch), scopes={LIBRARY_SCOPE}
            )
        return len(uris)

    async def track(self, track_id: str) -> Track:
        try:
            item: dict[str, Any] = await self._spotify.as_app(lambda sp: sp.track(track_id))
        except BadInput:
            raise NotFound from None
        return Track.from_spotify(item)

    # -- links in a message --------------------------------------------------------------

    async def linked_tracks(self, discord_user_id: int, refs: Sequence[SpotifyRef]) -> LinkedTracks:
        """The tracks the links name, in order: a track, an album's tracks, a playlist's
        (only the member's own or shared ones are readable), at most 100 in all."""
        tracks: list[Track] = []
        unreadable: list[SpotifyRef] = []
        missing: list[SpotifyRef] = []
        for ref in refs:
            try:
                found = await self._tracks_of(discord_user_id, ref)
            except PlaylistNotReadable:
                unreadable.append(ref)
                continue
            except NotFound:
                missing.append(ref)
                continue
            tracks.extend(t for t in found if t not in tracks)
        return LinkedTracks(
            tuple(refs),
            tuple(tracks[:MAX_TRACKS_FROM_LINKS]),
            tuple(unreadable),
            tuple(missing),
            cut=len(tracks) > MAX_TRACKS_FROM_LINKS,
        )

    async def _tracks_of(self, discord_user_id: int, ref: SpotifyRef) -> list[Track]:
        if ref.kind == "track":
            return [await self.track(ref.id)]
        if ref.kind == "album":
            try:
                album: dict[str, Any] = await self._spotify.as_app(lambda sp: sp.album(ref.id))
            except BadInput:
                raise NotFound from None
            name = album.get("name")
            found = []
            for item in (album.get("tracks") or {}).get("items") or []:
                if item and item.get("id"):
                    found.append(Track.from_spotify({**item, "album": {"name": name}}))
            return found
        try:
            page: dict[str, Any] = await self._spotify.as_user(
                discord_user_id,
                lambda sp: sp.playlist_items(ref.id, limit=PAGE_SIZE),
                scopes={"playlist-read-private"},
            )
        except SpotifyForbidden as error:
            if error.development_mode:
                raise
            raise PlaylistNotReadable from None
        except BadInput:
            raise NotFound from None
        found = []
        for entry in page.get("items") or []:
            item = entry.get("item") or entry.get("track") or {}
            if (
                item.get("type", "track") == "track"
                and item.get("id")
                and not entry.get("is_local")
            ):
                found.append(Track.from_spotify(item))
        return found


def _saving_to_library(uris: list[str]) -> Callable[[WebAPI], object]:
    # current_user_saved_tracks_add turns every URI into a track URI; the endpoint takes any kind.
    return lambda sp: sp.save_to_library(uris)


def _adding_to_queue(uri: str) -> Callable[[WebAPI], object]:
    return lambda sp: sp.add_to_queue(uri)


def _now_playing(answer: dict[str, Any] | None) -> NowPlaying:
    if not answer:
        return NowPlaying("nothing")  # 204: nothing plays, no device, or a private session
    device_json = answer.get("device") or None
    device = None
    if device_json:
        device = Device(
            str(device_json.get("name") or "a device"),
            str(device_json.get("type") or ""),
            device_json.get("volume_percent"),
        )
        if device_json.get("is_private_session"):
            return NowPlaying("private", device=device)
    kind = answer.get("currently_playing_type")
    item = answer.get("item") or None
    playing = bool(answer.get("is_playing"))
    if kind == "ad":
        return NowPlaying("ad", device=device, is_playing=playing)
    if kind == "episode" or (item and item.get("type") == "episode"):
        show = ((item or {}).get("show") or {}).get("name")
        return NowPlaying(
            "episode",
            device=device,
            is_playing=playing,
            episode=(item or {}).get("name"),
            show=show,
            progress_ms=int(answer.get("progress_ms") or 0),
        )
    if not item or not item.get("id"):
        return NowPlaying("nothing", device=device)  # a local file, or nothing at all
    images = (item.get("album") or {}).get("images") or []
    return NowPlaying(
        "track",
        track=Track.from_spotify(item),
        album_image=str(images[0]["url"]) if images else None,
        progress_ms=int(answer.get("progress_ms") or 0),
        is_playing=playing,
        device=device,
    )


def _timestamp(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
