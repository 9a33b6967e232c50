"""What keeps the web role standing and quiet under abuse: security headers on every answer
(aiohttp's own refusals included), pages without tracebacks, an access log without secrets,
per-address budgets that cost O(1) and bounded memory, and timeouts for slow clients.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import ipaddress
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[StreamResponse]]

CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
# What aiohttp's parser accepts before it refuses a request itself (400, with our headers).
MAX_LINE = 8190  # the request line: a 20,000-character URL is refused
MAX_FIELD = 8190  # one header
MAX_HEADERS = 64
REQUEST_DEADLINE = 60.0  # a whole request, Spotify's answers included


def page(
    status: int, title: str, message: str, *, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width'><title>{html.escape(title)} · Encore</title>"
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    return web.Response(
        status=status,
        text=body,
        content_type="text/html",
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def route_of(request: BaseRequest) -> str:
    """The request as logs may name it: the route's pattern (`/link/{nonce}`), never the
    path, which holds the nonce; unmatched paths are cut short (the scrubber does the rest)."""
    try:
        match_info = request.match_info if isinstance(request, web.Request) else None
    except AssertionError:  # a request aiohttp's parser refused was never routed
        match_info = None
    route = getattr(match_info, "route", None)
    resource = getattr(route, "resource", None)
    if resource is not None:
        return str(resource.canonical)
    return request.path[:100]


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Access log of routes, not paths or query strings: nonces, codes and states travel in
    them."""

    def log(self, request: BaseRequest, response: StreamResponse, duration: float) -> None:
        self.logger.info(
            "%s %s %s %.1fms", request.method, route_of(request), response.status, duration * 1000
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> StreamResponse:
    try:
        async with asyncio.timeout(REQUEST_DEADLINE):
            response = await handler(request)
    except web.HTTPException as error:
        if error.status >= 400 and not request.path.startswith("/api/"):
            return page(error.status, error.reason, "There is nothing here.")
        raise
    except TimeoutError:
        log.warning("%s %s took too long and was given up", request.method, route_of(request))
        return page(504, "This took too long", "Please try again in a minute.")
    except Exception:
        log.exception("Unhandled error on %s %s", request.method, route_of(request))
        if request.path.startswith("/api/"):
            return web.json_response({"error": "internal error"}, status=500)
        return page(500, "Something went wrong", "Encore could not finish this. Please try again.")
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


# -- who is asking -------------------------------------------------------------------------


def client_address(request: web.Request, trust_forwarded: bool) -> str:
    """The client a budget is counted for: an IPv4 address, or an IPv6 /64 (one home or
    host's whole prefix). Behind a proxy, the last `X-Forwarded-For` entry (the one the
    proxy appended), only if it is an address: anything else counts as the proxy itself, so a
    forged or garbage value never becomes a key of its own."""
    if trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "")[-64:]
        network = _network(forwarded.rsplit(",", 1)[-1].strip())
        if network is not None:
            return network
    return _network(request.remote or "") or "unknown"


def _network(text: str) -> str | None:
    if not text or len(text) > 45:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class RateLimiter:
    """A token bucket per client in a table of at most `capacity` clients, the least recently
    seen forgotten first. Each request touches at most two entries (its own, and one evicted),
    whatever the number of clients: an attacker with endless addresses costs O(1) a request
    and at most `capacity` small entries (keys are 64-bit hashes, never the header's text).

    Per process: replicas each keep their own.
    """

    def __init__(
        self,
        per_minute: int = 30,
        *,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(per_minute)
        self.capacity = capacity
        self._clock = clock
        self._table: OrderedDict[int, tuple[float, float]] = OrderedDict()
        self.work = 0  # table entries read, written or evicted: what a request costs

    def __len__(self) -> int:
        return len(self._table)

    def allow(self, client: str) -> bool:
        key = int.from_bytes(hashlib.blake2b(client.encode(), digest_size=8).digest(), "big")
        now = self._clock()
        bucket = self._table.pop(key, None)
        self.work += 1
        if bucket is None:
            tokens = self._burst
            if len(self._table) >= self.capacity:
                self._table.popitem(last=False)  # the least recently seen client
                self.work += 1
        else:
            tokens = min(self._burst, bucket[0] + (now - bucket[1]) * self._rate)
        allowed = tokens >= 1
        self._table[key] = (tokens - 1 if allowed else tokens, now)
        self.work += 1
        return allowed


def rate_limited(
    limiter: RateLimiter | None, trust_forwarded: bool
) -> Callable[[Handler], Handler]:
    def wrap(handler: Handler) -> Handler:
        if limiter is None:
            return handler

        async def limited(request: web.Request) -> StreamResponse:
            if not limiter.allow(client_address(request, trust_forwarded)):
                return page(
                    429,
                    "Slow down",
                    "Too many requests from your address. Wait a minute.",
                    headers={"Retry-After": "60"},
                )
            return await handler(request)

        return limited

    return wrap


# -- what aiohttp answers itself -------------------------------------------------------------


class _GuardedRequestHandler(RequestHandler):
    """aiohttp's connection handler, answering what its parser refuses (a request line or
    header too long, a bad method, garbage) with our page and headers, and logging it in one
    line without a traceback: a malformed request is the client's problem, not an incident."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> StreamResponse:
        reason = type(exc).__name__ if exc is not None else HTTPStatus(status).phrase
        if status >= 500:
            log.error("The web server could not answer a request (%s)", reason)
        else:
            log.info("Refused a malformed request with %s (%s)", status, reason)
        if request.writer.output_size > 0:
            raise ConnectionError("the answer had begun; the connection is closed instead")
        title = {400: "Bad request", 413: "Request too large", 431: "Headers too large"}.get(
            status, HTTPStatus(status).phrase
        )
        response = page(status, title, "Encore could not read this request.")
        response.force_close()
        return response


class _GuardedServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _GuardedRequestHandler(self, loop=self._loop, **self._kwargs)


class GuardedRunner(web.AppRunner):
    """`AppRunner` whose connections are `_GuardedRequestHandler`s."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _GuardedServer
        return server


def runner_options(read_timeout: float) -> dict[str, Any]:
    """The connection limits: `keepalive_timeout` is also how long aiohttp waits for a
    request's headers (and for a first request on a new connection), so a client sending
    its headers a byte at a time is dropped after `read_timeout`."""
    return {
        "access_log_class": PathOnlyAccessLogger,
        "keepalive_timeout": read_timeout,
        "max_line_size": MAX_LINE,
        "max_field_size": MAX_FIELD,
        "max_headers": MAX_HEADERS,
        "lingering_time": 2.0,
    }
