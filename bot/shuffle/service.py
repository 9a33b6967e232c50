"""What the /shuffle commands do: Spotify reading and change checks around the stored
queues. The queue used last is the one next, peek, play and stop act on."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from bot.clock import Clock
from bot.errors import (
    EncoreError,
    NoActiveDevice,
    NotLinked,
    PremiumRequired,
    SpotifyBusy,
    SpotifyUnavailable,
)
from bot.music import PlaylistSummary, Track
from bot.playlists import PlaylistService
from bot.shuffle.errors import NoShuffleQueue, NothingToShuffle
from bot.shuffle.order import PlaylistChange, secure_rng
from bot.shuffle.queues import Dealt, QueueProgress, ShuffleQueues, StoredQueue, Upcoming
from bot.shuffle.sources import LIKED, LIKED_NAME, SourceReader
from bot.spotify import SpotifyGateway
from db.engine import SessionFactory, again_if_connection_lost
from db.erasure import link_generation
from db.models import SpotifyLink

log = logging.getLogger(__name__)

# Has the source changed on Spotify? Asked on every /shuffle start (and resume), and on
# next, peek and play at most this often per queue and process: one cheap call (the
# playlist's `snapshot_id`, or the liked-songs count and newest song), a full read only
# when it changed.
CHANGE_CHECK_INTERVAL = dt.timedelta(minutes=5)
MAX_DEAL = 10  # tracks per /shuffle next or play: one link button each fits a message
SUGGESTIONS = 25  # Discord shows at most 25 autocomplete choices


@dataclass(frozen=True)
class StartedQueue:
    progress: QueueProgress
    resumed: bool
    change: PlaylistChange | None = None
    unchecked: bool = False  # resumed without knowing whether the playlist changed


@dataclass(frozen=True)
class SourceChoice:
    """An autocomplete suggestion: liked songs (no playlist), or one of the user's playlists."""

    value: str
    playlist: PlaylistSummary | None = None
    # Someone else's playlist: Spotify lets us read it only if it is shared with the user.
    others: bool = False


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
        rng: Callable[[], random.Random] = secure_rng,
        check_interval: dt.timedelta = CHANGE_CHECK_INTERVAL,
    ) -> None:
        self._sessions = sessions
        self._spotify = spotify
        self._playlists = playlists
        self._clock = clock
        self.queues = ShuffleQueues(sessions, clock, rng)
        self._sources = SourceReader(spotify, playlists)
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
            choices.append(SourceChoice(LIKED))
        found = await self._playlists.suggestions(discord_user_id, typed)
        me = await self._spotify_user_id(discord_user_id) if found else None
        for playlist in found[: SUGGESTIONS - len(choices)]:
            others = me is not None and playlist.owner_id != me
            choices.append(SourceChoice(playlist.id, playlist, others))
        return choices

    async def start(self, discord_user_id: int, choice: str) -> StartedQueue:
        """Shuffle a source, or resume its queue (rebuilt first if the source changed)."""
        generation = await self._link_generation(discord_user_id)
        source = await self._sources.resolve(discord_user_id, choice)
        existing = await self.queues.one(discord_user_id, source)
        if existing is not None:
            return await self._resume(discord_user_id, existing)
        contents = await self._sources.read(discord_user_id, source)
        if not contents.tracks:
            raise NothingToShuffle(source, contents.name, removed=False)
        created = await self.queues.create(discord_user_id, contents, generation)
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

    @again_if_connection_lost
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
        if play:
            queue = await self._current(discord_user_id)
        else:
            # Checked lately (the usual case): found and dealt in one transaction.
            found = await self.queues.deal_current(
                discord_user_id, count, checked=self._checked_lately
            )
            if found is None:
                raise await self._no_queue(discord_user_id)
            if isinstance(found, Dealt):
                return found
            queue = found
        queue = await self._checked_now_and_then(discord_user_id, queue)

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
        if self._checked_lately(queue):
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

    def _checked_lately(self, queue: StoredQueue) -> bool:
        """This process asked Spotify about the queue's source less than 5 minutes ago."""
        checked = self._checked.get(queue.id)
        return checked is not None and self._clock.now() - checked < self._check_interval

    async def _refresh(self, discord_user_id: int, queue: StoredQueue) -> PlaylistChange | None:
        """Ask Spotify whether the source changed; rebuild the queue if it did."""
        self._mark_checked(queue.id)
        if await self._sources.version(discord_user_id, queue.source) == queue.version:
            return None
        contents = await self._sources.read(discord_user_id, queue.source)
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

    async def _link_generation(self, discord_user_id: int) -> int:
        """The link a new queue is anchored to: one built from a playlist read before
        /forget-me (or /unlink) is never stored after it."""
        async with self._sessions() as session:
            generation = await link_generation(session, discord_user_id)
        if generation is None:
            raise NotLinked
        return generation

    async def _spotify_user_id(self, discord_user_id: int) -> str | None:
        async with self._sessions() as session:
            found: str | None = await session.scalar(
                select(SpotifyLink.spotify_user_id).where(
                    SpotifyLink.discord_user_id == discord_user_id
                )
            )
            return found
