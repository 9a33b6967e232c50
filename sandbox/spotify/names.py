"""Names for the catalogue: tidy word pools, and the messy names real Spotify data holds.

Randomness only goes through ``rng.random()`` (see :func:`rint`, :func:`rchoice`), so
every name is the same on every Python version and platform for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def rint(rng: random.Random, lo: int, hi: int) -> int:
    """A uniform integer in [lo, hi], drawn with ``rng.random()`` only."""
    return lo + int(rng.random() * (hi - lo + 1))


def rchoice(rng: random.Random, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


def _words(text: str) -> list[str]:
    return text.split()


ADJ = _words(
    "Silver Golden Broken Electric Quiet Midnight Neon Paper Velvet Crimson Hollow Wild "
    "Frozen Burning Distant Gentle Lonely Endless Hidden Restless Faded Bright Secret "
    "Northern Southern Lucky Stolen Violet Amber Lost Sweet Bitter Slow Fast Holy Cosmic "
    "Little Big Empty Open Last First Second Final Young Old Blue Green Red Black White"
)
NOUN = _words(
    "Heart River Dream Fire Ocean Sky Road Garden City Shadow Light Moon Sun Star Night "
    "Summer Winter Rain Storm Echo Mirror Window Door Machine Signal Radio Wave Mountain "
    "Desert Forest Island Letter Song Dance Ghost Angel Tiger Wolf Horse Bird Train Engine "
    "Satellite Harbor Avenue Highway Kingdom Memory Promise Secret Fever Thunder Whisper"
)
FIRST = _words(
    "Ava Leo Mia Noah Zoe Eli Ivy Max Lia Sam Nia Ben Ada Kai Uma Rex Joy Tom Eva Ian "
    "Lux Ray Mae Jax Ora Gus Bea Cal Dee Fox Gia Hal Isa Jem Kit Lou Mo Ned Oli Pia"
)
LAST = _words(
    "Stone Rivers Vega Night Hart Cross Lane Wolfe Reed Frost Gray Knight Moore Blake "
    "Rowe Quinn Steele Wren Marsh Shore Banks Hale Price Noble Sharp Vale Crane Fields"
)
BAND = _words(
    "Machines Collective Brothers Sisters Orchestra Project Club Kids Lights Wolves "
    "Echoes Ghosts Satellites Royals Strangers Dreamers Pilots Saints Rebels Giants"
)

# --------------------------------------------------------------------------- the mess
# Each kind of mess real names carry, as the bot meets them in embeds and buttons.
MARKDOWN = (
    "*{w}*",
    "**{w}**",
    "_{w}_",
    "__{w}__",
    "~~{w}~~",
    "`{w}`",
    "```{w}```",
    "||{w}||",
    "{w} | {v}",
    "> {w}",
    "# {w}",
    "## {w} ##",
    "- {w}",
    "{w}_{v}_remix",
    "{w} \\*{v}\\*",
)
MENTIONS = (
    "@everyone {w}",
    "@here",
    "{w} <@123456789012345678>",
    "<#456789012345678901> {w}",
    "<@&789012345678901234> {w}",
    "{w} @everyone @here",
    "</{w}:1234567890>",
)
MASKED_LINKS = (
    "[{w}](https://evil.example/{v})",
    "[click here](https://evil.example) {w}",
    "{w} [{v}](<https://evil.example/x>)",
)
RTL = (
    "فيروز",
    "عمرو دياب",
    "محمد عبده - {w}",
    "עומר אדם",
    "נועה קירל & {w}",
    "\u202e{w} desrever",
    "{w} \u202bمرحبا\u202c",
)
EMOJI = (
    "{w} 🔥",
    "👨\u200d👩\u200d👧\u200d👦 {w}",
    "🇯🇵 {w} 🇰🇷",
    "{w} ✨💀✨",
    "🏳️\u200d🌈 {w}",
    "{w} 👍🏽👍🏿",
)
ZERO_WIDTH = (
    "{w}\u200b{v}",
    "\u200d{w}",
    "{w}\ufeff",
    "{w}\u2060{v}",
    "\u200b\u200b{w}\u200b",
)
SCRIPTS = (
    "宇多田ヒカル",
    "방탄소년단 {w}",
    "Сплин",
    "Z̷a̷l̷g̷o̷ {w}",
    "Ø{w}ß",
    "ÆØÅ {w}",
)
KINDS: dict[str, tuple[str, ...]] = {
    "markdown": MARKDOWN,
    "mention": MENTIONS,
    "masked_link": MASKED_LINKS,
    "rtl": RTL,
    "emoji": EMOJI,
    "zero_width": ZERO_WIDTH,
    "script": SCRIPTS,
}

_ORCHESTRAS = (
    "Berliner Philharmoniker",
    "Wiener Philharmoniker",
    "London Symphony Orchestra",
    "Orchestre Révolutionnaire et Romantique",
    "Royal Concertgebouw Orchestra",
    "Chamber Orchestra of Europe",
)
_PEOPLE = (
    "Herbert von Karajan",
    "Sir John Eliot Gardiner",
    "Anne-Sophie Mutter",
    "Dietrich Fischer-Dieskau",
    "Elisabeth Schwarzkopf",
    "Mstislav Rostropovich",
    "Yannick Nézet-Séguin",
)
_CHOIRS = ("Wiener Singverein", "Monteverdi Choir", "Rundfunkchor Berlin", "The Sixteen")
_WORKS = ("Symphony", "Piano Concerto", "String Quartet", "Violin Sonata", "Mass", "Requiem")
_KEYS = ("C Major", "D Minor", "E-Flat Major", "F-Sharp Minor", "B-Flat Major", "A Minor")
_TEMPI = (
    "Allegro ma non troppo",
    "Adagio molto e cantabile",
    "Presto",
    "Andante maestoso",
    "Allegro assai vivace (Alla marcia)",
    "Poco adagio",
    "Scherzo. Molto vivace",
)
_HALLS = ("Royal Albert Hall", "Musikverein", "Carnegie Hall", "Philharmonie de Paris")
_CITIES = ("London", "Vienna", "New York", "Paris", "Berlin", "Tokyo")
_EDITIONS = (
    "Super Deluxe Edition",
    "Remastered",
    "Live",
    "Bonus Track Version",
    "Original Motion Picture Soundtrack",
    "Anniversary Edition",
)


def word(rng: random.Random) -> str:
    return f"{rchoice(rng, ADJ)} {rchoice(rng, NOUN)}"


def messy(rng: random.Random, kind: str, w: str | None = None) -> str:
    """A name carrying one kind of mess (see :data:`KINDS`)."""
    template = rchoice(rng, KINDS[kind])
    return template.format(w=w or word(rng), v=rchoice(rng, NOUN))


def long_artist(rng: random.Random, at_least: int = 200) -> str:
    """An orchestra-and-soloists credit, as classical releases name one artist."""
    parts = [rchoice(rng, _ORCHESTRAS), rchoice(rng, _PEOPLE), rchoice(rng, _CHOIRS)]
    while len(", ".join(parts)) < at_least:
        parts.append(rchoice(rng, _PEOPLE + _CHOIRS + _ORCHESTRAS))
    return ", ".join(parts)


def long_track(rng: random.Random, at_least: int = 200) -> str:
    """A movement title with its whole tempo marking, venue and remaster note."""
    work = rchoice(rng, _WORKS)
    title = (
        f"{work} No. {rint(rng, 1, 9)} in {rchoice(rng, _KEYS)}, Op. {rint(rng, 10, 135)} "
        f'"{rchoice(rng, NOUN)}": {rchoice(rng, ("I", "II", "III", "IV"))}. '
        f"{rchoice(rng, _TEMPI)}"
    )
    while len(title) < at_least - 60:
        title += f" - {rchoice(rng, _TEMPI)}"
    title += (
        f" (Live at {rchoice(rng, _HALLS)}, {rchoice(rng, _CITIES)}, {rint(rng, 1960, 2025)}) "
        f"[{rint(rng, 2000, 2026)} Remaster]"
    )
    return title


def long_album(rng: random.Random, at_least: int = 200) -> str:
    name = f"{word(rng)}: The Complete {rchoice(rng, _WORKS)} Recordings"
    while len(name) < at_least:
        name += f" ({rchoice(rng, _EDITIONS)}) [{rchoice(rng, _HALLS)}, {rint(rng, 1960, 2026)}]"
    return name


def long_playlist(rng: random.Random, at_least: int = 100) -> str:
    name = f"{word(rng)} ✨ songs for {rchoice(rng, NOUN).lower()}s"
    while len(name) < at_least:
        name += f", {rchoice(rng, ADJ).lower()} {rchoice(rng, NOUN).lower()} & more"
    return name
