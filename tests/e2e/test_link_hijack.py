"""Only the Discord user who ran /link can complete it: attacks on the personal link, each
refused (or harmless), end to end through both emulators."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from db.models import LinkRequest, SpotifyLink
from sandbox.browser import Browser, confirm_token, is_discord_authorize
from sandbox.harness import Sandbox, nonce_of
from tests.drains import outbox_drained


async def link_of(sandbox: Sandbox, user: int) -> SpotifyLink | None:
    async with sandbox.services.sessions() as session:
        found: SpotifyLink | None = await session.get(SpotifyLink, user)
        return found


async def links_stored(sandbox: Sandbox) -> int:
    async with sandbox.services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(SpotifyLink)) or 0)


async def request_of(sandbox: Sandbox, link_url: str) -> LinkRequest:
    async with sandbox.services.sessions() as session:
        found: LinkRequest | None = await session.get(LinkRequest, nonce_of(link_url))
        assert found is not None
        return found


@pytest.fixture
async def no_discord_sign_in(clean_database: str) -> AsyncIterator[Sandbox]:
    """Encore without DISCORD_CLIENT_SECRET: it cannot ask Discord who opens a link."""
    async with Sandbox(clean_database, discord_sign_in=False) as running:
        yield running


async def test_the_link_page_says_whose_link_it_is_and_opening_it_changes_nothing(
    sandbox: Sandbox,
) -> None:
    mallory = await sandbox.user("mallory")
    url = await sandbox.personal_link(mallory)
    before = await request_of(sandbox, url)
    async with Browser() as browser:
        for _ in range(3):  # a person, Discord's link preview, a mail scanner...
            status, page, _ = await browser.get(url)
            assert status == 200
        async with browser.http.head(url) as response:
            assert response.status == 200
        async with browser.http.get(url) as response:
            csp = response.headers["Content-Security-Policy"]
    assert "This personal link is for <b>mallory</b> (@mallory)" in page
    assert "Continue only if that is you" in page and "Sign in with Discord" in page
    assert "<img src='https://cdn.discordapp.com/" in page  # the avatar Discord shows
    assert "form-action 'self'" in csp and "img-src https://cdn.discordapp.com/" in csp
    assert "script-src" not in csp and "default-src 'none'" in csp
    after = await request_of(sandbox, url)
    for column in ("confirmed_at", "browser_hash", "discord_verifier", "spotify_verifier"):
        assert getattr(before, column) is None and getattr(after, column) is None, column
    assert after.completed_at is None


async def test_a_confirmation_without_the_forms_token_is_refused(sandbox: Sandbox) -> None:
    mallory = await sandbox.user("mallory")
    url = await sandbox.personal_link(mallory)
    async with Browser() as browser:
        for form in ({}, {"confirm": "x" * 43}, {"confirm": "ü" * 10}):
            status, page, location = await browser.post(url, form)
            assert status == 400 and location is None, form
            assert "expired" in page
    assert (await request_of(sandbox, url)).confirmed_at is None


async def test_a_confirmation_posted_from_another_site_is_refused(
    no_discord_sign_in: Sandbox,
) -> None:
    """Mallory's own link and form token, auto-posted by her web page in Carol's browser,
    would send Carol straight to Spotify's consent without her seeing whose link it is."""
    sandbox = no_discord_sign_in
    mallory = await sandbox.user("mallory")
    url = await sandbox.personal_link(mallory)
    async with Browser() as mallorys:
        _, page, _ = await mallorys.get(url)
    token = confirm_token(page) or ""
    async with Browser() as carols:
        status, page, location = await carols.post(
            url, {"confirm": token}, origin="https://mallory.example"
        )
        assert status == 403 and location is None and "Nothing was stored" in page
        async with carols.http.post(
            url, data={"confirm": token}, headers={"Sec-Fetch-Site": "cross-site"}
        ) as response:
            assert response.status == 403
        assert not list(carols.http.cookie_jar)  # no binding was given to Carol's browser
    assert (await request_of(sandbox, url)).confirmed_at is None


async def test_a_forwarded_link_refuses_any_other_discord_account_and_stays_usable(
    sandbox: Sandbox,
) -> None:
    """The attack: Mallory runs /link and sends her link to Carol. Carol opens it, signs in
    to Discord as herself, and would have signed in to Spotify next."""
    mallory, carol = await sandbox.user("mallory"), await sandbox.user("carol")
    url = await sandbox.personal_link(mallory)
    outcome = await sandbox.follow_link(url, "carol", discord_user=carol)
    assert outcome.stopped_at == "discord" and outcome.status == 403
    assert "This link is for someone else" in outcome.page
    assert "made for mallory (@mallory)" in outcome.page
    assert "signed in to Discord as carol (@carol)" in outcome.page
    assert "Nothing was stored" in outcome.page
    assert await links_stored(sandbox) == 0
    assert (await request_of(sandbox, url)).discord_verified_at is None
    spotify_asked = await sandbox.spotify.requests(path="/authorize")
    assert spotify_asked == []  # Carol never even reached Spotify's consent
    # The link is still Mallory's to use.
    mine = await sandbox.follow_link(url, "dave", discord_user=mallory)
    assert mine.status == 200 and "Linked as" in mine.page
    link = await link_of(sandbox, mallory)
    assert link is not None and link.spotify_account_id != "carol"


async def test_a_forwarded_spotify_consent_url_finishes_nothing_in_another_browser(
    sandbox: Sandbox,
) -> None:
    """Mallory passes Discord's check herself, then sends Carol the Spotify consent URL
    she was redirected to: Carol's browser never confirmed the link."""
    mallory = await sandbox.user("mallory")
    url = await sandbox.personal_link(mallory)
    async with Browser() as mallorys, Browser() as carols:
        _, page, _ = await mallorys.get(url)
        status, _, location = await mallorys.post(url, {"confirm": confirm_token(page) or ""})
        assert status == 303 and location and is_discord_authorize(location)
        back = await sandbox.discord.authorize(location, mallory)
        status, _, consent_url = await mallorys.get(back)
        assert status == 303 and consent_url
        callback = await sandbox.spotify.authorize(consent_url, "carol")
        status, page, _ = await carols.get(callback)
        assert status == 400 and "another browser" in page and "Nothing was stored" in page
    assert await links_stored(sandbox) == 0
    assert (await sandbox.spotify.requests(path="/api/token")) == []  # no code was redeemed


async def test_a_forwarded_discord_sign_in_url_finishes_nothing_in_another_browser(
    sandbox: Sandbox,
) -> None:
    mallory, carol = await sandbox.user("mallory"), await sandbox.user("carol")
    url = await sandbox.personal_link(mallory)
    async with Browser() as mallorys, Browser() as carols:
        _, page, _ = await mallorys.get(url)
        _, _, location = await mallorys.post(url, {"confirm": confirm_token(page) or ""})
        assert location is not None and is_discord_authorize(location)
        for who in (carol, mallory):  # whoever Carol signs in as, in her own browser
            status, page, _ = await carols.get(await sandbox.discord.authorize(location, who))
            assert status == 400 and "another browser" in page
    assert await links_stored(sandbox) == 0
    assert (await request_of(sandbox, url)).discord_verified_at is None


async def test_a_stolen_unused_code_cannot_be_redeemed_with_another_state(
    sandbox: Sandbox,
) -> None:
    """Alice's callback URL leaks before she loads it; Mallory takes its code to her own
    flow (her state, her browser): the code was bound to Alice's PKCE verifier."""
    alice, mallory = await sandbox.user("alice"), await sandbox.user("mallory")

    async def consent_url(user: int, browser: Browser) -> str:
        url = await sandbox.personal_link(user)
        _, page, _ = await browser.get(url)
        _, _, location = await browser.post(url, {"confirm": confirm_token(page) or ""})
        assert location is not None
        _, _, consent = await browser.get(await sandbox.discord.authorize(location, user))
        assert consent is not None
        return consent

    async with Browser() as alices, Browser() as mallorys:
        alices_callback = await sandbox.spotify.authorize(await consent_url(alice, alices), "alice")
        stolen_code = parse_qs(urlsplit(alices_callback).query)["code"][0]
        mallorys_state = parse_qs(urlsplit(await consent_url(mallory, mallorys)).query)["state"][0]
        forged = f"{sandbox.settings.public_url}/callback?" + urlencode(
            {"code": stolen_code, "state": mallorys_state}
        )
        status, page, _ = await mallorys.get(forged)
    assert status == 400 and "Spotify did not accept this sign-in" in page
    assert "Nothing was stored" in page
    assert await links_stored(sandbox) == 0
    exchanges = await sandbox.spotify.requests(path="^/api/token$")
    assert [entry["status"] for entry in exchanges] == [400]  # refused: code_verifier


async def test_a_denied_discord_sign_in_stores_nothing(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    url = await sandbox.personal_link(alice)
    async with Browser() as browser:
        _, page, _ = await browser.get(url)
        _, _, location = await browser.post(url, {"confirm": confirm_token(page) or ""})
        assert location is not None
        status, page, _ = await browser.get(await sandbox.discord.authorize(location, deny=True))
    assert status == 200 and "Nothing was linked" in page
    assert await links_stored(sandbox) == 0


async def test_a_forged_or_replayed_discord_state_is_refused(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    url = await sandbox.personal_link(alice)
    async with Browser() as browser:
        _, page, _ = await browser.get(url)
        _, _, location = await browser.post(url, {"confirm": confirm_token(page) or ""})
        assert location is not None
        back = await sandbox.discord.authorize(location, alice)
        code_and_state = back.split("?", 1)[1]
        base = f"{sandbox.settings.public_url}/discord/callback?"
        forged = code_and_state.replace("state=", "state=x", 1)
        status, page, _ = await browser.get(base + forged)
        assert status == 400 and "Nothing was stored" in page
        status, _, consent = await browser.get(back)
        assert status == 303 and consent
        status, page, _ = await browser.get(back)  # Discord's code works once
        assert status == 400
    assert await links_stored(sandbox) == 0


async def test_the_moved_dm_names_who_took_the_spotify_account_without_pinging(
    sandbox: Sandbox,
) -> None:
    first, second = await sandbox.user("first"), await sandbox.user("second")
    await sandbox.spotify.update_user("alice", display_name="**@everyone** [free](https://x)")
    assert (await sandbox.link(first, "alice")).status == 200
    assert (await sandbox.link(second, "alice")).status == 200
    assert await link_of(sandbox, first) is None and await link_of(sandbox, second) is not None
    moved = await sandbox.wait_for_dm(first, "no longer linked")
    assert f"<@{second}> (second)" in moved["content"]
    assert moved["allowed_mentions"] == {"parse": []}  # the mention names, never pings
    # Spotify names are shown as typed, never as markdown or a mention.
    assert r"\*\*@​everyone\*\* \[free\]\(https\://x\)" in moved["content"]
    linked = await sandbox.wait_for_dm(second, "is now linked")
    assert "**@everyone**" not in linked["content"] and "@​everyone" in linked["content"]
    assert sandbox.database_url is not None
    await outbox_drained(sandbox.database_url)


async def test_without_a_discord_secret_the_page_warns_and_the_flow_still_works(
    no_discord_sign_in: Sandbox,
) -> None:
    sandbox = no_discord_sign_in
    mallory, carol = await sandbox.user("mallory"), await sandbox.user("carol")
    url = await sandbox.personal_link(mallory)
    async with Browser() as browser:
        status, page, _ = await browser.get(url)
        assert status == 200 and "This personal link is for <b>mallory</b>" in page
        assert "I am mallory: continue to Spotify" in page
        assert "Encore cannot check this for you, so please do" in page
        # Straight to Spotify (with PKCE), never to Discord.
        _, _, location = await browser.post(url, {"confirm": confirm_token(page) or ""})
        assert location is not None and not is_discord_authorize(location)
        assert "code_challenge=" in location
    # A consent URL forwarded to another browser still finishes nothing.
    async with Browser() as carols:
        status, page, _ = await carols.get(await sandbox.spotify.authorize(location, "carol"))
        assert status == 400 and "another browser" in page
    assert await links_stored(sandbox) == 0
    outcome = await sandbox.link(carol, "carol")
    assert outcome.status == 200 and "Linked as Carol" in outcome.page


@pytest.mark.parametrize(
    ("path", "status", "body", "content_type"),
    [
        ("^/v1/me/?$", 200, "<html><body>Just a moment...</body></html>", "text/html"),
        ("^/v1/me/?$", 200, '{"display_name": "Alice"}', "application/json"),  # no id
        ("^/v1/me/?$", 200, '{"id": 42, "display_name": ["x"]}', "application/json"),
        ("^/v1/me/?$", 200, '["alice"]', "application/json"),
        ("^/v1/me/?$", 502, "<html>502 Bad Gateway</html>", "text/html"),
        ("^/api/token$", 200, "<html>maintenance</html>", "text/html"),
        ("^/api/token$", 200, '{"access_token": 5, "expires_in": "soon"}', "application/json"),
    ],
    ids=[
        "me html",
        "me without id",
        "me wrong types",
        "me a list",
        "me 502 page",
        "token html",
        "token wrong types",
    ],
)
async def test_a_spotify_answer_that_does_not_parse_is_an_outage_page_and_stores_nothing(
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
    path: str,
    status: int,
    body: str,
    content_type: str,
) -> None:
    alice = await sandbox.user("alice")
    grant_type = "authorization_code" if path == "^/api/token$" else None
    await sandbox.spotify.add_fault(
        path, status=status, body=body, content_type=content_type, grant_type=grant_type
    )
    outcome = await sandbox.link(alice, "alice")
    assert outcome.status == 502 and "Nothing was stored" in outcome.page
    assert await links_stored(sandbox) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_two_people_linking_one_spotify_account_at_once_take_turns(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Once a unique-key collision: a 500 whose trace held both encrypted tokens. Now the
    second callback waits for the first and moves the account, with no error at all."""
    first, second = await sandbox.user("first"), await sandbox.user("second")

    async def callback_of(user: int, browser: Browser) -> str:
        url = await sandbox.personal_link(user)
        _, page, _ = await browser.get(url)
        _, _, location = await browser.post(url, {"confirm": confirm_token(page) or ""})
        assert location is not None
        _, _, consent = await browser.get(await sandbox.discord.authorize(location, user))
        assert consent is not None
        return await sandbox.spotify.authorize(consent, "alice")

    async with Browser() as firsts, Browser() as seconds:
        callbacks = [await callback_of(first, firsts), await callback_of(second, seconds)]
        results = await asyncio.gather(firsts.get(callbacks[0]), seconds.get(callbacks[1]))
    assert [status for status, _, _ in results] == [200, 200]
    assert await links_stored(sandbox) == 1
    holder = first if await link_of(sandbox, first) is not None else second
    other = second if holder == first else first
    await sandbox.wait_for_dm(other, "no longer linked")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
