"""Choosing the host port a registry is published on."""

import errno
import socket

from .errors import PortInUse, port_taken

DEFAULT_PORT = 5000
SEARCH_SPAN = 100


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` (we can bind it ourselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR, as servers (docker-proxy included) set it: connections lingering in
        # TIME_WAIT after a registry stopped do not make its port look taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def choose(preferred: int = DEFAULT_PORT, host: str = "127.0.0.1", strict: bool = False) -> int:
    """The preferred port if free, else the next free one above it.

    With ``strict`` the preferred port or nothing: raise :class:`PortInUse`.
    """
    if not 0 < preferred < 65536:
        raise PortInUse(f"{preferred} is not a TCP port: choose a number between 1024 and 65535.")
    if is_free(preferred, host):
        return preferred
    if strict:
        raise port_taken(preferred, host)
    for port in range(preferred + 1, min(preferred + SEARCH_SPAN, 65536)):
        if is_free(port, host):
            return port
    raise PortInUse(
        f"ports {preferred}-{preferred + SEARCH_SPAN - 1} on {host} are all taken: "
        "free one of them or pass a port outside that range."
    )
