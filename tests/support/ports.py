"""A free TCP port on 127.0.0.1 for a server a test (or a benchmark) starts."""

from __future__ import annotations

import socket


def free_port() -> int:
    """Asks the kernel for a port nobody listens on now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
