"""The Web API: calls run in threads, as a linked user, as the app or with a fresh token.

Each call is a blocking `WebAPI` call (bot/spotify/webapi.py: spotipy's method names, no
retries of its own) run in a bounded thread pool, so the 429 policy is ours: `SpotifyBusy`
carries the wait, commands tell the user, background jobs wait.

One slow endpoint cannot starve the others: each endpoint (each call site, unless it names
its endpoint) may hold at most `per_endpoint` of the pool's threads at once, a thread counts
as held until its call really returns, and a caller gives up (`SpotifyUnavailable`) after
waiting `3 x timeout` for a slot and an answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from bot import metrics
from bot.errors import EncoreError, SpotifyBusy, SpotifyUnavailable
from bot.spotify.accounts import SpotifyAccounts
from bot.spotify.errors import translate
from bot.spotify.tokens import TokenStore
from bot.spotify.webapi import SpotifyHTTPError, SpotifyUnreachable, WebAPI

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Unauthorized(Exception):
    """A 401: the access token expired under us."""


class SpotifyGateway:
    """Runs Web API calls in threads, as the app or as a linked user."""

    def __init__(
        self,
        api_url: str,
        accounts: SpotifyAccounts,
        tokens: TokenStore,
        *,
        threads: int = 8,
        timeout: float = 10.0,
        per_endpoint: int | None = None,
    ) -> None:
        self._api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.accounts = accounts
        self._tokens = tokens
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="spotify")
        # At most half the pool per endpoint: the other half always serves the rest.
        self._per_endpoint = per_endpoint or max(1, threads // 2)
        self._endpoints: dict[str, asyncio.Semaphore] = {}
        self._local = threading.local()
        self._app_token: tuple[str, float] | None = None
        self._app_lock = asyncio.Lock()

    def _client(self) -> WebAPI:
        client: WebAPI | None = getattr(self._local, "client", None)
        if client is None:
            client = WebAPI(self._api_url, timeout=self._timeout)
            self._local.client = client
        return client

    def _run(self, token: str, call: Callable[[WebAPI], T]) -> T:
        client = self._client()
        client.set_auth(token)
        try:
            return call(client)
        except SpotifyHTTPError as error:
            if error.http_status == 401:
                raise _Unauthorized from None
            raise translate(error) from None
        except SpotifyUnreachable as error:
            log.warning("Spotify did not answer (%s)", error)
            raise SpotifyUnavailable from None

    async def _in_thread(
        self, caller: str, token: str, call: Callable[[WebAPI], T], endpoint: str
    ) -> T:
        try:
            async with asyncio.timeout(self._timeout * 3):
                result = await self._bounded(endpoint, token, call)
        except _Unauthorized:
            raise
        except TimeoutError:
            metrics.SPOTIFY_CALLS.labels(caller, "error").inc()
            log.warning("Spotify took too long on %s", endpoint)
            raise SpotifyUnavailable from None
        except SpotifyBusy:
            metrics.SPOTIFY_CALLS.labels(caller, "429").inc()
            raise
        except EncoreError:
            metrics.SPOTIFY_CALLS.labels(caller, "error").inc()
            raise
        metrics.SPOTIFY_CALLS.labels(caller, "ok").inc()
        return result

    async def _bounded(self, endpoint: str, token: str, call: Callable[[WebAPI], T]) -> T:
        """Run the call in a thread once its endpoint has a free slot; the slot is freed when
        the thread is done with it, not when a caller stops waiting."""
        slots = self._endpoints.setdefault(endpoint, asyncio.Semaphore(self._per_endpoint))
        await slots.acquire()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()

        def done(work: Future[T]) -> None:
            # On the loop, once: the slot is freed and the caller (if still waiting) answered.
            slots.release()
            if answer.done():
                return  # the caller stopped waiting (its timeout)
            if work.cancelled():
                answer.cancel()
            elif (error := work.exception()) is not None:
                answer.set_exception(error)
            else:
                answer.set_result(work.result())

        def back_to_the_loop(work: Future[T]) -> None:
            # One wake-up of the loop per call (in the thread, or where the pool cancelled it).
            try:
                loop.call_soon_threadsafe(done, work)
            except RuntimeError:
                pass  # the loop has closed (shutting down): nobody waits for the slot

        try:
            work = self._pool.submit(self._run, token, call)
        except BaseException:
            slots.release()
            raise
        work.add_done_callback(back_to_the_loop)
        return await answer

    async def as_user(
        self,
        discord_user_id: int,
        call: Callable[[WebAPI], T],
        *,
        scopes: Iterable[str] = (),
        endpoint: str | None = None,
    ) -> T:
        """Call Spotify with the user's token; a 401 gets one refresh and one retry.

        `scopes` are the permissions the call needs: a link that lacks them raises
        `MissingScope` naming them before Spotify is asked."""
        where = endpoint or endpoint_of(call)
        token = await self._tokens.access_token(discord_user_id, scopes=scopes)
        try:
            return await self._in_thread("user", token, call, where)
        except _Unauthorized:
            token = await self._tokens.access_token(discord_user_id, rejected=token)
            try:
                return await self._in_thread("user", token, call, where)
            except _Unauthorized:
                raise SpotifyUnavailable from None

    async def require_scopes(self, discord_user_id: int, scopes: Iterable[str]) -> None:
        """Raise `MissingScope` naming what the user's link lacks (`NotLinked` without one)."""
        await self._tokens.require_scopes(discord_user_id, scopes)

    async def as_token(self, token: str, call: Callable[[WebAPI], T]) -> T:
        """Call Spotify with a token we just received (the OAuth callback)."""
        try:
            return await self._in_thread("link", token, call, endpoint_of(call))
        except _Unauthorized:
            raise SpotifyUnavailable from None

    async def as_app(self, call: Callable[[WebAPI], T], *, endpoint: str | None = None) -> T:
        """Call Spotify with the app's client-credentials token (cached until it expires)."""
        where = endpoint or endpoint_of(call)
        token = await self._app_access_token()
        try:
            return await self._in_thread("app", token, call, where)
        except _Unauthorized:
            token = await self._app_access_token(rejected=token)
            try:
                return await self._in_thread("app", token, call, where)
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


def endpoint_of(call: Callable[..., Any]) -> str:
    """A call's endpoint for the concurrency bound: its call site (where its lambda is
    written), which names one Spotify endpoint in practice."""
    code = getattr(call, "__code__", None)
    if code is None:
        return getattr(call, "__qualname__", "call")
    return f"{code.co_filename}:{code.co_firstlineno}"
