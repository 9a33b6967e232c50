"""The personal link's pages: whose link it is and the confirmation (`/link/{nonce}`), the
return from Discord's sign-in (`/discord/callback`) and from Spotify's consent (`/callback`).

The flow's rules live in `bot.linking`; here are the HTTP shapes: the form, the cookie that
binds the flow to the browser that confirmed it, the page CSP that lets that form send the
browser on to Discord and Spotify and nowhere else.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import html
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.web_response import StreamResponse

from bot import metrics
from bot.linking import LINK_LIFETIME, LinkPage, LinkPageError, LinkService, NextStep
from bot.services import Services
from bot.web_security import SECURITY_HEADERS, Handler, page

AVATAR_HOST = "https://cdn.discordapp.com/"
MAX_CODE = 1024
MAX_STATE = 256
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5}.who{display:flex;gap:1rem;align-items:center}"
    ".who img{border-radius:50%}button{font-size:1.05rem;padding:.6rem 1rem;cursor:pointer}"
    ".small{color:#666;font-size:.9rem}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

LimitWrap = Callable[[Handler], Handler]


class LinkPages:
    def __init__(self, services: Services) -> None:
        self._links: LinkService = services.links
        settings = services.settings
        self._secure = settings.public_url.startswith("https://")
        self._origin = _origin(settings.public_url)
        # `__Host-` cookies are sent back only to this host over HTTPS, on every path.
        self.cookie = "__Host-encore_link" if self._secure else "encore_link"
        self._read_timeout = settings.web_read_timeout
        targets = [services.spotify.accounts.authorize_endpoint]
        if self._links.discord is not None:
            targets.append(self._links.discord.authorize_endpoint)
        origins = " ".join(sorted({_origin(url) for url in targets}))
        # The confirmation form posts to this page, which redirects to Discord or Spotify:
        # form-action must allow those redirects' targets, and only them.
        self._form_csp = (
            "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
            f"img-src {AVATAR_HOST}; style-src 'sha256-{_STYLE_HASH}'; "
            f"form-action 'self' {origins}"
        )

    def add_routes(self, app: web.Application, limit: LimitWrap) -> None:
        app.router.add_get("/link/{nonce}", limit(self.show))
        app.router.add_post("/link/{nonce}", limit(self.confirm))
        app.router.add_get("/discord/callback", limit(self.discord_callback))
        app.router.add_get("/callback", limit(self.spotify_callback))

    # -- GET /link/{nonce}: whose link, and the form -----------------------------------------

    async def show(self, request: web.Request) -> StreamResponse:
        try:
            shown = await self._links.page(request.match_info["nonce"])
        except LinkPageError as error:
            return page(error.status, error.title, error.message)
        return web.Response(
            text=self._confirmation(shown),
            content_type="text/html",
            headers={**SECURITY_HEADERS, "Content-Security-Policy": self._form_csp},
        )

    def _confirmation(self, shown: LinkPage) -> str:
        person = shown.person
        name, username = html.escape(person.display_name), html.escape(person.username)
        avatar = ""
        if person.avatar_url and person.avatar_url.startswith(AVATAR_HOST):
            avatar = (
                f"<img src='{html.escape(person.avatar_url, quote=True)}' alt='' "
                "width=64 height=64>"
            )
        if shown.proves_identity:
            button = "Sign in with Discord to confirm it is you"
            how = (
                "Discord will confirm it: only the Discord account this link was made for "
                "can continue."
            )
        else:
            button = f"I am {name}: continue to Spotify" if name else "It is me: continue"
            how = "Encore cannot check this for you, so please do."
        whose = (
            f"This personal link is for <b>{name}</b> (@{username}) on Discord."
            if person.username
            else "This personal link is for the Discord account that ran /link."  # an old link
        )
        until = shown.expires_at.astimezone(dt.UTC).strftime("%H:%M UTC")
        minutes = int(LINK_LIFETIME.total_seconds() // 60)
        return (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width'>"
            f"<title>Link Spotify for {name} · Encore</title><style>{_STYLE}</style></head><body>"
            "<h1>Link your Spotify account to Encore</h1>"
            f"<p class=who>{avatar}<span>{whose}</span></p>"
            f"<p><b>Continue only if that is you.</b> If someone sent you their link, close "
            f"this page: it would give them your Spotify account. {how}</p>"
            "<form method=post>"
            f"<input type=hidden name=confirm value='{html.escape(shown.form_token)}'>"
            f"<button type=submit>{button}</button></form>"
            f"<p class=small>The link works once, for {minutes} minutes (until {until}).</p>"
            "</body></html>"
        )

    # -- POST /link/{nonce}: it is me --------------------------------------------------------

    async def confirm(self, request: web.Request) -> StreamResponse:
        if not self._from_our_page(request):
            # Someone's own link (and its form token) posted from another site would bind
            # the visitor's browser to it without them ever seeing whose link it is.
            return page(
                403,
                "This confirmation did not come from Encore's page",
                "Nothing was stored. Open the personal link from your DM and confirm there.",
            )
        try:
            async with asyncio.timeout(self._read_timeout):
                form = await request.post()
        except TimeoutError:
            return page(408, "This took too long", "Open the personal link from your DM again.")
        token = form.get("confirm")
        try:
            step = await self._links.confirm(
                request.match_info["nonce"],
                token if isinstance(token, str) else "",
                request.cookies.get(self.cookie),
            )
        except LinkPageError as error:
            return page(error.status, error.title, error.message)
        return self._go(step)

    # -- GET /discord/callback: Discord says who signed in -----------------------------------

    async def discord_callback(self, request: web.Request) -> StreamResponse:
        query = request.query
        if query.get("error"):
            metrics.LINKS.labels("discord_denied").inc()
            return page(
                200 if query["error"] == "access_denied" else 400,
                "Nothing was linked",
                "You did not sign in to Discord, so nothing was stored. Open your personal "
                "link again when you want to continue.",
            )
        code, state = self._code_and_state(request)
        if code is None or state is None:
            return _nothing_came_back()
        try:
            step = await self._links.discord_signed_in(
                code, state, request.cookies.get(self.cookie)
            )
        except LinkPageError as error:
            return page(error.status, error.title, error.message)
        return self._go(step)

    # -- GET /callback: Spotify's consent ------------------------------------------------------

    async def spotify_callback(self, request: web.Request) -> StreamResponse:
        query = request.query
        if query.get("error"):
            metrics.LINKS.labels("denied").inc()
            return page(
                200 if query["error"] == "access_denied" else 400,
                "Nothing was linked",
                "You did not allow Encore to use your Spotify account, so nothing was stored. "
                "Run /link in Discord whenever you change your mind.",
            )
        code, state = self._code_and_state(request)
        if code is None or state is None:
            return _nothing_came_back()
        try:
            linked = await self._links.complete(code, state, request.cookies.get(self.cookie))
        except LinkPageError as error:
            return page(error.status, error.title, error.message)
        response = page(
            200,
            f"Linked as {linked.display_name}",
            "You can close this tab and go back to Discord.",
        )
        response.del_cookie(self.cookie, path="/")
        return response

    def _from_our_page(self, request: web.Request) -> bool:
        """Browsers say where a form post comes from (`Sec-Fetch-Site`, `Origin`); one from
        another site is refused. A client that says nothing (not a browser) is let through:
        the form token still binds the post to the link."""
        fetched_from = request.headers.get("Sec-Fetch-Site")
        if fetched_from is not None and fetched_from not in ("same-origin", "none"):
            return False
        origin = request.headers.get("Origin")
        return origin is None or origin == self._origin

    @staticmethod
    def _code_and_state(request: web.Request) -> tuple[str | None, str | None]:
        code, state = request.query.get("code", ""), request.query.get("state", "")
        if not code or not state or len(code) > MAX_CODE or len(state) > MAX_STATE:
            return None, None
        return code, state

    def _go(self, step: NextStep) -> StreamResponse:
        response = web.Response(status=303, headers={**SECURITY_HEADERS, "Location": step.url})
        if step.browser_cookie is not None:
            response.set_cookie(
                self.cookie,
                step.browser_cookie,
                max_age=int(LINK_LIFETIME.total_seconds()),
                path="/",
                httponly=True,
                samesite="Lax",  # sent on the top-level return from Discord and Spotify
                secure=self._secure,
            )
        return response


def _nothing_came_back() -> StreamResponse:
    return page(
        400,
        "This sign-in could not be verified",
        "The page was opened without what Spotify or Discord sends back. Nothing was stored; "
        "run /link in Discord for a new link.",
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
