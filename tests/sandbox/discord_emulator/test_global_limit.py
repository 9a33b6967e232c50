"""Discord's global limit belongs to the bot token, not to a connection: every process of a
bot together gets 50 requests a second; a person's bearer token has its own."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from sandbox.discord import DiscordControl, DiscordEmulator

from .test_oauth2 import CALLBACK, authorize_url, code_form, exchange, query_of


async def burst(
    emu: DiscordEmulator, authorization: str, count: int
) -> list[aiohttp.ClientResponse]:
    """`count` requests at once over a connection of its own (another process, as it were)."""
    async with aiohttp.ClientSession() as http:

        async def one() -> aiohttp.ClientResponse:
            async with http.get(
                f"{emu.api_url}/users/@me", headers={"Authorization": authorization}
            ) as response:
                await response.read()
                return response

        return await asyncio.gather(*(one() for _ in range(count)))


async def test_two_connections_of_one_bot_share_its_global_limit_and_are_refused_as_discord_does(
    emu: DiscordEmulator, ctl: DiscordControl, world: dict[str, Any]
) -> None:
    await ctl.settings(global_limit_per_s=10)
    bot = f"Bot {emu.bot_token}"

    first, second = await asyncio.gather(burst(emu, bot, 8), burst(emu, bot, 8))

    answers = first + second
    refused = [r for r in answers if r.status == 429]
    assert sum(1 for r in answers if r.status == 200) == 10 and len(refused) == 6
    for response in refused:
        assert response.headers["X-RateLimit-Global"] == "true"
        assert response.headers["X-RateLimit-Scope"] == "global"
        assert float(response.headers["Retry-After"]) >= 1
    counted = await ctl.ratelimits()
    assert counted["global_429s"] == 6 and counted["global_429s_by_kind"] == {"bot": 6}
    assert counted["route_429s"] == 0


async def test_a_refusal_carries_global_true_and_retry_after_in_its_body(
    emu: DiscordEmulator, ctl: DiscordControl, world: dict[str, Any]
) -> None:
    await ctl.settings(global_limit_per_s=1)
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bot {emu.bot_token}"}
        async with http.get(f"{emu.api_url}/users/@me", headers=headers) as response:
            assert response.status == 200
        async with http.get(f"{emu.api_url}/users/@me", headers=headers) as response:
            body = await response.json()
            assert response.status == 429
    assert body["global"] is True and 0 < body["retry_after"] <= 1.0


async def test_a_persons_bearer_token_is_not_refused_when_the_bots_limit_is_spent(
    emu: DiscordEmulator, ctl: DiscordControl, world: dict[str, Any]
) -> None:
    await ctl.set_redirect_uris([CALLBACK])
    app = await ctl.info()
    async with aiohttp.ClientSession() as http:
        back = query_of(await ctl.authorize(authorize_url(app), world["alice"]["id"]))
        _, token = await exchange(http, app, code_form(back["code"]))
    await ctl.settings(global_limit_per_s=5)

    bot_answers = await burst(emu, f"Bot {emu.bot_token}", 8)
    person_answers = await burst(emu, f"Bearer {token['access_token']}", 5)

    assert sum(1 for r in bot_answers if r.status == 429) == 3
    assert all(r.status == 200 for r in person_answers)
    assert (await ctl.ratelimits())["global_429s_by_kind"] == {"bot": 3}
