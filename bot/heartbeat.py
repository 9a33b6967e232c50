"""Every process says it is alive, in PostgreSQL; any web replica reads the whole deployment.

`Heartbeat` upserts this process's row in `role_heartbeats` every `HEARTBEAT_SECONDS` with
what its role knows (a gateway's shards, a worker's last scheduler tick) and deletes it on a
clean stop. `deployment()` reads every row, with the outbox backlog, for `/health`: the
live roles, the stale ones (a process that stopped beating: crashed, frozen, cut off), and
the problems an owner should look at.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert

from bot import __version__, metrics
from db.engine import SessionFactory
from db.models import OutboxMessage, RoleHeartbeat

log = logging.getLogger(__name__)

# A row is stale after this many missed beats; rows older than a day are removed.
STALE_AFTER_BEATS = 3
FORGET_AFTER = dt.timedelta(days=1)
SHOWN_FOR = dt.timedelta(hours=1)  # a stale row is listed this long, then only purged
OUTBOX_LATE = 300.0  # seconds a DM may wait before /health calls it a problem

Facts = Callable[[], dict[str, Any]]
PENDING = (OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat:
    """This process's row in `role_heartbeats`."""

    def __init__(
        self,
        sessions: SessionFactory,
        role: str,
        *,
        interval: float,
        facts: Facts | None = None,
        outbox: bool = False,
    ) -> None:
        """`facts` adds role-specific columns; `outbox`: this role delivers DMs (a gauge)."""
        self._sessions = sessions
        self._outbox = outbox
        self.role = role
        self.interval = interval
        self.facts = facts or dict
        self.process_id = uuid.uuid4().hex
        self.hostname = socket.gethostname()[:255]
        self.pid = os.getpid()
        self.last_tick_at: dt.datetime | None = None
        self._failing = False

    def ticked(self, job: str = "") -> None:
        """The worker's scheduler ran a job (recorded at the next beat)."""
        self.last_tick_at = dt.datetime.now(dt.UTC)
        metrics.SCHEDULER_LAST_TICK.set(self.last_tick_at.timestamp())

    async def beat(self) -> None:
        values: dict[str, Any] = {
            "role": self.role,
            "hostname": self.hostname,
            "pid": self.pid,
            "version": __version__,
            "beat_seconds": self.interval,
            "last_tick_at": self.last_tick_at,
            **self.facts(),
        }
        statement = insert(RoleHeartbeat).values(process_id=self.process_id, **values)
        statement = statement.on_conflict_do_update(
            index_elements=[RoleHeartbeat.process_id],
            set_={**values, "last_beat_at": func.now()},
        )
        async with self._sessions() as session, session.begin():
            await session.execute(statement)
            await session.execute(
                delete(RoleHeartbeat).where(RoleHeartbeat.last_beat_at < func.now() - FORGET_AFTER)
            )
            if self._outbox:
                metrics.OUTBOX_PENDING.set(
                    await session.scalar(select(func.count()).where(*PENDING)) or 0
                )
        metrics.HEARTBEAT.set_to_current_time()

    async def run(self) -> None:
        """Beat until cancelled; a database outage is logged once, not at every beat."""
        while True:
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not self._failing:
                    log.warning(
                        "Could not record this process's heartbeat (%s: %s); retrying every %.0f s",
                        type(error).__name__,
                        error,
                        self.interval,
                    )
                self._failing = True
            else:
                if self._failing:
                    log.info("Heartbeat recorded again")
                self._failing = False
            await asyncio.sleep(self.interval)

    async def remove(self) -> None:
        """A clean stop: this process no longer counts as running."""
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    delete(RoleHeartbeat).where(RoleHeartbeat.process_id == self.process_id)
                )
        except Exception as error:  # the database may be what stopped us
            log.warning("Could not remove this process's heartbeat: %s", type(error).__name__)


# -- reading the deployment -------------------------------------------------------------------


@dataclass
class Deployment:
    roles: list[dict[str, Any]] = field(default_factory=list)
    outbox: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def gateway_summary(self) -> dict[str, Any]:
        gateways = [r for r in self.roles if r["role"] in {"gateway", "run"} and not r["stale"]]
        return {
            "processes": len(gateways),
            "shards_connected": sum(r.get("shards", {}).get("connected") or 0 for r in gateways),
            "shards_run": sum(len(r.get("shards", {}).get("ids") or []) for r in gateways),
            "shard_count": max(
                (r.get("shards", {}).get("count") or 0 for r in gateways), default=0
            ),
            "guilds": sum(r.get("guilds") or 0 for r in gateways),
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def shards_text(ids: list[int], count: int) -> str:
    """'shard 0 of 1', 'shards 0-3 of 4'."""
    return f"shard{'s' if len(ids) != 1 else ''} {shard_ranges(ids)} of {count}"


def shard_ranges(ids: list[int]) -> str:
    parts: list[str] = []
    for shard in sorted(ids):
        if parts and parts[-1].split("-")[-1] == str(shard - 1):
            parts[-1] = f"{parts[-1].split('-')[0]}-{shard}"
        else:
            parts.append(str(shard))
    return ",".join(parts)


async def deployment(sessions: SessionFactory) -> Deployment:
    """Every process that reported in the last hour, the outbox backlog, and the problems."""
    report = Deployment()
    async with sessions() as session:
        age = func.extract("epoch", func.now() - RoleHeartbeat.last_beat_at)
        rows = (
            await session.execute(
                select(RoleHeartbeat, age.label("age"))
                .where(RoleHeartbeat.last_beat_at > func.now() - SHOWN_FOR)
                .order_by(RoleHeartbeat.role, RoleHeartbeat.started_at)
            )
        ).all()
        pending = (
            await session.execute(
                select(
                    func.count(),
                    func.extract("epoch", func.now() - func.min(OutboxMessage.created_at)),
                ).where(*PENDING)
            )
        ).one()
        failed = await session.scalar(
            select(func.count()).where(OutboxMessage.failed_at > func.now() - dt.timedelta(days=1))
        )
    for row, seconds in rows:
        stale = float(seconds) > STALE_AFTER_BEATS * row.beat_seconds + 5
        entry: dict[str, Any] = {
            "role": row.role,
            "process": f"{row.hostname}:{row.pid}",
            "version": row.version,
            "started_at": _iso(row.started_at),
            "last_beat_at": _iso(row.last_beat_at),
            "seconds_since_beat": round(float(seconds), 1),
            "stale": stale,
        }
        if row.shard_ids is not None:
            entry["shards"] = {
                "ids": list(row.shard_ids),
                "count": row.shard_count,
                "connected": row.shards_connected,
            }
            entry["guilds"] = row.guilds
        if row.role in {"worker", "run"}:
            entry["last_tick_at"] = _iso(row.last_tick_at)
        report.roles.append(entry)
    count, oldest = int(pending[0]), pending[1]
    report.outbox = {
        "pending": count,
        "oldest_pending_seconds": round(float(oldest), 1) if oldest is not None else None,
        "failed_last_day": int(failed or 0),
    }
    report.problems = _problems(report)
    return report


def _problems(report: Deployment) -> list[str]:
    problems: list[str] = []
    live = [r for r in report.roles if not r["stale"]]
    for role in report.roles:
        if role["stale"]:
            problems.append(
                f"{role['role']} {role['process']} last reported "
                f"{role['seconds_since_beat']:.0f} s ago (stopped, frozen or cut off from "
                "the database)"
            )
    gateways = [r for r in live if r["role"] in {"gateway", "run"}]
    if not gateways:
        problems.append("no gateway is running: slash commands and buttons get no answer")
    for gateway in gateways:
        shards = gateway.get("shards") or {}
        run, connected = len(shards.get("ids") or []), shards.get("connected") or 0
        if connected < run:
            problems.append(
                f"gateway {gateway['process']}: {connected} of its {run} shards are connected"
            )
    count = max((g.get("shards") or {}).get("count") or 0 for g in gateways) if gateways else 0
    covered = {s for g in gateways for s in (g.get("shards") or {}).get("ids") or []}
    missing = sorted(set(range(count)) - covered)
    if missing:
        problems.append(
            f"shards {shard_ranges(missing)} of {count} are run by no gateway: the servers "
            "on them get no answer"
        )
    if not any(r["role"] in {"worker", "run"} for r in live):
        problems.append("no worker is running: no digests, release ingestion or expiry reminders")
    oldest = report.outbox.get("oldest_pending_seconds")
    if oldest is not None and oldest > OUTBOX_LATE:
        problems.append(
            f"{report.outbox['pending']} direct messages wait in the outbox, the oldest for "
            f"{oldest / 60:.0f} min: gateways and workers deliver them"
        )
    return problems
