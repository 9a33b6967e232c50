"""Listening: /np with its buttons, /recent, /top, saving likes and a shuffle order as
playlists, the message commands over a message of Spotify links, and a user install
answering in a DM between two people."""

from __future__ import annotations

from sandbox.demo import Demo

TITLE = "Now playing, recent, top, playlists and use anywhere"


async def run(demo: Demo) -> None:
    sandbox = demo.sandbox
    alice, bob, carol = demo.people["alice"], demo.people["bob"], demo.people["carol"]

    now = await demo.command(alice, "np")
    demo.expect(now, "/np shows the track, its album, the device and progress", contains="Device")
    labels = [b.get("label") for b in now.buttons]
    demo.expect(
        labels == ["Open in Spotify", "Like", "Queue again"], "with Open, Like and Queue again"
    )
    queued = await demo.click(alice, now, "Queue again")
    demo.expect(queued, "Queue again puts it in her Spotify queue", contains="Spotify queue")

    reply = await demo.command(bob, "np")
    demo.expect(reply, "bob plays nothing: /np says so", contains="Nothing is playing")

    recent = await demo.command(alice, "recent")
    demo.expect(recent, "/recent: her last 50 plays", contains="Recently played (50)")
    demo.expect(recent, "10 a page", contains="Page 1 of 5")
    demo.expect("<t:" in recent.text, "each with a timestamp Discord shows in her own time")
    page = await demo.click(alice, recent, "›")
    demo.expect(page, "the next page continues at 11", contains="`11.`")

    top = await demo.command(alice, "top artists", {"period": "4 weeks"})
    demo.expect(top, "/top artists over 4 weeks, ranked", contains="` 1.`")
    top = await demo.command(alice, "top tracks", {"period": "all time"})
    demo.expect(top, "/top tracks of all time", contains="all time")
    reply = await demo.command(bob, "top tracks")
    demo.expect(reply, "bob has no ranking yet: it says so", contains="no top tracks")

    reply = await demo.command(alice, "likes-export")
    done = await demo.finished("alice", reply)
    demo.expect(done, "her Encore likes become a private playlist", contains="new private playlist")
    reply = await demo.command(alice, "likes-export")
    done = await demo.finished("alice", reply)
    demo.expect(done, "exporting again replaces that playlist", contains="Replaced the tracks")

    reply = await demo.command(alice, "shuffle save")
    done = await demo.finished("alice", reply)
    demo.expect(done, "her shuffle order from the next track is saved", contains="shuffle order")

    catalog = await sandbox.spotify.catalog()
    track, album = catalog["sample_tracks"][2], catalog["sample_albums"][1]
    content = f"two for you: https://open.spotify.com/intl-de/track/{track}?si=x and spotify:album:{album}"
    message = await sandbox.post(bob, content)
    demo.show("bob", "posts", text=content)
    for name, expected in (
        ("Add to my queue", "Spotify queue"),
        ("Like on Spotify", "Saved 1 album"),
    ):
        answer = await demo.settled(await sandbox.message_command(alice, name, message))
        demo.show("alice", f"right-clicks bob's message > Apps > {name}", answer)
        demo.expect(answer, f"{name}: every link in the message is used", contains=expected)
    picker = await sandbox.message_command(alice, "Save to a playlist", message)
    demo.show("alice", "right-clicks bob's message > Apps > Save to a playlist", picker)
    demo.expect(
        bool(picker.message) and picker.options[:1] == ["Saved from Discord"],
        "Save to a playlist asks where: Encore's “Saved from Discord” first, then her own",
    )
    if picker.message:
        done = await demo.settled(await demo.choose(alice, picker, "Saved from Discord"))
        demo.show("alice", "waits: the message is edited to", done)
        demo.expect(done, "every link's tracks are saved there", contains="Saved from Discord")
        picker = await sandbox.message_command(alice, "Save to a playlist", message)
        done = await demo.settled(await demo.choose(alice, picker, "Late Night"))
        demo.show("alice", "waits: the message is edited to", done)
        demo.expect(done, "or into one of her own playlists", contains="Late Night")

    await sandbox.discord.update_user(alice, installed_app=True)
    dm = await sandbox.discord.create_private_channel([alice, carol])
    injected = await sandbox.discord.command("recent", alice, channel_id=dm["id"])
    reply = await sandbox.reply(injected["id"])
    demo.show("alice", "(user install) sends /recent in her DM with carol", reply)
    demo.expect(reply.ephemeral, "it works there, and only alice sees it")
