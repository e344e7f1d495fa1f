"""Loopback ports for servers started by the tests and the benchmarks."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a port the kernel picked on 127.0.0.1 (the caller closes it).

    Handing the bound socket itself to a server leaves no window in which another
    process could take the port.
    """
    sock = socket.socket()
    sock.bind((LOOPBACK, 0))
    return sock


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server in another process)."""
    with loopback_socket() as probe:
        return probe.getsockname()[1]


def loopback_url(port: int) -> str:
    """The base URL of an HTTP server on ``port`` of 127.0.0.1."""
    return f"http://{LOOPBACK}:{port}"
