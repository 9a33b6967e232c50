"""The one error handler: any error from a command, a button or a view becomes one ephemeral
message. Our own errors (`EncoreError`) are explained; anything else is an incident with an id."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import discord
from discord import app_commands

from bot.errors import EncoreError, MissingScope, NeedsRelink
from bot.playlist_saves import NothingToSave, SaveInterrupted
from bot.shuffle import NothingToShuffle
from bot.ui import listening, shuffle
from bot.ui.command_metrics import command_finished
from bot.ui.messages import reply
from bot.ui.relink import relink_view

log = logging.getLogger(__name__)

# discord.py's attribute names where Discord's own client says something else.
PERMISSION_NAMES = {"manage_guild": "Manage Server", "administrator": "Administrator"}


async def report_error(interaction: discord.Interaction[Any], error: Exception) -> None:
    """Turn any error from a command or a button into one ephemeral message."""
    original = getattr(error, "original", error)
    view: discord.ui.View | None = None
    if isinstance(original, EncoreError):
        message = user_message(original)
        outcome = type(original).__name__
        if isinstance(original, MissingScope | NeedsRelink):
            view = relink_view()  # linking again fixes both, and keeps everything else
    elif isinstance(error, app_commands.MissingPermissions):
        missing = ", ".join(
            PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in error.missing_permissions
        )
        message = f"You need the {missing} permission to do that."
        outcome = "forbidden"
    elif isinstance(error, app_commands.NoPrivateMessage):
        message = "That command only works in a server."
        outcome = "dm"
    elif isinstance(error, app_commands.CommandOnCooldown):
        message = f"Slow down: try again in {error.retry_after:.0f} s."
        outcome = "cooldown"
    elif isinstance(error, app_commands.CheckFailure):
        message = "You cannot use that command here."
        outcome = "check"
    elif isinstance(original, discord.NotFound) and original.code == 10062:
        log.warning("An interaction expired before we answered it")
        return  # nothing can be sent to an expired interaction
    else:
        incident = uuid.uuid4().hex[:8]
        log.error("Incident %s in %s", incident, describe(interaction), exc_info=original)
        message = (
            f"Something went wrong on our side (incident `{incident}`). Please try again later."
        )
        outcome = "incident"
    command = interaction.command.qualified_name if interaction.command else "component"
    command_finished(interaction, outcome, command)
    try:
        if view is not None:
            await reply(interaction, message, ephemeral=True, view=view)
        else:
            await reply(interaction, message, ephemeral=True)
    except discord.HTTPException:
        log.warning("Could not tell the user about an error in %s", describe(interaction))


def user_message(error: EncoreError) -> str:
    """What the user is told. Errors that quote a name from Spotify are rendered here, in
    `bot.ui`, where names are made safe to show; the rest carry their message."""
    if isinstance(error, NothingToShuffle):
        return shuffle.nothing_to_shuffle(error)
    if isinstance(error, NothingToSave):
        return listening.nothing_to_save_message(error)
    if isinstance(error, SaveInterrupted):
        return listening.interrupted_save_message(error)
    return error.user_message


def describe(interaction: discord.Interaction[Any]) -> str:
    """The command or component an interaction is for, as logs name it."""
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data: dict[str, Any] = dict(interaction.data or {})
    return f"component {data.get('custom_id', '?')}"
