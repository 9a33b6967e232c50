"""The web role: /health and /metrics, and `encore web` running with no Discord token."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import ConfigError, Role, load_settings
from bot.services import Services
from bot.web import create_app
from sandbox.ports import free_port

ROOT = Path(__file__).resolve().parent.parent


async def web_client(
    database_url: str, fernet_key: str, **overrides: object
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    settings = load_settings(
        Role.WEB,
        database_url=database_url,
        encryption_keys=fernet_key,
        spotify_client_id="id",
        spotify_client_secret="secret",
        **overrides,
    )
    services = await Services.build(settings)
    client = TestClient(TestServer(create_app(services)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        await services.close()


FROM_ELSEWHERE = {"X-Forwarded-For": "203.0.113.9"}  # a request a proxy forwarded
TOKEN = "monitoring-token-0123456789"


async def test_health_from_this_host_reports_the_database_version_and_deployment(
    clean_database: str, fernet_key: str
) -> None:
    async for client in web_client(clean_database, fernet_key):
        response = await client.get("/health")
        body = await response.json()
        assert response.status == 200
        assert body["database"] == "ok"
        assert body["version"] and body["last_release_ingestion"] is None
        assert body["roles"] == []  # this test app runs no role: nothing has a heartbeat
        assert body["outbox"] == {
            "pending": 0,
            "oldest_pending_seconds": None,
            "failed_last_day": 0,
        }
        assert body["status"] == "degraded"
        assert any("no gateway is running" in problem for problem in body["problems"])


async def test_health_for_anyone_else_is_short_and_says_nothing_more(
    clean_database: str, fernet_key: str
) -> None:
    async for client in web_client(clean_database, fernet_key, monitoring_token=TOKEN):
        response = await client.get("/health", headers=FROM_ELSEWHERE)
        assert response.status == 200
        assert await response.json() == {"status": "ok"}
        wrong = await client.get(
            "/health", headers={**FROM_ELSEWHERE, "Authorization": "Bearer not-the-token"}
        )
        assert await wrong.json() == {"status": "ok"}
        allowed = await client.get(
            "/health", headers={**FROM_ELSEWHERE, "Authorization": f"Bearer {TOKEN}"}
        )
        assert "roles" in await allowed.json()


async def test_health_is_503_when_the_database_is_down(fernet_key: str) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    async for client in web_client(dead, fernet_key):
        response = await client.get("/health")
        assert response.status == 503
        assert (await response.json())["database"] == "unreachable"
        short = await client.get("/health", headers=FROM_ELSEWHERE)
        assert short.status == 503
        assert await short.json() == {"status": "unavailable", "database": "unreachable"}


async def test_metrics_are_prometheus_text_for_this_host(
    clean_database: str, fernet_key: str
) -> None:
    async for client in web_client(clean_database, fernet_key):
        response = await client.get("/metrics")
        assert response.status == 200
        text = await response.text()
        assert "encore_spotify_calls_total" in text
        assert "encore_command_duration_seconds" in text


async def test_metrics_need_the_monitoring_token_from_elsewhere(
    clean_database: str, fernet_key: str
) -> None:
    async for client in web_client(clean_database, fernet_key, monitoring_token=TOKEN):
        refused = await client.get("/metrics", headers=FROM_ELSEWHERE)
        assert refused.status == 401
        assert "MONITORING_TOKEN" in (await refused.json())["error"]
        assert "encore_" not in await refused.text()
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status == 401  # a wrong token is refused even from this host
        allowed = await client.get(
            "/metrics", headers={**FROM_ELSEWHERE, "Authorization": f"Bearer {TOKEN}"}
        )
        assert allowed.status == 200 and "encore_" in await allowed.text()


async def test_behind_a_proxy_this_host_is_not_trusted_without_the_token(
    clean_database: str, fernet_key: str
) -> None:
    # The proxy connects from loopback for everyone: only the token opens the details.
    async for client in web_client(clean_database, fernet_key, web_trust_forwarded=True):
        assert (await client.get("/metrics")).status == 401
        assert await (await client.get("/health")).json() == {"status": "ok"}


async def test_a_short_monitoring_token_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            Role.WEB, spotify_client_id="i", spotify_client_secret="s", monitoring_token="s3cr3t"
        )
    assert "MONITORING_TOKEN" in caught.value.problems
    assert "s3cr3t" not in caught.value.render()


async def test_unknown_pages_are_plain_404s_with_security_headers(
    clean_database: str, fernet_key: str
) -> None:
    async for client in web_client(clean_database, fernet_key):
        response = await client.get("/nope")
        assert response.status == 404
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Traceback" not in await response.text()


async def test_encore_web_serves_health_without_a_discord_token(
    clean_database: str, fernet_key: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": clean_database,
        "ENCRYPTION_KEYS": fernet_key,
        "SPOTIFY_CLIENT_ID": "id",
        "SPOTIFY_CLIENT_SECRET": "secret",
        "WEB_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline and status != 200:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/health") as response:
                        status = response.status
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
        assert status == 200, "encore web did not serve /health"
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert process.returncode == 0, output
    assert "DISCORD_TOKEN" not in output


def test_the_client_address_comes_from_the_proxy_only_when_trusted() -> None:
    from aiohttp.test_utils import make_mocked_request

    from bot.web_security import client_address

    request = make_mocked_request(
        "GET", "/link/x", headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
    )
    assert client_address(request, trust_forwarded=True) == "198.51.100.7"
    assert client_address(request, trust_forwarded=False) != "198.51.100.7"
