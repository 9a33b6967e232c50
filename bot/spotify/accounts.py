"""Spotify's Accounts service: the authorize URL, code exchange, refresh, client credentials."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.errors import SpotifyBusy, SpotifyUnavailable
from bot.spotify.errors import retry_after

log = logging.getLogger(__name__)

# What a new link asks for, and why (the words /account and a missing-scope error use).
SCOPE_PURPOSES = {
    "user-read-private": "who you are on Spotify",
    "playlist-read-private": "your playlists",
    "playlist-read-collaborative": "playlists you collaborate on",
    "user-library-read": "your liked songs",
    "user-library-modify": "saving likes to your library",
    "user-read-currently-playing": "what you are playing",
    "user-read-playback-state": "the device you play on, and private sessions",
    "user-modify-playback-state": "adding to your playback queue",
    "user-follow-read": "the artists you follow",
    "user-top-read": "your top artists and tracks",
    "user-read-recently-played": "what you played recently",
    "playlist-modify-private": "making private playlists",
    "playlist-modify-public": "making public playlists",
}
SCOPES = tuple(SCOPE_PURPOSES)


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier (kept server-side) and its S256 challenge (sent to the browser)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43-128
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


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

    @property
    def authorize_endpoint(self) -> str:
        return f"{self._base}/authorize"

    def authorize_url(
        self, state: str, code_challenge: str, scopes: tuple[str, ...] = SCOPES
    ) -> str:
        query = urlencode(
            {
                "client_id": self._client_id,
                "response_type": "code",
                "redirect_uri": self.redirect_uri,
                "state": state,
                "scope": " ".join(scopes),
                "code_challenge_method": "S256",
                "code_challenge": code_challenge,
                "show_dialog": "true",
            }
        )
        return f"{self.authorize_endpoint}?{query}"

    async def exchange_code(self, code: str, code_verifier: str) -> TokenGrant:
        """The code from the callback, redeemed with the verifier of the flow that asked for
        it: a code taken from another flow fails Spotify's PKCE check."""
        return await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": code_verifier,
            }
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
                answer: Any = await response.json(content_type=None)
                status = response.status
                wait = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("Spotify accounts did not answer (%s)", type(error).__name__)
            raise SpotifyUnavailable from None
        body: dict[str, Any] = answer if isinstance(answer, dict) else {}
        if status == 200:
            grant = _grant(body)
            if grant is None:
                log.warning("Spotify accounts answered a token Encore cannot read")
                raise SpotifyUnavailable
            return grant
        if status == 429:
            raise SpotifyBusy(retry_after(wait))
        if status == 400 and body.get("error") == "invalid_grant":
            raise InvalidGrant(body.get("error_description", "invalid_grant"))
        log.warning("Spotify accounts answered %s (%s)", status, body.get("error"))
        raise SpotifyUnavailable

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _grant(body: dict[str, Any]) -> TokenGrant | None:
    """The token endpoint's answer, or None when it is not the shape Spotify documents."""
    access, refresh = body.get("access_token"), body.get("refresh_token")
    expires, scope = body.get("expires_in", 3600), body.get("scope", "")
    if not isinstance(access, str) or not access or len(access) > 4096:
        return None
    if refresh is not None and (not isinstance(refresh, str) or len(refresh) > 4096):
        return None
    if isinstance(expires, bool) or not isinstance(expires, int) or not 0 < expires <= 86400:
        return None
    if not isinstance(scope, str):
        return None
    return TokenGrant(access_token=access, expires_in=expires, scope=scope, refresh_token=refresh)
