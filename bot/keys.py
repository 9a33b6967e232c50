"""Encryption keys: the configured ones, or the key an embedded-mode Encore keeps for itself.

Only a role starting in embedded mode (no DATABASE_URL) may create a key: one-off commands
(`migrate`, `reencrypt`, `doctor`, ...) never do, so `reencrypt` cannot rotate tokens to a key
that was made a moment ago and decrypts nothing.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet

from bot.config import KEY_COMMAND, Settings
from bot.problems import OperatorError

log = logging.getLogger(__name__)


def generate_key() -> str:
    return Fernet.generate_key().decode()


def key_file(settings: Settings) -> Path:
    return settings.encore_data_dir / "encryption.key"


def configured_keys(settings: Settings) -> list[str]:
    """ENCRYPTION_KEYS, else (embedded mode) the key file if there is one; never creates one."""
    if settings.encryption_keys:
        return [key.get_secret_value() for key in settings.encryption_keys]
    path = key_file(settings)
    if settings.embedded_database and path.is_file():
        return [key_in(path)]
    return []


def key_in(path: Path) -> str:
    """The key kept in `path`; an empty or damaged file is the owner's to fix, never a
    reason to make a new key (which would leave every stored token unreadable)."""
    key = path.read_text().strip()
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise OperatorError(
            f"{path} is {'empty' if not key else 'not a Fernet key'}: it should hold the key "
            "the stored Spotify tokens were encrypted with.",
            "put that key back in the file (or in ENCRYPTION_KEYS). If it is lost for good, "
            "delete the file: Encore makes a new key at its next start, and every member must "
            "/link again",
        ) from None
    return key


def required_keys(settings: Settings) -> list[str]:
    keys = configured_keys(settings)
    if not keys:
        raise OperatorError(
            "there is no encryption key: ENCRYPTION_KEYS is empty"
            + (f" and there is no {key_file(settings)}." if settings.embedded_database else "."),
            f"make a key with: {KEY_COMMAND}, and set ENCRYPTION_KEYS to it on every process",
        )
    return keys


def runtime_keys(settings: Settings) -> list[str]:
    """The keys a role starts with; in embedded mode without any, one is generated and kept."""
    keys = configured_keys(settings)
    if keys:
        return keys
    if not settings.embedded_database:
        raise OperatorError(
            "ENCRYPTION_KEYS is empty, and an external DATABASE_URL needs it.",
            f"make a key with: {KEY_COMMAND}, and set ENCRYPTION_KEYS to it on every process",
        )
    path = key_file(settings)
    settings.encore_data_dir.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked into place: a process starting at the same moment either
    # finds the whole key or makes the link first, never reads half a file.
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(generate_key())
    try:
        os.link(draft, path)
    except FileExistsError:  # another process of this Encore made it first
        return [key_in(path)]
    finally:
        draft.unlink()
    log.warning(
        "No ENCRYPTION_KEYS: generated one into %s. Back it up: without it the stored "
        "Spotify tokens cannot be read.",
        path,
    )
    return [key_in(path)]


def keys_for_reencrypt(settings: Settings) -> list[str]:
    keys = configured_keys(settings)
    if not keys:
        where = (
            f" and there is no {key_file(settings)}"
            if settings.embedded_database
            else " (it is required with an external DATABASE_URL)"
        )
        raise OperatorError(
            f"there is no encryption key to re-encrypt with: ENCRYPTION_KEYS is empty{where}.",
            "set ENCRYPTION_KEYS to the new key first and the key the tokens were stored with "
            f"after it (comma-separated), then run `encore reencrypt` again. A new key is made "
            f"with: {KEY_COMMAND}",
        )
    return keys
