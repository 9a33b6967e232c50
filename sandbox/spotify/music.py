"""The music of the sandbox: artists, releases, tracks, shows and episodes.

Built once per process for each ``(seed, today, profile)`` and shared by every emulator
(it is never mutated in place: an emulator that adds a release first takes a private copy).
Two profiles:

- ``messy`` (the default): as Spotify really is. Names at the real maximum lengths and full
  of markdown, mentions, masked links, right-to-left text, emoji and zero-width characters;
  releases credited to 2-6 artists (often with a popular one); a back catalogue of older
  releases behind the new ones; "appears on" credits.
- ``tidy``: short, plain names, one artist per release, only the last 8 weeks. Identical to
  the catalogue of the first sandbox, for tests that want to read names easily.

Randomness only goes through ``random.Random.random()`` and ids through SHA-256, so the
catalogue is identical across Python versions and platforms.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import hashlib
import random
import urllib.parse
from dataclasses import dataclass
from typing import ClassVar, Literal, cast

from . import names
from .names import rchoice, rint

Profile = Literal["messy", "tidy"]
PROFILES: tuple[Profile, ...] = ("messy", "tidy")
AlbumGroup = Literal["album", "single", "compilation", "appears_on"]
# Spotify lists an artist's releases group by group, in this order, newest first within each.
GROUP_ORDER: tuple[AlbumGroup, ...] = ("album", "single", "compilation", "appears_on")

N_ARTISTS = 3000
N_ALBUMS = 6000
N_BACK_CATALOGUE = 2500
N_SHOWS = 24
NEW_DAYS = 14
SPREAD_DAYS = 56
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Which popular artists carry which mess in the messy profile (so tests and the demo meet
# every kind on the first page of everything).
SHOWCASE_ARTISTS: tuple[tuple[int, str], ...] = (
    (1, "long"),
    (2, "markdown"),
    (3, "mention"),
    (4, "masked_link"),
    (5, "rtl"),
    (6, "emoji"),
    (7, "zero_width"),
    (8, "script"),
    (9, "markdown"),
    (11, "mention"),
)
SHOWCASE_KINDS = ("long", *names.KINDS)


def sub_rng(seed: int, *key: object) -> random.Random:
    digest = hashlib.sha256((f"{seed}|" + "|".join(map(str, key))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def make_id(seed: int, kind: str, key: object, length: int = 22) -> str:
    digest = hashlib.sha256(f"{seed}:{kind}:{key}".encode()).digest()
    return "".join([BASE62[b % 62] for b in digest[:length]])


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(ms: int) -> str:
    moment = dt.datetime.fromtimestamp(ms // 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{moment}.{ms % 1000:03d}Z"


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
    artists: tuple[int, ...]  # credited artists, main artist first
    released: dt.date
    precision: str
    first_track: int
    n_tracks: int
    popularity: int

    @property
    def artist(self) -> int:
        return self.artists[0]

    @property
    def release_date(self) -> str:
        if self.precision == "year":
            return f"{self.released.year:04d}"
        if self.precision == "month":
            return f"{self.released.year:04d}-{self.released.month:02d}"
        return self.released.isoformat()


@dataclass(frozen=True)
class Show:
    idx: int
    id: str
    name: str
    publisher: str
    first_episode: int
    n_episodes: int


@dataclass(frozen=True)
class Episode:
    idx: int
    id: str
    name: str
    show: int
    duration_ms: int
    released: dt.date


@dataclass(frozen=True)
class LocalFile:
    """A file from the user's own computer in a playlist: Spotify sends it with no id."""

    title: str
    artist: str
    album: str
    duration_ms: int

    @property
    def uri(self) -> str:
        parts = (self.artist, self.album, self.title, str(self.duration_ms // 1000))
        return "spotify:local:" + ":".join(urllib.parse.quote_plus(p) for p in parts)


class Music:
    """Artists, releases and tracks (tracks as parallel lists: 60,000+ of them)."""

    _shared_cache: ClassVar[dict[tuple[int, dt.date, str, int], Music]] = {}

    @classmethod
    def shared(cls, seed: int, today: dt.date, profile: Profile, artists: int = N_ARTISTS) -> Music:
        """The process-wide copy for these parameters (built on first use)."""
        key = (seed, today, profile, artists)
        if key not in cls._shared_cache:
            cls._shared_cache[key] = cls(seed, today, profile, artists)
        return cls._shared_cache[key]

    def __init__(
        self, seed: int, today: dt.date, profile: Profile = "messy", artists: int = N_ARTISTS
    ) -> None:
        """``artists`` above 3,000 adds a long tail of little-known artists with a few
        releases each (for benchmarks of tens of thousands of watched artists)."""
        if profile not in PROFILES:
            raise ValueError(f"unknown catalogue profile {profile!r} (use one of {PROFILES})")
        if artists < N_ARTISTS:
            raise ValueError(f"a catalogue has at least {N_ARTISTS} artists")
        self.seed = seed
        self.today = today
        self.profile: Profile = profile
        self.private = False
        self.added_releases = 0
        self._build_tidy()
        if profile == "messy":
            self._add_back_catalogue()
            self._add_collaborations()
            self._make_names_messy()
        if artists > N_ARTISTS:
            self._add_long_tail(artists - N_ARTISTS)
        self._build_shows()
        self._index()

    # ------------------------------------------------------------------ building
    def _build_tidy(self) -> None:
        """The first sandbox's catalogue, draw for draw (its ids and names are kept)."""
        rng = random.Random(self.seed)
        seed = self.seed
        self.artists: list[Artist] = []
        weights = []
        for i in range(N_ARTISTS):
            weights.append(1.0 / (i + 1) ** 1.07)
            if rng.random() < 0.45:
                name = f"{rchoice(rng, names.FIRST)} {rchoice(rng, names.LAST)}"
            elif rng.random() < 0.5:
                name = f"The {rchoice(rng, names.ADJ)} {rchoice(rng, names.BAND)}"
            else:
                name = f"{rchoice(rng, names.NOUN)} {rchoice(rng, names.BAND)}"
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
        self.track_feat: list[int] = []  # -1 or a featured artist
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
            name = f"{rchoice(rng, names.ADJ)} {rchoice(rng, names.NOUN)}"
            if kind == "compilation":
                name = f"{name}: The Collection"
            pop = max(0, min(100, self.artists[artist].popularity - int(rng.random() * 25)))
            first = len(self.track_album)
            for t in range(n):
                self.track_album.append(a)
                self.track_no.append(t + 1)
                self.track_ms.append(rint(rng, 95_000, 420_000))
                tname = f"{rchoice(rng, names.NOUN)} {rchoice(rng, names.NOUN).lower()}"
                if rng.random() < 0.3:
                    tname = f"{rchoice(rng, names.ADJ)} {tname}"
                self.track_name.append(tname)
                self.track_feat.append(self.pick_artist(rng) if rng.random() < 0.12 else -1)
            self.albums.append(
                Album(
                    a,
                    make_id(seed, "album", a),
                    name,
                    kind,
                    (artist,),
                    released,
                    precision,
                    first,
                    n,
                    pop,
                )
            )
        self.track_ids = [make_id(seed, "track", i) for i in range(len(self.track_album))]

    def _append_album(
        self,
        rng: random.Random,
        album_id: str,
        name: str,
        kind: str,
        artists: tuple[int, ...],
        released: dt.date,
        precision: str,
        n_tracks: int,
        popularity: int,
        track_key: object,
    ) -> Album:
        idx, first = len(self.albums), len(self.track_album)
        for t in range(n_tracks):
            self.track_album.append(idx)
            self.track_no.append(t + 1)
            self.track_ms.append(rint(rng, 95_000, 420_000))
            self.track_name.append(f"{rchoice(rng, names.NOUN)} {rchoice(rng, names.NOUN).lower()}")
            self.track_feat.append(self.pick_artist(rng) if rng.random() < 0.12 else -1)
            self.track_ids.append(make_id(self.seed, "track", f"{track_key}:{t}"))
        album = Album(
            idx, album_id, name, kind, artists, released, precision, first, n_tracks, popularity
        )
        self.albums.append(album)
        return album

    def _add_back_catalogue(self) -> None:
        """Older releases (2 months to 30 years old), most of them by popular artists."""
        rng = sub_rng(self.seed, "back-catalogue")
        for k in range(N_BACK_CATALOGUE):
            artist = self.pick_artist(rng)
            r = rng.random()
            if r < 0.45:
                kind, n = "album", rint(rng, 6, 16)
            elif r < 0.85:
                kind, n = "single", rint(rng, 1, 3)
            else:
                kind, n = "compilation", rint(rng, 10, 20)
            age = int(SPREAD_DAYS + 4 + rng.random() ** 2 * 30 * 365)
            p = rng.random()
            precision = "day" if p < 0.8 or age < 3650 else ("year" if p < 0.95 else "month")
            name = names.word(rng)
            if kind == "compilation":
                name = f"{name}: Greatest Hits"
            pop = max(0, self.artists[artist].popularity - 10 - int(rng.random() * 40))
            self._append_album(
                rng,
                make_id(self.seed, "album", N_ALBUMS + k),
                name,
                kind,
                (artist,),
                self.today - dt.timedelta(days=age),
                precision,
                n,
                pop,
                f"back:{k}",
            )

    def _add_long_tail(self, n: int) -> None:
        """``n`` more artists, each with 1-4 releases (one in six of them recent)."""
        rng = sub_rng(self.seed, "long-tail")
        for k in range(n):
            idx = len(self.artists)
            name = (
                f"{rchoice(rng, names.FIRST)} {rchoice(rng, names.LAST)} {rchoice(rng, names.BAND)}"
            )
            if self.profile == "messy" and rng.random() < 0.2:
                name = names.messy(rng, rchoice(rng, tuple(names.KINDS)), name)
            pop = 1 + int(rng.random() * 20)
            self.artists.append(
                Artist(idx, make_id(self.seed, "artist", idx), name, pop, int(rng.random() * 5000))
            )
            for r in range(1 + int(rng.random() ** 2 * 4)):
                single = rng.random() < 0.6
                recent = rng.random() < 1 / 6
                age = int(rng.random() * SPREAD_DAYS) if recent else int(60 + rng.random() * 3650)
                self._append_album(
                    rng,
                    make_id(self.seed, "album", f"tail:{k}:{r}"),
                    names.word(rng),
                    "single" if single else "album",
                    (idx,),
                    self.today - dt.timedelta(days=age),
                    "day",
                    rint(rng, 1, 2) if single else rint(rng, 4, 8),
                    max(0, pop - int(rng.random() * 10)),
                    f"tail:{k}:{r}",
                )

    def _add_collaborations(self) -> None:
        """Credit about one release in six to 2-6 artists, half of them with a star."""
        rng = sub_rng(self.seed, "collaborations")
        stars = range(0, 20)
        for album in self.albums:
            if rng.random() >= 0.16:
                continue
            extra = 1 + int(rng.random() ** 2 * 5)  # 1..5 more: 2-6 artists in all
            credited = [album.artist]
            if rng.random() < 0.5:
                credited.append(rchoice(rng, stars))
            while len(credited) < extra + 1:
                credited.append(self.pick_artist(rng))
            album.artists = tuple(dict.fromkeys(credited))  # keep order, no repeats
        # the most popular new releases are collaborations between popular artists, so that
        # a digest of the week shows one release under two of its artists
        for rank, album in enumerate(self._new_by_popularity()[:6]):
            partners = [(album.artist + 1 + rank) % 12, 12 + rank, 40 + 7 * rank]
            album.artists = tuple(dict.fromkeys([album.artist, *partners[: 1 + rank % 3]]))

    def _new_by_popularity(self) -> list[Album]:
        cutoff = self.today - dt.timedelta(days=NEW_DAYS)
        return sorted(
            (a for a in self.albums if a.released > cutoff), key=lambda a: (-a.popularity, a.idx)
        )

    def _mess(self, rng: random.Random, kind: str, what: str, plain: str) -> str:
        if kind == "long":
            return {
                "artist": names.long_artist,
                "album": names.long_album,
                "track": names.long_track,
            }[what](rng)
        return names.messy(rng, kind, plain)

    def _make_names_messy(self) -> None:
        rng = sub_rng(self.seed, "mess")
        kinds = SHOWCASE_KINDS
        for idx, kind in SHOWCASE_ARTISTS:
            artist = self.artists[idx]
            artist.name = self._mess(rng, kind, "artist", artist.name)
        showcased = {idx for idx, _ in SHOWCASE_ARTISTS}
        for artist in self.artists:
            if artist.idx not in showcased and rng.random() < 0.2:
                artist.name = self._mess(rng, rchoice(rng, kinds), "artist", artist.name)
        # the most popular new releases carry one kind of mess each, in name and first track
        top_new = self._new_by_popularity()[: len(kinds) * 2]
        for rank, album in enumerate(top_new):
            kind = kinds[rank % len(kinds)]
            album.name = self._mess(rng, kind, "album", album.name)
            first = album.first_track
            self.track_name[first] = self._mess(rng, kind, "track", self.track_name[first])
        special = {a.idx for a in top_new}
        for album in self.albums:
            if album.idx not in special and rng.random() < 0.2:
                album.name = self._mess(rng, rchoice(rng, kinds), "album", album.name)
        # the first few tracks of the catalogue (the control API's sample tracks, alice's
        # "now playing") carry the hardest names
        for t, kind in ((0, "long"), (1, "markdown"), (2, "mention"), (100, "masked_link")):
            self.track_name[t] = self._mess(rng, kind, "track", self.track_name[t])
        for t in range(3, len(self.track_name)):
            r = rng.random()
            if r < 0.03:
                self.track_name[t] = names.long_track(rng)
            elif r < 0.2:
                self.track_name[t] = self._mess(
                    rng, rchoice(rng, kinds), "track", self.track_name[t]
                )
            elif r < 0.26 and self.track_feat[t] >= 0:
                self.track_name[t] += f" (feat. {self.artists[self.track_feat[t]].name})"

    def _build_shows(self) -> None:
        rng = sub_rng(self.seed, "shows")
        self.shows: list[Show] = []
        self.episodes: list[Episode] = []
        for s in range(N_SHOWS):
            show_name = f"The {names.word(rng)} Podcast"
            publisher = f"{rchoice(rng, names.FIRST)} {rchoice(rng, names.LAST)}"
            if self.profile == "messy" and s % 3 == 0:
                show_name = names.messy(rng, rchoice(rng, tuple(names.KINDS)), show_name)
            n = rint(rng, 5, 30)
            first = len(self.episodes)
            for e in range(n):
                title = f"Episode {n - e}: {names.word(rng)}"
                if self.profile == "messy" and rng.random() < 0.25:
                    title = names.messy(rng, rchoice(rng, tuple(names.KINDS)), title)
                self.episodes.append(
                    Episode(
                        len(self.episodes),
                        make_id(self.seed, "episode", f"{s}:{e}"),
                        title,
                        s,
                        rint(rng, 600_000, 7_200_000),
                        self.today - dt.timedelta(days=7 * e + rint(rng, 0, 6)),
                    )
                )
            self.shows.append(
                Show(s, make_id(self.seed, "show", s), show_name, publisher, first, n)
            )

    def _index(self) -> None:
        self.track_index = {tid: i for i, tid in enumerate(self.track_ids)}
        self.album_index = {al.id: al.idx for al in self.albums}
        self.artist_index = {ar.id: ar.idx for ar in self.artists}
        self.episode_index = {ep.id: ep.idx for ep in self.episodes}
        self.show_index = {sh.id: sh.idx for sh in self.shows}
        self.track_lower = [n.lower() for n in self.track_name]
        self._tracks_by_artist: dict[int, list[int]] | None = None
        self._discography: dict[int, list[tuple[int, AlbumGroup]]] | None = None
        self._search: dict[str, list[str]] | None = None
        self._albums_by_pop: list[Album] | None = None
        self._new: list[Album] | None = None
        self._new_by_relevance: list[Album] | None = None

    # ------------------------------------------------------------------ reading
    def pick_artist(self, rng: random.Random) -> int:
        return min(bisect.bisect_left(self._artist_cum, rng.random()), N_ARTISTS - 1)

    def track_artists(self, t: int) -> list[int]:
        out = list(self.albums[self.track_album[t]].artists)
        feat = self.track_feat[t]
        if feat >= 0 and feat not in out:
            out.append(feat)
        return out

    def track_popularity(self, t: int) -> int:
        album = self.albums[self.track_album[t]]
        return max(0, album.popularity - (self.track_no[t] % 7))

    def album_tracks(self, album: Album) -> range:
        return range(album.first_track, album.first_track + album.n_tracks)

    def tracks_by_artist(self) -> dict[int, list[int]]:
        """Tracks by the main artist of their release (playlists are drawn from this)."""
        if self._tracks_by_artist is None:
            by: dict[int, list[int]] = {}
            for i, al in enumerate(self.track_album):
                by.setdefault(self.albums[al].artist, []).append(i)
            self._tracks_by_artist = by
        return self._tracks_by_artist

    def discography(self, artist: int) -> list[tuple[int, AlbumGroup]]:
        """An artist's releases as ``GET /artists/{id}/albums`` lists them: group by group
        (album, single, compilation, appears on), newest first within each group."""
        if self._discography is None:
            by: dict[int, dict[int, AlbumGroup]] = {}
            for al in self.albums:
                group = cast("AlbumGroup", al.album_type)
                for a in al.artists:
                    by.setdefault(a, {})[al.idx] = group
            for t, feat in enumerate(self.track_feat):
                if feat >= 0:
                    by.setdefault(feat, {}).setdefault(self.track_album[t], "appears_on")
            rank = {g: i for i, g in enumerate(GROUP_ORDER)}
            self._discography = {
                a: sorted(
                    groups.items(),
                    key=lambda x: (rank[x[1]], -self.albums[x[0]].released.toordinal(), -x[0]),
                )
                for a, groups in by.items()
            }
        return self._discography.get(artist, [])

    def search_index(self) -> dict[str, list[str]]:
        """Lower-cased names for substring search."""
        if self._search is None:
            artists = [a.name.lower() for a in self.artists]
            self._search = {
                "artists": artists,
                "albums": [a.name.lower() for a in self.albums],
                "album_artists": [
                    "\x00".join(artists[a] for a in al.artists) for al in self.albums
                ],
                "track_artists": [
                    "\x00".join(artists[a] for a in self.track_artists(t))
                    for t in range(len(self.track_ids))
                ],
            }
        return self._search

    def albums_by_popularity(self) -> list[Album]:
        if self._albums_by_pop is None:
            self._albums_by_pop = sorted(self.albums, key=lambda a: (-a.popularity, a.idx))
        return self._albums_by_pop

    def new_albums(self) -> list[Album]:
        """Releases of the last 14 days, newest first (what ``/browse/new-releases`` shows)."""
        if self._new is None:
            cutoff = self.today - dt.timedelta(days=NEW_DAYS)
            self._new = sorted(
                (a for a in self.albums if a.released > cutoff),
                key=lambda a: (a.released, a.popularity, -a.idx),
                reverse=True,
            )
        return self._new

    def new_albums_by_relevance(self) -> list[Album]:
        """The ``tag:new`` set as search returns it: by relevance (popularity), not date."""
        if self._new_by_relevance is None:
            self._new_by_relevance = sorted(self.new_albums(), key=lambda a: (-a.popularity, a.idx))
        return self._new_by_relevance

    # ------------------------------------------------------------------ adding releases
    def private_copy(self) -> Music:
        """A copy this emulator may change (the shared one is never changed)."""
        if self.private:
            return self
        other = copy.copy(self)
        other.private = True
        other.artists = list(self.artists)
        other.albums = list(self.albums)
        for name in ("track_album", "track_no", "track_ms", "track_name", "track_feat"):
            setattr(other, name, list(getattr(self, name)))
        other.track_ids = list(self.track_ids)
        other.track_lower = list(self.track_lower)
        other.track_index = dict(self.track_index)
        other.album_index = dict(self.album_index)
        if self._search is not None:
            other._search = {key: list(value) for key, value in self._search.items()}
        other._tracks_by_artist = None
        return other

    def add_release(
        self,
        artists: tuple[int, ...],
        *,
        name: str | None,
        album_type: str,
        n_tracks: int,
        released: dt.date,
        precision: str = "day",
        popularity: int | None = None,
        track_names: list[str] | None = None,
    ) -> Album:
        """Append a release (only on a private copy: see :meth:`private_copy`)."""
        assert self.private, "add releases to a private copy"
        self.added_releases += 1
        key = f"added:{artists[0]}:{self.added_releases}"
        rng = sub_rng(self.seed, key)
        main = self.artists[artists[0]]
        pop = popularity if popularity is not None else max(0, main.popularity - 5)
        album = self._append_album(
            rng,
            make_id(self.seed, "album", key),
            name or names.word(rng),
            album_type,
            artists,
            released,
            precision,
            n_tracks,
            pop,
            key,
        )
        for t in self.album_tracks(album):
            self.track_feat[t] = -1
            if track_names and t - album.first_track < len(track_names):
                self.track_name[t] = track_names[t - album.first_track]
            self.track_index[self.track_ids[t]] = t
            self.track_lower.append(self.track_name[t].lower())
        self.album_index[album.id] = album.idx
        if self._search is not None:
            index = self._search
            index["albums"].append(album.name.lower())
            index["album_artists"].append("\x00".join(index["artists"][a] for a in artists))
            for t in self.album_tracks(album):
                index["track_artists"].append(
                    "\x00".join(index["artists"][a] for a in self.track_artists(t))
                )
        self._tracks_by_artist = None
        self._discography = None
        self._albums_by_pop = None
        self._new = None
        self._new_by_relevance = None
        return album

    def summary(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "today": self.today.isoformat(),
            "profile": self.profile,
            "artists": len(self.artists),
            "albums": len(self.albums),
            "tracks": len(self.track_ids),
            "new_albums": len(self.new_albums()),
            "shows": len(self.shows),
            "episodes": len(self.episodes),
        }
