"""A burst of new connections while the emulator is busy: Discord's edge takes them all.

A bot that defers hundreds of interactions at once opens a connection for each deferral in
flight. With aiohttp's default accept queue (128) the kernel dropped the rest while the emulator's
loop was busy, and each of those clients waited for its SYN to be sent again (1 s, then 3 s): a
deferral sent in time reached the emulator past Discord's 3 s (bench/admission.py counted the
drops). Here the emulator's loop is held (no await) while the connections are opened, so none of
them can be accepted yet; every handshake must still complete in the kernel's queue.
"""

from __future__ import annotations

import select
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sandbox.discord import DiscordEmulator

BURST = 600  # deferrals at once, as bench/admission.py's 2,000 commands make


async def test_a_burst_of_connections_waits_in_the_accept_queue_while_the_emulator_is_busy(
    emu: DiscordEmulator,
) -> None:
    somaxconn = Path("/proc/sys/net/core/somaxconn")
    if somaxconn.exists() and int(somaxconn.read_text()) < BURST:
        pytest.skip("this kernel caps every accept queue below the burst (net.core.somaxconn)")
    address = urlsplit(emu.base_url)
    assert address.hostname is not None and address.port is not None
    sockets = []
    try:
        for _ in range(BURST):
            one = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            one.setblocking(False)
            one.connect_ex((address.hostname, address.port))
            sockets.append(one)
        pending = list(sockets)
        connected = 0
        # The loop never runs here: only the kernel answers. A dropped handshake would be tried
        # again after 1 s, so what is not connected within half a second was dropped.
        for _ in range(50):
            if not pending:
                break
            _, writable, _ = select.select([], pending, [], 0.01)
            for one in writable:
                assert one.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
                pending.remove(one)
                connected += 1
        # Established as the client sees it is not enough: a full accept queue drops the
        # handshake's last ACK, and the server side never hears of the connection. The
        # kernel's count of what the listener holds is read from /proc/net/tcp.
        held = _established_to(address.port)
        assert connected == BURST
        assert held >= BURST
    finally:
        for one in sockets:
            one.close()


def _established_to(port: int) -> int:
    """Server-side sockets on `port` in ESTABLISHED state (waiting to be accepted, or accepted)."""
    count = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            if int(local.rsplit(":", 1)[1], 16) == port and state == "01":
                count += 1
    return count
