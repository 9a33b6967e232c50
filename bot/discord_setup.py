"""Pointing discord.py at Discord, or at the sandbox, from the settings alone; pacing it by
the bot's global budget."""

from __future__ import annotations

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.discord_budget import DiscordBudget


def point_discord_at(api_url: str, gateway_url: str) -> None:
    # Route.BASE is a class attribute that webhooks and interaction callbacks read too;
    # the gateway URL is used by plain clients and after an INVALID_SESSION.
    discord.http.Route.BASE = api_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def pace_by(budget: DiscordBudget, client: discord.Client) -> None:
    """Make `client`'s REST requests draw from the bot's shared global budget (before it
    logs in: the trace goes into the HTTP session made at login)."""
    if budget.enabled:
        client.http.http_trace = budget.trace()


NO_MENTIONS = discord.AllowedMentions.none()
