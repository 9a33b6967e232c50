"""The Accounts service: ``GET /authorize`` (consent) and ``POST /api/token``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import re
import secrets
import time
import urllib.parse
from typing import Any

from aiohttp import web

from ..errors import oauth_error
from ..state import LOG_ENTRY, AccessToken, Code, EmulatorState, Grant, RefreshToken
from ..web_api import state

SIX_MONTHS = 182 * 86400
CODE_TTL = 600
# RFC 7636: a verifier is 43-128 unreserved characters; an S256 challenge is 43 base64url ones.
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")

routes = web.RouteTableDef()


def redirect_allowed(st: EmulatorState, uri: str) -> bool:
    """HTTPS, or loopback ``http://127.0.0.1:PORT/callback`` / ``[::1]``; never localhost."""
    try:
        parts = urllib.parse.urlsplit(uri)
    except ValueError:
        return False
    if parts.hostname in (None, "localhost") or not parts.scheme:
        return False
    allowed = st.settings.allowed_redirect_uris
    if allowed is not None:
        return uri in allowed
    if parts.scheme == "https":
        return True
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1"):
        try:
            port = parts.port
        except ValueError:
            return False
        return port is not None and parts.path == "/callback"
    return False


def html_page(title: str, body: str, status: int = 200) -> web.Response:
    doc = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=doc, status=status, content_type="text/html")


@routes.get("/authorize")
async def authorize(request: web.Request) -> web.StreamResponse:
    st = state(request)
    q = request.query
    if q.get("client_id") != st.client_id:
        return html_page("INVALID_CLIENT: Invalid client", "", 400)
    redirect_uri = q.get("redirect_uri", "")
    if not redirect_allowed(st, redirect_uri):
        return html_page("INVALID_CLIENT: Invalid redirect URI", "", 400)
    state_param = q.get("state")

    def back(params: dict[str, str]) -> web.StreamResponse:
        if state_param is not None:
            params["state"] = state_param
        sep = "&" if "?" in redirect_uri else "?"
        raise web.HTTPFound(redirect_uri + sep + urllib.parse.urlencode(params))

    if q.get("response_type") != "code":
        return back({"error": "unsupported_response_type"})
    challenge = q.get("code_challenge")
    if challenge is not None:
        # Spotify's PKCE flow takes S256 only ("Authorization Code with PKCE Flow").
        if q.get("code_challenge_method") != "S256":
            return back(
                {
                    "error": "invalid_request",
                    "error_description": "code_challenge_method must be S256",
                }
            )
        if not CHALLENGE.fullmatch(challenge):
            return back({"error": "invalid_request", "error_description": "Invalid code_challenge"})
    if q.get("sandbox_deny") in ("1", "true", "yes"):
        return back({"error": "access_denied"})
    users = st.catalog.users
    uid = q.get("sandbox_user")
    if uid:
        if uid not in users:
            return html_page("Unknown sandbox user", html.escape(uid), 400)
        request[LOG_ENTRY]["user"] = uid
        code = secrets.token_urlsafe(48)
        st.tokens.codes[code] = Code(
            user=uid,
            client_id=st.client_id,
            redirect_uri=redirect_uri,
            scopes=q.get("scope", "").split(),
            expires_at=time.time() + CODE_TTL,
            code_challenge=challenge,
        )
        return back({"code": code})
    links = []
    for u in users.values():
        url = request.path_qs + "&" + urllib.parse.urlencode({"sandbox_user": u.id})
        flags = ", ".join(
            f for f, on in (("Premium", u.premium), ("allowlisted", u.allowlisted)) if on
        )
        links.append(
            f"<li><a href='{html.escape(url)}'>{html.escape(u.display_name)}</a>"
            f" ({html.escape(u.id)}; {flags or 'free'})</li>"
        )
    deny = html.escape(request.path_qs + "&sandbox_deny=1")
    scopes = html.escape(q.get("scope", "(none)"))
    body = (
        f"<p>Sandbox app <b>{html.escape(st.client_id)}</b> asks for: {scopes}</p>"
        f"<p>Log in as:</p><ul>{''.join(links)}</ul><p><a href='{deny}'>Cancel (deny)</a></p>"
    )
    return html_page("Spotify sandbox: authorise", body)


def client_authenticated(st: EmulatorState, request: web.Request, form: Any) -> bool:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        try:
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
    else:
        cid, secret = form.get("client_id"), form.get("client_secret")
    return bool(cid == st.client_id and secret == st.client_secret)


def issue_access(st: EmulatorState, user: str | None, scopes: list[str]) -> tuple[str, int]:
    tok = secrets.token_urlsafe(64)
    life = st.settings.access_token_lifetime
    st.tokens.access[tok] = AccessToken(user, st.client_id, set(scopes), time.time() + life)
    return tok, life


def new_refresh(st: EmulatorState, grant: Grant) -> str:
    rt = secrets.token_urlsafe(64)
    st.tokens.refresh[rt] = RefreshToken(grant)
    return rt


@routes.post("/api/token")
async def token(request: web.Request) -> web.StreamResponse:
    st = state(request)
    form = await request.post()
    if not client_authenticated(st, request, form):
        return oauth_error("invalid_client", "Invalid client")
    gt = form.get("grant_type")
    log = request[LOG_ENTRY]
    log["grant_type"] = gt
    now = time.time()
    if gt == "authorization_code":
        return authorization_code(st, form, log, now)
    if gt == "refresh_token":
        return refresh(st, form, log, now)
    if gt == "client_credentials":
        log["user"] = "app"
        access, life = issue_access(st, None, [])
        return web.json_response(
            {"access_token": access, "token_type": "Bearer", "expires_in": life, "scope": ""}
        )
    return oauth_error("unsupported_grant_type", f"grant_type {gt!r} is not supported")


def authorization_code(
    st: EmulatorState, form: Any, log: dict[str, Any], now: float
) -> web.Response:
    code = st.tokens.codes.get(str(form.get("code", "")))
    if code is not None:
        log["user"] = code.user
    if (
        code is None
        or code.used
        or code.expires_at < now
        or code.client_id != st.client_id
        or code.redirect_uri != form.get("redirect_uri")
    ):
        if code is not None:
            code.used = True  # a replayed or misdirected code is burnt
        return oauth_error("invalid_grant", "Invalid authorization code")
    if not pkce_ok(code.code_challenge, form.get("code_verifier")):
        code.used = True  # a code tried with the wrong verifier is burnt too
        return oauth_error("invalid_grant", "code_verifier was incorrect")
    code.used = True
    grants = st.tokens.grants
    grant = Grant(len(grants) + 1, code.user, code.client_id, code.scopes, now)
    grants.append(grant)
    access, life = issue_access(st, code.user, code.scopes)
    return web.json_response(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": life,
            "scope": " ".join(code.scopes),
            "refresh_token": new_refresh(st, grant),
        }
    )


def refresh(st: EmulatorState, form: Any, log: dict[str, Any], now: float) -> web.Response:
    rt = st.tokens.refresh.get(str(form.get("refresh_token", "")))
    if rt is None or rt.grant.client_id != st.client_id:
        return oauth_error("invalid_grant", "Invalid refresh token")
    grant = rt.grant
    log["user"] = grant.user
    if rt.revoked or now - grant.authorised_at > SIX_MONTHS:
        return oauth_error("invalid_grant", "Refresh token revoked")
    grant.refreshes += 1
    access, life = issue_access(st, grant.user, grant.scopes)
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": life,
        "scope": " ".join(grant.scopes),
    }
    mode = st.settings.rotate_refresh_tokens
    if mode == "always" or (mode == "alternate" and grant.refreshes % 2 == 1):
        body["refresh_token"] = new_refresh(st, grant)
    return web.json_response(body)


def pkce_ok(challenge: str | None, verifier: object) -> bool:
    """A code issued with a challenge is redeemed only with the verifier behind it."""
    if challenge is None:
        return True  # the plain authorization code flow (a confidential client)
    if not isinstance(verifier, str) or not VERIFIER.fullmatch(verifier):
        return False
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return secrets.compare_digest(expected, challenge)
