"""Daily digests at the service level: a FrozenClock, the real database and the Discord emulator
(through a REST-only discord.py client, as the worker posts). Once per server per local day:
across DST changes, racing workers, a worker killed mid-fan-out, and channels that refuse."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.clock import FrozenClock
from bot.config import Role, load_settings
from bot.digests import (
    Digest,
    DigestClaim,
    DigestService,
    due_local_date,
    next_post_at,
    parse_post_time,
    parse_timezone,
    scheduled_at,
)
from bot.discord_setup import point_discord_at
from bot.errors import BadInput
from bot.runtime import RestClient
from bot.services import Services
from bot.ui.digest_poster import DiscordPoster
from db.models import Artist, DigestRun, GuildSettings, Release, ReleaseArtist
from sandbox.discord import DiscordControl, DiscordEmulator

UTC = dt.UTC


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    services: Services
    clock: FrozenClock
    discord: DiscordControl
    client: RestClient

    def worker(self, name: str = "worker-a", **options: Any) -> DigestService:
        return DigestService(
            self.services.sessions,
            self.services.releases,
            self.clock,
            status={},
            worker=name,
            poster=DiscordPoster(self.client),
            **options,
        )

    async def server(self, name: str = "Server", *, can_post: bool = True) -> tuple[int, int]:
        guild = await self.discord.create_guild(
            name, channels=[{"name": "new-releases", "bot_can_post": can_post}]
        )
        return int(guild["id"]), int(guild["channels"][0]["id"])

    async def posts(self, channel_id: int) -> list[dict[str, Any]]:
        return [
            m for m in await self.discord.messages(channel_id=channel_id) if m["kind"] == "channel"
        ]

    async def release(self, name: str, artist: str, day: dt.date, kind: str = "album") -> None:
        async with self.services.sessions() as session, session.begin():
            artist_id = f"artist{abs(hash(artist)) % 10**8}"
            if await session.get(Artist, artist_id) is None:
                session.add(
                    Artist(
                        id=artist_id,
                        name=artist,
                        url=f"https://open.spotify.com/artist/{artist_id}",
                    )
                )
            release_id = f"rel{abs(hash(name)) % 10**8}"
            session.add(
                Release(
                    id=release_id,
                    name=name,
                    album_type=kind,
                    release_date=day,
                    release_date_precision="day",
                    total_tracks=10 if kind == "album" else 1,
                    image_url=f"https://i.scdn.co/image/{release_id}",
                    url=f"https://open.spotify.com/album/{release_id}",
                )
            )
            await session.flush()
            session.add(ReleaseArtist(release_id=release_id, artist_id=artist_id, position=0))

    async def runs(self, guild_id: int) -> list[tuple[dt.date, str]]:
        async with self.services.sessions() as session:
            rows = await session.execute(
                select(DigestRun.local_date, DigestRun.status)
                .where(DigestRun.guild_id == guild_id)
                .order_by(DigestRun.local_date)
            )
            return [(day, status) for day, status in rows]


@pytest.fixture
async def world(clean_database: str, fernet_key: str) -> AsyncIterator[World]:
    emulator = DiscordEmulator()
    base = await emulator.start()
    point_discord_at(emulator.api_url, emulator.gateway_url)
    settings = load_settings(
        Role.WEB,
        database_url=clean_database,
        encryption_keys=fernet_key,
        spotify_client_id="unused",
        spotify_client_secret="unused",
    )
    clock = FrozenClock(utc(2026, 11, 6, 6, 0))
    services = await Services.build(settings, clock=clock)
    client = RestClient()
    await client.login(emulator.bot_token)
    async with DiscordControl(base) as control:
        yield World(services, clock, control, client)
    await client.close()
    await services.close()
    await emulator.stop()


# -- schedule arithmetic ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "post_time", "expected"),
    [
        # Spring forward: 02:30 does not exist; it is pushed to 03:30 local.
        ("Europe/Berlin", dt.date(2026, 3, 29), dt.time(2, 30), utc(2026, 3, 29, 1, 30)),
        # Fall back: 02:30 happens twice; the first one (still summer time) counts.
        ("Europe/Berlin", dt.date(2026, 10, 25), dt.time(2, 30), utc(2026, 10, 25, 0, 30)),
        ("America/New_York", dt.date(2026, 3, 8), dt.time(2, 30), utc(2026, 3, 8, 7, 30)),
        ("America/New_York", dt.date(2026, 11, 1), dt.time(1, 30), utc(2026, 11, 1, 5, 30)),
        ("UTC", dt.date(2026, 11, 6), dt.time(9, 0), utc(2026, 11, 6, 9, 0)),
    ],
)
def test_a_local_post_time_becomes_one_utc_instant(
    zone: str, day: dt.date, post_time: dt.time, expected: dt.datetime
) -> None:
    assert scheduled_at(day, post_time, zone) == expected
    assert due_local_date(expected, post_time, zone) == day
    assert due_local_date(
        expected - dt.timedelta(seconds=1), post_time, zone
    ) == day - dt.timedelta(days=1)
    assert next_post_at(expected - dt.timedelta(seconds=1), post_time, zone) == expected


def test_times_and_zones_are_checked_with_a_message_that_says_how() -> None:
    assert parse_post_time("9:05") == dt.time(9, 5)
    assert parse_post_time(" 21:30 ") == dt.time(21, 30)
    for bad in ("24:00", "9", "9:5", "noon", "12:60", "-1:00"):
        with pytest.raises(BadInput, match="HH:MM"):
            parse_post_time(bad)
    assert parse_timezone("europe/berlin") == "Europe/Berlin"
    assert parse_timezone("America/New York") == "America/New_York"
    with pytest.raises(BadInput, match="Europe/Berlin"):
        parse_timezone("Mars/Olympus_Mons")


# -- posting ---------------------------------------------------------------------------------


async def test_the_digest_lists_the_days_releases_by_artist_with_links_and_a_cover(
    world: World,
) -> None:
    day = dt.date(2026, 11, 6)
    await world.release("Big Album", "Ada", day)
    await world.release("Small Single", "Ada", day, "single")
    await world.release("Other Single", "Bo", day, "single")
    await world.release("Yesterday's", "Cy", day - dt.timedelta(days=1))
    guild_id, channel_id = await world.server()
    service = world.worker()
    await service.set_channel(guild_id, channel_id)  # 09:00 UTC by default

    world.clock.advance(hours=3)  # 09:00
    report = await service.tick()

    assert report["sent"] == 1
    [post] = await world.posts(channel_id)
    embed = post["embeds"][0]
    assert embed["title"] == "New releases for Friday 6 November 2026 (UTC)"
    assert "2 artists, 3 releases" in embed["description"]
    assert "**[Ada](https://open.spotify.com/artist/" in embed["description"]
    assert embed["description"].index("Big Album") < embed["description"].index("Other Single")
    assert "Yesterday's" not in embed["description"]
    assert embed["thumbnail"]["url"].startswith("https://i.scdn.co/image/")
    assert embed["footer"]["text"] == "Encore daily digest · 2026-11-06 · UTC"
    assert post["allowed_mentions"] == {"parse": []}
    status = await service.status(guild_id)
    assert status is not None and status.next_run_at == utc(2026, 11, 7, 9, 0)
    assert status.last_posted_at == world.clock.now()
    assert await world.runs(guild_id) == [(dt.date(2026, 11, 6), "sent")]


async def test_a_day_without_releases_posts_a_short_note_or_nothing(world: World) -> None:
    noted, noted_channel = await world.server("Notes")
    quiet, quiet_channel = await world.server("Quiet")
    service = world.worker()
    await service.set_channel(noted, noted_channel)
    await service.set_channel(quiet, quiet_channel)
    await service.set_empty_days(quiet, post=False)

    world.clock.advance(hours=3)
    report = await service.tick()

    assert (report["sent"], report["skipped"]) == (1, 1)
    [note] = await world.posts(noted_channel)
    assert "Nothing new came out on Friday 6 November 2026" in note["embeds"][0]["description"]
    assert await world.posts(quiet_channel) == []
    assert await world.runs(quiet) == [(dt.date(2026, 11, 6), "skipped")]


@pytest.mark.parametrize(
    ("zone", "local_day", "expected_posts"),
    [
        # The day of the change, and the next: once each, at 02:30 local (03:30 when skipped).
        ("Europe/Berlin", dt.date(2026, 3, 29), [utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)]),
        (
            "Europe/Berlin",
            dt.date(2026, 10, 25),
            [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)],
        ),
        ("America/New_York", dt.date(2026, 3, 8), [utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)]),
        (
            "America/New_York",
            dt.date(2026, 11, 1),
            [utc(2026, 11, 1, 7, 30), utc(2026, 11, 2, 7, 30)],
        ),
    ],
)
async def test_daylight_saving_days_get_exactly_one_digest(
    world: World, zone: str, local_day: dt.date, expected_posts: list[dt.datetime]
) -> None:
    guild_id, channel_id = await world.server()
    world.clock = FrozenClock(scheduled_at(local_day, dt.time(12), zone) - dt.timedelta(days=1))
    service = world.worker()
    await service.set_channel(guild_id, channel_id)
    await service.set_timezone(guild_id, zone)
    await service.set_time(guild_id, "02:30")

    # Walk the two days in 10-minute ticks, as the worker would (and then some).
    posted_at = []
    end = expected_posts[-1] + dt.timedelta(hours=3)
    while world.clock.now() <= end:
        if (await service.tick())["sent"]:
            posted_at.append(world.clock.now())
        world.clock.advance(minutes=10)

    assert posted_at == expected_posts
    assert [day for day, _ in await world.runs(guild_id)] == [
        local_day,
        local_day + dt.timedelta(days=1),
    ]
    assert len(await world.posts(channel_id)) == 2


async def test_two_workers_racing_post_each_server_once(world: World) -> None:
    servers = [await world.server(f"Server {n}") for n in range(40)]
    setup = world.worker()
    for guild_id, channel_id in servers:
        await setup.set_channel(guild_id, channel_id)
    a, b = world.worker("worker-a", batch_size=7), world.worker("worker-b", batch_size=7)

    world.clock.advance(hours=3)
    reports = await asyncio.gather(a.tick(), b.tick(), a.tick(), b.tick())

    assert sum(report["sent"] for report in reports) == 40
    for _, channel_id in servers:
        assert len(await world.posts(channel_id)) == 1
    async with world.services.sessions() as session:
        claimers = set(await session.scalars(select(DigestRun.claimed_by)))
        leftover = await session.scalar(
            select(GuildSettings.guild_id).where(GuildSettings.claimed_by.is_not(None))
        )
    assert claimers == {"worker-a", "worker-b"} and leftover is None


async def test_a_worker_killed_mid_fan_out_is_finished_by_another_without_duplicates(
    world: World,
) -> None:
    servers = [await world.server(f"Server {n}") for n in range(6)]
    setup = world.worker()
    for guild_id, channel_id in servers:
        await setup.set_channel(guild_id, channel_id)
    world.clock.advance(hours=3)
    doomed, survivor = world.worker("doomed"), world.worker("survivor")

    claims = await doomed.claim_due()
    assert len(claims) == 6
    # It got two digests out before it died, and recorded neither as sent.
    assert doomed.poster is not None
    for claim in claims[:2]:
        await doomed.poster.post(
            claim.channel_id, await doomed.build(claim.local_date, claim.timezone)
        )
    # While its lease holds, nobody else touches those servers.
    assert (await survivor.tick()).outcomes == {}

    world.clock.advance(minutes=5, seconds=1)
    report = await survivor.tick()

    assert report["sent"] == 6
    for guild_id, channel_id in servers:
        assert len(await world.posts(channel_id)) == 1
        assert await world.runs(guild_id) == [(dt.date(2026, 11, 6), "sent")]
    world.clock.advance(hours=1)
    assert (await survivor.tick()).outcomes == {}


class StuckPoster:
    """Discord taking each post and never answering."""

    def __init__(self) -> None:
        self.posting = 0
        self.both_posting = asyncio.Event()

    async def post(self, channel_id: int, digest: Digest, *, nonce: str | None = None) -> int:
        self.posting += 1
        if self.posting == 2:
            self.both_posting.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def find_posted(self, channel_id: int, digest: Digest) -> int | None:
        return None


class SecondClaimFails(DigestService):
    """A worker whose database goes away while its first batch is being posted."""

    claims = 0

    async def _claim_batch(self, now: dt.datetime) -> tuple[int, list[DigestClaim]]:
        self.claims += 1
        if self.claims == 2:
            assert isinstance(self.poster, StuckPoster)
            await self.poster.both_posting.wait()
            raise ConnectionError("the database went away")
        return await super()._claim_batch(now)


async def test_a_claim_failing_mid_fan_out_leaves_no_sender_running_and_nothing_lost(
    world: World,
) -> None:
    servers = [await world.server(f"Server {n}") for n in range(5)]
    setup = world.worker()
    for guild_id, channel_id in servers:
        await setup.set_channel(guild_id, channel_id)
    world.clock.advance(hours=3)
    stuck = StuckPoster()
    failing = SecondClaimFails(
        world.services.sessions,
        world.services.releases,
        world.clock,
        status={},
        worker="failing",
        batch_size=2,
        poster=stuck,
    )
    running_before = asyncio.all_tasks()

    with pytest.raises(ConnectionError):
        await failing.tick()

    assert stuck.posting == 2  # the first batch was being posted when claiming failed...
    assert asyncio.all_tasks() - running_before == set()  # ...and no sender outlived the tick
    world.clock.advance(minutes=5, seconds=1)  # the cut-short claims' leases run out
    assert (await world.worker("survivor").tick())["sent"] == 5
    for _, channel_id in servers:
        assert len(await world.posts(channel_id)) == 1


async def test_a_run_interrupted_twice_is_abandoned_not_retried_forever(world: World) -> None:
    guild_id, channel_id = await world.server()
    await world.worker().set_channel(guild_id, channel_id)
    world.clock.advance(hours=3)
    assert len(await world.worker("first").claim_due()) == 1
    world.clock.advance(minutes=6)
    assert len(await world.worker("second").claim_due()) == 1  # the recovery, also killed
    world.clock.advance(minutes=6)

    assert (await world.worker("third").tick()).outcomes == {}
    assert await world.runs(guild_id) == [(dt.date(2026, 11, 6), "abandoned")]
    status = await world.worker().status(guild_id)
    assert status is not None and status.next_run_at == utc(2026, 11, 7, 9, 0)


async def test_a_channel_that_refuses_pauses_the_digest_after_three_failures(
    world: World,
) -> None:
    guild_id, channel_id = await world.server()
    service = world.worker()
    await service.set_channel(guild_id, channel_id)
    await world.discord.update_channel(channel_id, bot_can_post=False)
    world.clock.advance(hours=3)

    outcomes = []
    for _ in range(12):  # two hours of 10-minute ticks
        outcomes += list((await service.tick()).outcomes.elements())
        world.clock.advance(minutes=10)

    assert outcomes == ["retry", "retry", "paused"]
    status = await service.status(guild_id)
    assert status is not None and status.paused_reason is not None
    assert "3 times in a row" in status.paused_reason and "403" in status.paused_reason
    state = await world.discord.state()
    assert state["invalid_requests_10min"] == 3  # no retry loop against the ban limit

    # The admin fixes the permission and sets the channel again: today's digest goes out now.
    await world.discord.update_channel(channel_id, bot_can_post=True)
    resumed = await service.set_channel(guild_id, channel_id)
    assert resumed.paused_reason is None and resumed.next_run_at == world.clock.now()
    assert (await service.tick())["sent"] == 1
    assert len(await world.posts(channel_id)) == 1
    assert await world.runs(guild_id) == [(dt.date(2026, 11, 6), "sent")]


async def test_moving_the_time_later_on_a_day_already_posted_does_not_post_again(
    world: World,
) -> None:
    guild_id, channel_id = await world.server()
    service = world.worker()
    await service.set_channel(guild_id, channel_id)
    world.clock.advance(hours=3)
    assert (await service.tick())["sent"] == 1

    moved = await service.set_time(guild_id, "18:00")
    assert moved.next_run_at == utc(2026, 11, 6, 18, 0)
    world.clock.advance(hours=9)
    assert (await service.tick())["sent"] == 0

    status = await service.status(guild_id)
    assert status is not None and status.next_run_at == utc(2026, 11, 7, 18, 0)
    assert len(await world.posts(channel_id)) == 1


async def test_a_worker_back_after_days_away_posts_today_once_not_every_missed_day(
    world: World,
) -> None:
    guild_id, channel_id = await world.server()
    service = world.worker()
    await service.set_channel(guild_id, channel_id)
    world.clock.advance(days=3, hours=5)  # 2026-11-09 11:00

    assert (await service.tick())["sent"] == 1
    [post] = await world.posts(channel_id)
    assert post["embeds"][0]["footer"]["text"] == "Encore daily digest · 2026-11-09 · UTC"


async def test_turning_the_digest_off_stops_it(world: World) -> None:
    guild_id, channel_id = await world.server()
    service = world.worker()
    await service.set_channel(guild_id, channel_id)
    off = await service.turn_off(guild_id)
    assert not off.enabled and off.next_run_at is None
    world.clock.advance(days=2)
    assert (await service.tick()).outcomes == {}
    async with world.services.sessions() as session:
        await session.execute(update(GuildSettings).values(next_run_at=world.clock.now()))
        await session.commit()
    assert (await service.tick()).outcomes == {}  # disabled rows are never claimed
