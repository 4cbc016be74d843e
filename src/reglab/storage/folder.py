"""The fast reader: a registry data directory on this machine (a bind mount) into an inventory.

It walks the layout table's tree of shapes (:data:`.layout.TOP`), so it knows what each folder
holds before it looks. Built for speed (it must beat ``du -sb`` on the same tree, see
``benchmarks/storage_scan.py``): the registry writes exactly one file into each digest-named
leaf folder (``data`` or ``link``), so it runs ``stat`` on that file instead of listing the
folder, and takes a link's target from its folder's name (the registry writes that same digest
into it); folders in ``layout.OPENED_BY_NAME`` (a tag, its index) are opened by name, not
listed. Everything else is listed; a leaf folder missing its file is listed too, and reported.
``Tree.verify`` reads every byte and checks what this reader trusted.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .. import errors
from .layout import READ_CONTENT, TOP, Shape
from .model import ENTERED, LINK_READ, Inventory, paused_gc


def read_folder(root: str | os.PathLike) -> tuple[Inventory, FolderSource]:
    """Read a registry data directory (the folder mounted at ``/var/lib/registry``)."""
    root = Path(root)
    if not root.is_dir():
        raise errors.not_a_data_folder(root)
    inventory = Inventory()
    with paused_gc():
        _Walk(inventory).folder(TOP, "", os.fspath(root), {})
        inventory.finish()
    return inventory, FolderSource(root)


class FolderSource:
    """Reads files of a tree on this machine."""

    def __init__(self, root: Path):
        self.root = root
        self._prefix = os.path.join(str(root), "")

    def read(self, rel: str, limit: int | None = None) -> bytes:
        path = self._prefix + rel
        if limit is None:
            return _read_small(path)
        fd = os.open(path, os.O_RDONLY)
        try:
            return os.read(fd, limit)
        finally:
            os.close(fd)

    def open(self, rel: str):
        return open(self._prefix + rel, "rb")

    def contents(self, blobs: dict[str, str], links: Iterable[str]) -> Iterator[tuple[str, str]]:
        """(path, digest of its bytes) for each blob path (path → algorithm), then
        (path, what it holds) for each link path; "" for a file that is gone."""
        for rel, algo in blobs.items():
            try:
                with open(self._prefix + rel, "rb") as fh:
                    yield rel, f"{algo}:{hashlib.file_digest(fh, algo).hexdigest()}"
            except FileNotFoundError:
                yield rel, ""
        for rel in links:
            try:
                yield rel, _read_small(self._prefix + rel).decode(errors="replace").strip()
            except FileNotFoundError:
                yield rel, ""


def _read_small(path: str) -> bytes:
    """A small file's bytes: three system calls, none of Python's file machinery."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, LINK_READ)
        if len(data) == LINK_READ:
            rest = [data]
            while chunk := os.read(fd, 1 << 16):
                rest.append(chunk)
            data = b"".join(rest)
        return data
    finally:
        os.close(fd)


class _Walk:
    """One walk of a data directory, shape by shape (``shape`` None: a place the registry does
    not write; everything found there is recorded as it is)."""

    def __init__(self, inventory: Inventory):
        self.inv = inventory

    def _names(self, rel: str, full: str) -> list[str] | None:
        """A folder's names (plain ``listdir``: no per-entry objects); None if it is a file
        (recorded) or gone."""
        try:
            names = os.listdir(full)
        except NotADirectoryError:
            self.inv.other(rel, os.stat(full, follow_symlinks=False).st_size)
            return None
        except FileNotFoundError:
            return None
        except PermissionError:
            raise errors.cannot_read_storage(full) from None
        if rel:
            self.inv.seen_dirs.add(rel)
        return names

    def folder(self, shape: Shape | None, rel: str, full: str, fields: dict[str, str]) -> None:
        if shape is not None:
            if shape.by_name and self.by_name(shape, rel, full, fields):
                return
            below = shape.var
            if below is not None and below.leaf and not shape.children:
                self.leaves(below, rel, full, fields)
                return
        names = self._names(rel, full)
        if names is None:
            return
        if shape is None:
            for name in names:
                self.folder(None, f"{rel}/{name}", f"{full}/{name}", fields)
            return
        if shape.folder in ENTERED:
            self.inv.enter(shape.folder, fields)
        if shape.leaf is not None and shape.leaf not in names:
            self.inv.missing.append(rel)  # reported, and listed
        below, children = shape.var, shape.children
        for name in names:
            child = children.get(name) or below
            crel, cfull = (f"{rel}/{name}" if rel else name), f"{full}/{name}"
            if child is None:
                self.folder(None, crel, cfull, fields)
                continue
            cfields = fields
            if child.field:
                cfields = {**fields, child.field: f"{fields[child.field]}/{name}" if child is shape else name}
            if child.folder:
                self.folder(child, crel, cfull, cfields)
            else:
                self.file(child, crel, cfull, cfields)

    def file(self, shape: Shape, rel: str, full: str, fields: dict[str, str]) -> None:
        """A file where the layout puts one (if it is a folder after all, it is listed as a stray)."""
        try:
            if shape.file in READ_CONTENT:
                data = _read_small(full)
                self.inv.record(shape.file, fields, rel, len(data), data)
            else:
                self.inv.record(shape.file, fields, rel, os.stat(full, follow_symlinks=False).st_size)
        except IsADirectoryError:
            self.folder(None, rel, full, fields)

    def leaves(self, leaf: Shape, rel: str, full: str, fields: dict[str, str]) -> None:
        """Digest-named folders each holding one file (``data`` or ``link``): one ``stat`` each,
        a whole folder at a time, no listing of theirs (the folder is opened once, and each
        ``stat`` starts from it instead of from the root)."""
        try:
            fd = os.open(full, os.O_RDONLY | os.O_DIRECTORY)
        except NotADirectoryError:
            self.inv.other(rel, os.stat(full, follow_symlinks=False).st_size)
            return
        except FileNotFoundError:
            return
        except PermissionError:
            raise errors.cannot_read_storage(full) from None
        name, stat = leaf.leaf, os.stat
        try:
            names = os.listdir(fd)
            try:
                sizes = [stat(f"{n}/{name}", dir_fd=fd).st_size for n in names]
            except (FileNotFoundError, NotADirectoryError):
                names, sizes = self.one_by_one(leaf, rel, full, names, fields)
        except PermissionError:
            raise errors.cannot_read_storage(full) from None
        finally:
            os.close(fd)
        self.inv.seen_dirs.add(rel)
        if names:
            self.inv.batch(leaf.children[name].file, rel, fields, names, sizes, name)

    def one_by_one(self, leaf: Shape, rel: str, full: str, names: list[str],
                   fields: dict[str, str]) -> tuple[list[str], list[int]]:
        """The slow path for a folder with an odd entry in it: each name on its own. A folder
        missing its file is reported and listed; a file where a folder belongs is recorded."""
        kept, sizes = [], []
        for name in names:
            try:
                sizes.append(os.stat(f"{full}/{name}/{leaf.leaf}").st_size)
                kept.append(name)
            except (FileNotFoundError, NotADirectoryError):
                odd, odd_full = f"{rel}/{name}", f"{full}/{name}"
                if os.path.isdir(odd_full) and not os.path.islink(odd_full):
                    self.folder(leaf, odd, odd_full, {**fields, leaf.field: name})
                else:
                    self.inv.other(odd, os.stat(odd_full, follow_symlinks=False).st_size)
        return kept, sizes

    def by_name(self, shape: Shape, rel: str, full: str, fields: dict[str, str]) -> bool:
        """Open a folder's children by the names the layout gives them, without listing it; False
        (nothing recorded) if one of its leaf folders lacks its file: then it is listed instead."""
        leaves, below = _plan(shape)
        found = []
        for name, role, reads in leaves:
            path = f"{full}/{name}"
            try:
                data = _read_small(path) if reads else b""
                found.append((role, f"{rel}/{name}", len(data) if reads else os.stat(path).st_size, data))
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                return False
        if shape.folder in ENTERED:
            self.inv.enter(shape.folder, fields)
        for role, path, size, data in found:
            self.inv.record(role, fields, path, size, data)
        for name, child, extra in below:
            self.folder(child, f"{rel}/{name}", f"{full}/{name}", {**fields, **extra} if extra else fields)
        return True


@functools.cache
def _plan(shape: Shape) -> tuple[tuple[tuple[str, str, bool], ...], tuple[tuple[str, Shape, dict], ...]]:
    """A folder opened by name: its leaf folders' files (path below it, role, read or not), and
    the folders below it to read next (path below it, shape, the fields their names fill); a
    child opened by name too is gone through at once."""
    leaves, below = [], []
    for name, child in shape.children.items():
        extra = {child.field: name} if child.field else {}
        if child.leaf:
            role = child.children[child.leaf].file
            leaves.append((f"{name}/{child.leaf}", role, role in READ_CONTENT))
        elif child.by_name and child.folder not in ENTERED and not _plan(child)[0]:
            below.extend((f"{name}/{sub}", grandchild, {**extra, **more})
                         for sub, grandchild, more in _plan(child)[1])
        else:
            below.append((name, child, extra))
    return tuple(leaves), tuple(below)
