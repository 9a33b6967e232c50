"""``/channels/{id}``: a channel, and the typing indicator."""

from __future__ import annotations

from typing import Any

from ..errors import ApiError
from ..models import VIEW_CHANNEL, Channel
from ..rest import Endpoint, RestCall
from ..wire import channel_json


def readable_channel(call: RestCall) -> Channel:
    """A channel the bot can reach: 404 if unknown, 403 in a server without the bot."""
    ch = call.world.channel(call.params["channel_id"])
    if ch.guild_id is not None and not call.world.guilds[ch.guild_id].bot_member:
        raise ApiError(403, 50001, "Missing Access", kind="missing_access")
    if ch.is_private:
        raise ApiError(403, 50001, "Missing Access", kind="missing_access")
    return ch


async def get_channel(call: RestCall) -> Any:
    ch = readable_channel(call)
    if ch.guild_id is not None and not call.world.bot_permissions(ch) & VIEW_CHANNEL:
        raise ApiError(403, 50001, "Missing Access", kind="missing_access")
    return channel_json(call.world, ch)


async def typing(call: RestCall) -> Any:
    readable_channel(call)
    return None


def endpoints() -> list[Endpoint]:
    return [
        Endpoint("GET", "/channels/{channel_id}", get_channel, major="channel_id"),
        Endpoint("POST", "/channels/{channel_id}/typing", typing, major="channel_id"),
    ]
