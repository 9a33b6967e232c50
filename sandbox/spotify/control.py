"""Async HTTP client for the Spotify emulator's control API (``/_sandbox/...``)."""

from __future__ import annotations

import urllib.parse
from typing import Any, cast

from sandbox.control import ControlClient, ControlError


class SpotifyControlError(ControlError):
    """The Spotify emulator's control API answered with an error status."""


class SpotifyControl(ControlClient):
    """Drive a :class:`SpotifyEmulator` (possibly in another process) over HTTP."""

    error = SpotifyControlError

    async def __aenter__(self) -> SpotifyControl:
        return self

    # --- state
    async def reset(self) -> Any:
        return await self._call("POST", "/reset")

    async def catalog(self) -> dict[str, Any]:
        return cast("dict[str, Any]", await self._call("GET", "/catalog"))

    # --- users
    async def users(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", await self._call("GET", "/users"))

    async def create_user(
        self,
        id: str,
        *,
        display_name: str | None = None,
        premium: bool = True,
        allowlisted: bool = True,
        playlists: int = 0,
        liked: int = 0,
        active_device: bool = True,
        playing: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "id": id,
            "display_name": display_name,
            "premium": premium,
            "allowlisted": allowlisted,
            "playlists": playlists,
            "liked": liked,
            "active_device": active_device,
            "playing": playing,
        }
        return cast("dict[str, Any]", await self._call("POST", "/users", json=body))

    async def update_user(self, id: str, **changes: Any) -> dict[str, Any]:
        """PATCH a user: display_name, premium, allowlisted, active_device, playing."""
        return cast(
            "dict[str, Any]",
            await self._call("PATCH", f"/users/{urllib.parse.quote(id)}", json=changes),
        )

    async def library(self, user: str) -> list[str]:
        return cast(
            "list[str]",
            (await self._call("GET", f"/users/{urllib.parse.quote(user)}/library"))["tracks"],
        )

    async def queue(self, user: str) -> list[str]:
        return cast(
            "list[str]",
            (await self._call("GET", f"/users/{urllib.parse.quote(user)}/queue"))["queue"],
        )

    # --- playlists
    async def create_playlist(
        self,
        owner: str,
        name: str,
        *,
        tracks: int = 0,
        collaborative: bool = False,
        collaborators: list[str] | None = None,
        followed_by: list[str] | None = None,
    ) -> dict[str, Any]:
        body = {
            "owner": owner,
            "name": name,
            "tracks": tracks,
            "collaborative": collaborative,
            "collaborators": collaborators or [],
            "followed_by": followed_by or [],
        }
        return cast("dict[str, Any]", await self._call("POST", "/playlists", json=body))

    async def add_tracks(self, playlist_id: str, count: int = 1) -> dict[str, Any]:
        return cast(
            "dict[str, Any]",
            await self._call("POST", f"/playlists/{playlist_id}/tracks", json={"count": count}),
        )

    # --- faults
    async def add_fault(
        self,
        path: str,
        *,
        status: int | None = None,
        method: str | None = None,
        retry_after: int | None = None,
        reason: str | None = None,
        delay: float | None = None,
        times: int | None = None,
        grant_type: str | None = None,
        message: str | None = None,
    ) -> int:
        body = {
            k: v
            for k, v in {
                "path": path,
                "status": status,
                "method": method,
                "retry_after": retry_after,
                "reason": reason,
                "delay": delay,
                "times": times,
                "grant_type": grant_type,
                "message": message,
            }.items()
            if v is not None
        }
        return int((await self._call("POST", "/faults", json=body))["id"])

    async def faults(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", await self._call("GET", "/faults"))

    async def clear_faults(self) -> Any:
        return await self._call("DELETE", "/faults")

    # --- settings
    async def settings(self, **changes: Any) -> dict[str, Any]:
        """POST settings: new_releases_available, access_token_lifetime,
        rotate_refresh_tokens ("always" | "never" | "alternate"), allowed_redirect_uris."""
        return cast("dict[str, Any]", await self._call("POST", "/settings", json=changes))

    # --- tokens
    async def revoke_tokens(self, user: str) -> int:
        return int((await self._call("POST", "/tokens/revoke", json={"user": user}))["revoked"])

    async def expire_tokens(self, user: str) -> int:
        return int((await self._call("POST", "/tokens/expire", json={"user": user}))["expired"])

    async def age_authorization(self, user: str, days: float) -> int:
        body = {"user": user, "days": days}
        return int((await self._call("POST", "/tokens/age", json=body))["aged"])

    # --- request log
    async def requests(
        self, *, path: str | None = None, since: int | None = None, user: str | None = None
    ) -> list[dict[str, Any]]:
        params = {"path": path, "since": since, "user": user}
        return cast("list[dict[str, Any]]", await self._call("GET", "/requests", params=params))

    async def clear_requests(self) -> Any:
        return await self._call("DELETE", "/requests")

    # --- OAuth helper
    async def authorize(self, authorize_url: str, user: str, deny: bool = False) -> str:
        """Play the user at the consent page; return the redirect ``Location``
        (the bot's callback URL with ``code``/``state`` or ``error``/``state``)."""
        extra = {"sandbox_deny": "1"} if deny else {"sandbox_user": user}
        sep = "&" if "?" in authorize_url else "?"
        url = authorize_url + sep + urllib.parse.urlencode(extra)
        async with self._http().get(url, allow_redirects=False) as resp:
            if resp.status != 302:
                raise SpotifyControlError(resp.status, await resp.text())
            return resp.headers["Location"]
