"""The gateway keeps only what Encore reads of each server: its text channels with the
permission overwrites that concern the bot, @everyone and the bot's own roles, and the bot's
own member. That is all `/digest channel` needs to resolve its channel option and check the
bot's permissions there (`channel.permissions_for(guild.me)`).

A lived-in server's GUILD_CREATE also carries categories, voice channels, topics, tens of
roles, active threads, custom emojis and stickers; discord.py would build an object for each
of them, in every server, for as long as the process runs. They are dropped from the payload
before discord.py sees it.
"""

from __future__ import annotations

from typing import Any

import discord
from discord.state import AutoShardedConnectionState

TEXT_CHANNELS = frozenset({0, 5})  # text and announcement: what a TextChannel option takes
# Per-server lists Encore never reads (voice and stage need intents it does not ask for).
DROPPED = (
    "emojis",
    "stickers",
    "threads",
    "presences",
    "voice_states",
    "stage_instances",
    "guild_scheduled_events",
    "soundboard_sounds",
)
ROLE_OVERWRITE = 0


def bot_role_ids(
    data: dict[str, Any], self_id: int | None, cached: discord.Guild | None
) -> set[str]:
    """@everyone (the guild's id) and the bot's roles, from its member in the payload or the
    cache (GUILD_UPDATE carries no members)."""
    kept = {str(data["id"])}
    for member in data.get("members") or []:
        if str((member.get("user") or {}).get("id")) == str(self_id):
            kept.update(str(role) for role in member.get("roles") or [])
            return kept
    if cached is not None and cached.me is not None:
        kept.update(str(role.id) for role in cached.me.roles)
        return kept
    kept.update(str(role["id"]) for role in data.get("roles") or [])  # unknown: keep them all
    return kept


def trimmed_channel(
    channel: dict[str, Any], roles: set[str], self_id: int | None
) -> dict[str, Any]:
    overwrites = [
        overwrite
        for overwrite in channel.get("permission_overwrites") or []
        if (
            str(overwrite["id"]) in roles
            if overwrite["type"] == ROLE_OVERWRITE
            else str(overwrite["id"]) == str(self_id)
        )
    ]
    return {**channel, "permission_overwrites": overwrites, "topic": None}


def trimmed_guild(
    data: dict[str, Any], self_id: int | None, cached: discord.Guild | None = None
) -> dict[str, Any]:
    """A GUILD_CREATE or GUILD_UPDATE payload with only what Encore reads."""
    if data.get("unavailable"):
        return data
    roles = bot_role_ids(data, self_id, cached)
    kept = {key: value for key, value in data.items() if key not in DROPPED}
    if "roles" in data:
        kept["roles"] = [role for role in data["roles"] if str(role["id"]) in roles]
    if "channels" in data:
        kept["channels"] = [
            trimmed_channel(channel, roles, self_id)
            for channel in data["channels"]
            if channel.get("type") in TEXT_CHANNELS
        ]
    if "members" in data:
        kept["members"] = [
            member
            for member in data["members"]
            if str((member.get("user") or {}).get("id")) == str(self_id)
        ]
    return kept


class TrimmedConnectionState(AutoShardedConnectionState[Any]):
    """discord.py's state, fed trimmed servers (its parsers are looked up by name, so these
    overrides are what it calls for each event)."""

    def parse_guild_create(self, data: Any) -> None:
        super().parse_guild_create(trimmed_guild(data, self.self_id))

    def parse_guild_update(self, data: Any) -> None:
        cached = self._get_guild(int(data["id"]))
        super().parse_guild_update(trimmed_guild(data, self.self_id, cached))

    def parse_channel_create(self, data: Any) -> None:
        if data.get("type") in TEXT_CHANNELS:
            super().parse_channel_create(self._trimmed_channel(data))

    def parse_channel_update(self, data: Any) -> None:
        if data.get("type") in TEXT_CHANNELS:
            data = self._trimmed_channel(data)
        super().parse_channel_update(data)

    def _trimmed_channel(self, data: dict[str, Any]) -> dict[str, Any]:
        guild = self._get_guild(discord.utils._get_as_snowflake(data, "guild_id"))
        if guild is None:
            return data
        return trimmed_channel(
            data, bot_role_ids({"id": guild.id}, self.self_id, guild), self.self_id
        )

    def parse_thread_create(self, data: Any) -> None:
        return  # Encore never reads threads

    def parse_thread_list_sync(self, data: Any) -> None:
        return

    def parse_guild_emojis_update(self, data: Any) -> None:
        return

    def parse_guild_stickers_update(self, data: Any) -> None:
        return
