"""The public JSON API over the local copy of new releases: `/api/artists` and `/api/releases`.

Answers are cacheable (`Cache-Control: public, max-age=300`) and carry an `ETag`, so clients
can poll with `If-None-Match` and get a bodyless 304 while nothing changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.clock import Clock
from bot.releases import ReleaseService
from bot.services import Services
from bot.single_flight import KeptAnswers
from bot.web_security import RateLimiter, client_address

CACHE_CONTROL = "public, max-age=300"


class BadParameter(Exception):
    """A query parameter the API cannot use; the message says which and why."""


class TooManyMisses(Exception):
    """This client asked for too many answers that had to be built (its own budget)."""


def _bounded(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise BadParameter(f"{name} must be from {low} to {high}")
    return value


@dataclass(frozen=True)
class Rendered:
    payload: bytes
    etag: str


def render(body: dict[str, Any]) -> Rendered:
    """The compact, key-sorted, ASCII JSON of `body` (what the queries write, see `tagged`)."""
    return tagged(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())


def tagged(payload: bytes) -> Rendered:
    return Rendered(payload, '"' + hashlib.sha256(payload).hexdigest()[:32] + '"')


def _cacheable(request: web.Request, rendered: Rendered) -> web.StreamResponse:
    payload, etag = rendered.payload, rendered.etag
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    wanted = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
    if etag in wanted or "*" in wanted:
        return web.Response(status=304, headers=headers)
    return web.Response(body=payload, content_type="application/json", headers=headers)


def _error(message: str, status: int = 400) -> web.StreamResponse:
    # No caching of errors: a client fixing its query must not see a stale 400.
    return web.json_response({"error": message}, status=status)


class ReleaseApi:
    """The routes, with answers kept until the copy changes.

    An answer depends on its parameters, today's date and the copy, which changes only when
    an ingestion writes (`max(last_seen)` moves). The copy's version is known in memory (asked
    again at most once a second, `ReleaseCopy.version`), so a cached answer costs no query;
    the rendered body and its ETag are reused until the version moves, in every replica.
    Concurrent misses of one answer build it once (single-flight), and at most
    `BUILDS_AT_ONCE` answers are built at once.
    """

    CACHED_ANSWERS = 256
    # Answers built at once in this process (others wait here, holding nothing). Each build
    # holds a pooled connection for its one statement: 50 at once would wait in the pool
    # anyway, and overflow it, so that connections were opened and closed under load (400
    # in a 40 s bench); and PostgreSQL answers no faster with more at once on a few cores.
    BUILDS_AT_ONCE = 4

    def __init__(
        self,
        releases: ReleaseService,
        clock: Clock,
        misses: RateLimiter | None = None,
        trust_forwarded: bool = False,
    ) -> None:
        self._releases = releases
        self._clock = clock
        self._answers: KeptAnswers[tuple[object, ...], Rendered] = KeptAnswers(self.CACHED_ANSWERS)
        self._builds = asyncio.Semaphore(self.BUILDS_AT_ONCE)
        # Answers served from the cache cost nothing; building one costs queries, so each
        # client has a budget of misses (walking every parameter combination is refused).
        self._misses = misses
        self._trust_forwarded = trust_forwarded

    async def _answer(
        self,
        request: web.Request,
        key: tuple[object, ...],
        build: Callable[[], Awaitable[bytes]],
    ) -> Rendered:
        version = await self._releases.version()
        full_key = (*key, self._clock.now().date(), version)
        rendered = self._answers.get(full_key)
        if rendered is None:
            if self._misses is not None and not self._misses.allow(
                client_address(request, self._trust_forwarded)
            ):
                raise TooManyMisses

            async def rendered_answer() -> Rendered:
                async with self._builds:
                    return tagged(await build())

            rendered = await self._answers.fill(full_key, rendered_answer)
        return rendered

    async def artists(self, request: web.Request) -> web.StreamResponse:
        """Artists of the `release_limit` latest releases, each with their releases."""
        try:
            limit = _bounded(request, "release_limit", 20, 1, 100)
            days = _bounded(request, "days", 14, 1, 365)
        except BadParameter as error:
            return _error(str(error))

        async def build() -> bytes:
            # PostgreSQL writes the body: the same bytes as render() of latest_by_artist().
            return await self._releases.latest_by_artist_json(limit=limit, days=days)

        return await self._respond(request, ("artists", limit, days), build)

    async def releases(self, request: web.Request) -> web.StreamResponse:
        """The `limit` latest releases of the last `days` days, newest first."""
        try:
            limit = _bounded(request, "limit", 20, 1, 100)
            days = _bounded(request, "days", 14, 1, 365)
        except BadParameter as error:
            return _error(str(error))

        async def build() -> bytes:
            # PostgreSQL writes the body: the same bytes as render() of recent().
            return await self._releases.recent_json(limit=limit, days=days)

        return await self._respond(request, ("releases", limit, days), build)

    async def _respond(
        self,
        request: web.Request,
        key: tuple[object, ...],
        build: Callable[[], Awaitable[bytes]],
    ) -> web.StreamResponse:
        try:
            rendered = await self._answer(request, key, build)
        except TooManyMisses:
            response = _error("too many different queries; try again in a minute", 429)
            response.headers["Retry-After"] = "60"
            return response
        return _cacheable(request, rendered)


def add_api_routes(
    app: web.Application,
    services: Services,
    misses: RateLimiter | None = None,
    trust_forwarded: bool = False,
) -> None:
    api = ReleaseApi(services.releases, services.clock, misses, trust_forwarded)
    app.router.add_get("/api/artists", api.artists)
    app.router.add_get("/api/releases", api.releases)
