"""What the link flow signs and checks: personal-link nonces, OAuth states, confirm tokens.

A state is `nonce.discord_user_id.expires.signature` (HMAC-SHA256, one key per purpose, so a
Spotify state is no Discord state). Anything not of exactly that shape is refused before a
signature is compared or the database is asked, so a NUL byte, a non-ASCII character or a
20,000-character value is a plain refusal.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_STATE = re.compile(r"([A-Za-z0-9_-]{16,64})\.([0-9]{1,20})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_COOKIE = re.compile(r"[A-Za-z0-9_-]{43}")


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def is_nonce(text: str) -> bool:
    return NONCE.fullmatch(text) is not None


def new_browser_secret() -> str:
    """The value of the cookie that binds a flow to the browser that confirmed it."""
    return secrets.token_urlsafe(32)


def browser_hash(cookie: str | None) -> str | None:
    """What is stored of that cookie; None for a missing or malformed one."""
    if cookie is None or _COOKIE.fullmatch(cookie) is None:
        return None
    return hashlib.sha256(cookie.encode("ascii")).hexdigest()


class BadState(Exception):
    """Forged, tampered with, or not a state at all."""


class ExpiredState(Exception):
    pass


@dataclass(frozen=True)
class SignedState:
    nonce: str
    discord_user_id: int


class Signer:
    """Signs and checks one purpose's states and confirm tokens with its own key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def state(self, nonce: str, discord_user_id: int, expires_at: dt.datetime) -> str:
        payload = f"{nonce}.{discord_user_id}.{int(expires_at.timestamp())}"
        return f"{payload}.{self._mac(payload)}"

    def verify(self, state: str, now: dt.datetime) -> SignedState:
        found = _STATE.fullmatch(state)
        if found is None:
            raise BadState
        nonce, user, expires, signature = found.groups()
        if not hmac.compare_digest(signature, self._mac(f"{nonce}.{user}.{expires}")):
            raise BadState
        if int(expires) <= now.timestamp():
            raise ExpiredState
        return SignedState(nonce, int(user))

    def token(self, nonce: str) -> str:
        """The value a form carries to prove it was served for this nonce (CSRF)."""
        return self._mac(f"form.{nonce}")

    def check_token(self, nonce: str, token: str) -> bool:
        return _TOKEN.fullmatch(token) is not None and hmac.compare_digest(token, self.token(nonce))
