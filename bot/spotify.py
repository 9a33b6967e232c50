"""Async access to Spotify: the Accounts service (tokens) and the Web API (spotipy in threads).

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
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import requests
import spotipy

from bot import metrics
from bot.errors import (
    BadInput,
    EncoreError,
    MissingScope,
    NoActiveDevice,
    NotFound,
    PremiumRequired,
    SpotifyAccessDenied,
    SpotifyBusy,
    SpotifyUnavailable,
)
from bot.tokens import InvalidGrant, TokenGrant, TokenStore

log = logging.getLogger(__name__)
T = TypeVar("T")

# spotipy logs request headers (bearer tokens) at DEBUG and every HTTP error at ERROR;
# we report errors ourselves, and tokens are never logged.
logging.getLogger("spotipy").setLevel(logging.CRITICAL)

SCOPES = (
    "user-read-private",
    "playlist-read-private",
    "playlist-read-collaborative",
    "user-library-read",
    "user-library-modify",
    "user-read-currently-playing",
    "user-modify-playback-state",
)


class SpotifyForbidden(EncoreError):
    """A 403 whose meaning depends on the call (a playlist, a development-mode app...)."""

    user_message = SpotifyAccessDenied.user_message

    def __init__(self, message: str, reason: str | None = None) -> None:
        self.spotify_message = message
        self.reason = reason
        super().__init__()


class SpotifyAccounts:
    """Spotify's Accounts service: authorize URL, code exchange, refresh, client credentials."""

    def __init__(
        self,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        timeout: float = 10.0,
    ) -> None:
        self._base = accounts_url.rstrip("/")
        self._client_id = client_id
        self._auth_header = {"Authorization": aiohttp.encode_basic_auth(client_id, client_secret)}
        self.redirect_uri = redirect_uri
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def authorize_url(self, state: str, scopes: tuple[str, ...] = SCOPES) -> str:
        query = urlencode(
            {
                "client_id": self._client_id,
                "response_type": "code",
                "redirect_uri": self.redirect_uri,
                "state": state,
                "scope": " ".join(scopes),
                "show_dialog": "true",
            }
        )
        return f"{self._base}/authorize?{query}"

    async def exchange_code(self, code: str) -> TokenGrant:
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        )

    async def refresh(self, refresh_token: str) -> TokenGrant:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def client_credentials(self) -> TokenGrant:
        return await self._token({"grant_type": "client_credentials"})

    async def _token(self, form: dict[str, str]) -> TokenGrant:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(
                f"{self._base}/api/token", data=form, headers=self._auth_header
            ) as response:
                body: dict[str, Any] = await response.json(content_type=None) or {}
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("Spotify accounts did not answer (%s)", type(error).__name__)
            raise SpotifyUnavailable from None
        if status == 200:
            return TokenGrant(
                access_token=body["access_token"],
                expires_in=int(body.get("expires_in", 3600)),
                scope=str(body.get("scope", "")),
                refresh_token=body.get("refresh_token"),
            )
        if status == 429:
            raise SpotifyBusy(_seconds(retry_after))
        if status == 400 and body.get("error") == "invalid_grant":
            raise InvalidGrant(body.get("error_description", "invalid_grant"))
        log.warning("Spotify accounts answered %s (%s)", status, body.get("error"))
        raise SpotifyUnavailable

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _seconds(value: str | None, default: float = 5.0) -> float:
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def translate(error: spotipy.SpotifyException) -> EncoreError:
    """Spotify's HTTP errors as the exceptions users are shown."""
    status, reason = error.http_status, error.reason
    message = str(error.msg).split("\n", 1)[-1].strip()
    if status == 429:
        headers = error.headers or {}
        return SpotifyBusy(_seconds(headers.get("Retry-After")), quota=reason == "QUOTA_EXCEEDED")
    if status == 403:
        if reason == "PREMIUM_REQUIRED" or "premium" in message.lower():
            return PremiumRequired()
        if "scope" in message.lower():
            return MissingScope()
        return SpotifyForbidden(message, reason)
    if status == 404:
        if reason == "NO_ACTIVE_DEVICE" or "device" in message.lower():
            return NoActiveDevice()
        return NotFound()
    if status == 400:
        return BadInput(f"Spotify did not accept that request ({message}).")
    return SpotifyUnavailable()


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
