"""``nonce`` + ``enforce_nonce`` and the lost-response fault: posting once when Discord
does the write and loses the answer, as its edge sometimes does."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
import pytest

from sandbox.discord import DiscordControl, DiscordEmulator

from .bots import SandboxBot


def post(bot: SandboxBot, channel_id: int, body: dict[str, Any]) -> Any:
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
    return bot.http.request(route, json=body)


async def test_enforce_nonce_returns_the_message_already_created(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    channel_id = int(world["general"]["id"])
    body = {"content": "digest", "nonce": "digest:guild:2026-11-06", "enforce_nonce": True}

    first = await post(bot, channel_id, body)
    again = await post(bot, channel_id, body)

    assert again["id"] == first["id"] and first["nonce"] == body["nonce"]
    assert [m["content"] for m in await ctl.messages(channel_id=channel_id)] == ["digest"]


async def test_a_nonce_without_enforce_nonce_or_in_another_channel_posts_again(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    general, other = (
        int(world["general"]["id"]),
        int((await ctl.create_channel(world["guild"]["id"], "other"))["id"]),
    )
    plain = {"content": "hello", "nonce": "n1"}
    await post(bot, general, plain)
    await post(bot, general, plain)
    enforced = {**plain, "enforce_nonce": True}
    await post(bot, general, enforced)
    await post(bot, other, enforced)
    assert len(await ctl.messages(channel_id=general)) == 3
    assert len(await ctl.messages(channel_id=other)) == 1


async def test_a_nonce_is_remembered_for_a_few_minutes_only(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    channel_id = int(world["general"]["id"])
    body = {"content": "once", "nonce": "n2", "enforce_nonce": True}
    await ctl.settings(nonce_window_s=0.0)
    first = await post(bot, channel_id, body)
    second = await post(bot, channel_id, body)
    assert first["id"] != second["id"]


async def test_the_nonce_of_a_deleted_message_is_unknown(
    world: dict[str, Any], bot: SandboxBot
) -> None:
    channel = bot.text_channel(world["general"]["id"])
    sent = await channel.send("gone", nonce="n3")
    await sent.delete()
    with pytest.raises(discord.NotFound):
        await channel.send("gone", nonce="n3")


async def test_a_lost_response_is_a_cloudflare_502_after_the_write(
    emu: DiscordEmulator, ctl: DiscordControl, world: dict[str, Any]
) -> None:
    channel_id = world["general"]["id"]
    await ctl.lose_responses(1, channel_id=channel_id)
    url = f"{emu.api_url}/channels/{channel_id}/messages"
    headers = {"Authorization": f"Bot {emu.bot_token}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"content": "written"}, headers=headers) as resp:
            assert resp.status == 502
            assert resp.headers["Content-Type"].startswith("text/html")
            assert "X-RateLimit-Bucket" not in resp.headers
            assert "cloudflare" in await resp.text()
        async with http.post(url, json={"content": "answered"}, headers=headers) as resp:
            assert resp.status == 200
    assert [m["content"] for m in await ctl.messages(channel_id=channel_id)] == [
        "written",
        "answered",
    ]
    assert (await ctl.faults())["faults"][0]["remaining"] == 0
    statuses = [r["status"] for r in await ctl.requests(path="/messages")]
    assert statuses == [502, 200]


async def test_discord_py_retries_a_502_and_posts_once_with_enforce_nonce(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    """Messageable.send gives every message a nonce with enforce_nonce."""
    channel = bot.text_channel(world["general"]["id"])
    await ctl.lose_responses(1, channel_id=channel.id)

    sent = await channel.send("the digest")

    posted = await ctl.messages(channel_id=channel.id)
    assert [m["id"] for m in posted] == [str(sent.id)]
    assert [r["status"] for r in await ctl.requests(path="/messages")] == [502, 200]


async def test_without_enforce_nonce_the_retry_posts_twice(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    channel_id = int(world["general"]["id"])
    await ctl.lose_responses(1, channel_id=channel_id)

    await bot.http.send_message(
        channel_id, params=discord.http.handle_message_parameters(content="the digest")
    )

    posted = await ctl.messages(channel_id=channel_id)
    assert [m["content"] for m in posted] == ["the digest", "the digest"]


async def test_lost_responses_can_target_dms(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    await ctl.lose_responses(1, dms=True)
    channel = bot.text_channel(world["general"]["id"])
    await channel.send("not a DM")
    alice = await bot.fetch_user(int(world["alice"]["id"]))
    await alice.send("your link")
    assert [m["content"] for m in await ctl.dms(world["alice"]["id"])] == ["your link"]
    dm_posts = [
        r
        for r in await ctl.requests(path="/messages")
        if r["path"] != f"/channels/{channel.id}/messages"
    ]
    assert [r["status"] for r in dm_posts] == [502, 200]


async def test_the_answer_to_a_retry_by_nonce_can_be_lost_too(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    """discord.py gives up after 5 lost answers; a later send with the same nonce still gets
    the message created by the first, and one message is posted."""
    channel = bot.text_channel(world["general"]["id"])
    await ctl.lose_responses(5, channel_id=channel.id)

    with pytest.raises(discord.HTTPException) as lost:
        await channel.send("the digest", nonce="dg1")
    again = await channel.send("the digest", nonce="dg1")

    assert lost.value.status == 502
    assert [m["id"] for m in await ctl.messages(channel_id=channel.id)] == [str(again.id)]
    assert [r["status"] for r in await ctl.requests(path="/messages")] == [502] * 5 + [200]
