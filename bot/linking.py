"""Linking a Discord user to a Spotify account: link nonces, the OAuth state, the callback.

The personal link `PUBLIC_URL/link/{nonce}` is sent by DM. Opening it redirects to
Spotify with a `state` that is signed, bound to the nonce and the Discord user, and
expires; the callback checks all of that, exchanges the code, asks `GET /me`, and stores
the link and consumes the nonce in one transaction, so it happens once or not at all.
Opening the link does not consume it (Discord's link unfurler may fetch it first);
completing the flow does.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from bot import metrics
from bot.clock import Clock
from bot.errors import EncoreError
from bot.outbox import Outbox
from bot.spotify import (
    AUTHORIZATION_LIFETIME,
    InvalidGrant,
    SpotifyForbidden,
    SpotifyGateway,
    TokenCipher,
    TokenGrant,
)
from db.engine import SessionFactory
from db.models import USER_TABLES, LinkRequest, SpotifyLink

log = logging.getLogger(__name__)

LINK_LIFETIME = dt.timedelta(minutes=10)
REMIND_BEFORE_EXPIRY = dt.timedelta(days=7)


class LinkPageError(Exception):
    """A callback or link page that cannot go on; `status` and the text are shown as is."""

    def __init__(self, status: int, title: str, message: str) -> None:
        self.status = status
        self.title = title
        self.message = message
        super().__init__(title)


def _expired_link() -> LinkPageError:
    return LinkPageError(
        410, "This link has expired", "Links last 10 minutes. Run /link in Discord for a new one."
    )


def _used_link() -> LinkPageError:
    return LinkPageError(
        410,
        "This link was already used",
        "Each link works once. Run /link in Discord if you want to link again.",
    )


@dataclass(frozen=True)
class LinkedAccount:
    display_name: str
    account_id: str
    moved_from: int | None


@dataclass(frozen=True)
class AccountView:
    """What `/account` shows."""

    display_name: str
    account_id: str
    scopes: list[str]
    linked_at: dt.datetime
    expires_at: dt.datetime
    days_left: int
    needs_relink: bool


class LinkService:
    def __init__(
        self,
        sessions: SessionFactory,
        cipher: TokenCipher,
        spotify: SpotifyGateway,
        outbox: Outbox,
        clock: Clock,
        public_url: str,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._spotify = spotify
        self._outbox = outbox
        self._clock = clock
        self._public_url = public_url.rstrip("/")
        self._state_key = cipher.signing_key("oauth-state")

    # -- the personal link ---------------------------------------------------------------

    async def create_link(self, discord_user_id: int) -> str:
        nonce = secrets.token_urlsafe(24)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            session.add(
                LinkRequest(
                    nonce=nonce,
                    discord_user_id=discord_user_id,
                    created_at=now,
                    expires_at=now + LINK_LIFETIME,
                )
            )
        return f"{self._public_url}/link/{nonce}"

    async def open_link(self, nonce: str) -> str:
        """The Spotify authorize URL for a personal link, or a LinkPageError."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            request = await session.get(LinkRequest, nonce) if len(nonce) <= 64 else None
            if request is None:
                raise LinkPageError(
                    404,
                    "Unknown link",
                    "This link is not one Encore sent. Run /link in Discord to get yours.",
                )
            if request.completed_at is not None:
                raise _used_link()
            if request.expires_at <= now:
                raise _expired_link()
            request.opened_at = request.opened_at or now
            state = self._sign_state(nonce, request.discord_user_id, request.expires_at)
        return self._spotify.accounts.authorize_url(state)

    # -- the OAuth state -----------------------------------------------------------------

    def _signature(self, payload: str) -> str:
        digest = hmac.new(self._state_key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def _sign_state(self, nonce: str, discord_user_id: int, expires_at: dt.datetime) -> str:
        payload = f"{nonce}.{discord_user_id}.{int(expires_at.timestamp())}"
        return f"{payload}.{self._signature(payload)}"

    def _verify_state(self, state: str) -> tuple[str, int]:
        bad = LinkPageError(
            400,
            "This sign-in could not be verified",
            "Nothing was stored. Run /link in Discord and use the new link.",
        )
        parts = state.split(".")
        if len(parts) != 4:
            raise bad
        nonce, user, expires, signature = parts
        if not hmac.compare_digest(signature, self._signature(f"{nonce}.{user}.{expires}")):
            raise bad
        try:
            discord_user_id, expires_at = int(user), int(expires)
        except ValueError:
            raise bad from None
        if expires_at <= self._clock.now().timestamp():
            raise _expired_link()
        return nonce, discord_user_id

    # -- the callback --------------------------------------------------------------------

    async def complete(self, code: str, state: str) -> LinkedAccount:
        """Finish the flow; every failure raises LinkPageError and stores nothing."""
        nonce, discord_user_id = self._verify_state(state)
        await self._check_pending(nonce, discord_user_id)
        try:
            grant = await self._spotify.accounts.exchange_code(code)
        except InvalidGrant:
            metrics.LINKS.labels("bad_code").inc()
            raise LinkPageError(
                400,
                "Spotify did not accept this sign-in",
                "Nothing was stored. Run /link in Discord and try again.",
            ) from None
        except EncoreError:
            metrics.LINKS.labels("exchange_failed").inc()
            raise LinkPageError(
                502,
                "Spotify did not answer",
                "Nothing was stored. Please run /link in Discord again in a minute.",
            ) from None
        me = await self._who_is(grant, discord_user_id)
        linked = await self._store(nonce, discord_user_id, grant, me)
        metrics.LINKS.labels("linked").inc()
        log.info("User %s linked a Spotify account", discord_user_id)
        return linked

    async def _check_pending(self, nonce: str, discord_user_id: int) -> None:
        async with self._sessions() as session:
            request = await session.get(LinkRequest, nonce)
        if request is None or request.discord_user_id != discord_user_id:
            raise LinkPageError(
                400, "This sign-in could not be verified", "Nothing was stored. Run /link again."
            )
        if request.completed_at is not None:
            raise _used_link()
        if request.expires_at <= self._clock.now():
            raise _expired_link()

    async def _who_is(self, grant: TokenGrant, discord_user_id: int) -> dict[str, Any]:
        try:
            me: dict[str, Any] = await self._spotify.as_token(
                grant.access_token, lambda sp: sp.me()
            )
        except SpotifyForbidden:
            metrics.LINKS.labels("development_mode").inc()
            text = (
                "Spotify let you sign in but refuses Encore access to your account: this bot's "
                "Spotify app is in development mode, which serves at most 5 users that its "
                "owner adds to the app's allowlist (Spotify developer dashboard, User "
                "Management). Ask the bot's owner to add the e-mail of your Spotify account, "
                "then run /link again. Nothing was stored."
            )
            async with self._sessions() as session, session.begin():
                self._outbox.add_dm(session, discord_user_id, "development_mode", text)
            raise LinkPageError(403, "Spotify refused access to your account", text) from None
        except EncoreError:
            metrics.LINKS.labels("me_failed").inc()
            raise LinkPageError(
                502, "Spotify did not answer", "Nothing was stored. Please run /link again."
            ) from None
        return me

    async def _store(
        self, nonce: str, discord_user_id: int, grant: TokenGrant, me: dict[str, Any]
    ) -> LinkedAccount:
        now = self._clock.now()
        account_id = str(me.get("account_id") or me["id"])
        display_name = str(me.get("display_name") or me["id"])
        async with self._sessions() as session, session.begin():
            claimed = await session.execute(
                update(LinkRequest)
                .where(
                    LinkRequest.nonce == nonce,
                    LinkRequest.discord_user_id == discord_user_id,
                    LinkRequest.completed_at.is_(None),
                )
                .values(completed_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise _used_link()  # the same callback arrived twice: the first one won
            previous = await session.scalar(
                select(SpotifyLink)
                .where(
                    SpotifyLink.spotify_account_id == account_id,
                    SpotifyLink.discord_user_id != discord_user_id,
                )
                .with_for_update()
            )
            moved_from = None
            if previous is not None:
                moved_from = previous.discord_user_id
                await session.delete(previous)
                await session.flush()
                self._outbox.add_dm(
                    session,
                    moved_from,
                    "moved",
                    f"The Spotify account **{previous.display_name}** was linked to another "
                    "Discord account, so it is no longer linked to yours.",
                )
            link = await session.get(SpotifyLink, discord_user_id, with_for_update=True)
            if link is None:
                link = SpotifyLink(discord_user_id=discord_user_id)
                session.add(link)
            link.spotify_account_id = account_id
            link.spotify_user_id = str(me["id"])
            link.display_name = display_name
            link.access_token = self._cipher.encrypt(grant.access_token)
            link.refresh_token = self._cipher.encrypt(grant.refresh_token or "")
            link.access_expires_at = now + dt.timedelta(seconds=grant.expires_in)
            link.scopes = grant.scope
            link.authorized_at = now
            link.status = "active"
            link.relink_notified_at = None
            link.expiry_reminder_sent_at = None
            link.updated_at = now
            self._outbox.add_dm(
                session,
                discord_user_id,
                "linked",
                f"Your Spotify account **{display_name}** is now linked to Encore. "
                "Try `/playlists`, `/likes` or `/shuffle start`.",
            )
        return LinkedAccount(display_name, account_id, moved_from)

    # -- the account ---------------------------------------------------------------------

    async def account(self, discord_user_id: int) -> AccountView | None:
        async with self._sessions() as session:
            link = await session.get(SpotifyLink, discord_user_id)
        if link is None:
            return None
        expires_at = link.authorized_at + AUTHORIZATION_LIFETIME
        return AccountView(
            display_name=link.display_name,
            account_id=link.spotify_account_id,
            scopes=sorted(link.scopes.split()),
            linked_at=link.authorized_at,
            expires_at=expires_at,
            days_left=max(0, (expires_at - self._clock.now()).days),
            needs_relink=link.status == "needs_relink",
        )

    async def unlink(self, discord_user_id: int) -> bool:
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(SpotifyLink).where(SpotifyLink.discord_user_id == discord_user_id)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def forget_user(self, discord_user_id: int) -> int:
        """Delete every row about the user, in every table that has one. Returns rows deleted."""
        deleted = 0
        async with self._sessions() as session, session.begin():
            for table in USER_TABLES:
                result = await session.execute(
                    delete(table).where(table.c.discord_user_id == discord_user_id)
                )
                deleted += result.rowcount  # type: ignore[attr-defined]
        log.info("Forgot user %s (%d rows)", discord_user_id, deleted)
        return deleted

    async def remind_expiring(self) -> int:
        """DM each user once, 7 days before their authorisation's six months run out.

        The conditional UPDATE ... RETURNING claims each reminder, so any number of workers
        send it once.
        """
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            due = (
                await session.execute(
                    update(SpotifyLink)
                    .where(
                        SpotifyLink.status == "active",
                        SpotifyLink.expiry_reminder_sent_at.is_(None),
                        SpotifyLink.authorized_at
                        <= now - AUTHORIZATION_LIFETIME + REMIND_BEFORE_EXPIRY,
                    )
                    .values(expiry_reminder_sent_at=now)
                    .returning(SpotifyLink.discord_user_id, SpotifyLink.authorized_at)
                )
            ).all()
            for discord_user_id, authorized_at in due:
                days = max(0, (authorized_at + AUTHORIZATION_LIFETIME - now).days)
                self._outbox.add_dm(
                    session,
                    discord_user_id,
                    "expiry_reminder",
                    f"Spotify will stop accepting Encore's access to your account in {days} "
                    "days (authorisations last six months). Run `/link` to renew it; nothing "
                    "else is lost.",
                )
        return len(due)
