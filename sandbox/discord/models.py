"""The objects of the emulated Discord: users, guilds, channels, messages, interactions."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1420070400000

# permission bits (https://discord.com/developers/docs/topics/permissions)
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
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
# What an app may use in an answer where it has no bot member (docs: "app_permissions").
INTERACTION_RESPONSE_PERMISSIONS = ATTACH_FILES | EMBED_LINKS | MENTION_EVERYONE
BOT_DM_PERMISSIONS = INTERACTION_RESPONSE_PERMISSIONS | USE_EXTERNAL_EMOJIS

# message flags
EPHEMERAL = 1 << 6
LOADING = 1 << 7
IS_COMPONENTS_V2 = 1 << 15

# channel types
GUILD_TEXT = 0
DM = 1
GROUP_DM = 3

# interaction types and contexts
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
APPLICATION_COMMAND_AUTOCOMPLETE = 4
MODAL_SUBMIT = 5
GUILD_CONTEXT, BOT_DM_CONTEXT, PRIVATE_CHANNEL_CONTEXT = 0, 1, 2
GUILD_INSTALL, USER_INSTALL = 0, 1

# application command types
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3


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
    # has added the app to their account (a user install, integration type 1)
    installed_app: bool = False

    def to_json(self) -> JSON:
        d: JSON = {
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
    type: int = GUILD_TEXT
    guild_id: int | None = None
    bot_can_post: bool = True
    bot_can_embed: bool = True
    bot_can_view: bool = True
    position: int = 0
    recipient_id: int | None = None  # the user of a DM with the bot
    recipient_ids: list[int] = field(default_factory=list)  # a private channel's members
    last_message_id: int | None = None
    # overwrites set through the control API ({id, type: 0 role / 1 member, allow, deny}),
    # besides the bot's own member overwrite that the bot_can_* switches make
    permission_overwrites: list[JSON] = field(default_factory=list)

    @property
    def is_bot_dm(self) -> bool:
        return self.type == DM and self.recipient_id is not None

    @property
    def is_private(self) -> bool:
        """A group DM, or a DM between users that the bot is not part of."""
        return self.guild_id is None and not self.is_bot_dm


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int
    managed: bool = False


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    bot_role_id: int
    channel_ids: list[int] = field(default_factory=list)
    # the server's roles by id: @everyone (the guild's id) and the bot's managed role first
    roles: dict[int, Role] = field(default_factory=dict)
    # the roles the bot's member holds besides @everyone (its managed role, and any given)
    bot_roles: list[int] = field(default_factory=list)
    joined_at: float = field(default_factory=time.time)
    # False for a server where only members' user installs of the app reach it
    bot_member: bool = True
    # True: its GUILD_CREATE carries a lived-in server's roles, channels, threads, emojis and
    # stickers as well (sandbox/discord/furniture.py)
    furnished: bool = False


@dataclass
class StoredMessage:
    """A message as the emulator keeps it: the wire object plus what tests ask about."""

    id: int
    kind: str  # channel | dm | interaction_response | followup | user
    channel_id: int
    guild_id: int | None
    dm_user_id: int | None
    interaction_id: int | None
    author_id: int
    wire: JSON
    allowed_mentions: Any
    created_at: float
    nonce: str | None = None
    deleted: bool = False
    deleted_at: float | None = None
    edits: list[JSON] = field(default_factory=list)
    # Cleared while the request that gave the message its components is being answered:
    # a person cannot click a button before Discord has shown the message.
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.settled.set()

    @property
    def flags(self) -> int:
        return int(self.wire.get("flags") or 0)


@dataclass
class InteractionRecord:
    id: int
    token: str
    type: int
    kind: str  # command | user_command | message_command | autocomplete | component | modal
    name: str | None
    custom_id: str | None
    user_id: int
    guild_id: int | None
    channel_id: int
    message_id: int | None
    context: int
    payload: JSON
    dispatched_at: float
    shard_id: int | None = None
    session_id: str | None = None
    response: JSON | None = None
    late_responses: list[JSON] = field(default_factory=list)
    extra_acks: list[JSON] = field(default_factory=list)
    followup_ids: list[int] = field(default_factory=list)
    original_id: int | None = None
    edits: list[JSON] = field(default_factory=list)
    # When the member first saw an answer: a message response, or the first followup or edit
    # that replaced a deferral's "thinking" message (what "time to the final answer" reads).
    answered_at: float | None = None

    @property
    def from_message(self) -> bool:
        """A component interaction, or a modal opened from one: it may update its message."""
        return self.message_id is not None
