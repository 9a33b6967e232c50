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

What is left of a server is a `BareGuild`: discord.py's own Guild (so `interaction.guild`,
`guild_join`/`guild_remove`, `bot.guilds` and `guild.shard_id` work as they always did) whose
nine per-server containers (channels, members, roles, threads, voice states...) are one shared
mapping that stays empty. Nine empty dicts were half of what a bare server cost (about 1.1 KiB
each; about 0.55 KiB shared).
"""

from __future__ import annotations

from typing import Any

import discord
from discord.state import AutoShardedConnectionState

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

    __slots__ = ()

    def _from_data(self, guild: Any) -> None:
        super()._from_data(guild)  # called by __init__ and on GUILD_UPDATE: rebuilt dicts
        self._channels = self._members = self._roles = self._threads = NOTHING
        self._voice_states = self._stage_instances = self._scheduled_events = NOTHING
        self._soundboard_sounds = NOTHING


class TrimmedConnectionState(AutoShardedConnectionState[Any]):
    """discord.py's state, fed bare servers (its parsers are looked up by name, so these
    overrides are what it calls for each event)."""

    def _add_guild_from_data(self, data: Any) -> discord.Guild:
        # The one place discord.py makes the Guild it keeps (GUILD_CREATE, READY's stubs).
        guild = BareGuild(data=data, state=self)
        self._add_guild(guild)
        return guild

    def parse_guild_create(self, data: Any) -> None:
        super().parse_guild_create(trimmed_guild(data))

    def parse_guild_update(self, data: Any) -> None:
        super().parse_guild_update(trimmed_guild(data))

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
