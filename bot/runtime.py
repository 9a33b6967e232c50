"""Running the roles: each starts only what it needs, all of them share `Services`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

import discord

from bot.client import EncoreBot, send_dm
from bot.config import Role, Settings
from bot.discord_setup import point_discord_at
from bot.scheduler import build_scheduler
from bot.services import Services
from bot.web import start as start_web
from db.migrate import upgrade

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def services_for(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Services]:
    services = await Services.build(settings)
    try:
        if migrate:
            await upgrade(services.engine)
        yield services
    finally:
        await services.close()


def discord_token(settings: Settings) -> str:
    assert settings.discord_token is not None  # checked by Settings.require
    return settings.discord_token.get_secret_value()


class RestClient(discord.Client):
    """A Discord client that logs in over REST and never opens the gateway (the worker)."""

    def __init__(self) -> None:
        super().__init__(
            intents=discord.Intents.none(), allowed_mentions=discord.AllowedMentions.none()
        )


async def run_roles(settings: Settings, role: Role, *, stop: asyncio.Event | None = None) -> None:
    stop = stop or _stop_on_signals()
    point_discord_at(settings.discord_api_url, settings.discord_gateway_url)
    async with services_for(settings) as services, contextlib.AsyncExitStack() as stack:
        tasks: list[asyncio.Task[None]] = []
        if role in {Role.RUN, Role.WEB}:
            runner = await start_web(services, settings.web_host, settings.web_port)
            stack.push_async_callback(runner.cleanup)
        if role in {Role.RUN, Role.GATEWAY}:
            bot = EncoreBot(
                services, shard_ids=settings.shard_ids, shard_count=settings.shard_count
            )
            stack.push_async_callback(bot.close)
            tasks.append(asyncio.create_task(bot.start(discord_token(settings)), name="gateway"))
        if role is Role.WORKER:
            rest = RestClient()
            await rest.login(discord_token(settings))
            stack.push_async_callback(rest.close)

            async def deliver(user_id: int, content: str) -> None:
                await send_dm(rest, user_id, content)

            tasks.append(asyncio.create_task(services.outbox.run(deliver), name="outbox"))
        if role in {Role.RUN, Role.WORKER}:
            scheduler = build_scheduler(services)
            scheduler.start()
            stack.callback(scheduler.shutdown, wait=False)
        log.info("Encore %s role started", role.value)
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception() is not None:
                log.error("%s stopped", task.get_name(), exc_info=task.exception())
        for task in [waiter, *tasks]:
            task.cancel()
        log.info("Encore %s role stopping", role.value)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def sync_commands(settings: Settings, guild_id: int | None) -> list[str]:
    point_discord_at(settings.discord_api_url, settings.discord_gateway_url)
    async with services_for(settings, migrate=False) as services:
        bot = EncoreBot(services, deliver_outbox=False)
        try:
            await bot.login(discord_token(settings))  # runs setup_hook: cogs are loaded
            guild = discord.Object(guild_id) if guild_id else None
            if guild is not None:
                bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
        finally:
            await bot.close()
    return [command.name for command in synced]


async def migrate(settings: Settings) -> None:
    async with services_for(settings):
        pass


async def reencrypt(settings: Settings) -> int:
    async with services_for(settings) as services:
        return await services.tokens.reencrypt_all()
