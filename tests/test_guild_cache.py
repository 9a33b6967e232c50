"""The gateway's servers as `bot/guild_cache.py` keeps them: one small tuple each, a discord.py
Guild made when asked for, and what discord.py changes on that Guild written back."""

from __future__ import annotations

import gc
from types import SimpleNamespace
from typing import Any, cast

import discord

from bot.client import intents
from bot.guild_cache import BareGuild, TrimmedConnectionState, servers_on_shard

SERVER = 1_500_000_000_000_000_000


def state(events: list[tuple[str, tuple[Any, ...]]]) -> TrimmedConnectionState:
    def dispatch(event: str, *args: Any) -> None:
        events.append((event, args))

    return TrimmedConnectionState(
        dispatch=dispatch,
        handlers={},
        hooks={},
        http=None,
        intents=intents(),
        member_cache_flags=discord.MemberCacheFlags.none(),
        chunk_guilds_at_startup=False,
        max_messages=None,
    )


def server(name: str, **more: Any) -> dict[str, Any]:
    channel = {"id": str(SERVER + 1), "type": 0, "name": "general", "position": 0}
    return {
        "id": str(SERVER),
        "name": name,
        "owner_id": "42",
        "member_count": 300,
        "channels": [channel],
        "roles": [{"id": str(SERVER), "name": "@everyone", "permissions": "0", "position": 0}],
        **more,
    }


def test_a_server_is_made_when_asked_for_and_is_the_same_while_held() -> None:
    kept = state([])
    kept.parse_guild_create(server("Lived-in"))

    guild = kept._get_guild(SERVER)
    assert isinstance(guild, BareGuild) and guild is kept._get_guild(SERVER)
    assert (guild.name, guild.owner_id, guild.member_count) == ("Lived-in", 42, 300)
    assert list(guild.channels) == [] and list(guild.roles) == []
    assert [g.id for g in kept.guilds] == [SERVER] and len(kept.guilds) == 1


def test_a_renamed_server_keeps_its_new_name_after_its_guild_is_gone() -> None:
    events: list[tuple[str, tuple[Any, ...]]] = []
    kept = state(events)
    kept.parse_guild_create(server("Before"))

    kept.parse_guild_update(server("After"))
    events.clear()  # the event's Guilds are let go
    gc.collect()

    guild = kept._get_guild(SERVER)
    assert guild is not None and guild.name == "After" and list(guild.channels) == []


def test_a_server_gone_unavailable_stays_counted_and_comes_back() -> None:
    events: list[tuple[str, tuple[Any, ...]]] = []
    kept = state(events)
    kept.parse_guild_create(server("Here"))

    kept.parse_guild_delete({"id": str(SERVER), "unavailable": True})
    seen = [event for event, _ in events]
    events.clear()
    gc.collect()
    gone = kept._get_guild(SERVER)
    assert gone is not None and gone.unavailable and len(kept.guilds) == 1
    del gone
    gc.collect()

    kept.parse_guild_create(server("Here", unavailable=False))
    back = kept._get_guild(SERVER)
    assert back is not None and not back.unavailable
    kept.parse_guild_delete({"id": str(SERVER)})
    assert kept._get_guild(SERVER) is None and len(kept.guilds) == 0
    seen += [event for event, _ in events]
    assert seen == ["guild_join", "guild_unavailable", "guild_available", "guild_remove"]


def test_servers_are_counted_by_shard_from_their_ids() -> None:
    kept = state([])
    ids = [SERVER + (n << 22) for n in range(10)]  # shard = (id >> 22) % count
    for guild_id in ids:
        kept.parse_guild_create({**server("Counted"), "id": str(guild_id)})
    kept.shard_count = 4
    client = cast(discord.AutoShardedClient, SimpleNamespace(shard_count=4, _connection=kept))

    counts = [servers_on_shard(client, shard) for shard in range(4)]
    assert counts == [sum(1 for g in kept.guilds if g.shard_id == s) for s in range(4)]
    assert sum(counts) == 10
