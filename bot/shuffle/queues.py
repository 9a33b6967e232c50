"""The stored queues: created, dealt from, rebuilt and deleted in PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, bindparam, cast, delete, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import Clock
from bot.errors import EncoreError, LinkRemoved
from bot.music import Track
from bot.shuffle.errors import NothingToShuffle
from bot.shuffle.order import (
    PlaylistChange,
    first_order,
    following_order,
    next_cycle_ids,
    rebuilt_order,
    secure_rng,
)
from bot.shuffle.sources import LIKED, SourceContents
from db.engine import SessionFactory, again_if_connection_lost, bound_engine, reads
from db.erasure import still_linked, writing_about
from db.locks import advisory_lock, lock_key
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
QUEUE_LOCK = "shuffle-queue"  # advisory lock purpose, one key per queue
# The hot path (`/shuffle next`) runs on Core connections, not ORM sessions: the same statements.
Database = AsyncSession | AsyncConnection

_USER_QUEUES = (
    select(*_QUEUE_COLUMNS)
    .where(ShuffleQueue.discord_user_id == bindparam("user"))
    .order_by(ShuffleQueue.last_used_at.desc(), ShuffleQueue.id.desc())
)
_USER_QUEUE_OF_SOURCE = _USER_QUEUES.where(ShuffleQueue.source == bindparam("source"))
_CURRENT_QUEUE = _USER_QUEUES.limit(1)
_QUEUE = select(*_QUEUE_COLUMNS).where(ShuffleQueue.id == bindparam("queue_id"))
_QUEUE_XACT_LOCK = select(func.pg_advisory_xact_lock(bindparam("key")))
# Built once, so a deal compiles nothing (each execution finds its compiled form by its key).
_SLICE = select(
    func.jsonb_path_query_array(ShuffleQueue.tracks, bindparam("path", type_=JSONPATH))
).where(ShuffleQueue.id == bindparam("queue_id"))
_USED = func.greatest(
    ShuffleQueue.last_used_at, bindparam("now", type_=ShuffleQueue.last_used_at.type)
)
_MOVE = (
    update(ShuffleQueue)
    .where(ShuffleQueue.id == bindparam("queue_id"))
    .values(position=bindparam("to"), last_used_at=_USED)
)
_MOVE_TO_CYCLE = _MOVE.values(cycle=bindparam("new_cycle"))


class ShuffleQueues:
    """The stored queues: created, dealt from, rebuilt and deleted in PostgreSQL. Knows
    nothing of Spotify.

    Every change to one queue happens under its session-level advisory lock, which holds
    no transaction: two quick presses never get the same track, and Spotify taking tracks
    (`/shuffle play`) keeps no row locked. Whole orders (up to 10,000 tracks) are decoded,
    reshuffled and encoded in a thread, never on the event loop.

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
        self._read = reads(sessions)
        self._engine = bound_engine(sessions)
        self._clock = clock
        self._rng = rng

    async def create(
        self, discord_user_id: int, contents: SourceContents, generation: int
    ) -> StoredQueue | None:
        """A new queue over `contents` in a fresh smart order, made the current one; None if
        the user already has one for this source (a start pressed twice). `generation` is the
        link the contents were read under: if it is gone, nothing is stored (`LinkRemoved`)."""
        encoded, total = await asyncio.to_thread(_first_cycle, contents.tracks, self._rng())
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            if not await still_linked(session, discord_user_id, generation):
                raise LinkRemoved
            created = await session.scalar(
                pg_insert(ShuffleQueue)
                .values(
                    discord_user_id=discord_user_id,
                    source=contents.source,
                    source_name=contents.name,
                    snapshot_id=contents.version,
                    tracks=_as_jsonb(encoded),
                    position=0,
                    cycle=1,
                    last_used_at=self._latest_use(discord_user_id),
                )
                .on_conflict_do_nothing(index_elements=["discord_user_id", "source"])
                .returning(ShuffleQueue.id)
            )
        if created is None:
            return None
        return StoredQueue(created, contents.source, contents.name, contents.version, 0, total, 1)

    @again_if_connection_lost
    async def of_user(
        self, discord_user_id: int, *, source: str | None = None
    ) -> list[StoredQueue]:
        """The user's queues, the current one (used last) first."""
        async with self._read() as connection:
            found = await connection.execute(
                _USER_QUEUES if source is None else _USER_QUEUE_OF_SOURCE,
                {"user": discord_user_id, "source": source},
            )
            return [StoredQueue(*row) for row in found]

    async def one(self, discord_user_id: int, source: str) -> StoredQueue | None:
        found = await self.of_user(discord_user_id, source=source)
        return found[0] if found else None

    async def upcoming(self, queue: StoredQueue, count: int) -> list[QueuedTrack]:
        async with self._read() as connection:
            tracks = await _slice(connection, queue.id, queue.position, count)
        return [
            QueuedTrack(track, queue.position + i + 1, queue.cycle)
            for i, track in enumerate(tracks)
        ]

    async def deal(self, queue_id: int, count: int, send: SendTrack | None = None) -> Dealt | None:
        """The next `count` tracks; the position moves past them (past those `send` took,
        when given). Crossing the end of the cycle starts the next one. None if the queue
        is gone.

        With `send` (Spotify's playback queue) the queue's lock is held while Spotify takes
        the tracks, no transaction: the position then moves by exactly what Spotify accepted.
        Without it nothing is sent anywhere, so the read and the move are one transaction,
        under the same lock taken for that transaction only.
        """
        if send is None:
            async with self._engine.begin() as connection:
                await connection.execute(_QUEUE_XACT_LOCK, {"key": lock_key(QUEUE_LOCK, queue_id)})
                return await self._deal(queue_id, count, None, connection)
        async with self._locked(queue_id):
            return await self._deal(queue_id, count, send, None)

    async def deal_current(
        self, discord_user_id: int, count: int, *, checked: Callable[[StoredQueue], bool]
    ) -> Dealt | StoredQueue | None:
        """`deal` from the user's current queue in one transaction (one session for
        `/shuffle next`), when `checked(queue)` says its source was checked recently enough;
        otherwise the queue as it stands, nothing moved, for the caller to check with Spotify
        (outside any transaction) before dealing. None if the user has no queue.

        The queue is found, then locked, then read again by `_deal`: a deal that held the lock
        first is seen, so no track is handed out twice."""
        # A Core connection and statements built once: the hot path of `/shuffle next`.
        async with self._engine.begin() as connection:
            found = (
                await connection.execute(_CURRENT_QUEUE, {"user": discord_user_id})
            ).one_or_none()
            if found is None:
                return None
            queue = StoredQueue(*found)
            if not checked(queue):
                return queue
            await connection.execute(_QUEUE_XACT_LOCK, {"key": lock_key(QUEUE_LOCK, queue.id)})
            return await self._deal(queue.id, count, None, connection)

    async def _deal(
        self, queue_id: int, count: int, send: SendTrack | None, shared: Database | None
    ) -> Dealt | None:
        async with self._reading(shared) as session:
            queue = await _read(session, queue_id)
            if queue is None:
                return None
            remainder = queue.total - queue.position
            this_cycle = await _slice(session, queue.id, queue.position, count)
            finished = await _ids_and_artists(session, queue.id) if count >= remainder else None
        upcoming = [
            QueuedTrack(track, queue.position + i + 1, queue.cycle)
            for i, track in enumerate(this_cycle)
        ]
        next_order: list[str] | None = None
        if finished is not None:
            # The next cycle's order is worked out on ids, in a thread; the tracks stay in
            # PostgreSQL, which reorders them itself (`_reordered`).
            next_order = await asyncio.to_thread(next_cycle_ids, finished, self._rng())
            # A batch goes into the next cycle, never through it: on a playlist shorter
            # than the batch the queue stops short of the new cycle's end, so the position
            # always names a track of the order it stands in.
            opening_size = min(count - remainder, len(next_order) - 1)
            async with self._reading(shared) as session:
                opening = await _tracks_with_ids(
                    session, queue.id, next_order[: max(0, opening_size)]
                )
            upcoming += [
                QueuedTrack(track, i + 1, queue.cycle + 1) for i, track in enumerate(opening)
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
                        raise  # nothing taken: the queue stays as it was
                    stopped_by = error
                    break
                taken += 1
        # The queue counts as used now (or when it last was, if that is later).
        values: dict[str, Any] = {"queue_id": queue.id, "now": self._clock.now()}
        new_cycle: int | None = None
        if taken < remainder:
            values["to"] = queue.position + taken
            progress = queue.progress(position=queue.position + taken)
        else:
            # The cycle is over: the next order starts now, so peek and status already
            # show the new cycle.
            assert next_order is not None
            new_cycle = queue.cycle + 1
            values.update(to=taken - remainder, new_cycle=new_cycle)
            progress = queue.progress(
                position=taken - remainder, total=len(next_order), cycle=new_cycle
            )
        async with self._writing(shared) as session:
            await session.execute(_MOVE if new_cycle is None else _MOVE_TO_CYCLE, values)
            if new_cycle is not None:
                assert next_order is not None
                await session.execute(_REORDER, {"queue_id": queue.id, "ids": next_order})
        return Dealt(upcoming[:taken], progress, new_cycle, count, stopped_by)

    def _reading(self, shared: Database | None) -> AbstractAsyncContextManager[Database]:
        return nullcontext(shared) if shared is not None else self._read()

    @asynccontextmanager
    async def _writing(self, shared: Database | None) -> AsyncIterator[Database]:
        if shared is not None:
            yield shared
            return
        async with self._engine.begin() as connection:
            yield connection

    async def rebuild(self, queue_id: int, contents: SourceContents) -> PlaylistChange | None:
        """Bring the queue in line with its source's new contents (see `rebuilt_order`).
        None if it already matches this version (another press rebuilt it) or is gone;
        an emptied source deletes the queue and raises `NothingToShuffle`."""
        async with self._locked(queue_id):
            async with self._sessions() as session:
                queue = await _read(session, queue_id)
                if queue is None or queue.version == contents.version:
                    return None
                stored = await _raw_order(session, queue_id)
            if not contents.tracks:
                async with self._sessions() as session, session.begin():
                    await session.execute(delete(ShuffleQueue).where(ShuffleQueue.id == queue_id))
                raise NothingToShuffle(contents.source, contents.name, removed=True)
            rebuilt = await asyncio.to_thread(_rebuilt, stored, queue, contents.tracks, self._rng)
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(ShuffleQueue)
                    .where(ShuffleQueue.id == queue_id)
                    .values(
                        tracks=_as_jsonb(rebuilt.encoded),
                        position=rebuilt.position,
                        cycle=rebuilt.cycle,
                        snapshot_id=contents.version,
                        source_name=contents.name,
                    )
                )
        return rebuilt.change

    @again_if_connection_lost
    async def touch(self, discord_user_id: int, queue_id: int) -> None:
        """Make the queue the current one: next, peek, play and stop act on it."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(ShuffleQueue)
                .where(ShuffleQueue.id == queue_id)
                .values(last_used_at=self._latest_use(discord_user_id))
            )

    @again_if_connection_lost
    async def delete(self, queue_id: int) -> None:
        async with self._locked(queue_id), self._sessions() as session, session.begin():
            await session.execute(delete(ShuffleQueue).where(ShuffleQueue.id == queue_id))

    def _locked(self, queue_id: int) -> AbstractAsyncContextManager[bool]:
        """One queue's changes, one at a time across every process."""
        return advisory_lock(self._sessions, lock_key(QUEUE_LOCK, queue_id))

    def _latest_use(self, discord_user_id: int) -> ColumnElement[dt.datetime]:
        """Now, or just after the user's latest use if that is later: the queue started last
        is the current one even when two starts share a clock tick."""
        latest = (
            select(func.max(ShuffleQueue.last_used_at) + dt.timedelta(microseconds=1))
            .where(ShuffleQueue.discord_user_id == discord_user_id)
            .scalar_subquery()
        )
        return func.greatest(self._clock.now(), latest)


async def _read(session: Database, queue_id: int) -> StoredQueue | None:
    found = (await session.execute(_QUEUE, {"queue_id": queue_id})).one_or_none()
    return None if found is None else StoredQueue(*found)


async def _slice(session: Database, queue_id: int, start: int, count: int) -> list[Track]:
    """Tracks `start`..`start + count - 1` of the order, cut out by PostgreSQL: a
    10,000-track order is not shipped to Python for three tracks."""
    if count <= 0:
        return []
    # Both bounds are our own integers, so the path is built as text.
    path = f"$[{start} to {start + count - 1}]"
    sliced = await session.scalar(_SLICE, {"path": path, "queue_id": queue_id})
    return [Track.from_json(item) for item in sliced or []]


# A track at a time: no single parse or dump of a 10,000-track order holds the GIL for tens
# of ms, so the event loop keeps turning while a thread works through it.
_ORDER = text(
    "SELECT entry.value::text FROM shuffle_queues, "
    "jsonb_array_elements(shuffle_queues.tracks) WITH ORDINALITY AS entry(value, place) "
    "WHERE shuffle_queues.id = :queue_id ORDER BY entry.place"
)


_IDS_AND_ARTISTS = text(
    "SELECT entry.value->>'id', "
    "coalesce(entry.value->'artists'->0->>'id', entry.value->>'id') "
    "FROM shuffle_queues, "
    "jsonb_array_elements(shuffle_queues.tracks) WITH ORDINALITY AS entry(value, place) "
    "WHERE shuffle_queues.id = :queue_id ORDER BY entry.place"
)
_WITH_IDS = text(
    "SELECT entry.value::text FROM shuffle_queues, "
    "jsonb_array_elements(shuffle_queues.tracks) AS entry(value) "
    "WHERE shuffle_queues.id = :queue_id AND entry.value->>'id' = ANY(CAST(:ids AS text[]))"
)
# The stored entries in the order of `ids`: the tracks never leave PostgreSQL.
_REORDER = text(
    "UPDATE shuffle_queues SET tracks = ("
    " SELECT jsonb_agg(entry.value ORDER BY wanted.place)"
    " FROM jsonb_array_elements(shuffle_queues.tracks) AS entry(value)"
    " JOIN unnest(CAST(:ids AS text[])) WITH ORDINALITY AS wanted(id, place)"
    " ON wanted.id = entry.value->>'id'"
    ") WHERE shuffle_queues.id = :queue_id"
)


async def _raw_order(session: Database, queue_id: int) -> list[str]:
    """The whole order, each track as JSON text, for a thread to decode (`decode_order`)."""
    return list(await session.scalars(_ORDER, {"queue_id": queue_id}))


async def _ids_and_artists(session: Database, queue_id: int) -> list[tuple[str, str]]:
    """(track id, primary artist) of the whole order: all a cycle rollover needs of it."""
    rows = await session.execute(_IDS_AND_ARTISTS, {"queue_id": queue_id})
    return [(track_id, artist) for track_id, artist in rows]


async def _tracks_with_ids(session: Database, queue_id: int, ids: Sequence[str]) -> list[Track]:
    if not ids:
        return []
    rows = await session.scalars(_WITH_IDS, {"queue_id": queue_id, "ids": list(ids)})
    found = {track.id: track for track in (Track.from_json(json.loads(row)) for row in rows)}
    return [found[track_id] for track_id in ids]


def encode_order(order: Sequence[Track]) -> str:
    return (
        "[" + ",".join(json.dumps(track.to_json(), separators=(",", ":")) for track in order) + "]"
    )


def decode_order(stored: Sequence[str]) -> list[Track]:
    return [Track.from_json(json.loads(track)) for track in stored]


def _as_jsonb(encoded: str) -> ColumnElement[Any]:
    """JSON text encoded in a thread, stored as it is: the driver does not encode it again."""
    return cast(literal(encoded, Text), JSONB)


def _first_cycle(tracks: Sequence[Track], rng: random.Random) -> tuple[str, int]:
    order = first_order(tracks, rng)
    return encode_order(order), len(order)


@dataclass(frozen=True)
class _Rebuilt:
    encoded: str
    position: int
    cycle: int
    change: PlaylistChange


def _rebuilt(
    stored: Sequence[str],
    queue: StoredQueue,
    current: Sequence[Track],
    rng: Callable[[], random.Random],
) -> _Rebuilt:
    order, position, change = rebuilt_order(
        decode_order(stored), queue.position, queue.cycle, current, rng()
    )
    cycle = queue.cycle
    if position >= len(order):
        # Everything not yet heard was removed: this cycle is over.
        order, position, cycle = following_order(order, order, rng()), 0, cycle + 1
    return _Rebuilt(encode_order(order), position, cycle, change)
