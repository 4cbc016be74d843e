"""Docker's rule for plain HTTP: which registries a client may speak to without TLS.

Plain HTTP only to registries in an insecure range (``127.0.0.0/8`` by default in Docker 20.10;
``::1`` too from Docker 28, moby #48540) or listed by ``host:port`` in ``insecure-registries``.
The registry client (:mod:`reglab.registry_api`) applies it as the daemon does.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

DEFAULT_INSECURE = ("127.0.0.0/8",)  # Docker 20.10's built-in insecure range (::1 only from Docker 28)


def plain_http_allowed(host: str, insecure: Iterable[str] = DEFAULT_INSECURE) -> bool:
    """Docker's rule: plain HTTP only to registries in an insecure CIDR or listed by ``host:port``.

    Host names are resolved first (so ``localhost`` is loopback), as the daemon does.
    """
    insecure = list(insecure)
    if host in insecure:
        return True
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        try:
            address = ipaddress.ip_address(socket.gethostbyname(name)) if name == "localhost" else None
        except OSError:
            address = None
    if address is None:
        return False
    for entry in insecure:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
