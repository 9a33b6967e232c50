"""Deterministic Spotify catalogue, users and playlists for the emulator.

Everything is derived from an integer seed.  Randomness only goes through
``random.Random(...).random()`` (via the small helpers below) and ids through
SHA-256, so the catalogue is identical across Python versions and platforms.
Large things (playlist contents, liked songs) are generated on first access.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any, ClassVar

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

N_ARTISTS = 3000
N_ALBUMS = 6000
NEW_DAYS = 14
SPREAD_DAYS = 56


def _words(text: str) -> list[str]:
    return text.split()


_ADJ = _words(
    "Silver Golden Broken Electric Quiet Midnight Neon Paper Velvet Crimson Hollow Wild "
    "Frozen Burning Distant Gentle Lonely Endless Hidden Restless Faded Bright Secret "
    "Northern Southern Lucky Stolen Violet Amber Lost Sweet Bitter Slow Fast Holy Cosmic "
    "Little Big Empty Open Last First Second Final Young Old Blue Green Red Black White"
)
_NOUN = _words(
    "Heart River Dream Fire Ocean Sky Road Garden City Shadow Light Moon Sun Star Night "
    "Summer Winter Rain Storm Echo Mirror Window Door Machine Signal Radio Wave Mountain "
    "Desert Forest Island Letter Song Dance Ghost Angel Tiger Wolf Horse Bird Train Engine "
    "Satellite Harbor Avenue Highway Kingdom Memory Promise Secret Fever Thunder Whisper"
)
_FIRST = _words(
    "Ava Leo Mia Noah Zoe Eli Ivy Max Lia Sam Nia Ben Ada Kai Uma Rex Joy Tom Eva Ian "
    "Lux Ray Mae Jax Ora Gus Bea Cal Dee Fox Gia Hal Isa Jem Kit Lou Mo Ned Oli Pia"
)
_LAST = _words(
    "Stone Rivers Vega Night Hart Cross Lane Wolfe Reed Frost Gray Knight Moore Blake "
    "Rowe Quinn Steele Wren Marsh Shore Banks Hale Price Noble Sharp Vale Crane Fields"
)
_BAND = _words(
    "Machines Collective Brothers Sisters Orchestra Project Club Kids Lights Wolves "
    "Echoes Ghosts Satellites Royals Strangers Dreamers Pilots Saints Rebels Giants"
)


def rint(rng: random.Random, lo: int, hi: int) -> int:
    """Uniform integer in [lo, hi] using only rng.random()."""
    return lo + int(rng.random() * (hi - lo + 1))


def rchoice(rng: random.Random, seq: Any) -> Any:
    return seq[int(rng.random() * len(seq))]


def sub_rng(seed: int, *key: object) -> random.Random:
    digest = hashlib.sha256((f"{seed}|" + "|".join(map(str, key))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def make_id(seed: int, kind: str, key: object, length: int = 22) -> str:
    digest = hashlib.sha256(f"{seed}:{kind}:{key}".encode()).digest()
    return "".join([BASE62[b % 62] for b in digest[:length]])


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Artist:
    idx: int
    id: str
    name: str
    popularity: int
    followers: int


@dataclass
class Album:
    idx: int
    id: str
    name: str
    album_type: str
    artist: int
    released: dt.date
    precision: str
    first_track: int
    n_tracks: int
    popularity: int

    @property
    def release_date(self) -> str:
        if self.precision == "year":
            return f"{self.released.year:04d}"
        if self.precision == "month":
            return f"{self.released.year:04d}-{self.released.month:02d}"
        return self.released.isoformat()


@dataclass
class User:
    id: str
    display_name: str
    account_id: str
    premium: bool = True
    allowlisted: bool = True
    active_device: bool = True
    playing: str | None = None  # track id
    playlists: list[str] = field(default_factory=list)  # owned + followed, display order
    liked_count: int = 0  # for lazy generation
    _liked: list[tuple[str, float]] | None = None  # (track_id, added_at) newest first
    queue: list[str] = field(default_factory=list)
    followers: int = 0


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
    _entries: list[tuple[int, float, str]] | None = None  # (track idx, added_at, added_by)

    def snapshot_id(self) -> str:
        raw = f"{self.version:08d}:{hashlib.sha1(f'{self.id}:{self.version}'.encode()).hexdigest()}"
        return base64.b64encode(raw.encode()).decode()


class Catalog:
    """The static music catalogue plus mutable users and playlists."""

    _music_cache: ClassVar[dict[tuple[int, dt.date], Catalog]] = {}

    @classmethod
    def build(cls, seed: int = 2026, today: dt.date | None = None) -> Catalog:
        """A fresh catalogue (preset users only); the static music is built once per
        (seed, today) in this process and shared, since it is never mutated."""
        key = (seed, today or dt.date.today())
        if key not in cls._music_cache:
            cls._music_cache[key] = cls(seed, key[1])
        return cls._music_cache[key].fresh()

    def fresh(self) -> Catalog:
        """A copy sharing the static music, with users and playlists rebuilt from presets."""
        cat = Catalog.__new__(Catalog)
        cat.__dict__.update(self.__dict__)
        cat.users, cat.playlists, cat._pl_counter = {}, {}, 0
        cat._build_presets()
        return cat

    def __init__(self, seed: int = 2026, today: dt.date | None = None) -> None:
        self.seed = seed
        self.today = today or dt.date.today()
        self.now_ts = dt.datetime.combine(self.today, dt.time(12, 0), dt.UTC).timestamp()
        self._build_music()
        self._shared: dict[str, Any] = {}  # lazily built static indexes, shared by fresh()
        self._by_artist: dict[int, list[int]] | None = None
        self._artist_albums: dict[int, list[int]] | None = None
        self.users: dict[str, User] = {}
        self.playlists: dict[str, Playlist] = {}
        self._pl_counter = 0
        self._build_presets()

    # ------------------------------------------------------------------ music
    def _build_music(self) -> None:
        rng = random.Random(self.seed)
        seed = self.seed
        self.artists: list[Artist] = []
        weights = []
        for i in range(N_ARTISTS):
            w = 1.0 / (i + 1) ** 1.07
            weights.append(w)
            if rng.random() < 0.45:
                name = f"{rchoice(rng, _FIRST)} {rchoice(rng, _LAST)}"
            elif rng.random() < 0.5:
                name = f"The {rchoice(rng, _ADJ)} {rchoice(rng, _BAND)}"
            else:
                name = f"{rchoice(rng, _NOUN)} {rchoice(rng, _BAND)}"
            pop = max(1, min(100, int(100 - 14 * (i + 1) ** 0.25 + rng.random() * 8)))
            followers = int(5_000_000 / (i + 1) ** 1.07 + rng.random() * 1000)
            self.artists.append(Artist(i, make_id(seed, "artist", i), name, pop, followers))
        total = sum(weights)
        cum, acc = [], 0.0
        for w in weights:
            acc += w / total
            cum.append(acc)
        self._artist_cum = cum

        self.albums: list[Album] = []
        self.track_album: list[int] = []
        self.track_no: list[int] = []
        self.track_ms: list[int] = []
        self.track_name: list[str] = []
        self.track_feat: list[int] = []  # -1 or featured artist idx
        for a in range(N_ALBUMS):
            artist = self.pick_artist(rng)
            r = rng.random()
            if r < 0.5:
                kind, n = "album", rint(rng, 6, 20)
            elif r < 0.94:
                kind, n = "single", rint(rng, 1, 4)
            else:
                kind, n = "compilation", rint(rng, 8, 20)
            released = self.today - dt.timedelta(days=int(rng.random() * SPREAD_DAYS))
            p = rng.random()
            precision = "day" if p < 0.93 else ("month" if p < 0.98 else "year")
            name = f"{rchoice(rng, _ADJ)} {rchoice(rng, _NOUN)}"
            if kind == "compilation":
                name = f"{name}: The Collection"
            pop = max(0, min(100, self.artists[artist].popularity - int(rng.random() * 25)))
            first = len(self.track_album)
            for t in range(n):
                self.track_album.append(a)
                self.track_no.append(t + 1)
                self.track_ms.append(rint(rng, 95_000, 420_000))
                tname = f"{rchoice(rng, _NOUN)} {rchoice(rng, _NOUN).lower()}"
                if rng.random() < 0.3:
                    tname = f"{rchoice(rng, _ADJ)} {tname}"
                self.track_name.append(tname)
                self.track_feat.append(self.pick_artist(rng) if rng.random() < 0.12 else -1)
            self.albums.append(
                Album(
                    a,
                    make_id(seed, "album", a),
                    name,
                    kind,
                    artist,
                    released,
                    precision,
                    first,
                    n,
                    pop,
                )
            )
        self.track_ids = [make_id(seed, "track", i) for i in range(len(self.track_album))]
        self.track_index = {tid: i for i, tid in enumerate(self.track_ids)}
        self.album_index = {al.id: al.idx for al in self.albums}
        self.artist_index = {ar.id: ar.idx for ar in self.artists}
        self.track_lower = [n.lower() for n in self.track_name]

    def pick_artist(self, rng: random.Random) -> int:
        return min(bisect.bisect_left(self._artist_cum, rng.random()), N_ARTISTS - 1)

    def tracks_by_artist(self) -> dict[int, list[int]]:
        if self._by_artist is None:
            by: dict[int, list[int]] = {}
            for i, al in enumerate(self.track_album):
                by.setdefault(self.albums[al].artist, []).append(i)
            self._by_artist = by
        return self._by_artist

    def albums_by_artist(self) -> dict[int, list[int]]:
        if self._artist_albums is None:
            by: dict[int, list[int]] = {}
            for al in sorted(self.albums, key=lambda x: (x.released, x.idx), reverse=True):
                by.setdefault(al.artist, []).append(al.idx)
            self._artist_albums = by
        return self._artist_albums

    def search_index(self) -> dict[str, list[str]]:
        """Lower-cased names for substring search (built once, shared by copies)."""
        idx = self._shared.get("search")
        if idx is None:
            artists = [a.name.lower() for a in self.artists]
            idx = {
                "artists": artists,
                "albums": [a.name.lower() for a in self.albums],
                "track_artists": [
                    "\x00".join(artists[a] for a in self.track_artists(t))
                    for t in range(len(self.track_ids))
                ],
            }
            self._shared["search"] = idx
        return idx

    def albums_by_popularity(self) -> list[Album]:
        got = self._shared.get("albums_by_pop")
        if got is None:
            got = sorted(self.albums, key=lambda a: (-a.popularity, a.idx))
            self._shared["albums_by_pop"] = got
        return got

    def track_artists(self, t: int) -> list[int]:
        out = [self.albums[self.track_album[t]].artist]
        if self.track_feat[t] >= 0 and self.track_feat[t] != out[0]:
            out.append(self.track_feat[t])
        return out

    def track_popularity(self, t: int) -> int:
        al = self.albums[self.track_album[t]]
        return max(0, al.popularity - (self.track_no[t] % 7))

    def new_albums(self) -> list[Album]:
        """Albums of the last 14 days, newest first (the ``tag:new`` set)."""
        got = self._shared.get("new")
        if got is None:
            cutoff = self.today - dt.timedelta(days=NEW_DAYS)
            got = sorted(
                (a for a in self.albums if a.released > cutoff),
                key=lambda a: (a.released, a.popularity, -a.idx),
                reverse=True,
            )
            self._shared["new"] = got
        return got

    # ------------------------------------------------------------ users/playlists
    def add_user(
        self,
        uid: str,
        display_name: str | None = None,
        *,
        premium: bool = True,
        allowlisted: bool = True,
        active_device: bool = True,
        playing: str | None = None,
        playlists: int = 0,
        liked: int = 0,
    ) -> User:
        u = User(
            id=uid,
            display_name=display_name or uid.capitalize(),
            account_id=make_id(self.seed, "account", uid, 10),
            premium=premium,
            allowlisted=allowlisted,
            active_device=active_device,
            playing=playing,
            liked_count=liked,
            followers=int(sub_rng(self.seed, "followers", uid).random() * 300),
        )
        self.users[uid] = u
        rng = sub_rng(self.seed, "user-playlists", uid)
        for i in range(playlists):
            size = int(rng.random() ** 3 * 120)
            name = f"{rchoice(rng, _ADJ)} {rchoice(rng, _NOUN)} #{i + 1}"
            self.add_playlist(uid, name, size)
        return u

    def add_playlist(
        self,
        owner: str,
        name: str,
        tracks: int = 0,
        *,
        collaborative: bool = False,
        collaborators: list[str] | tuple[str, ...] = (),
        followed_by: list[str] | tuple[str, ...] = (),
        description: str = "",
    ) -> Playlist:
        self._pl_counter += 1
        pid = make_id(self.seed, "playlist", f"{owner}:{self._pl_counter}")
        pl = Playlist(
            id=pid,
            owner=owner,
            name=name,
            description=description,
            total=tracks,
            collaborative=collaborative,
            public=not collaborative,
            collaborators=set(collaborators),
            followers=int(sub_rng(self.seed, "plf", pid).random() * 50),
        )
        self.playlists[pid] = pl
        self.users[owner].playlists.append(pid)
        for uid in (*collaborators, *followed_by):
            if uid in self.users and pid not in self.users[uid].playlists:
                self.users[uid].playlists.append(pid)
        return pl

    def entries(self, pl: Playlist) -> list[tuple[int, float, str]]:
        """Lazily generate a playlist's contents with a skewed artist spread."""
        if pl._entries is None or len(pl._entries) < pl.total:
            existing = pl._entries or []
            rng = sub_rng(self.seed, "entries", pl.id, len(existing))
            by_artist = self.tracks_by_artist()
            # a handful of favourite artists dominate, most others appear once
            favs = [self.pick_artist(rng) for _ in range(6)]
            fav_w = [0.18, 0.1, 0.06, 0.04, 0.02, 0.01]
            members = [pl.owner, *sorted(pl.collaborators)]
            n_tracks = len(self.track_ids)
            out = list(existing)
            start_ts = self.now_ts - 400 * 86400
            for k in range(len(existing), pl.total):
                r = rng.random()
                acc, chosen = 0.0, -1
                for fa, w in zip(favs, fav_w, strict=True):
                    acc += w
                    if r < acc:
                        chosen = fa
                        break
                if chosen >= 0 and by_artist.get(chosen):
                    t = rchoice(rng, by_artist[chosen])
                else:
                    t = int(rng.random() * n_tracks)
                added = start_ts + k * (380 * 86400 / max(pl.total, 1)) + rng.random() * 3600
                who = (
                    members[0] if len(members) == 1 or rng.random() < 0.6 else rchoice(rng, members)
                )
                out.append((t, added, who))
            pl._entries = out
        return pl._entries[: pl.total]

    def add_tracks(self, pl: Playlist, count: int) -> None:
        self.entries(pl)
        pl.total += count
        self.entries(pl)
        # the new ones are added "now"
        assert pl._entries is not None
        now = max(self.now_ts, pl._entries[-1][1] if pl._entries else 0)
        for i in range(pl.total - count, pl.total):
            t, _, who = pl._entries[i]
            pl._entries[i] = (t, now + i, who)
        pl.version += 1

    def liked(self, u: User) -> list[tuple[str, float]]:
        if u._liked is None:
            rng = sub_rng(self.seed, "liked", u.id)
            n = len(self.track_ids)
            seen: set[int] = set()
            out: list[tuple[str, float]] = []
            ts = self.now_ts - 3600
            while len(out) < u.liked_count:
                t = int(rng.random() * n)
                if t in seen:
                    continue
                seen.add(t)
                out.append((self.track_ids[t], ts))
                ts -= 600 + rng.random() * 86400
            u._liked = out
        return u._liked

    def _build_presets(self) -> None:
        add = self.add_user
        first_track = self.track_ids[self.albums[0].first_track]
        add("alice", "Alice", liked=300, playing=first_track)
        add("bob", "Bob", premium=False, active_device=False)
        add("carol", "Carol", active_device=False)
        add("dave", "Dave", premium=False, active_device=False)
        for n in (0, 1, 49, 50, 51, 237):
            add(f"p{n}", f"Playlister {n}", playlists=n, active_device=False)
        add("likes2000", "Big Liker", liked=2000, active_device=False)
        add("outsider", "Outsider", allowlisted=False)
        # alice's twelve playlists, in display order
        P = self.add_playlist
        P("alice", "Empty", 0, description="nothing yet")
        P("alice", "One Hit", 1)
        P("alice", "Fifty", 50)
        P("alice", "Fifty-One", 51)
        P("alice", "Road Trip", 37, collaborative=True, collaborators=["carol"])
        P("carol", "Shared with Carol", 120, collaborative=True, collaborators=["alice"])
        P("dave", "Dave's Picks", 80, followed_by=["alice"])
        P("alice", "Thousand", 1000)
        P("carol", "Carol's Chill", 64, followed_by=["alice"])
        P("alice", "Ten Thousand", 10_000)
        P("alice", "Workout", 212)
        P("alice", "Late Night", 15)
        P("bob", "Bob's Mix", 25)
        P("likes2000", "Everything", 300)

    def summary(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "today": self.today.isoformat(),
            "artists": len(self.artists),
            "albums": len(self.albums),
            "tracks": len(self.track_ids),
            "new_albums": len(self.new_albums()),
        }
