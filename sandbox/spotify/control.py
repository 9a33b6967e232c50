"""Async HTTP client for the Spotify emulator's control API (``/_sandbox/...``)."""

from __future__ import annotations

import urllib.parse
from typing import Any, cast

from sandbox.control import ControlClient, ControlError


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")


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
        following: int = 0,
        top: int = 0,
        recently_played: int = 0,
    ) -> dict[str, Any]:
        """A new user; ``following``/``top``/``recently_played``: how many followed artists,
        top items per time range and recent plays to generate (deterministically)."""
        body = {
            "id": id,
            "display_name": display_name,
            "premium": premium,
            "allowlisted": allowlisted,
            "playlists": playlists,
            "liked": liked,
            "active_device": active_device,
            "playing": playing,
            "following": following,
            "top": top,
            "recently_played": recently_played,
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

    async def user_playlists(self, user: str) -> list[dict[str, Any]]:
        """The user's playlists in ``/me/playlists`` order, each with ``items`` (URIs)."""
        answer = await self._call("GET", f"/users/{_q(user)}/playlists")
        return cast("list[dict[str, Any]]", answer["playlists"])

    async def followed_artists(self, user: str) -> list[str]:
        return cast(
            "list[str]", (await self._call("GET", f"/users/{_q(user)}/following"))["artists"]
        )

    async def set_followed_artists(self, user: str, artist_ids: list[str]) -> list[str]:
        answer = await self._call(
            "PUT", f"/users/{_q(user)}/following", json={"artists": artist_ids}
        )
        return cast("list[str]", answer["artists"])

    async def top(self, user: str) -> dict[str, dict[str, list[str]]]:
        """``{"artists": {time_range: [ids]}, "tracks": {time_range: [ids]}}``."""
        answer = await self._call("GET", f"/users/{_q(user)}/top")
        return {"artists": answer["artists"], "tracks": answer["tracks"]}

    async def set_top(
        self, user: str, kind: str, ids: list[str], *, time_range: str = "medium_term"
    ) -> dict[str, dict[str, list[str]]]:
        """Set the ranked top ``kind`` ("artists" | "tracks") of one time range."""
        body = {"time_range": time_range, "ids": ids}
        answer = await self._call("PUT", f"/users/{_q(user)}/top/{kind}", json=body)
        return {"artists": answer["artists"], "tracks": answer["tracks"]}

    async def recently_played(self, user: str) -> list[dict[str, Any]]:
        """``[{track, played_at (ms), context}]``, newest first (all of them, not only the
        50 the Web API serves)."""
        answer = await self._call("GET", f"/users/{_q(user)}/recently-played")
        return cast("list[dict[str, Any]]", answer["plays"])

    async def set_recently_played(
        self, user: str, plays: list[str] | list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Replace the history: track ids (4 minutes apart, ending now) or
        ``{"track", "played_at"?: ms | ISO 8601, "context"?: uri}``."""
        answer = await self._call(
            "PUT", f"/users/{_q(user)}/recently-played", json={"plays": plays}
        )
        return cast("list[dict[str, Any]]", answer["plays"])

    async def add_play(
        self,
        user: str,
        track: str,
        *,
        played_at: int | str | None = None,
        context: str | None = None,
    ) -> list[dict[str, Any]]:
        body = {"track": track, "played_at": played_at, "context": context}
        answer = await self._call("POST", f"/users/{_q(user)}/recently-played", json=body)
        return cast("list[dict[str, Any]]", answer["plays"])

    async def set_playback(
        self,
        user: str,
        item: str | None,
        *,
        is_playing: bool = True,
        progress_ms: int = 42_000,
        private_session: bool = False,
        context: str | None = None,
        device: dict[str, Any] | None = None,
        no_device: bool = False,
        shuffle: bool = False,
        repeat: str = "off",
    ) -> dict[str, Any]:
        """What the user's device plays: a track id or URI, ``spotify:episode:…``, ``"ad"``,
        or None (nothing loaded). ``device``: ``{name, type, volume_percent,
        supports_volume}`` to rename it; ``no_device=True``: no active device at all."""
        body: dict[str, Any] = {
            "item": item,
            "is_playing": is_playing,
            "progress_ms": progress_ms,
            "private_session": private_session,
            "context": context,
            "shuffle": shuffle,
            "repeat": repeat,
        }
        if no_device:
            body["device"] = None
        elif device is not None:
            body["device"] = device
        return cast(
            "dict[str, Any]", await self._call("PUT", f"/users/{_q(user)}/playback", json=body)
        )

    # --- releases
    async def add_release(
        self,
        artist_id: str,
        *,
        name: str | None = None,
        album_type: str = "single",
        tracks: int = 1,
        release_date: str | None = None,
        precision: str = "day",
        with_artists: list[str] | None = None,
        popularity: int | None = None,
        track_names: list[str] | None = None,
    ) -> dict[str, Any]:
        """A release by ``artist_id`` (and ``with_artists``) appearing now: in its
        discography, search, ``tag:new`` and new releases. Answers ``{id, uri, name,
        album_type, artists, release_date, tracks}``."""
        body = {
            k: v
            for k, v in {
                "name": name,
                "album_type": album_type,
                "tracks": tracks,
                "release_date": release_date,
                "precision": precision,
                "artists": with_artists or [],
                "popularity": popularity,
                "track_names": track_names,
            }.items()
            if v is not None
        }
        return cast(
            "dict[str, Any]",
            await self._call("POST", f"/artists/{_q(artist_id)}/releases", json=body),
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

    async def playlist(self, playlist_id: str) -> dict[str, Any]:
        """A playlist's details and ``items`` (URIs), as stored."""
        return cast("dict[str, Any]", await self._call("GET", f"/playlists/{_q(playlist_id)}"))

    async def edit_playlist(self, playlist_id: str, **changes: Any) -> dict[str, Any]:
        """Edit as the owner would in Spotify's app (``name``, ``description``, ``public``,
        ``collaborative``, ``items``: URIs): a new ``snapshot_id``."""
        return cast(
            "dict[str, Any]",
            await self._call("PATCH", f"/playlists/{_q(playlist_id)}", json=changes),
        )

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
        body: str | None = None,
        content_type: str | None = None,
    ) -> int:
        """`body` (with `content_type`, default text/html) answers that raw text with
        `status` instead of Spotify's error shape: a proxy's HTML page, or garbage."""
        fields = {
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
                "body": body,
                "content_type": content_type,
            }.items()
            if v is not None
        }
        return int((await self._call("POST", "/faults", json=fields))["id"])

    async def faults(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", await self._call("GET", "/faults"))

    async def clear_faults(self) -> Any:
        return await self._call("DELETE", "/faults")

    # --- settings
    async def settings(self, **changes: Any) -> dict[str, Any]:
        """POST settings: development_mode (or its inverse new_releases_available),
        access_token_lifetime, rotate_refresh_tokens ("always" | "never" | "alternate"),
        allowed_redirect_uris."""
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

    async def request_counts(
        self, *, path: str | None = None, since: int | None = None, user: str | None = None
    ) -> dict[str, int]:
        """Calls per endpoint, e.g. ``{"GET /v1/artists/{id}/albums": 120}``."""
        params = {"path": path, "since": since, "user": user}
        return cast("dict[str, int]", await self._call("GET", "/requests/counts", params=params))

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
