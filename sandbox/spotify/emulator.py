"""The Spotify emulator: its options, its lifecycle, and the middleware every request passes
(request log, injected faults, bearer tokens, Spotify's error bodies)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
from typing import Any, cast

from aiohttp import web
from aiohttp.typedefs import Handler

from .catalog import Catalog
from .control_api import routes as control_routes
from .errors import ApiError, api_error
from .music import Profile
from .routes import ROUTERS
from .state import LOG_ENTRY, STATE, EmulatorState, Settings
from .web_api import authenticate

# The defaults a plain `SpotifyEmulator()` gets (see README.md, "Options"): the strict world,
# as messy as Spotify's catalogue, in development mode (as every app created since February
# 2026), with Spotify's 1,000-result search window. `SANDBOX_SPOTIFY` overrides them
# (`catalogue=tidy,development_mode=false,search_window=spec`).
DEFAULT_CATALOGUE: Profile = "messy"
DEFAULT_DEVELOPMENT_MODE = True
DEFAULT_SEARCH_WINDOW = "spotify"
ENVIRONMENT = "SANDBOX_SPOTIFY"
STRICT = {"catalogue": "messy", "development_mode": "true", "search_window": "spotify"}


def defaults() -> dict[str, Any]:
    """The defaults, with what ``$SANDBOX_SPOTIFY`` overrides: ``strict``, or
    ``catalogue=messy,development_mode=true,search_window=spotify`` (any of them)."""
    chosen: dict[str, Any] = {
        "catalogue": DEFAULT_CATALOGUE,
        "development_mode": DEFAULT_DEVELOPMENT_MODE,
        "search_window": DEFAULT_SEARCH_WINDOW,
    }
    raw = os.environ.get(ENVIRONMENT, "").strip()
    pairs = dict(STRICT) if raw == "strict" else {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        if part != "strict":
            key, sep, value = part.partition("=")
            if not sep or key not in chosen:
                raise ValueError(f"{ENVIRONMENT}: cannot read {part!r}")
            pairs[key] = value
    for key, value in pairs.items():
        if key == "development_mode":
            chosen[key] = value.lower() in ("1", "true", "yes", "on")
        else:
            chosen[key] = value
    return chosen


class SpotifyEmulator:
    """In-process Spotify: ``/authorize``, ``/api/token``, ``/v1/...`` and ``/_sandbox/...``."""

    def __init__(
        self,
        *,
        seed: int = 2026,
        today: dt.date | None = None,
        catalogue: Profile | None = None,
        development_mode: bool | None = None,
        search_window: str | None = None,
        artists: int = 3000,
        access_token_lifetime: int = 3600,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
    ) -> None:
        fallback = defaults()
        # Spotify answers in tens of milliseconds, not at once: benches set a latency (with
        # +/- jitter, uniform) that every Web API and token request waits before its answer.
        self.latency_ms = max(0.0, latency_ms)
        self.jitter_ms = max(0.0, min(jitter_ms, latency_ms))
        self._latency_rng = random.Random(seed)
        self.state = EmulatorState(
            seed=seed,
            today=today,
            profile=cast("Profile", catalogue or fallback["catalogue"]),
            client_id=client_id,
            client_secret=client_secret,
            development_mode=(
                fallback["development_mode"] if development_mode is None else development_mode
            ),
            search_window=search_window or fallback["search_window"],
            access_token_lifetime=access_token_lifetime,
            artists=artists,
        )
        self._runner: web.AppRunner | None = None
        self.base_url: str | None = None
        self.app = web.Application(middlewares=[self._middleware])
        self.app[STATE] = self.state
        for router in ROUTERS:
            self.app.add_routes(router)
        self.app.add_routes(control_routes)

    # ------------------------------------------------------------------ conveniences
    @property
    def catalog(self) -> Catalog:
        """The current catalogue (users, playlists, music): for tests that look inside."""
        return self.state.catalog

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def client_id(self) -> str:
        return self.state.client_id

    def reset(self) -> None:
        """Forget tokens, faults, the log and all user/playlist/release changes; keep the music."""
        self.state.reset()

    # ------------------------------------------------------------------ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        real_port = self._runner.addresses[0][1]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{real_port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        assert self.base_url, "emulator not started"
        return self.base_url + "/v1/"

    @property
    def accounts_url(self) -> str:
        assert self.base_url, "emulator not started"
        return self.base_url + "/"

    # ------------------------------------------------------------------ middleware
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sandbox/"):
            try:
                return await handler(request)
            except (KeyError, ValueError, TypeError) as exc:
                return web.json_response({"error": f"bad request: {exc!r}"}, status=400)
        entry = self.state.log.record(request)
        resource = request.match_info.route.resource
        entry["endpoint"] = resource.canonical if resource is not None else None
        request[LOG_ENTRY] = entry
        if self.latency_ms:
            jitter = self._latency_rng.uniform(-self.jitter_ms, self.jitter_ms)
            await asyncio.sleep((self.latency_ms + jitter) / 1000)
        try:
            grant_type = None
            if request.path == "/api/token" and request.method == "POST":
                form = await request.post()
                grant_type = str(form.get("grant_type", "")) or None
                entry["grant_type"] = grant_type
            faulted = await self.state.faults.apply(request, grant_type)
            if faulted is not None:
                resp = faulted
            else:
                if request.path.startswith("/v1/"):
                    authenticate(request)
                resp = await handler(request)
        except ApiError as exc:
            resp = api_error(exc.status, exc.message, exc.reason)
        except web.HTTPException as exc:
            if request.path.startswith("/v1/") and exc.status == 404:
                resp = api_error(404, "Service not found")
            elif request.path.startswith("/v1/") and exc.status == 405:
                resp = api_error(405, "Method not allowed")
            else:
                entry["status"] = exc.status
                raise
        entry["status"] = resp.status
        return resp


async def serve(host: str = "127.0.0.1", port: int = 8089, **opts: Any) -> None:
    """Run an emulator until cancelled (used by ``python -m sandbox spotify``)."""
    emu = SpotifyEmulator(**opts)
    url = await emu.start(host, port)
    print(f"Spotify sandbox on {url} (api {emu.api_url}, accounts {emu.accounts_url})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emu.stop()
