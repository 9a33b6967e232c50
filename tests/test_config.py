"""Settings: each bad configuration stops the program with exit 2 and one clear message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.__main__ import main
from bot.config import ConfigError, Role, load_settings

GOOD = {
    "DISCORD_TOKEN": "token",
    "SPOTIFY_CLIENT_ID": "id",
    "SPOTIFY_CLIENT_SECRET": "secret",
}


@pytest.fixture(autouse=True)
def empty_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(
            (
                "DISCORD_",
                "SPOTIFY_",
                "PUBLIC_",
                "WEB_",
                "DATABASE_",
                "ENCORE_",
                "ENCRYPTION_",
                "LOG_",
                "SHARD_",
                "STARTUP_",
                "METRICS_",
                "MONITORING_",
                "HEARTBEAT_",
            )
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], **env: str
) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status = main(argv)
    return status, capsys.readouterr().err


def test_empty_environment_names_every_missing_secret_and_points_at_the_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(monkeypatch, capsys, ["run"])
    assert status == 2
    for name in ("DISCORD_TOKEN", "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET"):
        assert name in err
    assert "make demo" in err
    assert "Traceback" not in err


def test_public_url_on_localhost_is_refused_with_the_loopback_address_to_use(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(monkeypatch, capsys, ["run"], PUBLIC_URL="http://localhost:8080", **GOOD)
    assert status == 2
    assert "PUBLIC_URL" in err and "127.0.0.1" in err


def test_public_url_over_plain_http_on_a_public_host_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(monkeypatch, capsys, ["run"], PUBLIC_URL="http://encore.example.org", **GOOD)
    assert status == 2
    assert "PUBLIC_URL" in err and "HTTPS" in err


def test_malformed_encryption_key_is_named_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(monkeypatch, capsys, ["run"], ENCRYPTION_KEYS="not-a-key-sekrit", **GOOD)
    assert status == 2
    assert "ENCRYPTION_KEYS" in err and "Fernet" in err
    assert "sekrit" not in err


def test_external_database_requires_encryption_keys(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(
        monkeypatch, capsys, ["run"], DATABASE_URL="postgresql://db.example.org/encore", **GOOD
    )
    assert status == 2
    assert "ENCRYPTION_KEYS" in err


def test_commands_that_read_no_token_need_no_encryption_key() -> None:
    external = {"database_url": "postgresql://db.example.org/encore", "discord_token": "t"}
    for role in (Role.MIGRATE, Role.SYNC_COMMANDS):
        assert load_settings(role, **external).encryption_keys == []
    with pytest.raises(ConfigError) as caught:
        load_settings(Role.REENCRYPT, **external)
    assert "encore generate-key" in caught.value.problems["ENCRYPTION_KEYS"]


def test_web_role_needs_no_discord_token() -> None:
    settings = load_settings(Role.WEB, spotify_client_id="id", spotify_client_secret="secret")
    assert settings.discord_token is None


def test_https_public_url_and_key_rotation_list_are_accepted() -> None:
    keys = f"{Fernet.generate_key().decode()}, {Fernet.generate_key().decode()}"
    settings = load_settings(
        Role.RUN,
        discord_token="t",
        spotify_client_id="i",
        spotify_client_secret="s",
        public_url="https://encore.example.org/",
        encryption_keys=keys,
        shard_count=4,
        shard_ids="0-1",
    )
    assert settings.redirect_uri == "https://encore.example.org/callback"
    assert len(settings.encryption_keys) == 2
    assert settings.shard_ids == [0, 1]


def test_shard_ids_outside_the_shard_count_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            Role.GATEWAY,
            discord_token="t",
            spotify_client_id="i",
            spotify_client_secret="s",
            shard_count=2,
            shard_ids="3",
        )
    assert "SHARD_IDS" in caught.value.problems


def test_the_console_script_exits_2_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        timeout=60,
    )
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_help_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    for command in ("run", "gateway", "web", "worker", "migrate", "sync-commands", "demo"):
        assert command in result.stdout


ROOT = Path(__file__).resolve().parent.parent


def test_env_example_and_the_readme_list_every_setting() -> None:
    from bot.config import Settings

    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("**Keys.**")]
    for name in (field.upper() for field in Settings.model_fields):
        assert f"{name}=" in example, f"{name} is missing from .env.example"
        assert f"`{name}`" in table, f"{name} is missing from the README's Configuration"
    for compose_only in ("POSTGRES_PASSWORD", "ENCORE_DOMAIN"):
        assert f"{compose_only}=" in example


def test_compose_sets_what_a_container_needs_over_a_copied_env_file() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("gateway", "web", "worker"):
        service = compose["services"][name]
        assert service["env_file"] == ".env"
        environment = service["environment"]
        assert environment["WEB_HOST"] == "0.0.0.0" and environment["WEB_PORT"] == "8080"
        assert environment["ENCORE_DATA_DIR"] == "/data"
        assert environment["DATABASE_URL"].startswith("postgresql://encore:")
        assert environment["METRICS_PORT"] == "9100"
    assert compose["services"]["web"]["environment"]["WEB_TRUST_FORWARDED"] == "true"
    assert "9100/health" in str(compose["services"]["worker"]["healthcheck"]["test"])


def test_the_readme_backup_recipe_passes_bytes_through_without_a_terminal() -> None:
    readme = (ROOT / "README.md").read_text()
    backups = readme[readme.index("### Backups") : readme.index("## Security")]
    commands = [line for line in backups.splitlines() if line.startswith("docker compose")]
    assert commands and all(" exec -T " in line for line in commands)
