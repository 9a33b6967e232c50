"""Discord's OAuth2 authorization code grant (``identify``), as a web page would use it."""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox.control import ControlError
from sandbox.discord import DiscordControl, DiscordEmulator

CALLBACK = "https://encore.example/discord/callback"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def app(ctl: DiscordControl) -> dict[str, Any]:
    await ctl.set_redirect_uris([CALLBACK])
    return await ctl.info()


def authorize_url(app: dict[str, Any], **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": CALLBACK,
        "scope": "identify",
        "state": "s1",
        **params,
    }
    return str(app["authorize_url"]) + "?" + urllib.parse.urlencode(query)


def query_of(location: str) -> dict[str, str]:
    parts = urllib.parse.urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return dict(urllib.parse.parse_qsl(parts.query))


def basic(app: dict[str, Any]) -> dict[str, str]:
    pair = f"{app['client_id']}:{app['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


async def exchange(
    http: aiohttp.ClientSession,
    app: dict[str, Any],
    form: dict[str, str],
    *,
    use_basic: bool = True,
) -> tuple[int, dict[str, Any]]:
    headers = basic(app) if use_basic else {}
    if not use_basic:
        form = {**form, "client_id": app["client_id"], "client_secret": app["client_secret"]}
    async with http.post(app["token_url"], data=form, headers=headers) as resp:
        return resp.status, await resp.json()


def code_form(code: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, **extra}


async def test_a_person_consents_and_the_token_identifies_them(
    emu: DiscordEmulator,
    ctl: DiscordControl,
    app: dict[str, Any],
    world: dict[str, Any],
    http: aiohttp.ClientSession,
) -> None:
    alice = world["alice"]
    back = query_of(await ctl.authorize(authorize_url(app), alice["id"]))
    assert back["state"] == "s1"

    status, token = await exchange(http, app, code_form(back["code"]))

    assert status == 200 and token["token_type"] == "Bearer" and token["scope"] == "identify"
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    async with http.get(f"{emu.api_url}/users/@me", headers=headers) as resp:
        me = await resp.json()
    assert me["id"] == alice["id"] and me["username"] == "alice" and "email" not in me
    # a bearer token is not a bot token
    async with http.get(
        f"{emu.api_url}/channels/{world['general']['id']}", headers=headers
    ) as resp:
        assert resp.status == 401


async def test_the_token_endpoint_also_answers_unversioned_and_with_form_credentials(
    emu: DiscordEmulator,
    ctl: DiscordControl,
    app: dict[str, Any],
    world: dict[str, Any],
    http: aiohttp.ClientSession,
) -> None:
    back = query_of(await ctl.authorize(authorize_url(app), world["alice"]["id"]))
    form = {
        **code_form(back["code"]),
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
    }
    async with http.post(f"{emu.api_url}/oauth2/token", data=form) as resp:
        assert resp.status == 200 and (await resp.json())["refresh_token"]


async def test_a_refusal_on_the_consent_page_comes_back_as_access_denied(
    ctl: DiscordControl, app: dict[str, Any]
) -> None:
    back = query_of(await ctl.authorize(authorize_url(app), deny=True))
    assert back == {
        "error": "access_denied",
        "error_description": "The resource owner or authorization server denied the request",
        "state": "s1",
    }


@pytest.mark.parametrize(
    "params",
    [
        {"redirect_uri": "https://encore.example/discord/callback/"},
        {"redirect_uri": "https://evil.example/discord/callback"},
        {"client_id": "1234"},
    ],
    ids=["a redirect URI that differs by a slash", "an unregistered redirect URI", "another app"],
)
async def test_the_consent_page_refuses_an_unregistered_redirect_or_client(
    ctl: DiscordControl, app: dict[str, Any], world: dict[str, Any], params: dict[str, str]
) -> None:
    with pytest.raises(ControlError) as refused:
        await ctl.authorize(authorize_url(app, **params), world["alice"]["id"])
    assert refused.value.status == 400


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"scope": "guilds"}, "invalid_scope"),
        ({"scope": "identify messages.read"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "x", "code_challenge_method": "plain"}, "invalid_request"),
    ],
)
async def test_a_malformed_request_comes_back_with_the_oauth_error(
    ctl: DiscordControl,
    app: dict[str, Any],
    world: dict[str, Any],
    params: dict[str, str],
    error: str,
) -> None:
    back = query_of(await ctl.authorize(authorize_url(app, **params), world["alice"]["id"]))
    assert back["error"] == error and back["state"] == "s1" and "code" not in back


async def test_a_code_is_single_use_and_its_replay_revokes_the_token(
    emu: DiscordEmulator,
    ctl: DiscordControl,
    app: dict[str, Any],
    world: dict[str, Any],
    http: aiohttp.ClientSession,
) -> None:
    code = query_of(await ctl.authorize(authorize_url(app), world["alice"]["id"]))["code"]
    status, token = await exchange(http, app, code_form(code))
    assert status == 200

    status, replay = await exchange(http, app, code_form(code))

    assert status == 400 and replay == {
        "error": "invalid_grant",
        "error_description": 'Invalid "code" in request.',
    }
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    async with http.get(f"{emu.api_url}/users/@me", headers=headers) as resp:
        assert resp.status == 401


async def test_a_code_is_bound_to_its_redirect_uri_and_expires(
    ctl: DiscordControl, app: dict[str, Any], world: dict[str, Any], http: aiohttp.ClientSession
) -> None:
    code = query_of(await ctl.authorize(authorize_url(app), world["alice"]["id"]))["code"]
    status, answer = await exchange(
        http, app, code_form(code, redirect_uri="https://encore.example/other")
    )
    assert status == 400 and answer["error"] == "invalid_grant"

    await ctl.settings(oauth_code_lifetime_s=0.0)
    late = query_of(await ctl.authorize(authorize_url(app), world["alice"]["id"]))["code"]
    status, answer = await exchange(http, app, code_form(late))
    assert status == 400 and answer["error"] == "invalid_grant"


async def test_the_client_must_authenticate(
    ctl: DiscordControl, app: dict[str, Any], world: dict[str, Any], http: aiohttp.ClientSession
) -> None:
    code = query_of(await ctl.authorize(authorize_url(app), world["alice"]["id"]))["code"]
    wrong = {**app, "client_secret": "guessed"}
    status, answer = await exchange(http, wrong, code_form(code))
    assert status == 401 and answer == {"error": "invalid_client"}
    status, answer = await exchange(http, wrong, code_form(code), use_basic=False)
    assert status == 401
    # the code was not spent by the refused attempts
    assert (await exchange(http, app, code_form(code)))[0] == 200


async def test_json_is_not_accepted_at_the_token_endpoint(
    ctl: DiscordControl, app: dict[str, Any], world: dict[str, Any], http: aiohttp.ClientSession
) -> None:
    code = query_of(await ctl.authorize(authorize_url(app), world["alice"]["id"]))["code"]
    async with http.post(app["token_url"], json=code_form(code), headers=basic(app)) as resp:
        assert resp.status == 400 and (await resp.json())["error"] == "invalid_request"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def test_pkce_binds_the_code_to_its_verifier(
    ctl: DiscordControl, app: dict[str, Any], world: dict[str, Any], http: aiohttp.ClientSession
) -> None:
    verifier, challenge = pkce()
    url = authorize_url(app, code_challenge=challenge, code_challenge_method="S256")
    code = query_of(await ctl.authorize(url, world["alice"]["id"]))["code"]

    for wrong in ({}, {"code_verifier": pkce()[0]}):
        status, answer = await exchange(http, app, code_form(code, **wrong))
        assert (
            status == 400 and answer["error_description"] == 'Invalid "code_verifier" in request.'
        )
    status, _ = await exchange(http, app, code_form(code, code_verifier=verifier))
    assert status == 200


async def test_a_refresh_token_gives_a_new_token_once(
    ctl: DiscordControl, app: dict[str, Any], world: dict[str, Any], http: aiohttp.ClientSession
) -> None:
    code = query_of(await ctl.authorize(authorize_url(app), world["alice"]["id"]))["code"]
    _, token = await exchange(http, app, code_form(code))
    form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    status, renewed = await exchange(http, app, form)
    assert status == 200 and renewed["access_token"] != token["access_token"]
    status, again = await exchange(http, app, form)
    assert status == 400 and again["error"] == "invalid_grant"
