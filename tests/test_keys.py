"""Encryption keys: only an embedded-mode role makes one; migrate and reencrypt never do."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.config import Role, Settings, load_settings
from bot.keys import keys_for_reencrypt, required_keys, runtime_keys
from bot.problems import OperatorError
from bot.spotify import TokenCipher
from db.engine import SessionFactory, create_engine, session_factory
from db.models import SpotifyLink

ROOT = Path(__file__).resolve().parent.parent


def embedded(tmp_path: Path, **settings: str) -> Settings:
    return load_settings(Role.REENCRYPT, _env_file=None, encore_data_dir=str(tmp_path), **settings)


def encore(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_embedded_role_makes_one_key_kept_private_and_reuses_it(tmp_path: Path) -> None:
    settings = embedded(tmp_path)
    first = runtime_keys(settings)
    path = tmp_path / "encryption.key"
    assert path.read_text().strip() == first[0]
    assert path.stat().st_mode & 0o777 == 0o600
    assert runtime_keys(settings) == first
    assert required_keys(settings) == first
    assert [p.name for p in tmp_path.iterdir()] == ["encryption.key"]  # no draft left behind
    Fernet(first[0])


def test_nothing_but_a_role_makes_a_key(tmp_path: Path) -> None:
    settings = embedded(tmp_path)
    with pytest.raises(OperatorError) as caught:
        required_keys(settings)
    assert "encore generate-key" in caught.value.todo
    with pytest.raises(OperatorError) as caught:
        keys_for_reencrypt(settings)
    assert "no encryption key to re-encrypt with" in caught.value.what
    assert list(tmp_path.iterdir()) == []


def test_reencrypt_with_an_external_database_and_no_keys_is_refused(tmp_path: Path) -> None:
    result = encore(
        ["reencrypt"],
        tmp_path,
        DATABASE_URL="postgresql://encore@127.0.0.1:9/encore",
        ENCORE_DATA_DIR=str(tmp_path / "data"),
    )
    assert result.returncode == 2, result.stderr
    assert "ENCRYPTION_KEYS" in result.stderr and "generate-key" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


async def test_migrate_needs_no_key_and_makes_none(clean_database: str, tmp_path: Path) -> None:
    result = encore(
        ["migrate"], tmp_path, DATABASE_URL=clean_database, ENCORE_DATA_DIR=str(tmp_path / "d")
    )
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert not (tmp_path / "d").exists()


def test_generate_key_prints_a_fernet_key_and_reads_no_settings(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=not a url\nLOG_LEVEL=LOUD\n")
    result = encore(["generate-key"], tmp_path)
    assert result.returncode == 0, result.stderr
    Fernet(result.stdout.strip())
    assert encore(["generate-key"], tmp_path).stdout != result.stdout


@pytest.mark.parametrize("content", ["", "\n", "not-a-key"], ids=["empty", "blank", "garbage"])
def test_an_empty_or_damaged_key_file_is_explained_and_never_replaced(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "encryption.key"
    path.write_text(content)
    with pytest.raises(OperatorError) as caught:
        runtime_keys(embedded(tmp_path))  # a role starting: it must not make a new key
    assert str(path) in caught.value.what and "delete the file" in caught.value.todo
    assert path.read_text() == content
    result = encore(["reencrypt"], tmp_path, ENCORE_DATA_DIR=str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "encryption.key is" in result.stderr and "What to do" in result.stderr
    assert "Traceback" not in result.stderr


async def test_reencrypt_with_the_old_key_missing_counts_what_it_cannot_read(
    clean_database: str, tmp_path: Path
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    engine = create_engine(clean_database)
    sessions = session_factory(engine)
    now = dt.datetime.now(dt.UTC)
    async with sessions() as session, session.begin():
        for user, key in ((1, old), (2, old), (3, new)):
            cipher = TokenCipher([key])
            session.add(
                SpotifyLink(
                    discord_user_id=user,
                    spotify_account_id=f"account{user}",
                    spotify_user_id=f"account{user}",
                    display_name=f"User {user}",
                    access_token=cipher.encrypt("access"),
                    refresh_token=cipher.encrypt("refresh"),
                    access_expires_at=now,
                    scopes="",
                    authorized_at=now,
                )
            )
    result = encore(
        ["reencrypt"],
        tmp_path,
        DATABASE_URL=clean_database,
        ENCRYPTION_KEYS=new,
        ENCORE_DATA_DIR=str(tmp_path / "d"),
    )
    assert result.returncode == 1, result.stderr
    assert "Re-encrypted the tokens of 1 linked accounts" in result.stdout
    assert "2 linked accounts have tokens that no key in ENCRYPTION_KEYS" in result.stderr
    assert "Put that key back" in result.stderr and "Traceback" not in result.stderr
    assert await statuses(sessions) == {1: "undecryptable", 2: "undecryptable", 3: "active"}
    # With the old key back (after the new one), everything is read and rotated.
    again = encore(
        ["reencrypt"],
        tmp_path,
        DATABASE_URL=clean_database,
        ENCRYPTION_KEYS=f"{new},{old}",
        ENCORE_DATA_DIR=str(tmp_path / "d"),
    )
    assert again.returncode == 0, again.stderr
    assert "Re-encrypted the tokens of 3 linked accounts" in again.stdout
    assert await statuses(sessions) == {1: "active", 2: "active", 3: "active"}
    await engine.dispose()


async def statuses(sessions: SessionFactory) -> dict[int, str]:
    async with sessions() as session:
        rows = await session.execute(select(SpotifyLink.discord_user_id, SpotifyLink.status))
        return {int(user): str(status) for user, status in rows}
