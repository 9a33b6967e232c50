"""Heartbeats: each process's row, and what /health makes of all of them together."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from bot.clock import SystemClock
from bot.heartbeat import Heartbeat, deployment
from bot.outbox import Outbox
from db.engine import SessionFactory
from db.models import RoleHeartbeat


def shards(ids: list[int], count: int, connected: int) -> dict[str, Any]:
    return {"shard_ids": ids, "shard_count": count, "shards_connected": connected, "guilds": 7}


async def test_a_beat_upserts_one_row_and_a_clean_stop_removes_it(sessions: SessionFactory) -> None:
    beat = Heartbeat(sessions, "gateway", interval=15, facts=lambda: shards([0, 1], 2, 2))
    await beat.beat()
    await beat.beat()
    async with sessions() as session:
        rows = (await session.scalars(select(RoleHeartbeat))).all()
    assert len(rows) == 1
    assert (rows[0].role, rows[0].shard_ids, rows[0].shards_connected) == ("gateway", [0, 1], 2)
    await beat.remove()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RoleHeartbeat)) == 0


async def test_the_deployment_names_every_role_and_each_problem(sessions: SessionFactory) -> None:
    gateway = Heartbeat(sessions, "gateway", interval=15, facts=lambda: shards([0, 1], 4, 1))
    worker = Heartbeat(sessions, "worker", interval=15)
    web = Heartbeat(sessions, "web", interval=15)
    worker.ticked("digests")
    for beat in (gateway, worker, web):
        await beat.beat()
    async with sessions() as session, session.begin():  # the worker stopped beating
        await session.execute(
            text(
                "UPDATE role_heartbeats SET last_beat_at = now() - interval '5 minutes' "
                "WHERE role = 'worker'"
            )
        )
        Outbox(sessions, SystemClock()).add_dm(session, 42, "linked", "hello")
        await session.execute(text("UPDATE outbox SET created_at = now() - interval '10 minutes'"))

    found = await deployment(sessions)

    by_role = {role["role"]: role for role in found.roles}
    assert set(by_role) == {"gateway", "worker", "web"}
    assert by_role["worker"]["stale"] and not by_role["gateway"]["stale"]
    assert by_role["worker"]["last_tick_at"] is not None
    assert by_role["gateway"]["shards"] == {"ids": [0, 1], "count": 4, "connected": 1}
    assert found.gateway_summary() == {
        "processes": 1,
        "shards_connected": 1,
        "shards_run": 2,
        "shard_count": 4,
        "guilds": 7,
    }
    assert found.outbox["pending"] == 1 and found.outbox["oldest_pending_seconds"] >= 600
    problems = "\n".join(found.problems)
    assert "worker" in problems and "last reported" in problems
    assert "1 of its 2 shards are connected" in problems
    assert "shards 2-3 of 4 are run by no gateway" in problems
    assert "no worker is running" in problems
    assert "1 direct messages wait in the outbox" in problems


async def test_a_healthy_deployment_has_no_problems(sessions: SessionFactory) -> None:
    await Heartbeat(sessions, "run", interval=15, facts=lambda: shards([0], 1, 1)).beat()
    found = await deployment(sessions)
    assert found.problems == []
    assert found.roles[0]["role"] == "run" and found.roles[0]["last_tick_at"] is None


async def test_rows_of_processes_gone_for_a_day_are_forgotten(sessions: SessionFactory) -> None:
    old = Heartbeat(sessions, "worker", interval=15)
    await old.beat()
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE role_heartbeats SET last_beat_at = now() - interval '2 days'")
        )
    await Heartbeat(sessions, "web", interval=15).beat()
    async with sessions() as session:
        roles = (await session.scalars(select(RoleHeartbeat.role))).all()
    assert roles == ["web"]
