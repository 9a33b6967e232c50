"""What a lived-in server carries in its GUILD_CREATE beyond what a test set up: categories,
text and voice channels with topics and role overwrites, roles, active threads, custom emojis
and stickers (`create_guilds_bulk(..., furnished=True)`).

It is generated from the server's id, the same every time, and only sent: these channels and
roles are not addressable over REST. Sizes follow a middling community server (Discord allows
500 channels, 250 roles, 50+ emojis): a bot's gateway memory is measured on what real servers
send, not on one channel and two roles.
"""

from __future__ import annotations

import random

from .models import JSON, Guild

CATEGORIES = 4
TEXT_CHANNELS = 18
VOICE_CHANNELS = 6
ROLES = 24
THREADS = 6
EMOJIS = 30
STICKERS = 3

_WORDS = [
    "general",
    "announcements",
    "music-chat",
    "now-playing",
    "memes",
    "off-topic",
    "gaming",
    "art",
    "vinyl-collectors",
    "concerts",
    "🎧-listening-party",
    "new-music",
    "playlists",
    "introductions",
    "support",
    "rules",
    "bots",
    "lounge",
    "welcome",
    "events",
    "k-pop",
    "lo-fi",
    "metal",
    "jazz",
    "hip-hop",
    "indie-rock",
    "garage",
    "📻-radio",
]
_ROLE_NAMES = [
    "Moderator",
    "Admin",
    "DJ",
    "✨",
    "Supporter",
    "Nitro",
    "Booster",
    "Artist",
    "Listener",
    "VIP",
    "Muted",
    "Events",
    "Bots",
    "Verified",
    "Member",
    "Regular",
    "Veteran",
    "Night",
    "Owl",
    "Early",
    "Bird",
    "Vinyl",
    "Head",
    "Playlist",
    "Curator",
    "Gig",
    "Goer",
]
_TOPIC = (
    "Share what you're listening to • no spam, no self-promo outside #promo • "
    "links to Spotify, Bandcamp and YouTube welcome • be kind 💚"
)


FURNITURE_WORKER = 31  # the snowflakes' worker field: the world's own ids use worker 1


def furnish(guild: Guild) -> JSON:
    """The furniture of `guild`: extra `roles`, `channels`, `threads`, `emojis`, `stickers`.

    Its ids share the guild id's timestamp (unique per id the world makes) with another worker
    number, so they never collide with any other object's and are the same on every resend."""
    rng = random.Random(guild.id)
    base = (guild.id >> 22 << 22) | (FURNITURE_WORKER << 17)
    next_id = iter(range(base, base + 0xFFF))
    everyone = guild.id
    roles: list[JSON] = []
    for position in range(ROLES):
        roles.append(
            {
                "id": str(next(next_id)),
                "name": f"{rng.choice(_ROLE_NAMES)} {position}",
                "color": rng.randrange(0xFFFFFF),
                "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": rng.random() < 0.3,
                "icon": None,
                "unicode_emoji": None,
                "position": position + 2,
                "permissions": str(rng.choice((104324673, 1071698660929, 2248473465835073))),
                "managed": False,
                "mentionable": rng.random() < 0.5,
                "flags": 0,
            }
        )
    role_ids = [r["id"] for r in roles]

    def overwrites() -> list[JSON]:
        picked = rng.sample(role_ids, 3)
        return [
            {"id": str(everyone), "type": 0, "allow": "0", "deny": "2048"},
            {"id": picked[0], "type": 0, "allow": "3072", "deny": "0"},
            {"id": picked[1], "type": 0, "allow": "1024", "deny": "8192"},
            {"id": picked[2], "type": 0, "allow": "0", "deny": "2048"},
        ]

    channels: list[JSON] = []
    categories = [str(next(next_id)) for _ in range(CATEGORIES)]
    for position, cid in enumerate(categories):
        channels.append(
            {
                "id": cid,
                "type": 4,
                "name": rng.choice(_WORDS).upper(),
                "position": position,
                "permission_overwrites": overwrites() if position else [],
                "flags": 0,
            }
        )
    text_ids = []
    for position in range(TEXT_CHANNELS):
        cid = str(next(next_id))
        text_ids.append(cid)
        channels.append(
            {
                "id": cid,
                "type": 0,
                "name": f"{rng.choice(_WORDS)}-{position}",
                "position": position + 1,
                "parent_id": rng.choice(categories),
                "topic": _TOPIC if rng.random() < 0.7 else None,
                "nsfw": False,
                "rate_limit_per_user": rng.choice((0, 0, 5, 30)),
                "last_message_id": str(next(next_id)),
                "permission_overwrites": overwrites(),
                "default_thread_rate_limit_per_user": 0,
                "flags": 0,
            }
        )
    for position in range(VOICE_CHANNELS):
        channels.append(
            {
                "id": str(next(next_id)),
                "type": 2,
                "name": f"🔊 {rng.choice(_WORDS)} {position}",
                "position": position,
                "parent_id": categories[-1],
                "bitrate": 64000,
                "user_limit": rng.choice((0, 5, 10)),
                "rtc_region": None,
                "video_quality_mode": 1,
                "nsfw": False,
                "rate_limit_per_user": 0,
                "last_message_id": None,
                "permission_overwrites": overwrites(),
                "flags": 0,
            }
        )
    threads = [
        {
            "id": str(next(next_id)),
            "type": 11,
            "guild_id": str(guild.id),
            "parent_id": rng.choice(text_ids),
            "owner_id": str(guild.owner_id),
            "name": f"Album of the week #{index}: {rng.choice(_WORDS)}",
            "last_message_id": str(next(next_id)),
            "message_count": rng.randrange(2, 400),
            "member_count": rng.randrange(2, 50),
            "rate_limit_per_user": 0,
            "flags": 0,
            "total_message_sent": rng.randrange(2, 400),
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 10080,
                "archive_timestamp": "2026-11-30T12:00:00.000000+00:00",
                "locked": False,
                "create_timestamp": "2026-11-29T12:00:00.000000+00:00",
            },
        }
        for index in range(THREADS)
    ]
    emojis = [
        {
            "id": str(next(next_id)),
            "name": f"{rng.choice(('vibe', 'bop', 'banger', 'spin', 'heart', 'pog'))}_{index}",
            "roles": [],
            "require_colons": True,
            "managed": False,
            "animated": rng.random() < 0.2,
            "available": True,
        }
        for index in range(EMOJIS)
    ]
    stickers = [
        {
            "id": str(next(next_id)),
            "name": f"dancing record {index}",
            "tags": "record,vinyl,dance",
            "type": 2,
            "format_type": 1,
            "description": "A record that dances when the bass drops",
            "asset": "",
            "available": True,
            "guild_id": str(guild.id),
        }
        for index in range(STICKERS)
    ]
    return {
        "roles": roles,
        "channels": channels,
        "threads": threads,
        "emojis": emojis,
        "stickers": stickers,
    }
