"""The stored queues: created, dealt from, rebuilt and deleted in PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONPATH
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import Clock
from bot.errors import EncoreError
from bot.music import Track
from bot.shuffle.errors import NothingToShuffle
from bot.shuffle.order import (
    PlaylistChange,
    first_order,
    following_order,
    rebuilt_order,
    secure_rng,
)
from bot.shuffle.sources import LIKED, SourceContents
from db.engine import SessionFactory
from db.models import ShuffleQueue


@dataclass(frozen=True)
class QueueProgress:
    """Where a queue stands: `position` tracks of `total` played in cycle `cycle`."""

    source: str
    source_name: str
    position: int
    total: int
    cycle: int

    @property
    def next_number(self) -> int:
        return self.position + 1

    @property
    def is_liked_songs(self) -> bool:
        return self.source == LIKED


@dataclass(frozen=True)
class QueuedTrack:
    """A track with its place in its cycle's order (from 1)."""

    track: Track
    number: int
    cycle: int


@dataclass(frozen=True)
class Dealt:
    """Tracks handed out by next or play, and the queue after them."""

    tracks: list[QueuedTrack]
    progress: QueueProgress
    new_cycle: int | None  # the cycle that began with (or right after) these tracks
    asked: int
    stopped_by: EncoreError | None = None  # play: why Spotify took fewer than asked


@dataclass(frozen=True)
class Upcoming:
    tracks: list[QueuedTrack]
    progress: QueueProgress
    cycle_ends: bool  # the shown tracks reach the end of the cycle


@dataclass(frozen=True)
class StoredQueue:
    """A row of `shuffle_queues` without its track list (read only in slices)."""

    id: int
    source: str
    source_name: str
    version: str | None
    position: int
    total: int
    cycle: int

    def progress(self, **changes: int) -> QueueProgress:
        values = {"position": self.position, "total": self.total, "cycle": self.cycle}
        values.update(changes)
        return QueueProgress(self.source, self.source_name, **values)


_QUEUE_COLUMNS = (
    ShuffleQueue.id,
    ShuffleQueue.source,
    ShuffleQueue.source_name,
    ShuffleQueue.snapshot_id,
    ShuffleQueue.position,
    func.jsonb_array_length(ShuffleQueue.tracks),
    ShuffleQueue.cycle,
)

SendTrack = Callable[[Track], Awaitable[None]]


class ShuffleQueues:
    """The stored queues: created, dealt from, rebuilt and deleted in PostgreSQL. Knows
    nothing of Spotify; every change to one queue happens under its row lock.

    The order itself is stored, never a seed: Python only promises `random()` sequences
    across versions, and a playlist's order must survive upgrades.
    """

    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        rng: Callable[[], random.Random] = secure_rng,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._rng = rng

    async def create(self, discord_user_id: int, contents: SourceContents) -> StoredQueue | None:
        """A new queue over `contents` in a fresh smart order, made the current one; None if
        the user already has one for this source (a start pressed twice)."""
        order = await asyncio.to_thread(first_order, contents.tracks, self._rng())
        async with self._sessions() as session, session.begin():
            created = await session.scalar(
                pg_insert(ShuffleQueue)
                .values(
                    discord_user_id=discord_user_id,
                    source=contents.source,
                    source_name=contents.name,
                    snapshot_id=contents.version,
                    tracks=[track.to_json() for track in order],
                    position=0,
                    cycle=1,
                    last_used_at=self._latest_use(discord_user_id),
                )
                .on_conflict_do_nothing(index_elements=["discord_user_id", "source"])
                .returning(ShuffleQueue.id)
            )
        if created is None:
            return None
        return StoredQueue(
            created, contents.source, contents.name, contents.version, 0, len(order), 1
        )

    async def of_user(
        self, discord_user_id: int, *, source: str | None = None
    ) -> list[StoredQueue]:
        """The user's queues, the current one (used last) first."""
        query = select(*_QUEUE_COLUMNS).where(ShuffleQueue.discord_user_id == discord_user_id)
        if source is not None:
            query = query.where(ShuffleQueue.source == source)
        query = query.order_by(ShuffleQueue.last_used_at.desc(), ShuffleQueue.id.desc())
        async with self._sessions() as session:
            return [StoredQueue(*found) for found in (await session.execute(query)).all()]

    async def one(self, discord_user_id: int, source: str) -> StoredQueue | None:
        found = await self.of_user(discord_user_id, source=source)
        return found[0] if found else None

    async def upcoming(self, queue: StoredQueue, count: int) -> list[QueuedTrack]:
        async with self._sessions() as session:
            tracks = await _slice(session, queue.id, queue.position, count)
        return [
            QueuedTrack(track, queue.position + i + 1, queue.cycle)
            for i, track in enumerate(tracks)
        ]

    async def deal(self, queue_id: int, count: int, send: SendTrack | None = None) -> Dealt | None:
        """The next `count` tracks; the position moves past them (past those `send` took,
        when given). Crossing the end of the cycle starts the next one. None if the queue
        is gone.

        The row lock serialises one queue's deals, so two quick presses never get the
        same track. With `send` (Spotify's playback queue) the lock is held while Spotify
        takes the tracks: one user's row for a few hundred ms, and the position then
        moves by exactly what Spotify accepted.
        """
        async with self._sessions() as session, session.begin():
            locked = await _locked(session, queue_id)
            if locked is None:
                return None
            remainder = locked.total - locked.position
            upcoming = [
                QueuedTrack(track, locked.position + i + 1, locked.cycle)
                for i, track in enumerate(await _slice(session, locked.id, locked.position, count))
            ]
            next_order: list[Track] | None = None
            if count >= remainder:
                previous = await _order(session, locked.id)
                next_order = await asyncio.to_thread(
                    following_order, previous, previous, self._rng()
                )
                upcoming += [
                    QueuedTrack(track, i + 1, locked.cycle + 1)
                    for i, track in enumerate(next_order[: count - remainder])
                ]
            taken = len(upcoming)
            stopped_by: EncoreError | None = None
            if send is not None:
                taken = 0
                for queued in upcoming:
                    try:
                        await send(queued.track)
                    except EncoreError as error:
                        if taken == 0:
                            raise  # nothing taken: the transaction, and the queue, stay as they were
                        stopped_by = error
                        break
                    taken += 1
            values: dict[str, Any] = {"last_used_at": self._still_latest()}
            new_cycle: int | None = None
            if taken < remainder:
                values["position"] = locked.position + taken
                progress = locked.progress(position=locked.position + taken)
            else:
                # The cycle is over: the next order starts now, so peek and status already
                # show the new cycle.
                assert next_order is not None
                new_cycle = locked.cycle + 1
                values.update(
                    tracks=[track.to_json() for track in next_order],
                    position=taken - remainder,
                    cycle=new_cycle,
                )
                progress = locked.progress(
                    position=taken - remainder, total=len(next_order), cycle=new_cycle
                )
            await session.execute(
                update(ShuffleQueue).where(ShuffleQueue.id == locked.id).values(**values)
            )
        return Dealt(upcoming[:taken], progress, new_cycle, count, stopped_by)

    async def rebuild(self, queue_id: int, contents: SourceContents) -> PlaylistChange | None:
        """Bring the queue in line with its source's new contents (see `rebuilt_order`).
        None if it already matches this version (another press rebuilt it) or is gone;
        an emptied source deletes the queue and raises `NothingToShuffle`."""
        change: PlaylistChange | None = None
        async with self._sessions() as session, session.begin():
            locked = await _locked(session, queue_id)
            if locked is None or locked.version == contents.version:
                return None
            if contents.tracks:
                # Orders of thousands of tracks take tens of ms: off the event loop.
                new_order, position, change = await asyncio.to_thread(
                    rebuilt_order,
                    await _order(session, queue_id),
                    locked.position,
                    locked.cycle,
                    contents.tracks,
                    self._rng(),
                )
                values: dict[str, Any] = {
                    "tracks": [track.to_json() for track in new_order],
                    "position": position,
                    "snapshot_id": contents.version,
                    "source_name": contents.name,
                }
                if position >= len(new_order):
                    # Everything not yet heard was removed: this cycle is over.
                    fresh = await asyncio.to_thread(
                        following_order, new_order, new_order, self._rng()
                    )
                    values.update(
                        tracks=[track.to_json() for track in fresh],
                        position=0,
                        cycle=locked.cycle + 1,
                    )
                await session.execute(
                    update(ShuffleQueue).where(ShuffleQueue.id == queue_id).values(**values)
                )
            else:
                await session.execute(delete(ShuffleQueue).where(ShuffleQueue.id == queue_id))
        if change is None:
            raise NothingToShuffle(contents.source, contents.name, removed=True)
        return change

    async def touch(self, discord_user_id: int, queue_id: int) -> None:
        """Make the queue the current one: next, peek, play and stop act on it."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(ShuffleQueue)
                .where(ShuffleQueue.id == queue_id)
                .values(last_used_at=self._latest_use(discord_user_id))
            )

    async def delete(self, queue_id: int) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(ShuffleQueue).where(ShuffleQueue.id == queue_id))

    def _latest_use(self, discord_user_id: int) -> ColumnElement[dt.datetime]:
        """Now, or just after the user's latest use if that is later: the queue started last
        is the current one even when two starts share a clock tick."""
        latest = (
            select(func.max(ShuffleQueue.last_used_at) + dt.timedelta(microseconds=1))
            .where(ShuffleQueue.discord_user_id == discord_user_id)
            .scalar_subquery()
        )
        return func.greatest(self._clock.now(), latest)

    def _still_latest(self) -> ColumnElement[dt.datetime]:
        return func.greatest(ShuffleQueue.last_used_at, self._clock.now())


async def _locked(session: AsyncSession, queue_id: int) -> StoredQueue | None:
    found = (
        await session.execute(
            select(*_QUEUE_COLUMNS)
            .where(ShuffleQueue.id == queue_id)
            .with_for_update(of=ShuffleQueue)
        )
    ).one_or_none()
    return None if found is None else StoredQueue(*found)


async def _slice(session: AsyncSession, queue_id: int, start: int, count: int) -> list[Track]:
    """Tracks `start`..`start + count - 1` of the order, cut out by PostgreSQL: a
    10,000-track order is not shipped to Python for three tracks."""
    if count <= 0:
        return []
    sliced = await session.scalar(
        select(
            # Both bounds are our own integers, so the path is built as text.
            func.jsonb_path_query_array(
                ShuffleQueue.tracks, cast(f"$[{start} to {start + count - 1}]", JSONPATH)
            )
        ).where(ShuffleQueue.id == queue_id)
    )
    return [Track.from_json(item) for item in sliced or []]


async def _order(session: AsyncSession, queue_id: int) -> list[Track]:
    stored = await session.scalar(select(ShuffleQueue.tracks).where(ShuffleQueue.id == queue_id))
    return [Track.from_json(item) for item in stored or []]
