"""Discord's application command naming rule, without the third-party ``regex`` module.

Docs, "Application Command Naming": chat-input command and option names match
``^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`` (unicode) and use the lowercase
variant of every letter that has one; user and message commands may be mixed case
and contain spaces.
"""

from __future__ import annotations

import unicodedata

# Code points of the Devanagari and Thai scripts (Unicode Scripts.txt, sc=Deva / sc=Thai);
# the pattern lists them for their combining marks, which are neither letters nor numbers.
_SCRIPT_RANGES = (
    (0x0900, 0x0950),
    (0x0955, 0x0963),
    (0x0966, 0x097F),
    (0xA8E0, 0xA8FF),
    (0x11B00, 0x11B09),
    (0x0E01, 0x0E3A),
    (0x0E40, 0x0E5B),
)


def _allowed(ch: str) -> bool:
    if ch in "-_'":
        return True
    if unicodedata.category(ch)[0] in ("L", "N"):
        return True
    cp = ord(ch)
    return any(low <= cp <= high for low, high in _SCRIPT_RANGES)


def matches_pattern(name: str) -> bool:
    """``^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$``"""
    return 1 <= len(name) <= 32 and all(_allowed(ch) for ch in name)


def has_uppercase(name: str) -> bool:
    """A letter whose lowercase variant differs (``"Play"``, ``"ǅ"``)."""
    return any(ch.lower() != ch for ch in name)
