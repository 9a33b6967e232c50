"""What each process tells its operator: command metrics, /metrics and the health report.

- Slash commands are counted by outcome in `bot.ui.command_metrics`.
- Every role can serve `/metrics` and its own `/health` on METRICS_HOST:METRICS_PORT
  (`start_metrics_server`); the web role also serves them on its public port.
- Who may read them: anyone may read the short `/health` (`{"status": ...}`, 200 or 503:
  the container health check). `/metrics` and the detailed `/health` need either
  `Authorization: Bearer <MONITORING_TOKEN>` or a request from this host (loopback, no
  forwarding headers) while the web server is not behind a proxy (WEB_TRUST_FORWARDED off):
  behind a proxy, a loopback peer may be the proxy forwarding anyone.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import __version__, metrics
from bot.config import Settings
from bot.heartbeat import Heartbeat, deployment

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


# -- who may read the details -----------------------------------------------------------------


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def may_see_details(request: web.Request, settings: Settings, *, behind_proxy: bool) -> bool:
    token = settings.monitoring_token
    header = request.headers.get("Authorization", "")
    if token is not None and header.startswith("Bearer "):
        return hmac.compare_digest(
            header.removeprefix("Bearer ").strip().encode(), token.get_secret_value().encode()
        )
    if behind_proxy or any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    return _loopback(request.remote)


def refused() -> web.Response:
    return web.json_response(
        {
            "error": "send Authorization: Bearer <MONITORING_TOKEN>, or ask from this host "
            "(see the README: Processes and scaling)"
        },
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="encore"'},
    )


def prometheus_response() -> web.Response:
    response = web.Response(body=generate_latest(metrics.REGISTRY))
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


# -- the health report -------------------------------------------------------------------------


async def health_report(services: Services, *, detailed: bool) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): 503 only when the database does not answer."""
    report: dict[str, Any] = {"version": __version__}
    try:
        last = await services.releases.last_success()  # also proves the database answers
        report["database"] = "ok"
    except Exception as error:
        log.warning("Health check: database unreachable (%s)", type(error).__name__)
        report["database"] = "unreachable"
        body = {"status": "unavailable", "database": "unreachable"}
        return 503, ({**report, **body} if detailed else body)
    if not detailed:
        return 200, {"status": "ok"}
    report["last_release_ingestion"] = (
        {
            "finished_at": last.finished_at.isoformat(),
            "source": last.source,
            "releases": last.releases_seen,
        }
        if last is not None and last.finished_at is not None
        else None
    )
    try:
        found = await deployment(services.sessions)
    except Exception as error:  # e.g. a schema older than this code: say so, stay up
        log.warning("Health check: could not read the heartbeats (%s)", type(error).__name__)
        report["problems"] = [f"could not read the heartbeats: {type(error).__name__}"]
    else:
        report["roles"] = found.roles
        report["gateway"] = found.gateway_summary()
        report["outbox"] = found.outbox
        report["problems"] = found.problems
    for key in ("ingestion", "digests"):
        if key in services.status:
            report[key] = services.status[key]
    report["status"] = "degraded" if report["problems"] else "ok"
    return 200, report


# -- the metrics listener of every role --------------------------------------------------------


async def start_metrics_server(
    settings: Settings, role: str, heartbeat: Heartbeat | None
) -> web.AppRunner:
    """`/metrics` and this process's own `/health` on METRICS_HOST:METRICS_PORT."""

    async def metrics_page(request: web.Request) -> web.StreamResponse:
        if settings.monitoring_token is not None and not may_see_details(
            request, settings, behind_proxy=False
        ):
            return refused()
        return prometheus_response()

    async def process_health(request: web.Request) -> web.StreamResponse:
        if settings.monitoring_token is not None and not may_see_details(
            request, settings, behind_proxy=False
        ):
            return web.json_response({"status": "ok"})
        body: dict[str, Any] = {"status": "ok", "role": role, "version": __version__}
        if heartbeat is not None:
            body.update(heartbeat.facts())
            if heartbeat.last_tick_at is not None:
                body["last_tick_at"] = heartbeat.last_tick_at.isoformat()
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/health", process_health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.metrics_host, settings.metrics_port).start()
    log.info("Metrics on http://%s:%s/metrics", settings.metrics_host, settings.metrics_port)
    return runner
