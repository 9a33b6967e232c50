"""Saving as a Spotify playlist: the member's Encore likes (`/likes export`), the rest of
their shuffle order (`/shuffle save`) and the tracks of links in a message ("Save to a
playlist"), each into one private playlist of theirs that later saves reuse.

The playlist's id is stored (`encore_playlists`) as soon as it is known, before any item
is sent, so a save that fails halfway is finished by the next one rather than duplicated.
Writes about the member follow `db.erasure`: after /forget-me or /unlink nothing is stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from bot.clock import Clock
from bot.errors import EncoreError, LinkRemoved, NotLinked
from bot.music import PlaylistSummary, Track
from bot.playlists import PlaylistService
from bot.shuffle import ShuffleService
from bot.shuffle.errors import NoShuffleQueue
from bot.spotify import PlaylistWriter, WriteProgress, WrittenPlaylist
from db.engine import SessionFactory
from db.erasure import link_generation, still_linked, writing_about
from db.models import EncorePlaylist, Like, SpotifyLink

Purpose = Literal["likes", "shuffle", "saved"]
NAMES: dict[Purpose, str] = {
    "likes": "Encore likes",
    "shuffle": "Encore shuffle",
    "saved": "Saved from Discord",
}
DESCRIPTIONS: dict[Purpose, str] = {
    "likes": "The tracks you liked with Encore, newest first.",
    "shuffle": "Your Encore shuffle order, from the next track on.",
    "saved": "Tracks from Spotify links you saved in Discord with Encore.",
}
SaveProgress = Callable[[WriteProgress], Awaitable[None]]


@dataclass(frozen=True)
class SaveTargets:
    """Where "Save to a playlist" can write: Encore's own "Saved from Discord" playlist
    (`default_id` once it exists), then the member's own playlists, in Spotify's order."""

    default_name: str
    default_id: str | None
    own: tuple[PlaylistSummary, ...]


@dataclass(frozen=True)
class Saved:
    """A finished save: what it was, and what the writer did."""

    purpose: Purpose
    playlist: WrittenPlaylist
    source_name: str | None = None  # the shuffled playlist's name


class NothingToSave(EncoreError):
    """The list is empty: no playlist is made or emptied."""

    def __init__(self, purpose: Purpose, source_name: str | None = None) -> None:
        self.purpose = purpose
        self.source_name = source_name
        super().__init__("There is nothing to save.")


class SaveInterrupted(EncoreError):
    """Spotify stopped answering after the playlist was made or written in part."""

    def __init__(self, purpose: Purpose, reached: WriteProgress, cause: EncoreError) -> None:
        self.purpose = purpose
        self.reached = reached
        self.cause = cause
        super().__init__(cause.user_message)


class PlaylistSaves:
    def __init__(
        self,
        sessions: SessionFactory,
        writer: PlaylistWriter,
        shuffle: ShuffleService,
        clock: Clock,
        playlists: PlaylistService,
    ) -> None:
        self._sessions = sessions
        self._writer = writer
        self._shuffle = shuffle
        self._clock = clock
        self._playlists = playlists

    async def export_likes(
        self, discord_user_id: int, progress: SaveProgress | None = None
    ) -> Saved:
        """Every Encore like, newest first, into the member's "Encore likes" playlist."""
        generation = await self._generation(discord_user_id)
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(Like.track_id)
                    .where(Like.discord_user_id == discord_user_id)
                    .order_by(Like.liked_at.desc(), Like.id.desc())
                )
            )
        if not ids:
            raise NothingToSave("likes")
        uris = [f"spotify:track:{track_id}" for track_id in ids]
        return await self._save(discord_user_id, generation, "likes", uris, progress)

    async def save_shuffle(
        self, discord_user_id: int, progress: SaveProgress | None = None
    ) -> Saved:
        """The current shuffle queue's order from its next track to the end of the cycle."""
        generation = await self._generation(discord_user_id)
        queues = await self._shuffle.queues.of_user(discord_user_id)
        if not queues:
            raise NoShuffleQueue
        queue = queues[0]
        upcoming = await self._shuffle.queues.upcoming(queue, queue.total - queue.position)
        name = queue.source_name
        if not upcoming:
            raise NothingToSave("shuffle", name)
        uris = [queued.track.uri for queued in upcoming]
        return await self._save(discord_user_id, generation, "shuffle", uris, progress, name)

    async def targets(self, discord_user_id: int) -> SaveTargets:
        """The playlists "Save to a playlist" offers: the default first, then those the
        member owns (Spotify lets Encore add only to those), each once."""
        await self._generation(discord_user_id)  # not linked: say so before listing
        default_id = await self._stored(discord_user_id, "saved")
        async with self._sessions() as session:
            me = await session.scalar(
                select(SpotifyLink.spotify_user_id).where(
                    SpotifyLink.discord_user_id == discord_user_id
                )
            )
        listed = await self._playlists.playlists(discord_user_id)
        own = tuple(p for p in listed if p.owner_id == me and p.id != default_id)
        return SaveTargets(NAMES["saved"], default_id, own)

    async def save_tracks(
        self,
        discord_user_id: int,
        tracks: Sequence[Track],
        progress: SaveProgress | None = None,
        *,
        playlist_id: str | None = None,
    ) -> Saved:
        """Tracks added after those saved before: in the member's "Saved from Discord", or
        in `playlist_id`, one of their own playlists they chose."""
        generation = await self._generation(discord_user_id)
        if not tracks:
            raise NothingToSave("saved")
        uris = [track.uri for track in tracks]
        if playlist_id is None:
            return await self._save(discord_user_id, generation, "saved", uris, progress)
        written = await self._writer.write(
            discord_user_id,
            uris,
            name=NAMES["saved"],
            replace=playlist_id,
            append=True,
            create=False,
            progress=progress,
        )
        self._playlists.forget(discord_user_id)  # its track count changed
        return Saved("saved", written)

    async def _save(
        self,
        discord_user_id: int,
        generation: int,
        purpose: Purpose,
        uris: list[str],
        progress: SaveProgress | None,
        source_name: str | None = None,
    ) -> Saved:
        last_time = await self._stored(discord_user_id, purpose)

        reached: list[WriteProgress] = []

        async def remember(step: WriteProgress) -> None:
            if step.written == 0 and step.playlist_id != last_time:
                await self._remember(discord_user_id, generation, purpose, step.playlist_id)
            reached.append(step)
            if progress is not None:
                await progress(step)

        try:
            written = await self._writer.write(
                discord_user_id,
                uris,
                name=NAMES[purpose],
                description=DESCRIPTIONS[purpose],
                replace=last_time,
                append=purpose == "saved",
                progress=remember,
            )
        except (LinkRemoved, NotLinked):
            raise
        except EncoreError as error:
            if not reached:
                raise  # nothing was made or changed
            raise SaveInterrupted(purpose, reached[-1], error) from None
        return Saved(purpose, written, source_name)

    async def _stored(self, discord_user_id: int, purpose: Purpose) -> str | None:
        async with self._sessions() as session:
            found: str | None = await session.scalar(
                select(EncorePlaylist.playlist_id).where(
                    EncorePlaylist.discord_user_id == discord_user_id,
                    EncorePlaylist.purpose == purpose,
                )
            )
        return found

    async def _remember(
        self, discord_user_id: int, generation: int, purpose: Purpose, playlist_id: str
    ) -> None:
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            if not await still_linked(session, discord_user_id, generation):
                raise LinkRemoved
            values = {
                "discord_user_id": discord_user_id,
                "purpose": purpose,
                "playlist_id": playlist_id,
                "written_at": self._clock.now(),
            }
            await session.execute(
                pg_insert(EncorePlaylist)
                .values(**values)
                .on_conflict_do_update(
                    index_elements=[EncorePlaylist.discord_user_id, EncorePlaylist.purpose],
                    set_={"playlist_id": playlist_id, "written_at": values["written_at"]},
                )
            )

    async def _generation(self, discord_user_id: int) -> int:
        async with self._sessions() as session:
            generation = await link_generation(session, discord_user_id)
        if generation is None:
            raise NotLinked
        return generation
