"""The web role: /health and /metrics, and `encore web` running with no Discord token."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Role, load_settings
from bot.services import Services
from bot.web import create_app

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def web_client(database_url: str, fernet_key: str) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    settings = load_settings(
        Role.WEB,
        database_url=database_url,
        encryption_keys=fernet_key,
        spotify_client_id="id",
        spotify_client_secret="secret",
    )
    services = await Services.build(settings)
    client = TestClient(TestServer(create_app(services)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        await services.close()


async def test_health_reports_the_database_and_version(
    clean_database: str, fernet_key: str
) -> None:
    async for client in web_client(clean_database, fernet_key):
        response = await client.get("/health")
        body = await response.json()
        assert response.status == 200
        assert body["database"] == "ok" and body["status"] == "ok"
        assert body["version"] and body["last_release_ingestion"] is None


async def test_health_is_503_when_the_database_is_down(fernet_key: str) -> None:
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    async for client in web_client(dead, fernet_key):
        response = await client.get("/health")
        assert response.status == 503
        assert (await response.json())["database"] == "unreachable"


async def test_metrics_are_prometheus_text(clean_database: str, fernet_key: str) -> None:
    async for client in web_client(clean_database, fernet_key):
        response = await client.get("/metrics")
        assert response.status == 200
        assert "encore_spotify_calls_total" in await response.text()


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
