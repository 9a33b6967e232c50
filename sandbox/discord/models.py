"""State objects of the Discord emulator and their wire (JSON) shapes."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1420070400000

# permission bits
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)
MEMBER_PERMISSIONS = EVERYONE_PERMISSIONS
BOT_ROLE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | SEND_MESSAGES_IN_THREADS
)


class Snowflakes:
    """Snowflake ids whose timestamp part increases by at least 1 ms per id.

    That spreads consecutive guild ids over shards evenly: ``(id >> 22) % n``.
    """

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._last_ms = 0
        self._inc = itertools.count()
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            ms = max(int(time.time() * 1000) - DISCORD_EPOCH_MS, self._last_ms + 1)
            self._last_ms = ms
            return (ms << 22) | (self._worker << 17) | (next(self._inc) & 0xFFF)


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


def shard_of(guild_id: int | None, shard_count: int) -> int:
    if not guild_id or shard_count <= 1:
        return 0
    return (guild_id >> 22) % shard_count


@dataclass
class User:
    id: int
    username: str
    dms_open: bool = True
    bot: bool = False
    global_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
        }
        if self.bot:
            d["bot"] = True
        return d


@dataclass
class Channel:
    id: int
    name: str
    type: int = 0
    guild_id: int | None = None
    bot_can_post: bool = True
    bot_can_embed: bool = True
    bot_can_view: bool = True
    position: int = 0
    recipient_id: int | None = None
    last_message_id: int | None = None


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    bot_role_id: int
    channel_ids: list[int] = field(default_factory=list)
    joined_at: float = field(default_factory=time.time)
