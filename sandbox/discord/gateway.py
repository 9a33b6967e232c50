"""The gateway websocket: HELLO, IDENTIFY/READY, RESUME, dispatches, and compression.

A client that connects with ``compress=zlib-stream`` (discord.py does, unless it can
import ``zstandard``) gets binary frames from one zlib stream per connection, each
payload flushed with ``Z_SYNC_FLUSH`` so it ends in ``00 00 ff ff``, as Discord sends
them; ``compress=zstd-stream`` gets one zstd frame per connection, flushed per payload.
Without ``compress``, frames are plain text JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from .models import JSON, Channel, StoredMessage, shard_of
from .settings import Settings
from .state import World
from .wire import channel_json, guild_json

log = logging.getLogger("sandbox.discord.gateway")

GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15


@dataclass
class Session:
    id: str
    shard_id: int
    shard_count: int
    identified_at: float
    seq: int = 0
    ws: web.WebSocketResponse | None = None
    frames: FrameEncoder | None = None
    resumable: bool = True
    buffer: deque[JSON] = field(default_factory=lambda: deque(maxlen=5000))
    guild_ids: list[int] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    resumes: int = 0
    compression: str = "none"
    intents: int = 0

    def owns(self, guild_id: int | None) -> bool:
        return shard_of(guild_id, self.shard_count) == self.shard_id


# ---------------------------------------------------------------------------- compression


class FrameEncoder(Protocol):
    name: str

    async def send(self, ws: web.WebSocketResponse, text: str) -> None: ...


class PlainFrames:
    name = "none"

    async def send(self, ws: web.WebSocketResponse, text: str) -> None:
        await ws.send_str(text)


class ZlibStreamFrames:
    """One compressor per connection; every payload flushed with Z_SYNC_FLUSH."""

    name = "zlib-stream"

    def __init__(self) -> None:
        self._compressor = zlib.compressobj()

    def encode(self, text: str) -> bytes:
        data = self._compressor.compress(text.encode())
        return data + self._compressor.flush(zlib.Z_SYNC_FLUSH)

    async def send(self, ws: web.WebSocketResponse, text: str) -> None:
        await ws.send_bytes(self.encode(text))


class ZstdStreamFrames:
    """One zstd frame per connection, flushed (not ended) after every payload."""

    name = "zstd-stream"

    def __init__(self) -> None:
        self._flush: Callable[[bytes], bytes] = _zstd_stream()

    async def send(self, ws: web.WebSocketResponse, text: str) -> None:
        await ws.send_bytes(self._flush(text.encode()))


def _zstd_stream() -> Callable[[bytes], bytes]:
    try:
        import zstandard  # type: ignore[import-not-found]
    except ImportError:
        from compression import zstd  # type: ignore[import-not-found]

        compressor = zstd.ZstdCompressor()
        return lambda data: bytes(compressor.compress(data, compressor.FLUSH_BLOCK))
    stream = zstandard.ZstdCompressor().compressobj()
    return lambda data: bytes(
        stream.compress(data) + stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    )


def zstd_available() -> bool:
    try:
        _zstd_stream()
    except ImportError:
        return False
    return True


def encoder_for(compress: str | None) -> FrameEncoder | None:
    """The frames a client asked for with ``?compress=``; None if the emulator cannot."""
    if not compress:
        return PlainFrames()
    if compress == "zlib-stream":
        return ZlibStreamFrames()
    if compress == "zstd-stream" and zstd_available():
        return ZstdStreamFrames()
    return None


# ---------------------------------------------------------------------------- the gateway


class Gateway:
    """Every session of every shard, and what is dispatched to them."""

    def __init__(
        self, world: World, settings: Settings, bot_token: str, url: Callable[[], str]
    ) -> None:
        self.world = world
        self.settings = settings
        self.bot_token = bot_token
        self._url = url
        self.sessions: dict[str, Session] = {}
        self._sockets: set[web.WebSocketResponse] = set()

    @property
    def url(self) -> str:
        return self._url()

    async def close_all(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001)

    # ------------------------------------------------------------------ sending
    async def _send(self, session: Session, payload: JSON) -> None:
        ws, frames = session.ws, session.frames
        if ws is None or ws.closed or frames is None:
            return
        try:
            await frames.send(ws, json.dumps(payload, separators=(",", ":")))
        except (ConnectionError, RuntimeError) as exc:
            log.debug("gateway send failed: %s", exc)

    async def dispatch(self, session: Session, event: str, data: Any) -> None:
        async with session.lock:
            session.seq += 1
            payload = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.buffer.append(payload)
            await self._send(session, payload)

    def sessions_for(self, guild_id: int | None) -> list[Session]:
        """Sessions that own ``guild_id``'s shard, newest first."""
        out = [s for s in self.sessions.values() if s.resumable and s.owns(guild_id)]
        out.sort(key=lambda s: s.identified_at, reverse=True)
        return out

    def interaction_session(self, guild_id: int | None) -> Session | None:
        """Interactions go to the newest live session owning the shard."""
        sessions = self.sessions_for(guild_id)
        live = [s for s in sessions if s.ws is not None] or sessions
        return live[0] if live else None

    async def dispatch_guild(self, guild_id: int | None, event: str, data: Any) -> None:
        for s in self.sessions_for(guild_id):
            await self.dispatch(s, event, data)

    async def guild_added(self, guild_id: int) -> None:
        g = self.world.guilds[guild_id]
        if not g.bot_member:
            return
        for s in self.sessions_for(guild_id):
            s.guild_ids.append(guild_id)
            await self.dispatch(
                s, "GUILD_CREATE", guild_json(self.world, g, create=True, joined=True)
            )

    async def channel_changed(self, ch: Channel, event: str) -> None:
        if ch.guild_id and self.world.guilds[ch.guild_id].bot_member:
            await self.dispatch_guild(ch.guild_id, event, channel_json(self.world, ch))

    async def message_created(self, message: StoredMessage) -> None:
        """MESSAGE_CREATE for a person's message, to sessions whose intents ask for it."""
        ch = self.world.channels[message.channel_id]
        if ch.guild_id is not None:
            if not self.world.guilds[ch.guild_id].bot_member:
                return
            wanted = GUILD_MESSAGES
        elif ch.is_bot_dm:
            wanted = DIRECT_MESSAGES
        else:
            return
        mentioned = f"<@{self.world.bot_user.id}>" in str(message.wire.get("content"))
        for s in self.sessions_for(ch.guild_id):
            if not s.intents & wanted:
                continue
            data = dict(message.wire)
            if not (s.intents & MESSAGE_CONTENT or ch.is_bot_dm or mentioned):
                # without the privileged intent, content is empty (docs: Message Content Intent)
                data.update(content="", embeds=[], attachments=[], components=[])
            await self.dispatch(s, "MESSAGE_CREATE", data)

    async def guild_removed(self, guild_id: int) -> None:
        for s in self.sessions_for(guild_id):
            if guild_id in s.guild_ids:
                s.guild_ids.remove(guild_id)
            await self.dispatch(s, "GUILD_DELETE", {"id": str(guild_id)})

    # ------------------------------------------------------------------ faults
    async def disconnect(self, shard_id: int | None, code: int, resumable: bool) -> list[str]:
        closed = []
        for s in list(self.sessions.values()):
            if shard_id is not None and s.shard_id != shard_id:
                continue
            if s.ws is None:
                continue
            if not resumable:
                s.resumable = False
            ws, s.ws = s.ws, None
            await ws.close(code=code)
            closed.append(s.id)
        self.world.touch()
        return closed

    async def reconnect(self, shard_id: int | None) -> list[str]:
        out = []
        for s in list(self.sessions.values()):
            if (shard_id is None or s.shard_id == shard_id) and s.ws is not None:
                await self._send(s, {"op": 7, "d": None, "s": None, "t": None})
                out.append(s.id)
        return out

    def forget_guilds(self) -> None:
        for s in self.sessions.values():
            s.guild_ids.clear()

    # ------------------------------------------------------------------ the websocket
    async def handle(self, request: web.Request) -> web.StreamResponse:
        compress = request.query.get("compress")
        frames = encoder_for(compress)
        if frames is None:
            self.world.record_error(
                "gateway", f"compress={compress!r} asked, which the emulator cannot send"
            )
            return web.Response(status=400, text=f"unsupported compress {compress!r}")
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024, autoping=True)
        await ws.prepare(request)
        self._sockets.add(ws)
        session: Session | None = None
        # before IDENTIFY/RESUME the connection has no session; HELLO still goes compressed
        probe = Session(id="", shard_id=0, shard_count=1, identified_at=0.0, ws=ws, frames=frames)
        try:
            hello = {"op": 10, "d": {"heartbeat_interval": self.settings.heartbeat_interval_ms}}
            await self._send(probe, {**hello, "s": None, "t": None})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.ERROR:
                        break
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                op = frame.get("op")
                d = frame.get("d")
                if op == 1:
                    await self._send(session or probe, {"op": 11, "d": None, "s": None, "t": None})
                elif op == 2:
                    if session is not None:
                        await ws.close(code=4005, message=b"Already authenticated.")
                        break
                    session = await self._identify(ws, frames, d or {})
                    if session is None:
                        break
                elif op == 6:
                    session = await self._resume(ws, frames, d or {}, probe)
                elif op in (3, 4, 8, 31):
                    pass
                else:
                    await ws.close(code=4001, message=b"Unknown opcode.")
                    break
        finally:
            self._sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
                if ws.close_code in (1000, 1001):
                    # a client closing with 1000/1001 ends its session, as on Discord
                    session.resumable = False
                    self.sessions.pop(session.id, None)
                self.world.touch()
        return ws

    async def _identify(
        self, ws: web.WebSocketResponse, frames: FrameEncoder, d: JSON
    ) -> Session | None:
        world = self.world
        token = str(d.get("token", ""))
        if token.removeprefix("Bot ") != self.bot_token:
            world.record_error("auth", "gateway identify with a wrong token")
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        shard_id, shard_count = (d.get("shard") or [0, 1])[:2]
        shard_id, shard_count = int(shard_id), max(1, int(shard_count))
        if shard_id >= shard_count:
            await ws.close(code=4010, message=b"Invalid shard.")
            return None
        session = Session(
            id=secrets.token_hex(16),
            shard_id=shard_id,
            shard_count=shard_count,
            identified_at=time.time(),
            ws=ws,
            frames=frames,
            compression=frames.name,
            intents=int(d.get("intents") or 0),
        )
        self.sessions[session.id] = session
        guilds = [g for g in world.guilds.values() if g.bot_member and session.owns(g.id)]
        ready = {
            "v": 10,
            "user": {**world.bot_user.to_json(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "shard": [shard_id, shard_count],
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }
        await self.dispatch(session, "READY", ready)
        for g in guilds:
            session.guild_ids.append(g.id)
            await self.dispatch(session, "GUILD_CREATE", guild_json(world, g, create=True))
        world.touch()
        return session

    async def _resume(
        self, ws: web.WebSocketResponse, frames: FrameEncoder, d: JSON, probe: Session
    ) -> Session | None:
        session = self.sessions.get(str(d.get("session_id")))
        if (
            session is None
            or not session.resumable
            or str(d.get("token", "")).removeprefix("Bot ") != self.bot_token
        ):
            await self._send(probe, {"op": 9, "d": False, "s": None, "t": None})
            return None
        old = session.ws
        if old is not None and old is not ws and not old.closed:
            await old.close(code=4000)
        async with session.lock:
            session.ws = ws
            session.frames = frames
            session.compression = frames.name
            session.resumes += 1
            seq = int(d.get("seq") or 0)
            for payload in list(session.buffer):
                if payload["s"] > seq:
                    await self._send(session, payload)
            session.seq += 1
            await self._send(session, {"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})
        self.world.touch()
        return session

    def view(self) -> list[JSON]:
        return [
            {
                "session_id": s.id,
                "shard_id": s.shard_id,
                "shard_count": s.shard_count,
                "connected": s.ws is not None,
                "resumable": s.resumable,
                "resumes": s.resumes,
                "seq": s.seq,
                "compression": s.compression,
                "guild_count": len(s.guild_ids),
                "guild_ids": [str(g) for g in s.guild_ids],
            }
            for s in self.sessions.values()
        ]
