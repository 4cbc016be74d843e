"""What the storage holds, as records: blobs, links, tags, uploads, repositories, manifests.

Both readers fill an :class:`Inventory`, giving each file the role the layout table
(:mod:`.layout`) finds for its place; :class:`~reglab.storage.tree.Tree` then reads the manifests
and answers questions about it. An inventory keeps compact tables (blob sizes, link folders as
name lists) and makes the per-file objects (:class:`Link`, the ``files`` entries) on first use,
so reading a big tree costs little more than listing it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import BlobCorrupt, StorageError  # noqa: F401  (defined with the other errors; imported from here too)
from ..units import count, human
from .layout import (
    BLOB,
    LAYER_LINK,
    LAYERS,
    LINKS,
    MANIFESTS,
    REVISION_LINK,
    TAG,
    TAG_LINK,
    UPLOAD_DATA,
    UPLOAD_STARTED,
    UPLOADS,
    upload_path,
)

HEAD_BYTES = 512  # what a blob's first bytes tell (JSON or not) is read from this many
JSON_LIMIT = 4 << 20  # manifests and configs are small: read whole up to this size
LINK_READ = 4096  # a link holds "sha256:<64 hex>" (71 bytes)

# blob kinds, in order of precedence when two manifests disagree
INDEX, MANIFEST, CONFIG, LAYER = "image index", "manifest", "config", "layer"
RANK = {INDEX: 0, MANIFEST: 1, CONFIG: 2, LAYER: 3}
ENTERED = frozenset({LAYERS, MANIFESTS, UPLOADS, TAG})  # folders that make a repository or a tag


# --------------------------------------------------------------------- records


@dataclass(slots=True)
class Blob:
    """One blob: its digest, its size, where its ``data`` file is, and what it is."""

    digest: str
    size: int
    path: str
    kind: str = ""  # manifest | image index | config | layer (orphans: guessed from their bytes)
    media_type: str = ""  # as the referencing manifest declares it
    orphan: bool = False  # no manifest of any repository references it


class Link(NamedTuple):
    """A ``link`` file: its path, the digest it names, its size.

    Links in digest-named folders (``_layers``, ``revisions``, tag ``index``) name the digest of
    their folder — the registry writes that same digest into the file, and ``Tree.verify``
    checks it did; a tag's ``current/link`` is read, since only its content says where it points.
    """

    path: str
    target: str
    size: int


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


@dataclass(slots=True)
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


@dataclass(frozen=True)
class Problem:
    """Something ``registry garbage-collect`` or a pull would trip over."""

    kind: str  # orphan | dangling link | missing link | wrong link | abandoned upload | broken manifest | unlinked
    path: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Verification:
    """The outcome of ``Tree.verify``: every blob checked hashes to its name."""

    blobs: int
    bytes: int
    links: int = 0

    def __str__(self) -> str:
        text = f"{count(self.blobs, 'blob')} ({human(self.bytes)}) checked: each one's sha256 is its folder's name"
        if self.links:
            text += f"; {count(self.links, 'link')} checked: each one holds its folder's digest"
        return text


# --------------------------------------------------------------------- the inventory


@contextlib.contextmanager
def paused_gc():
    """Pause Python's cycle collector while tens of thousands of small objects are made: they
    hold no cycles worth collecting, and repeated full collections cost more than the scan."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Inventory:
    """Every file and folder a reader found, each file recorded under its layout role."""

    def __init__(self) -> None:
        self.seen_dirs: set[str] = set()  # folders seen (listed, or in the archive)
        self.missing: list[str] = []  # leaf folders that should hold a link (or data) but do not
        self.sizes: dict[str, int] = {}  # blob digest → size
        self.file_count = 0  # every regular file, entry or pending
        self.byte_count = 0
        self._files: dict[str, int] = {}  # path → size of every file made into an entry so far
        self._links: dict[str, Link] = {}
        self._repos: dict[str, Repository] = {}
        self._pending: list[tuple] = []  # folders of blobs or links read in one go: (role, rel, …)
        self._uploads: dict[tuple[str, str], list] = {}  # (repository, uuid) → [size, started]

    # ---------------------------------------------------------------- filling (the readers)

    def repo(self, name: str) -> Repository:
        repo = self._repos.get(name)
        if repo is None:
            repo = self._repos[name] = Repository(name)
        return repo

    def tag(self, repo: Repository, name: str) -> Tag:
        tag = repo.tags.get(name)
        if tag is None:
            tag = repo.tags[name] = Tag(name)
        return tag

    def enter(self, role: str | None, fields: dict[str, str]) -> None:
        """A folder of the layout was found: the repository or tag it makes."""
        if role in (LAYERS, MANIFESTS, UPLOADS):  # ENTERED
            self.repo(fields["repository"])
        elif role == TAG:
            self.tag(self.repo(fields["repository"]), fields["tag"])

    def other(self, path: str, size: int) -> None:
        self._files[path] = size
        self.file_count += 1
        self.byte_count += size

    def record(self, role: str | None, fields: dict[str, str], path: str, size: int, data: bytes = b"") -> None:
        """One file, with the role the layout gives its place (None: a file the registry does not
        write); ``data`` is its content for the roles in ``layout.READ_CONTENT``."""
        self.other(path, size)
        if role == BLOB:
            self.sizes[f"{fields['algo']}:{fields['hex']}"] = size
        elif role in LINKS:
            target = data.decode(errors="replace").strip() if role == TAG_LINK else \
                f"{fields['algo']}:{fields['hex']}"
            self._link(role, fields, Link(path, target, size))
        elif role in (UPLOAD_DATA, UPLOAD_STARTED):
            entry = self._uploads.setdefault((fields["repository"], fields["uuid"]), [0, ""])
            if role == UPLOAD_DATA:
                entry[0] = size
            else:
                entry[1] = data.decode(errors="replace").strip()

    def _link(self, role: str, fields: dict[str, str], link: Link) -> None:
        self._links[link.path] = link
        name = fields["repository"]
        repo = self._repos.get(name) or self.repo(name)
        if role == LAYER_LINK:
            repo.layers[link.target] = link
        elif role == REVISION_LINK:
            repo.revisions[link.target] = link
        else:
            tag = repo.tags.get(fields["tag"]) or self.tag(repo, fields["tag"])
            if role == TAG_LINK:
                tag.current = link
            else:
                tag.index[link.target] = link

    def batch(self, role: str, rel: str, fields: dict[str, str], names: list[str], sizes: list[int],
              leaf: str) -> None:
        """A folder of digest-named folders read in one go, each holding one ``leaf`` file of
        ``role`` (a blob's data or a link); the objects are made on first use."""
        self.file_count += len(sizes)
        self.byte_count += sum(sizes)
        prefix = fields["algo"] + ":"
        if role == BLOB:
            self.sizes.update(zip([prefix + n for n in names], sizes))
            self._pending.append((role, rel, prefix, names, sizes, leaf, None))
            return
        name = fields["repository"]
        repo = self._repos.get(name) or self.repo(name)
        into = repo.layers if role == LAYER_LINK else repo.revisions if role == REVISION_LINK else \
            (repo.tags.get(fields["tag"]) or self.tag(repo, fields["tag"])).index
        entry = (role, rel, prefix, names, sizes, leaf, into)
        if role == REVISION_LINK:
            self._make(entry)  # reading the manifests starts from the revisions: make them at once
        else:
            self._pending.append(entry)

    def finish(self) -> None:
        for (repo, uuid), (size, started) in sorted(self._uploads.items()):
            self.repo(repo).uploads.append(Upload(repo, uuid, upload_path(repo, uuid), size, started))
        self.missing.sort()
        self._repos = dict(sorted(self._repos.items()))

    # ---------------------------------------------------------------- using

    def _make(self, entry: tuple) -> None:
        role, rel, prefix, names, sizes, leaf, into = entry
        paths = [f"{rel}/{n}/{leaf}" for n in names]
        self._files.update(zip(paths, sizes))
        if role != BLOB:
            targets = [prefix + n for n in names]
            made = list(map(_new_link, zip(paths, targets, sizes)))
            self._links.update(zip(paths, made))
            into.update(zip(targets, made))

    def _make_pending(self) -> None:
        pending, self._pending = self._pending, []
        for entry in pending:
            self._make(entry)

    @property
    def files(self) -> dict[str, int]:
        """path → size of every regular file."""
        if self._pending:
            self._make_pending()
        return self._files

    @property
    def links(self) -> dict[str, Link]:
        """path → :class:`Link` of every link file."""
        if self._pending:
            self._make_pending()
        return self._links

    @property
    def repos(self) -> dict[str, Repository]:
        """name → :class:`Repository`, sorted by name (with every link made)."""
        if self._pending:
            self._make_pending()
        return self._repos

    @property
    def repos_now(self) -> dict[str, Repository]:
        """The repositories as they are (revisions and tags made; layer links maybe not yet)."""
        return self._repos

    def all_dirs(self) -> list[str]:
        """Every folder: those seen, and the ancestors of every file and folder, sorted."""
        found = set(self.seen_dirs)
        for path in [*self.files, *self.seen_dirs]:
            while "/" in path:
                path = path.rsplit("/", 1)[0]
                if path in found:
                    break
                found.add(path)
        return sorted(found)
