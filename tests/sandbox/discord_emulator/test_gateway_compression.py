"""Gateway frames as Discord sends them: zlib-stream when the client asks (discord.py
does, unless it can import ``zstandard``), plain text JSON otherwise."""

from __future__ import annotations

import json
import zlib
from typing import Any

import aiohttp
import discord
import pytest

from sandbox.discord import DiscordControl, DiscordEmulator
from sandbox.discord.gateway import zstd_available

from .bots import SandboxBot

SYNC_FLUSH = b"\x00\x00\xff\xff"


async def test_discord_py_asks_for_what_it_can_decompress_and_gets_it(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    asked = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
    shards = (await ctl.state())["shards"]
    assert [s["compression"] for s in shards] == [asked]
    # the client decompressed READY, GUILD_CREATE and the rest
    assert bot.get_guild(int(world["guild"]["id"])) is not None


async def _frames(emu: DiscordEmulator, query: str, count: int) -> list[aiohttp.WSMessage]:
    url = f"{emu.gateway_url}?v=10&encoding=json{query}"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        frames = [await ws.receive(timeout=5)]
        identify = {"op": 2, "d": {"token": emu.bot_token, "intents": 1, "properties": {}}}
        await ws.send_str(json.dumps(identify))
        while len(frames) < count:
            frames.append(await ws.receive(timeout=5))
        await ws.close()
    return frames


async def test_zlib_stream_frames_share_one_stream_and_end_in_a_sync_flush(
    emu: DiscordEmulator, world: dict[str, Any]
) -> None:
    frames = await _frames(emu, "&compress=zlib-stream", 3)  # HELLO, READY, GUILD_CREATE

    inflate = zlib.decompressobj()
    payloads = []
    for frame in frames:
        assert frame.type == aiohttp.WSMsgType.BINARY
        assert frame.data.endswith(SYNC_FLUSH)
        payloads.append(json.loads(inflate.decompress(frame.data)))
    assert [p.get("t") for p in payloads] == [None, "READY", "GUILD_CREATE"]
    assert payloads[0]["op"] == 10
    # one stream: a frame alone, after the first, does not inflate from scratch
    with pytest.raises(zlib.error):
        json.loads(zlib.decompressobj().decompress(frames[2].data))


async def test_without_compress_frames_are_text_json(
    emu: DiscordEmulator, world: dict[str, Any]
) -> None:
    frames = await _frames(emu, "", 2)
    assert [f.type for f in frames] == [aiohttp.WSMsgType.TEXT] * 2
    assert json.loads(frames[1].data)["t"] == "READY"


async def test_a_compression_the_emulator_cannot_speak_is_refused(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{emu.gateway_url}?v=10&compress=lz4-stream")
    assert refused.value.status == 400


@pytest.mark.skipif(not zstd_available(), reason="no zstd compressor (zstandard) installed")
async def test_zstd_stream_frames_decompress_in_one_stream(
    emu: DiscordEmulator, world: dict[str, Any]
) -> None:
    import zstandard  # type: ignore[import-not-found]

    frames = await _frames(emu, "&compress=zstd-stream", 3)
    stream = zstandard.ZstdDecompressor().decompressobj()
    payloads = [json.loads(stream.decompress(f.data)) for f in frames]
    assert [p.get("t") for p in payloads] == [None, "READY", "GUILD_CREATE"]
