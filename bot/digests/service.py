"""The digest service: each server's digest settings, and the claiming and posting of due
digests through PostgreSQL, so any number of workers post each once per local day.

A digest is keyed on (server, local date) in `digest_runs`. A worker claims a due server with
`FOR UPDATE SKIP LOCKED` and a lease, inserts the run with `ON CONFLICT DO NOTHING` (no row:
it is someone else's, or done), posts, marks the run sent and moves `next_run_at` to the next
local day. A run left in "sending" when its lease expired (the worker died mid-send) is
recovered once: the channel's recent messages are searched for the digest's footer marker
(`Encore daily digest · <local date>`), and it is posted only if it is not there. A second
crash on the same run marks it "abandoned" (logged) rather than risk a loop of duplicates.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import os
import secrets
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.clock import Clock
from bot.digests.digest import Digest, DigestStatus, SharedRelease
from bot.digests.posting import (
    ChannelUnavailable,
    Poster,
    PostFailed,
    PostRefused,
    digest_nonce,
)
from bot.digests.schedule import (
    DEFAULT_TIME,
    due_local_date,
    next_post_at,
    parse_post_time,
    parse_timezone,
)
from bot.releases import ReleaseService
from db.engine import SessionFactory, again_if_connection_lost
from db.models import DigestRun, GuildSettings

log = logging.getLogger(__name__)

PAUSE_AFTER = 3  # consecutive 403/404 answers before a server's digest is paused
SENDERS = 20  # posts in flight per worker; the shared budget keeps them under the global limit


# (guild, local date) -> the digest's section of releases its sharing members' radars watch
SharedReleases = Callable[[int, dt.date], Awaitable[Sequence[SharedRelease]]]


@dataclass(frozen=True)
class DigestClaim:
    """A server's digest this worker holds the lease for."""

    guild_id: int
    channel_id: int
    local_date: dt.date
    timezone: str
    post_when_empty: bool
    run_id: int
    retry: bool  # an earlier attempt may have posted it: look before posting


@dataclass
class TickReport:
    outcomes: Counter[str] = field(default_factory=Counter)

    def __getitem__(self, outcome: str) -> int:
        return self.outcomes[outcome]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class DigestService:
    """Each server's digest settings, and the claiming and posting of due digests."""

    def __init__(
        self,
        sessions: SessionFactory,
        releases: ReleaseService,
        clock: Clock,
        *,
        status: dict[str, object],
        worker: str | None = None,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        batch_size: int = 50,
        poster: Poster | None = None,
        shared_releases: SharedReleases | None = None,
    ) -> None:
        self._sessions = sessions
        self._releases = releases
        self._clock = clock
        self._status = status
        self.worker = worker or worker_name()
        self.lease = lease
        self._batch_size = batch_size
        self.poster = poster
        self.shared_releases = shared_releases

    def attach(self, poster: Poster) -> None:
        """Digests are posted once a Discord client is logged in."""
        self.poster = poster

    # -- settings (the /digest commands) ---------------------------------------------------

    @again_if_connection_lost
    async def status(self, guild_id: int) -> DigestStatus | None:
        async with self._sessions() as session:
            row = await session.get(GuildSettings, guild_id)
            return None if row is None else _status(row)

    async def set_channel(self, guild_id: int, channel_id: int) -> DigestStatus:
        """Choosing a channel turns the digest on and lifts a pause."""

        def change(row: GuildSettings) -> None:
            row.channel_id = channel_id
            row.enabled = True
            row.paused_reason = None
            row.consecutive_failures = 0

        return await self._change(guild_id, change)

    async def set_time(self, guild_id: int, text: str) -> DigestStatus:
        post_time = parse_post_time(text)

        def change(row: GuildSettings) -> None:
            row.post_time = post_time

        return await self._change(guild_id, change)

    async def set_timezone(self, guild_id: int, text: str) -> DigestStatus:
        timezone = parse_timezone(text)

        def change(row: GuildSettings) -> None:
            row.timezone = timezone

        return await self._change(guild_id, change)

    async def set_empty_days(self, guild_id: int, *, post: bool) -> DigestStatus:
        def change(row: GuildSettings) -> None:
            row.post_when_empty = post

        return await self._change(guild_id, change)

    async def turn_off(self, guild_id: int) -> DigestStatus:
        def change(row: GuildSettings) -> None:
            row.enabled = False

        return await self._change(guild_id, change)

    @again_if_connection_lost
    async def _change(self, guild_id: int, change: Callable[[GuildSettings], None]) -> DigestStatus:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert(GuildSettings)
                .values(
                    guild_id=guild_id,
                    post_time=DEFAULT_TIME,
                    timezone="UTC",
                    enabled=False,
                    post_when_empty=True,
                    consecutive_failures=0,
                )
                .on_conflict_do_nothing(index_elements=["guild_id"])
            )
            row = await session.scalar(
                select(GuildSettings).where(GuildSettings.guild_id == guild_id).with_for_update()
            )
            assert row is not None
            change(row)
            row.updated_at = now
            row.next_run_at = await self._next_run(session, row, now)
            return _status(row)

    async def _next_run(
        self, session: AsyncSession, row: GuildSettings, now: dt.datetime
    ) -> dt.datetime | None:
        if not row.enabled or row.channel_id is None:
            return None
        # Today's digest failed (say, a missing permission now fixed): post it right away
        # rather than wait for tomorrow. Otherwise the next post time from now on.
        due = due_local_date(now, row.post_time, row.timezone)
        failed_today = await session.scalar(
            select(DigestRun.id).where(
                DigestRun.guild_id == row.guild_id,
                DigestRun.local_date == due,
                DigestRun.status == "failed",
            )
        )
        if failed_today is not None:
            return now
        return next_post_at(now, row.post_time, row.timezone)

    async def preview(self, guild_id: int) -> Digest:
        """Today's digest in the server's time zone (UTC for a server that set nothing)."""
        status = await self.status(guild_id)
        timezone = status.timezone if status else "UTC"
        today = self._clock.now().astimezone(ZoneInfo(timezone)).date()
        digest = await self.build(today, timezone)
        if self.shared_releases is not None:
            shared = tuple(await self.shared_releases(guild_id, today))
            digest = dataclasses.replace(digest, shared=shared)
        return digest

    async def build(self, local_date: dt.date, timezone: str) -> Digest:
        return Digest(local_date, timezone, tuple(await self._releases.released_on(local_date)))

    # -- posting (the worker's tick) -------------------------------------------------------

    async def tick(self, now: dt.datetime | None = None) -> TickReport:
        """Post every due digest; safe to run in any number of processes at once."""
        report = TickReport()
        poster = self.poster
        if poster is None:
            return report
        built: dict[tuple[dt.date, str], Digest] = {}
        # A pipeline: the next batch is claimed while this one is posted, so the budget,
        # not the database round trips between batches, sets the pace of a large fan-out.
        queue: asyncio.Queue[DigestClaim | None] = asyncio.Queue(maxsize=self._batch_size)

        async def claim() -> None:
            while True:
                selected, claims = await self._claim_batch(now or self._clock.now())
                for due in claims:
                    await queue.put(due)
                if selected < self._batch_size:
                    break
            for _ in range(SENDERS):
                await queue.put(None)  # each sender stops after the last claim

        async def send() -> None:
            while (due := await queue.get()) is not None:
                try:
                    outcome = await self.deliver(due, now=now, built=built)
                except Exception:
                    # The lease runs out and a later tick recovers the run (looking first).
                    log.exception("Digest for server %s failed", due.guild_id)
                    outcome = "error"
                report.outcomes[outcome] += 1

        # Supervised: the tick ends when every sender has. A failure (a claim that cannot
        # reach the database) cancels the rest; the digests it cut short keep their lease
        # and run row, and a later tick recovers them, looking before posting.
        try:
            async with asyncio.TaskGroup() as fan_out:
                fan_out.create_task(claim())
                for _ in range(SENDERS):
                    fan_out.create_task(send())
        except ExceptionGroup as failed:
            if len(failed.exceptions) == 1:
                raise failed.exceptions[0] from None
            raise
        if report.outcomes:
            self._status["digests"] = {
                "last_tick": (now or self._clock.now()).isoformat(),
                **dict(report.outcomes),
            }
        return report

    async def claim_due(self, now: dt.datetime | None = None) -> list[DigestClaim]:
        """Claim one batch of due servers for this worker (leased, with a digest run row)."""
        _, claims = await self._claim_batch(now or self._clock.now())
        return claims

    async def _claim_batch(self, now: dt.datetime) -> tuple[int, list[DigestClaim]]:
        claims: list[DigestClaim] = []
        async with self._sessions() as session, session.begin():
            rows = (
                await session.scalars(
                    select(GuildSettings)
                    .where(
                        GuildSettings.enabled,
                        GuildSettings.channel_id.is_not(None),
                        GuildSettings.paused_reason.is_(None),
                        GuildSettings.next_run_at <= now,
                        (GuildSettings.claimed_until.is_(None))
                        | (GuildSettings.claimed_until < now),
                    )
                    .order_by(GuildSettings.next_run_at)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                claim = await self._claim(session, row, now)
                if claim is not None:
                    claims.append(claim)
        return len(rows), claims

    async def _claim(
        self, session: AsyncSession, row: GuildSettings, now: dt.datetime
    ) -> DigestClaim | None:
        local_date = due_local_date(now, row.post_time, row.timezone)
        run_id = await session.scalar(
            insert(DigestRun)
            .values(
                guild_id=row.guild_id,
                local_date=local_date,
                status="sending",
                claimed_by=self.worker,
                started_at=now,
            )
            .on_conflict_do_nothing(index_elements=["guild_id", "local_date"])
            .returning(DigestRun.id)
        )
        retry = False
        if run_id is None:
            run = await session.scalar(
                select(DigestRun)
                .where(DigestRun.guild_id == row.guild_id, DigestRun.local_date == local_date)
                .with_for_update()
            )
            assert run is not None
            if run.status == "resending":
                # It crashed once already while recovering this run: stop rather than loop.
                run.status = "abandoned"
                run.error = "the worker stopped twice while posting it"
                log.error(
                    "Digest for server %s on %s abandoned after two interrupted attempts",
                    row.guild_id,
                    local_date,
                )
                metrics.DIGESTS.labels("abandoned").inc()
            if run.status in ("sent", "skipped", "abandoned", "refused"):
                # Done for this local day (by another worker, or before a schedule change).
                row.next_run_at = next_post_at(
                    now, row.post_time, row.timezone, after_date=local_date
                )
                row.claimed_by = row.claimed_until = None
                return None
            # "sending": its worker's lease expired mid-send; "failed": a retry after a pause.
            run.status = "resending" if run.status == "sending" else "sending"
            run.claimed_by = self.worker
            run_id, retry = run.id, True
        row.claimed_by = self.worker
        row.claimed_until = now + self.lease
        assert row.channel_id is not None
        return DigestClaim(
            guild_id=row.guild_id,
            channel_id=row.channel_id,
            local_date=local_date,
            timezone=row.timezone,
            post_when_empty=row.post_when_empty,
            run_id=run_id,
            retry=retry,
        )

    async def deliver(
        self,
        claim: DigestClaim,
        *,
        now: dt.datetime | None = None,
        built: dict[tuple[dt.date, str], Digest] | None = None,
    ) -> str:
        """Post one claimed digest and record how it went: sent, skipped, retry or paused."""
        assert self.poster is not None, "attach a poster first"
        built = {} if built is None else built
        key = (claim.local_date, claim.timezone)
        if key not in built:
            built[key] = await self.build(claim.local_date, claim.timezone)
        digest = built[key]
        if self.shared_releases is not None:
            shared = tuple(await self.shared_releases(claim.guild_id, claim.local_date))
            digest = dataclasses.replace(digest, shared=shared)
        if not digest.artists and not digest.shared and not claim.post_when_empty:
            await self._finish(claim, "skipped", None, now)
            return "skipped"
        try:
            message_id = None
            if claim.retry:
                message_id = await self.poster.find_posted(claim.channel_id, digest)
            if message_id is None:
                message_id = await self.poster.post(
                    claim.channel_id, digest, nonce=digest_nonce(claim.run_id)
                )
        except PostRefused as error:
            return await self._refused(claim, error, now)
        except ChannelUnavailable as error:
            return await self._failed(claim, str(error), now, counts=True)
        except PostFailed as error:
            return await self._failed(claim, f"Discord did not answer ({error})", now, counts=False)
        await self._finish(claim, "sent", message_id, now)
        return "sent"

    async def _finish(
        self, claim: DigestClaim, outcome: str, message_id: int | None, now: dt.datetime | None
    ) -> None:
        now = now or self._clock.now()
        async with self._sessions() as session, session.begin():
            run = await session.get(DigestRun, claim.run_id, with_for_update=True)
            assert run is not None
            run.status, run.sent_at, run.message_id, run.error = outcome, now, message_id, None
            row = await session.get(GuildSettings, claim.guild_id, with_for_update=True)
            # If our lease lapsed and another worker took over, it owns the schedule now.
            if row is not None and row.claimed_by == self.worker:
                row.next_run_at = next_post_at(
                    now, row.post_time, row.timezone, after_date=claim.local_date
                )
                row.claimed_by = row.claimed_until = None
                row.consecutive_failures = 0
                if outcome == "sent":
                    row.last_posted_at = now
        metrics.DIGESTS.labels(outcome).inc()

    async def _refused(
        self, claim: DigestClaim, error: PostRefused, now: dt.datetime | None
    ) -> str:
        """Discord refused the post itself (400): a bug, not an outage. The same digest would
        be refused again, so today's run ends here (no retry loop); the next local day's
        digest is posted as usual, and refusals on `PAUSE_AFTER` days in a row pause it."""
        now = now or self._clock.now()
        reason = (
            "Discord refused the post as Encore built it (a bug in Encore, logged for its "
            f"operator: {error.fields}). Today's digest is not retried; the next one is "
            "posted as usual"
        )
        outcome = "refused"
        async with self._sessions() as session, session.begin():
            run = await session.get(DigestRun, claim.run_id, with_for_update=True)
            assert run is not None
            run.status, run.error = "refused", error.fields[:1000]
            row = await session.get(GuildSettings, claim.guild_id, with_for_update=True)
            if row is not None and row.claimed_by == self.worker:
                row.claimed_by = row.claimed_until = None
                row.last_failure, row.last_failure_at = reason[:1000], now
                row.consecutive_failures += 1
                row.next_run_at = next_post_at(
                    now, row.post_time, row.timezone, after_date=claim.local_date
                )
                if row.consecutive_failures >= PAUSE_AFTER:
                    row.paused_reason = (
                        f"Posting failed {row.consecutive_failures} times in a row: {reason}."
                    )[:1000]
                    outcome = "paused"
        log.error(
            "Digest for server %s on %s refused by Discord (a bug in Encore's message), "
            "not retried today: %s",
            claim.guild_id,
            claim.local_date,
            error.fields,
        )
        metrics.DIGESTS.labels(outcome).inc()
        metrics.MESSAGES_REFUSED.labels("digest").inc()
        return outcome

    async def _failed(
        self, claim: DigestClaim, reason: str, now: dt.datetime | None, *, counts: bool
    ) -> str:
        now = now or self._clock.now()
        outcome = "retry"
        async with self._sessions() as session, session.begin():
            run = await session.get(DigestRun, claim.run_id, with_for_update=True)
            assert run is not None
            run.status, run.error = "failed", reason
            row = await session.get(GuildSettings, claim.guild_id, with_for_update=True)
            if row is not None and row.claimed_by == self.worker:
                row.claimed_by = row.claimed_until = None
                row.last_failure, row.last_failure_at = reason, now
                if counts:
                    row.consecutive_failures += 1
                if row.consecutive_failures >= PAUSE_AFTER:
                    row.paused_reason = (
                        f"Posting failed {row.consecutive_failures} times in a row: {reason}."
                    )
                    outcome = "paused"
                # 403/404 wait longer each time; a Discord hiccup is retried in 2 minutes.
                delay = 10 * row.consecutive_failures if counts else 2
                row.next_run_at = now + dt.timedelta(minutes=delay)
        log.warning(
            "Digest for server %s on %s failed (%s): %s",
            claim.guild_id,
            claim.local_date,
            outcome,
            reason,
        )
        metrics.DIGESTS.labels(outcome).inc()
        return outcome


def _status(row: GuildSettings) -> DigestStatus:
    return DigestStatus(
        guild_id=row.guild_id,
        enabled=row.enabled,
        channel_id=row.channel_id,
        post_time=row.post_time,
        timezone=row.timezone,
        post_when_empty=row.post_when_empty,
        next_run_at=row.next_run_at,
        last_posted_at=row.last_posted_at,
        last_failure=row.last_failure,
        last_failure_at=row.last_failure_at,
        paused_reason=row.paused_reason,
    )
