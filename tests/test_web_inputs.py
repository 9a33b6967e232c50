"""Every bad input is a 4xx with the security headers, never a 500 and never a traceback or an
ERROR line in the log: what aiohttp's parser refuses itself (a 20,000-character URL, huge or
too many headers, odd methods, garbage), and what reaches the routes (NUL bytes, non-ASCII and
invalid UTF-8 nonces, states and signatures), fuzzed with hypothesis."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Role, load_settings
from bot.services import Services
from bot.web import create_app, start

HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options")


def web_settings(database_url: str, fernet_key: str) -> Any:
    return load_settings(
        Role.WEB,
        database_url=database_url,
        encryption_keys=fernet_key,
        spotify_client_id="id",
        spotify_client_secret="secret",
        discord_client_id="1234",
        discord_client_secret="discord-secret",
        web_rate_limit=0,  # the fuzzer sends thousands
        web_api_miss_limit=0,
    )


class Problems(logging.Handler):
    """Every log record at ERROR or above, and every one carrying a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info or record.exc_text:
            self.found.append(f"{record.name} {record.levelname}: {record.getMessage()}")


@pytest.fixture
def problems() -> Iterator[Problems]:
    handler = Problems()
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)


@pytest.fixture
async def server(clean_database: str, fernet_key: str) -> AsyncIterator[int]:
    services = await Services.build(web_settings(clean_database, fernet_key))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    runner = await start(services, "127.0.0.1", port)
    yield port
    await runner.cleanup()
    await services.close()


async def raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return status, headers, body


MALFORMED = {
    "a 20,000-character URL": b"GET /link/" + b"A" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "a 20,000-character header": b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: "
    + b"b" * 20_000
    + b"\r\n\r\n",
    "200 headers": b"GET /health HTTP/1.1\r\nHost: x\r\n"
    + b"".join(b"X-%d: y\r\n" % n for n in range(200))
    + b"\r\n",
    "a method that is no method": b"G\x00T /health HTTP/1.1\r\nHost: x\r\n\r\n",
    "a method nobody knows": b"BREW /link/abc HTTP/1.1\r\nHost: x\r\n\r\n",
    "not HTTP at all": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40 + b"\r\n\r\n",
    "a NUL in the path": b"GET /link/abc\x00def HTTP/1.1\r\nHost: x\r\n\r\n",
    "invalid UTF-8 in the path": b"GET /link/\xff\xfe\xfd HTTP/1.1\r\nHost: x\r\n\r\n",
    "a broken Content-Length": b"POST /link/x HTTP/1.1\r\nHost: x\r\nContent-Length: -4\r\n\r\n",
}


@pytest.mark.parametrize("request_bytes", list(MALFORMED.values()), ids=list(MALFORMED))
async def test_what_the_parser_refuses_is_a_400_with_our_headers_and_one_quiet_line(
    server: int, problems: Problems, request_bytes: bytes
) -> None:
    status, headers, body = await raw(server, request_bytes)
    assert 400 <= status < 500, (status, body[:200])
    for name in HEADERS:
        assert name in headers, name
    assert b"Traceback" not in body and b"<script" not in body
    assert problems.found == []


ROUTED = [
    ("GET", "/link/%00" + "A" * 31),
    ("GET", "/link/" + quote("é" * 30)),
    ("GET", "/link/%ff%fe%fd" + "A" * 30),
    ("POST", "/link/%00" + "A" * 31),
    ("GET", "/callback?code=x&state=" + quote("n" * 32 + ".1.1." + "é" * 43)),
    ("GET", "/callback?code=x&state=" + "A" * 32 + ".1.1.%ff%fe" + "A" * 41),
    ("GET", "/callback?code=%00&state=" + "A" * 32 + ".%00.1." + "A" * 43),
    ("GET", "/callback?code=x&state=" + "A" * 32 + ".99999999999999999999.1." + "A" * 43),
    ("GET", "/discord/callback?code=x&state=" + quote("\x00" * 60)),
    ("GET", "/callback?error=" + "%ff" * 20),
    ("DELETE", "/callback"),
    ("PUT", "/health"),
    ("GET", "/api/releases?limit=%ff&days=%00"),
    ("GET", "/api/artists?release_limit=" + "9" * 400),
]


@pytest.mark.parametrize(("method", "path"), ROUTED)
async def test_bad_values_reaching_the_routes_are_4xx_with_our_headers(
    clean_database: str, fernet_key: str, problems: Problems, method: str, path: str
) -> None:
    services = await Services.build(web_settings(clean_database, fernet_key))
    try:
        async with TestClient(TestServer(create_app(services))) as client:
            response = await client.request(method, path)
            text = await response.text()
            assert 400 <= response.status < 500, (response.status, text[:300])
            if not path.startswith("/api/"):
                for name in HEADERS:
                    assert name in response.headers, name
            assert "Traceback" not in text
    finally:
        await services.close()
    assert problems.found == []


async def test_an_unhandled_error_names_the_route_never_the_nonce(
    clean_database: str, fernet_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    services = await Services.build(web_settings(clean_database, fernet_key))

    async def broken(nonce: str) -> Any:
        raise RuntimeError("something unexpected")

    services.links.page = broken  # type: ignore[method-assign]
    nonce = "SecretNonce" + "x" * 21
    try:
        async with TestClient(TestServer(create_app(services))) as client:
            response = await client.get(f"/link/{nonce}")
            assert response.status == 500 and "X-Frame-Options" in response.headers
            assert "Traceback" not in await response.text()
    finally:
        await services.close()
    assert "Unhandled error on GET /link/{nonce}" in caplog.text
    assert nonce not in caplog.text


# -- fuzzing -----------------------------------------------------------------------------------

TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=120
) | st.sampled_from(["", "A" * 32, "A" * 32 + ".1.9999999999." + "A" * 43, "%ff", "\x00"])
ROUTES = st.sampled_from(
    [
        "/link/{}",
        "/callback?code={}&state={}",
        "/discord/callback?code={}&state={}",
        "/callback?error={}",
        "/api/releases?limit={}&days={}",
        "/api/artists?release_limit={}",
        "/health?{}",
        "/{}",
    ]
)
METHODS = st.sampled_from(["GET", "POST", "HEAD", "PUT", "OPTIONS"])


@pytest.fixture
def fuzz_client(clean_database: str, fernet_key: str) -> Iterator[tuple[Any, TestClient]]:  # type: ignore[type-arg]
    """One web app on a loop of its own, reused by every example hypothesis makes."""
    loop = asyncio.new_event_loop()
    services = loop.run_until_complete(Services.build(web_settings(clean_database, fernet_key)))
    client: TestClient = TestClient(TestServer(create_app(services)), loop=loop)  # type: ignore[type-arg]
    loop.run_until_complete(client.start_server())
    try:
        yield loop, client
    finally:
        loop.run_until_complete(client.close())
        loop.run_until_complete(services.close())
        loop.close()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(method=METHODS, route=ROUTES, values=st.lists(TEXT, min_size=2, max_size=2), form=TEXT)
def test_fuzzed_requests_to_every_route_are_never_a_500_nor_an_error_line(
    fuzz_client: tuple[Any, TestClient],  # type: ignore[type-arg]
    problems: Problems,
    method: str,
    route: str,
    values: list[str],
    form: str,
) -> None:
    loop, client = fuzz_client
    path = route.format(*(quote(value, safe="") for value in values))

    async def ask() -> int:
        response = await client.request(method, path, data={"confirm": form})
        await response.read()
        if response.status < 500 and not path.startswith("/api/") and response.status != 304:
            assert "X-Content-Type-Options" in response.headers
        return response.status

    status = loop.run_until_complete(ask())
    assert status < 500, (method, path)
    assert problems.found == [], (method, path, problems.found)
