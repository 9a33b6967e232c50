"""The sandbox harness: both emulators plus the real bot, and a user's-eye way to drive them.

Tests, benchmarks and `make demo` all start a `Sandbox`; it runs Encore exactly as
production does (`bot.runtime.Encore`), only pointed at the emulators by its settings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cryptography.fernet import Fernet

from bot.client import EncoreBot
from bot.clock import Clock
from bot.config import Role, Settings, load_settings
from bot.runtime import Encore
from db.models import LinkRequest
from sandbox import markdown
from sandbox.browser import Browser, LinkOutcome, follow_link
from sandbox.discord import DiscordControl, DiscordEmulator
from sandbox.ports import free_port
from sandbox.spotify import SpotifyControl, SpotifyEmulator
from sandbox.views import BotViews

MANAGE_GUILD = 1 << 5
MEMBER = (1 << 10) | (1 << 11) | (1 << 31)  # view channel, send messages, use commands


class SandboxBot(EncoreBot):
    """EncoreBot without the 5 s pause Discord asks for between identifies, whose view
    store the harness watches (a click waits until the bot listens to its button)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.views = BotViews(self)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


@dataclass
class Reply:
    """What the user saw in answer to one interaction."""

    record: dict[str, Any]
    message: dict[str, Any] | None
    choices: list[dict[str, Any]] = field(default_factory=list)
    names: markdown.Names | None = field(default=None, repr=False)

    @property
    def kind(self) -> int | None:
        response = self.record.get("response")
        return None if response is None else int(response["type"])

    @property
    def content(self) -> str:
        return str((self.message or {}).get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list((self.message or {}).get("embeds") or [])

    @property
    def ephemeral(self) -> bool:
        return bool(int((self.message or {}).get("flags") or 0) & 64)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for row in (self.message or {}).get("components") or []:
            for component in row.get("components", []):
                if component.get("type") == 2:
                    found.append(component)
        return found

    @property
    def select(self) -> dict[str, Any]:
        """The message's (first) string select."""
        for row in (self.message or {}).get("components") or []:
            for component in row.get("components", []):
                if component.get("type") == 3:
                    return dict(component)
        raise LookupError("no select in the message")

    @property
    def options(self) -> list[str]:
        """The labels of the select's options, in order."""
        return [str(o.get("label")) for o in self.select.get("options", [])]

    def button(self, label: str) -> dict[str, Any]:
        for button in self.buttons:
            if button.get("label") == label or label in str(button.get("custom_id", "")):
                return button
        raise LookupError(f"no button {label!r} in {[b.get('label') for b in self.buttons]}")

    @property
    def message_id(self) -> int:
        assert self.message is not None
        return int(self.message["id"])

    @property
    def text(self) -> str:
        """Content and embeds as plain text: what the transcript prints, what tests search."""
        return render(self.message) if self.message else ""

    @property
    def seen(self) -> str:
        """What a person reads: markdown rendered, `#channel` and `@user` names instead of
        ids, Discord timestamps as dates, whole button rows with their emoji."""
        if not self.message:
            return ""
        return markdown.seen(self.message, self.names or (lambda kind, snowflake: None))

    @property
    def late(self) -> bool:
        response = self.record.get("response") or {}
        return bool(self.record.get("late_responses")) or bool(response.get("error"))


def render(message: dict[str, Any]) -> str:
    lines: list[str] = []
    if message.get("content"):
        lines.append(str(message["content"]))
    for embed in message.get("embeds") or []:
        if embed.get("title"):
            lines.append(f"## {embed['title']}")
        if embed.get("description"):
            lines.append(str(embed["description"]))
        for embed_field in embed.get("fields") or []:
            lines.append(f"{embed_field.get('name')}: {embed_field.get('value')}")
        if (embed.get("footer") or {}).get("text"):
            lines.append(f"({embed['footer']['text']})")
    labels = []
    for row in message.get("components") or []:
        for component in row.get("components", []):
            label = component.get("label") or component.get("placeholder") or "?"
            labels.append(f"[{label}]" + (f"({component['url']})" if component.get("url") else ""))
    if labels:
        lines.append(" ".join(labels))
    return "\n".join(lines)


class Sandbox:
    """Emulators + Encore. Use as `async with Sandbox(database_url) as sandbox:`."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        clock: Clock | None = None,
        scheduler: bool = False,
        spotify_options: dict[str, Any] | None = None,
        discord_options: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
        data_dir: str | None = None,
        open_commands: tuple[str, ...] = ("digest",),
        discord_sign_in: bool = True,
    ) -> None:
        self.database_url = database_url
        self.clock = clock
        self.scheduler = scheduler
        self.discord_emulator = DiscordEmulator(**(discord_options or {}))
        self.spotify_emulator = SpotifyEmulator(**(spotify_options or {}))
        self._extra_settings = settings or {}
        self._data_dir = data_dir
        # Commands the test server's admins opened to every member in Server Settings >
        # Integrations. Discord would not deliver /digest (Manage Server by default) to a
        # member otherwise; opened, tests reach the bot's own permission check behind it.
        self.open_commands = open_commands
        # Encore proves who opens a personal link with Discord's OAuth2 (the recommended
        # set-up); False runs it without DISCORD_CLIENT_SECRET.
        self.discord_sign_in = discord_sign_in
        self.encore: Encore | None = None
        self.users: dict[str, int] = {}
        self.http: aiohttp.ClientSession
        self.discord: DiscordControl
        self.spotify: SpotifyControl
        self.guild_id = 0
        self.channel_id = 0
        self.settings: Settings

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        discord_base = await self.discord_emulator.start()
        spotify_base = await self.spotify_emulator.start()
        self.http = aiohttp.ClientSession()
        self.discord = DiscordControl(discord_base, self.http)
        self.spotify = SpotifyControl(spotify_base, self.http)
        port = free_port()
        options: dict[str, Any] = {
            "discord_token": self.discord_emulator.bot_token,
            "discord_api_url": self.discord_emulator.api_url,
            "discord_gateway_url": self.discord_emulator.gateway_url,
            "spotify_client_id": "sandbox-client",
            "spotify_client_secret": "sandbox-secret",
            "spotify_api_url": self.spotify_emulator.api_url,
            "spotify_accounts_url": self.spotify_emulator.accounts_url,
            "public_url": f"http://127.0.0.1:{port}",
            "web_port": port,
            "encryption_keys": Fernet.generate_key().decode(),
            "scheduler_tick_seconds": 1.0,
        }
        if self.discord_sign_in:
            info = await self.discord.info()
            options["discord_client_id"] = str(info["client_id"])
            options["discord_client_secret"] = str(info["client_secret"])
            await self.discord.set_redirect_uris([f"http://127.0.0.1:{port}/discord/callback"])
        if self.database_url:
            options["database_url"] = self.database_url
        if self._data_dir:
            options["encore_data_dir"] = self._data_dir
        options.update(self._extra_settings)
        self.settings = load_settings(Role.RUN, **options)
        guild = await self.discord.create_guild(
            "Encore Lounge", channels=[{"name": "general"}, {"name": "new-releases"}]
        )
        self.guild_id = int(guild["id"])
        self.channel_id = int(guild["channels"][0]["id"])
        for command in self.open_commands:
            await self.discord.grant_command(self.guild_id, command)
        await self.start_bot()
        assert self.encore is not None and self.encore.bot is not None
        await self.encore.bot.tree.sync()

    async def start_bot(self) -> Encore:
        self.encore = Encore(
            self.settings,
            Role.RUN,
            clock=self.clock,
            bot_class=SandboxBot,
            bot_options={"guild_ready_timeout": 0.1},
            scheduler=self.scheduler,
        )
        await self.encore.start()
        return self.encore

    async def restart_bot(self) -> Encore:
        """Stop the bot process (as a crash or deploy would) and start a new one."""
        if self.encore is not None:
            await self.encore.stop()
        return await self.start_bot()

    async def stop(self) -> None:
        if self.encore is not None:
            await self.encore.stop()
        await self.http.close()
        await self.discord_emulator.stop()
        await self.spotify_emulator.stop()

    @property
    def services(self) -> Any:
        assert self.encore is not None
        return self.encore.services

    @property
    def bot(self) -> EncoreBot:
        assert self.encore is not None and self.encore.bot is not None
        return self.encore.bot

    # -- people --------------------------------------------------------------------------

    async def user(self, name: str, *, dms_open: bool = True) -> int:
        if name not in self.users:
            created = await self.discord.create_user(name, dms_open=dms_open)
            self.users[name] = int(created["id"])
        return self.users[name]

    # -- interactions --------------------------------------------------------------------

    async def slash(
        self,
        user: int,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        dm: bool = False,
        guild_id: int | None = None,
        channel_id: int | None = None,
        permissions: int | None = None,
        timeout: float = 15.0,
    ) -> Reply:
        injected = await self.discord.command(
            name,
            user,
            guild_id=None if dm else (guild_id or self.guild_id),
            channel_id=None if dm else (channel_id or self.channel_id),
            options=options,
            permissions=permissions,
        )
        return await self.reply(injected["id"], timeout=timeout)

    async def post(self, user: int, content: str, *, channel_id: int | None = None) -> int:
        """A message `user` posts in a channel (the target of message commands); its id."""
        posted = await self.discord.post_message(channel_id or self.channel_id, user, content)
        return int(posted["id"])

    async def message_command(
        self, user: int, name: str, message_id: int, *, timeout: float = 15.0
    ) -> Reply:
        """Right-click a message > Apps > `name`, as `user`."""
        injected = await self.discord.message_command(name, user, message_id)
        return await self.reply(injected["id"], timeout=timeout)

    async def user_command(
        self,
        user: int,
        name: str,
        target: int,
        *,
        dm: bool = False,
        guild_id: int | None = None,
        timeout: float = 15.0,
    ) -> Reply:
        """Right-click a member > Apps > `name`, as `user`."""
        injected = await self.discord.user_command(
            name, user, target, guild_id=None if dm else (guild_id or self.guild_id)
        )
        return await self.reply(injected["id"], timeout=timeout)

    async def click(
        self,
        user: int,
        custom_id: str,
        message_id: int,
        *,
        timeout: float = 15.0,
        ready_timeout: float = 5.0,
    ) -> Reply:
        """Press a component as `user`, once the bot listens to it.

        discord.py registers a message's view only after the HTTP call that sent it has
        returned; until then a click would be dropped, which no person could cause. The
        click waits (on the bot's view store, not a sleep) until the bot would dispatch
        it, or `ready_timeout` for a view that is gone (timed out, stopped, restarted).
        """
        bot = self.bot
        if isinstance(bot, SandboxBot):
            await bot.views.wait_dispatchable(message_id, custom_id, ready_timeout)
        injected = await self.discord.click(custom_id, user, message_id=message_id)
        return await self.reply(injected["id"], timeout=timeout)

    async def choose(self, user: int, reply: Reply, value: str, *, timeout: float = 15.0) -> Reply:
        """Pick the option whose value (or label) is `value` in the reply's select, as `user`."""
        select = reply.select
        option = next(
            (o for o in select.get("options", []) if value in (o.get("value"), o.get("label"))),
            None,
        )
        if option is None:
            raise LookupError(f"no option {value!r} in {reply.options}")
        bot = self.bot
        custom_id = str(select["custom_id"])
        if isinstance(bot, SandboxBot):
            await bot.views.wait_dispatchable(reply.message_id, custom_id, 5.0)
        injected = await self.discord.click(
            custom_id,
            user,
            message_id=reply.message_id,
            values=[str(option["value"])],
            component_type=3,
        )
        return await self.reply(injected["id"], timeout=timeout)

    async def press(self, user: int, reply: Reply, label: str, *, timeout: float = 15.0) -> Reply:
        """Press the button labelled `label` on a reply's message, as `user`."""
        button = reply.button(label)
        return await self.click(user, str(button["custom_id"]), reply.message_id, timeout=timeout)

    async def autocomplete(
        self, user: int, name: str, focused: str, options: dict[str, Any], *, dm: bool = False
    ) -> Reply:
        injected = await self.discord.autocomplete(
            name,
            user,
            focused,
            options=options,
            guild_id=None if dm else self.guild_id,
            channel_id=None if dm else self.channel_id,
        )
        record = await self.discord.interaction(injected["id"], wait=5)
        choices = ((record.get("response") or {}).get("data") or {}).get("choices") or []
        return Reply(record, None, choices, names=self.name_of)

    async def reply(self, interaction_id: str | int, *, timeout: float = 15.0) -> Reply:
        """Wait until the interaction shows the user something, and return it."""
        deadline = time.monotonic() + timeout
        record = await self.discord.interaction(interaction_id, wait=timeout)
        while True:
            message = self._visible(record)
            if message is not None or time.monotonic() >= deadline:
                return Reply(record, message, names=self.name_of)
            await asyncio.sleep(0.05)
            record = await self.discord.interaction(interaction_id)

    def _visible(self, record: dict[str, Any]) -> dict[str, Any] | None:
        response = record.get("response")
        if response is None:
            return None
        kind = int(response["type"])
        if record.get("followups"):
            return dict(record["followups"][-1])
        original = record.get("original")
        if kind == 4:
            return dict(original) if original else {"content": "", **(response.get("data") or {})}
        if kind == 7 and record.get("message_id"):
            return dict(original) if original else dict(response.get("data") or {})
        # A deferral shows something once *this* interaction edited the message: the
        # message's own edit history may hold an earlier click's edits.
        if kind in (5, 6) and original and record.get("edits"):
            return dict(original)
        return None

    def name_of(self, kind: str, snowflake: int) -> str | None:
        """A user's, channel's or role's name in the Discord emulator (for `Reply.seen`)."""
        world = self.discord_emulator.world
        if kind == "user":
            user = world.users.get(snowflake)
            return None if user is None else (user.global_name or user.username)
        if kind == "channel":
            channel = world.channels.get(snowflake)
            return None if channel is None else channel.name
        for guild in world.guilds.values():
            for role in getattr(guild, "roles", None) or []:
                if int(getattr(role, "id", 0) or 0) == snowflake:
                    return str(getattr(role, "name", snowflake))
        return None

    def seen(self, message: dict[str, Any]) -> str:
        """Any message (a DM, a digest post) as a person reads it."""
        return markdown.seen(message, self.name_of)

    async def message(self, message_id: int) -> dict[str, Any]:
        for message in await self.discord.messages():
            if int(message["id"]) == message_id:
                return dict(message)
        raise LookupError(message_id)

    async def dms(self, user: int) -> list[dict[str, Any]]:
        return list(await self.discord.dms(user))

    async def wait_for_dm(
        self, user: int, contains: str, *, timeout: float = 10.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for message in await self.dms(user):
                if contains in render(message):
                    return message
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no DM containing {contains!r} for user {user}")
            await asyncio.sleep(0.05)

    # -- linking ---------------------------------------------------------------------------

    async def get(self, url: str) -> tuple[int, str, str | None]:
        async with self.http.get(url, allow_redirects=False) as response:
            return response.status, await response.text(), response.headers.get("Location")

    async def follow_link(
        self,
        link_url: str,
        spotify_user: str,
        *,
        deny: bool = False,
        discord_user: int | None = None,
        browser: Browser | None = None,
        scopes: str | None = None,
    ) -> LinkOutcome:
        """Open a personal link in a browser (a fresh one unless given), confirm it, sign in
        to Discord as `discord_user` (by default the person the link is for) when Encore
        asks, and consent on Spotify as `spotify_user` (to `scopes` only, when given)."""
        if discord_user is None:
            discord_user = await self.link_owner(link_url)
        options: dict[str, Any] = {
            "discord": self.discord,
            "spotify": self.spotify,
            "spotify_user": spotify_user,
            "discord_user": discord_user,
            "deny": deny,
            "scopes": scopes,
        }
        if browser is not None:
            return await follow_link(browser, link_url, **options)
        async with Browser() as fresh:
            return await follow_link(fresh, link_url, **options)

    async def link_owner(self, link_url: str) -> int | None:
        """Whom a personal link was made for (as the database says), None if unknown."""
        async with self.services.sessions() as session:
            request = await session.get(LinkRequest, nonce_of(link_url))
            return None if request is None else int(request.discord_user_id)

    async def personal_link(self, user: int) -> str:
        """/link as `user`; the personal link it sent (by DM, or in the reply)."""
        reply = await self.slash(user, "link")
        link_url = self.link_in(reply) or self.link_in_dms(await self.dms(user))
        if link_url is None:
            raise AssertionError(f"no personal link for {user}: {reply.text}")
        return link_url

    async def link(
        self,
        user: int,
        spotify_user: str,
        *,
        deny: bool = False,
        discord_user: int | None = None,
        browser: Browser | None = None,
        scopes: str | None = None,
    ) -> LinkOutcome:
        """The whole flow: /link, the DM's personal link, its page and confirmation, Discord's
        sign-in (as `user` unless `discord_user` says otherwise), Spotify's consent, the
        callback."""
        link_url = await self.personal_link(user)
        return await self.follow_link(
            link_url,
            spotify_user,
            deny=deny,
            discord_user=discord_user if discord_user is not None else user,
            browser=browser,
            scopes=scopes,
        )

    def link_in(self, reply: Reply) -> str | None:
        return _personal_link(self.settings.public_url, [reply.message] if reply.message else [])

    def link_in_dms(self, dms: list[dict[str, Any]]) -> str | None:
        return _personal_link(self.settings.public_url, list(reversed(dms)))


def _personal_link(public_url: str, messages: list[dict[str, Any]]) -> str | None:
    prefix = f"{public_url}/link/"
    for message in messages:
        for row in message.get("components") or []:
            for component in row.get("components", []):
                if str(component.get("url", "")).startswith(prefix):
                    return str(component["url"])
        for word in str(message.get("content") or "").split():
            if word.startswith(prefix):
                return word
    return None


def nonce_of(link_url: str) -> str:
    return urlsplit(link_url).path.rsplit("/", 1)[-1]


DIGEST_MARKER = "Encore daily digest"  # the footer every digest post carries


async def digest_posts(discord: DiscordControl) -> Counter[str]:
    """How many digests each channel received, as the Discord emulator recorded them."""
    posts: Counter[str] = Counter()
    for message in await discord.messages():
        footers = [str((e.get("footer") or {}).get("text", "")) for e in message["embeds"] or []]
        if any(DIGEST_MARKER in footer for footer in footers):
            posts[str(message["channel_id"])] += 1
    return posts


async def schedule_digests_now(database_url: str, guilds: list[dict[str, Any]]) -> None:
    """Turn the digest on in each server's first channel, due a minute ago (UTC)."""
    from sqlalchemy import insert

    from db.engine import create_engine
    from db.models import GuildSettings

    now = dt.datetime.now(dt.UTC)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(GuildSettings),
                [
                    {
                        "guild_id": int(guild["id"]),
                        "channel_id": int(guild["channels"][0]["id"]),
                        "post_time": (now - dt.timedelta(minutes=2)).time().replace(microsecond=0),
                        "timezone": "UTC",
                        "enabled": True,
                        "next_run_at": now - dt.timedelta(minutes=1),
                    }
                    for guild in guilds
                ],
            )
    finally:
        await engine.dispose()


async def queue_dms(database_url: str, texts: Mapping[int, str]) -> None:
    """Queue a text DM for each member in the outbox, in one transaction, as another process
    would (its commit wakes the delivering processes: the outbox trigger, LISTEN/NOTIFY)."""
    from sqlalchemy import insert

    from db.engine import create_engine
    from db.models import OutboxMessage

    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(OutboxMessage),
                [
                    {"discord_user_id": member, "kind": "notice", "payload": {"content": text}}
                    for member, text in texts.items()
                ],
            )
    finally:
        await engine.dispose()
