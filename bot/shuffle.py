"""Smart shuffle queues: one stored order per user and source (a playlist or liked songs),
dealt a few tracks at a time, reshuffled each cycle and rebuilt when the playlist changes."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import spotipy
from sqlalchemy import cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONPATH
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import Clock
from bot.errors import (
    BadInput,
    EncoreError,
    NoActiveDevice,
    NotLinked,
    PremiumRequired,
    SpotifyBusy,
    SpotifyUnavailable,
)
from bot.music import PlaylistSummary, Track
from bot.playlists import PlaylistService, playlist_named, unreadable
from bot.shuffle_algorithm import next_cycle_order, smart_shuffle
from bot.spotify import (
    PAGE_SIZE,
    SpotifyForbidden,
    SpotifyGateway,
    is_spotify_id,
    playlist_id_in_link,
    user_pages,
)
from bot.ui.names import shown
from db.engine import SessionFactory
from db.models import ShuffleQueue, SpotifyLink

log = logging.getLogger(__name__)

LIKED = "liked"  # the `source` of a liked-songs queue; any other source is a playlist id
LIKED_NAME = "Liked songs"
FRESH_FRACTION = 0.25  # a new cycle opens without the previous cycle's last quarter
# Has the source changed on Spotify? Asked on every /shuffle start (and resume), and on
# next, peek and play at most this often per queue and process: one cheap call (the
# playlist's `snapshot_id`, or the liked-songs count and newest song), a full read only
# when it changed.
CHANGE_CHECK_INTERVAL = dt.timedelta(minutes=5)
MAX_DEAL = 10  # tracks per /shuffle next or play: one link button each fits a message
SUGGESTIONS = 25  # Discord shows at most 25 autocomplete choices


class NoShuffleQueue(EncoreError):
    user_message = (
        "You have no shuffle queue yet: start one with `/shuffle start` and pick a playlist "
        "or your liked songs."
    )


class NothingToShuffle(EncoreError):
    """An empty source; the message names it."""


# -- what the commands show -------------------------------------------------------------


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
class PlaylistChange:
    """What a rebuild did after the source changed on Spotify."""

    added: int
    removed: int
    kept_played: int


@dataclass(frozen=True)
class StartedQueue:
    progress: QueueProgress
    resumed: bool
    change: PlaylistChange | None = None
    unchecked: bool = False  # resumed without knowing whether the playlist changed


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
class SourceChoice:
    label: str
    value: str


@dataclass(frozen=True)
class SourceContents:
    """A source as Spotify has it now; `version` is the snapshot id (or a liked-songs stamp)."""

    source: str
    name: str
    version: str | None
    tracks: list[Track]


# -- the order ---------------------------------------------------------------------------


def _fresh_start(length: int) -> int:
    """Tracks in a cycle's protected start: as `next_cycle_order` counts them."""
    if length < 2:
        return 0
    return min(length // 2, max(1, int(length * FRESH_FRACTION)))


def _distinct(tracks: Sequence[Track]) -> list[Track]:
    """One entry per track id: a playlist listing a song twice still plays it once a cycle."""
    seen: dict[str, Track] = {}
    for track in tracks:
        seen.setdefault(track.id, track)
    return list(seen.values())


def first_order(tracks: Sequence[Track], rng: random.Random) -> list[Track]:
    """Cycle 1: artists spread out, as few same-artist neighbours as possible."""
    by_id = {track.id: track for track in tracks}
    artist = {track.id: track.primary_artist for track in tracks}
    return [by_id[i] for i in smart_shuffle(list(by_id), artist.__getitem__, rng)]


def following_order(
    tracks: Sequence[Track],
    previous: Sequence[Track],
    rng: random.Random,
    fresh_fraction: float = FRESH_FRACTION,
) -> list[Track]:
    """The order after `previous`: none of its last quarter in the new first quarter, and
    not the same artist on both sides of the seam. (Ids, not Tracks, go in: two copies of
    a track parsed at different times need not compare equal.)"""
    by_id = {track.id: track for track in tracks}
    artist = {track.id: track.primary_artist for track in [*previous, *tracks]}
    order = next_cycle_order(
        list(by_id),
        artist.__getitem__,
        rng,
        [track.id for track in previous],
        fresh_fraction=fresh_fraction,
    )
    return [by_id[i] for i in order]


def rebuilt_order(
    order: Sequence[Track],
    position: int,
    cycle: int,
    current: Sequence[Track],
    rng: random.Random,
) -> tuple[list[Track], int, PlaylistChange]:
    """The order after the source changed, and the new position: what was played this cycle
    stays played (removed tracks drop out), the rest plus new tracks are shuffled again.

    In cycle 2 on, the unplayed part of the fresh start is kept in place: reshuffling it
    could bring the previous cycle's last tracks straight back.
    """
    now = {track.id: track for track in _distinct(current)}
    before = {track.id for track in order}
    played = [now[t.id] for t in order[:position] if t.id in now]
    keep_until = _fresh_start(len(order)) if cycle > 1 else 0
    kept = [now[t.id] for t in order[position:keep_until] if t.id in now]
    placed = {track.id for track in [*played, *kept]}
    rest = [track for track in now.values() if track.id not in placed]
    # fresh_fraction 0: only the seam's artist matters inside a cycle.
    tail = following_order(rest, [*played, *kept], rng, fresh_fraction=0.0) if rest else []
    change = PlaylistChange(
        added=len(now.keys() - before), removed=len(before - now.keys()), kept_played=len(played)
    )
    return [*played, *kept, *tail], len(played), change


def _parse_tracks(entries: Sequence[dict[str, Any]], field: str) -> list[Track]:
    """Playable tracks of a page's entries: no local files, episodes or removed items."""
    tracks: list[Track] = []
    for entry in entries:
        item = entry.get(field)
        if not item or not item.get("id") or entry.get("is_local"):
            continue
        if item.get("type", "track") != "track":
            continue
        tracks.append(Track.from_spotify(item))
    return _distinct(tracks)


def _liked_version(page: dict[str, Any]) -> str:
    """Liked songs have no snapshot id: the count and the newest song change with any save
    or removal (a like always becomes the newest)."""
    items = page.get("items") or []
    newest = ((items[0].get("track") or {}).get("id") if items else None) or ""
    return f"liked:{page.get('total', 0)}:{newest}"


def _secure_rng() -> random.Random:
    return random.Random(secrets.randbits(128))


# -- the table ---------------------------------------------------------------------------


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
        rng: Callable[[], random.Random] = _secure_rng,
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
            raise NothingToShuffle(
                f"{_name(contents.name, contents.source)} is empty now, so its shuffle queue "
                "was removed. Add some tracks on Spotify and `/shuffle start` it again."
            )
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


# -- the service -------------------------------------------------------------------------


class ShuffleService:
    """What the /shuffle commands do: Spotify reading and change checks around the stored
    queues. The queue used last is the one next, peek, play and stop act on."""

    def __init__(
        self,
        sessions: SessionFactory,
        spotify: SpotifyGateway,
        playlists: PlaylistService,
        clock: Clock,
        *,
        rng: Callable[[], random.Random] = _secure_rng,
        check_interval: dt.timedelta = CHANGE_CHECK_INTERVAL,
    ) -> None:
        self._sessions = sessions
        self._spotify = spotify
        self._playlists = playlists
        self._clock = clock
        self.queues = ShuffleQueues(sessions, clock, rng)
        self._check_interval = check_interval
        # queue id -> when this process last asked Spotify whether its source changed.
        # Per process on purpose: it only saves calls, nothing depends on it being shared.
        self._checked: dict[int, dt.datetime] = {}

    # -- commands ------------------------------------------------------------------------

    async def source_choices(self, discord_user_id: int, typed: str) -> list[SourceChoice]:
        """Autocomplete: liked songs, then the user's playlists from the cached list."""
        wanted = typed.strip().casefold()
        choices: list[SourceChoice] = []
        if wanted in LIKED_NAME.casefold() or wanted == LIKED:
            choices.append(SourceChoice(LIKED_NAME, LIKED))
        found = await self._playlists.suggestions(discord_user_id, typed)
        me = await self._spotify_user_id(discord_user_id) if found else None
        for playlist in found[: SUGGESTIONS - len(choices)]:
            choices.append(SourceChoice(_choice_label(playlist, me), playlist.id))
        return choices

    async def start(self, discord_user_id: int, choice: str) -> StartedQueue:
        """Shuffle a source, or resume its queue (rebuilt first if the source changed)."""
        source = await self._resolve(discord_user_id, choice)
        existing = await self.queues.one(discord_user_id, source)
        if existing is not None:
            return await self._resume(discord_user_id, existing)
        contents = await self._read(discord_user_id, source)
        if not contents.tracks:
            raise NothingToShuffle(_empty_message(contents.name, source))
        created = await self.queues.create(discord_user_id, contents)
        if created is None:  # the same start pressed twice: the other one made it
            return await self._resume(discord_user_id, await self._one(discord_user_id, source))
        self._mark_checked(created.id)
        return StartedQueue(created.progress(), resumed=False)

    async def next(self, discord_user_id: int, count: int = 1) -> Dealt:
        """The next `count` tracks (1-10); the position moves past them."""
        return await self._deal(discord_user_id, count, play=False)

    async def play(self, discord_user_id: int, count: int = 1) -> Dealt:
        """The next `count` tracks into the user's Spotify playback queue. The position moves
        only past tracks Spotify accepted; none accepted, nothing moves."""
        return await self._deal(discord_user_id, count, play=True)

    async def peek(self, discord_user_id: int, count: int = 5) -> Upcoming:
        queue = await self._checked_now_and_then(
            discord_user_id, await self._current(discord_user_id)
        )
        tracks = await self.queues.upcoming(queue, count)
        return Upcoming(tracks, queue.progress(), cycle_ends=queue.position + count >= queue.total)

    async def status(self, discord_user_id: int) -> tuple[QueueProgress, list[QueueProgress]]:
        """The current queue, and the user's other queues (most recently used first)."""
        queues = await self.queues.of_user(discord_user_id)
        if not queues:
            raise await self._no_queue(discord_user_id)
        return queues[0].progress(), [queue.progress() for queue in queues[1:]]

    async def stop(self, discord_user_id: int) -> tuple[QueueProgress, QueueProgress | None]:
        """Delete the current queue; returns it and the queue that is current now, if any."""
        queue = await self._current(discord_user_id)
        await self.queues.delete(queue.id)
        self._checked.pop(queue.id, None)
        left = await self.queues.of_user(discord_user_id)
        return queue.progress(), left[0].progress() if left else None

    # -- helpers of the commands ---------------------------------------------------------

    async def _deal(self, discord_user_id: int, count: int, *, play: bool) -> Dealt:
        count = max(1, min(MAX_DEAL, count))
        queue = await self._checked_now_and_then(
            discord_user_id, await self._current(discord_user_id)
        )

        async def add_to_spotify_queue(track: Track) -> None:
            await self._spotify.as_user(discord_user_id, lambda sp: sp.add_to_queue(track.uri))

        try:
            dealt = await self.queues.deal(queue.id, count, add_to_spotify_queue if play else None)
        except (PremiumRequired, NoActiveDevice) as error:
            raise type(error)(
                f"{error.user_message} Your shuffle queue did not move: `/shuffle next` shows "
                "the next tracks with links to open them instead."
            ) from None
        if dealt is None:  # stopped by another command in between
            raise await self._no_queue(discord_user_id)
        return dealt

    async def _resume(self, discord_user_id: int, queue: StoredQueue) -> StartedQueue:
        change: PlaylistChange | None = None
        unchecked = False
        try:
            change = await self._refresh(discord_user_id, queue)
        except (SpotifyBusy, SpotifyUnavailable):
            unchecked = True  # the stored order still plays; the next check catches up
        await self.queues.touch(discord_user_id, queue.id)
        current = await self._one(discord_user_id, queue.source)
        return StartedQueue(current.progress(), resumed=True, change=change, unchecked=unchecked)

    async def _checked_now_and_then(self, discord_user_id: int, queue: StoredQueue) -> StoredQueue:
        """The cheap change check of next, peek and play, when this process's last one is
        old enough. It never blocks dealing: if Spotify does not answer, the stored order
        plays on."""
        checked = self._checked.get(queue.id)
        if checked is not None and self._clock.now() - checked < self._check_interval:
            return queue
        try:
            if await self._refresh(discord_user_id, queue) is None:
                return queue
        except NothingToShuffle:
            raise
        except EncoreError as error:
            log.info("Shuffle change check skipped (%s)", type(error).__name__)
            return queue
        return await self._one(discord_user_id, queue.source)

    async def _refresh(self, discord_user_id: int, queue: StoredQueue) -> PlaylistChange | None:
        """Ask Spotify whether the source changed; rebuild the queue if it did."""
        self._mark_checked(queue.id)
        if await self._version(discord_user_id, queue.source) == queue.version:
            return None
        contents = await self._read(discord_user_id, queue.source)
        try:
            return await self.queues.rebuild(queue.id, contents)
        except NothingToShuffle:
            self._checked.pop(queue.id, None)
            raise

    async def _current(self, discord_user_id: int) -> StoredQueue:
        queues = await self.queues.of_user(discord_user_id)
        if not queues:
            raise await self._no_queue(discord_user_id)
        return queues[0]

    async def _one(self, discord_user_id: int, source: str) -> StoredQueue:
        queue = await self.queues.one(discord_user_id, source)
        if queue is None:  # stopped by another command in between
            raise NoShuffleQueue
        return queue

    async def _no_queue(self, discord_user_id: int) -> EncoreError:
        if await self._spotify_user_id(discord_user_id) is None:
            return NotLinked()
        return NoShuffleQueue()

    def _mark_checked(self, queue_id: int) -> None:
        now = self._clock.now()
        for known, at in list(self._checked.items()):
            if now - at >= self._check_interval:
                del self._checked[known]  # only recently used queues stay in memory
        self._checked[queue_id] = now

    # -- reading Spotify -----------------------------------------------------------------

    async def _resolve(self, discord_user_id: int, choice: str) -> str:
        """The source the user chose: liked songs, an id from autocomplete, a link or a name."""
        value = choice.strip()
        if not value:
            raise BadInput("Choose one of your playlists, or Liked songs.")
        if value.casefold() in (LIKED, LIKED_NAME.casefold()):
            return LIKED
        found = playlist_id_in_link(value)
        if found is not None:
            return found
        if is_spotify_id(value):
            return value  # autocomplete's value; Spotify says if it is not a playlist
        return playlist_named(await self._playlists.playlists(discord_user_id), value).id

    async def _version(self, discord_user_id: int, source: str) -> str | None:
        if source == LIKED:
            page = await self._spotify.as_user(
                discord_user_id, lambda sp: sp.current_user_saved_tracks(limit=1)
            )
            return _liked_version(page)
        meta = await self._playlist(discord_user_id, source)
        return meta.get("snapshot_id")

    async def _playlist(self, discord_user_id: int, playlist_id: str) -> dict[str, Any]:
        try:
            meta: dict[str, Any] = await self._spotify.as_user(
                discord_user_id,
                lambda sp: sp.playlist(
                    playlist_id, fields="id,name,snapshot_id,owner,collaborative,items.total"
                ),
            )
        except SpotifyForbidden as error:
            raise unreadable(error) from None
        return meta

    async def _read(self, discord_user_id: int, source: str) -> SourceContents:
        """Everything in the source, every page. The version is read first, so a change
        during the read is caught by the next check rather than missed."""
        if source == LIKED:
            first, entries = await self._pages(
                discord_user_id, lambda sp: sp.current_user_saved_tracks(limit=PAGE_SIZE)
            )
            return SourceContents(
                LIKED, LIKED_NAME, _liked_version(first), _parse_tracks(entries, "track")
            )
        meta = await self._playlist(discord_user_id, source)
        try:
            _, entries = await self._pages(
                discord_user_id,
                lambda sp: sp.playlist_items(source, limit=PAGE_SIZE, additional_types=("track",)),
            )
        except SpotifyForbidden as error:
            raise unreadable(error) from None
        name = str(meta.get("name") or "Untitled playlist")
        return SourceContents(source, name, meta.get("snapshot_id"), _parse_tracks(entries, "item"))

    async def _pages(
        self, discord_user_id: int, first: Callable[[spotipy.Spotify], dict[str, Any]]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The first page (it carries the totals) and every page's entries."""
        pages = [page async for page in user_pages(self._spotify, discord_user_id, first)]
        return pages[0], [entry for page in pages for entry in page.get("items") or []]

    async def _spotify_user_id(self, discord_user_id: int) -> str | None:
        async with self._sessions() as session:
            found: str | None = await session.scalar(
                select(SpotifyLink.spotify_user_id).where(
                    SpotifyLink.discord_user_id == discord_user_id
                )
            )
            return found


def _name(name: str, source: str) -> str:
    return "Your liked songs" if source == LIKED else f"The playlist “{shown(name)}”"


def _empty_message(name: str, source: str) -> str:
    if source == LIKED:
        return "You have no liked songs on Spotify yet, so there is nothing to shuffle."
    return f"The playlist “{shown(name)}” is empty, so there is nothing to shuffle."


def _choice_label(playlist: PlaylistSummary, me: str | None) -> str:
    """As /playlist labels them ("Road Trip · 37 tracks"), plus the owner when it is not
    the user: Spotify will not let us read someone else's playlist unless it is shared."""
    details = [f"{playlist.total:,} track{'s' if playlist.total != 1 else ''}"]
    if me is not None and playlist.owner_id != me:
        details.append(f"by {playlist.owner_name[:30]}")
    tail = " · " + " · ".join(details)
    name = playlist.name
    if len(name) + len(tail) > 100:  # Discord's limit for a choice's name
        name = name[: 99 - len(tail)].rstrip() + "…"
    return name + tail
