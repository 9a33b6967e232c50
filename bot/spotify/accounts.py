"""Spotify's Accounts service: the authorize URL, code exchange, refresh, client credentials."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.errors import SpotifyBusy, SpotifyUnavailable
from bot.spotify.errors import retry_after

log = logging.getLogger(__name__)

SCOPES = (
    "user-read-private",
    "playlist-read-private",
    "playlist-read-collaborative",
    "user-library-read",
    "user-library-modify",
    "user-read-currently-playing",
    "user-modify-playback-state",
)


@dataclass(frozen=True)
class TokenGrant:
    """What Spotify's token endpoint answered."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None


class InvalidGrant(Exception):
    """The refresh token (or code) is expired or revoked: only the user can fix it."""


class SpotifyAccounts:
    """Spotify's Accounts service: authorize URL, code exchange, refresh, client credentials."""

    def __init__(
        self,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        timeout: float = 10.0,
    ) -> None:
        self._base = accounts_url.rstrip("/")
        self._client_id = client_id
        self._auth_header = {"Authorization": aiohttp.encode_basic_auth(client_id, client_secret)}
        self.redirect_uri = redirect_uri
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def authorize_url(self, state: str, scopes: tuple[str, ...] = SCOPES) -> str:
        query = urlencode(
            {
                "client_id": self._client_id,
                "response_type": "code",
                "redirect_uri": self.redirect_uri,
                "state": state,
                "scope": " ".join(scopes),
                "show_dialog": "true",
            }
        )
        return f"{self._base}/authorize?{query}"

    async def exchange_code(self, code: str) -> TokenGrant:
        return await self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        )

    async def refresh(self, refresh_token: str) -> TokenGrant:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def client_credentials(self) -> TokenGrant:
        return await self._token({"grant_type": "client_credentials"})

    async def _token(self, form: dict[str, str]) -> TokenGrant:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(
                f"{self._base}/api/token", data=form, headers=self._auth_header
            ) as response:
                body: dict[str, Any] = await response.json(content_type=None) or {}
                status = response.status
                wait = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("Spotify accounts did not answer (%s)", type(error).__name__)
            raise SpotifyUnavailable from None
        if status == 200:
            return TokenGrant(
                access_token=body["access_token"],
                expires_in=int(body.get("expires_in", 3600)),
                scope=str(body.get("scope", "")),
                refresh_token=body.get("refresh_token"),
            )
        if status == 429:
            raise SpotifyBusy(retry_after(wait))
        if status == 400 and body.get("error") == "invalid_grant":
            raise InvalidGrant(body.get("error_description", "invalid_grant"))
        log.warning("Spotify accounts answered %s (%s)", status, body.get("error"))
        raise SpotifyUnavailable

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
