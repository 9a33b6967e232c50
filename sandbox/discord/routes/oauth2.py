"""Discord's OAuth2 authorization code grant (``identify``), for proving who a person is.

``GET /oauth2/authorize`` (the consent page; a test consents with ``sandbox_user=<id>`` or
refuses with ``sandbox_deny=1``, see ``DiscordControl.authorize``), ``POST
/api/oauth2/token`` (and ``/api/v10/oauth2/token``; form bodies only, client auth by HTTP
Basic or form fields; codes single-use, expiring, bound to the redirect URI and the PKCE
verifier) and ``GET /api/v10/users/@me`` with ``Authorization: Bearer <token>``.
Docs: "OAuth2", "Authorization Code Grant".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..rest import API_PREFIX, Answer, Endpoint, RestCall
from ..settings import Settings
from ..state import World

SUPPORTED_SCOPES = frozenset({"identify", "email", "guilds", "applications.commands", "bot"})


@dataclass
class AuthorizationCode:
    user_id: int
    redirect_uri: str
    scopes: list[str]
    expires_at: float
    code_challenge: str | None
    used: bool = False
    issued: list[str] = field(default_factory=list)  # access tokens, revoked on a replay


@dataclass
class AccessGrant:
    user_id: int
    scopes: list[str]
    expires_at: float
    refresh_token: str


class OAuth2:
    """The application's OAuth2 state: registered redirect URIs, codes and tokens."""

    def __init__(self, world: World, settings: Settings, redirect_uris: list[str]) -> None:
        self.world = world
        self.settings = settings
        self.redirect_uris = list(redirect_uris)
        self.reset()

    def reset(self) -> None:
        """Forgets codes and tokens (the registered redirect URIs are the app's, they stay)."""
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessGrant] = {}
        self.refresh: dict[str, AccessGrant] = {}

    @property
    def client_id(self) -> str:
        return str(self.world.application_id)

    def grant_for(self, access_token: str) -> AccessGrant | None:
        grant = self.access.get(access_token)
        if grant is None or grant.expires_at < time.time():
            return None
        return grant

    def issue(self, user_id: int, scopes: list[str]) -> tuple[str, AccessGrant]:
        token = secrets.token_urlsafe(30)
        grant = AccessGrant(
            user_id=user_id,
            scopes=scopes,
            expires_at=time.time() + self.settings.oauth_token_lifetime_s,
            refresh_token=secrets.token_urlsafe(30),
        )
        self.access[token] = grant
        self.refresh[grant.refresh_token] = grant
        return token, grant

    def revoke(self, grant: AccessGrant) -> None:
        for table in (self.access, self.refresh):
            for key in [k for k, g in table.items() if g is grant]:
                del table[key]


# ---------------------------------------------------------------------------- the consent page


def _page(title: str, body: str, status: int = 200) -> web.Response:
    doc = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=doc, status=status, content_type="text/html")


def authorize_handler(oauth: OAuth2) -> Any:
    async def authorize(request: web.Request) -> web.StreamResponse:
        q = request.query
        if q.get("client_id") != oauth.client_id:
            return _page(
                "Unknown Application", "<p>Invalid OAuth2 application (client_id)</p>", 400
            )
        redirect_uri = q.get("redirect_uri", "")
        if redirect_uri not in oauth.redirect_uris:
            return _page(
                "Invalid OAuth2 redirect_uri", "<p>The redirect URI is not registered.</p>", 400
            )
        state = q.get("state")

        def back(params: dict[str, str]) -> web.StreamResponse:
            if state is not None:
                params["state"] = state
            sep = "&" if "?" in redirect_uri else "?"
            raise web.HTTPFound(redirect_uri + sep + urllib.parse.urlencode(params))

        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        scopes = q.get("scope", "").split()
        if "identify" not in scopes or not set(scopes) <= SUPPORTED_SCOPES:
            return back(
                {
                    "error": "invalid_scope",
                    "error_description": "The requested scope is invalid, unknown, or malformed.",
                }
            )
        challenge = q.get("code_challenge")
        if challenge is not None and q.get("code_challenge_method", "plain") != "S256":
            return back(
                {
                    "error": "invalid_request",
                    "error_description": "code_challenge_method must be S256",
                }
            )
        if q.get("sandbox_deny") in ("1", "true", "yes"):
            return back(
                {
                    "error": "access_denied",
                    "error_description": "The resource owner or authorization server denied the request",
                }
            )
        uid = q.get("sandbox_user")
        if uid:
            user = oauth.world.users.get(int(uid)) if uid.isdigit() else None
            if user is None or user.bot:
                return _page("Unknown sandbox user", f"<p>{html.escape(uid)}</p>", 400)
            code = secrets.token_urlsafe(22)
            oauth.codes[code] = AuthorizationCode(
                user_id=user.id,
                redirect_uri=redirect_uri,
                scopes=scopes,
                expires_at=time.time() + oauth.settings.oauth_code_lifetime_s,
                code_challenge=challenge,
            )
            return back({"code": code})
        links = []
        for u in oauth.world.users.values():
            if u.bot:
                continue
            url = request.path_qs + "&" + urllib.parse.urlencode({"sandbox_user": u.id})
            links.append(
                f"<li><a href='{html.escape(url)}'>{html.escape(u.username)}</a> ({u.id})</li>"
            )
        deny = html.escape(request.path_qs + "&sandbox_deny=1")
        body = (
            f"<p><b>{html.escape(oauth.world.bot_user.username)}</b> wants to access your account:"
            f" {html.escape(' '.join(scopes))}</p><p>Continue as:</p><ul>{''.join(links)}</ul>"
            f"<p><a href='{deny}'>Cancel</a></p>"
        )
        return _page("Discord sandbox: authorise", body)

    return authorize


# ---------------------------------------------------------------------------- the token endpoint


def _oauth_error(error: str, description: str | None = None, status: int = 400) -> Answer:
    body = {"error": error}
    if description:
        body["error_description"] = description
    return Answer(body, status)


def _client_ok(call: RestCall, form: dict[str, str]) -> bool:
    oauth = call.emu.oauth2
    auth = call.request.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        try:
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
    else:
        cid, secret = form.get("client_id", ""), form.get("client_secret", "")
    return secrets.compare_digest(cid, oauth.client_id) and secrets.compare_digest(
        secret, call.emu.settings.client_secret
    )


def _pkce_ok(challenge: str | None, verifier: str | None) -> bool:
    if challenge is None:
        return True
    if not verifier:
        return False
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(expected, challenge)


async def token(call: RestCall) -> Any:
    if call.request.content_type != "application/x-www-form-urlencoded":
        return _oauth_error(
            "invalid_request", "Content-Type must be application/x-www-form-urlencoded"
        )
    form: dict[str, str] = call.json()
    if not _client_ok(call, form):
        return _oauth_error("invalid_client", status=401)
    oauth = call.emu.oauth2
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        code = oauth.codes.get(form.get("code", ""))
        if code is None or code.expires_at < time.time():
            return _oauth_error("invalid_grant", 'Invalid "code" in request.')
        if code.used:
            # a replayed code: refuse it and revoke what it gave (RFC 6749 4.1.2)
            for access in code.issued:
                grant = oauth.access.get(access)
                if grant is not None:
                    oauth.revoke(grant)
            return _oauth_error("invalid_grant", 'Invalid "code" in request.')
        if form.get("redirect_uri") != code.redirect_uri:
            return _oauth_error("invalid_grant", 'Invalid "redirect_uri" in request.')
        if not _pkce_ok(code.code_challenge, form.get("code_verifier")):
            return _oauth_error("invalid_grant", 'Invalid "code_verifier" in request.')
        code.used = True
        access, grant = oauth.issue(code.user_id, code.scopes)
        code.issued.append(access)
    elif grant_type == "refresh_token":
        old = oauth.refresh.get(form.get("refresh_token", ""))
        if old is None:
            return _oauth_error("invalid_grant", 'Invalid "refresh_token" in request')
        oauth.revoke(old)
        access, grant = oauth.issue(old.user_id, old.scopes)
    else:
        return _oauth_error("unsupported_grant_type")
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": oauth.settings.oauth_token_lifetime_s,
        "refresh_token": grant.refresh_token,
        "scope": " ".join(grant.scopes),
    }


async def revoke(call: RestCall) -> Any:
    form: dict[str, str] = call.json()
    if not _client_ok(call, form):
        return _oauth_error("invalid_client", status=401)
    oauth = call.emu.oauth2
    value = form.get("token", "")
    grant = oauth.access.get(value) or oauth.refresh.get(value)
    if grant is not None:
        oauth.revoke(grant)
    return {}


def endpoints() -> list[Endpoint]:
    kw: dict[str, Any] = {
        "auth": "none",
        "bucket": "oauth",
        "global_exempt": True,
        "prefixes": (API_PREFIX, "/api"),
    }
    return [
        Endpoint("POST", "/oauth2/token", token, **kw),
        Endpoint("POST", "/oauth2/token/revoke", revoke, **kw),
    ]


AUTHORIZE_PATHS = ("/oauth2/authorize", "/api/oauth2/authorize", API_PREFIX + "/oauth2/authorize")
