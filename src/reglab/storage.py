"""The registry's storage tree as a model: what ``tree`` shows, explained.

The filesystem driver keeps everything under ``docker/registry/v2``: ``blobs/`` holds the
bytes (each blob once, in a folder named by its sha256), ``repositories/`` holds only small
``link`` files pointing at blobs. The same tree can be read from a host folder (a bind
mount) or from a container through Docker's archive API (a named volume).
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

ROOT = "docker/registry/v2"
HEAD_BYTES = 512


@dataclass(frozen=True)
class Node:
    """One file or folder, relative to the registry's data directory."""

    path: str
    is_dir: bool
    size: int = 0
    head: bytes = b""  # first bytes of a blob, or the whole of a link file


@dataclass
class Tree:
    """All nodes below a registry data directory."""

    nodes: dict[str, Node] = field(default_factory=dict)

    # ---------------------------------------------------------------- reading

    @classmethod
    def from_path(cls, root: str | os.PathLike) -> "Tree":
        """Read a registry data directory on this machine (a bind mount)."""
        root = Path(root)
        tree = cls()
        for dirpath, dirnames, filenames in os.walk(root):
            rel = os.path.relpath(dirpath, root)
            if rel != ".":
                tree._add(Node(rel.replace(os.sep, "/"), True))
            for name in filenames:
                full = os.path.join(dirpath, name)
                path = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
                size = os.path.getsize(full)
                head = b""
                if _wants_head(path):
                    with open(full, "rb") as fh:
                        head = fh.read(HEAD_BYTES)
                tree._add(Node(path, False, size, head))
        return tree

    @classmethod
    def from_archive(cls, chunks: Iterable[bytes]) -> "Tree":
        """Read a tar stream of the data directory (Docker's archive API, ``docker cp``)."""
        tree = cls()
        with tarfile.open(fileobj=_ChunkReader(iter(chunks)), mode="r|") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts[1:]  # drop the top folder ("registry")
                if not parts:
                    continue
                path = "/".join(parts)
                if member.isdir():
                    tree._add(Node(path, True))
                elif member.isfile():
                    head = b""
                    if _wants_head(path):
                        head = tar.extractfile(member).read(HEAD_BYTES)
                    tree._add(Node(path, False, member.size, head))
        return tree

    def _add(self, node: Node) -> None:
        self.nodes[node.path] = node

    # ---------------------------------------------------------------- queries

    def blobs(self) -> dict[str, Node]:
        """digest → the blob's ``data`` file."""
        out = {}
        for path, node in self.nodes.items():
            parts = path.split("/")
            if len(parts) == 8 and path.startswith(f"{ROOT}/blobs/") and parts[-1] == "data":
                out[f"{parts[4]}:{parts[6]}"] = node
        return out

    def repositories(self) -> list[str]:
        """Repository names (a repository is any folder holding ``_manifests``)."""
        prefix = f"{ROOT}/repositories/"
        names = set()
        for path in self.nodes:
            if path.startswith(prefix) and "/_manifests" in path:
                names.add(path[len(prefix):].split("/_manifests")[0])
        return sorted(names)

    def link(self, path: str) -> str | None:
        node = self.nodes.get(path)
        return node.head.decode().strip() if node and node.head else None

    def tag_target(self, repository: str, tag: str) -> str | None:
        """The manifest digest a tag points to now (its ``current/link``)."""
        return self.link(f"{ROOT}/repositories/{repository}/_manifests/tags/{tag}/current/link")

    def blob_kind(self, digest: str) -> str:
        node = self.blobs().get(digest)
        return _kind(node.head) if node else "missing"

    @property
    def physical_bytes(self) -> int:
        return sum(n.size for n in self.nodes.values() if not n.is_dir)

    @property
    def blob_bytes(self) -> int:
        return sum(n.size for n in self.blobs().values())

    @property
    def file_count(self) -> int:
        return sum(1 for n in self.nodes.values() if not n.is_dir)

    def __len__(self) -> int:
        return len(self.nodes)

    # ---------------------------------------------------------------- text

    def text(self, top: str = "/var/lib/registry") -> str:
        """``tree``-like text: digests shortened, sizes shown, each level explained."""
        return render(self, top)


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


def _wants_head(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == "link" or (name == "data" and "/blobs/" in f"/{path}")


def _kind(head: bytes) -> str:
    """What a blob is, from its first bytes: JSON with a schemaVersion is a manifest (or an
    index, if it lists manifests), other JSON an image config, anything else a layer."""
    if head[:1] != b"{":
        return "layer"
    text = head.decode(errors="replace")
    if '"schemaVersion"' in text:
        if "manifest.list" in text or "image.index" in text or '"manifests"' in text:
            return "image index"
        return "manifest"
    return "config"


# --------------------------------------------------------------------- rendering

def human(size: int) -> str:
    """Bytes in the units ``ls -lh``/``du -h`` readers know (IEC: KiB, MiB)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def short(digest_hex: str) -> str:
    return digest_hex[:12] + "…" if len(digest_hex) > 12 else digest_hex


def _explain(tree: Tree, parts: list[str], node: Node) -> str:
    """One phrase saying what this level of the tree is."""
    depth = len(parts)
    rel = parts[3:] if parts[:3] == ROOT.split("/") else None
    if parts == ["docker"]:
        return "written by the registry's filesystem storage driver"
    if parts == ROOT.split("/"):
        return "storage layout version 2"
    if rel is None:
        return ""
    if rel == ["blobs"]:
        return "the content: every blob stored once, named by its digest"
    if rel == ["repositories"]:
        return "the names: only small link files, no image bytes"
    if len(rel) == 2 and rel[0] == "blobs":
        return "the hash algorithm"
    if len(rel) == 3 and rel[0] == "blobs":
        return "first two hex digits of the digest: keeps folders small"
    if len(rel) == 4 and rel[0] == "blobs":
        return "one blob, named by the sha256 of its bytes"
    if len(rel) == 5 and rel[0] == "blobs" and rel[-1] == "data":
        return f"{human(node.size)}, {_kind(node.head)}"
    if rel[0] == "repositories":
        tail = rel[1:]
        if "_manifests" in tail:
            i = tail.index("_manifests")
            sub = tail[i + 1:]
            if not sub:
                return "the manifests this repository knows"
            if sub == ["revisions"]:
                return "every manifest ever pushed here, by digest"
            if sub == ["tags"]:
                return "one folder per tag"
            if len(sub) == 2 and sub[0] == "tags":
                return "a tag"
            if len(sub) == 3 and sub[0] == "tags" and sub[2] == "current":
                return "where the tag points now"
            if len(sub) == 3 and sub[0] == "tags" and sub[2] == "index":
                return "every manifest the tag has pointed to"
            if sub[-1] == "link":
                target = node.head.decode(errors="replace").strip()
                algo, _, hexd = target.partition(":")
                return f"→ {algo}:{short(hexd)}" if hexd else "a link"
            return ""
        if "_layers" in tail:
            sub = tail[tail.index("_layers") + 1:]
            if not sub:
                return "blobs (layers, config) this repository may serve"
            if sub[-1] == "link":
                target = node.head.decode(errors="replace").strip()
                algo, _, hexd = target.partition(":")
                return f"→ {algo}:{short(hexd)}"
            return ""
        if "_uploads" in tail:
            sub = tail[tail.index("_uploads") + 1:]
            return "uploads in progress (or abandoned)" if not sub else ""
        if depth >= 5 and node.is_dir and any(p.startswith(f"{node.path}/_manifests") for p in tree.nodes):
            return "a repository"
    return ""


def _label(parts: list[str], node: Node) -> str:
    name = parts[-1]
    if len(name) == 64 and all(c in "0123456789abcdef" for c in name):
        name = short(name)
    return name + ("/" if node.is_dir else "")


def render(tree: Tree, top: str) -> str:
    children: dict[str, list[str]] = {}
    for path in tree.nodes:
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        children.setdefault(parent, []).append(path)
    lines = [f"{top}/"]
    width = 46

    def walk(parent: str, prefix: str) -> None:
        kids = sorted(children.get(parent, []))
        for i, path in enumerate(kids):
            node = tree.nodes[path]
            parts = path.split("/")
            last = i == len(kids) - 1
            branch = "└── " if last else "├── "
            label = prefix + branch + _label(parts, node)
            note = _explain(tree, parts, node)
            lines.append(f"{label:<{width}}  {note}".rstrip() if note else label)
            walk(path, prefix + ("    " if last else "│   "))

    walk("", "")
    if len(lines) == 1:
        lines.append("(empty: nothing has been pushed to this registry yet)")
    return "\n".join(lines)
