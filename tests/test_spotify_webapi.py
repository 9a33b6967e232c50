"""bot/spotify/webapi.py on the wire, against a small local HTTP server: what each request
carries, how answers and errors come back, and connections kept alive and reopened. (Every
call Encore makes is also run against the Spotify emulator by the end-to-end tests.)"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.errors import BadInput, SpotifyBusy
from bot.spotify import translate
from bot.spotify.webapi import SpotifyHTTPError, SpotifyUnreachable, WebAPI
from sandbox.ports import free_port


@dataclass
class Server:
    base: str
    seen: list[web.Request] = field(default_factory=list)
    peers: list[object] = field(default_factory=list)


SERVER = web.AppKey("server", Server)


async def answer(request: web.Request) -> web.Response:
    server = request.app[SERVER]
    server.seen.append(request)
    server.peers.append(request.transport.get_extra_info("peername") if request.transport else None)
    path = request.path
    if path == "/v1/search":
        return web.json_response({"query": dict(request.query)})
    if path == "/v1/me/library":
        return web.Response(status=200)  # Spotify's empty body
    if path == "/v1/limited":
        return web.json_response(
            {"error": {"status": 429, "message": "Too many", "reason": "RATE"}},
            status=429,
            headers={"retry-after": "7"},
        )
    if path == "/v1/broken":
        return web.Response(status=502, text="<html>Bad gateway</html>")
    if path == "/v1/zipped":
        body = gzip.compress(json.dumps({"zipped": True}).encode())
        return web.Response(
            body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )
    if path == "/v1/me/playlists" and request.method == "GET":
        if request.query.get("offset") == "1":
            return web.json_response({"items": ["second"], "next": None})
        return web.json_response(
            {"items": ["first"], "next": f"{server.base}me/playlists?offset=1"}
        )
    return web.json_response({"path": path, "body": (await request.text()) or None})


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    port = free_port()
    found = Server(f"http://127.0.0.1:{port}/v1/")
    app[SERVER] = found
    runner = web.AppRunner(app, keepalive_timeout=0.3)  # closes idle connections soon
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield found
    await runner.cleanup()


async def call(api: WebAPI, what: Callable[[WebAPI], Any]) -> Any:
    return await asyncio.to_thread(what, api)


async def test_a_call_carries_the_token_and_spotipys_parameters(server: Server) -> None:
    api = WebAPI(server.base, timeout=5)
    api.set_auth("token-1")

    got = await call(api, lambda sp: sp.search("love & war", limit=10, offset=20, type="album"))

    assert got == {
        "query": {"q": "love & war", "limit": "10", "offset": "20", "type": "album"}
    }  # `market=None` is left out, as requests left it out
    [request] = server.seen
    assert request.headers["Authorization"] == "Bearer token-1"
    assert request.headers["Content-Type"] == "application/json"


async def test_bodies_paths_and_empty_answers(server: Server) -> None:
    api = WebAPI(server.base, timeout=5)

    made = await call(api, lambda sp: sp.current_user_playlist_create("Mix", public=False))
    added = await call(api, lambda sp: sp.playlist_add_items("p1", ["t1", "spotify:episode:e1"]))
    saved = await call(api, lambda sp: sp.current_user_saved_tracks_add(["t2"]))

    assert made["path"] == "/v1/me/playlists" and json.loads(made["body"]) == {
        "name": "Mix",
        "public": False,
        "collaborative": False,
        "description": "",
    }
    assert added["path"] == "/v1/playlists/p1/items"
    assert json.loads(added["body"]) == ["spotify:track:t1", "spotify:episode:e1"]
    assert saved is None  # an empty body is None, as spotipy returned it
    assert server.seen[-1].method == "PUT" and server.seen[-1].query["uris"] == "spotify:track:t2"


async def test_an_id_that_is_none_is_refused_before_anything_is_sent(server: Server) -> None:
    api = WebAPI(server.base, timeout=5)

    with pytest.raises(SpotifyHTTPError) as refused:
        await call(api, lambda sp: sp.track("not an id!"))

    assert refused.value.http_status == 400 and server.seen == []
    assert isinstance(translate(refused.value), BadInput)
    assert (await call(api, lambda sp: sp.track("https://open.spotify.com/track/abc123?si=x")))[
        "path"
    ] == "/v1/tracks/abc123"


async def test_errors_keep_spotifys_message_reason_and_retry_after(server: Server) -> None:
    api = WebAPI(server.base, timeout=5)

    with pytest.raises(SpotifyHTTPError) as limited:
        await call(api, lambda sp: sp._get("limited"))
    with pytest.raises(SpotifyHTTPError) as broken:
        await call(api, lambda sp: sp._get("broken"))

    assert (limited.value.http_status, limited.value.message, limited.value.reason) == (
        429,
        "Too many",
        "RATE",
    )
    busy = translate(limited.value)
    assert isinstance(busy, SpotifyBusy) and busy.retry_after == 7  # header read in any case
    assert broken.value.http_status == 502 and "Bad gateway" in broken.value.message


async def test_a_compressed_answer_is_decoded(server: Server) -> None:
    api = WebAPI(server.base, timeout=5)

    assert await call(api, lambda sp: sp._get("zipped")) == {"zipped": True}


async def test_pages_are_followed_and_the_connection_is_kept_then_reopened(
    server: Server,
) -> None:
    api = WebAPI(server.base, timeout=5)

    first = await call(api, lambda sp: sp.current_user_playlists(limit=1))
    second = await call(api, lambda sp: sp.next(first))
    assert [first["items"], second["items"], await call(api, lambda sp: sp.next(second))] == [
        ["first"],
        ["second"],
        None,
    ]
    assert server.peers[0] == server.peers[1]  # one connection for both pages

    await asyncio.sleep(0.8)  # the server has closed the idle connection meanwhile
    again = await call(api, lambda sp: sp.current_user_playlists(limit=1))

    assert again["items"] == ["first"] and server.peers[2] != server.peers[0]
    api.close()


async def test_no_answer_is_unreachable() -> None:
    api = WebAPI(f"http://127.0.0.1:{free_port()}/v1/", timeout=2)

    with pytest.raises(SpotifyUnreachable):
        await call(api, lambda sp: sp.me())
