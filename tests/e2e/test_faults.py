"""Faults: killed database connections, gateway disconnects, and fuzzed input everywhere."""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select, text

from db.models import LinkRequest, RadarBlock, RadarSettings, ShuffleQueue, UserPreferences
from sandbox.discord import ControlError
from sandbox.harness import MANAGE_GUILD, MEMBER, Reply, Sandbox

INCIDENT = "incident `"


async def kill_database_connections(sandbox: Sandbox) -> int:
    """pg_terminate_backend every other connection to the bot's database, and wait until
    those backends are gone (as after a server restart): the bot's pool then holds connections
    the server closed, which it must replace without a ping per checkout."""
    async with sandbox.services.engine.connect() as connection:
        killed = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    return int(killed or 0)


async def test_commands_recover_by_themselves_when_database_connections_are_killed(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    for _ in range(3):
        await asyncio.gather(*(sandbox.slash(alice, "account") for _ in range(5)))
        await kill_database_connections(sandbox)
        replies = await asyncio.gather(*(sandbox.slash(alice, "account") for _ in range(5)))
        for reply in replies:
            assert "Alice" in reply.text and INCIDENT not in reply.text


@asynccontextmanager
async def table_locked(sandbox: Sandbox, table: str) -> AsyncIterator[None]:
    """Every statement on `table` waits (on a lock, for real) until the block ends."""
    async with sandbox.services.engine.begin() as connection:
        await connection.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        yield


async def waiting_on_a_lock(sandbox: Sandbox, but: int | None = None) -> int:
    """The backend of the bot's statement that waits for the lock (a new one: not `but`)."""
    async with asyncio.timeout(15), sandbox.services.engine.connect() as connection:
        while True:
            pid = await connection.scalar(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> :but"
                ),
                {"but": but or 0},
            )
            if pid is not None:
                return int(pid)
            await connection.commit()  # pg_stat_activity is read once per transaction
            await asyncio.sleep(0.02)


async def killed_mid_command(
    sandbox: Sandbox, user: int, name: str, table: str, options: dict[str, Any] | None = None
) -> tuple[Reply, int]:
    """`/name` run while `table` is locked; its connection killed while its statement waits,
    then the lock released once it waits again (on a fresh connection). The reply, and how many
    answers the interaction got."""
    async with table_locked(sandbox, table):
        asked = asyncio.create_task(sandbox.slash(user, name, options))
        first = await waiting_on_a_lock(sandbox)
        async with sandbox.services.engine.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        await waiting_on_a_lock(sandbox, but=first)  # run again, waiting for the lock
    reply = await asked
    record = await sandbox.discord.interaction(reply.record["id"])
    direct = (record.get("response") or {}).get("type") == 4  # answered in its one callback
    return reply, len(record.get("followups") or []) + direct


async def test_a_read_whose_connection_dies_mid_command_is_run_again_and_answers_once(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    reply, answers = await killed_mid_command(sandbox, alice, "account", "spotify_links")
    assert INCIDENT not in reply.text and "Alice" in reply.text, reply.text
    assert answers == 1


async def test_a_spotify_command_whose_token_read_dies_is_run_again_and_answers_once(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    await sandbox.slash(alice, "np")  # the token is fresh: the read is all /np asks the database
    reply, answers = await killed_mid_command(sandbox, alice, "np", "spotify_links")
    assert INCIDENT not in reply.text and "/link" not in reply.text, reply.text
    assert answers == 1


async def test_a_write_whose_connection_dies_before_commit_is_run_again_and_done_once(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    reply, answers = await killed_mid_command(
        sandbox, alice, "likes-privacy", "user_preferences", {"visibility": "public"}
    )
    assert INCIDENT not in reply.text, reply.text
    assert answers == 1
    async with sandbox.services.sessions() as session:
        public = await session.scalars(
            select(UserPreferences.likes_public).where(UserPreferences.discord_user_id == alice)
        )
        assert list(public) == [True]


async def test_a_link_request_whose_connection_dies_is_run_again_and_sends_one_link(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    reply, _ = await killed_mid_command(sandbox, alice, "link", "link_requests")
    assert INCIDENT not in reply.text, reply.text
    async with sandbox.services.sessions() as session:
        nonces = list(await session.scalars(select(LinkRequest.nonce)))
    assert len(nonces) == 1
    link = await sandbox.personal_link(alice)  # /link again: the same live link
    assert link.endswith(nonces[0])


async def test_a_link_page_whose_read_dies_is_read_again_and_shown(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    link = await sandbox.personal_link(alice)
    async with table_locked(sandbox, "link_requests"):
        opened = asyncio.create_task(sandbox.get(link))
        first = await waiting_on_a_lock(sandbox)
        async with sandbox.services.engine.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        await waiting_on_a_lock(sandbox, but=first)
    status, page, _ = await opened
    assert status == 200 and INCIDENT not in page, page


async def test_radar_settings_whose_connection_dies_before_commit_are_written_once(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    reply, answers = await killed_mid_command(
        sandbox, alice, "radar settings", "radar_settings", {"time": "18:30"}
    )
    assert INCIDENT not in reply.text and "18:30" in reply.text, reply.text
    assert answers == 1
    async with sandbox.services.sessions() as session:
        rows = list(await session.scalars(select(RadarSettings.delivery_time)))
    assert [at.strftime("%H:%M") for at in rows] == ["18:30"]


async def test_a_radar_unblock_whose_connection_dies_is_run_again_and_done_once(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    async with sandbox.services.sessions() as session, session.begin():
        session.add(
            RadarBlock(discord_user_id=alice, artist_id="4" * 22, artist_name="Blocked Band")
        )
    reply, answers = await killed_mid_command(
        sandbox, alice, "radar unblock", "radar_blocks", {"artist": "Blocked Band"}
    )
    assert INCIDENT not in reply.text and "Blocked Band" in reply.text, reply.text
    assert answers == 1
    async with sandbox.services.sessions() as session:
        assert list(await session.scalars(select(RadarBlock.artist_id))) == []


async def test_a_shuffle_stop_whose_connection_dies_is_run_again_and_stops_one_queue(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    started = await sandbox.slash(alice, "shuffle start", {"source": "liked"}, timeout=30)
    assert "Shuffled" in started.text, started.text
    reply, answers = await killed_mid_command(sandbox, alice, "shuffle stop", "shuffle_queues")
    assert INCIDENT not in reply.text, reply.text
    assert answers == 1
    async with sandbox.services.sessions() as session:
        assert list(await session.scalars(select(ShuffleQueue.id))) == []


async def test_a_gateway_disconnect_is_resumed_and_commands_keep_working(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    await sandbox.discord.gateway_disconnect(code=4000, resumable=True)
    reply = await sandbox.slash(alice, "account", timeout=30)
    assert "/link" in reply.text
    state = await sandbox.discord.state()
    assert any(shard.get("resumes") for shard in state["shards"])


async def test_web_routes_answer_fuzzed_requests_without_a_500_or_a_traceback(
    sandbox: Sandbox,
) -> None:
    rng = random.Random(2026)
    base = sandbox.settings.public_url
    paths = [
        "/link/",
        "/callback",
        "/health",
        "/metrics",
        "/api/artists",
        "/api/releases",
        "/",
        "/link",
    ]
    alphabet = string.printable + "éü☃𝄞\u202e"
    for _ in range(300):
        path = rng.choice(paths)
        if path.endswith("/"):
            path += "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))).replace(
                "/", ""
            )
        query = {
            "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(1, 8))): "".join(
                rng.choice(alphabet) for _ in range(rng.randint(0, 300))
            )
            for _ in range(rng.randint(0, 4))
        }
        for name in ("code", "state", "error", "release_limit", "limit", "days"):
            if rng.random() < 0.3:
                query[name] = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 2000)))
        method = rng.choice(
            ["GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]
        )
        headers = {"X-Fuzz": "".join(rng.choice(string.ascii_letters) for _ in range(50))}
        if rng.random() < 0.2:
            headers["If-None-Match"] = (
                '"' + "".join(rng.choice(string.hexdigits) for _ in range(20)) + '"'
            )
        async with sandbox.http.request(
            method, base + path, params=query, headers=headers, allow_redirects=False
        ) as response:
            body = await response.text()
            assert response.status < 500, (method, path, query, response.status, body[:300])
            assert "Traceback" not in body


def fuzzed_values(option_type: int, rng: random.Random) -> list[Any]:
    """Values a slash-command option might carry from a careless or hostile client."""
    strings = [
        "",
        " ",
        "x" * 6000,
        "@everyone @here <@123> <@&456> <#789>",
        "**bold** `code` ||spoiler|| [link](https://example.org)",
        "𝄞☃ éü \u202e\u200b",
        "'; DROP TABLE likes; --",
        "https://open.spotify.com/playlist/" + "A" * 22,
        "spotify:track:" + "B" * 22,
        "\x00\x01",
    ]
    if option_type == 3:  # string
        return strings
    if option_type == 4:  # integer, including the wrong types a raw payload can carry
        return [0, -1, 2**63, 10**30, "abc", 1.5]
    if option_type == 5:
        return [True, False, "yes"]
    if option_type == 10:
        return [0.0, -1e308, "nan"]
    return [rng.choice(strings)]


def command_variants(commands: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(full command name, its options) for every invocable command and subcommand."""
    found: list[tuple[str, list[dict[str, Any]]]] = []
    for command in commands:
        subs = [o for o in command.get("options") or [] if o.get("type") in (1, 2)]
        if not subs:
            found.append((command["name"], command.get("options") or []))
        for sub in subs:
            if sub["type"] == 1:
                found.append((f"{command['name']} {sub['name']}", sub.get("options") or []))
            else:
                for leaf in sub.get("options") or []:
                    found.append(
                        (
                            f"{command['name']} {sub['name']} {leaf['name']}",
                            leaf.get("options") or [],
                        )
                    )
    return found


async def test_every_slash_command_answers_fuzzed_options_clearly_and_in_time(
    sandbox: Sandbox,
) -> None:
    rng = random.Random(7)
    user = await sandbox.user("fuzzer")
    await sandbox.link(user, "alice")
    synced = await sandbox.discord.commands()
    commands = synced.get("global") or synced.get("commands") or []
    if isinstance(synced, dict) and not commands:
        commands = [c for value in synced.values() if isinstance(value, list) for c in value]
    variants = command_variants(commands)
    assert variants, synced
    skipped = {"forget-me"}  # its confirmation is tested on its own
    problems: list[str] = []
    for name, options in variants:
        if name in skipped:
            continue
        fuzzable = [o for o in options if o.get("type") in (3, 4, 5, 10)]
        cases: list[dict[str, Any]] = [{}]
        for option in fuzzable:
            for value in fuzzed_values(int(option["type"]), rng):
                cases.append({option["name"]: value})
        for case in cases[:12]:
            try:
                reply = await sandbox.slash(
                    user, name, case, permissions=MANAGE_GUILD | MEMBER, timeout=20
                )
            except ControlError:
                continue  # the emulator, like Discord, refuses a value of the wrong type
            label = f"/{name} {case!r}"[:200]
            if reply.record.get("response") is None:
                problems.append(f"{label}: no answer")
            elif reply.late:
                problems.append(f"{label}: answered after the deadline")
            elif INCIDENT in reply.text or "Traceback" in reply.text:
                problems.append(f"{label}: {reply.text[:200]}")
            elif reply.message is not None and reply.message.get("allowed_mentions") not in (
                None,
                {"parse": []},
            ):
                problems.append(
                    f"{label}: mentions allowed {reply.message.get('allowed_mentions')}"
                )
    assert problems == []
