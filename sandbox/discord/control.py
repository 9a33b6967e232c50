"""Async HTTP client of the Discord emulator's /_sandbox/ control API."""

from __future__ import annotations

from typing import Any, cast

from sandbox.control import ControlClient


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
        token_lifetime_s: float | None = None,
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
                "token_lifetime_s": token_lifetime_s,
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
    ) -> dict[str, Any]:
        body = _clean({"name": name, "id": id, "owner_id": owner_id, "channels": channels})
        return await self._dict("POST", "/guilds", body)

    async def create_guilds_bulk(
        self, count: int, prefix: str = "guild", *, owner_id: int | str | None = None
    ) -> dict[str, Any]:
        body = _clean({"count": count, "prefix": prefix, "owner_id": owner_id})
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
    ) -> dict[str, Any]:
        body = _clean(
            {
                "name": name,
                "bot_can_post": bot_can_post,
                "bot_can_embed": bot_can_embed,
                "bot_can_view": bot_can_view,
            }
        )
        return await self._dict("PATCH", f"/channels/{channel_id}", body)

    async def create_user(
        self, username: str, *, id: int | str | None = None, dms_open: bool = True
    ) -> dict[str, Any]:
        body = _clean({"username": username, "id": id, "dms_open": dms_open})
        return await self._dict("POST", "/users", body)

    async def update_user(
        self, user_id: int | str, *, dms_open: bool | None = None, username: str | None = None
    ) -> dict[str, Any]:
        body = _clean({"dms_open": dms_open, "username": username})
        return await self._dict("PATCH", f"/users/{user_id}", body)

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
    ) -> dict[str, Any]:
        """Injects an INTERACTION_CREATE; returns ``{id, token, shard_id}``."""
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
    ) -> dict[str, Any]:
        return await self.interact(
            "command",
            user_id,
            guild_id=guild_id,
            channel_id=channel_id,
            name=name,
            options=options,
            permissions=permissions,
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
        """The interaction record; ``wait`` long-polls until ``until`` (response|followup|any|late)."""
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

    async def dms(self, user_id: int | str) -> list[dict[str, Any]]:
        return await self._list("GET", f"/dms/{user_id}")

    async def requests(
        self, *, since: float | None = None, path: str | None = None
    ) -> list[dict[str, Any]]:
        return await self._list("GET", "/requests", params={"since": since, "path": path})

    async def errors(
        self, *, since: float | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        return await self._list("GET", "/errors", params={"since": since, "kind": kind})

    async def commands(self) -> dict[str, Any]:
        return await self._dict("GET", "/commands")

    # -- gateway
    async def gateway_disconnect(
        self, *, shard_id: int | None = None, code: int = 4000, resumable: bool = True
    ) -> dict[str, Any]:
        body = _clean({"shard_id": shard_id, "code": code, "resumable": resumable})
        return await self._dict("POST", "/gateway/disconnect", body)

    async def gateway_reconnect(self, *, shard_id: int | None = None) -> dict[str, Any]:
        return await self._dict("POST", "/gateway/reconnect", _clean({"shard_id": shard_id}))
