"""CPU per Spotify Web API call on Encore's side: `bot.spotify.webapi.WebAPI` (http.client)
against spotipy 2.26 built as Encore built it before issue 19 (a plain requests session, no
retries), the same `/search` calls (ten tracks an answer) to the same Spotify emulator (in its own process, so its
CPU is not counted), one client after the other, three rounds. The figure is the calling
process's CPU time per call (`time.process_time`), which is what a gateway's Spotify thread
spends on each call.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
import spotipy

from bench.report import machine, sized, table, verdict
from bot.spotify.webapi import WebAPI
from sandbox.processes import emulator

CALLS = sized(300, 20)
ROUNDS = sized(3, 1)


def app_token(base: str) -> str:
    credentials = base64.b64encode(b"sandbox-client:sandbox-secret").decode()
    asked = urllib.request.Request(
        f"{base}/api/token",
        data=b"grant_type=client_credentials",
        headers={
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(asked) as answer:
        return str(json.loads(answer.read())["access_token"])


def cpu_per_call(client: Any, calls: int) -> float:
    """Milliseconds of this process's CPU per `/search` call."""
    started = time.process_time()
    for index in range(calls):
        found = client.search("ocean", limit=10, offset=(index % 5) * 10, type="track")
        assert found["tracks"]["items"], found
    return (time.process_time() - started) / calls * 1000


async def main() -> int:
    async with emulator("spotify") as base:
        token = await asyncio.to_thread(app_token, base)
        ours = WebAPI(f"{base}/v1/", timeout=10)
        ours.set_auth(token)
        theirs = spotipy.Spotify(
            auth=token,
            requests_session=requests.Session(),
            retries=0,
            status_retries=0,
            requests_timeout=10,
        )
        theirs.prefix = f"{base}/v1/"
        for client in (ours, theirs):  # connections opened, code warm
            await asyncio.to_thread(cpu_per_call, client, 5)
        rows: list[list[object]] = []
        for round_ in range(1, ROUNDS + 1):
            mine = await asyncio.to_thread(cpu_per_call, ours, CALLS)
            before = await asyncio.to_thread(cpu_per_call, theirs, CALLS)
            rows.append(
                [f"round {round_}", f"{mine:.3f} ms", f"{before:.3f} ms", f"{mine / before:.2f}x"]
            )
    print(
        table(
            f"CPU per Web API call, client side ({CALLS} `/search` calls per client and round)",
            ["round", "webapi (http.client)", "spotipy 2.26 + requests", "ratio"],
            rows,
        )
    )
    print(f"\nMachine: {machine()}")
    return verdict([])


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
