"""The registry's storage tree as a model: what ``tree`` shows, explained.

The filesystem driver keeps everything under ``docker/registry/v2``:

- ``blobs/sha256/<2 hex>/<digest>/data`` holds the bytes, each blob once, in a folder named by
  the sha256 of its content (*content addressing*, hence deduplication);
- ``repositories/<name>/`` holds only small ``link`` files naming blobs by digest:
  ``_layers/`` (blobs the repository may serve), ``_manifests/revisions/`` (every manifest
  pushed there), ``_manifests/tags/<tag>/current/link`` (what the tag means now) and
  ``.../index/`` (what it meant before), plus ``_uploads/`` for pushes in progress.

:class:`Tree` reads such a tree from a host folder (a bind mount) or from a tar stream of the
data directory (Docker's archive API, so also named volumes and Docker Desktop) into the same
model: blobs with their kind (found by reading the manifests, not by guessing from bytes),
repositories, tags, links, upload sessions, orphans, and the totals ``du``/``find`` would give.

The host-folder reader is built for speed (it must beat ``du -sb`` on the same tree, see
``benchmarks/storage_scan.py``): the registry writes exactly one file into each digest-named
leaf folder (``data`` or ``link``), so it runs ``stat`` on that file instead of listing the folder,
and takes a link's target from its folder's name (the registry writes that same digest into
it); a tag's ``index/`` holds sha256 folders only. A leaf folder missing its file is listed and
reported. :meth:`Tree.verify` reads every byte and checks what the fast reader trusted: blob
contents against their names, link contents against their folders. The archive reader sees
every file anyway and builds the same model.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from .errors import ReglabError

ROOT = "docker/registry/v2"
BLOBS = f"{ROOT}/blobs"
REPOS = f"{ROOT}/repositories"
HEAD_BYTES = 512
JSON_LIMIT = 4 << 20  # manifests and configs are small: read whole up to this size
LINK_READ = 4096  # a link holds "sha256:<64 hex>" (71 bytes)

# blob kinds, in order of precedence when two manifests disagree
INDEX, MANIFEST, CONFIG, LAYER = "image index", "manifest", "config", "layer"
_RANK = {INDEX: 0, MANIFEST: 1, CONFIG: 2, LAYER: 3}


class StorageError(ReglabError):
    """The storage tree cannot be read."""


class BlobCorrupt(ReglabError):
    """A blob's bytes no longer hash to the digest that names it."""


# --------------------------------------------------------------------- layout


def split_digest(digest: str) -> tuple[str, str]:
    algo, _, hexd = digest.partition(":")
    if not hexd:
        raise StorageError(f"{digest!r} is not a digest: expected <algorithm>:<hex>, e.g. sha256:…")
    return algo, hexd


def blob_path(digest: str) -> str:
    """Where the filesystem driver keeps a blob's bytes (relative to the data directory)."""
    algo, hexd = split_digest(digest)
    return f"{BLOBS}/{algo}/{hexd[:2]}/{hexd}/data"


def layer_link_path(repository: str, digest: str) -> str:
    algo, hexd = split_digest(digest)
    return f"{REPOS}/{repository}/_layers/{algo}/{hexd}/link"


def revision_link_path(repository: str, digest: str) -> str:
    algo, hexd = split_digest(digest)
    return f"{REPOS}/{repository}/_manifests/revisions/{algo}/{hexd}/link"


def tag_link_path(repository: str, tag: str) -> str:
    return f"{REPOS}/{repository}/_manifests/tags/{tag}/current/link"


def tag_index_path(repository: str, tag: str, digest: str) -> str:
    algo, hexd = split_digest(digest)
    return f"{REPOS}/{repository}/_manifests/tags/{tag}/index/{algo}/{hexd}/link"


def upload_path(repository: str, uuid: str) -> str:
    return f"{REPOS}/{repository}/_uploads/{uuid}"


# --------------------------------------------------------------------- model


@dataclass(slots=True, eq=False)
class Blob:
    """One blob: its digest, its size, where its ``data`` file is, and what it is."""

    digest: str
    size: int
    path: str
    kind: str = ""  # manifest | image index | config | layer (orphans: guessed from their bytes)
    media_type: str = ""  # as the referencing manifest declares it
    orphan: bool = False  # no manifest of any repository references it
    _source: object = field(default=None, repr=False)  # where to read its bytes (not the tree: no cycle)

    @property
    def head(self) -> bytes:
        """The blob's first bytes (read on demand)."""
        return self._source.read(self.path, HEAD_BYTES) if self._source is not None else b""

    def key(self) -> tuple:
        return (self.digest, self.size, self.path, self.kind, self.media_type, self.orphan)

    def __eq__(self, other) -> bool:
        return isinstance(other, Blob) and self.key() == other.key()


class Link(NamedTuple):
    """A ``link`` file: its path, the digest it names, its size.

    Links in digest-named folders (``_layers``, ``revisions``, tag ``index``) name the digest of
    their folder — the registry writes that same digest into the file, and :meth:`Tree.verify`
    checks it did; a tag's ``current/link`` is read, since only its content says where it points.
    """

    path: str
    target: str
    size: int

    @property
    def folder_digest(self) -> str:
        parts = self.path.split("/")
        return f"{parts[-3]}:{parts[-2]}"


_new_link = functools.partial(tuple.__new__, Link)  # Link(*fields) without a Python-level call


@dataclass(slots=True)
class Tag:
    name: str
    current: Link | None = None
    index: dict[str, Link] = field(default_factory=dict)  # every manifest the tag has pointed to

    @property
    def target(self) -> str | None:
        return self.current.target if self.current else None


@dataclass(frozen=True, slots=True)
class Upload:
    """An upload session (``_uploads/<uuid>``): a push in progress, or an abandoned one."""

    repository: str
    uuid: str
    path: str
    size: int  # bytes received in ``data``
    started_at: str


@dataclass(slots=True)
class Repository:
    name: str
    tags: dict[str, Tag] = field(default_factory=dict)
    revisions: dict[str, Link] = field(default_factory=dict)
    layers: dict[str, Link] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class ManifestInfo:
    """A manifest (or image index) blob, parsed."""

    digest: str
    media_type: str
    size: int
    config: str | None
    config_type: str
    layers: tuple[str, ...]
    layer_types: tuple[str, ...]
    manifests: tuple[str, ...]  # an index's children

    @property
    def kind(self) -> str:
        return INDEX if self.manifests or "index" in self.media_type or "list" in self.media_type else MANIFEST

    def key(self) -> tuple:
        return (self.digest, self.media_type, self.size, self.config, self.layers, self.manifests)

    def __eq__(self, other) -> bool:
        return isinstance(other, ManifestInfo) and self.key() == other.key()


@dataclass(frozen=True)
class Problem:
    """Something ``registry garbage-collect`` or a pull would trip over."""

    kind: str  # orphan | dangling link | missing link | wrong link | abandoned upload | broken manifest | unlinked
    path: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Node:
    """One file or folder, relative to the registry's data directory (for ``text()``)."""

    path: str
    is_dir: bool
    size: int = 0
    head: bytes = b""  # the content of a link file


@dataclass(frozen=True)
class Verification:
    """The outcome of :meth:`Tree.verify`: every blob checked hashes to its name."""

    blobs: int
    bytes: int
    links: int = 0

    def __str__(self) -> str:
        text = f"{_plural(self.blobs, 'blob')} ({human(self.bytes)}) checked: each one's sha256 is its folder's name"
        if self.links:
            text += f"; {_plural(self.links, 'link')} checked: each one holds its folder's digest"
        return text


# --------------------------------------------------------------------- sources


class _PathSource:
    """Reads files of a tree on this machine."""

    def __init__(self, root: Path):
        self.root = root
        self.where = str(root)
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
        return open(os.path.join(self.root, rel), "rb")

    def contents(self, blobs: dict[str, str], links: Iterable[str]) -> Iterator[tuple[str, str]]:
        """(path, digest of its bytes) for each blob path (path → algorithm), then
        (path, what it holds) for each link path; "" for a file that is gone."""
        for rel, algo in blobs.items():
            try:
                with open(os.path.join(self.root, rel), "rb") as fh:
                    yield rel, f"{algo}:{hashlib.file_digest(fh, algo).hexdigest()}"
            except FileNotFoundError:
                yield rel, ""
        for rel in links:
            try:
                yield rel, _read_small(os.path.join(self.root, rel)).decode(errors="replace").strip()
            except FileNotFoundError:
                yield rel, ""


class _ArchiveSource:
    """Reads files of a tree from tar streams (Docker's archive API)."""

    def __init__(self, reopen: Callable[[str], Iterable[bytes]] | None, top: str):
        self.reopen, self.top = reopen, top.rstrip("/")
        self.cache: dict[str, bytes] = {}  # blob heads, small JSON blobs and link files, from the first read
        self.whole: set[str] = set()  # cached paths held in full (not just their head)
        self.where = top

    def _need_reopen(self, what: str) -> Callable[[str], Iterable[bytes]]:
        if self.reopen is None:
            raise StorageError(f"{what} was not kept when the tree was read: read it again with "
                               "Tree.from_archive(..., reopen=...) to look inside blobs.")
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
        raise StorageError(f"{rel} is not a file in {self.top}.")

    def contents(self, blobs: dict[str, str], links: Iterable[str]) -> Iterator[tuple[str, str]]:
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


@contextlib.contextmanager
def _no_gc():
    """Pause Python's cycle collector while tens of thousands of small objects are made: they
    hold no cycles worth collecting, and repeated full collections cost more than the scan."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _strip_top(name: str) -> str:
    """``registry/docker/…`` → ``docker/…``: the archive's first folder is the one asked for."""
    parts = PurePosixPath(name).parts[1:]
    return "/".join(parts)


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


# --------------------------------------------------------------------- the tree


class Tree:
    """A registry data directory, read into a model (see the module docstring).

    Readers fill compact tables (blob sizes, link folders as name lists); the per-file
    objects (:class:`Blob`, :class:`Link`, :attr:`files`) are made on first use, so reading a
    big tree costs little more than listing it.
    """

    def __init__(self, source=None):
        self.source = source
        self._files: dict[str, int] = {}  # path → size of every regular file made into an entry so far
        self._dirs: set[str] = set()  # folders seen (with the ancestors of files: every folder)
        self._nfiles = 0  # every regular file, entry or pending
        self._nbytes = 0
        self._sizes: dict[str, int] = {}  # blob digest → size
        self._marks: dict[str, tuple[str, str]] = {}  # blob digest → (kind, media type), from the manifests
        self._orphans: dict[str, str] = {}  # unreferenced blob digest → kind guessed from its bytes
        self._repos: dict[str, Repository] = {}
        self._links: dict[str, Link] = {}
        self._pending: list[tuple] = []  # ("blobs", rel, algo, names, sizes) | ("links", rel, prefix, names, sizes, into)
        self._blob_objects: dict[str, Blob] | None = None
        self.manifests: dict[str, ManifestInfo] = {}
        self.missing_links: list[str] = []  # leaf folders that should hold a link (or data) but do not
        self._bad_manifests: dict[str, str] = {}
        self._pending_uploads: dict[tuple[str, str], dict] = {}
        self._nodes: dict[str, Node] | None = None
        self._all_dirs: list[str] | None = None

    # ---------------------------------------------------------------- reading

    @classmethod
    def from_path(cls, root: str | os.PathLike) -> Tree:
        """Read a registry data directory on this machine (a bind mount)."""
        root = Path(root)
        if not root.is_dir():
            raise StorageError(f"{root} is not a folder: give the folder mounted at /var/lib/registry.")
        tree = cls(_PathSource(root))
        with _no_gc():
            _PathScan(tree, os.fspath(root)).run()
            tree._finish()
        return tree

    @classmethod
    def from_archive(cls, chunks: Iterable[bytes], reopen: Callable[[str], Iterable[bytes]] | None = None,
                     top: str = "/var/lib/registry") -> Tree:
        """Read a tar stream of the data directory (Docker's archive API, ``docker cp``).

        ``reopen(path)`` gives a tar stream of any path below ``top`` again; with it, the tree
        can show layer contents and verify blobs later.
        """
        source = _ArchiveSource(reopen, top)
        cache, whole = source.cache, source.whole
        tree = cls(source)
        try:
            with _no_gc(), tarfile.open(fileobj=_ChunkReader(iter(chunks)), mode="r|") as tar:
                for member in tar:
                    path = _strip_top(member.name)
                    if not path:
                        continue
                    if member.isdir():
                        tree._dirs.add(path)
                    elif member.isfile():
                        data = b""
                        name = path.rsplit("/", 1)[-1]
                        if name == "data" and path.startswith(BLOBS):
                            fh = tar.extractfile(member)
                            data = fh.read(HEAD_BYTES)
                            if data[:1] == b"{" and member.size <= JSON_LIMIT:
                                data += fh.read()
                            if len(data) == member.size:
                                whole.add(path)
                            cache[path] = data
                        elif name in ("link", "startedat") and member.size <= LINK_READ:
                            data = tar.extractfile(member).read()
                            cache[path] = data
                            whole.add(path)
                        tree._file(path, member.size, data)
                    else:
                        tree._other(path, member.size)
        except tarfile.TarError as exc:
            raise StorageError(f"the archive of the registry's data could not be read ({exc}): "
                               "is the container's data folder readable?") from None
        tree._find_from_dirs()
        tree._finish()
        return tree

    def _find_from_dirs(self) -> None:
        """What the host reader learns while walking: repositories, leaf folders missing their file."""
        files = self._files
        for d in sorted(self._dirs):
            if not d.startswith(ROOT):
                continue
            parts = d.split("/")
            if d.startswith(BLOBS + "/"):
                if len(parts) == 7 and f"{d}/data" not in files:
                    self.missing_links.append(d)
                continue
            if not d.startswith(REPOS + "/"):
                continue
            last = parts[-1]
            if last in ("_manifests", "_layers", "_uploads"):
                self._repo("/".join(parts[4:-1]))
                continue
            rel = parts[4:]
            if "_manifests" in rel:
                i = rel.index("_manifests")
                if len(rel) == i + 3 and rel[i + 1] == "tags":
                    repo = self._repo("/".join(rel[:i]))
                    if rel[i + 2] not in repo.tags:
                        repo.tags[rel[i + 2]] = Tag(rel[i + 2])
            leaf = False
            if "_layers" in rel:
                leaf = len(rel) - rel.index("_layers") == 3
            elif "_manifests" in rel:
                sub = rel[rel.index("_manifests") + 1:]
                leaf = (len(sub) == 3 and sub[0] == "revisions") or (len(sub) == 3 and sub[0] == "tags"
                                                                     and sub[2] == "current") \
                    or (len(sub) == 5 and sub[0] == "tags" and sub[2] == "index")
            if leaf and f"{d}/link" not in files:
                self.missing_links.append(d)

    # ---------------------------------------------------------------- collecting (both readers)

    def _repo(self, name: str) -> Repository:
        repo = self._repos.get(name)
        if repo is None:
            repo = self._repos[name] = Repository(name)
        return repo

    def _other(self, path: str, size: int) -> None:
        self._files[path] = size
        self._nfiles += 1
        self._nbytes += size

    def _blob(self, digest: str, path: str, size: int) -> None:
        self._other(path, size)
        self._sizes[digest] = size

    def _link(self, path: str, size: int, target: str, repo: Repository, where: str, tag: str | None = None) -> None:
        """Record a link file: ``where`` is layers | revisions | current | index."""
        self._other(path, size)
        link = self._links[path] = Link(path, target, size)
        if where == "layers":
            repo.layers[target] = link
        elif where == "revisions":
            repo.revisions[target] = link
        else:
            t = repo.tags.get(tag)
            if t is None:
                t = repo.tags[tag] = Tag(tag)
            if where == "current":
                t.current = link
            else:
                t.index[target] = link

    def _defer(self, entry: tuple, sizes: list[int]) -> None:
        """Remember a folder of blobs or links read in one go; their objects are made on first use."""
        self._pending.append(entry)
        self._nfiles += len(sizes)
        self._nbytes += sum(sizes)

    def _materialize(self) -> None:
        """Make the entries and :class:`Link` objects of every folder read in one go."""
        pending, self._pending = self._pending, []
        for entry in pending:
            self._materialize_entry(entry)

    def _materialize_entry(self, entry: tuple) -> None:
        if entry[0] == "blobs":
            _, rel, _algo, names, sizes = entry
            self._files.update(zip([f"{rel}/{n}/data" for n in names], sizes))
        else:
            _, rel, prefix, names, sizes, into = entry
            paths = [f"{rel}/{n}/link" for n in names]
            targets = [prefix + n for n in names]
            made = list(map(_new_link, zip(paths, targets, sizes)))
            self._files.update(zip(paths, sizes))
            self._links.update(zip(paths, made))
            into.update(zip(targets, made))

    @property
    def files(self) -> dict[str, int]:
        """path → size of every regular file."""
        if self._pending:
            self._materialize()
        return self._files

    @property
    def repos(self) -> dict[str, Repository]:
        """name → :class:`Repository`, sorted by name."""
        if self._pending:
            self._materialize()
        return self._repos

    def _file(self, path: str, size: int, data: bytes) -> None:
        """Classify a file by its path (every file of an archive, odd files found walking a folder)."""
        parts = path.split("/")
        if path.startswith(BLOBS + "/") and len(parts) == 8 and parts[-1] == "data":
            self._blob(f"{parts[4]}:{parts[6]}", path, size)
            return
        if path.startswith(REPOS + "/") and parts[-1] == "link":
            rel = parts[4:]
            if "_layers" in rel:
                i = rel.index("_layers")
                if len(rel) - i == 4:
                    self._link(path, size, f"{rel[i + 1]}:{rel[i + 2]}", self._repo("/".join(rel[:i])), "layers")
                    return
            elif "_manifests" in rel:
                i = rel.index("_manifests")
                repo, sub = "/".join(rel[:i]), rel[i + 1:]
                if len(sub) == 4 and sub[0] == "revisions":
                    self._link(path, size, f"{sub[1]}:{sub[2]}", self._repo(repo), "revisions")
                    return
                if len(sub) == 4 and sub[0] == "tags" and sub[2] == "current":
                    self._link(path, size, data.decode(errors="replace").strip(), self._repo(repo), "current",
                               sub[1])
                    return
                if len(sub) == 6 and sub[0] == "tags" and sub[2] == "index":
                    self._link(path, size, f"{sub[3]}:{sub[4]}", self._repo(repo), "index", sub[1])
                    return
        if path.startswith(REPOS + "/") and "_uploads" in parts:
            i = parts.index("_uploads")
            if len(parts) == i + 3 and parts[-1] in ("data", "startedat"):
                entry = self._pending_uploads.setdefault(("/".join(parts[4:i]), parts[i + 1]),
                                                         {"size": 0, "started": ""})
                if parts[-1] == "data":
                    entry["size"] = size
                else:
                    entry["started"] = data.decode(errors="replace").strip()
        self._other(path, size)

    # ---------------------------------------------------------------- the model

    def _finish(self) -> None:
        """Turn the collected files into the model: repositories, manifests, kinds, orphans."""
        for (repo, uuid), entry in sorted(self._pending_uploads.items()):
            self._repo(repo).uploads.append(Upload(repo, uuid, upload_path(repo, uuid), entry["size"],
                                                   entry["started"]))
        self.missing_links.sort()
        self._repos = dict(sorted(self._repos.items()))
        # mark, as garbage-collect does: every manifest a repository lists, and what it references
        sizes, marks, rank = self._sizes, self._marks, _RANK

        def mark(digest: str, kind: str, media_type: str) -> None:
            if digest in sizes:
                old = marks.get(digest)
                if old is None or rank[kind] < rank[old[0]]:
                    marks[digest] = (kind, media_type)

        todo = [d for repo in self._repos.values() for d in repo.revisions]
        seen: set[str] = set()
        while todo:
            digest = todo.pop()
            if digest in seen or digest not in sizes:
                continue
            seen.add(digest)
            info = self._parse_manifest(digest)
            if info is None:
                mark(digest, MANIFEST, "")
                continue
            mark(digest, info.kind, info.media_type)
            if info.config:
                mark(info.config, CONFIG, info.config_type)
            for layer, media_type in zip(info.layers, info.layer_types):
                mark(layer, LAYER, media_type)
            todo.extend(info.manifests)
        for digest in sizes.keys() - marks.keys():
            try:
                head = self.read(blob_path(digest), HEAD_BYTES)
            except (OSError, ReglabError):
                head = b""
            self._orphans[digest] = _kind(head)

    def _parse_manifest(self, digest: str) -> ManifestInfo | None:
        info = self.manifests.get(digest)
        if info is not None or digest not in self._sizes:
            return info
        size = self._sizes[digest]
        try:
            body = json.loads(self.read(blob_path(digest)) if size <= JSON_LIMIT else b"")
        except (ValueError, OSError, ReglabError) as exc:
            self._bad_manifests[digest] = str(exc).split("\n")[0]
            return None
        if not isinstance(body, dict):
            self._bad_manifests[digest] = "not a JSON object"
            return None
        config = body.get("config")
        config_digest = config_type = None
        if isinstance(config, dict):
            config_digest, config_type = config.get("digest"), config.get("mediaType", "")
        layers, layer_types = [], []
        for x in body.get("layers") or body.get("fsLayers") or ():  # fsLayers: schema 1
            if isinstance(x, dict) and (d := x.get("digest") or x.get("blobSum")):
                layers.append(d)
                layer_types.append(x.get("mediaType", ""))
        children = tuple(x["digest"] for x in body.get("manifests") or () if isinstance(x, dict) and "digest" in x)
        media_type = body.get("mediaType") or (
            "application/vnd.oci.image.index.v1+json" if "manifests" in body else
            "application/vnd.docker.distribution.manifest.v1+json" if body.get("schemaVersion") == 1 else
            "application/vnd.oci.image.manifest.v1+json")
        info = self.manifests[digest] = ManifestInfo(
            digest, media_type, size, config_digest, config_type or "", tuple(layers), tuple(layer_types),
            children)
        return info

    def json(self, digest: str) -> dict | list | None:
        """A JSON blob (manifest, index, config) parsed, or None if it is not JSON."""
        if digest not in self._sizes or self._sizes[digest] > JSON_LIMIT:
            return None
        try:
            return json.loads(self.read(blob_path(digest)))
        except (ValueError, OSError, ReglabError):
            return None

    def read(self, path: str, limit: int | None = None) -> bytes:
        """The bytes of a file of the tree (the first ``limit`` of them)."""
        if self.source is None:
            raise StorageError("this tree was built in memory and has no files to read.")
        return self.source.read(path, limit)

    # ---------------------------------------------------------------- queries

    @property
    def _blobs(self) -> dict[str, Blob]:
        """digest → :class:`Blob`, made on first use."""
        if self._blob_objects is None:
            self._blob_objects = {digest: self._make_blob(digest) for digest in sorted(self._sizes)}
        return self._blob_objects

    def _make_blob(self, digest: str) -> Blob:
        mark = self._marks.get(digest)
        kind, media_type = mark or (self._orphans.get(digest, LAYER), "")
        return Blob(digest, self._sizes[digest], blob_path(digest), kind, media_type, mark is None, self.source)

    def blobs(self) -> dict[str, Blob]:
        """digest → :class:`Blob` (its ``data`` file), sorted by digest."""
        return dict(self._blobs)

    def blob(self, digest: str) -> Blob | None:
        return self._blobs.get(digest)

    def repositories(self) -> list[str]:
        """Repository names (a repository is any folder holding ``_manifests``/``_layers``/``_uploads``)."""
        return list(self.repos)

    def repository(self, name: str) -> Repository:
        try:
            return self.repos[name]
        except KeyError:
            raise StorageError(f"the storage holds no repository {name}: "
                               f"it has {', '.join(self.repos) or 'none'}.") from None

    def link(self, path: str) -> str | None:
        """What the link file at ``path`` names."""
        self.files  # noqa: B018 (makes every link)
        link = self._links.get(path)
        return link.target if link else None

    def tag_target(self, repository: str, tag: str) -> str | None:
        """The manifest digest a tag points to now (its ``current/link``)."""
        repo = self._repos.get(repository)
        t = repo.tags.get(tag) if repo else None
        return t.target if t else None

    def manifest(self, digest: str) -> ManifestInfo | None:
        return self._parse_manifest(digest)

    def blob_kind(self, digest: str) -> str:
        if digest not in self._sizes:
            return "missing"
        mark = self._marks.get(digest)
        return mark[0] if mark else self._orphans.get(digest, LAYER)

    def links_to(self, digest: str) -> list[Link]:
        """Every link file that names ``digest``."""
        self.files  # noqa: B018 (makes every link)
        return sorted((link for link in self._links.values() if link.target == digest), key=lambda x: x.path)

    def orphans(self) -> list[Blob]:
        """Blobs no manifest of any repository references: ``registry garbage-collect`` deletes them."""
        return [self._make_blob(d) for d in sorted(self._orphans)]

    def uploads(self) -> list[Upload]:
        return [u for repo in self._repos.values() for u in repo.uploads]

    def dangling_links(self) -> list[Link]:
        """Links naming a blob that ``blobs/`` does not hold."""
        self.files  # noqa: B018 (makes every link)
        return sorted((link for link in self._links.values() if link.target not in self._sizes),
                      key=lambda x: x.path)

    def images(self) -> list[tuple[str, str, list[str]]]:
        """(repository, manifest digest, its tags) for every manifest a repository lists."""
        out = []
        for repo in self.repos.values():
            for digest in sorted(repo.revisions):
                tags = sorted(t.name for t in repo.tags.values() if t.target == digest)
                out.append((repo.name, digest, tags))
        return out

    def problems(self) -> list[Problem]:
        """Orphans, dangling links, leaf folders without their file, uploads, broken or unlinked manifests.

        Damaged bytes (a blob or link whose content no longer matches its name) need reading every
        byte: :meth:`verify` finds those."""
        out = []
        for blob in self.orphans():
            out.append(Problem("orphan", blob.path,
                               f"blob {_sd(blob.digest)} ({human(blob.size)}, {blob.kind}) is an orphan: no "
                               "manifest of any repository references it, so `registry garbage-collect` "
                               "would delete it."))
        for link in self.dangling_links():
            out.append(Problem("dangling link", link.path,
                               f"{link.path} names {_sd(link.target) or 'nothing'}, but blobs/ holds no such "
                               "blob: pulls that need it fail with 'blob unknown'."))
        for path in self.missing_links:
            out.append(Problem("missing link", path,
                               f"{path} should hold a file named link (or data) but does not: "
                               "an interrupted write or a hand edit."))
        for upload in self.uploads():
            out.append(Problem("abandoned upload", upload.path,
                               f"an upload to {upload.repository} ({human(upload.size)} received, started "
                               f"{upload.started_at or 'at an unknown time'}) was never finished: the registry "
                               "purges such uploads after a week (storage.maintenance.uploadpurging)."))
        for digest, why in sorted(self._bad_manifests.items()):
            out.append(Problem("broken manifest", blob_path(digest),
                               f"manifest {_sd(digest)} is listed by a repository but is not valid JSON ({why})."))
        for repo in self.repos.values():
            for digest in sorted(repo.revisions):
                info = self.manifests.get(digest)
                if info is None:
                    continue
                for ref in ([info.config] if info.config else []) + list(info.layers):
                    if ref not in repo.layers:
                        out.append(Problem("unlinked", revision_link_path(repo.name, digest),
                                           f"{repo.name} lists manifest {_sd(digest)}, which needs {_sd(ref)}, "
                                           f"but {repo.name}/_layers has no link to it: pulls of it fail."))
        return out

    # ---------------------------------------------------------------- totals

    @property
    def physical_bytes(self) -> int:
        """Bytes of every file (apparent sizes, as ``du -b`` counts them, folders excluded)."""
        return self._nbytes

    @property
    def blob_bytes(self) -> int:
        """Bytes in ``blobs/``: each blob once."""
        return sum(self._sizes.values())

    @property
    def logical_bytes(self) -> int:
        """What the images would weigh stored apart: every manifest of every repository plus the
        config and layers it names, counted once per repository that lists it."""
        total, sizes, manifests = 0, self._sizes, self.manifests
        for repo in self._repos.values():
            for digest in repo.revisions:
                if digest not in sizes:
                    continue
                total += sizes[digest]
                info = manifests.get(digest)
                if info is not None:
                    if info.config:
                        total += sizes.get(info.config, 0)
                    total += sum(sizes.get(layer, 0) for layer in info.layers)
        return total

    @property
    def file_count(self) -> int:
        return self._nfiles

    @property
    def blob_count(self) -> int:
        return len(self._sizes)

    @property
    def link_count(self) -> int:
        self.files  # noqa: B018 (makes every link)
        return len(self._links)

    def kinds(self) -> dict[str, tuple[int, int]]:
        """kind → (blob count, bytes)."""
        out: dict[str, list[int]] = {}
        sizes = self._sizes
        for digest, (kind, _) in self._marks.items():
            entry = out.setdefault(kind, [0, 0])
            entry[0] += 1
            entry[1] += sizes[digest]
        for digest, kind in self._orphans.items():
            entry = out.setdefault(kind, [0, 0])
            entry[0] += 1
            entry[1] += sizes[digest]
        return {k: (v[0], v[1]) for k, v in sorted(out.items(), key=lambda kv: _RANK.get(kv[0], 9))}

    def summary(self) -> str:
        """Two lines: what is stored, and what sharing saves."""
        kinds = ", ".join(f"{n} {k}{'' if n == 1 else 's'}" for k, (n, _) in self.kinds().items())
        first = (f"{self.blob_count} blobs ({kinds}), {human(self.blob_bytes)} of image data; "
                 f"{self.file_count} files, {human(self.physical_bytes)} in all") if self._sizes else \
            f"no blobs; {self.file_count} files, {human(self.physical_bytes)} in all"
        logical = self.logical_bytes
        saved = logical - self.blob_bytes
        images = len(self.images())
        second = (f"stored apart, the {_plural(images, 'image')} would weigh {human(logical)}; "
                  f"stored once each, the blobs weigh {human(self.blob_bytes)}")
        if saved > 0:
            second += f" (sharing saves {human(saved)})"
        return first + "\n" + second

    def as_dict(self) -> dict:
        """The whole model as plain data (to compare two readings of one tree)."""
        return {
            "files": dict(sorted(self.files.items())),
            "dirs": sorted(self.dirs),
            "blobs": [b.key() for b in self.blobs().values()],
            "repositories": {
                r.name: {
                    "tags": {t.name: (t.current, sorted(t.index.values(), key=lambda x: x.path))
                             for t in sorted(r.tags.values(), key=lambda t: t.name)},
                    "revisions": sorted(r.revisions.values(), key=lambda x: x.path),
                    "layers": sorted(r.layers.values(), key=lambda x: x.path),
                    "uploads": sorted(r.uploads, key=lambda u: u.path),
                }
                for r in self.repos.values()
            },
            "manifests": sorted(self.manifests.values(), key=lambda m: m.digest),
            "problems": [(p.kind, p.path) for p in self.problems()],
            "totals": (self.file_count, self.physical_bytes, self.blob_count, self.blob_bytes, self.logical_bytes),
        }

    # ---------------------------------------------------------------- checking and looking inside

    def verify(self, digests: Iterable[str] | None = None) -> Verification:
        """Read every blob's ``data`` (or those named) and check that its sha256 is the name of its
        folder; check too that every link in a digest-named folder holds that digest.

        Raises :class:`BlobCorrupt` naming each blob or link whose bytes changed.
        """
        if digests is None:
            chosen = list(self.blobs().values())
            self.files  # noqa: B018 (makes every link)
            links = [p for p in sorted(self._links) if not p.endswith("/current/link")]
        else:
            chosen = [self._blobs[d] for d in digests if d in self._blobs]
            missing = [d for d in digests if d not in self._blobs]
            if missing:
                raise StorageError(f"the storage holds no blob {_sd(missing[0])}: check the digest.")
            links = []
        wanted = {b.path: split_digest(b.digest)[0] for b in chosen}
        by_path = {b.path: b for b in chosen}
        bad = []
        for path, actual in self.source.contents(wanted, links):
            if path in by_path:
                expected = by_path[path].digest
            else:
                expected = self._links[path].target
            if actual != expected:
                bad.append((path, expected, actual))
        if bad:
            bad.sort()
            what = "; ".join(
                (f"blob {_sd(expected)} now hashes to {_sd(actual)}" if path.endswith("/data") else
                 f"{path} holds {_sd(actual) or 'nothing'} instead of {_sd(expected)}") if actual else
                f"{path} is gone" for path, expected, actual in bad)
            raise BlobCorrupt(f"{len(bad)} file(s) no longer match their names — {what}: delete the damaged "
                              "blob folder and push the image again, or restore the storage from a backup.")
        return Verification(len(chosen), sum(b.size for b in chosen), len(links))

    def layer_files(self, digest: str, limit: int = 200) -> list[tuple[str, int, str]]:
        """(name, size, type) of the files in a layer blob (a tar, usually gzipped), as ``tar -tvzf``
        lists them (folders end in ``/``)."""
        blob = self._blobs.get(digest)
        if blob is None:
            raise StorageError(f"the storage holds no blob {_sd(digest)}.")
        out = []
        with self.source.open(blob.path) as fh:
            try:
                with tarfile.open(fileobj=fh, mode="r|*") as tar:
                    for member in tar:
                        kind = "dir" if member.isdir() else "link" if member.issym() or member.islnk() else "file"
                        out.append((member.name + ("/" if kind == "dir" else ""), member.size, kind))
                        if len(out) >= limit:
                            break
            except tarfile.TarError as exc:
                raise StorageError(f"blob {_sd(digest)} is not a tar archive ({exc}): it is no layer.") from None
        return out

    # ---------------------------------------------------------------- text

    @property
    def nodes(self) -> dict[str, Node]:
        """path → :class:`Node`, folders and files (built on first use)."""
        if self._nodes is None:
            nodes = {p: Node(p, True) for p in self.dirs}
            for path, size in self.files.items():
                link = self._links.get(path)
                nodes[path] = Node(path, False, size, link.target.encode() if link else b"")
            self._nodes = nodes
        return self._nodes

    @property
    def dirs(self) -> list[str]:
        """Every folder below the data directory, sorted."""
        if self._all_dirs is None:
            found = set(self._dirs)
            for path in self.files:
                while "/" in path:
                    path = path.rsplit("/", 1)[0]
                    if path in found:
                        break
                    found.add(path)
            self._all_dirs = sorted(found)
        return self._all_dirs

    def __len__(self) -> int:
        return len(self.dirs) + len(self.files)

    def text(self, top: str = "/var/lib/registry") -> str:
        """``tree``-like text: digests shortened, sizes shown, each level explained."""
        return render(self, top)


# --------------------------------------------------------------------- the fast host reader


class _PathScan:
    """Walk a registry data directory the way the registry laid it out (see module docstring).

    Folders whose content the layout fixes are not listed: a blob folder holds ``data`` (one
    ``stat``), a link folder holds ``link`` (one ``stat``; its folder's name is its digest), a
    tag's ``current/link`` is read. Everything else is listed; a leaf folder missing its file
    is listed too, and reported.
    """

    def __init__(self, tree: Tree, top: str):
        self.tree, self.top = tree, top
        self.dirs = tree._dirs

    def run(self) -> None:
        self.generic("", self.top)

    def _list(self, rel: str, full: str) -> list[os.DirEntry]:
        try:
            with os.scandir(full) as it:
                entries = list(it)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except PermissionError:
            raise StorageError(f"cannot read {full}: run the registry with --user \"$(id -u):$(id -g)\" "
                               "or read it as root.") from None
        if rel:
            self.dirs.add(rel)
        return entries

    def _other(self, rel: str, entry: os.DirEntry) -> None:
        self.tree._other(rel, entry.stat(follow_symlinks=False).st_size)

    def generic(self, rel: str, full: str) -> None:
        """List a folder the complete way, handing known ones to their own readers."""
        for e in self._list(rel, full):
            r = f"{rel}/{e.name}" if rel else e.name
            if e.is_dir(follow_symlinks=False):
                if r == BLOBS:
                    self.blobs(r, e.path)
                elif r == REPOS:
                    self.repositories(r, e.path, "")
                else:
                    self.generic(r, e.path)
            else:
                name = e.name
                data = _read_small(e.path) if name in ("link", "startedat") else b""
                self.tree._file(r, e.stat(follow_symlinks=False).st_size, data)

    def _names(self, rel: str, full: str) -> list[str] | None:
        """A folder's names (plain ``listdir``: no per-entry objects); None if it is a file."""
        try:
            names = os.listdir(full)
        except NotADirectoryError:
            self.tree._other(rel, os.stat(full, follow_symlinks=False).st_size)
            return None
        except FileNotFoundError:
            return None
        except PermissionError:
            raise StorageError(f"cannot read {full}: run the registry with --user \"$(id -u):$(id -g)\" "
                               "or read it as root.") from None
        self.dirs.add(rel)
        return names

    def _odd(self, rel: str, full: str) -> None:
        """A name where the layout wants a folder holding one file: a stray file, or a folder
        missing its file (reported, and listed)."""
        if os.path.isdir(full) and not os.path.islink(full):
            self.tree.missing_links.append(rel)
            self.generic(rel, full)
        else:
            self.tree._other(rel, os.stat(full, follow_symlinks=False).st_size)

    def _sizes_one_by_one(self, rel: str, full: str, names: list[str], leaf: str) -> tuple[list[str], list[int]]:
        """The slow path for a folder with an odd entry in it: each name on its own."""
        kept, sizes = [], []
        for name in names:
            try:
                sizes.append(os.stat(f"{full}/{name}/{leaf}").st_size)
                kept.append(name)
            except (FileNotFoundError, NotADirectoryError):
                self._odd(f"{rel}/{name}", f"{full}/{name}")
        return kept, sizes

    def blobs(self, rel: str, full: str) -> None:
        """``<algo>/<2 hex>/<hex>/data``: one ``stat`` per blob, a whole folder at a time."""
        tree, stat = self.tree, os.stat
        for algo in self._names(rel, full) or ():
            arel, afull = f"{rel}/{algo}", f"{full}/{algo}"
            prefix = algo + ":"
            for two in self._names(arel, afull) or ():
                prel, pfull = f"{arel}/{two}", f"{afull}/{two}"
                names = self._names(prel, pfull)
                if not names:
                    continue
                try:
                    sizes = [stat(f"{pfull}/{n}/data").st_size for n in names]
                except (FileNotFoundError, NotADirectoryError):
                    names, sizes = self._sizes_one_by_one(prel, pfull, names, "data")
                tree._sizes.update(zip([prefix + n for n in names], sizes))
                tree._defer(("blobs", prel, algo, names, sizes), sizes)

    def repositories(self, rel: str, full: str, name: str) -> None:
        """A folder below ``repositories/``: a namespace, a repository, or both."""
        for e in self._list(rel, full):
            r = f"{rel}/{e.name}"
            if not e.is_dir(follow_symlinks=False):
                self._other(r, e)
            elif name and e.name == "_layers":
                self.links(r, e.path, self.tree._repo(name).layers)
            elif name and e.name == "_manifests":
                self.manifests(r, e.path, self.tree._repo(name))
            elif name and e.name == "_uploads":
                self.tree._repo(name)
                self.generic(r, e.path)
            else:
                self.repositories(r, e.path, f"{name}/{e.name}" if name else e.name)

    def links(self, rel: str, full: str, into: dict[str, Link], now: bool = False) -> None:
        """``<algo>/<hex>/link`` below ``rel``, recorded in ``into`` (``now``: make the links at once)."""
        for algo in self._names(rel, full) or ():
            self.link_folder(f"{rel}/{algo}", f"{full}/{algo}", algo + ":", into, now)

    def link_folder(self, rel: str, full: str, prefix: str, into: dict[str, Link], now: bool = False) -> None:
        """``<hex>/link`` below ``rel``: one ``stat`` per link, no listing of its folder."""
        names = self._names(rel, full)
        if not names:
            return
        stat = os.stat
        try:
            sizes = [stat(f"{full}/{n}/link").st_size for n in names]
        except (FileNotFoundError, NotADirectoryError):
            names, sizes = self._sizes_one_by_one(rel, full, names, "link")
        entry = ("links", rel, prefix, names, sizes, into)
        self.tree._defer(entry, sizes)
        if now:
            self.tree._materialize_entry(entry)
            self.tree._pending.pop()

    def manifests(self, rel: str, full: str, repo: Repository) -> None:
        for e in self._list(rel, full):
            r = f"{rel}/{e.name}"
            if not e.is_dir(follow_symlinks=False):
                self._other(r, e)
            elif e.name == "revisions":
                self.links(r, e.path, repo.revisions, now=True)  # the model needs them at once
            elif e.name == "tags":
                for t in self._list(r, e.path):
                    self.tag(f"{r}/{t.name}", t, repo)
            else:
                self.generic(r, e.path)

    def tag(self, rel: str, entry: os.DirEntry, repo: Repository) -> None:
        """A tag folder holds ``current/link`` and ``index/``: read and list those directly."""
        if not entry.is_dir(follow_symlinks=False):
            self._other(rel, entry)
            return
        tag = entry.name
        if tag not in repo.tags:
            repo.tags[tag] = Tag(tag)
        try:
            data = _read_small(f"{entry.path}/current/link")
        except FileNotFoundError:
            self.slow_tag(rel, entry, repo)
            return
        self.tree._link(f"{rel}/current/link", len(data), data.decode(errors="replace").strip(), repo, "current", tag)
        # a tag's index holds manifest digests, and the registry names manifests by sha256 only
        self.dirs.add(f"{rel}/index")
        self.link_folder(f"{rel}/index/sha256", f"{entry.path}/index/sha256", "sha256:", repo.tags[tag].index)

    def slow_tag(self, rel: str, entry: os.DirEntry, repo: Repository) -> None:
        tag = entry.name
        for e in self._list(rel, entry.path):
            r = f"{rel}/{e.name}"
            if not e.is_dir(follow_symlinks=False):
                self._other(r, e)
            elif e.name == "current":
                try:
                    data = _read_small(f"{e.path}/link")
                except FileNotFoundError:
                    self.tree.missing_links.append(r)
                    self.generic(r, e.path)
                    continue
                self.tree._link(f"{r}/link", len(data), data.decode(errors="replace").strip(), repo, "current", tag)
            elif e.name == "index":
                self.links(r, e.path, repo.tags[tag].index)
            else:
                self.generic(r, e.path)


def _kind(head: bytes) -> str:
    """What a blob is, guessed from its first bytes (only for blobs no manifest names): JSON with
    a schemaVersion is a manifest (or an index, if it lists manifests), other JSON an image
    config, anything else a layer."""
    if head[:1] != b"{":
        return LAYER
    text = head.decode(errors="replace")
    if '"schemaVersion"' in text:
        if "manifest.list" in text or "image.index" in text or '"manifests"' in text:
            return INDEX
        return MANIFEST
    return CONFIG


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


def short_digest(digest: str) -> str:
    """``sha256:0123456789ab…``: a digest shortened for reading."""
    algo, _, hexd = digest.partition(":")
    return f"{algo}:{short(hexd)}" if hexd else digest


_sd = short_digest


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _explain(tree: Tree, parts: list[str], node: Node) -> str:
    """One phrase saying what this level of the tree is."""
    if parts == ["docker"]:
        return "written by the registry's filesystem storage driver"
    if parts == ["docker", "registry"]:
        return "the registry's own folder"
    if parts == ROOT.split("/"):
        return "storage layout version 2"
    if parts[:3] != ROOT.split("/"):
        return ""
    rel = parts[3:]
    if rel == ["blobs"]:
        return (f"the content: every blob stored once, named by its digest "
                f"({_plural(tree.blob_count, 'blob')}, {human(tree.blob_bytes)})")
    if rel == ["repositories"]:
        return f"the names: only small link files, no image bytes ({_plural(tree.link_count, 'link')})"
    if rel[0] == "blobs":
        if len(rel) == 2:
            return "the hash algorithm"
        if len(rel) == 3:
            return "first two hex digits of the digest: keeps folders small"
        if len(rel) == 4:
            return "one blob, named by the sha256 of its bytes"
        if len(rel) == 5 and rel[-1] == "data":
            blob = tree.blob(f"{rel[1]}:{rel[3]}")
            if blob is None:
                return human(node.size)
            note = f"{human(blob.size)}, {blob.kind}"
            return note + (", orphan: no manifest uses it" if blob.orphan else "")
        return ""
    if rel[0] != "repositories":
        return ""
    tail = rel[1:]
    for marker in ("_manifests", "_layers", "_uploads"):
        if marker in tail:
            i = tail.index(marker)
            return _explain_repo_part(tree, "/".join(tail[:i]), marker, tail[i + 1:], node)
    name = "/".join(tail)
    repo = tree.repos.get(name)
    if repo is not None:
        return (f"a repository: {_plural(len(repo.tags), 'tag')}, {_plural(len(repo.revisions), 'manifest')}, "
                f"{_plural(len(repo.layers), 'blob link')}")
    return "a namespace: repositories inside" if node.is_dir else ""


def _link_note(tree: Tree, node: Node) -> str:
    link = tree._links.get(node.path)
    if link is None or not link.target:
        return "an empty link"
    algo, _, hexd = link.target.partition(":")
    kind = tree.blob_kind(link.target)
    what = "no such blob!" if kind == "missing" else kind
    return f"→ {algo}:{short(hexd)} ({what})"


def _explain_repo_part(tree: Tree, repo: str, marker: str, sub: list[str], node: Node) -> str:
    if not node.is_dir and sub and sub[-1] == "link":
        return _link_note(tree, node)
    if marker == "_layers":
        if not sub:
            return "blobs (layers, config) this repository may serve"
        if len(sub) == 1:
            return "one folder per blob, named by its digest"
        return ""
    if marker == "_uploads":
        if not sub:
            n = len(tree.repos[repo].uploads) if repo in tree.repos else 0
            return "uploads in progress (or abandoned)" + (f": {n}" if n else "")
        if len(sub) == 1:
            return "one upload session, named by a random id"
        if sub[-1] == "data" and len(sub) == 2:
            return f"{human(node.size)} received so far"
        if sub[-1] == "startedat":
            return "when the upload began"
        if sub[-1] == "hashstates":
            return "saved hash state, to resume"
        return ""
    # _manifests
    if not sub:
        return "the manifests this repository knows"
    if sub == ["revisions"]:
        return "every manifest ever pushed here, by digest"
    if len(sub) == 2 and sub[0] == "revisions":
        return "one folder per manifest, named by its digest"
    if sub == ["tags"]:
        return "one folder per tag"
    if len(sub) == 2 and sub[0] == "tags":
        return "a tag"
    if len(sub) == 3 and sub[0] == "tags" and sub[2] == "current":
        return "where the tag points now"
    if len(sub) == 3 and sub[0] == "tags" and sub[2] == "index":
        return "every manifest the tag has pointed to"
    if len(sub) == 4 and sub[0] == "tags" and sub[2] == "index":
        return "one folder per manifest"
    return ""


def _label(parts: list[str], node: Node) -> str:
    name = parts[-1]
    if len(name) == 64 and all(c in "0123456789abcdef" for c in name):
        name = short(name)
    return name + ("/" if node.is_dir else "")


def render(tree: Tree, top: str) -> str:
    nodes = tree.nodes
    children: dict[str, list[str]] = {}
    for path in nodes:
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        children.setdefault(parent, []).append(path)
    lines = [f"{top.rstrip('/')}/"]
    width = 46

    def walk(parent: str, prefix: str) -> None:
        kids = sorted(children.get(parent, []))
        for i, path in enumerate(kids):
            node = nodes[path]
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
