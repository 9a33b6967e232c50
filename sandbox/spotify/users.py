"""Spotify users of the sandbox and what is theirs: playlists, library, follows, top lists,
recent plays, and what their device is playing."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from .music import Episode, LocalFile

TIME_RANGES = ("short_term", "medium_term", "long_term")
RECENT_WINDOW = 50  # Spotify only remembers a user's last 50 plays
MAX_PLAYLIST_ITEMS = 10_000

# What a playlist entry holds: a catalogue track (its index), an episode or a local file.
PlaylistItem = int | Episode | LocalFile
Entry = tuple[PlaylistItem, float, str]  # (item, added_at, added_by)


@dataclass
class Device:
    id: str
    name: str
    type: str = "Computer"
    volume_percent: int | None = 64
    supports_volume: bool = True
    is_restricted: bool = False


@dataclass
class Playback:
    """What the user's active device is doing.

    ``item`` is a ``spotify:track:`` or ``spotify:episode:`` URI, ``"ad"`` for an
    advertisement, or ``None`` (a device with nothing loaded)."""

    item: str | None
    is_playing: bool = True
    progress_ms: int = 42_000
    private_session: bool = False
    context: str | None = None  # spotify:album:..., spotify:playlist:..., or None
    shuffle: bool = False
    repeat: str = "off"
    timestamp_ms: int = 0

    @property
    def track_id(self) -> str | None:
        if self.item and self.item.startswith("spotify:track:"):
            return self.item.removeprefix("spotify:track:")
        return None


@dataclass(frozen=True)
class Play:
    """One entry of the recently played list."""

    track: int
    played_at_ms: int
    context: str | None = None


@dataclass
class User:
    id: str
    display_name: str
    account_id: str
    premium: bool = True
    allowlisted: bool = True
    active_device: bool = True
    device: Device | None = None
    playback: Playback | None = None
    playlists: list[str] = field(default_factory=list)  # owned + followed, display order
    liked_count: int = 0  # for lazy generation
    _liked: list[tuple[str, float]] | None = None  # (track_id, added_at) newest first
    queue: list[str] = field(default_factory=list)
    followers: int = 0
    following: list[int] = field(default_factory=list)  # artists, in the order followed
    top_artists: dict[str, list[int]] = field(default_factory=dict)  # time range -> ranked
    top_tracks: dict[str, list[int]] = field(default_factory=dict)
    recent: list[Play] = field(default_factory=list)  # newest first

    @property
    def playing(self) -> str | None:
        """The id of the track being played, if a track is."""
        return self.playback.track_id if self.playback else None


@dataclass
class Playlist:
    id: str
    owner: str
    name: str
    description: str
    total: int
    collaborative: bool = False
    public: bool = True
    collaborators: set[str] = field(default_factory=set)
    version: int = 1
    followers: int = 0
    # (position, "duplicate" | "local" | "episode"): odd entries placed when generated
    oddities: tuple[tuple[int, str], ...] = ()
    _entries: list[Entry] | None = None

    def snapshot_id(self, version: int | None = None) -> str:
        v = self.version if version is None else version
        raw = f"{v:08d}:{hashlib.sha1(f'{self.id}:{v}'.encode()).hexdigest()}"
        return base64.b64encode(raw.encode()).decode()

    def had_snapshot(self, snapshot_id: str) -> bool:
        """Whether this playlist ever had that snapshot (Spotify accepts old ones)."""
        try:
            version = int(base64.b64decode(snapshot_id.encode(), validate=True)[:8])
        except (ValueError, UnicodeError):
            return False
        return 1 <= version <= self.version and self.snapshot_id(version) == snapshot_id

    def edited(self) -> None:
        """Every edit (items added, removed, moved, replaced; details changed) makes a new
        snapshot."""
        self.version += 1

    def can_edit(self, user: User) -> bool:
        return self.owner == user.id or (self.collaborative and user.id in self.collaborators)

    def can_read_items(self, user: User) -> bool:
        return self.owner == user.id or user.id in self.collaborators
