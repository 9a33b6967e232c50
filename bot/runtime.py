"""Running the roles: each starts only what it needs, all of them share `Services`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pkgutil
import signal
from collections.abc import AsyncIterator
from typing import Any

import discord
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

import cogs
from bot.client import EncoreBot, intents, send_dm
from bot.clock import Clock
from bot.config import Role, Settings
from bot.discord_setup import point_discord_at
from bot.scheduler import build_scheduler
from bot.services import Services
from bot.spotify import Reencrypted
from bot.ui.digest_poster import DiscordPoster
from bot.web import start as start_web
from db.migrate import upgrade

log = logging.getLogger(__name__)


def all_cogs() -> tuple[str, ...]:
    """Every module in `cogs/`: a new command group is a new file, nothing to register."""
    return tuple(
        f"cogs.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


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
        # It never opens the gateway; the guilds flag only keeps discord.py's state quiet.
        super().__init__(intents=intents(), allowed_mentions=discord.AllowedMentions.none())


class Encore:
    """One process running some roles. `start()` returns when they are up; `stop()` ends them."""

    def __init__(
        self,
        settings: Settings,
        role: Role,
        *,
        clock: Clock | None = None,
        bot_class: type[EncoreBot] = EncoreBot,
        bot_options: dict[str, Any] | None = None,
        scheduler: bool = True,
    ) -> None:
        self.settings = settings
        self.role = role
        self._clock = clock
        self._bot_class = bot_class
        self._bot_options = bot_options or {}
        self._with_scheduler = scheduler
        self._stack = contextlib.AsyncExitStack()
        self.tasks: list[asyncio.Task[None]] = []
        self.services: Services
        self.bot: EncoreBot | None = None
        self.web: web.AppRunner | None = None
        self.scheduler: AsyncIOScheduler | None = None

    async def start(self, *, ready_timeout: float = 60) -> None:
        settings, role = self.settings, self.role
        point_discord_at(settings.discord_api_url, settings.discord_gateway_url)
        self.services = await Services.build(settings, clock=self._clock)
        self._stack.push_async_callback(self.services.close)
        await upgrade(self.services.engine)
        if role in {Role.RUN, Role.WEB}:
            self.web = await start_web(self.services, settings.web_host, settings.web_port)
            self._stack.push_async_callback(self.web.cleanup)
        if role in {Role.RUN, Role.GATEWAY}:
            self.bot = self._bot_class(
                self.services,
                cogs=all_cogs(),
                shard_ids=settings.shard_ids,
                shard_count=settings.shard_count,
                **self._bot_options,
            )
            self._stack.push_async_callback(self.bot.close)
            token = discord_token(settings)
            self.tasks.append(asyncio.create_task(self.bot.start(token), name="gateway"))
            await self._wait_ready(self.bot, ready_timeout)
            self.services.digests.attach(DiscordPoster(self.bot, settings.discord_global_rate))
        if role is Role.WORKER:
            rest = RestClient()
            await rest.login(discord_token(settings))
            self._stack.push_async_callback(rest.close)
            self.services.digests.attach(DiscordPoster(rest, settings.discord_global_rate))

            async def deliver(user_id: int, content: str) -> None:
                await send_dm(rest, user_id, content)

            self.tasks.append(asyncio.create_task(self.services.outbox.run(deliver), name="outbox"))
        if role in {Role.RUN, Role.WORKER} and self._with_scheduler:
            self.scheduler = build_scheduler(self.services)
            self.scheduler.start()
            self._stack.callback(self.scheduler.shutdown, wait=False)
        log.info("Encore %s role started", role.value)

    async def _wait_ready(self, bot: EncoreBot, timeout: float) -> None:
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            [ready, *self.tasks], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            for task in done:
                task.result()  # the gateway task failed: raise its error
            raise TimeoutError("the Discord gateway did not become ready")

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self._stack.aclose()
        log.info("Encore %s role stopped", self.role.value)

    async def run_until(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            waiter = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait([waiter, *self.tasks], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            for task in done:
                if task is not waiter and not task.cancelled() and task.exception() is not None:
                    log.error("%s stopped", task.get_name(), exc_info=task.exception())
        finally:
            await self.stop()


async def run_roles(settings: Settings, role: Role) -> None:
    await Encore(settings, role).run_until(_stop_on_signals())


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
        bot = EncoreBot(services, cogs=all_cogs(), deliver_outbox=False)
        try:
            await bot.login(discord_token(settings))  # runs setup_hook: cogs are loaded
            guild = discord.Object(guild_id) if guild_id else None
            if guild is not None:
                bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
        finally:
            await bot.close()
    return [command.name for command in synced]


async def application_id(settings: Settings) -> int:
    """The bot's application id, as Discord knows it (this also checks the token)."""
    point_discord_at(settings.discord_api_url, settings.discord_gateway_url)
    client = RestClient()
    try:
        await client.login(discord_token(settings))
        return (await client.application_info()).id
    finally:
        await client.close()


async def migrate(settings: Settings) -> None:
    async with services_for(settings):
        pass


async def reencrypt(settings: Settings) -> Reencrypted:
    async with services_for(settings) as services:
        return await services.tokens.reencrypt_all()
