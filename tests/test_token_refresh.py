"""Refreshing a user's Spotify token on the real PostgreSQL: once across processes, and with no
transaction or row lock open while Spotify answers."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update

from bot.clock import SystemClock
from bot.errors import NeedsRelink
from bot.outbox import Outbox
from bot.spotify import InvalidGrant, TokenCipher, TokenGrant, TokenStore
from db.engine import SessionFactory, create_engine, session_factory
from db.models import OutboxMessage, SpotifyLink
from tests.database_activity import DatabaseActivity

ALICE = 1001


class SlowAccounts:
    """Spotify's token endpoint, answering when told to (or at once when `release` is set)."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.refreshes = 0
        self.asked = asyncio.Event()
        self.release = asyncio.Event()
        self._refuse = refuse

    async def refresh(self, refresh_token: str) -> TokenGrant:
        self.refreshes += 1
        self.asked.set()
        await self.release.wait()
        if self._refuse:
            raise InvalidGrant("invalid_grant")
        return TokenGrant(f"fresh-{self.refreshes}", 3600, "user-read-private", None)


@pytest.fixture
def cipher(fernet_key: str) -> TokenCipher:
    return TokenCipher([fernet_key])


@pytest.fixture
async def expired_link(sessions: SessionFactory, cipher: TokenCipher) -> AsyncIterator[None]:
    now = dt.datetime.now(dt.UTC)
    async with sessions() as session, session.begin():
        session.add(
            SpotifyLink(
                discord_user_id=ALICE,
                spotify_account_id="alice",
                spotify_user_id="alice",
                display_name="Alice",
                access_token=cipher.encrypt("stale"),
                refresh_token=cipher.encrypt("refresh-1"),
                access_expires_at=now - dt.timedelta(seconds=5),
                scopes="user-read-private",
                authorized_at=now,
            )
        )
    yield


async def waiting_for_the_lock(activity: DatabaseActivity) -> bool:
    backends = (await activity.now()).backends
    return any("pg_advisory_lock" in b.query and b.state == "active" for b in backends)


def token_store(
    sessions: SessionFactory, cipher: TokenCipher, accounts: SlowAccounts
) -> TokenStore:
    clock = SystemClock()
    return TokenStore(sessions, cipher, accounts, clock, Outbox(sessions, clock))


async def test_no_transaction_or_row_lock_is_open_while_spotify_refreshes(
    sessions: SessionFactory,
    cipher: TokenCipher,
    expired_link: None,
    database_activity: DatabaseActivity,
) -> None:
    accounts = SlowAccounts()
    tokens = token_store(sessions, cipher, accounts)
    asking = asyncio.create_task(tokens.access_token(ALICE))
    async with asyncio.timeout(10):
        await accounts.asked.wait()  # Spotify holds the refresh open
    seen = await database_activity.now()
    assert seen.in_transaction == [] and seen.row_locks == []
    assert len(seen.advisory_locks) == 1  # what keeps other processes from refreshing too
    accounts.release.set()
    assert await asking == "fresh-1"
    async with sessions() as session:
        link = await session.get(SpotifyLink, ALICE)
    assert link is not None and cipher.decrypt(link.access_token) == "fresh-1"
    assert (await database_activity.now()).advisory_locks == []


async def test_two_processes_asking_at_once_refresh_once(
    clean_database: str,
    cipher: TokenCipher,
    expired_link: None,
    database_activity: DatabaseActivity,
) -> None:
    accounts = SlowAccounts()
    engines = [create_engine(clean_database), create_engine(clean_database)]
    try:
        stores = [token_store(session_factory(engine), cipher, accounts) for engine in engines]
        asking = [
            asyncio.create_task(store.access_token(ALICE)) for store in stores for _ in range(10)
        ]
        async with asyncio.timeout(10):
            await accounts.asked.wait()
            while not await waiting_for_the_lock(database_activity):
                await asyncio.sleep(0.01)  # until the other process waits behind this refresh
        accounts.release.set()
        tokens = await asyncio.gather(*asking)
    finally:
        for engine in engines:
            await engine.dispose()
    assert accounts.refreshes == 1
    assert set(tokens) == {"fresh-1"}


async def test_a_refused_refresh_marks_the_link_with_no_transaction_open_meanwhile(
    sessions: SessionFactory,
    cipher: TokenCipher,
    expired_link: None,
    database_activity: DatabaseActivity,
) -> None:
    accounts = SlowAccounts(refuse=True)
    tokens = token_store(sessions, cipher, accounts)
    asking = asyncio.create_task(tokens.access_token(ALICE))
    async with asyncio.timeout(10):
        await accounts.asked.wait()
    assert (await database_activity.now()).in_transaction == []
    accounts.release.set()
    with pytest.raises(NeedsRelink):
        await asking
    async with sessions() as session:
        link = await session.get(SpotifyLink, ALICE)
        notes = (await session.scalars(select(OutboxMessage.kind))).all()
    assert link is not None and link.status == "needs_relink"
    assert notes == ["relink"]


async def test_a_link_made_again_during_a_refresh_is_kept(
    sessions: SessionFactory, cipher: TokenCipher, expired_link: None
) -> None:
    accounts = SlowAccounts()
    tokens = token_store(sessions, cipher, accounts)
    asking = asyncio.create_task(tokens.access_token(ALICE))
    async with asyncio.timeout(10):
        await accounts.asked.wait()
    # The user links again (the OAuth callback in the web role) while Spotify answers.
    async with sessions() as session, session.begin():
        await session.execute(
            update(SpotifyLink)
            .where(SpotifyLink.discord_user_id == ALICE)
            .values(
                access_token=cipher.encrypt("relinked"),
                refresh_token=cipher.encrypt("refresh-2"),
                access_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
            )
        )
    accounts.release.set()
    assert await asking == "relinked"
    async with sessions() as session:
        link = await session.get(SpotifyLink, ALICE)
    assert link is not None and cipher.decrypt(link.refresh_token) == "refresh-2"
