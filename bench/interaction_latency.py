"""Interaction latency: slash commands fired by the Discord emulator at Encore.

The emulators and `encore run` are separate processes; this script only drives them. The mix
is /releases, /likes, /shuffle next, /account and the Spotify-calling /np, /playlists and
/search from 20 linked members, with the Spotify emulator answering every call after
SPOTIFY_LATENCY_MS (+/- jitter). Two times per command, both measured by the emulator from the
dispatch of INTERACTION_CREATE: to the acknowledgement (the first response) and to the final
answer (that response, or for a deferred command its first followup or edit of the original).
A command answered directly (in its one callback, bot/ui/admission.py) is both at once; the
table says what share of the commands were.

The same runs are made against a second `encore run` with DATABASE_PRE_PING=true (a ping per
pooled-connection checkout, as before issue 19), side by side, for the CPU per command; and
`--baseline DIR` adds a third from another source tree (e.g. `git archive` of an older commit).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from cryptography.fernet import Fernet

from bench.report import discord_refusals, machine, percentile, sized, table, verdict
from sandbox.browser import Browser, follow_link
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
PER_RUN = int(os.environ.get("BENCH_COMMANDS", str(sized(1000, 40))))
RATE = 50.0  # commands per second in the fixed-rate run
SPOTIFY_LATENCY_MS, SPOTIFY_JITTER_MS = 80.0, 40.0  # Web API answers in 40-120 ms
SEARCHES = ["love", "night", "summer", "blue", "fire", "dream", "heart", "rain"]
MIX: list[tuple[str, dict[str, Any]]] = [
    ("releases", {}),
    ("likes", {}),
    ("shuffle next", {}),
    ("account", {}),
    ("np", {}),
    ("playlists", {}),
    ("search", {"query": "love"}),
]
CPU_GOAL = 0.5  # issue 19: half the CPU per command of the old path (pre-ping per checkout)


async def link(
    discord: DiscordControl,
    spotify: SpotifyControl,
    http: aiohttp.ClientSession,
    guild: dict[str, Any],
    user: int,
    spotify_user: str,
    public_url: str,
) -> None:
    channel = guild["channels"][0]["id"]
    injected = await discord.command("link", user, guild_id=guild["id"], channel_id=channel)
    record = await discord.interaction(injected["id"], wait=15, until="answered")
    # The personal link comes by DM, or in the answer itself when the DM could not be sent.
    shown = [*await discord.dms(user), *(record.get("followups") or []), record.get("original")]
    urls = [
        str(component["url"])
        for message in shown
        if message
        for row in message.get("components") or []
        for component in row["components"]
        if str(component.get("url", "")).startswith(f"{public_url}/link/")
    ]
    if not urls:
        raise RuntimeError(f"/link gave no personal link: {record.get('response')}, {shown}")
    url = urls[-1]
    async with Browser() as browser:
        outcome = await follow_link(
            browser,
            url,
            discord=discord,
            spotify=spotify,
            spotify_user=spotify_user,
            discord_user=user,
        )
    assert outcome.status == 200, outcome.page


async def fire(
    discord: DiscordControl,
    guild: dict[str, Any],
    members: list[int],
    count: int,
    rate: float | None,
) -> list[str]:
    """Inject `count` commands (at `rate`/s, or as fast as possible); return their ids."""
    channel = guild["channels"][0]["id"]
    ids: list[str] = []
    started = time.monotonic()
    semaphore = asyncio.Semaphore(64)

    async def one(index: int) -> None:
        name, options = MIX[index % len(MIX)]
        if name == "search":
            options = {"query": SEARCHES[(index // len(MIX)) % len(SEARCHES)]}
        async with semaphore:
            injected = await discord.command(
                name,
                members[index % len(members)],
                guild_id=guild["id"],
                channel_id=channel,
                options=options,
            )
        ids.append(injected["id"])

    tasks = []
    for index in range(count):
        if rate is not None:
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index)))
    await asyncio.gather(*tasks)
    return ids


def final_at(record: dict[str, Any]) -> float | None:
    """When the member saw the command's answer: the response itself, or for a deferral
    (type 5) the first followup or edit of the original response."""
    response = record.get("response") or {}
    if response.get("type") != 5:
        return float(response["at"]) if "at" in response else None
    answered = record.get("answered_at")  # recorded by the emulator
    return float(answered) if answered is not None else None


async def until_connected(discord: DiscordControl, guild_id: object, timeout: float = 60) -> None:
    """Until a gateway shard holding the guild is connected: /health answers before that, and
    an interaction dispatched with no shard connected reaches nobody."""
    deadline = time.monotonic() + timeout
    while True:
        shards = (await discord.state()).get("shards") or []
        if any(
            shard.get("connected") and str(guild_id) in map(str, shard.get("guild_ids") or [])
            for shard in shards
        ):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the bot's gateway did not connect")
        await asyncio.sleep(0.2)


@dataclass
class Outcome:
    acknowledged: list[float]  # ms from dispatch to the first response
    answered: list[float]  # ms from dispatch to the final answer
    late: int  # acknowledged after 3 s (Discord drops those)
    unanswered: int  # never acknowledged
    no_answer: int  # acknowledged, but no final answer came
    elapsed: float  # first dispatch to last final answer
    direct: int = 0  # answered in their one callback (not deferred)


async def collect(discord: DiscordControl, ids: list[str]) -> Outcome:
    """Wait until every command has its final answer (or 20 s pass), then read the records."""
    wanted = set(ids)
    deadline = time.monotonic() + 20
    await asyncio.sleep(3.5)  # past the acknowledgement deadline of the last one fired
    while True:
        records = [r for r in await discord.interactions() if r["id"] in wanted]
        if all(final_at(r) is not None for r in records) or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    outcome = Outcome([], [], 0, 0, 0, 0.0)
    first, last = float("inf"), 0.0
    for record in records:
        response = record.get("response")
        if response is None or response.get("error"):
            outcome.unanswered += 1
            continue
        latency = float(response["latency_ms"])
        outcome.acknowledged.append(latency)
        outcome.direct += response.get("type") != 5
        if latency > 3000 or record.get("late_responses"):
            outcome.late += 1
        dispatched = float(record["dispatched_at"])
        first = min(first, dispatched)
        final = final_at(record)
        if final is None:
            outcome.no_answer += 1
            continue
        outcome.answered.append((final - dispatched) * 1000)
        last = max(last, final)
    outcome.unanswered += len(wanted) - len(records)
    outcome.elapsed = max(last - first, 1e-9)
    return outcome


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(label: str, extra_env: dict[str, str], source: Path | None) -> Measured:
    """Set up emulators, a database and one `encore run`, link the members, fire both runs."""
    rows: list[list[object]] = []
    cpu_per_command: dict[str, float] = {}
    spotify_options = (
        "--latency-ms",
        str(SPOTIFY_LATENCY_MS),
        "--jitter-ms",
        str(SPOTIFY_JITTER_MS),
    )
    async with (
        emulator("discord") as discord_base,
        emulator("spotify", *spotify_options) as spotify_base,
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
            **extra_env,
        )
        code = str(source or Path.cwd())
        env["PYTHONPATH"] = code
        guild = await discord.create_guild("Bench", channels=[{"name": "general"}])
        await sync_commands(env, code)
        with process(
            [sys.executable, "-m", "bot", "run"],
            env,
            log=Path(f"/tmp/encore-bench-run-{os.getpid()}.log"),
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
            deadline = time.monotonic() + 60  # the worker ingests releases at start
            while time.monotonic() < deadline:
                async with http.get(f"{public_url}/api/releases") as response:
                    if response.status == 200 and (await response.json()).get("count"):
                        break
                await asyncio.sleep(1)
            for run, rate in (
                (f"fixed rate, {RATE:.0f}/s", RATE),
                ("full speed, 64 in flight", None),
            ):
                cpu_before = cpu_seconds(encore.pid)
                ids = await fire(discord, guild, members, PER_RUN, rate)
                outcome = await collect(discord, ids)
                cpu = cpu_seconds(encore.pid) - cpu_before  # idle waiting costs no CPU
                cpu_per_command[run] = cpu * 1000 / len(ids)
                ack, final = outcome.acknowledged, outcome.answered
                rows.append(
                    [
                        f"{label}: {run}",
                        len(ids),
                        f"{len(ids) / outcome.elapsed:.0f}/s",
                        f"{percentile(ack, 0.5):.0f} / {percentile(ack, 0.99):.0f} ms",
                        f"{percentile(final, 0.5):.0f} / {percentile(final, 0.95):.0f} / "
                        f"{percentile(final, 0.99):.0f} ms",
                        outcome.late,
                        outcome.unanswered,
                        outcome.no_answer,
                        f"{outcome.direct / len(ids):.0%}",
                        f"{cpu_per_command[run]:.1f} ms",
                        f"{cpu / outcome.elapsed:.0%}",
                    ]
                )
        refused = await discord_refusals(discord)
    return Measured(rows, cpu_per_command, refused)


@dataclass
class Measured:
    rows: list[list[object]]
    cpu_per_command: dict[str, float]  # ms of bot CPU per command, by run
    refused: list[str]


async def main(argv: list[str]) -> int:
    baseline = Path(argv[argv.index("--baseline") + 1]) if "--baseline" in argv else None
    configs: list[tuple[str, dict[str, str], Path | None]] = [
        ("Encore", {}, None),
        ("DATABASE_PRE_PING=true", {"DATABASE_PRE_PING": "true"}, None),
    ]
    if baseline is not None:
        configs.append((f"baseline {baseline.name}", {}, baseline))
    # A shared machine's load moves the CPU per command by tens of percent from one minute to
    # the next: BENCH_ROUNDS alternates the configurations that many times, and the ratios
    # compare their means.
    rounds = max(1, int(os.environ.get("BENCH_ROUNDS", "1")))
    by_config: list[list[Measured]] = [[] for _ in configs]
    for round_number in range(rounds):
        for index, (label, env, source) in enumerate(configs):
            shown = label if rounds == 1 else f"{label} (round {round_number + 1})"
            by_config[index].append(await measure(shown, env, source))
    rows = [row for turn in range(rounds) for ms in by_config for row in ms[turn].rows]
    print(
        table(
            f"Interaction latency ({', '.join('/' + name for name, _ in MIX)}; Spotify emulator "
            f"answering in {SPOTIFY_LATENCY_MS:.0f} +/- {SPOTIFY_JITTER_MS:.0f} ms)",
            [
                "run",
                "commands",
                "throughput",
                "ack p50 / p99",
                "final answer p50 / p95 / p99",
                "acked over 3 s (goal 0)",
                "unanswered (goal 0)",
                "no final answer in 20 s (goal 0)",
                "answered directly",
                "bot CPU/command",
                "bot CPU use",
            ],
            rows,
        )
    )
    ours, *others = [_mean_cpu(ms) for ms in by_config]
    for other, (label, _, _) in zip(others, configs[1:], strict=True):
        for run, cpu in ours.items():
            ratio = cpu / other[run]
            print(
                f"CPU per command, {run}: {cpu:.1f} ms vs {other[run]:.1f} ms "
                f"with {label}{'' if rounds == 1 else f' (means of {rounds} rounds)'}: "
                f"{ratio:.2f}x (goal <= {CPU_GOAL:.2f}x of the old path)"
            )
    print(f"\nMachine: {machine()}; emulators and `encore run` in separate processes")
    return verdict([line for ms in by_config for m in ms for line in m.refused])


def _mean_cpu(rounds: list[Measured]) -> dict[str, float]:
    """Each run's CPU per command, averaged over the rounds."""
    return {
        run: sum(m.cpu_per_command[run] for m in rounds) / len(rounds)
        for run in rounds[0].cpu_per_command
    }


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
