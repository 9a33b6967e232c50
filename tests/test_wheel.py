"""What `pip install .` installs is a complete Encore: built as a wheel, installed into a fresh
virtual environment outside the source tree, it migrates a new database and serves /health.

The wheel is built from a copy of the sources (so nothing the checkout has beside them can
help) and installed with `--no-index --find-links` from where it was built, so it is that
wheel and nothing from an index. Its dependencies are the test environment's own: a `.pth`
file adds that environment's site-packages after the new one's, so the libraries are found
but the checkout's Encore (an editable install there) is not.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet

from db.migrate import head_revision
from sandbox.database import scratch_database
from sandbox.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "setup.py", "README.md", "bot", "cogs", "db", "sandbox", "alembic")


def run(args: list[str], **kwargs: object) -> str:
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return str(result.stdout + result.stderr)


def install_wheel(work: Path) -> Path:
    """A virtual environment with the wheel installed; returns its directory."""
    source = work / "src"
    source.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=ignore)
        else:
            shutil.copy2(origin, source / name)
    dist = work / "dist"
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(source)]
    )
    wheels = list(dist.glob("encore_bot-*.whl"))
    assert len(wheels) == 1, wheels

    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    run([*pip, "--no-deps", "--no-index", "--find-links", str(dist), "encore-bot"])
    purelib = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    ours = sysconfig.get_paths()["purelib"]
    (purelib / "zz_test_dependencies.pth").write_text(
        "\n".join([ours, *site.getsitepackages()]) + "\n"
    )
    return venv


async def test_the_installed_wheel_migrates_a_new_database_and_serves_health(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    installed = install_wheel(tmp_path / "wheel")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    found = run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "import bot, alembic, db.migrate as m; print(bot.__file__); "
            "print(m.migrations_directory()); print(alembic.__file__); print(m.head_revision())",
        ],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin"},
    ).split()
    bot_file, migrations, library, head = found
    assert bot_file.startswith(str(installed)), bot_file
    assert migrations.startswith(str(installed)) and migrations.endswith("db/migrations")
    assert (Path(migrations) / "versions").is_dir()
    assert (Path(migrations) / "script.py.mako").exists()
    assert not library.startswith(str(installed)), "the wheel must not install 'alembic'"
    assert head == head_revision()  # the checkout's newest migration is in the wheel

    encore = str(installed / "bin" / "encore")
    async with scratch_database("encore_wheel", migrate=False) as url:
        base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": url}
        migrated = subprocess.run(
            [encore, "migrate"], cwd=cwd, env=base, capture_output=True, text=True, timeout=120
        )
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        assert f"upgraded from empty to {head_revision()}" in migrated.stdout
        assert not (cwd / "data").exists(), "migrate must not create a key or data"

        port = free_port()
        env = {
            **base,
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "SPOTIFY_CLIENT_ID": "id",
            "SPOTIFY_CLIENT_SECRET": "secret",
            "WEB_PORT": str(port),
        }
        web = subprocess.Popen(
            [encore, "web"], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            status = await _health(port, web)
        finally:
            web.terminate()
            output = web.communicate(timeout=30)[0].decode()
    assert status == 200, output
    assert web.returncode == 0, output
    assert "Traceback" not in output and "Database schema is up to date" in output
    assert "Web server listening on http://127.0.0.1:" in output
    assert "Context impl" not in output and "setup plugin" not in output  # alembic's noise
    assert "Encore 0.1.0 started: web on" in output
    print(f"wheel built, installed, migrated and serving in {time.monotonic() - started:.1f} s")


async def _health(port: int, process: subprocess.Popen[bytes]) -> int | None:
    import asyncio

    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                async with session.get(f"http://127.0.0.1:{port}/health") as response:
                    return response.status
            except aiohttp.ClientError:
                await asyncio.sleep(0.2)
    return None
