"""A person's browser following a personal link through Encore's pages and both platforms'
consent screens: the link page and its confirmation form, Discord's sign-in (when Encore
asks for it), Spotify's consent, and the callbacks.

Each `Browser` keeps its own cookies, as two people's browsers do: a flow confirmed in one
finishes in that one only. Used by the harness, the scale-out test and the benchmarks.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp

from sandbox.discord import DiscordControl
from sandbox.spotify import SpotifyControl

_CONFIRM = re.compile(r"<input type=hidden name=confirm value='([^']*)'>")


@dataclass
class LinkOutcome:
    status: int
    page: str
    link_url: str | None
    stopped_at: str = "callback"  # link | confirm | discord | callback: the last page reached


class Browser:
    def __init__(self) -> None:
        # unsafe: keep cookies of IP-address hosts (127.0.0.1), as browsers do.
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.close()

    async def get(self, url: str) -> tuple[int, str, str | None]:
        async with self.http.get(url, allow_redirects=False) as response:
            return response.status, await response.text(), response.headers.get("Location")

    async def post(
        self, url: str, form: dict[str, str], *, origin: str | None = None
    ) -> tuple[int, str, str | None]:
        """A form post, from a page of `origin` (by default the form's own site, as when a
        person presses the page's button): browsers send it as `Origin`."""
        parts = urlsplit(url)
        headers = {"Origin": origin or f"{parts.scheme}://{parts.netloc}"}
        async with self.http.post(
            url, data=form, headers=headers, allow_redirects=False
        ) as response:
            return response.status, await response.text(), response.headers.get("Location")


def confirm_token(page: str) -> str | None:
    """The hidden value of the link page's confirmation form."""
    found = _CONFIRM.search(page)
    return html.unescape(found.group(1)) if found else None


def is_discord_authorize(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith("/oauth2/authorize")


async def follow_link(
    browser: Browser,
    link_url: str,
    *,
    discord: DiscordControl,
    spotify: SpotifyControl,
    spotify_user: str,
    discord_user: int | None,
    deny: bool = False,
    deny_discord: bool = False,
    scopes: str | None = None,
) -> LinkOutcome:
    """Open the link, confirm it, sign in to Discord as `discord_user` if asked, consent on
    Spotify as `spotify_user` (to `scopes` only, when given: Spotify grants what the consent
    URL asks); the page the browser ends on."""
    status, page, _ = await browser.get(link_url)
    token = confirm_token(page) if status == 200 else None
    if token is None:
        return LinkOutcome(status, page, link_url, "link")
    status, page, location = await browser.post(link_url, {"confirm": token})
    if status != 303 or location is None:
        return LinkOutcome(status, page, link_url, "confirm")
    if is_discord_authorize(location):
        if deny_discord:
            back = await discord.authorize(location, deny=True)
        else:
            if discord_user is None:
                raise ValueError("Encore asks who signed in to Discord: give discord_user")
            back = await discord.authorize(location, discord_user)
        status, page, location = await browser.get(back)
        if status != 303 or location is None:
            return LinkOutcome(status, page, link_url, "discord")
    if scopes is not None:
        location = with_scopes(location, scopes)
    callback = await spotify.authorize(location, spotify_user, deny=deny)
    status, page, _ = await browser.get(callback)
    return LinkOutcome(status, page, link_url, "callback")


def with_scopes(authorize_url: str, scopes: str) -> str:
    """The consent URL asking for `scopes` instead (as an older Encore did)."""
    parts = urlsplit(authorize_url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query["scope"] = scopes
    return parts._replace(query=urlencode(query)).geturl()
