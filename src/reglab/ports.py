"""Choosing the host port a registry is published on, and keeping it for the lab.

Ports are shared by every learner of a machine (one network namespace). A lab keeps the port
it chose — an exclusive ``flock`` on a file named after it, in a folder every user can write —
from its first registry until its cleanup, so that the registry it restarts later (with a
volume, say) gets the same port, and the image names it tagged still point at it, even when
other learners' labs start registries in between: their port choice passes over kept ports.
The lock goes with the process that held it (a killed kernel keeps nothing).
"""

import errno
import os
import socket
from pathlib import Path

from . import errors
from .errors import port_taken

DEFAULT_PORT = 5000
SEARCH_SPAN = 400  # a class of 100 learners runs a few labs each on one machine's ports


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
        raise errors.not_a_port(preferred)
    if is_free(preferred, host):
        return preferred
    if strict:
        raise port_taken(preferred, host)
    for port in range(preferred + 1, min(preferred + SEARCH_SPAN, 65536)):
        if is_free(port, host):
            return port
    raise errors.all_ports_taken(preferred, preferred + SEARCH_SPAN - 1, host)


_held: dict[tuple[str, str, int], int | None] = {}  # (owner, host, port) → lock fd, in this process


def hold(port: int, host: str, owner: str, folder: Path) -> bool:
    """Keep ``host:port`` for ``owner`` (a lab's scope, ``reglab-ada-02``); False when another lab
    (any learner's, any process's) keeps it. A lab made again in the same process (a notebook
    run twice in one kernel) takes over what its scope kept. The lock files are in ``folder``
    (``Settings.port_locks``: one folder for every learner of the machine).

    Where no lock can be taken (no ``fcntl``, a folder we cannot write) the bind itself is
    the only arbiter, as on a machine with one learner.
    """
    key = (owner, host, port)
    if key in _held:
        return True
    try:
        import fcntl
    except ImportError:  # pragma: no cover (not POSIX)
        _held[key] = None
        return True
    path = folder / f"{host}-{port}"
    try:
        if not folder.is_dir():
            folder.mkdir(exist_ok=True)
            if folder.stat().st_uid == os.geteuid():
                folder.chmod(0o1777)  # every learner's labs keep their ports here
        try:  # opened read-only: a lock file another user made is opened, never rewritten
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                fd = os.open(path, os.O_RDONLY)
    except OSError:
        _held[key] = None
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _held[key] = fd
    return True


def release(owner: str, port: int | None = None) -> None:
    """Give back what ``owner`` keeps (one ``port``, or every one)."""
    for key in [k for k in _held if k[0] == owner and port in (None, k[2])]:
        fd = _held.pop(key)
        if fd is not None:
            os.close(fd)
