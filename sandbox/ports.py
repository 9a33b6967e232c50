"""Ports for servers the sandbox starts on a fixed number (a bot's web server, a process).

A port found by binding to 0 and closing is one the kernel hands out again: to the next
outgoing connection or to another test worker's emulator, and the server that was meant
to have it then fails with "address already in use". These ports come from below the
kernel's ephemeral range (``net.ipv4.ip_local_port_range``, 32768-60999 by default),
which the kernel never hands out by itself, so only another caller of this function could
take one, and it picks at random among twelve thousand.
"""

from __future__ import annotations

import random
import socket

_LOW, _HIGH = 20_000, 32_000


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
            return int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port(address: str = "127.0.0.1") -> int:
    """A port nobody listens on at ``address``, outside the range the kernel hands out."""
    high = min(_HIGH, _ephemeral_low())
    low = min(_LOW, high - 1_000)
    for _ in range(200):
        port = random.randrange(low, high)
        with socket.socket() as sock:
            try:
                sock.bind((address, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {low} and {high} on {address}")
