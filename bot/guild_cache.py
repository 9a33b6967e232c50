"""The gateway keeps only what Encore reads of each server: its id, name, owner and member
count. No channels, roles, members, threads, emojis or stickers: discord.py would build an
object for each of them, in every server, for as long as the process runs, and Encore reads
none of them. What the bot may do in a channel is asked of Discord when it matters
(`bot/channel_access.py`); a channel option comes resolved in the interaction itself; posts
go to a channel by id (`get_partial_messageable`).

A lived-in server's GUILD_CREATE carries categories, text and voice channels with topics and
role overwrites, tens of roles, active threads, custom emojis and stickers: they are dropped
from the payload before discord.py sees it, and the events that would add them later are
ignored.

The servers are kept in a `ServerStore`, as one small tuple each (name, owner, member count,
availability and two levels: about 0.25 KiB a server, where discord.py's Guild is 1.1 KiB).
Asked for a server (`interaction.guild`, `bot.get_guild`, `bot.guilds`), the store makes a
`BareGuild` from its tuple: discord.py's own Guild, so `guild_join`/`guild_remove`,
`guild.shard_id` and everything discord.py does with a server work as they always did, whose
per-server containers (channels, members, roles, threads, voice states...) are one shared
mapping that stays empty. While anything holds that Guild, asking again returns the same one;
what discord.py changes on it (a GUILD_UPDATE, a server becoming available or not) is written
back to the store.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, MutableMapping
from typing import Any

import discord
from discord.state import AutoShardedConnectionState, ConnectionState

# What discord.py's Guild reads that Encore uses (`len(bot.guilds)`, `guild.shard_id` from
# the id) or that says whether the server is there at all; and two levels without which
# discord.py makes an "unknown" enum value of its own for every server (250 bytes each).
KEPT = frozenset(
    {
        "id",
        "name",
        "owner_id",
        "member_count",
        "unavailable",
        "joined_at",
        "large",
        "verification_level",
        "default_message_notifications",
    }
)


def trimmed_guild(data: dict[str, Any]) -> dict[str, Any]:
    """A GUILD_CREATE or GUILD_UPDATE payload with only what Encore reads."""
    return {key: value for key, value in data.items() if key in KEPT}


class KeepsNothing(dict[Any, Any]):
    """An empty mapping that stays empty: whatever discord.py puts in it is dropped, as a
    server's channels and roles are dropped from its events. One is shared by every server."""

    __slots__ = ()

    def __setitem__(self, key: Any, value: Any) -> None:
        return

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return default

    def update(self, *args: Any, **kwargs: Any) -> None:
        return


NOTHING = KeepsNothing()


class BareGuild(discord.Guild):
    """discord.py's Guild keeping nothing per server beyond its own fields."""

    __slots__ = ("__weakref__",)  # the store hands out the same one while it is held

    def _from_data(self, guild: Any) -> None:
        super()._from_data(guild)  # called by __init__ and on GUILD_UPDATE: rebuilt dicts
        self._channels = self._members = self._roles = self._threads = NOTHING
        self._voice_states = self._stage_instances = self._scheduled_events = NOTHING
        self._soundboard_sounds = NOTHING


# (name, owner id, member count, unavailable, verification level, notification level)
Server = tuple[str, int | None, int | None, bool, int, int]


class ServerStore(MutableMapping[int, discord.Guild]):
    """discord.py's `state._guilds`: each server as a `Server` tuple, a Guild made on demand."""

    def __init__(self, state: ConnectionState) -> None:
        self._state = state
        self._servers: dict[int, Server] = {}
        self._held: weakref.WeakValueDictionary[int, discord.Guild] = weakref.WeakValueDictionary()

    def __getitem__(self, guild_id: int) -> discord.Guild:
        guild = self._held.get(guild_id)
        if guild is None:
            name, owner_id, members, unavailable, verification, notifications = self._servers[
                guild_id
            ]
            data = {
                "id": guild_id,
                "name": name,
                "owner_id": owner_id,
                "member_count": members,
                "unavailable": unavailable,
                "verification_level": verification,
                "default_message_notifications": notifications,
            }
            guild = BareGuild(data=data, state=self._state)  # type: ignore[arg-type]
            self._held[guild_id] = guild
        return guild

    def __setitem__(self, guild_id: int, guild: discord.Guild) -> None:
        self._servers[guild_id] = (
            guild.name,
            guild.owner_id,
            guild._member_count,
            guild.unavailable,
            guild.verification_level.value,
            guild.default_notifications.value,
        )
        self._held[guild_id] = guild

    def __delitem__(self, guild_id: int) -> None:
        del self._servers[guild_id]
        self._held.pop(guild_id, None)

    def __contains__(self, guild_id: object) -> bool:
        return guild_id in self._servers

    def __iter__(self) -> Iterator[int]:
        return iter(self._servers)

    def __len__(self) -> int:
        return len(self._servers)


def servers_on_shard(client: discord.AutoShardedClient, shard_id: int) -> int:
    """How many servers a shard holds, counted from their ids: no Guild is made (iterating
    `bot.guilds` makes one per server, about 20 us each)."""
    count = client.shard_count or 1
    return sum(1 for guild_id in client._connection._guilds if (guild_id >> 22) % count == shard_id)


class TrimmedConnectionState(AutoShardedConnectionState[Any]):
    """discord.py's state, fed bare servers (its parsers are looked up by name, so these
    overrides are what it calls for each event)."""

    def clear(self, *, views: bool = True) -> None:
        super().clear(views=views)
        self._guilds = ServerStore(self)  # type: ignore[assignment]

    def _add_guild_from_data(self, data: Any) -> discord.Guild:
        # The one place discord.py makes the Guild it keeps (GUILD_CREATE, READY's stubs).
        guild = BareGuild(data=data, state=self)
        self._add_guild(guild)
        return guild

    # discord.py changes a kept Guild in place: each change is written back to the store
    # (holding the Guild meanwhile, so discord.py changes the one written back).

    def _get_create_guild(self, data: Any) -> discord.Guild:
        guild = super()._get_create_guild(data)
        self._add_guild(guild)
        return guild

    def parse_guild_create(self, data: Any) -> None:
        super().parse_guild_create(trimmed_guild(data))

    def parse_guild_update(self, data: Any) -> None:
        held = self._get_guild(int(data["id"]))
        super().parse_guild_update(trimmed_guild(data))
        if held is not None:
            self._add_guild(held)

    def parse_guild_delete(self, data: Any) -> None:
        held = self._get_guild(int(data["id"]))
        super().parse_guild_delete(data)
        if held is not None and data.get("unavailable", False):
            self._add_guild(held)  # still a server of ours, unavailable for now

    # A server's channels, roles, threads, emojis and stickers are never kept.
    def parse_channel_create(self, data: Any) -> None:
        if data.get("guild_id") is None:
            super().parse_channel_create(data)

    def parse_channel_update(self, data: Any) -> None:
        if data.get("guild_id") is None:
            super().parse_channel_update(data)

    def parse_guild_role_create(self, data: Any) -> None:
        return

    def parse_guild_role_update(self, data: Any) -> None:
        return

    def parse_thread_create(self, data: Any) -> None:
        return

    def parse_thread_update(self, data: Any) -> None:
        return

    def parse_thread_list_sync(self, data: Any) -> None:
        return

    def parse_guild_emojis_update(self, data: Any) -> None:
        return

    def parse_guild_stickers_update(self, data: Any) -> None:
        return
