"""EncoreBot: the gateway role. Loads the cogs it is handed, routes every error to the one
handler (`bot.ui.errors.report_error`), delivers the outbox's DMs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import metrics, options
from bot.discord_setup import NO_MENTIONS
from bot.guild_cache import TrimmedConnectionState, servers_on_shard
from bot.outbox import Undeliverable
from bot.services import Services
from bot.ui import fit
from bot.ui.admission import DIRECT, Admission
from bot.ui.command_metrics import command_finished, command_started
from bot.ui.errors import report_error
from bot.ui.messages import reply
from bot.ui.radar import rich_dm

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    # Slash commands, buttons and DMs need no privileged intent; guilds tells us which
    # servers we are in (the rest of GUILD_CREATE is dropped: bot/guild_cache.py).
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


class EncoreTree(app_commands.CommandTree["EncoreBot"]):
    async def _call(self, interaction: discord.Interaction[EncoreBot]) -> None:
        # discord.py's one entry for every command and autocomplete: admission acknowledges a
        # command before anything else runs (bot/ui/admission.py).
        async with self.client.admission.admit(interaction) as admitted:
            if admitted:
                await super()._call(interaction)

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
        cogs: Sequence[str],
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
            # Keep only what Encore reads: no members, no messages, and (through
            # TrimmedConnectionState) no channel, role, thread or emoji: bare servers.
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            max_messages=None,
            **discord_options,
        )
        self.services = services
        self.admission = Admission(direct=DIRECT if services.settings.direct_answers else 0)
        self._cogs = cogs  # extension names, chosen by the runtime
        self._deliver_outbox = deliver_outbox
        self._background: list[asyncio.Task[None]] = []

    def _get_state(self, **options: Any) -> TrimmedConnectionState:
        # discord.py's one place where the client's state is made (bot/guild_cache.py)
        return TrimmedConnectionState(
            dispatch=self.dispatch,
            handlers=self._handlers,
            hooks=self._hooks,
            http=self.http,
            **options,
        )

    async def setup_hook(self) -> None:
        for name in self._cogs:
            await self.load_extension(name)
        if self._deliver_outbox:
            self._background.append(
                asyncio.create_task(
                    self.services.outbox.run(self.send_dm, send_rich=self.send_rich_dm)
                )
            )

    async def send_dm(self, discord_user_id: int, content: str, nonce: str | None = None) -> None:
        await send_dm(self, discord_user_id, content, nonce)

    async def send_rich_dm(self, discord_user_id: int, payload: dict[str, Any], nonce: str) -> None:
        await send_rich_dm(self, discord_user_id, payload, nonce)

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
            servers_on_shard(self, shard_id),
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
        # Awaited, so the outbox's listening connection is closed before the engine is disposed.
        await asyncio.gather(*self._background, return_exceptions=True)
        await super().close()


async def send_dm(
    client: discord.Client, discord_user_id: int, content: str, nonce: str | None = None
) -> None:
    """A DM through any logged-in client (the gateway bot, or the worker's REST client).

    With a `nonce`, discord.py sends `enforce_nonce`: its own retry after a lost answer (a
    502 once the message was written) gets the same message back, not a second DM.
    """
    try:
        channel = await client.create_dm(discord.Object(discord_user_id))
        message = fit.message({"content": content, "allowed_mentions": NO_MENTIONS})
        if nonce is not None:
            message["nonce"] = nonce
        await channel.send(**message)
    except (discord.Forbidden, discord.NotFound) as error:
        raise Undeliverable(error.text or str(error)) from None


async def send_rich_dm(
    client: discord.Client, discord_user_id: int, payload: dict[str, Any], nonce: str
) -> None:
    """A DM with an embed and buttons, rendered from its outbox payload (`bot.ui.radar`)."""
    try:
        channel = await client.create_dm(discord.Object(discord_user_id))
        message = rich_dm(payload)
        message["nonce"] = nonce
        await channel.send(**message)
    except (discord.Forbidden, discord.NotFound) as error:
        raise Undeliverable(error.text or str(error)) from None
