"""Encrypted token storage and single-flight refresh of users' Spotify access tokens."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import bindparam, select, update

from bot import metrics
from bot.clock import Clock
from bot.errors import MissingScope, NeedsRelink, NotLinked, TokensUnreadable
from bot.inert import inert
from bot.outbox import Outbox
from bot.spotify.accounts import InvalidGrant, TokenGrant
from db.engine import DriverReads, SessionFactory, again_if_connection_lost
from db.erasure import writing_about
from db.locks import advisory_lock, lock_key
from db.models import SpotifyLink

log = logging.getLogger(__name__)

# Refresh only when a token is used and expires within this margin.
REFRESH_MARGIN = dt.timedelta(seconds=60)
REFRESH_LOCK = "token-refresh"  # advisory lock purpose, one key per user
# Spotify refresh tokens die six months after the user authorised.
AUTHORIZATION_LIFETIME = dt.timedelta(days=182)

_LINKS = SpotifyLink.__table__
# What every Spotify call reads first: one statement, built once (its compiled form cached).
_ACCESS = select(
    _LINKS.c.discord_user_id,
    _LINKS.c.access_token,
    _LINKS.c.access_expires_at,
    _LINKS.c.scopes,
    _LINKS.c.status,
).where(_LINKS.c.discord_user_id == bindparam("user"))


class StoredAccess(Protocol):
    """What deciding whether a stored access token can serve reads: a `SpotifyLink`, or the
    row `_ACCESS` reads."""

    @property
    def discord_user_id(self) -> int: ...
    @property
    def access_token(self) -> bytes: ...
    @property
    def access_expires_at(self) -> dt.datetime: ...
    @property
    def scopes(self) -> str: ...
    @property
    def status(self) -> str: ...


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class UnreadableToken(Exception):
    """No key in ENCRYPTION_KEYS decrypts this ciphertext (the keys were changed without
    keeping the old one)."""


class TokenCipher:
    """Fernet with key rotation: the first key encrypts, every key decrypts."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._keys = list(keys)
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode()
        except InvalidToken:
            raise UnreadableToken from None

    def rotate(self, ciphertext: bytes) -> bytes:
        try:
            return self._fernet.rotate(ciphertext)
        except InvalidToken:
            raise UnreadableToken from None

    def signing_key(self, purpose: str) -> bytes:
        """A key for HMAC signatures, derived from the first encryption key and a purpose."""
        raw = base64.urlsafe_b64decode(self._keys[0])
        return hmac.new(raw, f"encore:{purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Reencrypted:
    """What `encore reencrypt` did: links whose tokens now use the first key, and links
    whose tokens no configured key can read (their members must /link again)."""

    rotated: int
    unreadable: int


class Accounts(Protocol):
    """The part of Spotify's Accounts service the token store needs."""

    async def refresh(self, refresh_token: str) -> TokenGrant: ...


class TokenStore:
    """Hands out valid access tokens, refreshing at most once per user at a time.

    Across processes the refresh is serialised by a session-level advisory lock per user
    (held outside any transaction, so no row stays locked while Spotify answers) and the
    expiry is checked again after acquiring it; within a process a per-user asyncio lock
    keeps concurrent commands from queueing on database connections.
    """

    def __init__(
        self,
        sessions: SessionFactory,
        cipher: TokenCipher,
        accounts: Accounts,
        clock: Clock,
        outbox: Outbox,
    ) -> None:
        self._sessions = sessions
        self._driver = DriverReads(sessions)  # the read before every Spotify call
        self._cipher = cipher
        self._accounts = accounts
        self._clock = clock
        self._outbox = outbox
        self._locks = KeyedLocks()
        self._told_admin = False

    async def access_token(
        self,
        discord_user_id: int,
        *,
        rejected: str | None = None,
        scopes: Iterable[str] = (),
    ) -> str:
        """A token valid for at least a minute; `rejected` is one Spotify just refused (401).
        `scopes` are the permissions the call needs: a link without them raises MissingScope."""
        link = await self._stored(discord_user_id)
        if link is None:
            raise NotLinked
        _check_scopes(link, scopes)
        current = await self._usable(link, rejected)
        if current is not None:
            return current
        async with self._locks.hold(discord_user_id):
            token = await self._refresh_if_expiring(discord_user_id, rejected)
        if token is None:
            raise NeedsRelink
        return token

    async def require_scopes(self, discord_user_id: int, scopes: Iterable[str]) -> None:
        link = await self._stored(discord_user_id)
        if link is None:
            raise NotLinked
        _check_scopes(link, scopes)

    @again_if_connection_lost
    async def _stored(self, discord_user_id: int) -> StoredAccess | None:
        """The member's link as stored: the read every Spotify call on their behalf starts with."""
        return await self._driver.first(_ACCESS, {"user": discord_user_id})  # columns as attributes

    async def _usable(self, link: StoredAccess, rejected: str | None) -> str | None:
        """The stored access token if it can serve; None if it needs a refresh."""
        if link.status == "needs_relink":
            raise NeedsRelink
        try:
            token = self._cipher.decrypt(link.access_token)
        except UnreadableToken:
            await self._mark_unreadable(link.discord_user_id)
            raise TokensUnreadable from None
        if link.status == "undecryptable":
            await self._mark_readable(link.discord_user_id)  # the old key is back
        if link.access_expires_at - self._clock.now() <= REFRESH_MARGIN:
            return None
        return None if token == rejected else token

    async def _mark_unreadable(self, discord_user_id: int) -> None:
        """Mark the link as needing a relink, and tell the admin once per process why."""
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            marked = await session.execute(
                update(SpotifyLink)
                .where(
                    SpotifyLink.discord_user_id == discord_user_id,
                    SpotifyLink.status == "active",
                )
                .values(status="undecryptable", updated_at=self._clock.now())
            )
        metrics.TOKEN_REFRESHES.labels("unreadable").inc()
        if not self._told_admin:
            self._told_admin = True
            log.error(
                "Stored Spotify tokens cannot be decrypted with any key in ENCRYPTION_KEYS: "
                "the keys were changed without keeping the old one. Put the old key back "
                "(after the new one) and run `encore reencrypt`; until then the members "
                "affected are asked to /link again. (Logged once per process.)"
            )
        if marked.rowcount:  # type: ignore[attr-defined]
            log.info("The tokens of user %s cannot be decrypted: marked", discord_user_id)

    async def _mark_readable(self, discord_user_id: int) -> None:
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            await session.execute(
                update(SpotifyLink)
                .where(
                    SpotifyLink.discord_user_id == discord_user_id,
                    SpotifyLink.status == "undecryptable",
                )
                .values(status="active", updated_at=self._clock.now())
            )

    async def _refresh_if_expiring(self, discord_user_id: int, rejected: str | None) -> str | None:
        """The refreshed token, or None when Spotify refused the refresh token (marked).

        The session-level lock holds no transaction and no row: while Spotify answers, other
        processes wait for the lock, and then find the fresh token.
        """
        async with advisory_lock(self._sessions, lock_key(REFRESH_LOCK, discord_user_id)):
            async with self._sessions() as session:
                link = await session.get(SpotifyLink, discord_user_id)
            if link is None:
                raise NotLinked
            current = await self._usable(link, rejected)
            if current is not None:  # someone refreshed while we waited for the lock
                return current
            refreshed = link.refresh_token
            try:
                plain = self._cipher.decrypt(refreshed)
            except UnreadableToken:
                await self._mark_unreadable(discord_user_id)
                raise TokensUnreadable from None
            try:
                grant = await self._accounts.refresh(plain)
            except InvalidGrant:
                metrics.TOKEN_REFRESHES.labels("invalid_grant").inc()
                await self._mark_needs_relink(discord_user_id, refreshed)
                return None
            except Exception:
                metrics.TOKEN_REFRESHES.labels("failed").inc()
                raise  # an outage never touches the link
            return await self._store(discord_user_id, refreshed, grant)

    async def _store(self, discord_user_id: int, refreshed: bytes, grant: TokenGrant) -> str:
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            link = await session.get(SpotifyLink, discord_user_id, with_for_update=True)
            if link is None:
                raise NotLinked  # unlinked (or forgotten) while Spotify answered
            if link.refresh_token != refreshed:
                # Linked again meanwhile: the new link's tokens win over this refresh.
                log.info(
                    "User %s linked again during a refresh; keeping the new link", discord_user_id
                )
                return self._cipher.decrypt(link.access_token)
            now = self._clock.now()
            link.access_token = self._cipher.encrypt(grant.access_token)
            link.access_expires_at = now + dt.timedelta(seconds=grant.expires_in)
            if grant.refresh_token:  # Spotify may or may not rotate it; keep the old one if not
                link.refresh_token = self._cipher.encrypt(grant.refresh_token)
            link.updated_at = now
        metrics.TOKEN_REFRESHES.labels("ok").inc()
        log.info("Refreshed the Spotify token of user %s", discord_user_id)
        return grant.access_token

    async def _mark_needs_relink(self, discord_user_id: int, refused: bytes) -> None:
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            link = await session.get(SpotifyLink, discord_user_id, with_for_update=True)
            if link is None or link.refresh_token != refused:
                return  # unlinked, or linked again, while Spotify answered
            log.warning(
                "Spotify refused the refresh token of user %s: needs relink", discord_user_id
            )
            first_time = link.status != "needs_relink" and link.relink_notified_at is None
            link.status = "needs_relink"
            if first_time:
                link.relink_notified_at = self._clock.now()
                self._outbox.add_dm(
                    session,
                    discord_user_id,
                    "relink",
                    "Spotify no longer accepts Encore's access to your account "
                    f"**{inert(link.display_name)}** (it expired or was revoked). Use `/link` to "
                    "connect it again; your likes and queues are kept.",
                )

    async def reencrypt_all(self) -> Reencrypted:
        """Re-encrypt every stored token with the first key (after adding a new one). Links
        whose tokens no key reads are counted, left as they are, and marked."""
        rotated = unreadable = 0
        async with self._sessions() as session, session.begin():
            links = (await session.scalars(select(SpotifyLink).with_for_update())).all()
            for link in links:
                try:
                    access = self._cipher.rotate(link.access_token)
                    refresh = self._cipher.rotate(link.refresh_token)
                except UnreadableToken:
                    unreadable += 1
                    link.status = "undecryptable" if link.status == "active" else link.status
                    continue
                link.access_token, link.refresh_token = access, refresh
                if link.status == "undecryptable":
                    link.status = "active"  # the old key is back: readable again
                rotated += 1
        return Reencrypted(rotated, unreadable)


def _check_scopes(link: StoredAccess, needed: Iterable[str]) -> None:
    missing = set(needed) - set(link.scopes.split())
    if missing:
        raise MissingScope(tuple(missing))
