"""The Web API: spotipy calls run in threads, as a linked user, as the app or with a fresh token.

spotipy is synchronous and, by default, sleeps the whole `Retry-After` of a 429 inside the
call. Here it runs in a bounded thread pool with its retries off, so the 429 policy is
ours: `SpotifyBusy` carries the wait, commands tell the user, background jobs wait.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import requests
import spotipy

from bot import metrics
from bot.errors import EncoreError, SpotifyBusy, SpotifyUnavailable
from bot.spotify.accounts import SpotifyAccounts
from bot.spotify.errors import translate
from bot.spotify.tokens import TokenStore

log = logging.getLogger(__name__)
T = TypeVar("T")

# spotipy logs request headers (bearer tokens) at DEBUG and every HTTP error at ERROR;
# we report errors ourselves, and tokens are never logged.
logging.getLogger("spotipy").setLevel(logging.CRITICAL)


class _Unauthorized(Exception):
    """A 401: the access token expired under us."""


class SpotifyGateway:
    """Runs spotipy calls in threads, as the app or as a linked user."""

    def __init__(
        self,
        api_url: str,
        accounts: SpotifyAccounts,
        tokens: TokenStore,
        *,
        threads: int = 8,
        timeout: float = 10.0,
    ) -> None:
        self._api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.accounts = accounts
        self._tokens = tokens
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="spotify")
        self._local = threading.local()
        self._app_token: tuple[str, float] | None = None
        self._app_lock = asyncio.Lock()

    def _client(self) -> spotipy.Spotify:
        client: spotipy.Spotify | None = getattr(self._local, "client", None)
        if client is None:
            # A plain session: no urllib3 Retry adapter that would sleep through a 429.
            client = spotipy.Spotify(
                requests_session=requests.Session(),
                retries=0,
                status_retries=0,
                requests_timeout=self._timeout,
            )
            client.prefix = self._api_url
            self._local.client = client
        return client

    def _run(self, token: str, call: Callable[[spotipy.Spotify], T]) -> T:
        client = self._client()
        client.set_auth(token)
        try:
            return call(client)
        except spotipy.SpotifyException as error:
            if error.http_status == 401:
                raise _Unauthorized from None
            raise translate(error) from None
        except requests.RequestException as error:
            log.warning("Spotify did not answer (%s)", type(error).__name__)
            raise SpotifyUnavailable from None

    async def _in_thread(self, caller: str, token: str, call: Callable[[spotipy.Spotify], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._pool, self._run, token, call)
        except _Unauthorized:
            raise
        except SpotifyBusy:
            metrics.SPOTIFY_CALLS.labels(caller, "429").inc()
            raise
        except EncoreError:
            metrics.SPOTIFY_CALLS.labels(caller, "error").inc()
            raise
        metrics.SPOTIFY_CALLS.labels(caller, "ok").inc()
        return result

    async def as_user(self, discord_user_id: int, call: Callable[[spotipy.Spotify], T]) -> T:
        """Call Spotify with the user's token; a 401 gets one refresh and one retry."""
        token = await self._tokens.access_token(discord_user_id)
        try:
            return await self._in_thread("user", token, call)
        except _Unauthorized:
            token = await self._tokens.access_token(discord_user_id, rejected=token)
            try:
                return await self._in_thread("user", token, call)
            except _Unauthorized:
                raise SpotifyUnavailable from None

    async def as_token(self, token: str, call: Callable[[spotipy.Spotify], T]) -> T:
        """Call Spotify with a token we just received (the OAuth callback)."""
        try:
            return await self._in_thread("link", token, call)
        except _Unauthorized:
            raise SpotifyUnavailable from None

    async def as_app(self, call: Callable[[spotipy.Spotify], T]) -> T:
        """Call Spotify with the app's client-credentials token (cached until it expires)."""
        token = await self._app_access_token()
        try:
            return await self._in_thread("app", token, call)
        except _Unauthorized:
            token = await self._app_access_token(rejected=token)
            try:
                return await self._in_thread("app", token, call)
            except _Unauthorized:
                raise SpotifyUnavailable from None

    async def _app_access_token(self, rejected: str | None = None) -> str:
        async with self._app_lock:
            cached = self._app_token
            if cached and cached[0] != rejected and cached[1] - time.monotonic() > 60:
                return cached[0]
            grant = await self.accounts.client_credentials()
            self._app_token = (grant.access_token, time.monotonic() + grant.expires_in)
            return grant.access_token

    async def close(self) -> None:
        await self.accounts.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
