"""Every failure a server owner can cause or meet at start says what happened and what to do:
exit status 2 for configuration, 1 for a dependency that stays down, never a traceback; a
dependency that is down at start is waited for (with a log line) and used once it answers."""

from __future__ import annotations

import asyncio
import os
import struct
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from sandbox.discord import DiscordControl, DiscordEmulator
from sandbox.processes import encore_env, free_port

ROOT = Path(__file__).resolve().parent.parent.parent
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused


@pytest.fixture
async def discord() -> AsyncIterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


def env_for(database_url: str, discord_base: str = NOWHERE, **extra: str) -> dict[str, str]:
    return encore_env(
        discord_base,
        NOWHERE,
        database_url,
        Fernet.generate_key().decode(),
        **{"LOG_LEVEL": "INFO", "STARTUP_TIMEOUT": "2", **extra},
    )


async def start(args: list[str], env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def encore(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60
) -> tuple[int, str]:
    child = await start(args, env, cwd)
    try:
        output, _ = await asyncio.wait_for(child.communicate(), timeout)
    except TimeoutError:
        child.kill()
        raise
    return int(child.returncode or 0), output.decode()


def explained(output: str, *needles: str) -> None:
    assert "Traceback" not in output and "Unclosed" not in output, output
    assert "Encore stopped:" in output and "What to do:" in output, output
    for needle in needles:
        assert needle in output, output


# -- Discord ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["gateway"], ["worker"], ["sync-commands"], ["invite-url"]])
async def test_a_refused_discord_token_says_how_to_get_a_new_one(
    command: list[str], discord: DiscordEmulator, clean_database: str, tmp_path: Path
) -> None:
    env = env_for(clean_database, discord.base_url, DISCORD_TOKEN="not-the-bot-token")
    status, output = await encore(command, env, tmp_path)
    assert status == 2, output
    explained(output, "Discord refused DISCORD_TOKEN", "Reset Token")
    assert "not-the-bot-token" not in output


async def test_sync_commands_for_a_server_the_bot_is_not_in_says_to_invite_it(
    discord: DiscordEmulator, clean_database: str, tmp_path: Path
) -> None:
    env = env_for(clean_database, discord.base_url)
    status, output = await encore(["sync-commands", "--guild", "4242424242"], env, tmp_path)
    assert status == 2, output
    explained(output, "the bot is not in server 4242424242", "encore invite-url")


async def test_discord_down_at_start_is_waited_for_then_reported(
    clean_database: str, tmp_path: Path
) -> None:
    status, output = await encore(["worker"], env_for(clean_database), tmp_path)
    assert status == 1, output
    assert "Waiting for Discord at http://127.0.0.1:9/api/v10: connection refused" in output
    explained(output, "Discord did not answer at http://127.0.0.1:9/api/v10 for 2 s")


async def test_discord_coming_up_late_is_waited_for(clean_database: str, tmp_path: Path) -> None:
    late = DiscordEmulator()
    async with hanging_up() as port:
        env = env_for(clean_database, f"http://127.0.0.1:{port}", STARTUP_TIMEOUT="30")
        child = await start(["worker"], env, tmp_path)
        seen = await _read_until(child, "Waiting for Discord")  # it asked, was hung up on
    try:
        await late.start("127.0.0.1", port)
        await _started(late)
    finally:
        child.terminate()
        output = seen + (await child.communicate())[0].decode()
        await late.stop()
    assert "Waiting for Discord" in output and "started: worker" in output, output
    assert child.returncode == 0, output
    assert "Traceback" not in output, output


async def _read_until(child: asyncio.subprocess.Process, text: str) -> str:
    assert child.stdout is not None
    seen = ""
    while text not in seen:
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        if not line:
            raise AssertionError(f"the process ended before saying {text!r}:\n{seen}")
        seen += line.decode()
    return seen


class hanging_up:
    """A port where something accepts connections and closes them at once (a service that is
    not up yet behind a proxy)."""

    async def __aenter__(self) -> int:
        async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        self.server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()


async def _started(emulator: DiscordEmulator) -> None:
    """The worker logged in (the emulator saw /users/@me answered 200)."""
    async with DiscordControl(emulator.base_url) as control:
        for _ in range(150):
            requests = await control.requests(path="/users/@me")
            if any(r["status"] == 200 for r in requests):
                return
            await asyncio.sleep(0.1)
    raise AssertionError("the worker never logged in once Discord answered")


async def test_a_gateway_that_never_becomes_ready_says_so_without_a_traceback(
    discord: DiscordEmulator, clean_database: str, tmp_path: Path
) -> None:
    env = env_for(
        clean_database,
        discord.base_url,
        DISCORD_GATEWAY_URL="ws://127.0.0.1:9/gateway",
        SHARD_COUNT="1",
        STARTUP_TIMEOUT="3",
    )
    status, output = await encore(["gateway"], env, tmp_path)
    assert status == 1, output
    explained(
        output,
        "the Discord gateway did not become ready within 3 s (shard 0 of 1, 0 connected)",
        "ws://127.0.0.1:9/gateway",
    )
    assert "Failed to connect for shard_id: 0" in output  # discord.py's line, in one line


async def test_invite_url_offline_says_so_and_offers_the_application_id(
    clean_database: str, tmp_path: Path
) -> None:
    status, output = await encore(["invite-url"], env_for(clean_database), tmp_path)
    assert status == 1, output
    explained(output, "Discord did not answer", "--application-id")
    status, output = await encore(
        ["invite-url", "--application-id", "123456789"], env_for(clean_database), tmp_path
    )
    assert status == 0 and "client_id=123456789&" in output, output


# -- PostgreSQL ---------------------------------------------------------------------------


def _other_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def test_a_database_that_does_not_exist_says_how_to_create_it(
    clean_database: str, tmp_path: Path
) -> None:
    missing = _other_database(clean_database, "encore_nowhere_to_be_found")
    status, output = await encore(["web"], env_for(missing), tmp_path)
    assert status == 2, output
    explained(output, 'the database "encore_nowhere_to_be_found" does not exist', "createdb")


async def test_a_database_url_that_is_not_a_url_is_a_configuration_error(
    tmp_path: Path,
) -> None:
    status, output = await encore(["web"], env_for("secretpassword@db:encore"), tmp_path)
    assert status == 2, output
    assert "DATABASE_URL: not a URL" in output and "postgresql://USER:PASSWORD@HOST" in output
    assert "secretpassword" not in output and "Traceback" not in output


async def test_a_refused_password_says_which_user_and_what_to_check(tmp_path: Path) -> None:
    async with refusing_postgres() as port:
        url = f"postgresql://encore:hunter2@127.0.0.1:{port}/encore"
        status, output = await encore(["migrate"], env_for(url), tmp_path)
    assert status == 2, output
    explained(output, 'refused the password of user "encore"', "POSTGRES_PASSWORD")
    assert "hunter2" not in output


async def test_a_database_down_at_start_is_waited_for_then_reported(tmp_path: Path) -> None:
    url = f"postgresql://encore@127.0.0.1:{free_port()}/encore"
    status, output = await encore(["migrate"], env_for(url), tmp_path)
    assert status == 1, output
    assert "Waiting for the database at 127.0.0.1:" in output and "connection refused" in output
    explained(output, "did not answer for 2 s", "start PostgreSQL")


async def test_a_database_coming_up_late_is_waited_for(clean_database: str, tmp_path: Path) -> None:
    """PostgreSQL answers "the database system is starting up" at first, then works."""
    real = make_url(clean_database)
    starting = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not starting.is_set():
            starting.set()
            await _refuse(reader, writer, b"57P03", b"the database system is starting up")
        else:
            await _forward(reader, writer, real.host or "127.0.0.1", real.port or 5432)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    try:
        url = real.set(port=port).render_as_string(hide_password=False)
        status, output = await encore(["migrate"], env_for(url, STARTUP_TIMEOUT="30"), tmp_path)
    finally:
        server.close()
    assert starting.is_set()
    assert status == 0, output
    assert "Waiting for the database" in output and "starting up" in output, output
    assert "up to date" in output


async def _forward(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
) -> None:
    upstream_reader, upstream_writer = await asyncio.open_connection(host, port)

    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()

    await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


class refusing_postgres:
    """A server that speaks just enough of PostgreSQL's protocol to refuse every password."""

    async def __aenter__(self) -> int:
        async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            message = b'password authentication failed for user "encore"'
            await _refuse(reader, writer, b"28P01", message)

        self.server = await asyncio.start_server(refuse, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()


async def _refuse(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, code: bytes, message: bytes
) -> None:
    """Read a startup packet, answer with PostgreSQL's FATAL ErrorResponse `code`."""
    try:
        while True:
            length = struct.unpack("!I", await reader.readexactly(4))[0]
            body = await reader.readexactly(length - 4)
            if body[:4] == struct.pack("!I", 80877103):  # SSLRequest: no SSL here
                writer.write(b"N")
                await writer.drain()
                continue
            break
        fields = b"".join(
            kind + text + b"\0"
            for kind, text in ((b"S", b"FATAL"), (b"V", b"FATAL"), (b"C", code), (b"M", message))
        )
        payload = fields + b"\0"
        writer.write(b"E" + struct.pack("!I", len(payload) + 4) + payload)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
