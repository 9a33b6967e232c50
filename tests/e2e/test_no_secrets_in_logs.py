"""No secret in any log line at any level: the end-to-end flows run with every logger at
DEBUG through Encore's own log handler, and every line is searched for every secret the
test can know (interaction tokens, nonces, codes, states, PKCE verifiers, cookies, tokens,
configured secrets, ciphertexts)."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select, update

from bot import logs
from db.models import LinkRequest, SpotifyLink
from sandbox.browser import Browser, confirm_token
from sandbox.harness import Sandbox
from tests.drains import outbox_drained


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.secrets: set[str] = set()

    def know(self, *values: str | bytes | None) -> None:
        for value in values:
            if isinstance(value, bytes):
                value = value.decode("ascii", "replace")
            if value and len(value) >= 8:
                self.secrets.add(value)

    def know_query(self, url: str | None, *names: str) -> None:
        query = parse_qs(urlsplit(url or "").query)
        for name in names:
            self.know(*query.get(name, []))

    @property
    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()


@pytest.fixture
async def captured(clean_database: str) -> AsyncIterator[tuple[Sandbox, Captured]]:
    """Encore's production log set-up at DEBUG, then every logger opened to DEBUG too (the
    set-up quiets discord.http: the test asks for more than production does)."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    capture = Captured()
    logs.configure("DEBUG", "text")
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(capture.stream)
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            logger.setLevel(logging.DEBUG)
    try:
        async with Sandbox(clean_database) as sandbox:
            yield sandbox, capture
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


async def test_no_secret_reaches_any_log_line(captured: tuple[Sandbox, Captured]) -> None:
    sandbox, capture = captured
    alice, shy = await sandbox.user("alice"), await sandbox.user("shy", dms_open=False)
    public = sandbox.settings.public_url

    # The whole link flow, step by step, learning each secret as it is handed out.
    url = await sandbox.personal_link(alice)
    capture.know(url.rsplit("/", 1)[-1])
    async with Browser() as browser:
        _, page, _ = await browser.get(url)
        capture.know(confirm_token(page))
        _, _, to_discord = await browser.post(url, {"confirm": confirm_token(page) or ""})
        capture.know_query(to_discord, "state", "code_challenge")
        back = await sandbox.discord.authorize(to_discord or "", alice)
        capture.know_query(back, "code", "state")
        for cookie in browser.http.cookie_jar:
            capture.know(cookie.value)
        _, _, consent = await browser.get(back)
        capture.know_query(consent, "state", "code_challenge")
        callback = await sandbox.spotify.authorize(consent or "", "alice")
        capture.know_query(callback, "code", "state")
        async with sandbox.services.sessions() as session:
            request = await session.get(LinkRequest, url.rsplit("/", 1)[-1])
            assert request is not None
            for ciphertext in (request.discord_verifier, request.spotify_verifier):
                assert ciphertext is not None
                capture.know(ciphertext, sandbox.services.cipher.decrypt(ciphertext))
        # The callback's error paths first: forged, tampered, from another browser.
        query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
        for broken in (
            {"code": query["code"], "state": query["state"] + "x"},
            {"code": "forged-code-1234567890", "state": query["state"]},
            {"state": query["state"]},
        ):
            assert (await browser.get(f"{public}/callback?{urlencode(broken)}"))[0] == 400
        async with Browser() as elsewhere:
            assert (await elsewhere.get(callback))[0] == 400
            assert (await elsewhere.get(f"{public}/link/{'A' * 32}\x00"))[0] in (400, 404)
        assert (await browser.get(callback))[0] == 200  # linked
        assert (await browser.get(callback))[0] == 410  # a replay

    # Commands: deferred replies and followups, a button, DMs (a closed DM puts the link in
    # the reply), and a token refresh.
    reply = await sandbox.slash(alice, "playlists")
    assert reply.embeds
    await sandbox.press(alice, reply, "›")
    await sandbox.slash(alice, "likes-import")
    shy_reply = await sandbox.slash(shy, "link")
    shy_link = sandbox.link_in(shy_reply)
    assert shy_link is not None
    capture.know(shy_link.rsplit("/", 1)[-1])
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            update(SpotifyLink)
            .where(SpotifyLink.discord_user_id == alice)
            .values(access_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))
        )
    await sandbox.slash(alice, "account")
    await sandbox.services.spotify.as_user(alice, lambda sp: sp.me())  # refreshed
    assert sandbox.database_url is not None
    await outbox_drained(sandbox.database_url)

    # What the platforms issued and the database holds.
    for interaction in await sandbox.discord.interactions():
        capture.know(interaction["token"])
    emulator = sandbox.discord_emulator
    capture.know(*emulator.oauth2.access, *emulator.oauth2.refresh)  # Discord bearer tokens
    spotify = sandbox.spotify_emulator.state.tokens  # every Spotify token and code issued
    capture.know(*spotify.access, *spotify.refresh, *spotify.codes)
    async with sandbox.services.sessions() as session:
        for link in (await session.scalars(select(SpotifyLink))).all():
            cipher = sandbox.services.cipher
            capture.know(link.access_token, link.refresh_token)
            capture.know(cipher.decrypt(link.access_token), cipher.decrypt(link.refresh_token))
    settings = sandbox.settings
    for secret in (
        settings.discord_token,
        settings.spotify_client_secret,
        settings.discord_client_secret,
        *settings.encryption_keys,
    ):
        if secret is not None:
            capture.know(secret.get_secret_value())

    lines = capture.lines
    assert any(" discord.http:" in line for line in lines)  # DEBUG lines were captured...
    assert any("WebSocket Event" in line for line in lines)  # ...gateway payloads too
    leaks = [
        (secret[:12] + "…", line[:200])
        for line in lines
        for secret in capture.secrets
        if secret in line
    ]
    assert not leaks, f"{len(leaks)} lines hold a secret, e.g. {leaks[:5]}"
    assert any("/link/[redacted]" in line for line in lines)
    assert len(capture.secrets) > 20  # the test knew enough to mean something
