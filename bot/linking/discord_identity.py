"""Discord's own OAuth2 (`identify`), to prove which Discord account opened a personal link.

The web role holds no bot token, and needs none here: the person signs in to Discord, the
code comes back to `PUBLIC_URL/discord/callback`, and Encore redeems it (with the PKCE
verifier kept server-side), reads `GET /users/@me` with the bearer token it got, and revokes
that token at once: Encore keeps nothing of Discord's but the answer to "who is this".
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

log = logging.getLogger(__name__)

_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
RATE_LIMITED_ATTEMPTS = 4
MAX_RETRY_AFTER = 5.0  # s: a person is waiting on the page


@dataclass(frozen=True)
class DiscordAccount:
    id: int
    username: str
    display_name: str


class DiscordSignInFailed(Exception):
    """Discord refused the code (used, expired, or not from this flow)."""


class DiscordUnreachable(Exception):
    """Discord did not answer, or answered something that is not an account."""


def oauth_base(api_url: str) -> str:
    """`https://discord.com` from `https://discord.com/api/v10` (the consent page lives there)."""
    return re.sub(r"/api(?:/v\d+)?/?$", "", api_url.rstrip("/"))


class DiscordIdentity:
    def __init__(
        self,
        api_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        timeout: float = 10.0,
    ) -> None:
        self._api = api_url.rstrip("/")
        self._client_id = client_id
        self._auth = {"Authorization": aiohttp.encode_basic_auth(client_id, client_secret)}
        self.redirect_uri = redirect_uri
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def authorize_endpoint(self) -> str:
        return f"{oauth_base(self._api)}/oauth2/authorize"

    def authorize_url(self, state: str, code_challenge: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client_id,
                "scope": "identify",
                "redirect_uri": self.redirect_uri,
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
                "prompt": "none",  # no consent screen for someone who already allowed it
            }
        )
        return f"{self.authorize_endpoint}?{query}"

    async def identify(self, code: str, code_verifier: str) -> DiscordAccount:
        """Who signed in: the code redeemed, `/users/@me` read, the token revoked."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,
        }
        try:
            status, body = await self._call(
                "POST", f"{self._api}/oauth2/token", data=form, headers=self._auth
            )
            if status == 400 and body.get("error") == "invalid_grant":
                raise DiscordSignInFailed
            token = body.get("access_token")
            if status != 200 or not isinstance(token, str) or not token:
                log.warning("Discord's token endpoint answered %s", status)
                raise DiscordUnreachable
            try:
                status, me = await self._call(
                    "GET", f"{self._api}/users/@me", headers={"Authorization": f"Bearer {token}"}
                )
            finally:
                await self._revoke(token)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("Discord did not answer (%s)", type(error).__name__)
            raise DiscordUnreachable from None
        account = _account(me) if status == 200 else None
        if account is None:
            log.warning("Discord's /users/@me answered %s with no readable account", status)
            raise DiscordUnreachable
        return account

    async def _call(self, method: str, url: str, **options: Any) -> tuple[int, dict[str, Any]]:
        """One request; a 429 (many people signing in at once share the app's limit) is
        waited out as Discord says, a few times, rather than shown as an outage."""
        for attempt in range(RATE_LIMITED_ATTEMPTS):
            async with self._http().request(method, url, **options) as response:
                status, body = response.status, await _json(response)
                retry_after = _retry_after(response, body)
            if status != 429 or retry_after is None or attempt == RATE_LIMITED_ATTEMPTS - 1:
                break
            await asyncio.sleep(retry_after)
        return status, body

    async def _revoke(self, token: str) -> None:
        try:
            async with self._http().post(
                f"{self._api}/oauth2/token/revoke",
                data={"token": token, "token_type_hint": "access_token"},
                headers=self._auth,
            ):
                pass
        except (aiohttp.ClientError, TimeoutError):
            pass  # it expires on its own; nothing else was asked of it

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _retry_after(response: aiohttp.ClientResponse, body: dict[str, Any]) -> float | None:
    """Seconds Discord asks to wait (the body's `retry_after`, else `Retry-After`), if short."""
    value: object = body.get("retry_after", response.headers.get("Retry-After"))
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if 0 <= seconds <= MAX_RETRY_AFTER else None


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await response.json(content_type=None)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _account(me: dict[str, Any]) -> DiscordAccount | None:
    user_id, username, global_name = me.get("id"), me.get("username"), me.get("global_name")
    if not isinstance(user_id, str) or not _SNOWFLAKE.fullmatch(user_id):
        return None
    if not isinstance(username, str) or not username:
        return None
    shown = global_name if isinstance(global_name, str) and global_name else username
    return DiscordAccount(int(user_id), username[:64], shown[:100])
