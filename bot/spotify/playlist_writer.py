"""Writing a list of tracks into a private playlist of the member's: a new one, or the one
Encore made last time (whose id the caller stored), 100 items a request.

Spotify's rules (enforced by the emulator): `POST /me/playlists` makes the playlist (a
private one needs `playlist-modify-private`); `PUT /playlists/{id}/items` with `uris`
replaces every item, `POST` appends; each takes at most 100 URIs; a playlist holds at most
10,000 items; local files cannot be added.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import NotFound
from bot.spotify.errors import SpotifyForbidden
from bot.spotify.gateway import SpotifyGateway
from bot.spotify.webapi import WebAPI

ITEMS_PER_REQUEST = 100  # the most `/playlists/{id}/items` takes per request
MAX_PLAYLIST_ITEMS = 10_000  # the most a playlist holds
_ADDABLE = ("spotify:track:", "spotify:episode:")


def scopes_for(*, public: bool) -> frozenset[str]:
    """The permissions writing a playlist of that visibility needs."""
    return frozenset({"playlist-modify-public" if public else "playlist-modify-private"})


@dataclass(frozen=True)
class WriteProgress:
    """How far a write is: sent after the playlist is known (written 0, so the caller can
    store its id before any item is sent) and after each request."""

    playlist_id: str
    written: int
    total: int
    created: bool


@dataclass(frozen=True)
class WrittenPlaylist:
    """A finished write. `created` is False when last time's playlist was replaced."""

    playlist_id: str
    name: str
    url: str
    written: int
    created: bool
    skipped: int  # items Spotify cannot hold in a playlist (local files)
    left_out: int  # items past the 10,000 a playlist holds
    snapshot_id: str | None


Progress = Callable[[WriteProgress], Awaitable[None]]


class PlaylistUnavailable(NotFound):
    """The playlist the member chose is gone from Spotify, or is no longer theirs."""

    user_message = (
        "That playlist is gone from Spotify or is no longer yours, so Encore cannot add to "
        "it. Run the command again and pick another."
    )


class PlaylistWriter:
    """Writes track (or episode) URIs into a playlist of the member's, in order."""

    def __init__(self, spotify: SpotifyGateway) -> None:
        self._spotify = spotify

    async def write(
        self,
        discord_user_id: int,
        uris: Sequence[str],
        *,
        name: str,
        description: str = "",
        replace: str | None = None,
        public: bool = False,
        append: bool = False,
        create: bool = True,
        progress: Progress | None = None,
    ) -> WrittenPlaylist:
        """Write `uris` (in this order) into the playlist `replace` if it is still there and
        the member's, else into a new playlist called `name` (without `create`: raise
        `PlaylistUnavailable`, for a playlist the member chose). With `append`, last time's
        playlist keeps its items and these go after them.

        An error (Spotify busy, a missing scope...) raises from here; a progress report
        already carried the playlist's id, so the caller can reuse it next time."""
        scopes = scopes_for(public=public)
        await self._spotify.require_scopes(discord_user_id, scopes)
        addable = [uri for uri in uris if uri.startswith(_ADDABLE)]
        skipped = len(uris) - len(addable)
        kept = addable[:MAX_PLAYLIST_ITEMS]
        left_out = len(addable) - len(kept)

        found = await self._reusable(discord_user_id, replace, scopes) if replace else None
        created = found is None
        if found is None and not create:
            raise PlaylistUnavailable
        if found is None:
            found = await self._create(discord_user_id, name, description, public, scopes)
        playlist_id = str(found["id"])
        url = str((found.get("external_urls") or {}).get("spotify") or _open_url(playlist_id))
        if progress is not None:
            await progress(WriteProgress(playlist_id, 0, len(kept), created))

        snapshot: str | None = found.get("snapshot_id")
        written = 0
        batches = [kept[i : i + ITEMS_PER_REQUEST] for i in range(0, len(kept), ITEMS_PER_REQUEST)]
        if not batches and not created and not append:
            batches = [[]]  # PUT with no URIs empties last time's playlist
        for number, batch in enumerate(batches):
            # PUT replaces every item (a new playlist's first batch too); POST appends.
            call = _replacing if number == 0 and not (append and not created) else _appending
            answer = await self._spotify.as_user(
                discord_user_id, call(playlist_id, batch), scopes=scopes
            )
            snapshot = _snapshot(answer) or snapshot
            written += len(batch)
            if progress is not None and batch:
                await progress(WriteProgress(playlist_id, written, len(kept), created))
        return WrittenPlaylist(
            playlist_id=playlist_id,
            name=str(found.get("name") or name),
            url=url,
            written=written,
            created=created,
            skipped=skipped,
            left_out=left_out,
            snapshot_id=snapshot,
        )

    async def _reusable(
        self, discord_user_id: int, playlist_id: str, scopes: frozenset[str]
    ) -> dict[str, Any] | None:
        """Last time's playlist if Spotify still has it and the member still owns it."""
        try:
            me = await self._spotify.as_user(discord_user_id, lambda sp: sp.me())
            found = await self._spotify.as_user(
                discord_user_id,
                lambda sp: sp.playlist(playlist_id, fields="id,name,owner,external_urls"),
                scopes=scopes,
            )
        except (NotFound, SpotifyForbidden):
            return None
        if not isinstance(found, dict) or not isinstance(me, dict):
            return None
        owner = (found.get("owner") or {}).get("id")
        return found if owner is not None and owner == me.get("id") else None

    async def _create(
        self,
        discord_user_id: int,
        name: str,
        description: str,
        public: bool,
        scopes: frozenset[str],
    ) -> dict[str, Any]:
        made: dict[str, Any] = await self._spotify.as_user(
            discord_user_id,
            lambda sp: sp.current_user_playlist_create(
                name[:100], public=public, description=description[:300]
            ),
            scopes=scopes,
        )
        return made


def _replacing(playlist_id: str, uris: list[str]) -> Callable[[WebAPI], Any]:
    return lambda sp: sp.playlist_replace_items(playlist_id, uris)


def _appending(playlist_id: str, uris: list[str]) -> Callable[[WebAPI], Any]:
    return lambda sp: sp.playlist_add_items(playlist_id, uris)


def _snapshot(answer: object) -> str | None:
    if isinstance(answer, dict) and isinstance(answer.get("snapshot_id"), str):
        return str(answer["snapshot_id"])
    return None


def _open_url(playlist_id: str) -> str:
    return f"https://open.spotify.com/playlist/{playlist_id}"
