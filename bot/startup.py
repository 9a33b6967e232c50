"""What a process meets at start: PostgreSQL and Discord, waited for or explained.

A dependency that is down (a closed port, a name that does not resolve yet, a server still
starting) is waited for with backoff, one log line per attempt, for `STARTUP_TIMEOUT`
seconds; then, or at once for what only the owner can fix (a refused token, a missing
database, a wrong password), an `OperatorError` says what happened and what to do.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import asyncpg
import discord
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.problems import OperatorError, unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

DISCORD_PORTAL = "https://discord.com/developers/applications"
TOKEN_TODO = (
    f"copy the bot token again ({DISCORD_PORTAL} -> your application -> Bot -> Reset Token) "
    "and set DISCORD_TOKEN to it, without a 'Bot ' prefix"
)


class Transient(Exception):
    """Worth waiting for: `reason` says why it did not work this time."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def backoff(attempt: int) -> float:
    return float(min(10.0, 0.5 * 2**attempt))


async def wait_for(
    what: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    timeout: float,
    gave_up: Callable[[str], OperatorError],
) -> T:
    """Call `attempt` until it succeeds, raises an OperatorError, or `timeout` has passed.

    `attempt` raises `Transient` for what is worth waiting for; `timeout` 0 means one try.
    """
    deadline = time.monotonic() + timeout
    tries = 0
    while True:
        try:
            return await attempt()
        except Transient as problem:
            left = deadline - time.monotonic()
            if left <= 0:
                raise gave_up(problem.reason) from None
            delay = min(backoff(tries), left)
            log.warning(
                "Waiting for %s: %s; trying again in %.1f s (giving up after %.0f s)",
                what,
                problem.reason,
                delay,
                timeout,
            )
            tries += 1
            await asyncio.sleep(delay)


# -- PostgreSQL ---------------------------------------------------------------------------


def _where(url: str) -> tuple[str, str, str]:
    """(host:port, database, user) of a database URL, for messages."""
    parsed = make_url(url)
    host = parsed.host or str(parsed.query.get("host") or "the local socket")
    place = f"{host}:{parsed.port or 5432}" if parsed.host else host
    return place, parsed.database or parsed.username or "postgres", parsed.username or "postgres"


def _chain(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _network_reason(error: BaseException, host: str) -> str | None:
    if isinstance(error, socket.gaierror):
        return f"the host name {host!r} does not resolve"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "no answer"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return None


def database_problem(error: BaseException, url: str, display: str) -> OperatorError | Transient:
    """What a failed connection means: a mistake to report, or something to wait for."""
    place, database, user = _where(url)
    host = place.rsplit(":", 1)[0]
    for cause in _chain(error):
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            return OperatorError(
                f'the database "{database}" does not exist on {place}.',
                f"create it (for example `createdb -h {host} -U {user} {database}`), or "
                f"correct DATABASE_URL (now {display})",
            )
        if isinstance(cause, asyncpg.InvalidPasswordError):
            return OperatorError(
                f'PostgreSQL at {place} refused the password of user "{user}".',
                "correct the password in DATABASE_URL. With Docker Compose, POSTGRES_PASSWORD "
                "must be the one the database volume was first created with (changing it "
                "later does not change the password)",
            )
        if isinstance(cause, asyncpg.InvalidAuthorizationSpecificationError):
            return OperatorError(
                f"PostgreSQL at {place} refused the connection: {cause}.",
                f'create the role "{user}" or correct the user in DATABASE_URL (now {display}); '
                "pg_hba.conf must also let this host connect",
            )
        if isinstance(
            cause,
            asyncpg.CannotConnectNowError  # "the database system is starting up"
            | asyncpg.TooManyConnectionsError
            | asyncpg.ConnectionDoesNotExistError,  # closed under us: a restart
        ):
            return Transient(str(cause))
        reason = _network_reason(cause, host)
        if reason is not None:
            return Transient(reason)
    raise error


async def wait_for_database(
    engine: AsyncEngine, url: str, settings: Settings, *, timeout: float | None = None
) -> None:
    place, database, _ = _where(url)
    display = settings.database_display
    timeout = settings.startup_timeout if timeout is None else timeout

    async def attempt() -> None:
        try:
            async with asyncio.timeout(10), engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            raise database_problem(error, url, display) from None

    def gave_up(reason: str) -> OperatorError:
        return unavailable(
            f'the database "{database}" at {place} did not answer for {timeout:.0f} s ({reason}).',
            f"start PostgreSQL, or correct DATABASE_URL (now {display}); Encore waits "
            "STARTUP_TIMEOUT seconds for it at start",
        )

    await wait_for(f"the database at {place}", attempt, timeout=timeout, gave_up=gave_up)


# -- Discord ------------------------------------------------------------------------------


def discord_refused_token(detail: str = "401 Unauthorized") -> OperatorError:
    return OperatorError(f"Discord refused DISCORD_TOKEN ({detail}).", TOKEN_TODO)


async def discord_bot_user(settings: Settings, session: aiohttp.ClientSession) -> dict[str, Any]:
    """`GET /users/@me` as the bot: the token is accepted, or why not."""
    assert settings.discord_token is not None
    url = f"{settings.discord_api_url.rstrip('/')}/users/@me"
    headers = {"Authorization": f"Bot {settings.discord_token.get_secret_value()}"}
    try:
        async with session.get(url, headers=headers) as response:
            if response.status == 401:
                raise discord_refused_token()
            if response.status == 429 or response.status >= 500:
                raise Transient(f"Discord answered {response.status}")
            if response.status != 200:
                raise OperatorError(
                    f"{settings.discord_api_url} answered {response.status} where Discord's "
                    "API should be.",
                    "correct DISCORD_API_URL (or leave it unset for Discord itself)",
                )
            try:
                return dict(await response.json())
            except (aiohttp.ContentTypeError, ValueError):
                raise OperatorError(
                    f"{settings.discord_api_url} does not answer like Discord's API.",
                    "correct DISCORD_API_URL (or leave it unset for Discord itself)",
                ) from None
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        reason = _network_reason(error, url) or f"{type(error).__name__}: {error}"
        if isinstance(error, aiohttp.ClientConnectorError):
            reason = _network_reason(error.os_error, error.host) or str(error.os_error)
        raise Transient(reason) from None


async def wait_for_discord(settings: Settings, *, timeout: float | None = None) -> dict[str, Any]:
    """Wait until Discord's API answers and accepts the token; return the bot user."""
    timeout = settings.startup_timeout if timeout is None else timeout
    client_timeout = aiohttp.ClientTimeout(total=10)

    async def attempt() -> dict[str, Any]:
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            return await discord_bot_user(settings, session)

    def gave_up(reason: str) -> OperatorError:
        waited = f" for {timeout:.0f} s" if timeout else ""
        return unavailable(
            f"Discord did not answer at {settings.discord_api_url}{waited} ({reason}).",
            "check that this host can reach discord.com (network, DNS, firewall, proxy)"
            + (", and DISCORD_API_URL" if "discord.com" not in settings.discord_api_url else ""),
        )

    return await wait_for(
        f"Discord at {settings.discord_api_url}", attempt, timeout=timeout, gave_up=gave_up
    )


def gateway_problem(error: BaseException) -> OperatorError | None:
    """What a failed gateway connection means to the owner (None: not one of theirs)."""
    if isinstance(error, discord.LoginFailure):
        return discord_refused_token()
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return OperatorError(
            "Discord refused the gateway connection: it asks for intents this application "
            "is not allowed.",
            "Encore needs no privileged intent; if you changed the code to ask for one, turn it "
            f"on at {DISCORD_PORTAL} -> your application -> Bot",
        )
    if isinstance(error, discord.ConnectionClosed) and error.code == 4004:
        return discord_refused_token("the gateway closed with 4004 Authentication failed")
    if isinstance(error, discord.ConnectionClosed) and error.code in {4010, 4011}:
        return OperatorError(
            f"Discord refused the shard settings ({error.code}: "
            + ("invalid shard" if error.code == 4010 else "sharding required")
            + ").",
            "set SHARD_COUNT to at least what Discord recommends (or leave it and SHARD_IDS "
            "unset for automatic sharding), and SHARD_IDS within 0..SHARD_COUNT-1",
        )
    return None


def gateway_not_ready(settings: Settings, timeout: float, shards: str) -> OperatorError:
    return OperatorError(
        f"the Discord gateway did not become ready within {timeout:.0f} s ({shards}).",
        "check that this host can open a websocket to "
        f"{settings.discord_gateway_url} (the lines above say what failed); a process with "
        "many shards may need a larger STARTUP_TIMEOUT",
        status=1,
    )
