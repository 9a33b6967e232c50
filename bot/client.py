"""EncoreBot: the gateway role. Wires services, loads cogs, owns the one error handler."""

from __future__ import annotations

import asyncio
import logging
import pkgutil
import uuid
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import metrics, options
from bot.discord_setup import NO_MENTIONS
from bot.errors import EncoreError
from bot.observability import command_finished, command_started
from bot.outbox import Undeliverable
from bot.services import Services
from bot.ui.like_button import LikeButton
from bot.ui.messages import reply

log = logging.getLogger(__name__)


def all_cogs() -> tuple[str, ...]:
    """Every module in `cogs/`: a new command group is a new file, nothing to register."""
    import cogs

    return tuple(
        f"cogs.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


# discord.py's attribute names where Discord's own client says something else.
PERMISSION_NAMES = {"manage_guild": "Manage Server", "administrator": "Administrator"}


def intents() -> discord.Intents:
    # Slash commands, buttons and DMs need no privileged intent; guilds gives us
    # channels and our own permissions for the digest settings.
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


async def report_error(interaction: discord.Interaction[Any], error: Exception) -> None:
    """Turn any error from a command or a button into one ephemeral message."""
    original = getattr(error, "original", error)
    if isinstance(original, EncoreError):
        message = original.user_message
        outcome = type(original).__name__
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
        log.error("Incident %s in %s", incident, _describe(interaction), exc_info=original)
        message = (
            f"Something went wrong on our side (incident `{incident}`). Please try again later."
        )
        outcome = "incident"
    command = interaction.command.qualified_name if interaction.command else "component"
    command_finished(interaction, outcome, command)
    try:
        await reply(interaction, message, ephemeral=True)
    except discord.HTTPException:
        log.warning("Could not tell the user about an error in %s", _describe(interaction))


def _describe(interaction: discord.Interaction[Any]) -> str:
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data: dict[str, Any] = dict(interaction.data or {})
    return f"component {data.get('custom_id', '?')}"


class EncoreTree(app_commands.CommandTree["EncoreBot"]):
    async def interaction_check(self, interaction: discord.Interaction[EncoreBot]) -> bool:
        if interaction.type is not discord.InteractionType.application_command:
            return True
        command_started(interaction)
        data: dict[str, Any] = dict(interaction.data or {})
        message = options.check(self, data, interaction.guild_id)
        if message is None:
            return True
        command_finished(interaction, "bad_option", str(data.get("name", "?")))
        await reply(interaction, message)
        return False

    async def on_error(
        self, interaction: discord.Interaction[EncoreBot], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


class EncoreBot(commands.AutoShardedBot):
    def __init__(
        self,
        services: Services,
        *,
        shard_ids: Sequence[int] | None = None,
        shard_count: int | None = None,
        cogs: Sequence[str] | None = None,
        deliver_outbox: bool = True,
        **discord_options: Any,
    ) -> None:
        if shard_ids is not None:
            discord_options["shard_ids"] = list(shard_ids)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            tree_cls=EncoreTree,
            shard_count=shard_count,
            **discord_options,
        )
        self.services = services
        self._cogs = all_cogs() if cogs is None else cogs
        self._deliver_outbox = deliver_outbox
        self._background: list[asyncio.Task[None]] = []

    async def setup_hook(self) -> None:
        self.add_dynamic_items(LikeButton)  # pressed on messages sent before a restart
        for name in self._cogs:
            await self.load_extension(name)
        if self._deliver_outbox:
            self._background.append(asyncio.create_task(self.services.outbox.run(self.send_dm)))

    async def send_dm(self, discord_user_id: int, content: str) -> None:
        await send_dm(self, discord_user_id, content)

    async def on_app_command_completion(
        self, interaction: discord.Interaction[EncoreBot], command: object
    ) -> None:
        command_finished(interaction, "ok")  # failures are counted by report_error

    async def on_shard_ready(self, shard_id: int) -> None:
        self.services.status["gateway"] = "connected"
        metrics.GATEWAY_CONNECTED.set(1)
        log.info(
            "Shard %s ready with %d servers",
            shard_id,
            sum(1 for guild in self.guilds if guild.shard_id == shard_id),
        )

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.services.status["gateway"] = "connected"
        metrics.GATEWAY_CONNECTED.set(1)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.services.status["gateway"] = "disconnected"
        metrics.GATEWAY_CONNECTED.set(0)

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        await super().close()


async def send_dm(client: discord.Client, discord_user_id: int, content: str) -> None:
    """A DM through any logged-in client (the gateway bot, or the worker's REST client)."""
    try:
        channel = await client.create_dm(discord.Object(discord_user_id))
        await channel.send(content, allowed_mentions=NO_MENTIONS)
    except (discord.Forbidden, discord.NotFound) as error:
        raise Undeliverable(error.text or str(error)) from None
