"""Abuse costs the attacker, not the server: the limiter's work and memory stay bounded
whatever the number of addresses, forged forwarded values are no keys, slow clients are
dropped, /api cache misses have a budget, /link has a per-user cooldown, and old link
requests and delivered DMs are cleaned up."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.config import Role, load_settings
from bot.linking import MAX_LINK_DMS, DiscordPerson
from bot.scheduler import build_scheduler
from bot.services import Services
from bot.web import create_app, start
from bot.web_security import RateLimiter, client_address
from db.models import LinkRequest, OutboxMessage


@dataclass
class ThroughTheProxy:
    """What `client_address` reads of a request: its headers and the peer address."""

    headers: dict[str, str]
    remote: str = "10.0.0.2"  # the proxy


def from_proxy(forwarded: str) -> str:
    request: Any = ThroughTheProxy({"X-Forwarded-For": forwarded})
    return client_address(request, trust_forwarded=True)


def test_ten_thousand_addresses_cost_o1_work_a_request_and_a_capped_table() -> None:
    """The attack: fresh X-Forwarded-For values past 10,000 addresses. Each request touches
    at most its own entry and one evicted one; the table never outgrows its cap."""
    limiter = RateLimiter(30, capacity=10_000)
    worst = 0
    for n in range(30_000):
        address = f"198.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        before = limiter.work
        assert limiter.allow(from_proxy(f"203.0.113.1, {address}"))
        worst = max(worst, limiter.work - before)
        assert len(limiter) <= limiter.capacity
    assert worst <= 3
    assert len(limiter) == limiter.capacity


def test_a_client_hammering_among_the_crowd_is_still_limited() -> None:
    now = [0.0]
    limiter = RateLimiter(30, capacity=100, clock=lambda: now[0])
    allowed = 0
    for n in range(200):
        allowed += limiter.allow("192.0.2.7")
        limiter.allow(f"198.51.100.{n % 50}")  # 50 others, within the table
    assert allowed == 30  # the burst, then refused until tokens come back
    now[0] += 2.0
    assert limiter.allow("192.0.2.7")  # one token a second at 30 a minute


def test_forged_or_garbage_forwarded_values_never_become_keys() -> None:
    garbage = [
        "x" * 4096,
        "not-an-address",
        "203.0.113.9, <script>",
        "999.1.1.1",
        "fe80::1%eth0" + "0" * 50,
        "1.2.3.4\x00",
        "",
    ]
    keys = {from_proxy(value) for value in garbage}
    assert keys == {"10.0.0.2"}  # each counts as the proxy itself
    limiter = RateLimiter(30)
    for n in range(5000):
        limiter.allow(from_proxy(f"{'x' * 4000}{n}"))
    assert len(limiter) == 1  # 5,000 forged values, one small entry


def test_ipv6_clients_are_grouped_by_their_64_and_mapped_ipv4_is_ipv4() -> None:
    assert from_proxy("2001:db8:1:2::1") == from_proxy("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert from_proxy("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert from_proxy("2001:db8:1:3::1") != from_proxy("2001:db8:1:2::1")
    assert from_proxy("::ffff:192.0.2.1") == "192.0.2.1"
    assert from_proxy("192.0.2.1, 198.51.100.7") == "198.51.100.7"  # the proxy's own entry
    request = make_mocked_request("GET", "/", headers={"X-Forwarded-For": "198.51.100.7"})
    assert client_address(request, trust_forwarded=False) != "198.51.100.7"


# -- the web server itself -------------------------------------------------------------------


@pytest.fixture
async def services(clean_database: str, fernet_key: str) -> AsyncIterator[Services]:
    settings = load_settings(
        Role.WEB,
        database_url=clean_database,
        encryption_keys=fernet_key,
        spotify_client_id="id",
        spotify_client_secret="secret",
        web_trust_forwarded=True,
        web_api_miss_limit=5,
        web_read_timeout=1.0,
    )
    built = await Services.build(settings)
    yield built
    await built.close()


async def test_forged_forwarded_values_share_one_budget(services: Services) -> None:
    async with TestClient(TestServer(create_app(services))) as client:
        statuses = []
        for n in range(40):
            response = await client.get("/link/nope", headers={"X-Forwarded-For": f"garbage{n}"})
            statuses.append(response.status)
        assert statuses[0] == 404 and statuses[-1] == 429
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Retry-After"] == "60"


async def test_api_cache_misses_have_a_budget_of_their_own_and_hits_cost_nothing(
    services: Services,
) -> None:
    async with TestClient(TestServer(create_app(services))) as client:
        for limit in range(1, 6):  # five different answers to build: the budget
            assert (await client.get(f"/api/releases?limit={limit}")).status == 200
        refused = await client.get("/api/releases?limit=6")
        assert refused.status == 429 and (await refused.json())["error"]
        for _ in range(50):  # answers already built are served from the cache
            assert (await client.get("/api/releases?limit=3")).status == 200
        other = await client.get("/api/releases?limit=6", headers={"X-Forwarded-For": "192.0.2.9"})
        assert other.status == 200  # another client's budget is its own


@pytest.fixture
async def server(services: Services) -> AsyncIterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    runner = await start(services, "127.0.0.1", port)
    yield port
    await runner.cleanup()


async def closed_while_trickling(port: int, head: bytes, trickle: bytes) -> tuple[bool, bytes]:
    """Send `head`, then `trickle` a byte every 0.1 s; (closed before the end, what came)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = b""
    try:
        writer.write(head)
        await writer.drain()
        for byte in trickle:
            writer.write(bytes([byte]))
            try:
                await writer.drain()
                answer += await asyncio.wait_for(reader.read(65536), 0.1)
            except TimeoutError:
                continue
            except ConnectionError:
                return True, answer
            if reader.at_eof():
                return True, answer
        return False, answer
    finally:
        writer.close()


async def test_a_client_sending_its_headers_slowly_is_dropped(server: int) -> None:
    closed, _ = await closed_while_trickling(
        server, b"GET /health HTTP/1.1\r\nHost: x\r\n", b"X-Slow: " + b"a" * 200
    )
    assert closed  # after the read timeout (1 s here), long before the 20 s of trickling


async def test_a_client_sending_its_body_slowly_is_answered_408(server: int) -> None:
    head = (
        b"POST /link/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\n"
    )
    closed, answer = await closed_while_trickling(server, head, b"confirm=" + b"a" * 300)
    assert closed and answer.startswith(b"HTTP/1.1 408")
    assert b"X-Content-Type-Options: nosniff" in answer


# -- /link cooldown and clean-up -------------------------------------------------------------


async def test_link_run_forty_times_is_one_link_and_at_most_three_dms(
    services: Services,
) -> None:
    person = DiscordPerson(77, "spammer", "Spammer", None)
    made = [await services.links.request_link(person) for _ in range(40)]
    assert len({link.url for link in made}) == 1
    assert sum(link.send_dm for link in made) == MAX_LINK_DMS == 3
    async with services.sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(LinkRequest))
    assert rows == 1


async def test_a_link_about_to_expire_is_replaced_and_stops_working(
    services: Services, clean_database: str
) -> None:
    person = DiscordPerson(78, "late", "Late", None)
    first = await services.links.request_link(person)
    services.links._clock = FrozenClock(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=9))
    second = await services.links.request_link(person)
    assert second.url != first.url and second.send_dm
    async with services.sessions() as session:
        live = (await session.scalars(select(LinkRequest.nonce))).all()
    assert live == [second.url.rsplit("/", 1)[-1]]  # one live link per user


async def test_old_link_requests_and_delivered_dms_are_cleaned_up(services: Services) -> None:
    now = dt.datetime.now(dt.UTC)
    long_ago = now - dt.timedelta(days=8)
    async with services.sessions() as session, session.begin():
        for n, expires in enumerate((long_ago, now - dt.timedelta(hours=2), now)):
            session.add(
                LinkRequest(nonce=f"n{n}" * 8, discord_user_id=n, expires_at=expires, dms_sent=1)
            )
        for sent, failed in ((long_ago, None), (None, long_ago), (now, None), (None, None)):
            session.add(
                OutboxMessage(
                    discord_user_id=1,
                    kind="t",
                    payload={"content": "x"},
                    sent_at=sent,
                    failed_at=failed,
                )
            )
    assert await services.links.clean_up() == (1, 2)
    async with services.sessions() as session:
        requests = await session.scalar(select(func.count()).select_from(LinkRequest))
        pending = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
        )
        outbox = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert requests == 2  # expired yesterday or later: still there to say "expired"
    assert outbox == 2 and pending == 1  # the recent one and the undelivered one stay
    assert "clean-up" in {job.id for job in build_scheduler(services).get_jobs()}
