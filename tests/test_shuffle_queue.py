"""The stored shuffle queues on the real PostgreSQL: dealing, cycles and rebuilds."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, update

from bot.clock import FrozenClock
from bot.errors import NoActiveDevice, PremiumRequired
from bot.music import ArtistRef, Track
from bot.shuffle import NothingToShuffle, ShuffleQueues, SourceContents
from bot.shuffle.queues import Dealt, StoredQueue
from db.engine import SessionFactory, create_engine, session_factory
from db.models import ShuffleQueue, SpotifyLink
from tests.database_activity import DatabaseActivity

USER = 4242
PLAYLIST = "PlaylistPlaylistPlayli"


def tracks(first: int, last: int, artists: int = 5) -> list[Track]:
    """Tracks t<first>..t<last>, spread over a few artists."""
    return [
        Track(
            id=f"t{i}",
            name=f"Song {i}",
            artists=(ArtistRef(f"a{i % artists}", f"Artist {i % artists}"),),
        )
        for i in range(first, last + 1)
    ]


def contents(version: str, listed: list[Track]) -> SourceContents:
    return SourceContents(PLAYLIST, "Road Trip", version, listed)


GENERATION = 77  # of USER's link: queues are created under a link (db.erasure)


@pytest.fixture
async def queues(sessions: SessionFactory) -> ShuffleQueues:
    now = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)
    async with sessions() as session, session.begin():
        session.add(
            SpotifyLink(
                discord_user_id=USER,
                spotify_account_id="someone",
                spotify_user_id="someone",
                display_name="Someone",
                access_token=b"-",
                refresh_token=b"-",
                access_expires_at=now,
                scopes="",
                authorized_at=now,
                generation=GENERATION,
            )
        )
    return ShuffleQueues(sessions, FrozenClock(now))


async def stored(sessions: SessionFactory) -> ShuffleQueue | None:
    async with sessions() as session:
        return await session.scalar(
            select(ShuffleQueue).where(ShuffleQueue.discord_user_id == USER)
        )


async def order_of(sessions: SessionFactory) -> list[str]:
    row = await stored(sessions)
    assert row is not None
    return [track["id"] for track in row.tracks]


async def test_a_new_queue_holds_every_track_once_at_position_zero_of_cycle_one(
    queues: ShuffleQueues, sessions: SessionFactory
) -> None:
    listed = tracks(1, 20) + tracks(3, 4)  # a playlist may list a song twice

    created = await queues.create(USER, contents("v1", listed), GENERATION)

    assert created is not None and created.total == 20
    row = await stored(sessions)
    assert row is not None
    assert (row.position, row.cycle, row.snapshot_id) == (0, 1, "v1")
    assert sorted(await order_of(sessions)) == sorted(f"t{i}" for i in range(1, 21))
    assert (
        await queues.create(USER, contents("v1", listed), GENERATION) is None
    )  # one queue per source


async def test_a_changed_playlist_keeps_the_played_prefix_and_reshuffles_the_rest(
    queues: ShuffleQueues, sessions: SessionFactory
) -> None:
    created = await queues.create(USER, contents("v1", tracks(1, 20)), GENERATION)
    assert created is not None
    dealt = await queues.deal(created.id, 6)
    assert dealt is not None
    played = [queued.track.id for queued in dealt.tracks]
    unplayed_kept = next(t for t in await order_of(sessions) if t not in played)
    removed = {played[2], unplayed_kept}
    now_listed = [t for t in tracks(1, 20) if t.id not in removed] + tracks(21, 24)

    change = await queues.rebuild(created.id, contents("v2", now_listed))

    assert change is not None
    assert (change.added, change.removed, change.kept_played) == (4, 2, 5)
    order = await order_of(sessions)
    row = await stored(sessions)
    assert row is not None and (row.position, row.cycle, row.snapshot_id) == (5, 1, "v2")
    assert order[:5] == [t for t in played if t not in removed]
    assert sorted(order[5:]) == sorted(
        {t.id for t in now_listed} - set(played)
    )  # new tracks in, removed out, nothing heard comes back this cycle
    assert await queues.rebuild(created.id, contents("v2", now_listed)) is None  # done already


async def test_a_change_early_in_a_later_cycle_keeps_the_fresh_start(
    queues: ShuffleQueues, sessions: SessionFactory
) -> None:
    created = await queues.create(USER, contents("v1", tracks(1, 20)), GENERATION)
    assert created is not None
    cycle_one = []
    for _ in range(2):
        dealt = await queues.deal(created.id, 10)
        assert dealt is not None
        cycle_one += [queued.track.id for queued in dealt.tracks]
    assert dealt is not None and dealt.new_cycle == 2
    await queues.deal(created.id, 1)

    await queues.rebuild(created.id, contents("v2", tracks(1, 26)))

    order = await order_of(sessions)
    assert len(order) == 26
    assert not set(cycle_one[-5:]) & set(order[:5])  # the last quarter stays away


async def test_removing_everything_not_yet_heard_starts_the_next_cycle(
    queues: ShuffleQueues, sessions: SessionFactory
) -> None:
    created = await queues.create(USER, contents("v1", tracks(1, 8)), GENERATION)
    assert created is not None
    dealt = await queues.deal(created.id, 3)
    assert dealt is not None
    heard = [queued.track for queued in dealt.tracks]

    await queues.rebuild(created.id, contents("v2", heard))

    row = await stored(sessions)
    assert row is not None and (row.position, row.cycle) == (0, 2)
    assert sorted(await order_of(sessions)) == sorted(t.id for t in heard)


async def test_an_emptied_playlist_deletes_its_queue(
    queues: ShuffleQueues, sessions: SessionFactory
) -> None:
    created = await queues.create(USER, contents("v1", tracks(1, 8)), GENERATION)
    assert created is not None

    with pytest.raises(NothingToShuffle, match="is empty now"):
        await queues.rebuild(created.id, contents("v2", []))

    assert await stored(sessions) is None


async def test_deals_at_once_never_share_a_track(
    queues: ShuffleQueues, sessions: SessionFactory
) -> None:
    created = await queues.create(USER, contents("v1", tracks(1, 30)), GENERATION)
    assert created is not None

    deals = await asyncio.gather(*(queues.deal(created.id, 2) for _ in range(10)))

    ids = [queued.track.id for dealt in deals if dealt for queued in dealt.tracks]
    assert len(ids) == 20 and len(set(ids)) == 20
    row = await stored(sessions)
    assert row is not None and row.position == 20


async def test_deals_of_the_current_queue_at_once_never_share_a_track_with_any_other_deal(
    queues: ShuffleQueues, sessions: SessionFactory
) -> None:
    """`/shuffle next` in one transaction (`deal_current`) beside deals by id and a play
    holding the queue's session lock while Spotify takes tracks: one lock, no replays."""
    created = await queues.create(USER, contents("v1", tracks(1, 30)), GENERATION)
    assert created is not None

    async def taken(track: Track) -> None:
        await asyncio.sleep(0.01)  # Spotify takes its time; the lock is held meanwhile

    deals = await asyncio.gather(
        *(queues.deal_current(USER, 2, checked=lambda queue: True) for _ in range(6)),
        *(queues.deal(created.id, 2) for _ in range(3)),
        queues.deal(created.id, 2, taken),
    )

    assert all(isinstance(dealt, Dealt) for dealt in deals)
    ids = [
        queued.track.id for dealt in deals if isinstance(dealt, Dealt) for queued in dealt.tracks
    ]
    assert len(ids) == 20 and len(set(ids)) == 20
    assert ids and set(ids) == set((await order_of(sessions))[:20])
    row = await stored(sessions)
    assert row is not None and row.position == 20


async def test_a_current_queue_not_checked_lately_is_handed_back_unmoved(
    queues: ShuffleQueues, sessions: SessionFactory
) -> None:
    created = await queues.create(USER, contents("v1", tracks(1, 10)), GENERATION)
    assert created is not None
    seen: list[StoredQueue] = []

    def checked(queue: StoredQueue) -> bool:
        seen.append(queue)
        return False

    found = await queues.deal_current(USER, 3, checked=checked)

    assert found == created and seen == [created]
    row = await stored(sessions)
    assert row is not None and row.position == 0
    assert await queues.deal_current(USER + 1, 3, checked=lambda queue: True) is None


async def test_a_send_that_fails_first_moves_nothing(
    queues: ShuffleQueues, sessions: SessionFactory
) -> None:
    created = await queues.create(USER, contents("v1", tracks(1, 8)), GENERATION)
    assert created is not None

    async def refuse(track: Track) -> None:
        raise PremiumRequired

    with pytest.raises(PremiumRequired):
        await queues.deal(created.id, 3, refuse)

    row = await stored(sessions)
    assert row is not None and (row.position, row.cycle) == (0, 1)


async def test_a_send_that_fails_halfway_moves_past_what_was_taken(
    queues: ShuffleQueues, sessions: SessionFactory
) -> None:
    created = await queues.create(USER, contents("v1", tracks(1, 8)), GENERATION)
    assert created is not None
    taken: list[str] = []

    async def device_lost_after_two(track: Track) -> None:
        if len(taken) == 2:
            raise NoActiveDevice
        taken.append(track.id)

    dealt = await queues.deal(created.id, 5, device_lost_after_two)

    assert dealt is not None
    assert [queued.track.id for queued in dealt.tracks] == taken == (await order_of(sessions))[:2]
    assert isinstance(dealt.stopped_by, NoActiveDevice)
    row = await stored(sessions)
    assert row is not None and row.position == 2


class HeldSpotifyQueue:
    """Spotify's playback queue, taking each track only when told to."""

    def __init__(self) -> None:
        self.taken: list[str] = []
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def add(self, track: Track) -> None:
        self.asked.set()
        await self.release.wait()
        self.taken.append(track.id)


async def test_no_transaction_or_row_lock_is_open_while_spotify_takes_the_tracks(
    queues: ShuffleQueues, sessions: SessionFactory, database_activity: DatabaseActivity
) -> None:
    created = await queues.create(USER, contents("v1", tracks(1, 20)), GENERATION)
    assert created is not None
    spotify = HeldSpotifyQueue()
    playing = asyncio.create_task(queues.deal(created.id, 3, spotify.add))
    async with asyncio.timeout(10):
        await spotify.asked.wait()  # Spotify holds the first call open
    seen = await database_activity.now()
    assert seen.in_transaction == [] and seen.row_locks == []
    assert len(seen.advisory_locks) == 1  # the queue's: other deals wait for it
    spotify.release.set()
    dealt = await playing
    assert dealt is not None and [q.track.id for q in dealt.tracks] == spotify.taken
    row = await stored(sessions)
    assert row is not None and row.position == 3


async def test_a_next_from_another_process_during_a_play_gets_the_tracks_after_it(
    clean_database: str, database_activity: DatabaseActivity, queues: ShuffleQueues
) -> None:
    clock = FrozenClock(dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC))
    engines = [create_engine(clean_database), create_engine(clean_database)]
    try:
        gateway_a, gateway_b = (ShuffleQueues(session_factory(e), clock) for e in engines)
        created = await gateway_a.create(USER, contents("v1", tracks(1, 20)), GENERATION)
        assert created is not None
        spotify = HeldSpotifyQueue()
        playing = asyncio.create_task(gateway_a.deal(created.id, 3, spotify.add))
        async with asyncio.timeout(10):
            await spotify.asked.wait()
        following = asyncio.create_task(gateway_b.deal(created.id, 2))
        async with asyncio.timeout(10):
            while not any(
                ("pg_advisory_lock" in b.query or "pg_advisory_xact_lock" in b.query)
                and b.state == "active"
                for b in (await database_activity.now()).backends
            ):
                await asyncio.sleep(0.01)  # the next waits behind the play
        spotify.release.set()
        played, dealt = await playing, await following
    finally:
        for engine in engines:
            await engine.dispose()
    assert played is not None and dealt is not None
    assert [q.number for q in played.tracks] == [1, 2, 3]
    assert [q.number for q in dealt.tracks] == [4, 5]


async def test_a_cycle_rollover_of_a_large_playlist_stores_the_whole_next_order(
    queues: ShuffleQueues, sessions: SessionFactory
) -> None:
    created = await queues.create(USER, contents("v1", tracks(1, 10_000, artists=400)), GENERATION)
    assert created is not None
    async with sessions() as session, session.begin():
        await session.execute(update(ShuffleQueue).values(position=9_998))
    dealt = await queues.deal(created.id, 5)
    assert dealt is not None and dealt.new_cycle == 2
    assert [q.number for q in dealt.tracks] == [9_999, 10_000, 1, 2, 3]
    order = await order_of(sessions)
    assert sorted(order) == sorted(f"t{i}" for i in range(1, 10_001))
    row = await stored(sessions)
    assert row is not None and (row.position, row.cycle) == (3, 2)
    assert order[:3] == [q.track.id for q in dealt.tracks[2:]]
