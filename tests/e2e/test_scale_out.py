"""Several processes, one database: two gateways (half the shards each), two workers, one web."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import AsyncIterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select

from db.engine import create_engine
from db.models import RadarArtist, RadarDelivery, RadarSettings, RadarWatch
from sandbox.browser import Browser, follow_link
from sandbox.cluster import shards_ready
from sandbox.discord import DiscordControl, DiscordEmulator
from sandbox.harness import digest_posts, render, schedule_digests_now
from sandbox.processes import encore_env, free_port, process, sync_commands, wait_until_up
from sandbox.spotify import SpotifyControl, SpotifyEmulator
from tests.drains import digests_settled, outbox_drained, until

SHARDS = 4
SERVERS = 100


class Cluster:
    def __init__(
        self, discord: DiscordControl, spotify: SpotifyControl, public_url: str, database_url: str
    ) -> None:
        self.discord = discord
        self.spotify = spotify
        self.public_url = public_url
        self.database_url = database_url


@pytest.fixture
async def cluster(clean_database: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    discord_emulator, spotify_emulator = DiscordEmulator(), SpotifyEmulator()
    discord_base = await discord_emulator.start()
    spotify_base = await spotify_emulator.start()
    web_port = free_port()
    public_url = f"http://127.0.0.1:{web_port}"
    discord = DiscordControl(discord_base)
    spotify = SpotifyControl(spotify_base)
    info = await discord.info()  # the web process proves who opens a link with Discord
    await discord.set_redirect_uris([f"{public_url}/discord/callback"])
    env = encore_env(
        discord_base,
        spotify_base,
        clean_database,
        Fernet.generate_key().decode(),
        SHARD_COUNT=str(SHARDS),
        PUBLIC_URL=public_url,
        WEB_PORT=str(web_port),
        SCHEDULER_TICK_SECONDS="1",
        DISCORD_CLIENT_ID=str(info["client_id"]),
        DISCORD_CLIENT_SECRET=str(info["client_secret"]),
    )
    await discord.create_guilds_bulk(SERVERS, "server")
    python = sys.executable
    await sync_commands({**env, "PYTHONPATH": str(Path.cwd())}, Path.cwd())
    with ExitStack() as stack:
        roles = [
            ("gateway-a", ["gateway"], {"SHARD_IDS": "0-1"}),
            ("gateway-b", ["gateway"], {"SHARD_IDS": "2-3"}),
            ("worker-1", ["worker"], {}),
            ("worker-2", ["worker"], {}),
            ("web", ["web"], {}),
        ]
        for name, args, extra in roles:
            stack.enter_context(
                process(
                    [python, "-m", "bot", *args], {**env, **extra}, log=tmp_path / f"{name}.log"
                )
            )
        await wait_until_up(f"{public_url}/health")
        await shards_ready(
            discord,
            SHARDS,
            SERVERS,
            lambda: "\n".join(p.read_text()[-2000:] for p in tmp_path.glob("*.log")),
            timeout=60,
        )
        try:
            yield Cluster(discord, spotify, public_url, clean_database)
        finally:
            await discord.close()
            await spotify.close()
    await discord_emulator.stop()
    await spotify_emulator.stop()


async def test_processes_agree_through_postgresql_alone(cluster: Cluster) -> None:
    """One cluster start (about 20 s) serves every check."""
    await every_command_is_answered_once_by_the_shard_that_owns_its_server(cluster)
    member = await a_link_made_through_the_web_process_is_confirmed_by_dm(cluster)
    await every_server_gets_exactly_one_digest_from_two_workers(cluster)
    await a_member_gets_exactly_one_radar_dm_from_two_workers(cluster, member)


async def every_command_is_answered_once_by_the_shard_that_owns_its_server(
    cluster: Cluster,
) -> None:
    user = int((await cluster.discord.create_user("member"))["id"])
    guilds = await cluster.discord.guilds()
    assert len(guilds) == SERVERS
    injected = []
    for guild in guilds:
        guild_id = int(guild["id"])
        channel_id = guild["channels"][0]["id"]
        result = await cluster.discord.command(
            "account", user, guild_id=guild_id, channel_id=channel_id
        )
        assert result["shard_id"] == (guild_id >> 22) % SHARDS
        injected.append(result["id"])
    for interaction_id in injected:
        record = await cluster.discord.interaction(interaction_id, wait=15)
        assert record["response"] is not None, record
        assert (
            "/link" in render({"content": "", **(record["response"]["data"] or {})})
            or record["original"]
        )
        assert not record["late_responses"] and not record["extra_acks"]
    shards = {
        s["shard_id"] for s in (await cluster.discord.state())["shards"] if s.get("connected")
    }
    assert shards == set(range(SHARDS))


async def a_link_made_through_the_web_process_is_confirmed_by_dm(cluster: Cluster) -> int:
    user = int((await cluster.discord.create_user("linker"))["id"])
    guild = (await cluster.discord.guilds())[0]
    result = await cluster.discord.command(
        "link", user, guild_id=guild["id"], channel_id=guild["channels"][0]["id"]
    )
    await cluster.discord.interaction(result["id"], wait=15, until="answered")
    dms = await cluster.discord.dms(user)
    url = next(
        component["url"]
        for message in dms
        for row in message.get("components") or []
        for component in row["components"]
        if str(component.get("url", "")).startswith(f"{cluster.public_url}/link/")
    )
    async with Browser() as browser:
        outcome = await follow_link(
            browser,
            url,
            discord=cluster.discord,
            spotify=cluster.spotify,
            spotify_user="alice",
            discord_user=user,
        )
    assert outcome.status == 200, outcome.page
    # Both workers and both gateways deliver the outbox: once it has nothing left to send,
    # every DM there will be is in.
    await outbox_drained(cluster.database_url)
    confirmations = [
        m for m in await cluster.discord.dms(user) if "is now linked" in (m["content"] or "")
    ]
    assert len(confirmations) == 1
    return user


async def every_server_gets_exactly_one_digest_from_two_workers(cluster: Cluster) -> None:
    guilds = await cluster.discord.guilds()
    await schedule_digests_now(cluster.database_url, guilds)
    # Until no server is due, claimed or mid-post: both workers are done for the day.
    await digests_settled(cluster.database_url)
    posts = await digest_posts(cluster.discord)
    missing = {str(guild["channels"][0]["id"]) for guild in guilds} - set(posts)
    assert not missing, f"{len(missing)} servers got no digest; {len(posts)} did"
    assert set(posts.values()) == {1}


async def a_member_gets_exactly_one_radar_dm_from_two_workers(cluster: Cluster, user: int) -> None:
    """Both worker processes check radar artists and deliver radars every second: the artist
    is looked at by one of them, the member's radar is queued and sent once."""
    artist = str((await cluster.spotify.catalog())["sample_artists"][-1])
    await cluster.spotify.add_release(artist, name="Scale Out Single")
    engine = create_engine(cluster.database_url)
    now = dt.datetime.now(dt.UTC)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(RadarWatch).values(
                    discord_user_id=user, artist_id=artist, source="manual", artist_name="x"
                )
            )
            await connection.execute(insert(RadarArtist).values(artist_id=artist, name="x"))

        async def checked() -> bool:
            async with engine.connect() as connection:
                done = await connection.scalar(
                    select(RadarArtist.last_checked_at).where(RadarArtist.artist_id == artist)
                )
            return done is not None

        await until(checked, timeout=30, what="no worker checked the radar's artist")
        async with engine.begin() as connection:
            await connection.execute(
                insert(RadarSettings).values(
                    discord_user_id=user,
                    next_delivery_at=now - dt.timedelta(minutes=1),
                    watchlist_refreshed_at=now,
                )
            )

        async def delivered() -> bool:
            async with engine.connect() as connection:
                runs = await connection.scalar(select(func.count()).select_from(RadarDelivery))
            return bool(runs)

        await until(delivered, timeout=30, what="no worker delivered the radar")
        await outbox_drained(cluster.database_url)
        async with engine.connect() as connection:
            runs = await connection.scalar(select(func.count()).select_from(RadarDelivery))
    finally:
        await engine.dispose()
    radar_dms = [m for m in await cluster.discord.dms(user) if "Scale Out Single" in render(m)]
    assert runs == 1 and len(radar_dms) == 1
    looks = await cluster.spotify.requests(path=f"^/v1/artists/{artist}/albums$")
    first_looks = [r for r in looks if "album,single" in str(r["query"].get("include_groups"))]
    assert len(first_looks) == 1  # one worker claimed it; the other skipped it
