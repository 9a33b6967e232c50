"""The preset users every emulator starts with (documented in README.md, "Preset users")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .music import SHOWCASE_ARTISTS
from .users import Device, Playback

if TYPE_CHECKING:
    from .catalog import Catalog

# "Workout" (212 entries) in the messy catalogue: the same track twice, local files, episodes
WORKOUT_ODDITIES = (
    (5, "duplicate"),
    (17, "local"),
    (30, "episode"),
    (64, "duplicate"),
    (101, "local"),
    (150, "episode"),
    (211, "duplicate"),
)

MESSY_PLAYLISTS: tuple[tuple[str, int, tuple[tuple[int, str], ...]], ...] = (
    (
        "A playlist name that goes on and on, as Spotify lets it: road trips, rainy Sundays, "
        "3 a.m. drives & every song in between (part 2)",
        40,
        (),
    ),
    ("**bold** _italic_ ~~strike~~ `code` ||spoiler|| > quote | pipe # heading __init__", 12, ()),
    ("@everyone <@123456789012345678> <#456789012345678901> <@&789012345678901234> @here", 8, ()),
    ("[free nitro](https://evil.example/steal) click me", 5, ()),
    ("אהבה • حب • 愛 \u202eevil\u202c", 7, ()),
    ("🔥\u200b🔥 zero\u200bwidth\u2060joiner\ufeff 👨\u200d👩\u200d👧\u200d👦", 9, ()),
    ("Duplicates", 30, tuple((p, "duplicate") for p in (3, 4, 9, 15, 16, 22, 29))),
    ("Local Files", 12, tuple((p, "local") for p in (0, 1, 2, 5, 8, 11))),
    ("Podcasts and Music", 20, tuple((p, "episode") for p in (0, 3, 4, 10, 19))),
    (
        "Everything Odd",
        60,
        tuple((p, ("duplicate", "local", "episode")[p % 3]) for p in range(2, 60, 4)),
    ),
)


def add_presets(cat: Catalog) -> None:
    """Users and playlists, in an order that keeps every id of the first sandbox."""
    m = cat.music
    messy = cat.profile == "messy"
    add = cat.add_user
    first_track = m.track_ids[m.albums[0].first_track]
    add("alice", "Alice", liked=300, playing=first_track)
    add("bob", "Bob", premium=False, active_device=False)
    add("carol", "Carol", active_device=False)
    add("dave", "Dave", premium=False, active_device=False)
    for n in (0, 1, 49, 50, 51, 237):
        add(f"p{n}", f"Playlister {n}", playlists=n, active_device=False)
    add("likes2000", "Big Liker", liked=2000, active_device=False)
    add("outsider", "Outsider", allowlisted=False)
    # alice's twelve playlists, in display order
    P = cat.add_playlist
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
    P("alice", "Workout", 212, oddities=WORKOUT_ODDITIES if messy else ())
    P("alice", "Late Night", 15)
    P("bob", "Bob's Mix", 25)
    P("likes2000", "Everything", 300)

    # what they follow, their top lists and recent plays
    stars = [idx for idx, _ in SHOWCASE_ARTISTS]
    users = cat.users
    alice = users["alice"]
    alice.following = cat.generated_following("alice", 40, first=[0, *stars])
    alice.top_artists, alice.top_tracks = cat.generated_top("alice", 50)
    alice.recent = cat.generated_recent("alice", 70)  # only the last 50 are served
    alice.device = Device(_device_id(alice.device), "Alice's MacBook Pro", "Computer", 64)
    assert alice.playback is not None
    alice.playback.context = f"spotify:album:{m.albums[0].id}"
    carol = users["carol"]
    carol.following = cat.generated_following("carol", 120)
    carol.top_artists, carol.top_tracks = cat.generated_top("carol", 10)
    carol.recent = cat.generated_recent("carol", 10)
    users["bob"].following = cat.generated_following("bob", 3)
    users["dave"].recent = cat.generated_recent("dave", 1)

    # what is playing: an episode, an advertisement, a private session
    now_ms = int(cat.now_ts * 1000)
    podcast = add("podcast", "Pod Person", following=5, top=5, recently_played=5)
    podcast.device = Device(_device_id(podcast.device), "Kitchen", "Speaker", 30)
    show = m.shows[0]
    podcast.playback = Playback(
        f"spotify:episode:{m.episodes[show.first_episode].id}",
        progress_ms=1_234_000,
        context=f"spotify:show:{show.id}",
        timestamp_ms=now_ms,
    )
    ads = add("ads", "Ad Listener", premium=False, recently_played=3)
    ads.device = Device(_device_id(ads.device), "Pixel 9", "Smartphone", None, False)
    ads.playback = Playback("ad", progress_ms=12_000, timestamp_ms=now_ms)
    incognito = add("incognito", "Incognito", recently_played=2)
    incognito.playback = Playback(
        f"spotify:track:{m.track_ids[m.albums[1].first_track]}",
        private_session=True,
        timestamp_ms=now_ms,
    )

    if messy:
        _add_messy_users(cat)


def _device_id(device: Device | None) -> str:
    assert device is not None
    return device.id


def _add_messy_users(cat: Catalog) -> None:
    m = cat.music
    stars = [idx for idx, _ in SHOWCASE_ARTISTS]
    messy = cat.add_user(
        "messy",
        "*Mx. Mess* @everyone <@123456789012345678> ✨\u200b",
        liked=120,
        playing=m.track_ids[1],
        recently_played=0,
    )
    messy.following = cat.generated_following("messy", 60, first=stars)
    messy.top_artists, messy.top_tracks = cat.generated_top("messy", 50)
    messy.recent = cat.generated_recent("messy", 50)
    messy.device = Device(
        _device_id(messy.device), "**Living room** <@&789012345678901234> 🔊", "Speaker", 80
    )
    for name, size, oddities in MESSY_PLAYLISTS:
        cat.add_playlist(
            "messy",
            name,
            size,
            oddities=oddities,
            description="Follow me @everyone: [here](https://evil.example) *now*",
        )
    cat.add_user(
        "hoarder", "Hoarder", playlists=300, messy_playlist_names=True, active_device=False
    )
