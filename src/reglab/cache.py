"""What reglab can work out again but need not every time: the registry binary's digest (20 MB
hashed, the ID of ``registry:2`` under the daemonless engine). Every ``Lab(...)`` needs it, and a
class of fifty starts a lot of labs at once.

Entries live in ``<state root>/_cache/<kind>/<key>`` (no lab id starts with ``_``); a key is
the sha256 of everything the entry is made from, files included by path, size, inode and
modification time, so a stale entry is never used. Deleting the folder only costs time, and
a cache that cannot be written is no error.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path



def file_key(path: str | os.PathLike) -> str:
    """A file as a part of a key: where it is and which version of it."""
    real = os.path.realpath(path)
    st = os.stat(real)
    return f"{real}:{st.st_size}:{st.st_ino}:{st.st_mtime_ns}"


def key(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def get_or_make(state_dir: Path, kind: str, entry: str, make: Callable[[], bytes]) -> bytes:
    """The cached bytes of ``kind``/``entry`` under ``<state_dir>/_cache``, made (and kept) when missing."""
    path = state_dir / "_cache" / kind / entry
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = make()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{entry}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass  # a read-only state folder: made again next time
    return data
