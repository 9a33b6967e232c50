"""Admission under load: 2,000 slash commands at full speed while another process keeps one core
busy. Every command must be acknowledged within Discord's 3 s and get its final answer.

The emulators and `encore run` are separate processes; a competing process spins on one core
(the machine's two cores are shared by the emulators, PostgreSQL, Encore and it). The mix is
/releases, /likes, /shuffle next, /account and /np (a Spotify call) from linked members. The
Discord emulator times the acknowledgement (dispatch of INTERACTION_CREATE to the first
response) and the final answer (the first message the member sees).

Beside the figures: the kernel's count of listen-queue overflows during the burst (machine-wide).
`BENCH_DUMP=DIR` writes each run's emulator records, errors and requests there (interaction
tokens removed), to see what happened to each command.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from cryptography.fernet import Fernet

from bench.interaction_latency import cpu_seconds, link, until_connected
from bench.report import discord_refusals, machine, percentile, sized, table, verdict
from sandbox.database import scratch_database
from sandbox.discord import DiscordControl
from sandbox.processes import (
    emulator,
    encore_env,
    free_port,
    process,
    sync_commands,
    wait_until_up,
)
from sandbox.spotify import SpotifyControl

MEMBERS = sized(20, 3)
COMMANDS = int(os.environ.get("BENCH_COMMANDS", str(sized(2000, 60))))
IN_FLIGHT = int(
    os.environ.get("BENCH_IN_FLIGHT", "64")
)  # injections at once: as fast as the emulator takes them
DEADLINE_MS = 3000.0
BUSY = "too busy"  # bot.ui.admission.BUSY
MIX: list[tuple[str, dict[str, Any]]] = [
    ("releases", {}),
    ("likes", {}),
    ("shuffle next", {}),
    ("account", {}),
    ("np", {}),
]


async def fire(
    discord: DiscordControl, guild: dict[str, Any], members: list[int], count: int
) -> list[str]:
    channel = guild["channels"][0]["id"]
    semaphore = asyncio.Semaphore(IN_FLIGHT)

    async def one(index: int) -> str:
        name, options = MIX[index % len(MIX)]
        async with semaphore:
            injected = await discord.command(
                name,
                members[index % len(members)],
                guild_id=guild["id"],
                channel_id=channel,
                options=options,
            )
        return str(injected["id"])

    return list(await asyncio.gather(*(one(index) for index in range(count))))


def answered_at(record: dict[str, Any]) -> float | None:
    """When the member saw the final answer (the emulator's record: a message response, or
    what replaced the deferral's "thinking" message)."""
    at = record.get("answered_at")
    return None if at is None else float(at)


def final_text(record: dict[str, Any]) -> str:
    shown = (record.get("followups") or [None])[0] or record.get("original") or {}
    return str(shown.get("content") or "")


async def settle(discord: DiscordControl, ids: list[str], patience: float) -> list[dict[str, Any]]:
    """The interactions' records once all are answered, or after `patience` s without one.

    Each is long-polled alone, in the order fired: listing every record while the bot works
    would cost the emulator (one process, as the bot's Discord) more than the commands do."""
    for interaction_id in ids:
        record = await discord.interaction(interaction_id, wait=patience, until="answered")
        if answered_at(record) is None and not record.get("late_responses"):
            patience = 0  # one never answered: the rest are read as they are
    wanted = set(ids)
    return [r for r in await discord.interactions() if r["id"] in wanted]


def figures(records: list[dict[str, Any]], count: int) -> dict[str, Any]:
    acknowledged: list[float] = []
    final: list[float] = []
    late = unanswered = busy = 0
    for record in records:
        response = record.get("response")
        if response is None or response.get("error") or record.get("late_responses"):
            late += 1
        else:
            acknowledged.append(float(response["latency_ms"]))
            if float(response["latency_ms"]) > DEADLINE_MS:
                late += 1
        at = answered_at(record)
        if at is None:
            unanswered += 1
            continue
        final.append((at - float(record["dispatched_at"])) * 1000)
        busy += BUSY in final_text(record)
    unanswered += count - len(records)
    return {
        "acknowledged": acknowledged,
        "final": final,
        "late": late,
        "unanswered": unanswered,
        "busy": busy,
    }


@dataclass
class Run:
    found: dict[str, Any]
    count: int
    elapsed: float
    cpu: float
    refused: list[str]
    overflows: int


async def measure(source: Path | None) -> Run:
    """Emulators, a database and one `encore run` of `source` (this tree by default): link the
    members, then fire the burst while a process spins on one core."""
    code = source or Path.cwd()
    async with (
        emulator("discord") as discord_base,
        emulator("spotify") as spotify_base,
        # Another source tree migrates its own database (it knows only its own revisions).
        scratch_database("encore_bench", migrate=source is None) as database_url,
        DiscordControl(discord_base) as discord,
        SpotifyControl(spotify_base) as spotify,
        aiohttp.ClientSession() as http,
    ):
        port = free_port()
        public_url = f"http://127.0.0.1:{port}"
        env = encore_env(
            discord_base,
            spotify_base,
            database_url,
            Fernet.generate_key().decode(),
            PUBLIC_URL=public_url,
            WEB_PORT=str(port),
            WEB_RATE_LIMIT="0",
        )
        env["PYTHONPATH"] = str(code)
        guild = await discord.create_guild("Bench", channels=[{"name": "general"}])
        await sync_commands(env, code)
        with process(
            [sys.executable, "-m", "bot", "run"],
            env,
            log=Path(f"/tmp/encore-bench-admission-{'baseline' if source else 'encore'}.log"),
            cwd=code,
        ) as encore:
            await wait_until_up(f"{public_url}/health")
            await until_connected(discord, guild["id"])
            members = []
            for index in range(MEMBERS):
                await spotify.create_user(f"member{index}", liked=60, playlists=2)
                member = int((await discord.create_user(f"member{index}"))["id"])
                await link(discord, spotify, http, guild, member, f"member{index}", public_url)
                started = await discord.command(
                    "shuffle start",
                    member,
                    guild_id=guild["id"],
                    channel_id=guild["channels"][0]["id"],
                    options={"source": "liked"},
                )
                await discord.interaction(started["id"], wait=20, until="answered")
                members.append(member)
            spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                cpu_before = cpu_seconds(encore.pid)
                overflows = listen_overflows()
                started_at = time.monotonic()
                ids = await fire(discord, guild, members, COMMANDS)
                records = await settle(discord, ids, patience=30)
                elapsed = time.monotonic() - started_at
                cpu = cpu_seconds(encore.pid) - cpu_before
                overflows = listen_overflows() - overflows
            finally:
                spinner.terminate()
                spinner.wait()
        refused = await discord_refusals(discord)
        dump = os.environ.get("BENCH_DUMP")
        if dump:  # the emulator's records, to study what happened to each interaction
            Path(dump).mkdir(parents=True, exist_ok=True)
            name = f"{'baseline' if source else 'encore'}-{time.strftime('%H%M%S', time.gmtime())}"
            wanted = set(ids)
            kept = [
                {k: v for k, v in record.items() if k not in ("token", "payload")}
                for record in records
                if record["id"] in wanted
            ]
            said = json.dumps(
                {
                    "records": kept,
                    "errors": await discord.errors(),
                    "requests": await discord.requests(),
                }
            )
            # interaction tokens stand in request paths: never written out
            (Path(dump) / f"{name}.json").write_text(re.sub(r"aW50ZXJhY3Rpb24[\w-]+", "T", said))
    return Run(figures(records, len(ids)), len(ids), elapsed, cpu, refused, overflows)


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listening socket's accept queue was
    full (machine-wide, since boot): a client that meets one waits 1 s, then 3 s, then 7 s."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split(), values.split(), strict=True))["ListenOverflows"])
    return 0


def _ms(values: list[float]) -> str:
    return f"{percentile(values, 0.5):.0f} / {percentile(values, 0.99):.0f} ms"


async def main(argv: list[str]) -> int:
    """`--baseline DIR` runs the same burst against another source tree (e.g. `git archive`
    of an older commit) right after, and prints the two side by side; the verdict is
    Encore's own."""
    baseline = Path(argv[argv.index("--baseline") + 1]) if "--baseline" in argv else None
    sources: list[Path | None] = [None] + ([baseline] if baseline is not None else [])
    names = ["Encore"] + ([f"baseline {baseline.name}"] if baseline is not None else [])
    # The shared machine's load moves these figures from one minute to the next: BENCH_ROUNDS
    # alternates the trees that many times, each round a column.
    rounds = max(1, int(os.environ.get("BENCH_ROUNDS", "1")))
    runs: list[Run] = []
    labels: list[str] = []
    for round_number in range(rounds):
        for name, source in zip(names, sources, strict=True):
            runs.append(await measure(source))
            labels.append(name if rounds == 1 else f"{name} ({round_number + 1})")
    rows: list[list[object]] = [
        ["unanswered (no final answer)", *(r.found["unanswered"] for r in runs), "0"],
        ["acknowledged late (> 3 s or 10062)", *(r.found["late"] for r in runs), "0"],
        ["told to try again (busy)", *(r.found["busy"] for r in runs), "0"],
        [
            "p50 / p99 to acknowledgement",
            *(_ms(r.found["acknowledged"]) for r in runs),
            "p99 < 3,000 ms",
        ],
        ["p50 / p99 to final answer", *(_ms(r.found["final"]) for r in runs), "reported"],
        ["all answered after", *(f"{r.elapsed:.1f} s" for r in runs), "reported"],
        [
            "listen queue overflows (machine-wide)",
            *(f"{r.overflows:,}" for r in runs),
            "0",
        ],
        [
            "bot CPU per command",
            *(f"{r.cpu * 1000 / max(r.count, 1):.1f} ms" for r in runs),
            "reported",
        ],
    ]
    print(
        table(
            f"Admission: {runs[0].count:,} commands at full speed, one core kept busy by another "
            "process",
            ["figure", *labels, "goal"] if len(runs) > 1 else ["figure", "measured", "goal"],
            rows,
        )
    )
    print(f"\nMachine: {machine()}; emulators, `encore run` and a spinning process apart")
    failed = verdict([line for r in runs for line in r.refused])
    if any(
        r.found["unanswered"] or r.found["late"]
        for r, name in zip(runs, labels, strict=True)
        if name.startswith("Encore")
    ):
        print("FAIL: interactions were lost or acknowledged late")
        return 1
    return failed


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
