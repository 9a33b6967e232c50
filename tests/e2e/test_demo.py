"""The demo script, run as a test: every scenario's expected answers hold."""

from __future__ import annotations

import asyncio
import io
import os
import re
import sys
from pathlib import Path

import discord
from discord import app_commands
from sqlalchemy import text

from db.engine import create_engine
from sandbox.database import scratch_database
from sandbox.demo import play
from sandbox.harness import Sandbox

ROOT = Path(__file__).resolve().parent.parent.parent


async def test_the_demo_script_passes_every_step_and_shows_every_command(
    clean_database: str,
) -> None:
    transcript = io.StringIO()
    async with Sandbox(clean_database, scheduler=True) as sandbox:
        demo = await play(sandbox, out=transcript)
        tree = sandbox.bot.tree
        slash = [
            c.qualified_name for c in tree.walk_commands() if isinstance(c, app_commands.Command)
        ]
        menus = [c.name for c in tree.get_commands(type=discord.AppCommandType.message)]
    shown = transcript.getvalue()
    assert demo.failures == [], shown
    assert demo.steps >= 100
    assert slash and menus
    missing = [f"/{name}" for name in slash if not re.search(rf"> \S+ /{name}(\s|$)", shown)]
    missing += [name for name in menus if f"Apps > {name}" not in shown]
    assert missing == [], f"the demo never shows {missing}"
    for pressed in ("[❤️ Like]", "[➕ Queue again]", "[Delete everything]", "[›]"):
        assert f"presses {pressed}" in shown, pressed
    assert "on the same digest, after the restart" in shown


async def test_encore_demo_never_touches_the_configured_database_and_cleans_up(
    tmp_path: Path,
) -> None:
    """DATABASE_URL in .env and in the environment name the owner's database: the demo runs on
    a temporary embedded PostgreSQL instead, and removes it. (Scenarios are skipped here: the
    whole demo runs in test_the_demo_script_passes_every_step.)"""
    async with scratch_database("encore_owner", migrate=False) as owners:
        (tmp_path / ".env").write_text(f"DATABASE_URL={owners}\nENCORE_DATA_DIR=./data\n")
        status, output = await demo(tmp_path, DATABASE_URL=owners)
        assert status == 0, output
        assert await tables(owners) == [], "the demo wrote into DATABASE_URL's database"
        assert "temporary embedded PostgreSQL" in output
        folder = Path(output.split("PostgreSQL in ", 1)[1].split(" ", 1)[0])
        assert folder.name.startswith("encore-demo-") and not folder.exists()
        assert not (tmp_path / "data").exists()

        status, output = await demo(tmp_path, "--database-url", owners)
        assert status == 0, output
        assert "alembic_version" in await tables(owners)  # told explicitly: it used that one


async def demo(cwd: Path, *args: str, **env: str) -> tuple[int, str]:
    script = (
        "import sys, sandbox.demo as d; d.scenarios = lambda: []; "
        "from bot.__main__ import main; sys.exit(main(['demo', '--quiet', *sys.argv[1:]]))"
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        *args,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(child.communicate(), 180)
    return int(child.returncode or 0), output.decode()


async def tables(url: str) -> list[str]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            return sorted(row[0] for row in rows)
    finally:
        await engine.dispose()
