"""The daemonless engine's image store: a standard OCI image layout on disk.

``oci-layout``, ``index.json`` and ``blobs/sha256/<hex>``, as the OCI image-layout spec
describes and as ``skopeo`` reads and writes it (``oci:<root>:<name>``). Each tag is one
descriptor in ``index.json`` whose ``org.opencontainers.image.ref.name`` annotation holds
the full familiar name (``127.0.0.1:5000/hello-world:latest``), as
:func:`write_layout` writes it. An image's ID is its config digest, as
with Docker. As with Docker, an image whose last tag moves to another image (a pull, a
load or a tag of the same name) stays, *dangling*: a descriptor without a name, removed by
its ID; removing an image's last name removes the image. A blob goes when no descriptor
reaches it any more.

Images imported from ``docker save`` archives or :class:`reglab.images.ImageBuild` are
stored the way ``docker push`` would send them — Docker schema 2 manifest, layers gzipped
byte for byte as the Docker daemon does (:mod:`reglab.dockergzip`) — so the same image has
the same digests whichever engine pushes it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import dockergzip
from . import errors
from .errors import ReglabError
from .images import ImageBuild, docker_manifest, oci_manifest
from .media import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, digest_of
from .naming import STANDIN_LABEL
from .reference import parse
from .state import scope_root

try:  # POSIX; elsewhere the store is single-process
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

REF_NAME = "org.opencontainers.image.ref.name"
# the compressor's bytes for a layer never change within one version of it: a layer compressed
# before (same diff ID) is taken from the store, as Docker keeps its own diff ID → digest map
COMPRESSOR = f"reglab.dockergzip go1.19-level6 limit={dockergzip.DEFAULT_LIMIT}"
ID_PATTERN = re.compile(r"^(?:sha256:)?([0-9a-f]{12,64})$")


def store_root(settings) -> Path:
    """``Settings.image_store``, else ``_images`` in the learner's state folder (no lab id starts
    with ``_``): each learner has an image store of their own, as each would have a Docker
    engine of their own, so one learner's ``docker image rm hello-world`` is never another's."""
    return settings.image_store or scope_root(settings.state_dir, settings.learner) / "_images"


def write_layout(builds: list[ImageBuild], root: str | os.PathLike) -> Path:
    """Write images made in Python as an OCI image layout (``oci-layout``, ``index.json``,
    ``blobs/sha256``), every blob once however many images share it; skopeo reads it as
    ``oci:<root>:<tag>``."""
    ImageStore(root).import_builds(builds, docker_compatible=False)
    return Path(root)


def unpacked_size(tar_stream) -> int:
    """What ``docker image ls`` calls SIZE for one layer: bytes of files and symlinks, unpacked."""
    total = 0
    with tarfile.open(fileobj=tar_stream, mode="r|") as tar:
        for member in tar:
            if member.isreg():
                total += member.size
            elif member.issym():
                total += len(member.linkname)
    return total


@dataclass(frozen=True)
class Entry:
    """One tag: a descriptor in ``index.json``."""

    name: str
    digest: str
    media_type: str
    size: int


@dataclass(frozen=True)
class StoredImage:
    """An image (one config) with every name it has in the store."""

    id: str
    manifest_digest: str
    media_type: str
    tags: tuple[str, ...]
    manifest: dict

    @property
    def layers(self) -> list[dict]:
        return list(self.manifest.get("layers") or [])

    @property
    def config_digest(self) -> str:
        return self.manifest["config"]["digest"]


class ImageStore:
    """Tag, list, remove and import images in one OCI image layout."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.blobs = self.root / "blobs" / "sha256"
        self._sizes: dict[str, int] = {}

    # ------------------------------------------------------------------ layout and locking

    def ensure(self) -> ImageStore:
        self.blobs.mkdir(parents=True, exist_ok=True)
        layout = self.root / "oci-layout"
        if not layout.exists():
            layout.write_text('{"imageLayoutVersion":"1.0.0"}')
        if not (self.root / "index.json").exists():
            self._write_index({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
        return self

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive use of the store across processes (a notebook kernel and a test, say)."""
        self.ensure()
        with open(self.root / ".reglab.lock", "a") as fh:
            if fcntl:
                fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def _read_index(self) -> dict:
        path = self.root / "index.json"
        if not path.exists():
            return {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        try:
            return json.loads(path.read_text())
        except ValueError:
            raise errors.store_json_invalid(path, self.root) from None

    def _write_index(self, index: dict) -> None:
        path = self.root / "index.json"
        tmp = path.with_name(f".index.json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(index, indent=1))
        tmp.replace(path)

    # ------------------------------------------------------------------ blobs

    def blob_path(self, digest: str) -> Path:
        algo, _, hexd = digest.partition(":")
        if algo != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", hexd):
            raise errors.store_bad_digest(digest)
        return self.blobs / hexd

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).exists()

    def read_blob(self, digest: str) -> bytes:
        try:
            return self.blob_path(digest).read_bytes()
        except FileNotFoundError:
            raise errors.store_blob_missing(digest, self.root) from None

    def put_blob(self, data: bytes) -> str:
        digest = digest_of(data)
        path = self.blob_path(digest)
        if not path.exists():
            self.blobs.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.blobs, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        return digest

    @contextlib.contextmanager
    def blob_writer(self, digest: str, size: int | None = None):
        """A file to stream one blob into; kept only if its bytes hash to ``digest``."""
        path = self.blob_path(digest)
        self.blobs.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.blobs, prefix=".tmp-")
        writer = _HashingWriter(os.fdopen(fd, "wb"))
        try:
            yield writer
            writer.close()
            got = "sha256:" + writer.hash.hexdigest()
            if got != digest or (size is not None and writer.size != size):
                raise errors.blob_arrived_damaged(digest, got, writer.size)
            os.replace(tmp, path)
        finally:
            writer.close()
            if os.path.exists(tmp):
                os.unlink(tmp)

    # ------------------------------------------------------------------ reading

    def entries(self) -> list[Entry]:
        """Every descriptor of the index: the named ones (tags), and dangling images (name "")."""
        out = []
        for desc in self._read_index().get("manifests") or []:
            name = (desc.get("annotations") or {}).get(REF_NAME) or ""
            out.append(Entry(name, desc["digest"], desc.get("mediaType", OCI_MANIFEST), int(desc.get("size", 0))))
        return out

    def manifest(self, digest: str) -> dict:
        return json.loads(self.read_blob(digest))

    def _image(self, entry: Entry, tags: tuple[str, ...]) -> StoredImage:
        manifest = self.manifest(entry.digest)
        return StoredImage(manifest["config"]["digest"], entry.digest, entry.media_type, tags, manifest)

    def images(self) -> list[StoredImage]:
        """Every image, with all its names (grouped by config digest, like ``docker image ls``)."""
        by_id: dict[str, tuple[Entry, list[str]]] = {}
        for entry in self.entries():
            try:
                config = self.manifest(entry.digest)["config"]["digest"]
            except (ReglabError, KeyError, ValueError):
                continue  # a damaged entry: not an image we can show
            first, names = by_id.setdefault(config, (entry, []))
            if entry.name:
                names.append(entry.name)
                if not first.name:  # show an image by one of its names rather than a dangling descriptor
                    by_id[config] = (entry, names)
        return [self._image(entry, tuple(sorted(names))) for entry, names in by_id.values()]

    def find(self, reference: str) -> StoredImage | None:
        """The image a name (``hello-world``, ``host:port/repo:tag``) or an image ID refers to."""
        match = ID_PATTERN.match(reference)
        if match:
            found = [img for img in self.images() if img.id[7:].startswith(match.group(1))]
            if found:
                return found[0]
        try:
            ref = parse(reference)
        except ReglabError:
            return None
        for image in self.images():
            if ref.digest:
                if image.manifest_digest == ref.digest and any(
                        parse(t).familiar_repository == ref.familiar_repository for t in image.tags):
                    return image
            elif ref.tagged in image.tags:
                return self._image(self._entry(ref.tagged), image.tags)
        return None

    def _entry(self, name: str) -> Entry:
        for entry in self.entries():
            if name and entry.name == name:
                return entry
        raise errors.missing_image(name)

    def config(self, image: StoredImage) -> dict:
        return json.loads(self.read_blob(image.config_digest))

    def recipe(self, image: StoredImage) -> str | None:
        """A stand-in's recipe version (label ``reglab.standin.recipe``), None for other images."""
        labels = (self.config(image).get("config") or {}).get("Labels") or {}
        return labels.get(f"{STANDIN_LABEL}.recipe")

    def is_standin(self, image: StoredImage) -> bool:
        labels = (self.config(image).get("config") or {}).get("Labels") or {}
        return labels.get(STANDIN_LABEL) == "true"

    def size(self, image: StoredImage) -> int:
        """Unpacked size of all layers (what Docker reports as the image's size)."""
        total = 0
        for layer in image.layers:
            digest = layer["digest"]
            if digest not in self._sizes:
                path = self.blob_path(digest)
                with open(path, "rb") as fh:
                    magic = fh.read(2)
                    fh.seek(0)
                    stream = gzip.GzipFile(fileobj=fh) if magic == b"\x1f\x8b" else fh
                    try:
                        self._sizes[digest] = unpacked_size(stream)
                    except (OSError, tarfile.TarError, EOFError):
                        self._sizes[digest] = int(layer.get("size", 0))  # not a tar we can read
            total += self._sizes[digest]
        return total

    # ------------------------------------------------------------------ writing

    def set_tag(self, name: str, digest: str, media_type: str, size: int) -> None:
        """Point ``name`` at the manifest ``digest`` (replacing what it pointed at)."""
        name = parse(name).tagged
        index = self._read_index()
        index["mediaType"] = OCI_INDEX
        descriptors = index.get("manifests") or []
        kept = [d for d in descriptors if (d.get("annotations") or {}).get(REF_NAME) != name]
        for old in descriptors:
            if (old.get("annotations") or {}).get(REF_NAME) == name and old["digest"] != digest:
                self._keep_dangling(old, kept)
        kept.append({"mediaType": media_type, "digest": digest, "size": size, "annotations": {REF_NAME: name}})
        index["manifests"] = kept
        self._write_index(index)

    def _keep_dangling(self, old: dict, kept: list[dict]) -> None:
        """The image ``old`` named loses that name: unless another descriptor still shows it, it
        stays as a dangling image, as Docker keeps it (``<none>`` in ``docker image ls``)."""
        try:
            config = self.manifest(old["digest"])["config"]["digest"]
        except (ReglabError, KeyError, ValueError):
            return
        for desc in kept:
            try:
                if self.manifest(desc["digest"])["config"]["digest"] == config:
                    return
            except (ReglabError, KeyError, ValueError):
                continue
        kept.append({"mediaType": old.get("mediaType", OCI_MANIFEST), "digest": old["digest"],
                     "size": old.get("size", 0)})

    def remove_dangling(self, image_id: str) -> bool:
        """Remove a dangling image (no name left) by its ID; True when one was removed."""
        with self.lock():
            index = self._read_index()
            before = index.get("manifests") or []
            kept = []
            for desc in before:
                named = (desc.get("annotations") or {}).get(REF_NAME)
                try:
                    config = self.manifest(desc["digest"])["config"]["digest"]
                except (ReglabError, KeyError, ValueError):
                    config = None
                if not named and config == image_id:
                    continue
                kept.append(desc)
            if len(kept) == len(before):
                return False
            index["manifests"] = kept
            self._write_index(index)
            self._collect()
            return True

    def tag(self, source: str, target: str) -> None:
        with self.lock():
            image = self.find(source)
            if image is None:
                raise errors.missing_image(source)
            size = self.blob_path(image.manifest_digest).stat().st_size
            self.set_tag(target, image.manifest_digest, image.media_type, size)

    def untag(self, name: str) -> bool:
        """Remove one name; return True when that was the image's last name (its blobs go too)."""
        name = parse(name).tagged
        with self.lock():
            image = self.find(name)
            if image is None:
                raise errors.missing_image(name)
            index = self._read_index()
            index["manifests"] = [d for d in index.get("manifests") or []
                                  if (d.get("annotations") or {}).get(REF_NAME) != name]
            last = not any(t != name for t in image.tags)
            if last:  # `docker image rm` of the last name removes the image, dangling copies too
                index["manifests"] = [d for d in index["manifests"]
                                      if (d.get("annotations") or {}).get(REF_NAME)
                                      or self.manifest(d["digest"]).get("config", {}).get("digest") != image.id]
            self._write_index(index)
            self._collect()
            return self.find(image.id) is None

    def _collect(self) -> list[str]:
        """Delete blobs no tag reaches (call with the lock held)."""
        keep: set[str] = set()
        for desc in self._read_index().get("manifests") or []:
            keep.add(desc["digest"])
            try:
                body = self.manifest(desc["digest"])
            except (ReglabError, ValueError):
                continue
            for child in body.get("manifests") or []:  # an index: keep what it lists
                keep.add(child["digest"])
                with contextlib.suppress(ReglabError, ValueError):
                    sub = self.manifest(child["digest"])
                    keep.update(d["digest"] for d in [sub.get("config") or {}] + (sub.get("layers") or []) if d)
            keep.update(d["digest"] for d in [body.get("config") or {}] + (body.get("layers") or []) if d)
        removed = []
        if self.blobs.is_dir():
            for path in self.blobs.iterdir():
                if path.name.startswith(".tmp-"):
                    continue
                if f"sha256:{path.name}" not in keep:
                    path.unlink(missing_ok=True)
                    removed.append(path.name)
        return removed

    # ------------------------------------------------------------------ importing

    def add_image(self, tags: list[str], config: bytes, layer_tars: list[bytes], docker_compatible: bool = True,
                  compressed: list[bytes] | None = None) -> str:
        """Store one image under ``tags``; return its manifest digest.

        ``docker_compatible`` stores it as ``docker push`` would send it (schema 2 manifest, Go
        gzip); otherwise as an OCI manifest with the given ``compressed`` layers.
        """
        known = self._compressed_layers() if compressed is None else {}
        if compressed is None:
            compressed = [self._compress(tar, known) for tar in layer_tars]
        with self.lock():
            for blob, tar in zip(compressed, layer_tars):
                digest = self.put_blob(blob)
                self._sizes[digest] = unpacked_size(io.BytesIO(tar))
            if known:
                self._remember_compressed(known)
            self.put_blob(config)
            if docker_compatible:
                manifest, media_type = docker_manifest(config, compressed), DOCKER_MANIFEST
            else:
                manifest, media_type = oci_manifest(config, compressed), OCI_MANIFEST
            digest = self.put_blob(manifest)
            for tag in tags:
                self.set_tag(tag, digest, media_type, len(manifest))
        return digest

    def _compressed_layers(self) -> dict[str, str]:
        """Diff ID → digest of every layer this store compressed with this :data:`COMPRESSOR`."""
        try:
            saved = json.loads((self.root / "compressed.json").read_text())
        except (OSError, ValueError):
            return {}
        return dict(saved.get("layers") or {}) if saved.get("compressor") == COMPRESSOR else {}

    def _remember_compressed(self, known: dict[str, str]) -> None:
        """Add ``known`` to the map (under the lock), keeping only layers whose blobs are here."""
        layers = {**self._compressed_layers(), **known}
        layers = {diff_id: digest for diff_id, digest in layers.items() if self.has_blob(digest)}
        path = self.root / "compressed.json"
        tmp = path.with_name(f".compressed.json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"compressor": COMPRESSOR, "layers": layers}, indent=1))
        tmp.replace(path)

    def _compress(self, tar: bytes, known: dict[str, str]) -> bytes:
        """``tar`` gzipped as ``docker push`` gzips it (:mod:`reglab.dockergzip`), or as it was before."""
        diff_id = digest_of(tar)
        digest = known.get(diff_id)
        if digest and self.has_blob(digest):
            return self.read_blob(digest)
        blob = dockergzip.compress(tar)
        known[diff_id] = digest_of(blob)
        return blob

    def import_docker_archive(self, data: bytes) -> list[str]:
        """Load a ``docker save``-format archive (what :mod:`reglab.images` builds); return its tags."""
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                def read(name: str) -> bytes:
                    return tar.extractfile(name).read()

                images = json.loads(read("manifest.json"))
                tags = []
                gzipped: dict[str, bytes] = {}  # a layer shared by several images is compressed once
                for item in images:
                    config = read(item["Config"])
                    layers = [read(path) for path in item["Layers"]]
                    for path, layer in zip(item["Layers"], layers):
                        if path not in gzipped:
                            gzipped[path] = dockergzip.compress(layer)
                    compressed = [gzipped[path] for path in item["Layers"]]
                    self.add_image(item.get("RepoTags") or [], config, layers, compressed=compressed)
                    tags += item.get("RepoTags") or []
        except (tarfile.TarError, KeyError, ValueError, AttributeError) as exc:
            raise errors.not_a_docker_archive(exc) from None
        return tags

    def import_builds(self, builds: list[ImageBuild], docker_compatible: bool = True) -> list[str]:
        """Store images built in Python; ``docker_compatible=False`` keeps their own (fast) gzip."""
        tags = []
        for build in builds:
            tars = [layer.tar() for layer in build.layers]
            compressed = None if docker_compatible else [layer.gzipped() for layer in build.layers]
            self.add_image(build.tags, build.config_bytes(), tars, docker_compatible, compressed)
            tags += build.tags
        return tags


class _HashingWriter:
    """A file that hashes what is written to it."""

    def __init__(self, fh):
        self.fh = fh
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.fh.write(data)

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.close()
