"""The Web API's JSON shapes, as ``specs/spotify/openapi.yml`` defines them.

``href``/``next``/``previous`` are absolute URLs to the emulator itself (spotipy's
``next()`` follows them). Deprecated fields Spotify still sends are kept.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from .catalog import Catalog
from .music import Album, Episode, LocalFile, Show, iso, iso_ms
from .users import Device, Entry, Play, Playback, Playlist, PlaylistItem, User

JSON = dict[str, Any]

_CONTEXT_KINDS = {"album": "albums", "artist": "artists", "playlist": "playlists", "show": "shows"}


class Render:
    """Renders catalogue objects for one request (``base``: ``http://host:port``)."""

    def __init__(self, catalog: Catalog, base: str) -> None:
        self.catalog = catalog
        self.music = catalog.music
        self.base = base

    # ------------------------------------------------------------------ paging
    def url(self, path: str, params: dict[str, Any]) -> str:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.base}{path}" + (f"?{query}" if query else "")

    def page(
        self,
        items: list[Any],
        total: int,
        limit: int,
        offset: int,
        path: str,
        params: dict[str, Any] | None = None,
        window: int | None = None,
    ) -> JSON:
        """An offset page. ``window``: the furthest ``offset + limit`` allowed (search: 1000),
        so ``next`` never points past it."""
        params = {k: v for k, v in (params or {}).items() if k not in ("limit", "offset")}

        def at(off: int) -> str:
            return self.url(path, {**params, "offset": off, "limit": limit})

        has_next = offset + limit < total and (window is None or offset + 2 * limit <= window)
        return {
            "href": at(offset),
            "items": items,
            "limit": limit,
            "next": at(offset + limit) if has_next else None,
            "offset": offset,
            "previous": at(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }

    # ------------------------------------------------------------------ small parts
    def external(self, kind: str, id_: str) -> dict[str, str]:
        return {"spotify": f"https://open.spotify.com/{kind}/{id_}"}

    def images(self, kind: str, id_: str, sizes: tuple[int, ...] = (640, 300, 64)) -> list[JSON]:
        return [
            {"url": f"https://i.scdn.co/image/sandbox-{kind}-{id_}-{s}", "height": s, "width": s}
            for s in sizes
        ]

    def context(self, uri: str | None) -> JSON | None:
        if not uri:
            return None
        kind, _, id_ = uri.removeprefix("spotify:").partition(":")
        return {
            "type": kind,
            "href": f"{self.base}/v1/{_CONTEXT_KINDS.get(kind, kind + 's')}/{id_}",
            "external_urls": self.external(kind, id_),
            "uri": uri,
        }

    # ------------------------------------------------------------------ artists
    def artist_simple(self, a: int) -> JSON:
        ar = self.music.artists[a]
        return {
            "external_urls": self.external("artist", ar.id),
            "href": f"{self.base}/v1/artists/{ar.id}",
            "id": ar.id,
            "name": ar.name,
            "type": "artist",
            "uri": f"spotify:artist:{ar.id}",
        }

    def artist(self, a: int) -> JSON:
        ar = self.music.artists[a]
        return {
            **self.artist_simple(a),
            "followers": {"href": None, "total": ar.followers},
            "genres": [],
            "images": self.images("artist", ar.id),
            "popularity": ar.popularity,
        }

    # ------------------------------------------------------------------ albums
    def album_simple(self, al: Album, group: str | None = None) -> JSON:
        out: JSON = {
            "album_type": al.album_type,
            "total_tracks": al.n_tracks,
            "available_markets": [],
            "external_urls": self.external("album", al.id),
            "href": f"{self.base}/v1/albums/{al.id}",
            "id": al.id,
            "images": self.images("album", al.id),
            "name": al.name,
            "release_date": al.release_date,
            "release_date_precision": al.precision,
            "type": "album",
            "uri": f"spotify:album:{al.id}",
            "artists": [self.artist_simple(a) for a in al.artists],
        }
        if group is not None:
            out["album_group"] = group
        return out

    def album_tracks(self, al: Album, limit: int, offset: int) -> JSON:
        tracks = list(self.music.album_tracks(al))
        items = [self.track_simple(t) for t in tracks[offset : offset + limit]]
        return self.page(items, len(tracks), limit, offset, f"/v1/albums/{al.id}/tracks")

    def album(self, al: Album) -> JSON:
        return {
            **self.album_simple(al),
            "tracks": self.album_tracks(al, 50, 0),
            "copyrights": [{"text": f"(C) {al.released.year} Sandbox Records", "type": "C"}],
            "external_ids": {"upc": f"{al.idx:012d}"},
            "genres": [],
            "label": "Sandbox Records",
            "popularity": al.popularity,
        }

    # ------------------------------------------------------------------ tracks
    def track_simple(self, t: int) -> JSON:
        m = self.music
        tid = m.track_ids[t]
        return {
            "artists": [self.artist_simple(a) for a in m.track_artists(t)],
            "available_markets": [],
            "disc_number": 1,
            "duration_ms": m.track_ms[t],
            "explicit": m.track_ms[t] % 5 == 0,
            "external_urls": self.external("track", tid),
            "href": f"{self.base}/v1/tracks/{tid}",
            "id": tid,
            "is_playable": True,
            "name": m.track_name[t],
            "preview_url": None,
            "track_number": m.track_no[t],
            "type": "track",
            "uri": f"spotify:track:{tid}",
            "is_local": False,
        }

    def track(self, t: int) -> JSON:
        m = self.music
        return {
            **self.track_simple(t),
            "album": self.album_simple(m.albums[m.track_album[t]]),
            "external_ids": {"isrc": f"SBX26{t:07d}"},
            "popularity": m.track_popularity(t),
        }

    def local_track(self, lf: LocalFile) -> JSON:
        """A local file as Spotify sends it: no id, no href, an empty album, a local URI."""
        return {
            "album": {
                "album_type": None,
                "total_tracks": 0,
                "artists": [],
                "available_markets": [],
                "external_urls": {},
                "href": None,
                "id": None,
                "images": [],
                "name": lf.album,
                "release_date": None,
                "release_date_precision": None,
                "type": "album",
                "uri": None,
            },
            "artists": [
                {
                    "external_urls": {},
                    "href": None,
                    "id": None,
                    "name": lf.artist,
                    "type": "artist",
                    "uri": None,
                }
            ],
            "available_markets": [],
            "disc_number": 0,
            "duration_ms": lf.duration_ms,
            "explicit": False,
            "external_ids": {},
            "external_urls": {},
            "href": None,
            "id": None,
            "is_local": True,
            "name": lf.title,
            "popularity": 0,
            "preview_url": None,
            "track_number": 0,
            "type": "track",
            "uri": lf.uri,
        }

    # ------------------------------------------------------------------ shows & episodes
    def show_simple(self, show: Show) -> JSON:
        description = f"Conversations about {show.name}, by {show.publisher}."
        return {
            "available_markets": [],
            "copyrights": [],
            "description": description,
            "html_description": f"<p>{description}</p>",
            "explicit": False,
            "external_urls": self.external("show", show.id),
            "href": f"{self.base}/v1/shows/{show.id}",
            "id": show.id,
            "images": self.images("show", show.id),
            "is_externally_hosted": False,
            "languages": ["en"],
            "media_type": "audio",
            "name": show.name,
            "publisher": show.publisher,
            "total_episodes": show.n_episodes,
            "type": "show",
            "uri": f"spotify:show:{show.id}",
        }

    def episode(self, ep: Episode) -> JSON:
        description = f"{ep.name}: this week on the show."
        return {
            "audio_preview_url": None,
            "description": description,
            "html_description": f"<p>{description}</p>",
            "duration_ms": ep.duration_ms,
            "explicit": False,
            "external_urls": self.external("episode", ep.id),
            "href": f"{self.base}/v1/episodes/{ep.id}",
            "id": ep.id,
            "images": self.images("episode", ep.id),
            "is_externally_hosted": False,
            "is_playable": True,
            "language": "en",
            "languages": ["en"],
            "name": ep.name,
            "release_date": ep.released.isoformat(),
            "release_date_precision": "day",
            "type": "episode",
            "uri": f"spotify:episode:{ep.id}",
            "show": self.show_simple(self.music.shows[ep.show]),
        }

    def item(self, item: PlaylistItem) -> JSON:
        if isinstance(item, int):
            return self.track(item)
        if isinstance(item, Episode):
            return self.episode(item)
        return self.local_track(item)

    # ------------------------------------------------------------------ users
    def user_ref(self, uid: str, with_name: bool = True) -> JSON:
        out: JSON = {
            "external_urls": self.external("user", uid),
            "href": f"{self.base}/v1/users/{uid}",
            "id": uid,
            "type": "user",
            "uri": f"spotify:user:{uid}",
        }
        if with_name:
            u = self.catalog.users.get(uid)
            out["display_name"] = u.display_name if u else uid
        return out

    def me(self, u: User) -> JSON:
        return {
            "id": u.id,
            "account_id": u.account_id,
            "display_name": u.display_name,
            "uri": f"spotify:user:{u.id}",
            "href": f"{self.base}/v1/users/{u.id}",
            "external_urls": self.external("user", u.id),
            "images": self.images("user", u.id, (300, 64)),
            "followers": {"href": None, "total": u.followers},
            "type": "user",
        }

    def public_user(self, u: User) -> JSON:
        return {
            **self.user_ref(u.id),
            "images": self.images("user", u.id, (300, 64)),
            "followers": {"href": None, "total": u.followers},
        }

    # ------------------------------------------------------------------ playlists
    def playlist_simple(self, pl: Playlist) -> JSON:
        ref = {"href": f"{self.base}/v1/playlists/{pl.id}/items", "total": pl.total}
        return {
            "collaborative": pl.collaborative,
            "description": pl.description,
            "external_urls": self.external("playlist", pl.id),
            "href": f"{self.base}/v1/playlists/{pl.id}",
            "id": pl.id,
            "images": self.images("playlist", pl.id, (640,)) if pl.total else [],
            "name": pl.name,
            "owner": self.user_ref(pl.owner),
            "public": pl.public,
            "snapshot_id": pl.snapshot_id(),
            "items": ref,
            "tracks": dict(ref),
            "type": "playlist",
            "uri": f"spotify:playlist:{pl.id}",
        }

    def playlist(self, pl: Playlist, with_items: bool) -> JSON:
        """``GET /playlists/{id}``: contents only for the owner and collaborators."""
        out = self.playlist_simple(pl)
        out["description"] = pl.description or None
        out["followers"] = {"href": None, "total": pl.followers}
        if with_items:
            page = self.playlist_entries(pl, 50, 0)
            out["items"] = page
            out["tracks"] = dict(page)
        else:
            del out["items"], out["tracks"]
        return out

    def entry(self, entry: Entry) -> JSON:
        item, added, who = entry
        return {
            "added_at": iso(added),
            "added_by": self.user_ref(who, with_name=False),
            "is_local": isinstance(item, LocalFile),
            "item": self.item(item),
        }

    def playlist_entries(self, pl: Playlist, limit: int, offset: int) -> JSON:
        entries = self.catalog.entries(pl)[offset : offset + limit]
        items = [self.entry(e) for e in entries]
        return self.page(items, pl.total, limit, offset, f"/v1/playlists/{pl.id}/items")

    # ------------------------------------------------------------------ player
    def device(self, device: Device, playback: Playback | None) -> JSON:
        return {
            "id": device.id,
            "is_active": True,
            "is_private_session": bool(playback and playback.private_session),
            "is_restricted": device.is_restricted,
            "name": device.name,
            "type": device.type,
            "volume_percent": device.volume_percent,
            "supports_volume": device.supports_volume,
        }

    def playing(self, playback: Playback, episodes: bool) -> JSON:
        """What ``currently-playing`` (and ``/me/player``) say about the playback.

        An advertisement has no item; an episode is only described when the client asked
        for ``additional_types=episode`` (otherwise ``item`` is null, as Spotify does)."""
        item: JSON | None = None
        kind = "unknown"
        duration = None
        resolved = self.catalog.resolve(playback.item) if playback.item else None
        if playback.item == "ad":
            kind = "ad"
        elif isinstance(resolved, int):
            kind, item, duration = "track", self.track(resolved), self.music.track_ms[resolved]
        elif isinstance(resolved, Episode):
            kind, duration = "episode", resolved.duration_ms
            item = self.episode(resolved) if episodes else None
        progress = playback.progress_ms
        if duration is not None:
            progress = min(progress, duration - 1)
        disallows = {"resuming": True} if playback.is_playing else {"pausing": True}
        if kind == "ad":
            disallows = {**disallows, "seeking": True, "skipping_next": True, "skipping_prev": True}
        return {
            "context": None if kind == "ad" else self.context(playback.context),
            "timestamp": playback.timestamp_ms,
            "progress_ms": progress,
            "is_playing": playback.is_playing,
            "item": item,
            "currently_playing_type": kind,
            "actions": {"disallows": disallows},
        }

    def play(self, play: Play) -> JSON:
        return {
            "track": self.track(play.track),
            "played_at": iso_ms(play.played_at_ms),
            "context": self.context(play.context),
        }
