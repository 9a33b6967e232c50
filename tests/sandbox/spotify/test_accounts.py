"""The Accounts service: consent, codes, tokens, refresh rules, the allowlist."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from spotipy.oauth2 import SpotifyOauthError

from sandbox.spotify import SpotifyControl, SpotifyControlError, SpotifyEmulator

from .clients import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT,
    SCOPES,
    call,
    login,
    make_oauth,
    make_sp,
    raises,
)


async def test_authorization_code_flow(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    oauth = make_oauth(emu)
    url = oauth.get_authorize_url(state="s3cret")
    location = await ctl.authorize(url, "alice")
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT
    q = parse_qs(parts.query)
    assert q["state"] == ["s3cret"] and q["code"][0]
    await call(oauth.get_access_token, q["code"][0], as_dict=False, check_cache=False)
    token = oauth.cache_handler.get_cached_token()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    assert token["refresh_token"]
    sp = make_sp(emu, oauth)
    me = await call(sp.me)
    assert me["id"] == "alice" and me["account_id"] and me["display_name"] == "Alice"
    assert "product" not in me and "country" not in me and "email" not in me

    # the code is single-use
    with pytest.raises(SpotifyOauthError) as info:
        await call(make_oauth(emu).get_access_token, q["code"][0], as_dict=False, check_cache=False)
    assert info.value.error == "invalid_grant"
    assert info.value.error_description == "Invalid authorization code"

    # bound to the redirect_uri
    loc2 = await ctl.authorize(url, "alice")
    other = make_oauth(emu, redirect="http://127.0.0.1:9999/callback")
    with pytest.raises(SpotifyOauthError) as info:
        await call(
            other.get_access_token,
            oauth.parse_response_code(loc2),
            as_dict=False,
            check_cache=False,
        )
    assert info.value.error == "invalid_grant"

    # denial
    denied = await ctl.authorize(url, "alice", deny=True)
    assert parse_qs(urlsplit(denied).query) == {"error": ["access_denied"], "state": ["s3cret"]}

    # the request log saw it all
    log = await ctl.requests(path="^/api/token$")
    assert [e["grant_type"] for e in log] == ["authorization_code"] * 3
    assert [e["status"] for e in log] == [200, 400, 400]
    assert log[0]["user"] == "alice"


async def test_authorize_page_and_redirect_rules(emu: SpotifyEmulator) -> None:
    async with aiohttp.ClientSession() as s:
        url = make_oauth(emu).get_authorize_url(state="x")
        async with s.get(url, allow_redirects=False) as r:
            page = await r.text()
            assert r.status == 200 and "sandbox_user=alice" in page and "p237" in page
        for bad in ("http://localhost:8765/callback", "http://example.com/callback"):
            async with s.get(
                make_oauth(emu, redirect=bad).get_authorize_url(), allow_redirects=False
            ) as r:
                assert r.status == 400
        async with s.get(
            make_oauth(emu, redirect="https://bot.example.org/spotify/cb").get_authorize_url()
            + "&sandbox_user=bob",
            allow_redirects=False,
        ) as r:
            assert r.status == 302
            assert r.headers["Location"].startswith("https://bot.example.org/spotify/cb?code=")
        async with s.get(
            url.replace(CLIENT_ID, "someone-else") + "&sandbox_user=bob", allow_redirects=False
        ) as r:
            assert r.status == 400
        # a bad client secret on the token endpoint
        async with s.post(
            emu.accounts_url + "api/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": aiohttp.encode_basic_auth(CLIENT_ID, "wrong")},
        ) as r:
            assert r.status == 400 and (await r.json())["error"] == "invalid_client"
        # client authentication in the form body works too
        async with s.post(
            emu.accounts_url + "api/token",
            data={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        ) as r:
            assert r.status == 200 and "refresh_token" not in await r.json()


async def test_allowed_redirect_uris_setting(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    await ctl.settings(allowed_redirect_uris=[REDIRECT])
    assert (await ctl.authorize(make_oauth(emu).get_authorize_url(), "bob")).startswith(REDIRECT)
    other = make_oauth(emu, redirect="http://127.0.0.1:1234/callback").get_authorize_url()
    with pytest.raises(SpotifyControlError) as info:
        await ctl.authorize(other, "bob")
    assert info.value.status == 400


async def test_expired_access_token_is_401(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    _, sp, _ = await login(emu, ctl, "alice")
    assert (await call(sp.me))["id"] == "alice"
    assert await ctl.expire_tokens("alice") >= 1
    err = await raises(sp.me)
    assert err.http_status == 401 and "The access token expired" in err.msg
    bogus = make_sp(emu, None)
    bogus.set_auth("not-a-token")
    err = await raises(bogus.me)
    assert err.http_status == 401 and "Invalid access token" in err.msg


async def test_access_token_lifetime_setting(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    await ctl.settings(access_token_lifetime=1)
    _, sp, token = await login(emu, ctl, "alice")
    assert token["expires_in"] == 1
    sp.auth_manager = None
    sp.set_auth(token["access_token"])
    await asyncio.sleep(1.1)
    err = await raises(sp.me)
    assert err.http_status == 401 and "expired" in err.msg


async def raw_refresh(emu: SpotifyEmulator, rt: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            emu.accounts_url + "api/token",
            data={"grant_type": "refresh_token", "refresh_token": rt},
            headers={"Authorization": aiohttp.encode_basic_auth(CLIENT_ID, CLIENT_SECRET)},
        ) as r,
    ):
        body: dict[str, Any] = await r.json()
        return body


async def test_refresh_with_and_without_new_refresh_token(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    oauth, _, token = await login(emu, ctl, "alice")
    rt = token["refresh_token"]
    await ctl.settings(rotate_refresh_tokens="always")
    t1 = await call(oauth.refresh_access_token, rt)
    assert t1["refresh_token"] != rt and t1["access_token"] != token["access_token"]
    await ctl.settings(rotate_refresh_tokens="never")
    raw = await raw_refresh(emu, rt)
    assert "refresh_token" not in raw and raw["scope"] == SCOPES
    t2 = await call(oauth.refresh_access_token, rt)  # spotipy keeps the old one
    assert t2["refresh_token"] == rt
    # the new access token works, old refresh tokens stay valid
    sp = make_sp(emu, None)
    sp.set_auth(t2["access_token"])
    assert (await call(sp.me))["id"] == "alice"
    await call(oauth.refresh_access_token, t1["refresh_token"])
    await ctl.settings(rotate_refresh_tokens="alternate")
    got = ["refresh_token" in await raw_refresh(emu, rt) for _ in range(4)]
    assert sorted(got) == [False, False, True, True]


async def test_refresh_after_expiry_through_spotipy(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    await ctl.settings(access_token_lifetime=30)  # below spotipy's 60 s margin: always refreshes
    _, sp, _ = await login(emu, ctl, "alice")
    assert (await call(sp.me))["id"] == "alice"
    log = await ctl.requests(path="^/api/token$")
    kinds = [e["grant_type"] for e in log]
    assert kinds[0] == "authorization_code" and set(kinds[1:]) == {"refresh_token"}


@pytest.mark.parametrize("how", ["revoke", "age"])
async def test_invalid_grant_after_revoke_or_six_months(
    emu: SpotifyEmulator, ctl: SpotifyControl, how: str
) -> None:
    oauth, _, token = await login(emu, ctl, "alice")
    await call(oauth.refresh_access_token, token["refresh_token"])
    if how == "revoke":
        assert await ctl.revoke_tokens("alice") >= 1
    else:
        await ctl.age_authorization("alice", 150)
        await call(oauth.refresh_access_token, token["refresh_token"])  # still fine at 5 months
        await ctl.age_authorization("alice", 40)
    with pytest.raises(SpotifyOauthError) as info:
        await call(oauth.refresh_access_token, token["refresh_token"])
    assert info.value.error == "invalid_grant"
    assert info.value.error_description == "Refresh token revoked"


async def test_outsider_gets_403_everywhere(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    _, sp, _ = await login(emu, ctl, "outsider")
    for fn in (sp.me, sp.current_user_playlists, sp.current_user_saved_tracks):
        err = await raises(fn)
        assert err.http_status == 403


# -- PKCE ("Authorization Code with PKCE Flow") ------------------------------------------------


def _challenge(verifier: str) -> str:
    import base64
    import hashlib

    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _redeem(emu: SpotifyEmulator, code: str, verifier: str | None) -> tuple[int, Any]:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier is not None:
        form["code_verifier"] = verifier
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            emu.accounts_url + "api/token",
            data=form,
            headers={"Authorization": aiohttp.encode_basic_auth(CLIENT_ID, CLIENT_SECRET)},
        ) as r,
    ):
        return r.status, await r.json()


async def test_a_code_issued_with_a_challenge_needs_its_own_verifier(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    verifier, other = "v" * 64, "w" * 64
    url = make_oauth(emu).get_authorize_url(state="st") + (
        f"&code_challenge_method=S256&code_challenge={_challenge(verifier)}"
    )

    async def fresh_code() -> str:
        return parse_qs(urlsplit(await ctl.authorize(url, "alice")).query)["code"][0]

    for wrong in (None, other, "short"):  # a stolen code redeemed by another flow
        status, body = await _redeem(emu, code := await fresh_code(), wrong)
        assert status == 400 and body == {
            "error": "invalid_grant",
            "error_description": "code_verifier was incorrect",
        }
        status, _ = await _redeem(emu, code, verifier)
        assert status == 400  # the code was burnt by the wrong try
    status, body = await _redeem(emu, await fresh_code(), verifier)
    assert status == 200 and body["access_token"] and body["refresh_token"]


async def test_pkce_takes_s256_only(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    base = make_oauth(emu).get_authorize_url(state="st")
    for extra in ("&code_challenge_method=plain&code_challenge=" + "a" * 43, "&code_challenge=x"):
        query = parse_qs(urlsplit(await ctl.authorize(base + extra, "alice")).query)
        assert query["error"] == ["invalid_request"] and query["state"] == ["st"]
