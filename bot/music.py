"""Tracks, playlists and albums as Encore uses them, parsed once from Spotify's JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def _url(item: dict[str, Any]) -> str | None:
    return (item.get("external_urls") or {}).get("spotify")


def _image(item: dict[str, Any]) -> str | None:
    images = item.get("images") or []
    return str(images[0]["url"]) if images else None


@dataclass(frozen=True)
class ArtistRef:
    id: str
    name: str
    url: str | None = None

    @classmethod
    def from_spotify(cls, item: dict[str, Any]) -> ArtistRef:
        return cls(
            id=str(item.get("id") or item.get("name")),
            name=str(item.get("name", "?")),
            url=_url(item),
        )


@dataclass(frozen=True)
class Track:
    id: str
    name: str
    artists: tuple[ArtistRef, ...]
    album: str | None = None
    url: str | None = None
    duration_ms: int = 0

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.id}"

    @property
    def artist_names(self) -> str:
        return ", ".join(artist.name for artist in self.artists) or "Unknown artist"

    @property
    def primary_artist(self) -> str:
        return self.artists[0].id if self.artists else self.id

    @classmethod
    def from_spotify(cls, item: dict[str, Any]) -> Track:
        return cls(
            id=str(item["id"]),
            name=str(item.get("name") or "Untitled"),
            artists=tuple(ArtistRef.from_spotify(a) for a in item.get("artists") or []),
            album=(item.get("album") or {}).get("name"),
            url=_url(item),
            duration_ms=int(item.get("duration_ms") or 0),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "artists": [{"id": a.id, "name": a.name, "url": a.url} for a in self.artists],
            "album": self.album,
            "url": self.url,
            "duration_ms": self.duration_ms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Track:
        return cls(
            id=data["id"],
            name=data["name"],
            artists=tuple(ArtistRef(a["id"], a["name"], a.get("url")) for a in data["artists"]),
            album=data.get("album"),
            url=data.get("url"),
            duration_ms=int(data.get("duration_ms") or 0),
        )


@dataclass(frozen=True)
class PlaylistSummary:
    id: str
    name: str
    owner_id: str
    owner_name: str
    total: int
    collaborative: bool
    snapshot_id: str | None
    url: str | None

    @classmethod
    def from_spotify(cls, item: dict[str, Any]) -> PlaylistSummary:
        owner = item.get("owner") or {}
        # `items.total` since 2026; `tracks.total` is the deprecated spelling.
        total = (item.get("items") or item.get("tracks") or {}).get("total", 0)
        return cls(
            id=str(item["id"]),
            name=str(item.get("name") or "Untitled"),
            owner_id=str(owner.get("id", "")),
            owner_name=str(owner.get("display_name") or owner.get("id") or "?"),
            total=int(total or 0),
            collaborative=bool(item.get("collaborative")),
            snapshot_id=item.get("snapshot_id"),
            url=_url(item),
        )


@dataclass(frozen=True)
class Album:
    id: str
    name: str
    album_type: str
    release_date: str
    release_date_precision: str
    total_tracks: int
    artists: tuple[ArtistRef, ...]
    image_url: str | None
    url: str | None

    @classmethod
    def from_spotify(cls, item: dict[str, Any]) -> Album:
        return cls(
            id=str(item["id"]),
            name=str(item.get("name") or "Untitled"),
            album_type=str(item.get("album_type") or "album"),
            release_date=str(item.get("release_date") or ""),
            release_date_precision=str(item.get("release_date_precision") or "day"),
            total_tracks=int(item.get("total_tracks") or 0),
            artists=tuple(ArtistRef.from_spotify(a) for a in item.get("artists") or []),
            image_url=_image(item),
            url=_url(item),
        )
