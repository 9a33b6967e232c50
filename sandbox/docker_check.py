"""`make docker-check`: the README's Docker path, end to end, on this machine.

1. `docker build` the image (with `--network host`: on this machine pip reaches its index
   only from the host's network);
2. in a temporary folder, the compose file and a `.env` made from `.env.example` as a user
   would: secrets filled in, ENCRYPTION_KEYS from `docker compose run --rm --no-deps web
   generate-key`, POSTGRES_PASSWORD, MONITORING_TOKEN, and Discord and Spotify pointed at the
   sandbox's emulators (started here, on the Docker bridge address the containers reach);
   `.env.example`'s WEB_HOST=127.0.0.1 is kept, to show the compose file overrides it;
3. `up -d`: PostgreSQL, gateway, web and worker; then `/health` from the host, the detailed
   health (every role live, the gateway's shard connected), the schema at head, a slash
   command answered through the gateway and counted in the gateway's own /metrics,
   `encore doctor` in a container, the backup recipe (`exec -T ... pg_dump`, restored into a
   scratch database), and no traceback in any log;
4. `down -v`, whatever happened.

Not part of `make test` (CI has no Docker daemon). Exit status 0 only if every step passed.
`python -m sandbox.docker_check --logs` also prints the containers' logs.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from db.migrate import head_revision
from sandbox.discord import DiscordControl
from sandbox.ports import free_port
from sandbox.processes import process, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "encore-check"
IMAGE = "encore-bot:latest"  # the name docker-compose.yml gives the image it builds
WEB = "http://127.0.0.1:8080"


class CheckFailed(Exception):
    pass


def say(line: str) -> None:
    print(line, flush=True)


def ok(line: str) -> None:
    say(f"  ✓ {line}")


def compose_command() -> list[str]:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise CheckFailed("neither `docker compose` nor `docker-compose` is installed")


def bridge_address() -> str:
    """The host's address on Docker's default bridge: containers on any bridge reach it."""
    found = subprocess.run(
        ["docker", "network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for block in json.loads(found) or []:
        if block.get("Gateway"):
            return str(block["Gateway"])
    return "172.17.0.1"


class Compose:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.base = [*compose_command(), "-p", PROJECT]

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 300, stdin: Any = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.base, *args],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=stdin,
        )
        if check and result.returncode != 0:
            raise CheckFailed(
                f"`compose {' '.join(args)}` exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def build() -> None:
    say(f"Building {IMAGE} (docker build --network host) ...")
    started = time.monotonic()
    result = subprocess.run(
        ["docker", "build", "--network", "host", "-q", "-t", IMAGE, str(ROOT)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise CheckFailed(f"docker build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    ok(f"image built in {time.monotonic() - started:.0f} s")


def write_env(folder: Path, values: dict[str, str]) -> None:
    """.env.example with the values a user fills in; the rest as shipped."""
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0].lstrip("# ").strip()
        if name in values and "=" in line and " " not in name:
            lines.append(f"{name}={values.pop(name)}")
        else:
            lines.append(line)
    lines += [f"{name}={value}" for name, value in values.items()]
    (folder / ".env").write_text("\n".join(lines) + "\n")


async def get_json(
    session: aiohttp.ClientSession, url: str, **headers: str
) -> tuple[int, dict[str, Any]]:
    async with session.get(url, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def wait_healthy(session: aiohttp.ClientSession, compose: Compose) -> None:
    deadline = time.monotonic() + 180
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            status, body = await get_json(session, f"{WEB}/health")
            if status == 200:
                ok(f"GET {WEB}/health from the host: 200 {body}")
                return
            last = f"{status} {body}"
        except (aiohttp.ClientError, ValueError) as error:
            last = type(error).__name__
        await asyncio.sleep(1)
    raise CheckFailed(f"/health did not answer 200 within 180 s ({last})\n{logs(compose)}")


async def wait_deployment(
    session: aiohttp.ClientSession, compose: Compose, token: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        _, body = await get_json(session, f"{WEB}/health", Authorization=f"Bearer {token}")
        roles = {role["role"] for role in body.get("roles", []) if not role["stale"]}
        gateway = body.get("gateway") or {}
        if {"gateway", "web", "worker"} <= roles and gateway.get("shards_connected"):
            return body
        await asyncio.sleep(1)
    raise CheckFailed(f"the detailed /health never showed every role: {body}\n{logs(compose)}")


def logs(compose: Compose) -> str:
    return compose("logs", "--no-color", check=False).stdout[-6000:]


async def answered(discord: DiscordControl, guild: dict[str, Any], user: int) -> str:
    injected = await discord.command(
        "account", user, guild_id=guild["id"], channel_id=guild["channels"][0]["id"]
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        record = await discord.interaction(injected["id"], wait=5)
        shown = record.get("followups") or ([record["original"]] if record.get("original") else [])
        for message in shown:
            if message.get("content"):
                return str(message["content"])
        data = (record.get("response") or {}).get("data") or {}
        if data.get("content"):
            return str(data["content"])
    raise CheckFailed(f"/account got no answer through the gateway: {record}")


async def check(folder: Path) -> None:
    compose = Compose(folder)
    address = bridge_address()
    with ExitStack() as stack:
        bases = {}
        for kind in ("discord", "spotify"):
            port = free_port(address)
            stack.enter_context(
                process(
                    [sys.executable, "-m", "sandbox", kind, "--host", address, "--port", str(port)],
                    log=folder / f"{kind}-emulator.log",
                )
            )
            bases[kind] = f"http://{address}:{port}"
        await wait_until_up(f"{bases['discord']}/_sandbox/state")
        await wait_until_up(f"{bases['spotify']}/_sandbox/catalog")
        ok(f"Discord emulator on {bases['discord']}, Spotify emulator on {bases['spotify']}")
        await run_compose(folder, compose, bases["discord"], bases["spotify"])


async def run_compose(folder: Path, compose: Compose, discord_base: str, spotify_base: str) -> None:
    shutil.copy2(ROOT / "docker-compose.yml", folder / "docker-compose.yml")
    token = secrets.token_hex(16)
    values = {
        "DISCORD_TOKEN": "sandbox-bot-token",
        "DISCORD_API_URL": f"{discord_base}/api/v10",
        "DISCORD_GATEWAY_URL": f"{discord_base.replace('http', 'ws', 1)}/gateway",
        "SPOTIFY_CLIENT_ID": "sandbox-client",
        "SPOTIFY_CLIENT_SECRET": "sandbox-secret",
        "SPOTIFY_API_URL": f"{spotify_base}/v1/",
        "SPOTIFY_ACCOUNTS_URL": f"{spotify_base}/",
        "POSTGRES_PASSWORD": secrets.token_hex(12),
        "MONITORING_TOKEN": token,
    }
    write_env(folder, dict(values))  # ENCRYPTION_KEYS still empty: made the README's way
    key = compose("run", "--rm", "--no-deps", "web", "generate-key").stdout.strip().splitlines()
    if not key or len(key[-1]) != 44:
        raise CheckFailed(f"generate-key printed {key!r}")
    write_env(folder, {**values, "ENCRYPTION_KEYS": key[-1]})
    ok("ENCRYPTION_KEYS from `compose run --rm --no-deps web generate-key`")
    ok(".env from .env.example (WEB_HOST=127.0.0.1 kept: compose must override it)")

    async with aiohttp.ClientSession() as session, DiscordControl(discord_base) as discord:
        guild = await discord.create_guild("Docker Check", channels=[{"name": "general"}])
        user = int((await discord.create_user("checker"))["id"])
        compose("up", "-d", "--no-build", timeout=600)
        ok("compose up -d: postgres, gateway, web, worker")
        await wait_healthy(session, compose)
        body = await wait_deployment(session, compose, token)
        roles = ", ".join(f"{r['role']} ({r['process']})" for r in body["roles"])
        ok(f"detailed /health (with MONITORING_TOKEN): {roles}; gateway {body['gateway']}")
        if body["problems"]:
            raise CheckFailed(f"/health names problems: {body['problems']}")
        ok("no problem named in /health")
        status, _ = await get_json(session, f"{WEB}/metrics")
        if status != 401:
            raise CheckFailed(f"/metrics without the token answered {status}")
        ok("/metrics from the host without the token: 401")

        revision = compose(
            "exec",
            "-T",
            "postgres",
            "psql",
            "-U",
            "encore",
            "-d",
            "encore",
            "-Atc",
            "SELECT version_num FROM alembic_version",
        ).stdout.strip()
        if revision != head_revision():
            raise CheckFailed(f"the schema is at {revision!r}, not {head_revision()}")
        ok(f"migrations done: alembic_version = {revision}")

        synced = compose("run", "--rm", "gateway", "sync-commands", timeout=120).stdout.strip()
        ok(f"compose run --rm gateway sync-commands: {synced[:60]}...")
        text = await answered(discord, guild, user)
        ok(f"/account through the gateway container: {text[:60]!r}")
        metrics = compose(
            "exec",
            "-T",
            "gateway",
            "python",
            "-c",
            "import urllib.request; print(urllib.request.urlopen("
            "'http://127.0.0.1:9100/metrics', timeout=5).read().decode())",
        ).stdout
        counted = [m for m in metrics.splitlines() if m.startswith("encore_command")]
        line = next((m for m in counted if 'command="account"' in m and "_total" in m), None)
        timed = next(
            (m for m in counted if m.startswith("encore_command_duration_seconds_count")), None
        )
        if line is None or timed is None:
            raise CheckFailed(f"the gateway's /metrics does not count /account: {counted}")
        ok(f"gateway's own /metrics (port 9100): {line}; {timed}")

        doctor = compose("run", "--rm", "--no-deps", "web", "doctor", check=False, timeout=120)
        if doctor.returncode != 0:
            raise CheckFailed(
                f"encore doctor in a container exited {doctor.returncode}:\n{doctor.stdout}"
            )
        ok(f"compose run --rm web doctor: {doctor.stdout.strip().splitlines()[-1]}")

        dump = folder / "encore.dump"
        with dump.open("wb") as handle:
            result = subprocess.run(
                [
                    *compose.base,
                    "exec",
                    "-T",
                    "postgres",
                    "pg_dump",
                    "-U",
                    "encore",
                    "-Fc",
                    "encore",
                ],
                cwd=folder,
                stdout=handle,
                stderr=subprocess.PIPE,
                timeout=120,
            )
        if result.returncode != 0 or not dump.read_bytes().startswith(b"PGDMP"):
            raise CheckFailed(f"the backup recipe failed: {result.stderr.decode()[-2000:]}")
        compose("exec", "-T", "postgres", "createdb", "-U", "encore", "encore_restore")
        with dump.open("rb") as handle:
            compose(
                "exec",
                "-T",
                "postgres",
                "pg_restore",
                "-U",
                "encore",
                "-d",
                "encore_restore",
                stdin=handle,
            )
        restored = compose(
            "exec",
            "-T",
            "postgres",
            "psql",
            "-U",
            "encore",
            "-d",
            "encore_restore",
            "-Atc",
            "SELECT version_num FROM alembic_version",
        ).stdout.strip()
        if restored != revision:
            raise CheckFailed(f"the restored database is at {restored!r}")
        ok(
            f"backup: exec -T pg_dump ({dump.stat().st_size} bytes), restored with exec -T pg_restore"
        )

        for service in ("gateway", "web", "worker"):
            lines = compose("logs", "--no-color", service).stdout.splitlines()
            started = next((line for line in lines if " started: " in line), None)
            if started is None:
                raise CheckFailed(f"{service} never logged that it started:\n" + "\n".join(lines))
            ok(f"{service} log: {started.split('|', 1)[-1].strip()}")
        compose("--profile", "https", "config", "-q")
        ok("the https profile (Caddy) is a valid compose configuration (not started: no image)")

        everything = compose("logs", "--no-color").stdout
        if "Traceback" in everything:
            raise CheckFailed(f"a traceback in the logs:\n{everything[-6000:]}")
        ok(f"no traceback in any log ({len(everything.splitlines())} lines)")
        if "--logs" in sys.argv:
            say(everything)


@contextmanager
def project_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="encore-docker-check-"))
    try:
        yield folder
    finally:
        if (folder / "docker-compose.yml").exists():
            Compose(folder)("down", "-v", "--remove-orphans", check=False, timeout=300)
            say("  (compose down -v: containers, network and volumes removed)")
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    started = time.monotonic()
    try:
        if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
            raise CheckFailed("no Docker daemon answers (`docker info` failed)")
        if not port_is_free(8080):
            raise CheckFailed(
                "127.0.0.1:8080 is taken: the compose file publishes the web role there"
            )
        build()
        with project_folder() as folder:
            say(f"Compose project {PROJECT} in {folder}:")
            asyncio.run(check(folder))
    except CheckFailed as failure:
        say(f"docker-check FAILED: {failure}")
        return 1
    say(f"docker-check passed in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    os.environ.pop("DATABASE_URL", None)
    sys.exit(main())
