"""Encore's settings: every knob, read from the environment and `.env`, validated once.

A configuration mistake stops the program with exit status 2 and one message that names
each bad variable and why (`ConfigError`), never with a traceback.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Role(StrEnum):
    """What a process does; `run` is all of them in one process."""

    RUN = "run"
    GATEWAY = "gateway"
    WEB = "web"
    WORKER = "worker"
    MIGRATE = "migrate"
    REENCRYPT = "reencrypt"
    SYNC_COMMANDS = "sync-commands"

    @property
    def needs_discord(self) -> bool:
        # The web role only serves pages; messages it must send go through the outbox.
        return self in {Role.RUN, Role.GATEWAY, Role.WORKER, Role.SYNC_COMMANDS}

    @property
    def needs_spotify(self) -> bool:
        return self in {Role.RUN, Role.GATEWAY, Role.WEB, Role.WORKER}


class ConfigError(Exception):
    """One or more settings are wrong; `problems` maps each variable to why."""

    def __init__(self, problems: dict[str, str], *, hint: str | None = None) -> None:
        self.problems = problems
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        lines = ["Encore cannot start: the configuration has problems."]
        lines += [f"  {name}: {why}" for name, why in self.problems.items()]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


KEY_COMMAND = "encore generate-key (in Docker: docker compose run --rm --no-deps web generate-key)"

DEMO_HINT = (
    "To try Encore with no accounts at all, run `make demo`: it starts local stand-ins "
    "for Discord and Spotify. See .env.example for every setting."
)


DATABASE_URL_SHAPE = "postgresql://USER:PASSWORD@HOST:5432/DATABASE"


def database_url_problem(url: str) -> str | None:
    """Why `url` cannot be a PostgreSQL URL, or None (the message never repeats the URL)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return f"not a URL; it should look like {DATABASE_URL_SHAPE}"
    if parsed.get_backend_name() not in {"postgresql", "postgres"}:
        return (
            f"not a PostgreSQL URL (it starts with '{parsed.drivername}://'); "
            f"it should look like {DATABASE_URL_SHAPE}"
        )
    return None


def safe_database_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)  # the password as ***


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Every setting Encore reads. Names are the public contract (README, .env.example)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    discord_token: SecretStr | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    # Discord's OAuth2, to prove who opens a personal link (recommended): the application's
    # client id and secret from the developer portal (OAuth2 page).
    discord_client_id: str | None = None
    discord_client_secret: SecretStr | None = None
    spotify_client_id: str | None = None
    spotify_client_secret: SecretStr | None = None
    spotify_api_url: str = "https://api.spotify.com/v1/"
    spotify_accounts_url: str = "https://accounts.spotify.com/"
    public_url: str = "http://127.0.0.1:8080"
    web_host: str = "127.0.0.1"
    web_port: int = Field(8080, ge=0, le=65535)
    database_url: SecretStr | None = None
    # A ping before each use of a pooled connection: only for networks that drop idle
    # connections silently (closed ones are replaced without it, and all recycle every 10 min).
    database_pre_ping: bool = False
    # Answer a quick slash command in its one callback while the gateway is quiet; false:
    # every command is deferred on arrival (bot/ui/admission.py).
    direct_answers: bool = True
    encore_data_dir: Path = Path("./data")
    encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    shard_count: int | None = Field(None, ge=1)
    shard_ids: Annotated[list[int] | None, NoDecode] = None

    # Operational knobs with sensible defaults; documented in .env.example.
    spotify_threads: int = Field(8, ge=1, le=64)
    spotify_timeout: float = Field(10.0, gt=0)
    release_ingest_interval_hours: float = Field(6.0, gt=0)
    release_search_cap: int = Field(500, ge=10, le=1000)
    scheduler_tick_seconds: float = Field(30.0, gt=0)
    # Requests/s the whole bot allows itself (Discord: 50 per token, every process together),
    # drawn by every process from one budget in PostgreSQL (`bot.discord_budget`).
    discord_global_rate: float = Field(45.0, gt=0, le=50)
    discord_shared_budget: bool = True  # off: each process paces nothing (benchmarks only)
    digest_lease_seconds: float = Field(300.0, ge=1)  # a crashed worker's claim expires after
    # Spotify calls an hour the release radar's checker may make, for the whole deployment
    # (development-mode quota is shared by the developer account).
    radar_calls_per_hour: float = Field(1000.0, gt=0)
    web_rate_limit: int = Field(30, ge=0)  # requests a minute per address on /link and /callback
    web_trust_forwarded: bool = False  # behind a reverse proxy: the client is in X-Forwarded-For
    web_api_miss_limit: int = Field(120, ge=0)  # /api answers built a minute per address
    web_read_timeout: float = Field(15.0, gt=0, le=300)  # headers (and bodies) arrive within

    @field_validator("discord_client_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("discord_client_secret", mode="before")
    @classmethod
    def _blank_secret_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("discord_client_id")
    @classmethod
    def _check_client_id(cls, value: str | None) -> str | None:
        if value is not None and not (value.strip().isdigit() and len(value.strip()) <= 20):
            raise ValueError(
                "must be the application's id (digits), from the developer portal's OAuth2 page"
            )
        return value.strip() if value is not None else None

    # Operating it: waiting for dependencies, and what each process tells its monitoring.
    startup_timeout: float = Field(90.0, gt=0)  # wait this long for the database, Discord, READY
    metrics_host: str = "127.0.0.1"  # the gateway's and worker's own /metrics listener
    metrics_port: int = Field(0, ge=0, le=65535)  # 0: no listener of its own
    monitoring_token: SecretStr | None = None  # opens /metrics and the detailed /health
    heartbeat_seconds: float = Field(15.0, gt=0)  # how often each process reports itself

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        problem = database_url_problem(value.get_secret_value().strip())
        if problem:
            raise ValueError(problem)
        return SecretStr(value.get_secret_value().strip())

    @field_validator("monitoring_token")
    @classmethod
    def _check_monitoring_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 16:
            raise ValueError("too short to be a secret: use at least 16 random characters")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("encryption_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("encryption_keys")
    @classmethod
    def _check_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for position, key in enumerate(keys, start=1):
            try:
                Fernet(key.get_secret_value())
            except (ValueError, TypeError):
                raise ValueError(
                    f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes); "
                    f"make one with: {KEY_COMMAND}"
                ) from None
        return keys

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_shards(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            ids: list[int] = []
            for part in value.split(","):
                if "-" in part:
                    low, high = part.split("-", 1)
                    ids.extend(range(int(low), int(high) + 1))
                else:
                    ids.append(int(part))
            return ids
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        host = parts.hostname or ""
        if parts.scheme not in {"http", "https"} or not host:
            raise ValueError("must be an absolute http(s) URL such as https://encore.example.org")
        if host == "localhost":
            raise ValueError(
                "Spotify refuses redirect URIs on 'localhost'; use http://127.0.0.1:PORT instead"
            )
        if parts.scheme == "http" and not _is_loopback(host):
            raise ValueError(
                "Spotify needs HTTPS for a redirect URI that is not a loopback address; "
                "use https://... (or http://127.0.0.1:PORT for a local setup)"
            )
        return value.rstrip("/")

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/callback"

    @property
    def discord_redirect_uri(self) -> str:
        return f"{self.public_url}/discord/callback"

    @property
    def proves_discord_identity(self) -> bool:
        return self.discord_client_id is not None and self.discord_client_secret is not None

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def database_display(self) -> str:
        """The database for a log line or a message: the URL without its password."""
        if self.database_url is None:
            return f"embedded PostgreSQL in {self.encore_data_dir / 'postgres'}"
        return safe_database_url(self.database_url.get_secret_value())

    def require(self, role: Role) -> None:
        """Raise ConfigError naming every setting the role needs but lacks."""
        problems: dict[str, str] = {}
        if role.needs_discord and not self.discord_token:
            problems["DISCORD_TOKEN"] = "missing: the bot token from the Discord developer portal"
        if role.needs_spotify:
            if not self.spotify_client_id:
                problems["SPOTIFY_CLIENT_ID"] = "missing: the client id of your Spotify app"
            if not self.spotify_client_secret:
                problems["SPOTIFY_CLIENT_SECRET"] = "missing: the client secret of your Spotify app"
        if self.discord_client_secret is not None and self.discord_client_id is None:
            problems["DISCORD_CLIENT_ID"] = (
                "needed with DISCORD_CLIENT_SECRET: the application id from the developer "
                "portal's OAuth2 page"
            )
        uses_tokens = role not in {Role.MIGRATE, Role.SYNC_COMMANDS}  # those read no token
        if not self.embedded_database and not self.encryption_keys and uses_tokens:
            problems["ENCRYPTION_KEYS"] = (
                "required with an external DATABASE_URL: tokens are encrypted with it and it "
                f"must be the same on every process; make one with: {KEY_COMMAND}"
            )
        if self.shard_ids is not None:
            if self.shard_count is None:
                problems["SHARD_IDS"] = "needs SHARD_COUNT as well"
            elif any(not 0 <= shard < self.shard_count for shard in self.shard_ids):
                problems["SHARD_IDS"] = (
                    f"every id must be between 0 and SHARD_COUNT-1 ({self.shard_count - 1})"
                )
        if problems:
            hint = (
                DEMO_HINT
                if "DISCORD_TOKEN" in problems or "SPOTIFY_CLIENT_ID" in problems
                else None
            )
            raise ConfigError(problems, hint=hint)


def load_settings(role: Role, **overrides: Any) -> Settings:
    """Read and check the settings for `role`, or raise ConfigError."""
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        problems: dict[str, str] = {}
        for issue in error.errors():
            name = str(issue["loc"][0]).upper() if issue["loc"] else "settings"
            message = str(issue["msg"]).removeprefix("Value error, ")
            problems[name] = (
                f"{message} (got {issue.get('input')!r})"
                if name
                not in {
                    "ENCRYPTION_KEYS",
                    "DISCORD_TOKEN",
                    "SPOTIFY_CLIENT_SECRET",
                    "DISCORD_CLIENT_SECRET",
                    "DATABASE_URL",
                    "MONITORING_TOKEN",
                }
                else message
            )
        raise ConfigError(problems) from None
    settings.require(role)
    return settings
