"""Linking a Discord user to a Spotify account: the personal link, the confirmation, Discord's
proof of who opened it, Spotify's callback; the account, unlinking and forgetting.

The flow, each step refusing what the one before did not hand out:
1. `/link` stores a link request (one live one per user) with the Discord account it is for
   and DMs `PUBLIC_URL/link/{nonce}` (at most `MAX_LINK_DMS` times per link).
2. `GET /link/{nonce}` shows whose link it is and a form; it reads, never writes, so link
   previews change nothing.
3. `POST /link/{nonce}` (the form carries a token bound to the nonce) binds the flow to this
   browser with a cookie and sends it to Discord's OAuth2 (`identify`, PKCE) when
   `DISCORD_CLIENT_SECRET` is set, else straight to step 5.
4. `/discord/callback` redeems Discord's code and refuses any Discord account but the one
   the link is for, storing nothing; the rightful person can still use the link.
5. Spotify's consent, with a signed `state` and PKCE: the verifier stays in the link request.
6. `/callback` checks the state, the browser and the earlier steps, redeems the code with
   the verifier, reads `/me` (refusing what does not parse) and stores the link and consumes
   the nonce in one transaction, so it happens once or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.clock import Clock
from bot.errors import EncoreError
from bot.inert import inert
from bot.linking.discord_identity import DiscordIdentity, DiscordSignInFailed, DiscordUnreachable
from bot.linking.states import (
    BadState,
    ExpiredState,
    Signer,
    browser_hash,
    is_nonce,
    new_browser_secret,
    new_nonce,
)
from bot.outbox import Outbox
from bot.spotify import (
    AUTHORIZATION_LIFETIME,
    SCOPES,
    InvalidGrant,
    SpotifyForbidden,
    SpotifyGateway,
    TokenCipher,
    TokenGrant,
    pkce_pair,
)
from db.engine import DriverReads, SessionFactory, again_if_connection_lost
from db.erasure import erase, writing_about
from db.locks import lock_key
from db.models import LinkRequest, OutboxMessage, SpotifyLink

log = logging.getLogger(__name__)

_LINKS = SpotifyLink.__table__
_ACCOUNT = select(  # what /account shows, built once
    _LINKS.c.display_name,
    _LINKS.c.spotify_account_id,
    _LINKS.c.scopes,
    _LINKS.c.authorized_at,
    _LINKS.c.status,
).where(_LINKS.c.discord_user_id == bindparam("user"))

LINK_LIFETIME = dt.timedelta(minutes=10)
# A pending link with less than this left is replaced by a new one instead of sent again.
FRESH_ENOUGH = dt.timedelta(minutes=2)
MAX_LINK_DMS = 3  # DMs per personal link; /link run more often shows it in the reply only
REMIND_BEFORE_EXPIRY = dt.timedelta(days=7)
# The worker deletes link requests this long after they expired, and DMs delivered (or given
# up) this long ago.
KEEP_LINK_REQUESTS = dt.timedelta(days=1)
KEEP_DELIVERED_DMS = dt.timedelta(days=7)
CLEAN_UP_BATCH = 5000
LINK_REQUEST_LOCK = "link-request"  # one /link at a time per user
SPOTIFY_ACCOUNT_LOCK = "spotify-account"  # one callback at a time per Spotify account


class LinkPageError(Exception):
    """A link page or callback that cannot go on; `status` and the text are shown as is."""

    def __init__(self, status: int, title: str, message: str) -> None:
        self.status = status
        self.title = title
        self.message = message
        super().__init__(title)


def _unknown_link() -> LinkPageError:
    return LinkPageError(
        404, "Unknown link", "This link is not one Encore sent. Run /link in Discord to get yours."
    )


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


def _unverified() -> LinkPageError:
    return LinkPageError(
        400,
        "This sign-in could not be verified",
        "Nothing was stored. Run /link in Discord and use the new link.",
    )


def _other_browser() -> LinkPageError:
    return LinkPageError(
        400,
        "This sign-in started in another browser",
        "Nothing was stored. A sign-in only finishes in the browser where the personal link "
        "was opened and confirmed: open the link from your DM in this browser, or run /link "
        "in Discord for a new one.",
    )


def _spotify_unreadable() -> LinkPageError:
    return LinkPageError(
        502,
        "Spotify did not answer",
        "Spotify answered in a way Encore could not read. Nothing was stored. Please run "
        "/link in Discord again in a minute.",
    )


@dataclass(frozen=True)
class DiscordPerson:
    """The Discord account a link is for, as `/link` saw it."""

    id: int
    username: str
    display_name: str
    avatar_url: str | None = None


@dataclass(frozen=True)
class PersonalLink:
    url: str
    expires_at: dt.datetime
    send_dm: bool  # False: DMed MAX_LINK_DMS times already, show it in the reply only


@dataclass(frozen=True)
class LinkPage:
    """What `GET /link/{nonce}` shows."""

    person: DiscordPerson
    form_token: str
    expires_at: dt.datetime
    proves_identity: bool  # the next step is Discord's sign-in


@dataclass(frozen=True)
class NextStep:
    """Where the browser goes next, and the cookie to give it (None: keep its own)."""

    url: str
    browser_cookie: str | None = None


@dataclass(frozen=True)
class LinkedAccount:
    display_name: str
    account_id: str
    moved_from: int | None


@dataclass(frozen=True)
class SpotifyProfile:
    """`GET /me`, once it is known to be the shape Spotify documents."""

    id: str
    account_id: str
    display_name: str

    @classmethod
    def parse(cls, me: object) -> SpotifyProfile | None:
        if not isinstance(me, dict):
            return None
        user_id, account_id, name = me.get("id"), me.get("account_id"), me.get("display_name")
        if not _plain_id(user_id):
            return None
        if account_id is not None and not _plain_id(account_id):
            return None
        if name is not None and not isinstance(name, str):
            return None
        shown = (name or "").strip()[:256] or str(user_id)
        return cls(str(user_id), str(account_id or user_id), shown)


def _plain_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= 128
        and value.isprintable()
        and not any(c.isspace() for c in value)
    )


@dataclass(frozen=True)
class AccountView:
    """What `/account` shows."""

    display_name: str
    account_id: str
    scopes: list[str]
    missing_scopes: list[str]  # asked for by this version, not granted to an older link
    linked_at: dt.datetime
    expires_at: dt.datetime
    days_left: int
    needs_relink: bool
    unreadable: bool = False  # no key in ENCRYPTION_KEYS reads its tokens (the keys changed)


class LinkService:
    def __init__(
        self,
        sessions: SessionFactory,
        cipher: TokenCipher,
        spotify: SpotifyGateway,
        outbox: Outbox,
        clock: Clock,
        public_url: str,
        discord: DiscordIdentity | None = None,
    ) -> None:
        self._sessions = sessions
        self._driver = DriverReads(sessions)  # /account's read
        self._cipher = cipher
        self._spotify = spotify
        self._outbox = outbox
        self._clock = clock
        self._public_url = public_url.rstrip("/")
        self.discord = discord
        self._spotify_states = Signer(cipher.signing_key("oauth-state"))
        self._discord_states = Signer(cipher.signing_key("discord-state"))
        self._forms = Signer(cipher.signing_key("link-form"))

    @property
    def proves_identity(self) -> bool:
        return self.discord is not None

    # -- 1. the personal link ------------------------------------------------------------

    @again_if_connection_lost
    async def request_link(self, person: DiscordPerson) -> PersonalLink:
        """The user's live personal link: the pending one again while it has time left (so
        /link run 40 times is one link and at most MAX_LINK_DMS DMs), else a new one."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await writing_about(session, person.id)
            await session.execute(
                select(func.pg_advisory_xact_lock(lock_key(LINK_REQUEST_LOCK, person.id)))
            )
            request = await session.scalar(
                select(LinkRequest)
                .where(
                    LinkRequest.discord_user_id == person.id,
                    LinkRequest.completed_at.is_(None),
                    LinkRequest.expires_at > now + FRESH_ENOUGH,
                )
                .order_by(LinkRequest.created_at.desc())
                .limit(1)
            )
            if request is None:
                # One live link per user: older pending ones stop working.
                await session.execute(
                    delete(LinkRequest).where(
                        LinkRequest.discord_user_id == person.id,
                        LinkRequest.completed_at.is_(None),
                    )
                )
                request = LinkRequest(
                    nonce=new_nonce(),
                    discord_user_id=person.id,
                    created_at=now,
                    expires_at=now + LINK_LIFETIME,
                    dms_sent=0,
                )
                session.add(request)
            request.discord_username = person.username[:64]
            request.discord_display_name = (person.display_name or person.username)[:100]
            request.discord_avatar_url = person.avatar_url
            send_dm = request.dms_sent < MAX_LINK_DMS
            if send_dm:
                request.dms_sent += 1
            nonce, expires_at = request.nonce, request.expires_at
        return PersonalLink(f"{self._public_url}/link/{nonce}", expires_at, send_dm)

    # -- 2. the page -----------------------------------------------------------------------

    @again_if_connection_lost
    async def page(self, nonce: str) -> LinkPage:
        """Whose link this is. Reads only: opening (or previewing) a link changes nothing."""
        async with self._sessions() as session:
            request = await self._pending(session, nonce)
        return LinkPage(
            DiscordPerson(
                request.discord_user_id,
                request.discord_username,
                request.discord_display_name or request.discord_username,
                request.discord_avatar_url,
            ),
            self._forms.token(nonce),
            request.expires_at,
            self.proves_identity,
        )

    # -- 3. the confirmation ---------------------------------------------------------------

    async def confirm(self, nonce: str, form_token: str, cookie: str | None) -> NextStep:
        """The person said the link is theirs: bind the flow to this browser, then on to
        Discord's sign-in (or Spotify's consent when Encore cannot ask Discord)."""
        if not is_nonce(nonce):
            raise _unknown_link()
        if not self._forms.check_token(nonce, form_token):
            raise LinkPageError(
                400,
                "This page has expired",
                "Open the personal link from your DM again.",
            )
        fresh = None if browser_hash(cookie) else new_browser_secret()
        binding = browser_hash(fresh or cookie)
        verifier, challenge = pkce_pair()
        now = self._clock.now()
        async with self._sessions() as session:
            owner = (await self._pending(session, nonce)).discord_user_id
        async with self._sessions() as session, session.begin():
            await writing_about(session, owner)
            request = await self._pending(session, nonce, lock=True)
            request.confirmed_at = now
            request.browser_hash = binding
            request.discord_verified_at = None  # each confirmation proves it again
            if self.discord is not None:
                request.discord_verifier = self._cipher.encrypt(verifier)
                state = self._discord_states.state(nonce, owner, request.expires_at)
                url = self.discord.authorize_url(state, challenge)
            else:
                request.spotify_verifier = self._cipher.encrypt(verifier)
                state = self._spotify_states.state(nonce, owner, request.expires_at)
                url = self._spotify.accounts.authorize_url(state, challenge)
        return NextStep(url, fresh)

    # -- 4. Discord's proof ----------------------------------------------------------------

    async def discord_signed_in(self, code: str, state: str, cookie: str | None) -> NextStep:
        """Discord's sign-in came back: on to Spotify if it is the link's own account."""
        if self.discord is None:
            raise _unknown_link()
        signed = self._verified(self._discord_states, state)
        async with self._sessions() as session:
            request = await self._pending(session, signed.nonce)
        self._same_person_and_browser(request, signed.discord_user_id, cookie)
        if request.discord_verifier is None:
            raise _unverified()
        try:
            account = await self.discord.identify(
                code, self._cipher.decrypt(request.discord_verifier)
            )
        except DiscordSignInFailed:
            metrics.LINKS.labels("discord_bad_code").inc()
            raise LinkPageError(
                400,
                "Discord did not accept this sign-in",
                "Nothing was stored. Open your personal link again to retry.",
            ) from None
        except DiscordUnreachable:
            metrics.LINKS.labels("discord_failed").inc()
            raise LinkPageError(
                502,
                "Discord did not answer",
                "Nothing was stored. Please open your personal link again in a minute.",
            ) from None
        if account.id != request.discord_user_id:
            metrics.LINKS.labels("wrong_discord_account").inc()
            log.info(
                "Refused a sign-in as another Discord account on a link for user %s",
                request.discord_user_id,
            )
            owner = request.discord_display_name or request.discord_username
            raise LinkPageError(
                403,
                "This link is for someone else",
                f"This personal link was made for {owner} (@{request.discord_username}) on "
                f"Discord, but you signed in to Discord as {account.display_name} "
                f"(@{account.username}). Nothing was stored. If someone sent you this link, "
                "close this page: it would have given them your Spotify account. If it is "
                f"yours, sign in to Discord as @{request.discord_username} and open it again.",
            )
        verifier, challenge = pkce_pair()
        async with self._sessions() as session, session.begin():
            await writing_about(session, request.discord_user_id)
            request = await self._pending(session, signed.nonce, lock=True)
            self._same_person_and_browser(request, signed.discord_user_id, cookie)
            request.discord_verified_at = self._clock.now()
            request.spotify_verifier = self._cipher.encrypt(verifier)
            state = self._spotify_states.state(
                signed.nonce, signed.discord_user_id, request.expires_at
            )
        return NextStep(self._spotify.accounts.authorize_url(state, challenge))

    # -- 6. Spotify's callback -------------------------------------------------------------

    async def complete(self, code: str, state: str, cookie: str | None) -> LinkedAccount:
        """Finish the flow; every failure raises LinkPageError and stores nothing."""
        signed = self._verified(self._spotify_states, state)
        async with self._sessions() as session:
            request = await self._pending(session, signed.nonce)
        self._same_person_and_browser(request, signed.discord_user_id, cookie)
        if request.spotify_verifier is None or (
            self.proves_identity and request.discord_verified_at is None
        ):
            raise _unverified()
        try:
            grant = await self._spotify.accounts.exchange_code(
                code, self._cipher.decrypt(request.spotify_verifier)
            )
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
        profile = await self._who_is(grant, request)
        linked = await self._store(request, grant, profile)
        metrics.LINKS.labels("linked").inc()
        log.info("User %s linked a Spotify account", request.discord_user_id)
        return linked

    def _verified(self, signer: Signer, state: str) -> Any:
        try:
            return signer.verify(state, self._clock.now())
        except BadState:
            raise _unverified() from None
        except ExpiredState:
            raise _expired_link() from None

    @staticmethod
    def _same_person_and_browser(
        request: LinkRequest, discord_user_id: int, cookie: str | None
    ) -> None:
        if request.discord_user_id != discord_user_id:
            raise _unverified()
        if request.confirmed_at is None or request.browser_hash is None:
            raise _unverified()
        hashed = browser_hash(cookie)
        if hashed is None or not secrets.compare_digest(hashed, request.browser_hash):
            metrics.LINKS.labels("other_browser").inc()
            raise _other_browser()

    async def _pending(
        self, session: AsyncSession, nonce: str, *, lock: bool = False
    ) -> LinkRequest:
        if not is_nonce(nonce):
            raise _unknown_link()
        request = await session.get(LinkRequest, nonce, with_for_update=lock)
        if request is None:
            raise _unknown_link()
        if request.completed_at is not None:
            raise _used_link()
        if request.expires_at <= self._clock.now():
            raise _expired_link()
        return request

    async def _who_is(self, grant: TokenGrant, request: LinkRequest) -> SpotifyProfile:
        try:
            me: object = await self._spotify.as_token(grant.access_token, lambda sp: sp.me())
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
                await writing_about(session, request.discord_user_id)
                if await session.get(LinkRequest, request.nonce) is not None:  # not forgotten
                    self._outbox.add_dm(session, request.discord_user_id, "development_mode", text)
            raise LinkPageError(403, "Spotify refused access to your account", text) from None
        except EncoreError:
            metrics.LINKS.labels("me_failed").inc()
            raise LinkPageError(
                502, "Spotify did not answer", "Nothing was stored. Please run /link again."
            ) from None
        profile = SpotifyProfile.parse(me)
        if profile is None:
            metrics.LINKS.labels("me_unreadable").inc()
            log.warning("Spotify's /me answered something that is not a profile; nothing stored")
            raise _spotify_unreadable()
        return profile

    async def _store(
        self, request: LinkRequest, grant: TokenGrant, profile: SpotifyProfile
    ) -> LinkedAccount:
        now = self._clock.now()
        user = request.discord_user_id
        async with self._sessions() as session, session.begin():
            await writing_about(session, user)
            # Two people linking one Spotify account at once take turns here, so the second
            # finds the first's link and moves it instead of colliding with it.
            await session.execute(
                select(
                    func.pg_advisory_xact_lock(
                        lock_key(f"{SPOTIFY_ACCOUNT_LOCK}:{profile.account_id}")
                    )
                )
            )
            claimed = (
                await session.execute(
                    update(LinkRequest)
                    .where(
                        LinkRequest.nonce == request.nonce,
                        LinkRequest.discord_user_id == user,
                        LinkRequest.completed_at.is_(None),
                        LinkRequest.browser_hash == request.browser_hash,
                    )
                    .values(completed_at=now)
                    .returning(LinkRequest.discord_display_name, LinkRequest.discord_username)
                )
            ).one_or_none()
            if claimed is None:
                # The same callback arrived twice (the first one won), or the user was
                # forgotten meanwhile (the request is gone): nothing is stored.
                raise _used_link()
            new_holder = claimed.discord_display_name or claimed.discord_username
            moved_from = await self._move_from_previous_holder(session, user, new_holder, profile)
            link = await session.get(SpotifyLink, user, with_for_update=True)
            if link is None:
                link = SpotifyLink(discord_user_id=user)  # a new generation (db.erasure)
                session.add(link)
            link.spotify_account_id = profile.account_id
            link.spotify_user_id = profile.id
            link.display_name = profile.display_name
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
                user,
                "linked",
                f"Your Spotify account **{inert(profile.display_name)}** is now linked to "
                "Encore. Try `/playlists`, `/likes` or `/shuffle start`.",
            )
        return LinkedAccount(profile.display_name, profile.account_id, moved_from)

    async def _move_from_previous_holder(
        self, session: AsyncSession, user: int, new_holder: str, profile: SpotifyProfile
    ) -> int | None:
        """Unlink the Spotify account from whoever held it and tell them who took it."""
        holder_of = (
            select(SpotifyLink.discord_user_id)
            .where(
                SpotifyLink.spotify_account_id == profile.account_id,
                SpotifyLink.discord_user_id != user,
            )
            .scalar_subquery()
        )
        while True:
            holder: int | None = await session.scalar(select(holder_of))
            if holder is None:
                return None
            # Their erasure lock before their row: forget-me never waits on a row we hold.
            await writing_about(session, holder)
            previous = await session.scalar(
                select(SpotifyLink)
                .where(SpotifyLink.discord_user_id == holder)
                .where(SpotifyLink.spotify_account_id == profile.account_id)
                .with_for_update()
            )
            if previous is not None:
                break
        await session.delete(previous)
        await session.flush()
        self._outbox.add_dm(
            session,
            holder,
            "moved",
            f"The Spotify account **{inert(previous.display_name)}** was linked to another "
            f"Discord account, <@{user}> ({inert(new_holder)}), so it is no longer linked to "
            "yours. If that was not you, someone can sign in to that Spotify account: change "
            "its password on spotify.com, then run `/link` here.",
        )
        log.info("Moved a Spotify account from user %s to user %s", holder, user)
        return holder

    # -- the account ---------------------------------------------------------------------

    @again_if_connection_lost
    async def account(self, discord_user_id: int) -> AccountView | None:
        link = await self._driver.first(_ACCOUNT, {"user": discord_user_id})
        if link is None:
            return None
        expires_at = link.authorized_at + AUTHORIZATION_LIFETIME
        granted = set(link.scopes.split())
        return AccountView(
            display_name=link.display_name,
            account_id=link.spotify_account_id,
            scopes=sorted(granted),
            missing_scopes=[scope for scope in SCOPES if scope not in granted],
            linked_at=link.authorized_at,
            expires_at=expires_at,
            days_left=max(0, (expires_at - self._clock.now()).days),
            needs_relink=link.status != "active",
            unreadable=link.status == "undecryptable",
        )

    async def require_scopes(self, discord_user_id: int, scopes: Iterable[str]) -> None:
        """Raise `MissingScope` naming what the user's link lacks (NotLinked without one)."""
        await self._spotify.require_scopes(discord_user_id, scopes)

    @again_if_connection_lost
    async def unlink(self, discord_user_id: int) -> bool:
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            result = await session.execute(
                delete(SpotifyLink).where(SpotifyLink.discord_user_id == discord_user_id)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    @again_if_connection_lost
    async def forget_user(self, discord_user_id: int) -> int:
        """Delete every row about the user, in every table that has one; nothing about them
        is written after this returns, even by work already in flight (`db.erasure`)."""
        async with self._sessions() as session, session.begin():
            deleted = await erase(session, discord_user_id)
        log.info("Forgot user %s (%d rows)", discord_user_id, deleted)
        return deleted

    async def remind_expiring(self) -> int:
        """DM each user once, 7 days before their authorisation's six months run out.

        The conditional UPDATE ... RETURNING claims each reminder, so any number of workers
        send it once.
        """
        now = self._clock.now()
        due = (
            SpotifyLink.status == "active",
            SpotifyLink.expiry_reminder_sent_at.is_(None),
            SpotifyLink.authorized_at <= now - AUTHORIZATION_LIFETIME + REMIND_BEFORE_EXPIRY,
        )
        async with self._sessions() as session:
            candidates = list(
                await session.scalars(select(SpotifyLink.discord_user_id).where(*due))
            )
        if not candidates:
            return 0
        async with self._sessions() as session, session.begin():
            await writing_about(session, *candidates)
            claimed = (
                await session.execute(
                    update(SpotifyLink)
                    .where(SpotifyLink.discord_user_id.in_(candidates), *due)
                    .values(expiry_reminder_sent_at=now)
                    .returning(SpotifyLink.discord_user_id, SpotifyLink.authorized_at)
                )
            ).all()
            for discord_user_id, authorized_at in claimed:
                days = max(0, (authorized_at + AUTHORIZATION_LIFETIME - now).days)
                self._outbox.add_dm(
                    session,
                    discord_user_id,
                    "expiry_reminder",
                    f"Spotify will stop accepting Encore's access to your account in {days} "
                    "days (authorisations last six months). Run `/link` to renew it; nothing "
                    "else is lost.",
                )
        return len(claimed)

    async def clean_up(self) -> tuple[int, int]:
        """Delete link requests a day after they expired and DMs delivered (or given up)
        a week ago, a batch per transaction; returns (link requests, DMs) deleted. Safe in
        any number of workers at once (rows another worker is deleting are skipped)."""
        now = self._clock.now()
        requests = await self._delete_in_batches(
            LinkRequest.__table__,
            LinkRequest.nonce,
            LinkRequest.expires_at < now - KEEP_LINK_REQUESTS,
        )
        cutoff = now - KEEP_DELIVERED_DMS
        dms = await self._delete_in_batches(
            OutboxMessage.__table__,
            OutboxMessage.id,
            or_(OutboxMessage.sent_at < cutoff, OutboxMessage.failed_at < cutoff),
        )
        if requests or dms:
            log.info("Cleaned up %d old link requests and %d delivered DMs", requests, dms)
        return requests, dms

    async def _delete_in_batches(self, table: Any, key: Any, old: Any) -> int:
        deleted = 0
        while True:
            batch = select(key).where(old).limit(CLEAN_UP_BATCH).with_for_update(skip_locked=True)
            async with self._sessions() as session, session.begin():
                result = await session.execute(delete(table).where(key.in_(batch)))
            count = int(result.rowcount)  # type: ignore[attr-defined]
            deleted += count
            if count < CLEAN_UP_BATCH:
                return deleted
