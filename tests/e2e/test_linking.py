"""Account linking end to end: the DM link, Spotify's consent, the callback, tokens, unlink."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
import subprocess
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url

from bot.errors import NeedsRelink, SpotifyUnavailable
from db.models import LinkRequest, OutboxMessage, SpotifyLink
from sandbox.browser import Browser, confirm_token, is_discord_authorize
from sandbox.harness import Sandbox, nonce_of
from tests.drains import outbox_drained


async def stored_link(sandbox: Sandbox, user: int) -> SpotifyLink | None:
    async with sandbox.services.sessions() as session:
        link: SpotifyLink | None = await session.get(SpotifyLink, user)
        return link


async def link_count(sandbox: Sandbox) -> int:
    async with sandbox.services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(SpotifyLink)) or 0)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with Browser() as opened:
        yield opened


async def personal_link(sandbox: Sandbox, user: int) -> str:
    await sandbox.slash(user, "link")
    url: str | None = sandbox.link_in_dms(await sandbox.dms(user))
    assert url is not None
    return url


async def authorize_url(sandbox: Sandbox, user: int, browser: Browser) -> str:
    """Spotify's consent URL, as `user` reaches it: the link page, its confirmation, and
    Discord's sign-in as `user`."""
    url = await personal_link(sandbox, user)
    status, page, _ = await browser.get(url)
    token = confirm_token(page)
    assert status == 200 and token is not None, page
    status, _, location = await browser.post(url, {"confirm": token})
    assert status == 303 and location
    if is_discord_authorize(location):
        status, _, location = await browser.get(await sandbox.discord.authorize(location, user))
        assert status == 303 and location
    return str(location)


async def callback_url(sandbox: Sandbox, user: int, spotify_user: str, browser: Browser) -> str:
    location = await authorize_url(sandbox, user, browser)
    return str(await sandbox.spotify.authorize(location, spotify_user))


async def token_requests(sandbox: Sandbox, grant_type: str) -> int:
    log = await sandbox.spotify.requests(path="/api/token")
    return sum(1 for entry in log if entry.get("grant_type") == grant_type)


# -- the personal link ----------------------------------------------------------------------


async def test_link_replies_privately_and_sends_a_personal_link_by_dm(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    reply = await sandbox.slash(alice, "link")
    assert reply.ephemeral and "direct message" in reply.text
    dm = (await sandbox.dms(alice))[-1]
    url = sandbox.link_in_dms([dm])
    assert url and url.startswith(f"{sandbox.settings.public_url}/link/")
    assert "10 minutes" in dm["content"]


async def test_closed_dms_put_the_link_in_the_ephemeral_reply(sandbox: Sandbox) -> None:
    shy = await sandbox.user("shy", dms_open=False)
    reply = await sandbox.slash(shy, "link")
    assert reply.ephemeral
    assert sandbox.link_in(reply) is not None
    assert await sandbox.dms(shy) == []


async def test_link_run_again_and_again_is_one_link_and_at_most_three_dms(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    replies = [await sandbox.slash(alice, "link") for _ in range(5)]
    dms = [m for m in await sandbox.dms(alice) if sandbox.link_in_dms([m])]
    assert len(dms) == 3
    links = {sandbox.link_in_dms([m]) for m in dms}
    assert links == {sandbox.link_in(replies[-1])}  # the same link, in the private reply
    assert "already sent you this personal link" in replies[-1].text and replies[-1].ephemeral
    async with sandbox.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LinkRequest)) == 1


async def test_link_asks_spotify_for_only_the_scopes_the_features_use(
    sandbox: Sandbox, browser: Browser
) -> None:
    alice = await sandbox.user("alice")
    query = parse_qs(urlsplit(await authorize_url(sandbox, alice, browser)).query)
    assert set(query["scope"][0].split()) == {
        "user-read-private",
        "playlist-read-private",
        "playlist-read-collaborative",
        "user-library-read",
        "user-library-modify",
        "user-read-currently-playing",
        "user-read-playback-state",
        "user-modify-playback-state",
        # for the release radar and listening features (issues 17 and 18)
        "user-follow-read",
        "user-top-read",
        "user-read-recently-played",
        "playlist-modify-private",
        "playlist-modify-public",
    }
    assert query["redirect_uri"] == [f"{sandbox.settings.public_url}/callback"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43


async def test_linking_stores_the_account_and_confirms_by_dm(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    outcome = await sandbox.link(alice, "alice")
    assert outcome.status == 200 and "Linked as Alice" in outcome.page
    link = await stored_link(sandbox, alice)
    assert link is not None and link.status == "active"
    assert link.display_name == "Alice" and link.spotify_account_id
    assert "user-library-modify" in link.scopes.split()
    await sandbox.wait_for_dm(alice, "is now linked")
    reply = await sandbox.slash(alice, "account")
    assert reply.ephemeral and "Alice" in reply.text and "Renew within" in reply.text


async def test_unknown_and_expired_links_get_a_page_saying_what_to_do(sandbox: Sandbox) -> None:
    status, page, _ = await sandbox.get(f"{sandbox.settings.public_url}/link/not-a-real-nonce")
    assert status == 404 and "/link" in page
    alice = await sandbox.user("alice")
    url = await personal_link(sandbox, alice)
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            update(LinkRequest)
            .where(LinkRequest.nonce == nonce_of(url))
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    status, page, location = await sandbox.get(url)
    assert status == 410 and "expired" in page and location is None


async def test_a_link_works_once(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    outcome = await sandbox.link(alice, "alice")
    assert outcome.link_url is not None
    status, page, _ = await sandbox.get(outcome.link_url)
    assert status == 410 and "already used" in page


async def test_pages_carry_security_headers(sandbox: Sandbox) -> None:
    async with sandbox.http.get(f"{sandbox.settings.public_url}/link/nope") as response:
        headers = response.headers
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"


async def test_link_pages_are_rate_limited_per_address(sandbox: Sandbox) -> None:
    statuses = []
    for _ in range(40):
        status, _, _ = await sandbox.get(f"{sandbox.settings.public_url}/link/nope")
        statuses.append(status)
    assert statuses[0] == 404 and statuses[-1] == 429


# -- the callback ----------------------------------------------------------------------------


async def test_denied_consent_stores_nothing(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    outcome = await sandbox.link(alice, "alice", deny=True)
    assert "nothing was stored" in outcome.page
    assert await link_count(sandbox) == 0


async def test_missing_or_tampered_code_and_state_are_400_and_store_nothing(
    sandbox: Sandbox, browser: Browser
) -> None:
    alice = await sandbox.user("alice")
    callback = await callback_url(sandbox, alice, "alice", browser)
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    base = f"{sandbox.settings.public_url}/callback"
    for broken in (
        {},
        {"code": query["code"]},
        {"state": query["state"]},
        {"code": query["code"], "state": query["state"] + "x"},
        {"code": query["code"], "state": "a.b.c.d"},
        {"code": "forged-code", "state": query["state"]},
    ):
        status, page, _ = await browser.get(f"{base}?{urlencode(broken)}")
        assert status == 400, (broken, status)
        assert "Nothing was stored" in page
    assert await link_count(sandbox) == 0


async def test_state_from_another_user_is_rejected_and_changes_nothing(
    sandbox: Sandbox, browser: Browser
) -> None:
    alice, mallory = await sandbox.user("alice"), await sandbox.user("mallory")
    callback = await callback_url(sandbox, alice, "alice", browser)
    nonce, _, expires, signature = parse_qs(urlsplit(callback).query)["state"][0].split(".")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    forged = ".".join([nonce, str(mallory), expires, signature])
    status, _, _ = await browser.get(
        f"{sandbox.settings.public_url}/callback?{urlencode({'code': code, 'state': forged})}"
    )
    assert status == 400
    assert await link_count(sandbox) == 0
    # Mallory's own state does not open Alice's nonce either.
    mallorys_consent = await authorize_url(sandbox, mallory, browser)
    mallory_state = parse_qs(urlsplit(mallorys_consent).query)["state"][0]
    mixed = ".".join([nonce, *mallory_state.split(".")[1:]])
    status, _, _ = await browser.get(
        f"{sandbox.settings.public_url}/callback?{urlencode({'code': code, 'state': mixed})}"
    )
    assert status == 400
    assert await link_count(sandbox) == 0


async def test_replayed_state_is_rejected_and_changes_nothing(
    sandbox: Sandbox, browser: Browser
) -> None:
    alice = await sandbox.user("alice")
    callback = await callback_url(sandbox, alice, "alice", browser)
    assert (await browser.get(callback))[0] == 200
    before = await stored_link(sandbox, alice)
    status, page, _ = await browser.get(callback)
    assert status in (400, 410) and "already used" in page
    after = await stored_link(sandbox, alice)
    assert before is not None and after is not None
    assert (after.updated_at, after.access_token) == (before.updated_at, before.access_token)


async def test_the_same_callback_arriving_twice_at_once_links_once(
    sandbox: Sandbox, browser: Browser
) -> None:
    alice = await sandbox.user("alice")
    callback = await callback_url(sandbox, alice, "alice", browser)
    results = await asyncio.gather(browser.get(callback), browser.get(callback))
    assert sorted(status for status, _, _ in results)[0] == 200
    assert sum(1 for status, _, _ in results if status == 200) == 1
    assert await link_count(sandbox) == 1
    assert sandbox.database_url is not None
    await outbox_drained(sandbox.database_url)  # every DM queued has been sent
    confirmations = [m for m in await sandbox.dms(alice) if "is now linked" in m["content"]]
    assert len(confirmations) == 1


async def test_an_expired_state_is_refused(sandbox: Sandbox, browser: Browser) -> None:
    alice = await sandbox.user("alice")
    callback = await callback_url(sandbox, alice, "alice", browser)
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            update(LinkRequest).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    status, page, _ = await browser.get(callback)
    assert status == 410 and "expired" in page
    assert await link_count(sandbox) == 0


async def test_a_failed_token_exchange_is_a_502_page(sandbox: Sandbox, browser: Browser) -> None:
    alice = await sandbox.user("alice")
    callback = await callback_url(sandbox, alice, "alice", browser)
    await sandbox.spotify.add_fault(path="/api/token", status=503, grant_type="authorization_code")
    status, page, _ = await browser.get(callback)
    assert status == 502 and "Nothing was stored" in page
    assert await link_count(sandbox) == 0


async def test_development_mode_403_explains_the_allowlist_by_page_and_dm(sandbox: Sandbox) -> None:
    visitor = await sandbox.user("visitor")
    outcome = await sandbox.link(visitor, "outsider")
    assert outcome.status == 403
    assert "allowlist" in outcome.page and "5 users" in outcome.page
    await sandbox.wait_for_dm(visitor, "allowlist")
    assert await link_count(sandbox) == 0


async def test_a_spotify_account_linked_elsewhere_moves_and_tells_the_previous_holder(
    sandbox: Sandbox,
) -> None:
    first, second = await sandbox.user("first"), await sandbox.user("second")
    assert (await sandbox.link(first, "alice")).status == 200
    assert (await sandbox.link(second, "alice")).status == 200
    assert await stored_link(sandbox, first) is None
    assert await stored_link(sandbox, second) is not None
    await sandbox.wait_for_dm(first, "no longer linked")


# -- tokens ------------------------------------------------------------------------------------


async def test_a_database_dump_holds_no_plaintext_token(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    link = await stored_link(sandbox, alice)
    assert link is not None
    cipher = sandbox.services.cipher
    secrets = [cipher.decrypt(link.access_token), cipher.decrypt(link.refresh_token)]
    assert all(len(secret) > 10 for secret in secrets)
    assert sandbox.settings.database_url is not None
    url = make_url(sandbox.settings.database_url.get_secret_value())
    if shutil.which("pg_dump"):
        dump = subprocess.run(
            [
                "pg_dump",
                "-h",
                url.host or "127.0.0.1",
                "-p",
                str(url.port or 5432),
                "-U",
                url.username or "postgres",
                "--data-only",
                url.database or "",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    else:  # the same rows, as text, through SQL
        async with sandbox.services.sessions() as session:
            rows = (await session.execute(select(SpotifyLink))).scalars().all()
            dump = " ".join(repr(vars(row)) for row in rows)
    assert "spotify_links" in dump or "Alice" in dump
    for secret in secrets:
        assert secret not in dump


async def test_codes_tokens_and_states_never_reach_the_logs(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, browser: Browser
) -> None:
    from bot.logs import ScrubFilter

    caplog.handler.addFilter(ScrubFilter())
    caplog.set_level(logging.DEBUG)
    alice = await sandbox.user("alice")
    callback = await callback_url(sandbox, alice, "alice", browser)
    query = parse_qs(urlsplit(callback).query)
    assert (await browser.get(callback))[0] == 200
    await sandbox.services.spotify.as_user(alice, lambda sp: sp.me())
    link = await stored_link(sandbox, alice)
    assert link is not None
    secrets = [
        query["code"][0],
        query["state"][0],
        sandbox.services.cipher.decrypt(link.access_token),
    ]
    logged = caplog.text
    for secret in secrets:
        assert secret not in logged


async def expire_access_token(sandbox: Sandbox, user: int) -> None:
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            update(SpotifyLink)
            .where(SpotifyLink.discord_user_id == user)
            .values(access_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))
        )


async def test_an_expiring_token_is_refreshed_once_for_many_concurrent_calls(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    await expire_access_token(sandbox, alice)
    before = await token_requests(sandbox, "refresh_token")
    results = await asyncio.gather(
        *(sandbox.services.spotify.as_user(alice, lambda sp: sp.me()) for _ in range(30))
    )
    assert all(result["display_name"] == "Alice" for result in results)
    assert await token_requests(sandbox, "refresh_token") - before == 1


async def test_a_401_gets_one_refresh_and_one_retry(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    await sandbox.spotify.expire_tokens("alice")  # Spotify-side expiry: our copy looks valid
    await sandbox.spotify.clear_requests()
    me = await sandbox.services.spotify.as_user(alice, lambda sp: sp.me())
    assert me["display_name"] == "Alice"
    log = await sandbox.spotify.requests()
    assert [entry["status"] for entry in log if entry["path"].rstrip("/") == "/v1/me"] == [401, 200]
    assert await token_requests(sandbox, "refresh_token") == 1


async def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one(sandbox: Sandbox) -> None:
    await sandbox.spotify.settings(rotate_refresh_tokens="never")
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    before = await stored_link(sandbox, alice)
    await expire_access_token(sandbox, alice)
    await sandbox.services.spotify.as_user(alice, lambda sp: sp.me())
    after = await stored_link(sandbox, alice)
    assert before is not None and after is not None
    cipher = sandbox.services.cipher
    assert cipher.decrypt(after.refresh_token) == cipher.decrypt(before.refresh_token)
    assert cipher.decrypt(after.access_token) != cipher.decrypt(before.access_token)


async def test_a_rotated_refresh_token_replaces_the_old_one(sandbox: Sandbox) -> None:
    await sandbox.spotify.settings(rotate_refresh_tokens="always")
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    before = await stored_link(sandbox, alice)
    await expire_access_token(sandbox, alice)
    await sandbox.services.spotify.as_user(alice, lambda sp: sp.me())
    after = await stored_link(sandbox, alice)
    assert before is not None and after is not None
    cipher = sandbox.services.cipher
    assert cipher.decrypt(after.refresh_token) != cipher.decrypt(before.refresh_token)


async def test_invalid_grant_marks_the_link_and_dms_the_user_once(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    await sandbox.spotify.revoke_tokens("alice")
    for _ in range(2):
        await expire_access_token(sandbox, alice)
        with pytest.raises(NeedsRelink):
            await sandbox.services.spotify.as_user(alice, lambda sp: sp.me())
    link = await stored_link(sandbox, alice)
    assert link is not None and link.status == "needs_relink"  # kept, not deleted
    await sandbox.wait_for_dm(alice, "no longer accepts")
    async with sandbox.services.sessions() as session:
        notes = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "relink")
        )
    assert notes == 1
    reply = await sandbox.slash(alice, "account")
    assert "/link" in reply.text
    # Linking again heals it.
    assert (await sandbox.link(alice, "alice")).status == 200
    healed = await stored_link(sandbox, alice)
    assert healed is not None and healed.status == "active"


async def test_an_outage_during_refresh_never_touches_the_link(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    await expire_access_token(sandbox, alice)
    before = await stored_link(sandbox, alice)
    await sandbox.spotify.add_fault(path="/api/token", status=500, grant_type="refresh_token")
    with pytest.raises(SpotifyUnavailable):
        await sandbox.services.spotify.as_user(alice, lambda sp: sp.me())
    after = await stored_link(sandbox, alice)
    assert before is not None and after is not None
    assert after.status == "active" and after.refresh_token == before.refresh_token


async def test_the_expiry_reminder_is_sent_once_whatever_the_number_of_workers(
    sandbox: Sandbox,
) -> None:
    alice, bob = await sandbox.user("alice"), await sandbox.user("bob")
    await sandbox.link(alice, "alice")
    await sandbox.link(bob, "bob")
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            update(SpotifyLink)
            .where(SpotifyLink.discord_user_id == alice)
            .values(authorized_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=176))
        )
    sent = await asyncio.gather(*(sandbox.services.links.remind_expiring() for _ in range(4)))
    assert sum(sent) == 1
    assert await sandbox.services.links.remind_expiring() == 0
    dm = await sandbox.wait_for_dm(alice, "stop accepting")
    assert "6 days" in dm["content"] or "5 days" in dm["content"]
    assert not [m for m in await sandbox.dms(bob) if "stop accepting" in m["content"]]


# -- unlink and forget -----------------------------------------------------------------------------


async def test_unlink_forgets_the_tokens(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    reply = await sandbox.slash(alice, "unlink")
    assert reply.ephemeral and "unlinked" in reply.text
    assert await stored_link(sandbox, alice) is None
    reply = await sandbox.slash(alice, "account")
    assert "/link" in reply.text


async def test_forget_me_deletes_every_row_after_a_confirmation(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    reply = await sandbox.slash(alice, "forget-me")
    assert reply.ephemeral and "cannot be undone" in reply.text
    assert await stored_link(sandbox, alice) is not None  # nothing happens before confirming
    intruder = await sandbox.user("intruder")
    await sandbox.click(intruder, reply.button("Delete everything")["custom_id"], reply.message_id)
    assert await stored_link(sandbox, alice) is not None
    done = await sandbox.click(
        alice, reply.button("Delete everything")["custom_id"], reply.message_id
    )
    assert "deleted" in done.text
    from db.models import USER_TABLES

    async with sandbox.services.sessions() as session:
        for table in USER_TABLES:
            rows = await session.scalar(
                select(func.count()).select_from(table).where(table.c.discord_user_id == alice)
            )
            assert rows == 0, table.name
