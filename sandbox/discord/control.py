"""Async HTTP client of the Discord emulator's /_sandbox/ control API."""

from __future__ import annotations

import urllib.parse
from typing import Any, cast

from sandbox.control import ControlClient, ControlError


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


class DiscordControl(ControlClient):
    """Drives a DiscordEmulator (possibly in another process) over HTTP.

    ``base_url`` is the emulator's base URL, e.g. ``http://127.0.0.1:8790``.
    """

    async def __aenter__(self) -> DiscordControl:
        return self

    async def _dict(self, method: str, path: str, *args: Any, **kw: Any) -> dict[str, Any]:
        return cast(dict[str, Any], await self._call(method, path, *args, **kw))

    async def _list(self, method: str, path: str, *args: Any, **kw: Any) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], await self._call(method, path, *args, **kw))

    async def reset(self) -> dict[str, Any]:
        return await self._dict("POST", "/reset")

    async def info(self) -> dict[str, Any]:
        return await self._dict("GET", "/info")

    async def state(self) -> dict[str, Any]:
        return await self._dict("GET", "/state")

    async def settings(
        self,
        *,
        rate_limits: bool | None = None,
        global_limit_per_s: int | None = None,
        channel_limit: int | None = None,
        channel_window: float | None = None,
        route_limit: int | None = None,
        route_window: float | None = None,
        interaction_deadline: float | None = None,
        callback_delay_s: float | None = None,
        token_lifetime_s: float | None = None,
        nonce_window_s: float | None = None,
        render_timeout_s: float | None = None,
        client_secret: str | None = None,
        oauth_code_lifetime_s: float | None = None,
    ) -> dict[str, Any]:
        body = _clean(
            {
                "rate_limits": rate_limits,
                "global_limit_per_s": global_limit_per_s,
                "channel_limit": channel_limit,
                "channel_window": channel_window,
                "route_limit": route_limit,
                "route_window": route_window,
                "interaction_deadline": interaction_deadline,
                "callback_delay_s": callback_delay_s,
                "token_lifetime_s": token_lifetime_s,
                "nonce_window_s": nonce_window_s,
                "render_timeout_s": render_timeout_s,
                "client_secret": client_secret,
                "oauth_code_lifetime_s": oauth_code_lifetime_s,
            }
        )
        return await self._dict("POST", "/settings", body)

    # -- guilds, channels, users
    async def create_guild(
        self,
        name: str,
        *,
        id: int | str | None = None,
        owner_id: int | str | None = None,
        channels: list[dict[str, Any]] | None = None,
        bot_member: bool = True,
    ) -> dict[str, Any]:
        """A server (with a "general" channel if none given); ``bot_member=False`` for one
        the bot is not in, reached only through members' user installs."""
        body = _clean(
            {
                "name": name,
                "id": id,
                "owner_id": owner_id,
                "channels": channels,
                "bot_member": bot_member,
            }
        )
        return await self._dict("POST", "/guilds", body)

    async def create_guilds_bulk(
        self,
        count: int,
        prefix: str = "guild",
        *,
        owner_id: int | str | None = None,
        furnished: bool = False,
    ) -> dict[str, Any]:
        """``furnished``: servers as lived-in as real ones in GUILD_CREATE (tens of channels
        and roles, threads, emojis, stickers: `sandbox/discord/furniture.py`)."""
        body = _clean(
            {"count": count, "prefix": prefix, "owner_id": owner_id, "furnished": furnished}
        )
        return await self._dict("POST", "/guilds/bulk", body, total_s=600)

    async def delete_guild(self, guild_id: int | str) -> dict[str, Any]:
        """Removes the bot from a guild (GUILD_DELETE to its shard)."""
        return await self._dict("DELETE", f"/guilds/{guild_id}")

    async def guilds(self) -> list[dict[str, Any]]:
        return await self._list("GET", "/guilds")

    async def guild(self, guild_id: int | str) -> dict[str, Any]:
        return await self._dict("GET", f"/guilds/{guild_id}")

    async def create_channel(
        self,
        guild_id: int | str,
        name: str,
        *,
        bot_can_post: bool = True,
        bot_can_embed: bool = True,
        bot_can_view: bool = True,
    ) -> dict[str, Any]:
        body = {
            "guild_id": str(guild_id),
            "name": name,
            "bot_can_post": bot_can_post,
            "bot_can_embed": bot_can_embed,
            "bot_can_view": bot_can_view,
        }
        return await self._dict("POST", "/channels", body)

    async def update_channel(
        self,
        channel_id: int | str,
        *,
        name: str | None = None,
        bot_can_post: bool | None = None,
        bot_can_embed: bool | None = None,
        bot_can_view: bool | None = None,
        permission_overwrites: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """``permission_overwrites``: ``[{id, type (0 role, 1 member), allow, deny}]``
        replaces the channel's overwrites (the ``bot_can_*`` switches stay apart)."""
        body = _clean(
            {
                "name": name,
                "bot_can_post": bot_can_post,
                "bot_can_embed": bot_can_embed,
                "bot_can_view": bot_can_view,
                "permission_overwrites": permission_overwrites,
            }
        )
        return await self._dict("PATCH", f"/channels/{channel_id}", body)

    async def create_role(
        self, guild_id: int | str, name: str, *, permissions: int = 0
    ) -> dict[str, Any]:
        """A role of the server (no gateway event: the bot reads roles over REST)."""
        body = {"name": name, "permissions": permissions}
        return await self._dict("POST", f"/guilds/{guild_id}/roles", body)

    async def update_role(
        self, guild_id: int | str, role_id: int | str, *, permissions: int
    ) -> dict[str, Any]:
        body = {"permissions": permissions}
        return await self._dict("PATCH", f"/guilds/{guild_id}/roles/{role_id}", body)

    async def give_bot_role(self, guild_id: int | str, role_id: int | str) -> dict[str, Any]:
        """The owner gives the bot's member a role (no reconnect, no gateway event)."""
        return await self._dict("PUT", f"/guilds/{guild_id}/bot/roles/{role_id}")

    async def take_bot_role(self, guild_id: int | str, role_id: int | str) -> dict[str, Any]:
        return await self._dict("DELETE", f"/guilds/{guild_id}/bot/roles/{role_id}")

    async def create_user(
        self,
        username: str,
        *,
        id: int | str | None = None,
        dms_open: bool = True,
        installed_app: bool | None = None,
    ) -> dict[str, Any]:
        """A person; ``installed_app=True`` once they have added the app to their account."""
        body = _clean(
            {"username": username, "id": id, "dms_open": dms_open, "installed_app": installed_app}
        )
        return await self._dict("POST", "/users", body)

    async def update_user(
        self,
        user_id: int | str,
        *,
        dms_open: bool | None = None,
        username: str | None = None,
        installed_app: bool | None = None,
    ) -> dict[str, Any]:
        body = _clean({"dms_open": dms_open, "username": username, "installed_app": installed_app})
        return await self._dict("PATCH", f"/users/{user_id}", body)

    async def create_private_channel(
        self, user_ids: list[int | str], *, name: str | None = None
    ) -> dict[str, Any]:
        """A group DM (or, for two people and no name, their DM) without the bot: context 2."""
        body = _clean({"user_ids": [str(u) for u in user_ids], "name": name})
        return await self._dict("POST", "/private_channels", body)

    async def grant_command(
        self,
        guild_id: int | str,
        command: str,
        user_id: int | str | None = None,
        *,
        allow: bool = True,
    ) -> dict[str, Any]:
        """A server admin's override (Server Settings > Integrations) of a command's
        ``default_member_permissions``, for one member or (no ``user_id``) everyone."""
        body = _clean(
            {
                "command": command,
                "user_id": None if user_id is None else str(user_id),
                "allow": allow,
            }
        )
        return await self._dict("POST", f"/guilds/{guild_id}/command_permissions", body)

    async def post_message(
        self,
        channel_id: int | str,
        author_id: int | str,
        content: str = "",
        *,
        embeds: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A message a person posts (a target for message commands); MESSAGE_CREATE follows
        if the bot's intents ask for it."""
        body = _clean(
            {
                "channel_id": str(channel_id),
                "author_id": str(author_id),
                "content": content,
                "embeds": embeds,
            }
        )
        return await self._dict("POST", "/messages", body)

    # -- interactions
    async def interact(
        self,
        kind: str,
        user_id: int | str,
        *,
        guild_id: int | str | None = None,
        channel_id: int | str | None = None,
        name: str | None = None,
        options: dict[str, Any] | None = None,
        focused: str | None = None,
        custom_id: str | None = None,
        message_id: int | str | None = None,
        component_type: int | None = None,
        values: Any = None,
        components: list[dict[str, Any]] | None = None,
        permissions: int | str | None = None,
        locale: str | None = None,
        target_id: int | str | None = None,
        stale: bool = False,
    ) -> dict[str, Any]:
        """Injects an INTERACTION_CREATE; returns ``{id, token, shard_id}``.

        ``kind``: command | user_command | message_command | autocomplete | component | modal.
        Without ``guild_id``/``channel_id`` it happens in the user's DM with the bot; a
        private channel's id makes it context 2. A command Discord would not offer there
        (not registered, ``contexts``, ``integration_types``, ``default_member_permissions``)
        raises :class:`ControlError` 403 with a ``reason``; ``stale=True`` delivers an
        unregistered command anyway, as a client with an outdated command list does.
        """
        body = _clean(
            {
                "kind": kind,
                "user_id": str(user_id),
                "guild_id": None if guild_id is None else str(guild_id),
                "channel_id": None if channel_id is None else str(channel_id),
                "name": name,
                "options": options,
                "focused": focused,
                "custom_id": custom_id,
                "message_id": None if message_id is None else str(message_id),
                "component_type": component_type,
                "values": values,
                "components": components,
                "permissions": None if permissions is None else str(permissions),
                "locale": locale,
                "target_id": None if target_id is None else str(target_id),
                "stale": stale or None,
            }
        )
        return await self._dict("POST", "/interactions", body)

    async def command(
        self,
        name: str,
        user_id: int | str,
        *,
        guild_id: int | str | None = None,
        channel_id: int | str | None = None,
        options: dict[str, Any] | None = None,
        permissions: int | str | None = None,
        stale: bool = False,
    ) -> dict[str, Any]:
        return await self.interact(
            "command",
            user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            name=name,
            options=options,
            permissions=permissions,
            stale=stale,
        )

    async def user_command(
        self,
        name: str,
        user_id: int | str,
        target_user_id: int | str,
        *,
        guild_id: int | str | None = None,
        channel_id: int | str | None = None,
        permissions: int | str | None = None,
    ) -> dict[str, Any]:
        """Right-click a user > Apps > ``name``: ``data.target_id`` and ``resolved.users``."""
        return await self.interact(
            "user_command",
            user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            name=name,
            target_id=target_user_id,
            permissions=permissions,
        )

    async def message_command(
        self,
        name: str,
        user_id: int | str,
        message_id: int | str,
        *,
        permissions: int | str | None = None,
    ) -> dict[str, Any]:
        """Right-click a message > Apps > ``name``: ``data.target_id``, ``resolved.messages``."""
        return await self.interact(
            "message_command", user_id, name=name, target_id=message_id, permissions=permissions
        )

    async def autocomplete(
        self,
        name: str,
        user_id: int | str,
        focused: str,
        *,
        guild_id: int | str | None = None,
        channel_id: int | str | None = None,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return await self.interact(
            "autocomplete",
            user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            name=name,
            options=options,
            focused=focused,
        )

    async def click(
        self,
        custom_id: str,
        user_id: int | str,
        *,
        message_id: int | str | None = None,
        values: list[str] | None = None,
        component_type: int | None = None,
    ) -> dict[str, Any]:
        return await self.interact(
            "component",
            user_id,
            custom_id=custom_id,
            message_id=message_id,
            values=values,
            component_type=component_type,
        )

    async def submit_modal(
        self,
        custom_id: str,
        user_id: int | str,
        values: dict[str, str],
        *,
        guild_id: int | str | None = None,
        channel_id: int | str | None = None,
        message_id: int | str | None = None,
    ) -> dict[str, Any]:
        return await self.interact(
            "modal",
            user_id,
            custom_id=custom_id,
            values=values,
            guild_id=guild_id,
            channel_id=channel_id,
            message_id=message_id,
        )

    async def interaction(
        self, interaction_id: int | str, *, wait: float | None = None, until: str = "response"
    ) -> dict[str, Any]:
        """The interaction record; ``wait`` long-polls until ``until`` (response|followup|any|late,
        or answered: the final answer is shown, or the first response came too late)."""
        params = {"wait": wait, "until": until}
        return await self._dict(
            "GET", f"/interactions/{interaction_id}", params=params, total_s=(wait or 0) + 30
        )

    async def interactions(self) -> list[dict[str, Any]]:
        return await self._list("GET", "/interactions")

    # -- records
    async def messages(
        self,
        *,
        channel_id: int | str | None = None,
        user_id: int | str | None = None,
        guild_id: int | str | None = None,
        kind: str | None = None,
        since: float | None = None,
    ) -> list[dict[str, Any]]:
        params = {
            "channel_id": channel_id,
            "user_id": user_id,
            "guild_id": guild_id,
            "kind": kind,
            "since": since,
        }
        return await self._list("GET", "/messages", params=params)

    async def message(self, message_id: int | str) -> dict[str, Any]:
        return await self._dict("GET", f"/messages/{message_id}")

    async def dms(self, user_id: int | str) -> list[dict[str, Any]]:
        return await self._list("GET", f"/dms/{user_id}")

    async def requests(
        self, *, since: float | None = None, path: str | None = None
    ) -> list[dict[str, Any]]:
        return await self._list("GET", "/requests", params={"since": since, "path": path})

    async def ratelimits(self) -> dict[str, Any]:
        """429s the emulator answered: `global_429s` (and by credential kind), `route_429s`."""
        return await self._dict("GET", "/ratelimits")

    async def errors(
        self, *, since: float | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        return await self._list("GET", "/errors", params={"since": since, "kind": kind})

    async def commands(self) -> dict[str, Any]:
        return await self._dict("GET", "/commands")

    # -- faults
    async def lose_responses(
        self, count: int = 1, *, channel_id: int | str | None = None, dms: bool = False
    ) -> dict[str, Any]:
        """The next ``count`` message creates (in ``channel_id``, or in DMs, or anywhere) are
        written and then answered ``502`` with Cloudflare's HTML page."""
        body = _clean(
            {
                "count": count,
                "channel_id": None if channel_id is None else str(channel_id),
                "dms": dms,
            }
        )
        return await self._dict("POST", "/faults/lost_responses", body)

    async def faults(self) -> dict[str, Any]:
        return await self._dict("GET", "/faults")

    async def clear_faults(self) -> dict[str, Any]:
        return await self._dict("DELETE", "/faults")

    # -- Discord OAuth2
    async def set_redirect_uris(self, redirect_uris: list[str]) -> dict[str, Any]:
        """The application's registered redirect URIs (``redirect_uri`` must match one)."""
        return await self._dict("POST", "/oauth2/redirect_uris", {"redirect_uris": redirect_uris})

    async def authorize(
        self, authorize_url: str, user_id: int | str | None = None, *, deny: bool = False
    ) -> str:
        """Play the person on Discord's consent page: consent as ``user_id`` (or refuse);
        returns the redirect ``Location`` (``code``/``state``, or ``error``/``state``)."""
        if deny:
            extra = {"sandbox_deny": "1"}
        elif user_id is not None:
            extra = {"sandbox_user": str(user_id)}
        else:
            raise ValueError("authorize needs a user_id, or deny=True")
        sep = "&" if "?" in authorize_url else "?"
        url = authorize_url + sep + urllib.parse.urlencode(extra)
        async with self._http().get(url, allow_redirects=False) as resp:
            if resp.status != 302:
                raise ControlError(resp.status, await resp.text())
            return resp.headers["Location"]

    # -- gateway
    async def gateway_disconnect(
        self, *, shard_id: int | None = None, code: int = 4000, resumable: bool = True
    ) -> dict[str, Any]:
        body = _clean({"shard_id": shard_id, "code": code, "resumable": resumable})
        return await self._dict("POST", "/gateway/disconnect", body)

    async def gateway_reconnect(self, *, shard_id: int | None = None) -> dict[str, Any]:
        return await self._dict("POST", "/gateway/reconnect", _clean({"shard_id": shard_id}))
