"""The release radar: bob's watchlist from his Spotify follows, an artist added by hand, a
new release found by the worker's one check per artist, bob's radar DM with Open and Like,
his Encore Radar playlist, and the server digest's section (counts, never names)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from db.models import RadarArtist, RadarSettings
from sandbox.demo import Demo

TITLE = "Release radar: your artists' new releases, by DM, in the digest, as a playlist"


async def run(demo: Demo) -> None:
    sandbox = demo.sandbox
    services = sandbox.services
    bob, admin = demo.people["bob"], demo.people["admin"]
    # dave joins for this part: a second member who shares his radar with the server.
    dave = await sandbox.user("dave")
    demo.people["dave"] = dave
    outcome = await sandbox.link(dave, "dave")
    demo.expect(outcome.status == 200, "dave links his Spotify account")

    reply = await demo.command(bob, "radar list")
    demo.expect(reply, "bob's radar holds the artists he follows on Spotify", contains="followed")
    followed = await sandbox.spotify.followed_artists("bob")
    artist = followed[0]

    names = await demo.autocomplete(dave, "radar follow", "artist", {"artist": "the"})
    demo.expect(bool(names), "artists are suggested as dave types")
    reply = await demo.command(dave, "radar follow", {"artist": artist})
    demo.expect(reply, "dave adds one of them by hand", contains="is on your radar")

    reply = await demo.command(bob, "radar share", {"share": "on"})
    demo.expect(reply, "bob lets the server's digest count his artists", contains="never your name")
    reply = await demo.command(dave, "radar share", {"share": "on"})
    demo.expect(reply, "so does dave", contains="never your name")
    reply = await demo.command(bob, "radar playlist", {"playlist": "on"})
    demo.expect(reply, "bob asks for the Encore Radar playlist", contains="Encore Radar")
    reply = await demo.command(bob, "radar settings")
    demo.expect(reply, "/radar settings: Fridays at 09:00 by default", contains="Fridays at 09:00")

    # The worker's checker looks at each watched artist once, however many members watch it.
    await services.radar.checker.tick()
    release = await sandbox.spotify.add_release(
        artist, name="Night **Drive** @everyone", album_type="single", tracks=3
    )
    demo.show("Spotify", "a new single lands", text=f"{release['name']} ({release['id']})")
    async with services.sessions() as session:
        row = await session.get(RadarArtist, artist)
        due = await session.scalar(
            select(RadarSettings.next_delivery_at).where(RadarSettings.discord_user_id == bob)
        )
    if row is None or due is None:
        demo.expect(False, "the artist and bob's radar are scheduled")
        return
    await sandbox.spotify.clear_requests()
    report = await services.radar.checker.tick(
        now=max(row.next_check_at, due - dt.timedelta(hours=1))
    )
    calls = await sandbox.spotify.request_counts(path="/albums$")
    demo.show(
        "the worker",
        "checks the artists due (app token, one call per artist)",
        text=f"{report.checked} artists checked, {report.releases} releases stored; calls: {calls}",
    )
    demo.expect(artist in report.artists, "the artist both watch was checked once for both")

    delivered = await services.radar.deliveries.tick(now=due + dt.timedelta(seconds=1))
    demo.expect(bob in delivered.delivered, "Friday 09:00: bob's radar is due and queued once")
    dm = await sandbox.wait_for_dm(bob, "Encore radar", timeout=15)
    demo.show("Encore", "DMs bob his radar", text=sandbox.seen(dm))
    labels = [c.get("label") for row in dm["components"] for c in row["components"]]
    demo.expect(any(str(label).startswith("Open") for label in labels), "with an Open button")
    like = next(c for row in dm["components"] for c in row["components"] if c.get("custom_id"))
    pressed = await sandbox.click(bob, str(like["custom_id"]), int(dm["id"]))
    demo.show("bob", f"presses [{like.get('label')}]", pressed)
    demo.expect(pressed, "the Like button likes the release", contains="Liked")

    playlists = await sandbox.spotify.user_playlists("bob")
    radar = next((p for p in playlists if p["name"] == "Encore Radar"), None)
    demo.show(
        "Spotify",
        "shows bob's playlists",
        text=f"Encore Radar: {len(radar['items'])} tracks" if radar else "(no Encore Radar)",
    )
    demo.expect(
        radar is not None and len(radar["items"]) >= 3, "the Encore Radar playlist holds the single"
    )

    reply = await demo.command(admin, "digest preview")
    demo.expect(
        reply,
        "the server digest counts the members who share, never naming them",
        contains="2 members follow",
    )
    demo.expect("dave" not in reply.text and "bob" not in reply.text.lower(), "no member is named")
