"""What the bot may do in a server's channel, asked of Discord when it matters.

The gateway keeps no roles and no permission overwrites (`bot/guild_cache.py`), and a cache
would be stale anyway: a role an owner gives the bot later ("I cannot post") reaches no
cache of ours. So `/digest channel` reads the bot's member, the server's roles and the
channel over REST and applies Discord's permission algorithm (docs: Permissions,
"Permission Hierarchy"), or, when the chosen channel is the one the command was used in,
takes the interaction's own `app_permissions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import discord
from discord import AppCommandOptionType, ChannelType, app_commands

ROLE_OVERWRITE, MEMBER_OVERWRITE = 0, 1


class TextChannelOption(app_commands.Transformer[Any]):
    """A text or announcement channel option, as the interaction resolved it: no cache
    needed, so it works with a gateway that keeps no channels."""

    @property
    def type(self) -> AppCommandOptionType:
        return AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[ChannelType]:
        return [ChannelType.text, ChannelType.news]

    async def transform(
        self, interaction: discord.Interaction[Any], value: Any, /
    ) -> app_commands.AppCommandChannel:
        if not isinstance(value, app_commands.AppCommandChannel):
            raise app_commands.TransformerError(value, self.type, self)
        return value


def permissions_in(
    guild_id: int,
    member_id: int,
    member_roles: Iterable[int | str],
    roles: Iterable[Mapping[str, Any]],
    overwrites: Iterable[Mapping[str, Any]],
) -> discord.Permissions:
    """A member's permissions in a channel (not the server's owner, who has them all): its
    roles' and @everyone's, every one with Administrator, then the channel's overwrites for
    @everyone, for its roles together, for the member; then Discord's implicit rules."""
    held = {str(role) for role in member_roles} | {str(guild_id)}
    value = 0
    for role in roles:
        if str(role["id"]) in held:
            value |= int(role["permissions"])
    if value & discord.Permissions.administrator.flag:
        return discord.Permissions.all()
    everyone, by_role, own = [], [], []
    for overwrite in overwrites:
        target = str(overwrite["id"])
        if int(overwrite["type"]) == MEMBER_OVERWRITE:
            if target == str(member_id):
                own.append(overwrite)
        elif target == str(guild_id):
            everyone.append(overwrite)
        elif target in held:
            by_role.append(overwrite)
    for group in (everyone, by_role, own):
        deny = allow = 0
        for overwrite in group:
            deny |= int(overwrite["deny"])
            allow |= int(overwrite["allow"])
        value = (value & ~deny) | allow
    return implicit(discord.Permissions(value))


def implicit(permissions: discord.Permissions) -> discord.Permissions:
    """No View Channel is no permission at all; no Send Messages takes embeds, files and
    mentions of everyone with it (Discord's "implicit permissions", as discord.py applies)."""
    if not permissions.view_channel:
        return discord.Permissions.none()
    if not permissions.send_messages:
        permissions.update(
            send_tts_messages=False, mention_everyone=False, embed_links=False, attach_files=False
        )
    return permissions


async def bot_permissions(
    interaction: discord.Interaction[Any], channel_id: int
) -> discord.Permissions:
    """The bot's permissions now in `channel_id`, a channel of the interaction's server."""
    if interaction.channel_id == channel_id:
        return interaction.app_permissions
    client = interaction.client
    assert interaction.guild_id is not None and client.user is not None
    http = client.http
    try:
        channel = await http.get_channel(channel_id)
    except discord.Forbidden:
        return discord.Permissions.none()  # Discord hides a channel the bot may not view
    member = await http.get_member(interaction.guild_id, client.user.id)
    roles = await http.get_roles(interaction.guild_id)
    return permissions_in(
        interaction.guild_id,
        client.user.id,
        member.get("roles") or [],
        roles,
        channel.get("permission_overwrites") or [],
    )
