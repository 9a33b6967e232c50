"""Encryption keys: only an embedded-mode role makes one; migrate and reencrypt never do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import Role, Settings, load_settings
from bot.keys import keys_for_reencrypt, required_keys, runtime_keys
from bot.problems import OperatorError

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
