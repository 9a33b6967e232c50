"""One emulator's Spotify world: the (shared) music plus its users and their playlists.

Everything is derived from an integer seed; large things (playlist contents, liked songs)
are generated on first access. Changes (new users, playlist edits, added releases) stay
in this catalogue; :meth:`Catalog.fresh` starts again from the presets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterable, Sequence

from . import names
from .music import N_ARTISTS, Album, Episode, LocalFile, Music, Profile, make_id, sub_rng
from .names import rchoice
from .presets import add_presets
from .users import (
    RECENT_WINDOW,
    TIME_RANGES,
    Device,
    Entry,
    Play,
    Playback,
    Playlist,
    PlaylistItem,
    User,
)


class Catalog:
    """The music (shared, read-only) plus mutable users and playlists."""

    def __init__(
        self,
        seed: int = 2026,
        today: dt.date | None = None,
        profile: Profile = "messy",
        music: Music | None = None,
        artists: int = N_ARTISTS,
    ) -> None:
        self.seed = seed
        self.today = today or dt.date.today()
        self.profile: Profile = profile
        self.artists = artists
        self.music = music or Music.shared(seed, self.today, profile, artists)
        self.now_ts = dt.datetime.combine(self.today, dt.time(12, 0), dt.UTC).timestamp()
        # generated plays end just before the day starts, so they are never in the future
        self.recent_end_ms = int(
            dt.datetime.combine(self.today, dt.time(0, 0), dt.UTC).timestamp() * 1000 - 300_000
        )
        self.users: dict[str, User] = {}
        self.playlists: dict[str, Playlist] = {}
        self._pl_counter = 0
        add_presets(self)
        self.preset_users = tuple(self.users)

    @classmethod
    def build(
        cls, seed: int = 2026, today: dt.date | None = None, profile: Profile = "messy"
    ) -> Catalog:
        """A catalogue with the preset users, on the process-wide music."""
        return cls(seed, today, profile)

    def fresh(self) -> Catalog:
        """Back to the presets (and the shared music: added releases are forgotten)."""
        return Catalog(self.seed, self.today, self.profile, artists=self.artists)

    # ------------------------------------------------------------------ users
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
        following: int = 0,
        top: int = 0,
        recently_played: int = 0,
        messy_playlist_names: bool = False,
    ) -> User:
        u = User(
            id=uid,
            display_name=display_name or uid.capitalize(),
            account_id=make_id(self.seed, "account", uid, 10),
            premium=premium,
            allowlisted=allowlisted,
            active_device=active_device,
            liked_count=liked,
            followers=int(sub_rng(self.seed, "followers", uid).random() * 300),
        )
        device_id = hashlib.sha1(f"{self.seed}:device:{uid}".encode()).hexdigest()
        u.device = Device(device_id, f"{u.display_name}'s computer")
        if playing is not None:
            u.playback = Playback(f"spotify:track:{playing}", timestamp_ms=int(self.now_ts * 1000))
        self.users[uid] = u
        rng = sub_rng(self.seed, "user-playlists", uid)
        for i in range(playlists):
            size = int(rng.random() ** 3 * 120)
            name = f"{rchoice(rng, names.ADJ)} {rchoice(rng, names.NOUN)} #{i + 1}"
            if messy_playlist_names:
                r = rng.random()
                if r < 0.25:
                    name = names.long_playlist(rng)
                elif r < 0.6:
                    name = names.messy(rng, rchoice(rng, tuple(names.KINDS)), name)
            self.add_playlist(uid, name, size)
        if following:
            u.following = self.generated_following(uid, following)
        if top:
            u.top_artists, u.top_tracks = self.generated_top(uid, top)
        if recently_played:
            u.recent = self.generated_recent(uid, recently_played)
        return u

    def generated_following(self, uid: str, n: int, first: Sequence[int] = ()) -> list[int]:
        """``n`` artists, mostly popular ones, each once."""
        rng = sub_rng(self.seed, "following", uid)
        chosen = dict.fromkeys(first[:n])
        limit = len(self.music.artists)
        while len(chosen) < min(n, limit):
            pick = self.music.pick_artist(rng) if rng.random() < 0.7 else int(rng.random() * limit)
            chosen[pick] = None
        return list(chosen)

    def generated_top(self, uid: str, n: int) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """Top artists and tracks for the three time ranges: different, overlapping lists."""
        rng = sub_rng(self.seed, "top", uid)
        m = self.music
        taste: dict[int, None] = {}
        while len(taste) < 2 * n:
            taste[m.pick_artist(rng)] = None
        pool = list(taste)
        by_artist = m.tracks_by_artist()
        tracks: dict[int, None] = {}
        for artist in pool:
            options = by_artist.get(artist) or [int(rng.random() * len(m.track_ids))]
            tracks[rchoice(rng, options)] = None
            if len(tracks) >= 2 * n:
                break
        while len(tracks) < 2 * n:
            tracks[int(rng.random() * len(m.track_ids))] = None
        track_pool = list(tracks)
        starts = {"long_term": 0, "medium_term": n // 4, "short_term": n // 2}
        artists_by_range: dict[str, list[int]] = {}
        tracks_by_range: dict[str, list[int]] = {}
        for time_range in TIME_RANGES:
            start = starts[time_range]
            ranked_artists = pool[start : start + n]
            ranked_tracks = track_pool[start : start + n]
            if time_range != "long_term":  # recent tastes reorder the shared part
                ranked_artists = ranked_artists[1::2] + ranked_artists[::2]
                ranked_tracks = ranked_tracks[1::2] + ranked_tracks[::2]
            artists_by_range[time_range] = ranked_artists
            tracks_by_range[time_range] = ranked_tracks
        return artists_by_range, tracks_by_range

    def generated_recent(self, uid: str, n: int) -> list[Play]:
        """``n`` plays, newest first, ending just before ``today`` began."""
        rng = sub_rng(self.seed, "recent", uid)
        m = self.music
        user = self.users.get(uid)
        favourites = [t for r in TIME_RANGES for t in (user.top_tracks.get(r, []) if user else [])]
        at = self.recent_end_ms
        plays: list[Play] = []
        for _ in range(n):
            if favourites and rng.random() < 0.5:
                track = rchoice(rng, favourites)
            else:
                track = int(rng.random() * len(m.track_ids))
            album = m.albums[m.track_album[track]]
            context = f"spotify:album:{album.id}" if rng.random() < 0.5 else None
            plays.append(Play(track, at, context))
            at -= m.track_ms[track] + int(rng.random() * 3 * 3600_000 if rng.random() < 0.1 else 0)
        return plays

    def set_recent(self, user: User, plays: Iterable[Play]) -> None:
        user.recent = sorted(plays, key=lambda p: -p.played_at_ms)

    def recent_window(self, user: User) -> list[Play]:
        return user.recent[:RECENT_WINDOW]

    # ------------------------------------------------------------------ playlists
    def add_playlist(
        self,
        owner: str,
        name: str,
        tracks: int = 0,
        *,
        collaborative: bool = False,
        collaborators: Sequence[str] = (),
        followed_by: Sequence[str] = (),
        description: str = "",
        public: bool | None = None,
        oddities: tuple[tuple[int, str], ...] = (),
        first: bool = False,
    ) -> Playlist:
        """A new playlist; ``first`` puts it at the top of the owner's list (as Spotify does
        with playlists an app creates)."""
        self._pl_counter += 1
        pid = make_id(self.seed, "playlist", f"{owner}:{self._pl_counter}")
        pl = Playlist(
            id=pid,
            owner=owner,
            name=name,
            description=description,
            total=tracks,
            collaborative=collaborative,
            public=(not collaborative) if public is None else public,
            collaborators=set(collaborators),
            followers=int(sub_rng(self.seed, "plf", pid).random() * 50),
            oddities=oddities,
        )
        self.playlists[pid] = pl
        if first:
            self.users[owner].playlists.insert(0, pid)
        else:
            self.users[owner].playlists.append(pid)
        for uid in (*collaborators, *followed_by):
            if uid in self.users and pid not in self.users[uid].playlists:
                self.users[uid].playlists.append(pid)
        return pl

    def entries(self, pl: Playlist) -> list[Entry]:
        """A playlist's contents, generated on first access with a skewed artist spread."""
        if pl._entries is None or len(pl._entries) < pl.total:
            existing = pl._entries or []
            rng = sub_rng(self.seed, "entries", pl.id, len(existing))
            m = self.music
            by_artist = m.tracks_by_artist()
            # a handful of favourite artists dominate, most others appear once
            favs = [m.pick_artist(rng) for _ in range(6)]
            fav_w = [0.18, 0.1, 0.06, 0.04, 0.02, 0.01]
            members = [pl.owner, *sorted(pl.collaborators)]
            n_tracks = len(m.track_ids)
            out: list[Entry] = list(existing)
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
            self._place_oddities(pl, out, len(existing))
            pl._entries = out
        return pl._entries[: pl.total]

    def _place_oddities(self, pl: Playlist, out: list[Entry], start: int) -> None:
        rng = sub_rng(self.seed, "oddities", pl.id)
        m = self.music
        for position, kind in pl.oddities:
            if not start <= position < len(out):
                continue
            _, added, who = out[position]
            item: PlaylistItem
            if kind == "duplicate":
                if position == 0:
                    continue
                item = out[position // 2][0]  # the same track again, further down
            elif kind == "episode":
                item = m.episodes[int(rng.random() * len(m.episodes))]
            elif kind == "local":
                item = self.local_file(rng)
            else:
                raise ValueError(f"unknown playlist oddity {kind!r}")
            out[position] = (item, added, who)

    def local_file(self, rng: random.Random) -> LocalFile:
        title = rchoice(rng, ("track01", "Voice memo 3", "Untitled (demo)", names.word(rng)))
        if self.profile == "messy" and rng.random() < 0.5:
            title = names.messy(rng, rchoice(rng, tuple(names.KINDS)), title)
        artist = rchoice(rng, ("", "Unknown Artist", names.word(rng)))
        album = rchoice(rng, ("", "My Recordings", names.word(rng)))
        return LocalFile(title, artist, album, int(60_000 + rng.random() * 300_000))

    def materialise(self, pl: Playlist) -> list[Entry]:
        """The whole list of entries, ready to be edited in place."""
        self.entries(pl)
        assert pl._entries is not None or pl.total == 0
        if pl._entries is None:
            pl._entries = []
        del pl._entries[pl.total :]
        return pl._entries

    def add_tracks(self, pl: Playlist, count: int) -> None:
        """The control API's edit: ``count`` more generated tracks, added now."""
        self.entries(pl)
        pl.total += count
        self.entries(pl)
        assert pl._entries is not None
        now = max(self.now_ts, pl._entries[-1][1] if pl._entries else 0)
        for i in range(pl.total - count, pl.total):
            t, _, who = pl._entries[i]
            pl._entries[i] = (t, now + i, who)
        pl.edited()

    def insert_items(
        self, pl: Playlist, items: Sequence[PlaylistItem], position: int | None, by: str, at: float
    ) -> None:
        entries = self.materialise(pl)
        where = len(entries) if position is None else position
        entries[where:where] = [(item, at, by) for item in items]
        pl.total = len(entries)
        pl.edited()

    def replace_items(
        self, pl: Playlist, items: Sequence[PlaylistItem], by: str, at: float
    ) -> None:
        entries = self.materialise(pl)
        entries[:] = [(item, at, by) for item in items]
        pl.total = len(entries)
        pl.edited()

    def reorder_items(self, pl: Playlist, start: int, length: int, insert_before: int) -> None:
        entries = self.materialise(pl)
        moved = entries[start : start + length]
        if insert_before > start:
            insert_before -= len(moved)
        del entries[start : start + length]
        entries[insert_before:insert_before] = moved
        pl.edited()

    def remove_items(self, pl: Playlist, uris: dict[str, list[int] | None]) -> None:
        """Remove every occurrence of each URI, or only those at the given positions."""
        entries = self.materialise(pl)
        keep: list[Entry] = []
        for position, entry in enumerate(entries):
            positions = uris.get(self.item_uri(entry[0]), [])
            if positions is None or position in positions:
                continue
            keep.append(entry)
        entries[:] = keep
        pl.total = len(entries)
        pl.edited()

    def item_uri(self, item: PlaylistItem) -> str:
        if isinstance(item, int):
            return f"spotify:track:{self.music.track_ids[item]}"
        if isinstance(item, Episode):
            return f"spotify:episode:{item.id}"
        return item.uri

    def resolve(self, uri: str) -> PlaylistItem | None:
        """The catalogue track or episode a URI names, if it exists."""
        kind, _, id_ = uri.removeprefix("spotify:").partition(":")
        if kind == "track" and id_ in self.music.track_index:
            return self.music.track_index[id_]
        if kind == "episode" and id_ in self.music.episode_index:
            return self.music.episodes[self.music.episode_index[id_]]
        return None

    # ------------------------------------------------------------------ library
    def liked(self, u: User) -> list[tuple[str, float]]:
        if u._liked is None:
            rng = sub_rng(self.seed, "liked", u.id)
            n = len(self.music.track_ids)
            seen: set[int] = set()
            out: list[tuple[str, float]] = []
            ts = self.now_ts - 3600
            while len(out) < u.liked_count:
                t = int(rng.random() * n)
                if t in seen:
                    continue
                seen.add(t)
                out.append((self.music.track_ids[t], ts))
                ts -= 600 + rng.random() * 86400
            u._liked = out
        return u._liked

    # ------------------------------------------------------------------ releases
    def add_release(
        self,
        artists: Sequence[int],
        *,
        name: str | None = None,
        album_type: str = "single",
        tracks: int = 1,
        released: dt.date | None = None,
        precision: str = "day",
        popularity: int | None = None,
        track_names: list[str] | None = None,
    ) -> Album:
        """A release appearing now: in the artist's albums, search, ``tag:new`` if recent."""
        self.music = self.music.private_copy()
        return self.music.add_release(
            tuple(dict.fromkeys(artists)),
            name=name,
            album_type=album_type,
            n_tracks=tracks,
            released=released or self.today,
            precision=precision,
            popularity=popularity,
            track_names=track_names,
        )

    def summary(self) -> dict[str, object]:
        return self.music.summary()
