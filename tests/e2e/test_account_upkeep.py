"""Keeping a link working: a changed encryption key is explained (to the member: link again;
to the admin: once, naming ENCRYPTION_KEYS), and an older link that lacks the permissions
newer features need says so in /account and is brought up to date by linking again, which
keeps likes, queues and settings."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.errors import MissingScope
from bot.spotify import SCOPES
from db.models import Like, ShuffleQueue, SpotifyLink, UserPreferences
from sandbox.harness import Sandbox

# What Encore asked for before the radar and listening features.
OLD_SCOPES = (
    "user-read-private playlist-read-private playlist-read-collaborative user-library-read "
    "user-library-modify user-read-currently-playing user-modify-playback-state"
)
NEW_SCOPES = [
    "user-follow-read",
    "user-top-read",
    "user-read-recently-played",
    "playlist-modify-private",
    "playlist-modify-public",
]


async def link_of(sandbox: Sandbox, user: int) -> SpotifyLink:
    async with sandbox.services.sessions() as session:
        found: SpotifyLink | None = await session.get(SpotifyLink, user)
    assert found is not None
    return found


async def test_a_token_no_key_decrypts_asks_to_link_again_and_tells_the_admin_once(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await sandbox.user("alice")
    assert (await sandbox.link(alice, "alice")).status == 200
    # The admin replaced ENCRYPTION_KEYS without keeping the old key, and restarted.
    new_key = SecretStr(Fernet.generate_key().decode())
    sandbox.settings = sandbox.settings.model_copy(update={"encryption_keys": [new_key]})
    await sandbox.restart_bot()
    caplog.clear()
    caplog.set_level(logging.INFO)
    for command in ("playlists", "likes-import", "playlists"):
        reply = await sandbox.slash(alice, command)
        assert reply.ephemeral and "encryption key was changed" in reply.text, reply.text
        assert "/link" in reply.text and "incident" not in reply.text
        assert reply.button("Link again")
    told = [r for r in caplog.records if "ENCRYPTION_KEYS" in r.getMessage()]
    assert [r.levelno for r in told] == [logging.ERROR]  # one clear line, not one a command
    assert "encore reencrypt" in told[0].getMessage()
    assert (await link_of(sandbox, alice)).status == "undecryptable"
    account = await sandbox.slash(alice, "account")
    assert "encryption key was changed" in account.text and account.button("Link again")
    # Linking again heals it, with the new key.
    assert (await sandbox.link(alice, "alice")).status == 200
    assert (await link_of(sandbox, alice)).status == "active"
    assert "Your 12 playlists" in (await sandbox.slash(alice, "playlists")).text


async def test_an_older_link_shows_what_it_lacks_and_linking_again_keeps_everything(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    assert (await sandbox.link(alice, "alice", scopes=OLD_SCOPES)).status == 200
    assert set((await link_of(sandbox, alice)).scopes.split()) == set(OLD_SCOPES.split())
    # What an older link has gathered: likes, a queue, a setting.
    await sandbox.slash(alice, "likes-import")
    await sandbox.slash(alice, "shuffle start", {"source": "liked"})
    await sandbox.slash(alice, "likes-privacy", {"visibility": "public"})
    before = await holdings(sandbox, alice)
    assert before["likes"] > 0 and before["queues"] == 1 and before["preferences"] == 1
    generation = (await link_of(sandbox, alice)).generation

    account = await sandbox.slash(alice, "account")
    assert "Not granted yet" in account.text
    for scope in NEW_SCOPES:
        assert f"`{scope}`" in account.text
    assert "likes, queues and settings stay" in account.text

    # A feature that needs a new permission says which, with the same button.
    with pytest.raises(MissingScope) as missing:
        await sandbox.services.links.require_scopes(alice, {"user-top-read", "user-read-private"})
    assert missing.value.missing == ("user-top-read",)
    assert "`user-top-read`" in missing.value.user_message

    # Link again, from the button: a new personal link, the whole flow, all scopes.
    relinked = await sandbox.press(alice, account, "Link again")
    url = sandbox.link_in(relinked) or sandbox.link_in_dms(await sandbox.dms(alice))
    assert url is not None
    assert (await sandbox.follow_link(url, "alice")).status == 200
    link = await link_of(sandbox, alice)
    assert set(link.scopes.split()) == set(SCOPES)
    assert link.generation == generation  # the same link, brought up to date
    assert await holdings(sandbox, alice) == before
    account = await sandbox.slash(alice, "account")
    assert "Not granted yet" not in account.text and not account.buttons
    await sandbox.services.links.require_scopes(alice, {"user-top-read"})  # no error now


async def holdings(sandbox: Sandbox, user: int) -> dict[str, int]:
    async with sandbox.services.sessions() as session:

        async def count(model: type[Like | ShuffleQueue | UserPreferences]) -> int:
            found = await session.scalar(
                select(func.count()).select_from(model).where(model.discord_user_id == user)
            )
            return int(found or 0)

        return {
            "likes": await count(Like),
            "queues": await count(ShuffleQueue),
            "preferences": await count(UserPreferences),
        }
