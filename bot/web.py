"""The web role: the personal link, the OAuth callback, health, metrics and the JSON API."""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from bot import metrics
from bot.api import add_api_routes
from bot.linking import LinkPageError
from bot.observability import health_report, may_see_details, prometheus_response, refused
from bot.services import Services

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[StreamResponse]]
SERVICES = web.AppKey("services", Services)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Access log without query strings: OAuth codes and states travel in them."""

    def log(self, request: BaseRequest, response: StreamResponse, duration: float) -> None:
        self.logger.info(
            "%s %s %s %.1fms", request.method, request.path, response.status, duration * 1000
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


class RateLimiter:
    """A token bucket per client address (per process: replicas each keep their own)."""

    def __init__(self, per_minute: int = 30) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        tokens, last = self._buckets.get(address, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if len(self._buckets) > 10_000:  # forget idle addresses
            self._buckets = {a: b for a, b in self._buckets.items() if now - b[1] < 120}
        if tokens < 1:
            self._buckets[address] = (tokens, now)
            return False
        self._buckets[address] = (tokens - 1, now)
        return True


def page(status: int, title: str, message: str) -> web.Response:
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width'><title>{html.escape(title)} · Encore</title>"
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    return web.Response(
        status=status, text=body, content_type="text/html", headers=SECURITY_HEADERS
    )


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if error.status >= 400 and not request.path.startswith("/api/"):
            return page(error.status, error.reason, "There is nothing here.")
        raise
    except Exception:
        log.exception("Unhandled error on %s %s", request.method, request.path)
        if request.path.startswith("/api/"):
            return web.json_response({"error": "internal error"}, status=500)
        return page(500, "Something went wrong", "Encore could not finish this. Please try again.")
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def client_address(request: web.Request, trust_forwarded: bool) -> str:
    if trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:  # the proxy appends the address it saw: the last entry is trustworthy
            return forwarded.rsplit(",", 1)[-1].strip()
    return request.remote or "unknown"


def rate_limited(
    limiter: RateLimiter | None, trust_forwarded: bool
) -> Callable[[Handler], Handler]:
    def wrap(handler: Handler) -> Handler:
        if limiter is None:
            return handler

        async def limited(request: web.Request) -> StreamResponse:
            if not limiter.allow(client_address(request, trust_forwarded)):
                return page(429, "Slow down", "Too many requests from your address. Wait a minute.")
            return await handler(request)

        return limited

    return wrap


async def open_link(request: web.Request) -> StreamResponse:
    services = request.app[SERVICES]
    try:
        authorize_url = await services.links.open_link(request.match_info["nonce"])
    except LinkPageError as error:
        return page(error.status, error.title, error.message)
    raise web.HTTPFound(authorize_url, headers=SECURITY_HEADERS)


async def callback(request: web.Request) -> StreamResponse:
    services = request.app[SERVICES]
    query = request.query
    if query.get("error"):
        metrics.LINKS.labels("denied").inc()
        return page(
            200 if query["error"] == "access_denied" else 400,
            "Nothing was linked",
            "You did not allow Encore to use your Spotify account, so nothing was stored. "
            "Run /link in Discord whenever you change your mind.",
        )
    code, state = query.get("code", ""), query.get("state", "")
    if not code or not state or len(code) > 1024 or len(state) > 512:
        return page(
            400,
            "This sign-in could not be verified",
            "The page was opened without what Spotify sends back. Nothing was stored; "
            "run /link in Discord for a new link.",
        )
    try:
        linked = await services.links.complete(code, state)
    except LinkPageError as error:
        return page(error.status, error.title, error.message)
    return page(
        200, f"Linked as {linked.display_name}", "You can close this tab and go back to Discord."
    )


async def health(request: web.Request) -> StreamResponse:
    """Short for anyone (the container health check); the whole deployment for monitoring."""
    services = request.app[SERVICES]
    settings = services.settings
    detailed = may_see_details(request, settings, behind_proxy=settings.web_trust_forwarded)
    status, report = await health_report(services, detailed=detailed)
    return web.json_response(report, status=status)


async def prometheus(request: web.Request) -> StreamResponse:
    settings = request.app[SERVICES].settings
    if not may_see_details(request, settings, behind_proxy=settings.web_trust_forwarded):
        return refused()
    return prometheus_response()


def create_app(services: Services) -> web.Application:
    app = web.Application(middlewares=[security_headers], client_max_size=64 * 1024)
    app[SERVICES] = services
    settings = services.settings
    limiter = RateLimiter(settings.web_rate_limit) if settings.web_rate_limit else None
    limit = rate_limited(limiter, settings.web_trust_forwarded)
    app.router.add_get("/link/{nonce}", limit(open_link))
    app.router.add_get("/callback", limit(callback))
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", prometheus)
    add_api_routes(app, services)
    return app


async def start(services: Services, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(create_app(services), access_log_class=PathOnlyAccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("Web server listening on http://%s:%s", host, port)
    return runner
