"""/releases, GET /api/artists and /api/releases, and ingestion in /health, through the sandbox."""

from __future__ import annotations

import asyncio
from typing import Any

from multidict import CIMultiDict
from sqlalchemy import func, update

from bot.api import render
from bot.releases import ReleaseService
from db.models import Release
from sandbox.harness import Sandbox
from sandbox.markdown import inline, shows


async def _get(sandbox: Sandbox, path: str, **headers: str) -> tuple[int, Any, CIMultiDict[str]]:
    async with sandbox.http.get(sandbox.settings.public_url + path, headers=headers) as response:
        body = await response.json() if response.status != 304 else None
        return response.status, body, response.headers.copy()


async def test_releases_on_an_empty_copy_says_so_and_when_it_fills(sandbox: Sandbox) -> None:
    user = await sandbox.user("alice")
    reply = await sandbox.slash(user, "releases")
    assert reply.ephemeral
    assert "No new releases are stored yet" in reply.text and "every 6 h" in reply.text


async def test_releases_groups_the_artists_of_the_latest_releases_without_calling_spotify(
    sandbox: Sandbox,
) -> None:
    assert (await sandbox.services.releases.ingest()).status == "ok"
    latest = await sandbox.services.releases.latest_by_artist(limit=30, days=14)
    await sandbox.spotify.clear_requests()
    user = await sandbox.user("alice")

    reply = await sandbox.slash(user, "releases", {"limit": 30})

    assert await sandbox.spotify.requests(path="^/v1/") == []
    embed = reply.embeds[0]
    assert embed["title"] == "New releases of the last 14 days"
    assert f"{len(latest)} artists behind the 30 latest releases" in embed["description"]
    names = [inline(field["name"]) for field in embed["fields"]]
    assert all(shows(n, a.name) for n, a in zip(names, latest[:5], strict=True)), names
    first = latest[0].latest_release
    assert f"]({first.url})" in embed["fields"][0]["value"]
    assert shows(inline(embed["fields"][0]["value"]).split("\n")[1].split(" · ")[0], first.name)
    assert embed["footer"]["text"] == f"Page 1 of {-(-len(latest) // 5)}"

    page_two = await sandbox.click(user, str(reply.button("›")["custom_id"]), reply.message_id)
    names = [inline(f["name"]) for f in page_two.embeds[0]["fields"]]
    assert all(shows(n, a.name) for n, a in zip(names, latest[5:10], strict=True)), names


async def test_releases_with_a_narrow_window_says_nothing_came_out(sandbox: Sandbox) -> None:
    await sandbox.services.releases.ingest()
    async with sandbox.services.sessions() as session:
        await session.execute(update(Release).values(release_date=Release.release_date - 400))
        await session.commit()
    reply = await sandbox.slash(await sandbox.user("alice"), "releases", {"days": 7})
    assert "Nothing in Encore's copy was released in the last 7 days" in reply.text


async def test_api_artists_serves_json_with_etag_and_rejects_a_bad_limit(
    sandbox: Sandbox,
) -> None:
    await sandbox.services.releases.ingest()

    status, body, headers = await _get(sandbox, "/api/artists?release_limit=5")

    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "public, max-age=300"
    assert body["count"] == len(body["items"]) >= 1
    artist = body["items"][0]
    assert set(artist) == {"id", "name", "url", "releases", "latest_release"}
    assert set(artist["latest_release"]) == {"id", "name", "type", "release_date", "url", "image"}
    assert artist["latest_release"] == artist["releases"][0]
    listed = {r["id"] for item in body["items"] for r in item["releases"]}
    _, newest, _ = await _get(sandbox, "/api/releases?limit=5")
    assert newest["count"] == 5 and {r["id"] for r in newest["items"]} <= listed

    again, nothing, same = await _get(
        sandbox, "/api/artists?release_limit=5", **{"If-None-Match": headers["ETag"]}
    )
    assert (again, nothing, same["ETag"]) == (304, None, headers["ETag"])
    other, _, _ = await _get(
        sandbox, "/api/artists?release_limit=6", **{"If-None-Match": headers["ETag"]}
    )
    assert other == 200

    for bad in ("0", "101", "many"):
        status, body, headers = await _get(sandbox, f"/api/artists?release_limit={bad}")
        assert status == 400 and "release_limit" in body["error"]
        assert headers.get("Cache-Control") != "public, max-age=300"


async def test_a_failed_ingestion_is_visible_in_health_until_one_succeeds(
    sandbox: Sandbox,
) -> None:
    services = sandbox.services
    # An app from before February 2026: /browse/new-releases still answers.
    await sandbox.spotify.settings(development_mode=False)

    async def no_wait(seconds: float) -> None:
        return None

    releases = ReleaseService(
        services.sessions, services.spotify, services.clock, status=services.status, sleep=no_wait
    )
    await sandbox.spotify.add_fault("^/v1/browse/new-releases$", status=503, times=10)

    assert (await releases.ingest()).status == "failed"
    _, health, _ = await _get(sandbox, "/health")

    assert health["ingestion"]["status"] == "failed"
    assert "not answering" in health["ingestion"]["error"]
    assert health["last_release_ingestion"] is None

    await sandbox.spotify.clear_faults()
    assert (await releases.ingest()).status == "ok"
    _, health, _ = await _get(sandbox, "/health")
    assert health["ingestion"]["status"] == "ok" and "error" not in health["ingestion"]
    assert health["last_release_ingestion"]["source"] == "new-releases"
    assert health["last_release_ingestion"]["releases"] > 0


async def test_api_answers_follow_the_copy_when_an_ingestion_changes_it(sandbox: Sandbox) -> None:
    await sandbox.services.releases.ingest()
    url = f"{sandbox.settings.public_url}/api/releases?limit=5"
    async with sandbox.http.get(url) as response:
        before, etag = await response.json(), response.headers["ETag"]
    newest = before["items"][0]["id"]
    async with sandbox.services.sessions() as session, session.begin():
        # What an ingestion does when Spotify renamed a release: new name, last_seen moves.
        await session.execute(
            update(Release)
            .where(Release.id == newest)
            .values(name="Renamed by Spotify", last_seen=func.now())
        )
    # Another process wrote: each replica asks for the copy's version at most once a second.
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        async with sandbox.http.get(url, headers={"If-None-Match": etag}) as response:
            if response.status == 200:  # not a stale 304 for good
                after, new_etag = await response.json(), response.headers["ETag"]
                break
            assert response.status == 304
        assert asyncio.get_running_loop().time() < deadline, "the new copy never showed"
        await asyncio.sleep(0.1)
    assert new_etag != etag
    assert after["items"][0]["name"] == "Renamed by Spotify"
    async with sandbox.http.get(url, headers={"If-None-Match": new_etag}) as again:
        assert again.status == 304


async def test_api_bodies_are_what_python_rendered_and_their_etags_answer_304(
    sandbox: Sandbox,
) -> None:
    """Through the web: the body PostgreSQL wrote is byte for byte `render()` of the rows
    (tests/test_api_bodies.py has the messy data), its ETag is the body's, and a client
    holding it gets a bodyless 304 on either route (but not with another answer's tag)."""
    await sandbox.services.releases.ingest()
    releases = sandbox.services.releases
    for path, items in (
        ("/api/artists?release_limit=7&days=30", releases.latest_by_artist(limit=7, days=30)),
        ("/api/artists", releases.latest_by_artist(limit=20, days=14)),
        ("/api/releases?limit=9&days=30", releases.recent(limit=9, days=30)),
        ("/api/releases", releases.recent(limit=20, days=14)),
    ):
        listed = [item.to_json() for item in await items]
        expected = render({"items": listed, "count": len(listed)})
        async with sandbox.http.get(sandbox.settings.public_url + path) as response:
            assert response.status == 200, path
            assert await response.read() == expected.payload, path
            assert response.headers["ETag"] == expected.etag
            assert response.headers["Content-Type"].startswith("application/json")
        tagged = {"If-None-Match": expected.etag}
        status, body, headers = await _get(sandbox, path, **tagged)
        assert (status, body, headers["ETag"]) == (304, None, expected.etag), path
        assert headers["Cache-Control"] == "public, max-age=300"
        # A tag is the body's hash: another answer (fewer releases) is a 200 with a new tag.
        other = path.split("?")[0] + ("?release_limit=3" if "artists" in path else "?limit=3")
        status, _, headers = await _get(sandbox, other, **tagged)
        assert (status, headers["ETag"] != expected.etag) == (200, True), other
    status, body, _ = await _get(sandbox, "/api/releases?limit=0")
    assert status == 400 and "limit" in body["error"]
