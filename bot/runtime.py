"""Running the roles: each starts only what it needs, all of them share `Services`.

Each role also imports only what it runs: the web server (aiohttp.web, `bot.web`, `bot.api`),
APScheduler with the scheduled jobs, and the metrics endpoint are imported where their role
starts them, so `encore gateway` carries none of them (its memory is measured:
bench/gateway_memory.py; tests/e2e/test_role_imports.py keeps it so).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import pkgutil
import signal
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import discord

import cogs
from bot import __version__, metrics
from bot.client import EncoreBot, intents, send_dm, send_rich_dm
from bot.clock import Clock
from bot.config import Role, Settings
from bot.discord_setup import pace_by, point_discord_at
from bot.heartbeat import Heartbeat, shards_text
from bot.keys import generate_key, keys_for_reencrypt, runtime_keys
from bot.problems import OperatorError
from bot.services import Services, database_url
from bot.spotify import Reencrypted
from bot.startup import (
    discord_refused_token,
    gateway_not_ready,
    gateway_problem,
    wait_for_database,
    wait_for_discord,
)
from bot.ui.digest_poster import DiscordPoster
from db.engine import create_engine
from db.migrate import Upgrade, upgrade

if TYPE_CHECKING:
    from aiohttp import web
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


def all_cogs() -> tuple[str, ...]:
    """Every module in `cogs/`: a new command group is a new file, nothing to register."""
    return tuple(
        f"cogs.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


ROLE_NAMES = {
    Role.RUN: "every role (gateway, web, worker)",
    Role.GATEWAY: "the gateway role",
    Role.WEB: "the web role",
    Role.WORKER: "the worker role",
}


@contextlib.asynccontextmanager
async def services_for(
    settings: Settings, *, migrate: bool = True, keys: list[str] | None = None
) -> AsyncIterator[Services]:
    """Services for a one-off command: the database waited for, never a key created."""
    services = await Services.build(settings, keys=keys)
    try:
        if migrate:
            await wait_for_database(services.engine, _url(services), settings)
            await upgrade(services.engine)
        yield services
    finally:
        await services.close()


def _url(services: Services) -> str:
    return services.engine.url.render_as_string(hide_password=False)


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
        self.heartbeat: Heartbeat

    async def start(self, *, ready_timeout: float | None = None) -> None:
        """Start the role; raises OperatorError (with what to do) for what it cannot get past."""
        try:
            await self._start(ready_timeout)
        except BaseException:
            await self.stop()  # what did start is closed again: no unclosed sessions
            raise

    async def _start(self, ready_timeout: float | None) -> None:
        settings, role = self.settings, self.role
        log.info(
            "Encore %s starting: %s; database %s",
            __version__,
            ROLE_NAMES[role],
            settings.database_display,
        )
        point_discord_at(settings.discord_api_url, settings.discord_gateway_url)
        # Only a role in embedded mode may make a key (bot.keys); one-off commands never do.
        self.services = await Services.build(
            settings, clock=self._clock, keys=runtime_keys(settings)
        )
        self._stack.push_async_callback(self.services.close)
        await wait_for_database(self.services.engine, _url(self.services), settings)
        await upgrade(self.services.engine)
        if role.needs_discord:
            await wait_for_discord(settings)
        self.heartbeat = Heartbeat(
            self.services.sessions,
            role.value,
            interval=settings.heartbeat_seconds,
            facts=self._facts,
            outbox=role is not Role.WEB,
        )
        metrics.INFO.labels(__version__, role.value).set(1)
        if settings.metrics_port:
            from bot.observability import start_metrics_server  # only where it is served

            metrics_server = await start_metrics_server(settings, role.value, self.heartbeat)
            self._stack.push_async_callback(metrics_server.cleanup)
        if role in {Role.RUN, Role.WEB}:
            from bot.web import start as start_web  # the web role's own imports

            self.web = await start_web(self.services, settings.web_host, settings.web_port)
            self._stack.push_async_callback(self.web.cleanup)
        if role in {Role.RUN, Role.GATEWAY}:
            self.bot = self._bot_class(
                self.services,
                shard_ids=settings.shard_ids,
                shard_count=settings.shard_count,
                cogs=all_cogs(),
                **self._bot_options,
            )
            pace_by(self.services.discord_budget, self.bot)
            self._stack.push_async_callback(self.bot.close)
            token = discord_token(settings)
            self.tasks.append(asyncio.create_task(self.bot.start(token), name="gateway"))
            await self._wait_ready(self.bot, ready_timeout or settings.startup_timeout)
            self.services.digests.attach(DiscordPoster(self.bot))
        if role is Role.WORKER:
            rest = RestClient()
            pace_by(self.services.discord_budget, rest)
            self._stack.push_async_callback(rest.close)
            await login(rest, discord_token(settings))
            self.services.digests.attach(DiscordPoster(rest))

            async def deliver(user_id: int, content: str, nonce: str) -> None:
                await send_dm(rest, user_id, content, nonce)

            async def deliver_rich(user_id: int, payload: dict[str, Any], nonce: str) -> None:
                await send_rich_dm(rest, user_id, payload, nonce)

            self.tasks.append(
                asyncio.create_task(
                    self.services.outbox.run(deliver, send_rich=deliver_rich), name="outbox"
                )
            )
        if role in {Role.RUN, Role.WORKER} and self._with_scheduler:
            from bot.scheduler import build_scheduler  # the worker's own imports

            self.scheduler = build_scheduler(self.services, on_tick=self.heartbeat.ticked)
            self.scheduler.start()
            self._stack.callback(self.scheduler.shutdown, wait=False)
        await self.heartbeat.beat()
        self._stack.push_async_callback(self.heartbeat.remove)
        self.tasks.append(asyncio.create_task(self.heartbeat.run(), name="heartbeat"))
        log.info("Encore %s started: %s", __version__, self._summary())

    def _facts(self) -> dict[str, Any]:
        """What this process's heartbeat reports beyond being alive: the gateway's shards."""
        bot = self.bot
        if bot is None or bot.shard_count is None:
            return {}
        shards = bot.shards
        connected = sum(1 for shard in shards.values() if not shard.is_closed())
        metrics.GATEWAY_SHARDS.set(connected)
        return {
            "shard_ids": sorted(bot.shard_ids)
            if bot.shard_ids is not None
            else list(range(bot.shard_count)),
            "shard_count": bot.shard_count,
            "shards_connected": connected,
            "guilds": len(bot.guilds),
        }

    def _summary(self) -> str:
        parts: list[str] = []
        facts = self._facts()
        if facts:
            parts.append(
                f"gateway with {shards_text(facts['shard_ids'], facts['shard_count'])} "
                f"({facts['guilds']} server{'' if facts['guilds'] == 1 else 's'})"
            )
        if self.web is not None:
            parts.append(f"web on http://{self.settings.web_host}:{self.settings.web_port}")
        if self.role in {Role.RUN, Role.WORKER}:
            parts.append("worker" + ("" if self.scheduler else " (scheduler off)"))
        return ", ".join(parts)

    async def _wait_ready(self, bot: EncoreBot, timeout: float) -> None:
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            [ready, *self.tasks], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            for task in done:
                _raise_explained(task)  # the gateway task failed: say why
            facts = self._facts()
            shards = (
                f"{shards_text(facts['shard_ids'], facts['shard_count'])}, "
                f"{facts['shards_connected']} connected"
                if facts
                else "no shard connected"
            )
            raise gateway_not_ready(self.settings, timeout, shards)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self._stack.aclose()
        log.info("Encore %s role stopped", self.role.value)

    async def run_until(
        self, stop: asyncio.Event, *, started: Callable[[], None] | None = None
    ) -> None:
        await self.start()
        if started is not None:
            started()
        try:
            waiter = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait([waiter, *self.tasks], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            failed = [t for t in done if t is not waiter and not t.cancelled() and t.exception()]
        finally:
            await self.stop()
        for task in failed:
            _raise_explained(task)  # a role's task ended: exit with why, not with 0


async def run_roles(settings: Settings, role: Role) -> None:
    await Encore(settings, role).run_until(_stop_on_signals(), started=_freeze_startup_objects)


def _freeze_startup_objects() -> None:
    """Keep what start-up built (modules, the command tree, the gateway's cache, pools) out of
    the garbage collector's passes: they live as long as the process, and every full pass over
    them cost CPU on the commands that triggered it. Only the `encore` process does this; an
    in-process test suite starts and stops many roles."""
    gc.collect()
    gc.freeze()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def _raise_explained(task: asyncio.Task[Any]) -> None:
    error = task.exception()
    if error is None:
        return
    explained = gateway_problem(error)
    if explained is not None:
        raise explained from None
    raise error


async def login(client: discord.Client, token: str) -> None:
    """Log in over REST; a refused token is the owner's to fix, not a traceback."""
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise discord_refused_token() from None


# A one-off command reads and writes no tokens: its cipher key is made here and never stored.
def throwaway_keys() -> list[str]:
    return [generate_key()]


@contextlib.asynccontextmanager
async def logged_in_bot(services: Services, settings: Settings) -> AsyncIterator[EncoreBot]:
    """The bot logged in over REST with its whole command tree, never on the gateway."""
    bot = EncoreBot(services, cogs=all_cogs(), deliver_outbox=False)
    pace_by(services.discord_budget, bot)
    try:
        await login(bot, discord_token(settings))  # runs setup_hook: cogs are loaded
        yield bot
    finally:
        await bot.close()


async def sync_commands(settings: Settings, guild_id: int | None) -> list[str]:
    point_discord_at(settings.discord_api_url, settings.discord_gateway_url)
    await wait_for_discord(settings, timeout=0)
    async with (
        services_for(settings, migrate=False, keys=throwaway_keys()) as services,
        logged_in_bot(services, settings) as bot,
    ):
        guild = discord.Object(guild_id) if guild_id else None
        if guild is not None:
            bot.tree.copy_global_to(guild=guild)
        try:
            synced = await bot.tree.sync(guild=guild)
        except (discord.Forbidden, discord.NotFound) as error:
            if guild_id is None:
                raise
            raise unknown_guild(guild_id, error) from None
    return [command.name for command in synced]


def unknown_guild(guild_id: int, error: discord.HTTPException) -> OperatorError:
    return OperatorError(
        f"the bot is not in server {guild_id} (Discord answered {error.status} {error.text}).",
        "invite it first with the link from `encore invite-url`, and check the id: right-click "
        "the server icon -> Copy Server ID (with Developer Mode on in Discord's settings)",
    )


async def application_id(settings: Settings) -> int:
    """The bot's application id, as Discord knows it (this also checks the token)."""
    point_discord_at(settings.discord_api_url, settings.discord_gateway_url)
    await wait_for_discord(settings, timeout=0)
    client = RestClient()
    try:
        await login(client, discord_token(settings))
        return (await client.application_info()).id
    finally:
        await client.close()


async def migrate(settings: Settings) -> Upgrade:
    """Upgrade the schema: no services, no key (migrations touch no token)."""
    url = await database_url(settings)
    engine = create_engine(url, pool_size=1)
    try:
        await wait_for_database(engine, url, settings)
        return await upgrade(engine)
    finally:
        await engine.dispose()


async def reencrypt(settings: Settings) -> Reencrypted:
    async with services_for(settings, keys=keys_for_reencrypt(settings)) as services:
        return await services.tokens.reencrypt_all()
