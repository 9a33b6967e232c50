"""The web role: the personal link and its callbacks, health, metrics and the JSON API.

`bot.web_link` holds the link's pages, `bot.web_security` what every answer shares (headers,
pages, budgets, timeouts); this module puts them together.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.web_response import StreamResponse

from bot.api import add_api_routes
from bot.observability import health_report, may_see_details, prometheus_response, refused
from bot.services import Services
from bot.web_link import LinkPages
from bot.web_security import (
    GuardedRunner,
    RateLimiter,
    rate_limited,
    runner_options,
    security_headers,
)

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)


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
    LinkPages(services).add_routes(app, limit)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", prometheus)
    misses = RateLimiter(settings.web_api_miss_limit) if settings.web_api_miss_limit else None
    add_api_routes(app, services, misses, settings.web_trust_forwarded)
    return app


async def start(services: Services, host: str, port: int) -> web.AppRunner:
    runner = GuardedRunner(
        create_app(services), **runner_options(services.settings.web_read_timeout)
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("Web server listening on http://%s:%s", host, port)
    return runner
