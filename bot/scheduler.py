"""The worker's clock: APScheduler only ticks; what is due, and who does it, lives in PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


def _guarded(name: str, job: Job, on_tick: Callable[[str], None] | None = None) -> Job:
    async def run() -> None:
        try:
            await job()
        except asyncio.CancelledError:
            # The process is stopping mid-job (a retry's pause, say): nothing failed, and
            # APScheduler would log the cancellation as a traceback.
            log.info("Scheduled job %s stopped: Encore is shutting down", name)
            return
        except Exception:
            log.exception("Scheduled job %s failed; it runs again at its next tick", name)
        if on_tick is not None:
            on_tick(name)  # the heartbeat's "last tick": the scheduler is alive

    return run


def build_scheduler(
    services: Services, *, on_tick: Callable[[str], None] | None = None
) -> AsyncIOScheduler:
    """Every periodic job of the worker role. Each is safe to run in many processes at once."""
    scheduler = AsyncIOScheduler(timezone="UTC")

    def every(name: str, job: Job, seconds: float, *, at_start: bool = True) -> None:
        scheduler.add_job(
            _guarded(name, job, on_tick),
            "interval",
            seconds=seconds,
            id=name,
            max_instances=1,
            coalesce=True,
            next_run_time=services.clock.now() if at_start else None,
        )

    every("link-expiry-reminders", services.links.remind_expiring, 3600)
    every("clean-up", services.links.clean_up, 3600)  # old link requests, delivered DMs
    # Checked often, run when stale: a restart does not re-ingest a fresh copy, and with many
    # workers the advisory lock and the staleness check keep it to one run per interval.
    interval = services.settings.release_ingest_interval_hours * 3600
    every("release-ingestion", services.releases.ingest_if_stale, min(600, interval))
    every("digests", services.digests.tick, services.settings.scheduler_tick_seconds)
    # The release radar: watchlists a day old, artist checks under the shared budget, the
    # weekly DMs.
    every("radar-watchlists", services.radar.watchlist.refresh_stale, 600)
    every("radar-checks", services.radar.checker.tick, services.settings.scheduler_tick_seconds)
    every(
        "radar-deliveries", services.radar.deliveries.tick, services.settings.scheduler_tick_seconds
    )
    return scheduler
