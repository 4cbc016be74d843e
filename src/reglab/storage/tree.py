"""The registry's storage tree as a model: what ``tree`` shows, explained.

:class:`Tree` reads a data directory from a host folder (a bind mount, :mod:`.folder`) or from
a tar stream of it (Docker's archive API, so also named volumes and Docker Desktop,
:mod:`.archive`) into the same model: blobs with their kind (found by reading the manifests, not
by guessing from bytes), repositories, tags, links, upload sessions, orphans, and the totals
``du``/``find`` would give. :meth:`Tree.verify` reads every byte and checks what the readers
trusted: blob contents against their names, link contents against their folders.
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterable

from .. import errors
from ..errors import ReglabError
from ..media import short_digest as _sd
from ..media import split_digest
from ..units import human
from . import render
from .archive import Reopen, read_archive
from .folder import read_folder
from .layout import blob_path, revision_link_path
from .model import (
    CONFIG,
    HEAD_BYTES,
    INDEX,
    JSON_LIMIT,
    LAYER,
    MANIFEST,
    RANK,
    Blob,
    Inventory,
    Link,
    ManifestInfo,
    Problem,
    Repository,
    Upload,
    Verification,
)


class Tree:
    """A registry data directory, read into a model (see the module docstring)."""

    def __init__(self, inventory: Inventory, source):
        self.source = source  # reads a file's bytes: FolderSource or ArchiveSource
        self._inv = inventory
        self._sizes = inventory.sizes  # blob digest → size
        self._marks: dict[str, tuple[str, str]] = {}  # blob digest → (kind, media type), from the manifests
        self._orphans: dict[str, str] = {}  # unreferenced blob digest → kind guessed from its bytes
        self._blob_objects: dict[str, Blob] | None = None
        self._all_dirs: list[str] | None = None
        self._bad_manifests: dict[str, str] = {}
        self.manifests: dict[str, ManifestInfo] = {}
        self._mark()

    @classmethod
    def from_path(cls, root: str | os.PathLike) -> Tree:
        """Read a registry data directory on this machine (a bind mount)."""
        return cls(*read_folder(root))

    @classmethod
    def from_archive(cls, chunks: Iterable[bytes], reopen: Reopen | None = None,
                     top: str = "/var/lib/registry") -> Tree:
        """Read a tar stream of the data directory (Docker's archive API, ``docker cp``).

        ``reopen(path)`` gives a tar stream of any path below ``top`` again; with it, the tree
        can show layer contents and verify blobs later.
        """
        return cls(*read_archive(chunks, reopen, top))

    # ---------------------------------------------------------------- the manifests

    def _mark(self) -> None:
        """Mark, as garbage-collect does, every manifest a repository lists and what it
        references; what is left unmarked is an orphan, its kind guessed from its bytes."""
        sizes, marks, rank = self._sizes, self._marks, RANK

        def mark(digest: str, kind: str, media_type: str) -> None:
            if digest in sizes:
                old = marks.get(digest)
                if old is None or rank[kind] < rank[old[0]]:
                    marks[digest] = (kind, media_type)

        todo = [d for repo in self._inv.repos_now.values() for d in repo.revisions]
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
        return self.source.read(path, limit)

    # ---------------------------------------------------------------- queries

    @property
    def files(self) -> dict[str, int]:
        """path → size of every regular file."""
        return self._inv.files

    @property
    def dirs(self) -> list[str]:
        """Every folder below the data directory, sorted."""
        if self._all_dirs is None:
            self._all_dirs = self._inv.all_dirs()
        return self._all_dirs

    @property
    def repos(self) -> dict[str, Repository]:
        """name → :class:`Repository`, sorted by name."""
        return self._inv.repos

    @property
    def missing_links(self) -> list[str]:
        """Leaf folders that should hold a link (or data) but do not."""
        return self._inv.missing

    @property
    def _blobs(self) -> dict[str, Blob]:
        """digest → :class:`Blob`, made on first use."""
        if self._blob_objects is None:
            self._blob_objects = {digest: self._make_blob(digest) for digest in sorted(self._sizes)}
        return self._blob_objects

    def _make_blob(self, digest: str) -> Blob:
        mark = self._marks.get(digest)
        kind, media_type = mark or (self._orphans.get(digest, LAYER), "")
        return Blob(digest, self._sizes[digest], blob_path(digest), kind, media_type, mark is None)

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
            raise errors.no_repository(name, list(self.repos)) from None

    def tag_target(self, repository: str, tag: str) -> str | None:
        """The manifest digest a tag points to now (its ``current/link``)."""
        repo = self._inv.repos_now.get(repository)
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
        return sorted((link for link in self._inv.links.values() if link.target == digest), key=lambda x: x.path)

    def orphans(self) -> list[Blob]:
        """Blobs no manifest of any repository references: ``registry garbage-collect`` deletes them."""
        return [self._make_blob(d) for d in sorted(self._orphans)]

    def uploads(self) -> list[Upload]:
        return [u for repo in self._inv.repos_now.values() for u in repo.uploads]

    def dangling_links(self) -> list[Link]:
        """Links naming a blob that ``blobs/`` does not hold."""
        return sorted((link for link in self._inv.links.values() if link.target not in self._sizes),
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
        return self._inv.byte_count

    @property
    def blob_bytes(self) -> int:
        """Bytes in ``blobs/``: each blob once."""
        return sum(self._sizes.values())

    @property
    def logical_bytes(self) -> int:
        """What the images would weigh stored apart: every manifest of every repository plus the
        config and layers it names, counted once per repository that lists it."""
        total, sizes, manifests = 0, self._sizes, self.manifests
        for repo in self._inv.repos_now.values():
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
        return self._inv.file_count

    @property
    def blob_count(self) -> int:
        return len(self._sizes)

    @property
    def link_count(self) -> int:
        return len(self._inv.links)

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
        return {k: (v[0], v[1]) for k, v in sorted(out.items(), key=lambda kv: RANK.get(kv[0], 9))}

    def summary(self) -> str:
        """Two lines: what is stored, and what sharing saves."""
        return render.summary(self)

    def as_dict(self) -> dict:
        """The whole model as plain data (to compare two readings of one tree)."""
        return {
            "files": dict(sorted(self.files.items())),
            "dirs": self.dirs,
            "blobs": list(self.blobs().values()),
            "repositories": {
                r.name: {
                    "tags": {t.name: (t.current, sorted(t.index.values()))
                             for t in sorted(r.tags.values(), key=lambda t: t.name)},
                    "revisions": sorted(r.revisions.values()),
                    "layers": sorted(r.layers.values()),
                    "uploads": sorted(r.uploads, key=lambda u: u.path),
                }
                for r in self.repos.values()
            },
            "manifests": sorted(self.manifests.values(), key=lambda m: m.digest),
            "missing": self.missing_links,
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
            read = {t.current.path for r in self.repos.values() for t in r.tags.values() if t.current}
            links = [p for p in sorted(self._inv.links) if p not in read]  # named by their folder
        else:
            digests = list(digests)
            missing = [d for d in digests if d not in self._blobs]
            if missing:
                raise errors.no_blob_check_digest(_sd(missing[0]))
            chosen = [self._blobs[d] for d in digests]
            links = []
        wanted = {b.path: split_digest(b.digest)[0] for b in chosen}
        by_path = {b.path: b for b in chosen}
        bad = []
        for path, actual in self.source.contents(wanted, links):
            expected = by_path[path].digest if path in by_path else self._inv.links[path].target
            if actual != expected:
                bad.append((path, expected, actual))
        if bad:
            bad.sort()
            raise errors.files_no_longer_match([(path, _sd(expected), _sd(actual) if actual else None, path in by_path)
                                                for path, expected, actual in bad])
        return Verification(len(chosen), sum(b.size for b in chosen), len(links))

    def layer_files(self, digest: str, limit: int = 200) -> list[tuple[str, int, str]]:
        """(name, size, type) of the files in a layer blob (a tar, usually gzipped), as ``tar -tvzf``
        lists them (folders end in ``/``)."""
        blob = self._blobs.get(digest)
        if blob is None:
            raise errors.storage_has_no_blob(_sd(digest))
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
                raise errors.not_a_layer(_sd(digest), exc) from None
        return out

    def text(self, top: str = "/var/lib/registry") -> str:
        """``tree``-like text: digests shortened, sizes shown, each level explained."""
        return render.text(self, top, self._inv.links)


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
