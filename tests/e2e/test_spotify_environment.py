"""What the environment may and may not change about Encore's Spotify calls."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sandbox.harness import Sandbox


async def test_a_netrc_entry_for_spotifys_host_does_not_replace_the_bearer_token(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests, trusting the environment, would send these as Basic credentials instead of the
    # access token on every call; the Web API would answer 401.
    host = urlsplit(sandbox.settings.spotify_api_url).hostname
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {host} login someone password not-a-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    carol = await sandbox.user("carol")

    reply = await sandbox.slash(carol, "search", {"query": "ocean"})

    assert reply.embeds and reply.embeds[0]["title"] == "Search: ocean", reply.text
