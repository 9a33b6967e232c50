"""The Discord emulator: REST (``/api/v10``), the gateway, OAuth2 and the control API.

The real, unmodified discord.py client runs against it. This module puts the parts
together; each lives in its own module (see README.md for the map).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, ClassVar

from aiohttp import web

from .control_api import ControlApi
from .delivery import CommandPermissions, Deliveries
from .faults import Faults
from .gateway import Gateway
from .models import User
from .ratelimits import RateLimits
from .rest import API_PREFIX, RestApi, not_found_middleware
from .routes import all_endpoints
from .routes.oauth2 import AUTHORIZE_PATHS, OAuth2, authorize_handler
from .settings import TOKEN_LIFETIME_S, Settings
from .spec import SpecValidator
from .state import World

# Connections the listening socket holds until the emulator's loop accepts them (Linux caps it
# at net.core.somaxconn). aiohttp's default, 128, made a burst of a bot's new connections (one
# per deferral in flight) overflow while the loop was busy: the kernel dropped them and each
# client waited for its SYN to be retransmitted, 1 s and then 3 s later, so deferrals sent in time
# reached "Discord" past its 3 s. Discord's edge takes such a burst; so does the emulator.
ACCEPT_BACKLOG = 4096


class DiscordEmulator:
    """One emulated Discord, served by an aiohttp application."""

    # Every emulator made in this process, newest last (weakly: a finished test's go away),
    # so a test suite can look at what each one refused (tests/e2e/conftest.py).
    made: ClassVar[weakref.WeakSet[DiscordEmulator]] = weakref.WeakSet()

    def __init__(
        self,
        *,
        rate_limits: bool = True,
        interaction_deadline: float = 3.0,
        global_limit_per_s: int = 50,
        channel_limit: int = 5,
        channel_window: float = 5.0,
        route_limit: int = 50,
        route_window: float = 1.0,
        bot_token: str = "sandbox-bot-token",
        bot_name: str = "Encore",
        heartbeat_interval_ms: int = 41250,
        spec_path: str | None = None,
        token_lifetime_s: float = TOKEN_LIFETIME_S,
        client_secret: str = "sandbox-discord-secret",
        redirect_uris: list[str] | None = None,
    ) -> None:
        self.settings = Settings(
            rate_limits=rate_limits,
            interaction_deadline=interaction_deadline,
            global_limit_per_s=global_limit_per_s,
            channel_limit=channel_limit,
            channel_window=channel_window,
            route_limit=route_limit,
            route_window=route_window,
            token_lifetime_s=token_lifetime_s,
            heartbeat_interval_ms=heartbeat_interval_ms,
            client_secret=client_secret,
        )
        self.bot_token = bot_token
        self.world = World(bot_name)
        DiscordEmulator.made.add(self)
        self.validator = SpecValidator(spec_path)
        self.limits = RateLimits(self.settings)
        self.faults = Faults()
        self.command_permissions = CommandPermissions()
        self.oauth2 = OAuth2(self.world, self.settings, redirect_uris or [])
        self.gateway = Gateway(self.world, self.settings, bot_token, lambda: self.gateway_url)
        self.deliveries = Deliveries(self)
        self.rest = RestApi(self, all_endpoints())
        self.control = ControlApi(self)
        self._app: web.Application | None = None
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ the world's names
    @property
    def bot_user(self) -> User:
        return self.world.bot_user

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def base_url(self) -> str:
        return self.world.base_url

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://").replace("https://", "wss://") + "/gateway"

    # ------------------------------------------------------------------ serving
    @property
    def app(self) -> web.Application:
        if self._app is None:
            app = web.Application(
                client_max_size=64 * 1024 * 1024, middlewares=[not_found_middleware(self)]
            )
            app.router.add_get("/gateway", self.gateway.handle)
            app.router.add_get("/gateway/", self.gateway.handle)
            authorize = authorize_handler(self.oauth2)
            for path in AUTHORIZE_PATHS:
                app.router.add_get(path, authorize)
            self.control.install(app)
            self.rest.install(app)
            self._app = app
        return self._app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=ACCEPT_BACKLOG)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        real_port = sockets[0].getsockname()[1] if sockets else port
        self.world.base_url = f"http://{host}:{real_port}"
        return self.base_url

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def reset(self) -> None:
        """Forgets guilds, users, messages, interactions, records; keeps gateway sessions."""
        self.world.reset()
        self.limits.reset()
        self.faults.reset()
        self.command_permissions.reset()
        self.oauth2.reset()
        self.gateway.forget_guilds()
        self.world.touch()


async def serve(host: str = "127.0.0.1", port: int = 8790, **opts: Any) -> None:
    """Runs an emulator until cancelled (``python -m sandbox discord --port N``)."""
    emu = DiscordEmulator(**opts)
    url = await emu.start(host, port)
    print(f"Discord emulator on {url} (api {emu.api_url}, gateway {emu.gateway_url})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emu.stop()
