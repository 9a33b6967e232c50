"""Every role is observable: commands counted by outcome with their latency, each process's
own /metrics, and one /health on the web role that reports the whole deployment."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.fernet import Fernet

from bot import metrics
from sandbox.discord import DiscordControl
from sandbox.harness import Sandbox
from sandbox.processes import emulator, encore_env, free_port, process


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if await result if asyncio.iscoroutine(result) else result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the condition never held")


async def test_commands_are_counted_by_outcome_with_their_latency(sandbox: Sandbox) -> None:
    carol = await sandbox.user("carol")  # not linked: /search works, /account says "use /link"
    ok = sample("encore_commands_total", command="search", outcome="ok")
    timed = sample("encore_command_duration_seconds_count", command="search")
    refused = sample("encore_commands_total", command="account", outcome="NotLinked")

    await sandbox.slash(carol, "search", {"query": "ocean"})
    await sandbox.slash(carol, "account")

    await eventually(
        lambda: sample("encore_commands_total", command="search", outcome="ok") == ok + 1, 5
    )
    assert sample("encore_command_duration_seconds_count", command="search") == timed + 1
    assert sample("encore_commands_total", command="account", outcome="NotLinked") == refused + 1
    assert sample("encore_command_duration_seconds_count", command="account") >= 1


async def _json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        return await response.json()


async def _text(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as response:
        assert response.status == 200, url
        return await response.text()


async def test_the_web_role_reports_every_process_of_the_deployment(
    clean_database: str, tmp_path: Path
) -> None:
    async with emulator("discord") as discord_base, emulator("spotify") as spotify_base:
        async with DiscordControl(discord_base) as discord:
            await discord.create_guild("Observed", channels=[{"name": "general"}])
        env = encore_env(
            discord_base,
            spotify_base,
            clean_database,
            Fernet.generate_key().decode(),
            HEARTBEAT_SECONDS="0.5",
            LOG_LEVEL="INFO",
        )
        gateway_port, worker_port, web_port = free_port(), free_port(), free_port()
        web_url = f"http://127.0.0.1:{web_port}"
        python = sys.executable
        with ExitStack() as stack:
            gateway = stack.enter_context(
                process(
                    [python, "-m", "bot", "gateway"],
                    {**env, "METRICS_PORT": str(gateway_port)},
                    log=tmp_path / "gateway.log",
                )
            )
            stack.enter_context(
                process(
                    [python, "-m", "bot", "worker"],
                    {**env, "METRICS_PORT": str(worker_port)},
                    log=tmp_path / "worker.log",
                )
            )
            stack.enter_context(
                process(
                    [python, "-m", "bot", "web"],
                    {**env, "WEB_PORT": str(web_port), "PUBLIC_URL": web_url},
                    log=tmp_path / "web.log",
                )
            )
            async with aiohttp.ClientSession() as session:
                health: dict[str, Any] = {}

                async def everyone_reported() -> bool:
                    nonlocal health
                    try:
                        health = await _json(session, f"{web_url}/health")
                    except aiohttp.ClientError:
                        return False
                    roles = {r["role"]: r for r in health.get("roles", [])}
                    return (
                        set(roles) == {"gateway", "worker", "web"}
                        and roles["gateway"]["shards"]["connected"] == 1
                        and roles["worker"]["last_tick_at"] is not None
                    )

                try:
                    await eventually(everyone_reported, 60)
                except AssertionError:
                    logs = "\n".join(p.read_text()[-1500:] for p in tmp_path.glob("*.log"))
                    raise AssertionError(f"{health}\n{logs}") from None
                assert health["status"] == "ok" and health["problems"] == []
                assert health["gateway"]["shards_connected"] == 1
                assert health["gateway"]["guilds"] == 1
                assert health["outbox"]["pending"] == 0
                assert all(not role["stale"] for role in health["roles"])

                gateway_metrics = await _text(session, f"http://127.0.0.1:{gateway_port}/metrics")
                assert 'encore_info{role="gateway"' in gateway_metrics
                assert "encore_gateway_shards_connected 1.0" in gateway_metrics
                worker_metrics = await _text(session, f"http://127.0.0.1:{worker_port}/metrics")
                assert 'encore_info{role="worker"' in worker_metrics
                assert "encore_scheduler_last_tick_timestamp 0.0" not in worker_metrics
                own = await _json(session, f"http://127.0.0.1:{worker_port}/health")
                assert own["role"] == "worker" and own["last_tick_at"]

                gateway.terminate()  # a clean stop: its row goes, /health says what is missing
                gateway.wait(timeout=30)

                async def gateway_gone() -> bool:
                    nonlocal health
                    health = await _json(session, f"{web_url}/health")
                    return {r["role"] for r in health["roles"]} == {"worker", "web"}

                await eventually(gateway_gone, 10)
                assert health["status"] == "degraded"
                assert any("no gateway is running" in p for p in health["problems"])
        assert "Traceback" not in (tmp_path / "gateway.log").read_text()
