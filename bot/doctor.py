"""`encore doctor`: check a deployment and print a checklist, with what to do for each failure.

It reads the same settings as every role and asks PostgreSQL, Discord and Spotify what they
think of them. It changes nothing: no migration, no key, no command registration, no
embedded database created. Exit status 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from pydantic import SecretStr, ValidationError
from sqlalchemy import text

from bot import __version__
from bot.config import ConfigError, Role, Settings, load_settings
from bot.discord_setup import point_discord_at
from bot.problems import OperatorError
from bot.runtime import logged_in_bot, throwaway_keys
from bot.services import Services, database_url
from bot.startup import TOKEN_TODO, Transient, database_problem, discord_bot_user
from db.engine import create_engine
from db.migrate import current_revision, head_revision, known_revision

OK, FAIL, WARN, INFO = "ok", "FAIL", "warn", "info"

# Application flags (Discord's docs, "Application Flags"): the privileged gateway intents.
PRIVILEGED_INTENTS = {
    1 << 12: "Presence",
    1 << 13: "Presence",
    1 << 14: "Server Members",
    1 << 15: "Server Members",
    1 << 18: "Message Content",
    1 << 19: "Message Content",
}

TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass
class Check:
    status: str
    text: str
    todo: str | None = None


@dataclass
class Report:
    out: TextIO
    checks: list[Check] = field(default_factory=list)

    def section(self, title: str) -> None:
        print(f"\n{title}", file=self.out)

    def add(self, status: str, text: str, todo: str | None = None) -> None:
        self.checks.append(Check(status, text, todo))
        print(f"  [{status}] {text}", file=self.out)
        if todo:
            print(f"         -> {todo}", file=self.out)

    @property
    def failures(self) -> int:
        return sum(1 for check in self.checks if check.status == FAIL)


# -- settings -----------------------------------------------------------------------------


def check_settings(report: Report) -> Settings | None:
    report.section("Settings")
    try:
        settings = load_settings(Role.RUN)
    except ConfigError as error:
        try:
            settings = Settings()
        except ValidationError:  # unusable: nothing else can be checked
            for name, why in error.problems.items():
                report.add(FAIL, f"{name}: {why}", "correct it in .env or the environment")
            return None
        for name, why in error.problems.items():
            report.add(FAIL, f"{name}: {why}", "set it in .env or the environment")
    else:
        report.add(OK, "every setting a full Encore needs is there and valid")
    report.add(INFO, f"database: {settings.database_display}")
    report.add(INFO, f"public address: {settings.public_url}")
    if Path("/.dockerenv").exists() and settings.web_host in {"127.0.0.1", "localhost", "::1"}:
        report.add(
            WARN,
            f"WEB_HOST={settings.web_host} inside a container: nothing outside it can reach "
            "the web server",
            "set WEB_HOST=0.0.0.0 (docker-compose.yml does)",
        )
    return settings


# -- database -----------------------------------------------------------------------------


async def check_database(report: Report, settings: Settings) -> None:
    report.section("Database")
    if settings.database_url is None:
        if not (settings.encore_data_dir / "postgres" / "PG_VERSION").exists():
            report.add(
                INFO,
                f"embedded PostgreSQL: not created yet in {settings.encore_data_dir / 'postgres'}",
                None,
            )
            report.add(INFO, "the first `encore run` creates it and brings its schema up")
            return
        url = await database_url(settings)
    else:
        url = settings.database_url.get_secret_value()
    engine = create_engine(url, pool_size=1)
    try:
        try:
            async with asyncio.timeout(10), engine.connect() as connection:
                version = await connection.scalar(text("SHOW server_version"))
        except Exception as error:
            try:
                problem = database_problem(error, url, settings.database_display)
            except Exception:
                problem = OperatorError(
                    f"the database connection failed: {type(error).__name__}: {error}",
                    "check DATABASE_URL",
                )
            if isinstance(problem, Transient):
                report.add(
                    FAIL,
                    f"PostgreSQL does not answer at {settings.database_display} ({problem.reason})",
                    "start PostgreSQL, or correct DATABASE_URL",
                )
            else:
                report.add(FAIL, problem.what.rstrip("."), problem.todo)
            return
        report.add(OK, f"PostgreSQL {version} answers")
        current, head = await current_revision(engine), head_revision()
        if current == head:
            report.add(OK, f"the schema is at the newest revision ({head})")
        elif current is None:
            report.add(
                FAIL,
                "the database has no Encore schema yet",
                "run `encore migrate` (every role also migrates when it starts)",
            )
        elif not known_revision(current):
            report.add(
                FAIL,
                f"the schema is at revision {current}, which this Encore ({__version__}) does "
                "not know: a newer Encore migrated it",
                "run the newer Encore (downgrading is not supported)",
            )
        else:
            report.add(
                FAIL,
                f"the schema is at revision {current}; this Encore needs {head}",
                "run `encore migrate` (every role also migrates when it starts)",
            )
    finally:
        await engine.dispose()


# -- Discord ------------------------------------------------------------------------------


def privileged_intents(flags: int) -> list[str]:
    return sorted({name for bit, name in PRIVILEGED_INTENTS.items() if flags & bit})


def _normal_option(option: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {
        "type": option.get("type"),
        "name": option.get("name"),
        "description": option.get("description") or "",
    }
    for key in ("min_value", "max_value", "min_length", "max_length"):
        if option.get(key) is not None:
            kept[key] = option[key]
    if option.get("required"):
        kept["required"] = True
    if option.get("autocomplete"):
        kept["autocomplete"] = True
    if option.get("channel_types"):
        kept["channel_types"] = sorted(option["channel_types"])
    if option.get("choices"):
        kept["choices"] = [{"name": c["name"], "value": c["value"]} for c in option["choices"]]
    if option.get("options"):
        kept["options"] = [_normal_option(child) for child in option["options"]]
    return kept


def normal_command(command: dict[str, Any]) -> dict[str, Any]:
    """What of a command's JSON Discord keeps, without defaults and server-set fields."""
    kept = _normal_option({**command, "type": command.get("type") or 1})
    permissions = command.get("default_member_permissions")
    if permissions is not None:
        kept["default_member_permissions"] = str(permissions)
    if command.get("nsfw"):
        kept["nsfw"] = True
    if command.get("contexts"):
        kept["contexts"] = sorted(command["contexts"])
    if command.get("integration_types") and command["integration_types"] != [0]:
        kept["integration_types"] = sorted(command["integration_types"])
    return kept


def signature(command: dict[str, Any]) -> str:
    encoded = json.dumps(normal_command(command), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()[:12]


def compare_commands(
    code: list[dict[str, Any]], registered: list[dict[str, Any]]
) -> tuple[list[str], list[str], list[str]]:
    """(missing at Discord, changed, registered but not in this code), by name."""
    ours = {c["name"]: signature(c) for c in code}
    theirs = {c["name"]: signature(c) for c in registered}
    missing = sorted(set(ours) - set(theirs))
    extra = sorted(set(theirs) - set(ours))
    changed = sorted(name for name in set(ours) & set(theirs) if ours[name] != theirs[name])
    return missing, changed, extra


def tree_signature(commands: list[dict[str, Any]]) -> str:
    joined = ",".join(sorted(f"{c['name']}:{signature(c)}" for c in commands))
    return hashlib.sha256(joined.encode()).hexdigest()[:12]


async def code_commands(settings: Settings) -> list[dict[str, Any]]:
    """This Encore's command tree, as `encore sync-commands` would send it."""
    # The tree needs neither the database nor a key: the services point at nothing.
    offline = settings.model_copy(
        update={"database_url": SecretStr("postgresql://doctor@127.0.0.1:1/unused")}
    )
    services = await Services.build(offline, keys=throwaway_keys())
    try:
        async with logged_in_bot(services, settings) as bot:
            return [command.to_dict(bot.tree) for command in bot.tree.get_commands()]
    finally:
        await services.close()


async def check_discord(report: Report, settings: Settings) -> None:
    report.section("Discord")
    if settings.discord_token is None:
        report.add(FAIL, "no DISCORD_TOKEN: nothing to check", TOKEN_TODO)
        return
    api = settings.discord_api_url.rstrip("/")
    headers = {"Authorization": f"Bot {settings.discord_token.get_secret_value()}"}
    async with aiohttp.ClientSession(timeout=TIMEOUT, headers=headers) as session:
        try:
            user = await discord_bot_user(settings, session)
        except OperatorError as error:
            report.add(FAIL, error.what.rstrip("."), error.todo)
            return
        except Transient as problem:
            report.add(
                FAIL,
                f"Discord does not answer at {settings.discord_api_url} ({problem.reason})",
                "check that this host can reach discord.com (network, DNS, firewall)",
            )
            return
        report.add(OK, f"Discord accepts DISCORD_TOKEN: the bot is {user.get('username')}")
        async with session.get(f"{api}/oauth2/applications/@me") as response:
            application = await response.json() if response.status == 200 else {}
        application_id = str(application.get("id") or user.get("id"))
        report.add(OK, f"application id {application_id} (`encore invite-url` prints the invite)")
        flags = int(application.get("flags") or 0)
        extra = privileged_intents(flags)
        if extra:
            report.add(
                WARN,
                f"privileged intents are on ({', '.join(extra)}): Encore needs none",
                "you may turn them off in the developer portal -> your application -> Bot",
            )
        else:
            report.add(OK, "no privileged intent is on (Encore needs none)")
        await _check_discord_sign_in(report, settings, session, application_id)
        if application.get("interactions_endpoint_url"):
            report.add(
                FAIL,
                "the application has an Interactions Endpoint URL: Discord sends slash "
                "commands there instead of to Encore's gateway",
                "clear it in the developer portal -> your application -> General Information",
            )
        if application.get("bot_require_code_grant"):
            report.add(
                FAIL,
                "'Requires OAuth2 Code Grant' is on: the invite link cannot add the bot",
                "turn it off in the developer portal -> your application -> Bot",
            )
        async with session.get(f"{api}/applications/{application_id}/commands") as response:
            registered = list(await response.json()) if response.status == 200 else None
    if registered is None:
        report.add(FAIL, "Discord would not list the registered commands", None)
        return
    point_discord_at(settings.discord_api_url, settings.discord_gateway_url)
    code = await code_commands(settings)
    if not registered:
        report.add(
            FAIL,
            "no global command is registered at Discord yet: members see no slash command",
            "run `encore sync-commands` (Discord may take up to an hour to show them)",
        )
        return
    missing, changed, extra_commands = compare_commands(code, registered)
    if not (missing or changed or extra_commands):
        report.add(
            OK,
            f"the {len(code)} global commands registered at Discord match this Encore "
            f"(signature {tree_signature(code)})",
        )
        return
    parts = []
    if missing:
        parts.append("not registered: " + ", ".join(f"/{n}" for n in missing))
    if changed:
        parts.append("changed since: " + ", ".join(f"/{n}" for n in changed))
    if extra_commands:
        parts.append("registered but gone: " + ", ".join(f"/{n}" for n in extra_commands))
    report.add(
        FAIL,
        "the global commands at Discord differ from this Encore's (" + "; ".join(parts) + ")",
        "run `encore sync-commands` (Discord may take up to an hour to show the change)",
    )


async def _check_discord_sign_in(
    report: Report, settings: Settings, session: aiohttp.ClientSession, application_id: str
) -> None:
    """Discord's OAuth2 for the personal link (DISCORD_CLIENT_ID/SECRET): set, and accepted."""
    redirect = settings.discord_redirect_uri
    if not settings.proves_discord_identity:
        report.add(
            WARN,
            "no DISCORD_CLIENT_SECRET: a personal link cannot prove who opens it, so a "
            "forwarded link relies on its page's warning (README: Security and privacy)",
            "set DISCORD_CLIENT_ID and DISCORD_CLIENT_SECRET from the developer portal -> "
            f"your application -> OAuth2, and add the redirect {redirect} there",
        )
        return
    assert settings.discord_client_secret is not None
    if settings.discord_client_id != application_id:
        report.add(
            FAIL,
            f"DISCORD_CLIENT_ID is {settings.discord_client_id}, but this bot's application "
            f"is {application_id}",
            f"set DISCORD_CLIENT_ID={application_id}",
        )
        return
    auth = aiohttp.encode_basic_auth(
        settings.discord_client_id, settings.discord_client_secret.get_secret_value()
    )
    async with session.post(
        f"{settings.discord_api_url.rstrip('/')}/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "identify"},
        headers={"Authorization": auth},
    ) as response:
        refused = response.status == 401
    if refused:
        report.add(
            FAIL,
            "Discord refuses DISCORD_CLIENT_ID / DISCORD_CLIENT_SECRET (401 invalid_client)",
            "copy the Client Secret again from the developer portal -> your application -> "
            "OAuth2 (Reset Secret makes a new one)",
        )
        return
    report.add(OK, "Discord accepts DISCORD_CLIENT_SECRET: personal links prove who opens them")
    report.add(
        INFO, f"register in your Discord application's OAuth2 redirects, exactly: {redirect}"
    )


# -- Spotify ------------------------------------------------------------------------------


async def check_spotify(report: Report, settings: Settings) -> None:
    report.section("Spotify")
    if not settings.spotify_client_id or settings.spotify_client_secret is None:
        report.add(
            FAIL,
            "no SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET: nothing to check",
            "copy both from https://developer.spotify.com/dashboard -> your app -> Settings",
        )
        return
    accounts = settings.spotify_accounts_url.rstrip("/")
    auth = aiohttp.BasicAuth(
        settings.spotify_client_id, settings.spotify_client_secret.get_secret_value()
    )
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        try:
            async with session.post(
                f"{accounts}/api/token", data={"grant_type": "client_credentials"}, auth=auth
            ) as response:
                body = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            report.add(
                FAIL,
                f"Spotify's accounts service does not answer at {accounts} "
                f"({type(error).__name__})",
                "check that this host can reach accounts.spotify.com",
            )
            return
        if status != 200 or not isinstance(body, dict) or "access_token" not in body:
            reason = body.get("error") if isinstance(body, dict) else None
            report.add(
                FAIL,
                f"Spotify refused SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET ({status} {reason})",
                "copy both again from https://developer.spotify.com/dashboard -> your app -> "
                "Settings (View client secret)",
            )
            return
        report.add(OK, "Spotify accepts SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET")
        await _check_redirect(report, settings, session)
        api = settings.spotify_api_url.rstrip("/")
        token = {"Authorization": f"Bearer {body['access_token']}"}
        async with session.get(f"{api}/browse/new-releases?limit=1", headers=token) as response:
            new_releases = response.status
    if new_releases == 200:
        report.add(
            INFO,
            "extended quota: any Spotify user can link, and new releases come from "
            "Spotify's new-releases list",
        )
    else:
        report.add(
            INFO,
            "development mode (Spotify's default for a new app): at most 5 members can link, "
            "each added by the e-mail of their Spotify account under User Management in the "
            "dashboard, and the app's owner needs Premium; anyone else is refused after "
            "signing in (Encore tells them). New releases come from search (tag:new). Apply "
            "for extended quota to lift this",
        )


async def _check_redirect(
    report: Report, settings: Settings, session: aiohttp.ClientSession
) -> None:
    redirect = settings.redirect_uri
    params = {
        "client_id": settings.spotify_client_id or "",
        "response_type": "code",
        "redirect_uri": redirect,
        "state": "encore-doctor",
    }
    try:
        async with session.get(
            f"{settings.spotify_accounts_url.rstrip('/')}/authorize",
            params=params,
            allow_redirects=False,
        ) as response:
            refused = response.status == 400
    except (aiohttp.ClientError, TimeoutError):
        refused = False
    if refused:
        report.add(
            FAIL,
            f"Spotify refuses the redirect URI {redirect}",
            "add it, exactly, under Redirect URIs in your app's settings on the Spotify "
            "dashboard (or correct PUBLIC_URL)",
        )
    else:
        report.add(
            INFO,
            f"the redirect URI to register in your Spotify app, exactly: {redirect}",
        )


# -- the whole checklist ----------------------------------------------------------------------


async def run(out: TextIO = sys.stdout) -> int:
    report = Report(out)
    print(f"Encore {__version__} doctor: checking this deployment", file=out)
    settings = check_settings(report)
    if settings is not None:
        checks: list[Callable[[Report, Settings], Any]] = [
            check_database,
            check_discord,
            check_spotify,
        ]
        for check in checks:
            try:
                await check(report, settings)
            except Exception as error:  # a check that breaks must not hide the others
                report.add(FAIL, f"the check failed: {type(error).__name__}: {error}")
    print(file=out)
    if report.failures:
        problems = "problem" if report.failures == 1 else "problems"
        print(f"{report.failures} {problems} found: see the lines marked FAIL.", file=out)
        return 1
    print("Every check passed.", file=out)
    return 0


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(run())
