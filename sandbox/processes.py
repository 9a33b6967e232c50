"""Emulators and Encore roles as separate processes, for benchmarks and scale-out tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiohttp

from sandbox.ports import free_port

__all__ = [
    "ROOT",
    "emulator",
    "encore_env",
    "free_port",
    "process",
    "rss_mib",
    "sync_commands",
    "wait_until_up",
]

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def process(
    args: list[str],
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | str | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process (run in `cwd`, this project by default) that is terminated (then
    killed) when the block ends."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    child = subprocess.Popen(
        args, env=environment, cwd=cwd or ROOT, stdout=output, stderr=subprocess.STDOUT
    )
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if log:
            output.close()  # type: ignore[union-attr]


@asynccontextmanager
async def emulator(kind: str, *options: str) -> AsyncIterator[str]:
    """`python -m sandbox <kind> [options]` in its own process; yields its base URL once it
    answers."""
    port = free_port()
    with process([sys.executable, "-m", "sandbox", kind, "--port", str(port), *options]):
        base = f"http://127.0.0.1:{port}"
        await wait_until_up(f"{base}/_sandbox/{'state' if kind == 'discord' else 'catalog'}")
        yield base


async def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer")
            await asyncio.sleep(0.2)


def encore_env(
    discord_base: str, spotify_base: str, database_url: str, key: str, **extra: str
) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": "sandbox-bot-token",
        "DISCORD_API_URL": f"{discord_base}/api/v10",
        "DISCORD_GATEWAY_URL": f"{discord_base.replace('http', 'ws', 1)}/gateway",
        "SPOTIFY_CLIENT_ID": "sandbox-client",
        "SPOTIFY_CLIENT_SECRET": "sandbox-secret",
        "SPOTIFY_API_URL": f"{spotify_base}/v1/",
        "SPOTIFY_ACCOUNTS_URL": f"{spotify_base}/",
        "DATABASE_URL": database_url,
        "ENCRYPTION_KEYS": key,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def sync_commands(env: Mapping[str, str], cwd: Path | str = ROOT) -> None:
    """`encore sync-commands` in a child process, quietly: its output is shown only if it fails."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sync-commands",
        env={"PYTHONPATH": str(cwd), **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    said, _ = await child.communicate()
    assert child.returncode == 0, f"encore sync-commands failed: {said.decode()[-2000:]}"
