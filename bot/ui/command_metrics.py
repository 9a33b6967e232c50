"""Slash commands counted by outcome (`ok`, or the error the member was shown) with a latency
histogram: `command_started` runs in the tree's interaction check, `command_finished` in
discord.py's completion hook and in the one error handler (`bot.ui.errors.report_error`)."""

from __future__ import annotations

import time
from typing import Any

import discord

from bot import metrics

_STARTED = "encore_started"


def command_started(interaction: discord.Interaction[Any]) -> None:
    interaction.extras.setdefault(_STARTED, time.perf_counter())


def command_name(interaction: discord.Interaction[Any]) -> str:
    if interaction.command is not None:
        return interaction.command.qualified_name
    data: dict[str, Any] = dict(interaction.data or {})
    return str(data.get("name") or "component")


def command_finished(
    interaction: discord.Interaction[Any], outcome: str, name: str | None = None
) -> None:
    """Count one command (or button) by outcome; time it if it went through the tree."""
    name = name or command_name(interaction)
    metrics.COMMANDS.labels(name, outcome).inc()
    started = interaction.extras.pop(_STARTED, None)
    if started is not None:
        metrics.COMMAND_DURATION.labels(name).observe(time.perf_counter() - started)
