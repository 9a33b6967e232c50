"""The Discord emulator, driven through the real discord.py client (no internet)."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from sandbox.discord import DiscordControl, DiscordEmulator

from .bots import SandboxBot, make_bot, start_bot, stop_bot

pytestmark = pytest.mark.asyncio


async def test_login_ready_and_guild_cache(
    emu: DiscordEmulator, ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    guild = bot.get_guild(int(world["guild"]["id"]))
    assert guild is not None and guild.me is not None
    assert guild.owner_id == int(world["alice"]["id"])
    general = bot.text_channel(world["general"]["id"])
    locked = bot.text_channel(world["locked"]["id"])
    assert general.permissions_for(guild.me).send_messages
    assert not locked.permissions_for(guild.me).send_messages
    assert locked.permissions_for(guild.me).view_channel
    synced = await ctl.commands()
    assert {c["name"] for c in synced["global"]} >= {"ping", "digest", "slow", "later", "button"}
    state = await ctl.state()
    assert state["shards"][0]["connected"] and state["shards"][0]["guild_count"] == 1
    assert await ctl.errors() == []


async def test_a_server_joined_after_ready_is_a_join_not_a_server_coming_back(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    """Discord leaves `unavailable` out of a joined server's GUILD_CREATE (and writes `false`
    for one READY announced): discord.py dispatches `guild_join`, not `guild_available`."""
    seen: list[tuple[str, int]] = []
    arrived = asyncio.Event()

    async def on_guild_join(guild: discord.Guild) -> None:
        seen.append(("join", guild.id))
        arrived.set()

    async def on_guild_available(guild: discord.Guild) -> None:
        seen.append(("available", guild.id))
        arrived.set()

    bot.add_listener(on_guild_join)
    bot.add_listener(on_guild_available)
    try:
        joined = await ctl.create_guild("Joined later")
        await asyncio.wait_for(arrived.wait(), 5)
        assert seen == [("join", int(joined["id"]))]
    finally:
        bot.remove_listener(on_guild_join)
        bot.remove_listener(on_guild_available)


async def test_command_ephemeral_reply(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    r = await ctl.command("ping", world["alice"]["id"], guild_id=world["guild"]["id"])
    it = await ctl.interaction(r["id"], wait=5)
    assert it["response"]["type"] == 4
    assert it["response"]["data"]["content"] == "pong"
    assert it["response"]["data"]["flags"] & 64
    assert it["original"]["ephemeral"] and it["original"]["content"] == "pong"
    assert it["response"]["latency_ms"] < 3000


async def test_subcommand_with_channel_option(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    locked = world["locked"]["id"]
    r = await ctl.command(
        "digest channel",
        world["alice"]["id"],
        guild_id=world["guild"]["id"],
        options={"channel": locked, "hour": 7},
    )
    it = await ctl.interaction(r["id"], wait=5)
    assert bot.captured["digest"] == (int(locked), 7)
    assert "can_send=False" in it["response"]["data"]["content"]
    opt = it["payload"]["data"]["options"][0]
    assert opt["type"] == 1 and opt["name"] == "channel"
    assert {o["name"]: o["type"] for o in opt["options"]} == {"channel": 7, "hour": 4}
    assert not it["response"]["data"].get("flags")


async def test_autocomplete(ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot) -> None:
    r = await ctl.autocomplete(
        "search",
        world["alice"]["id"],
        "query",
        guild_id=world["guild"]["id"],
        options={"query": "ab"},
    )
    it = await ctl.interaction(r["id"], wait=5)
    assert it["response"]["type"] == 8
    assert [c["value"] for c in it["response"]["data"]["choices"]] == ["ab0", "ab1", "ab2"]


async def test_defer_followups_and_edit_original(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    r = await ctl.command("later", world["alice"]["id"], guild_id=world["guild"]["id"])
    it = await ctl.interaction(r["id"], wait=5)
    assert it["response"]["type"] == 5
    for _ in range(50):
        it = await ctl.interaction(r["id"])
        if it["edits"]:
            break
        await asyncio.sleep(0.05)
    assert [f["content"] for f in it["followups"]][1] == "and one more"
    assert it["original"]["content"] == "done (edited)"
    assert it["original"]["ephemeral"]
    assert it["edits"][0]["original"]


async def test_button_component(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    r = await ctl.command("button", world["alice"]["id"], guild_id=world["guild"]["id"])
    it = await ctl.interaction(r["id"], wait=5)
    msg_id = it["original"]["id"]
    assert it["original"]["components"][0]["components"][0]["custom_id"] == "like:1"
    s = await ctl.click("skip:1", world["alice"]["id"])  # message found by custom id
    sit = await ctl.interaction(s["id"], wait=5)
    assert sit["response"]["type"] == 6 and sit["message_id"] == msg_id
    for _ in range(40):
        sit = await ctl.interaction(s["id"])
        if sit["edits"]:
            break
        await asyncio.sleep(0.05)
    assert sit["original"]["id"] == msg_id and sit["original"]["content"] == "skipped"
    c = await ctl.click("like:1", world["alice"]["id"], message_id=msg_id)
    cit = await ctl.interaction(c["id"], wait=5)
    assert cit["response"]["type"] == 7
    assert bot.captured["clicked_by"] == int(world["alice"]["id"])
    msgs = await ctl.messages(channel_id=world["general"]["id"])
    edited = next(m for m in msgs if m["id"] == msg_id)
    assert edited["content"] == "liked" and edited["components"] == []


async def test_dms_channel_posts_and_permission_errors(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    alice = await bot.fetch_user(int(world["alice"]["id"]))
    await alice.send("hello alice", embed=discord.Embed(title="hi"))
    dms = await ctl.dms(world["alice"]["id"])
    assert dms[0]["content"] == "hello alice" and dms[0]["embeds"][0]["title"] == "hi"

    bob = await bot.fetch_user(int(world["bob"]["id"]))
    with pytest.raises(discord.Forbidden) as exc:
        await bob.send("hello bob")
    assert exc.value.code == 50007

    general = bot.text_channel(world["general"]["id"])
    await general.send("to everyone", allowed_mentions=discord.AllowedMentions.none())
    posted = await ctl.messages(channel_id=world["general"]["id"])
    assert posted[-1]["content"] == "to everyone"
    assert posted[-1]["allowed_mentions"] == {"parse": []}
    history = [m async for m in general.history(limit=5)]
    assert history[0].content == "to everyone"

    locked = bot.text_channel(world["locked"]["id"])
    with pytest.raises(discord.Forbidden) as exc:
        await locked.send("nope")
    assert exc.value.code == 50013
    with pytest.raises(discord.HTTPException) as exc2:
        await general.send("x" * 2001)
    assert exc2.value.code == 50035
    with pytest.raises(discord.NotFound):
        await bot.http.send_message(1234, params=discord.http.handle_message_parameters("x"))
    kinds = {e["kind"] for e in await ctl.errors()}
    assert {"dm_closed", "missing_permissions", "invalid_body", "unknown_channel"} <= kinds
    assert "unhandled" not in kinds and "validation" not in kinds


async def test_deadline_and_double_ack(
    emu: DiscordEmulator, ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    slow = await ctl.command("slow", world["alice"]["id"], guild_id=world["guild"]["id"])
    ping = await ctl.command("ping", world["alice"]["id"], guild_id=world["guild"]["id"])
    it = await ctl.interaction(ping["id"], wait=5)
    assert it["response"] is not None
    # a second acknowledgement of the same interaction
    async with aiohttp.ClientSession() as s:
        url = f"{emu.api_url}/interactions/{ping['id']}/{ping['token']}/callback?with_response=true"
        async with s.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
            assert resp.status == 400
            assert resp.headers["Content-Type"] == "application/json"
            assert (await resp.json())["code"] == 40060
    sit = await ctl.interaction(slow["id"], wait=6, until="late")
    assert sit["response"] is None and sit["late_responses"]
    for _ in range(40):
        if "slow_error" in bot.captured:
            break
        await asyncio.sleep(0.05)
    assert bot.captured["slow_error"].code == 10062


async def test_channel_bucket_burst_waits(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    await ctl.settings(channel_limit=3, channel_window=0.5)
    general = bot.text_channel(world["general"]["id"])
    t0 = time.monotonic()
    await asyncio.gather(*(general.send(f"burst {i}") for i in range(7)))
    elapsed = time.monotonic() - t0
    posted = [
        m for m in await ctl.messages(channel_id=world["general"]["id"]) if "burst" in m["content"]
    ]
    assert len(posted) == 7
    assert elapsed >= 0.9  # 7 posts at 3 per 0.5 s need two waits
    reqs = await ctl.requests(path=f"/channels/{world['general']['id']}/messages")
    assert all(r["status"] == 200 for r in reqs)


async def test_global_rate_limit_is_waited_out(
    emu: DiscordEmulator, ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    guild_id = int(world["guild"]["id"])
    chans = [await ctl.create_channel(guild_id, f"c{i}") for i in range(8)]
    await ctl.settings(global_limit_per_s=4)
    await asyncio.sleep(1.0)  # let the global window empty
    since = time.time()
    await asyncio.gather(
        *(
            bot.http.send_message(
                int(c["id"]), params=discord.http.handle_message_parameters(content="g")
            )
            for c in chans
        )
    )
    reqs = await ctl.requests(since=since, path="/messages")
    assert any(r["rate_limited"] == "global" for r in reqs)
    assert sum(1 for r in reqs if r["status"] == 200) == 8
    await ctl.settings(global_limit_per_s=50)


async def test_gateway_resume(ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot) -> None:
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    bot.add_listener(on_resumed, "on_resumed")
    closed = await ctl.gateway_disconnect(code=4000, resumable=True)
    assert closed["closed"]
    await asyncio.wait_for(resumed.wait(), 10)
    state = await ctl.state()
    assert state["shards"][0]["resumes"] == 1 and state["shards"][0]["connected"]
    r = await ctl.command("ping", world["alice"]["id"], guild_id=world["guild"]["id"])
    assert (await ctl.interaction(r["id"], wait=5))["response"]["type"] == 4


async def test_two_shards_in_two_clients(emu: DiscordEmulator, ctl: DiscordControl) -> None:
    alice = await ctl.create_user("alice")
    bulk = await ctl.create_guilds_bulk(6, "g")
    ids = [int(g) for g in bulk["guild_ids"]]
    expected = {s: {g for g in ids if (g >> 22) % 2 == s} for s in (0, 1)}
    assert expected[0] and expected[1]
    bots = [make_bot(shard_ids=[s], shard_count=2) for s in (0, 1)]
    tasks = [await start_bot(b, emu) for b in bots]
    try:
        for s, b in enumerate(bots):
            assert {g.id for g in b.guilds} == expected[s]
        await bots[0].tree.sync()
        g1 = next(iter(expected[1]))
        r = await ctl.command("ping", alice["id"], guild_id=g1)
        assert r["shard_id"] == 1
        assert (await ctl.interaction(r["id"], wait=5))["response"]["type"] == 4
        # a guild created while connected reaches its shard only
        new = await ctl.create_guild("late guild")
        shard = (int(new["id"]) >> 22) % 2
        for _ in range(40):
            if bots[shard].get_guild(int(new["id"])):
                break
            await asyncio.sleep(0.05)
        assert bots[shard].get_guild(int(new["id"])) is not None
        assert bots[1 - shard].get_guild(int(new["id"])) is None
        # DMs go to shard 0
        r = await ctl.command("ping", alice["id"])
        assert r["shard_id"] == 0
        it = await ctl.interaction(r["id"], wait=5)
        assert it["response"]["type"] == 4 and it["guild_id"] is None
    finally:
        for b, t in zip(bots, tasks, strict=True):
            await stop_bot(b, t)
    # clients that close with 1000 end their sessions
    for _ in range(40):
        if not (await ctl.state())["shards"]:
            break
        await asyncio.sleep(0.05)
    assert (await ctl.state())["shards"] == []


async def test_unhandled_route_and_auth(emu: DiscordEmulator, ctl: DiscordControl) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{emu.api_url}/users/@me") as resp:
            assert resp.status == 401
        headers = {"Authorization": f"Bot {emu.bot_token}"}
        async with s.get(f"{emu.api_url}/nothing/here", headers=headers) as resp:
            assert resp.status == 404
            assert await resp.json() == {"code": 0, "message": "404: Not Found"}
        async with s.get(f"{emu.api_url}/users/@me", headers=headers) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/json"
            assert "X-RateLimit-Bucket" in resp.headers
    errors = await ctl.errors(kind="unhandled")
    assert errors and errors[0]["path"] == "/nothing/here"


class NameModal(discord.ui.Modal, title="Name"):
    name: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Name", custom_id="name")

    def __init__(self, captured: dict[str, Any]) -> None:
        super().__init__(custom_id="name-modal")
        self.captured = captured

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.captured["modal_name"] = self.name.value
        await interaction.response.send_message(f"hi {self.name.value}", ephemeral=True)


async def test_guild_command_modal_and_files(
    emu: DiscordEmulator, ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    guild = discord.Object(int(world["guild"]["id"]))

    @app_commands.command(name="rename", description="Opens a modal")
    async def rename(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(NameModal(bot.captured))

    @app_commands.command(name="upload", description="Sends a file")
    async def upload(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "file", file=discord.File(io.BytesIO(b"abc"), filename="a.txt")
        )

    bot.tree.add_command(rename, guild=guild)
    bot.tree.add_command(upload, guild=guild)
    await bot.tree.sync(guild=guild)
    synced = await ctl.commands()
    assert {c["name"] for c in synced["guilds"][world["guild"]["id"]]} == {"rename", "upload"}

    r = await ctl.command("rename", world["alice"]["id"], guild_id=guild.id)
    it = await ctl.interaction(r["id"], wait=5)
    assert it["payload"]["data"]["guild_id"] == str(guild.id)
    assert it["response"]["type"] == 9
    m = await ctl.submit_modal(
        "name-modal", world["alice"]["id"], {"name": "Zed"}, guild_id=guild.id
    )
    mit = await ctl.interaction(m["id"], wait=5)
    assert bot.captured["modal_name"] == "Zed"
    assert mit["response"]["data"]["content"] == "hi Zed"

    r = await ctl.command("upload", world["alice"]["id"], guild_id=guild.id)
    it = await ctl.interaction(r["id"], wait=5)
    assert it["original"]["attachments"][0]["filename"] == "a.txt"
    assert it["original"]["attachments"][0]["size"] == 3

    general = bot.text_channel(world["general"]["id"])
    await general.send("with file", file=discord.File(io.BytesIO(b"12345"), filename="b.bin"))
    msgs = await ctl.messages(channel_id=world["general"]["id"])
    assert msgs[-1]["attachments"][0]["size"] == 5
    assert [e for e in await ctl.errors() if e["kind"] in ("unhandled", "validation")] == []


async def test_validation_unsynced_command_and_expired_token(
    emu: DiscordEmulator, ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    headers = {"Authorization": f"Bot {emu.bot_token}"}
    url = f"{emu.api_url}/channels/{world['general']['id']}/messages"
    async with aiohttp.ClientSession() as s:
        async with s.post(url, json={"content": "x", "bogus": 1}, headers=headers) as resp:
            assert resp.status == 200
        async with s.post(url, json={"embeds": [{}] * 11}, headers=headers) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 50035
    errors = await ctl.errors(kind="validation")
    assert any("bogus" in e["message"] for e in errors)

    # a command the bot never synced (a client with a stale command list):
    # types inferred, subcommand nesting from spaces
    r = await ctl.command(
        "nothere sub",
        world["alice"]["id"],
        guild_id=world["guild"]["id"],
        options={"n": 3, "f": 1.5},
        stale=True,
    )
    it = await ctl.interaction(r["id"])
    opt = it["payload"]["data"]["options"][0]
    assert opt["type"] == 1 and {o["name"]: o["type"] for o in opt["options"]} == {"n": 4, "f": 10}

    # DM interaction: user instead of member, shard 0
    await ctl.settings(token_lifetime_s=0.3)
    r = await ctl.command("ping", world["bob"]["id"])
    it = await ctl.interaction(r["id"], wait=5)
    assert "user" in it["payload"] and "member" not in it["payload"]
    await asyncio.sleep(0.4)
    async with aiohttp.ClientSession() as s:
        wurl = f"{emu.api_url}/webhooks/{emu.application_id}/{r['token']}?wait=true"
        async with s.post(wurl, json={"content": "too late"}) as resp:
            assert resp.status == 401 and (await resp.json())["code"] == 50027


async def test_non_resumable_disconnect_reidentifies_and_reconnect_op7(
    emu: DiscordEmulator, ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    before = (await ctl.state())["shards"][0]["session_id"]
    await ctl.gateway_disconnect(code=4000, resumable=False)
    for _ in range(100):
        shards = [s for s in (await ctl.state())["shards"] if s["connected"]]
        if shards and shards[0]["session_id"] != before:
            break
        await asyncio.sleep(0.05)
    assert shards and shards[0]["session_id"] != before and shards[0]["guild_count"] == 1

    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    bot.add_listener(on_resumed, "on_resumed")
    await ctl.gateway_reconnect()
    await asyncio.wait_for(resumed.wait(), 10)
    r = await ctl.command("ping", world["alice"]["id"], guild_id=world["guild"]["id"])
    assert (await ctl.interaction(r["id"], wait=5))["response"]["type"] == 4


async def test_channel_update_changes_permissions(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    cid = int(world["general"]["id"])
    await ctl.update_channel(cid, bot_can_post=False)
    for _ in range(40):
        ch = bot.text_channel(cid)
        if not ch.permissions_for(ch.guild.me).send_messages:
            break
        await asyncio.sleep(0.05)
    assert not ch.permissions_for(ch.guild.me).send_messages
    with pytest.raises(discord.Forbidden):
        await ch.send("blocked")
    state = await ctl.state()
    assert state["invalid_requests_10min"] >= 1

    await ctl.delete_guild(world["guild"]["id"])
    for _ in range(40):
        if bot.get_guild(int(world["guild"]["id"])) is None:
            break
        await asyncio.sleep(0.05)
    assert bot.get_guild(int(world["guild"]["id"])) is None


async def test_login_failure_with_wrong_token(emu: DiscordEmulator) -> None:
    b = make_bot()
    with pytest.raises(discord.LoginFailure):
        await b.login("wrong")
    await b.close()
