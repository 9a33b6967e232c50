"""The web role: the personal link, the OAuth callback, health, metrics and the JSON API."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.web_response import StreamResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import __version__, metrics
from bot.api import add_api_routes
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
    services = request.app[SERVICES]
    report: dict[str, Any] = {"version": __version__}
    try:
        last = await services.releases.last_success()  # also proves the database answers
        report["database"] = "ok"
        report["last_release_ingestion"] = (
            {
                "finished_at": last.finished_at.isoformat(),
                "source": last.source,
                "releases": last.releases_seen,
            }
            if last is not None and last.finished_at is not None
            else None
        )
    except Exception as error:
        log.warning("Health check: database unreachable (%s)", type(error).__name__)
        report["database"] = "unreachable"
    report["gateway"] = services.status.get("gateway", "unknown")
    for key in ("ingestion", "digests"):
        if key in services.status:
            report[key] = services.status[key]
    healthy = report["database"] == "ok"
    report["status"] = "ok" if healthy else "degraded"
    return web.json_response(report, status=200 if healthy else 503)


async def prometheus(request: web.Request) -> StreamResponse:
    response = web.Response(body=generate_latest(metrics.REGISTRY))
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


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
