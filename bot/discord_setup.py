"""Pointing discord.py at Discord, or at the sandbox, from the settings alone."""

from __future__ import annotations

import discord
import yarl
from discord.gateway import DiscordWebSocket


def point_discord_at(api_url: str, gateway_url: str) -> None:
    # Route.BASE is a class attribute that webhooks and interaction callbacks read too;
    # the gateway URL is used by plain clients and after an INVALID_SESSION.
    discord.http.Route.BASE = api_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


NO_MENTIONS = discord.AllowedMentions.none()
