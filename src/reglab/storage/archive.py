"""The archive reader: a tar stream of the data directory (Docker's archive API, ``docker cp``)
into the same inventory the folder reader makes.

It sees every file and folder anyway, so it asks the layout table what each one is
(:func:`.layout.place`) and keeps what later questions need: blob heads, small JSON blobs and
link files. With ``reopen`` (a tar stream of any path below the data directory, again) the tree
can look inside layers and verify blobs later.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import PurePosixPath

from .. import errors
from .layout import BLOB, LEAF, LINKS, READ_CONTENT, place
from .model import HEAD_BYTES, JSON_LIMIT, LINK_READ, Inventory, paused_gc

Reopen = Callable[[str], Iterable[bytes]]


def read_archive(chunks: Iterable[bytes], reopen: Reopen | None = None,
                 top: str = "/var/lib/registry") -> tuple[Inventory, ArchiveSource]:
    """Read a tar stream whose first folder is the data directory ``top``."""
    source = ArchiveSource(reopen, top)
    cache, whole = source.cache, source.whole
    inventory = Inventory()
    dirs = inventory.seen_dirs
    try:
        with paused_gc(), tarfile.open(fileobj=_ChunkReader(iter(chunks)), mode="r|") as tar:
            for member in tar:
                path = _strip_top(member.name)
                if not path:
                    continue
                if member.isdir():
                    dirs.add(path)
                elif member.isfile():
                    found = place(path, folder=False)
                    role, fields = found if found else (None, {})
                    data = b""
                    if role == BLOB:
                        fh = tar.extractfile(member)
                        data = fh.read(HEAD_BYTES)
                        if data[:1] == b"{" and member.size <= JSON_LIMIT:
                            data += fh.read()
                        if len(data) == member.size:
                            whole.add(path)
                        cache[path] = data
                    elif (role in READ_CONTENT or role in LINKS) and member.size <= LINK_READ:
                        data = tar.extractfile(member).read()
                        cache[path] = data
                        whole.add(path)
                    inventory.record(role, fields, path, member.size, data)
                else:
                    inventory.other(path, member.size)
    except tarfile.TarError as exc:
        raise errors.archive_unreadable(exc) from None
    _folders(inventory)
    inventory.finish()
    return inventory, source


def _folders(inventory: Inventory) -> None:
    """What the folder reader learns while walking: the repositories and tags folders make, and
    leaf folders missing their one file."""
    files = inventory.files
    for d in sorted(inventory.seen_dirs):
        found = place(d, folder=True)
        if found is None:
            continue
        inventory.enter(*found)
        leaf = LEAF.get(found.role)
        if leaf and f"{d}/{leaf}" not in files:
            inventory.missing.append(d)


class ArchiveSource:
    """Reads files of a tree from tar streams (Docker's archive API)."""

    def __init__(self, reopen: Reopen | None, top: str):
        self.reopen, self.top = reopen, top.rstrip("/")
        self.cache: dict[str, bytes] = {}  # blob heads, small JSON blobs and link files, from the first read
        self.whole: set[str] = set()  # cached paths held in full (not just their head)

    def _need_reopen(self, what: str) -> Reopen:
        if self.reopen is None:
            raise errors.not_kept(what)
        return self.reopen

    def read(self, rel: str, limit: int | None = None) -> bytes:
        cached = self.cache.get(rel)
        if cached is not None and (rel in self.whole or (limit is not None and len(cached) >= limit)):
            return cached[:limit] if limit is not None else cached
        with self.open(rel) as fh:
            return fh.read(limit) if limit else fh.read()

    def open(self, rel: str):
        chunks = self._need_reopen(rel)(f"{self.top}/{rel}")
        tar = tarfile.open(fileobj=_ChunkReader(iter(chunks)), mode="r|")  # noqa: SIM115 (closed by _Closing)
        for member in tar:
            if member.isfile():
                return _Closing(tar.extractfile(member), tar)
        tar.close()
        raise errors.not_a_file_in(rel, self.top)

    def contents(self, blobs: dict[str, str], links: Iterable[str]) -> Iterator[tuple[str, str]]:
        """As ``FolderSource.contents``, in one pass over the whole archive."""
        links = set(links)
        seen = set()
        chunks = self._need_reopen("the blobs' bytes")(self.top)
        with tarfile.open(fileobj=_ChunkReader(iter(chunks)), mode="r|") as tar:
            for member in tar:
                rel = _strip_top(member.name)
                if not member.isfile() or (rel not in blobs and rel not in links):
                    continue
                fh = tar.extractfile(member)
                seen.add(rel)
                if rel in links:
                    yield rel, fh.read().decode(errors="replace").strip()
                    continue
                h = hashlib.new(blobs[rel])
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
                yield rel, f"{blobs[rel]}:{h.hexdigest()}"
        for rel in (blobs.keys() | links) - seen:
            yield rel, ""


class _Closing(io.RawIOBase):
    """A member's file object that closes its tar stream too."""

    def __init__(self, fh, tar):
        self._fh, self._tar = fh, tar

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._fh.read(size)

    def readinto(self, b) -> int:
        data = self._fh.read(len(b))
        b[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._tar.close()
        super().close()


class _ChunkReader(io.RawIOBase):
    """A file object over an iterator of byte chunks (for streaming tar reads)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _strip_top(name: str) -> str:
    """``registry/docker/…`` → ``docker/…``: the archive's first folder is the one asked for."""
    return "/".join(PurePosixPath(name).parts[1:])
