"""Push and pull between the OCI image store and a registry: what ``docker push`` and
``docker pull`` do on the wire, without a daemon, through :class:`~reglab.registry_api.RegistryClient`.

push  ``HEAD /v2/<repo>/blobs/<digest>`` for each layer and the config (200: the registry
      has it, skip); else a mount from a repository that has it, or an upload (monolithic or
      chunked); last ``PUT /v2/<repo>/manifests/<tag>``.
pull  ``GET /v2/<repo>/manifests/<tag>`` (an index picks this machine's platform), then
      ``GET /v2/<repo>/blobs/<digest>`` for each blob the store lacks.

Every manifest and blob is verified against its digest before it is kept. Progress is
reported per layer with Docker's status words through ``progress(item, current, total, status)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from . import errors
from .errors import missing_image
from .images import go_arch
from .media import ACCEPT_ALL, INDEX_TYPES, digest_of
from .oci import ImageStore
from .reference import Reference, parse
from .registry_api import RegistryClient

READ_SIZE = 1024 * 1024

# progress(item, current_bytes, total_bytes, status): one call per progress event
Progress = Callable[[str, int, int, str], None]
ClientFor = Callable[[str], RegistryClient]  # host → the client to use for it


@dataclass(frozen=True)
class Transfer:
    """The outcome of a push or a pull."""

    reference: str
    digest: str
    layers: int
    moved: int  # layers actually sent or fetched
    already: int  # layers the other side had already


class _FileSlice:
    """``length`` bytes of a file from ``start``, read in large pieces, reporting progress."""

    def __init__(self, path, start: int, length: int, on_read=None):
        self.fh = open(path, "rb")
        self.fh.seek(start)
        self.left = length
        self.on_read = on_read

    def __len__(self) -> int:
        return self.left

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        data = self.fh.read(min(self.left, READ_SIZE))
        self.left -= len(data)
        if self.on_read:
            self.on_read(len(data))
        if not data or self.left <= 0:
            self.fh.close()
        return data


def _event(progress: Progress | None, layer: dict, current: int, status: str) -> None:
    if progress:
        progress(layer["digest"][7:19], current, int(layer.get("size", 0)), status)


# ----------------------------------------------------------------------------- push


class MountSources:
    """Which repositories of a registry received which blobs from this store.

    With it a push can ask the registry to *mount* a blob from a repository that has it
    (``POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo>``) instead of sending it
    again, as ``docker push`` does ("Mounted from …"). Kept beside the layout's index.
    """

    def __init__(self, store: ImageStore, registry: str):
        self.path = store.root / "reglab-pushed.json"
        try:
            self.all = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.all = {}
        self.known: dict[str, list[str]] = self.all.setdefault(registry, {})

    def source(self, digest: str, repo: str) -> str | None:
        return next((r for r in self.known.get(digest, []) if r != repo), None)

    def note(self, digest: str, repo: str) -> None:
        repos = self.known.setdefault(digest, [])
        if repo not in repos:
            repos.append(repo)

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.all))
        tmp.replace(self.path)


def push(store: ImageStore, reference: str, client_for: ClientFor = RegistryClient,
         progress: Progress | None = None, chunk_size: int | None = None) -> Transfer:
    """Push the image ``reference`` names to the registry its host part names.

    ``chunk_size`` None uploads each blob in one request; a number uploads it in chunks.
    """
    ref = parse(reference)
    image = store.find(ref.tagged)
    if image is None:
        raise missing_image(ref.tagged)
    api = client_for(ref.registry)
    api.request("GET", "/v2/")
    layers = image.layers
    for layer in layers:
        _event(progress, layer, 0, "Preparing")
    moved = already = 0
    mounts = MountSources(store, ref.registry)
    for layer in layers:
        if _push_blob(api, store, ref.repository, layer, progress, chunk_size, mounts):
            moved += 1
        else:
            already += 1
    _push_blob(api, store, ref.repository, image.manifest["config"], None, chunk_size, mounts)
    mounts.save()
    digest = api.put_manifest(ref.repository, ref.tag_or_default, store.read_blob(image.manifest_digest),
                              image.media_type)
    return Transfer(ref.tagged, digest, len(layers), moved, already)


def _push_blob(api: RegistryClient, store: ImageStore, repo: str, blob: dict, progress: Progress | None,
               chunk_size: int | None, mounts: MountSources) -> bool:
    """Upload one blob unless the registry has it (or can mount it); True when bytes were sent."""
    digest = blob["digest"]
    if api.has_blob(repo, digest):
        mounts.note(digest, repo)
        _event(progress, blob, int(blob.get("size", 0)), "Layer already exists")
        return False
    path = store.blob_path(digest)
    size = path.stat().st_size
    sent = 0

    def on_read(n: int) -> None:
        nonlocal sent
        sent += n
        _event(progress, blob, sent, "Pushing")

    source = mounts.source(digest, repo)
    location = api.start_upload(repo, mount=digest if source else None, source=source)
    mounts.note(digest, repo)
    if location is None:  # mounted: the registry linked the blob it already had
        _event(progress, blob, int(blob.get("size", 0)), f"Mounted from {source}")
        return False
    api.upload(location, digest, lambda offset, length: _FileSlice(path, offset, length, on_read), size, chunk_size)
    _event(progress, blob, size, "Pushed")
    return True


# ----------------------------------------------------------------------------- pull


def fetch_manifest(api: RegistryClient, ref: Reference) -> tuple[bytes, str, str]:
    """The manifest ``ref`` names: (bytes, media type, digest), verified against its digest."""
    wanted = ref.digest or ref.tag_or_default
    response = api.request("GET", f"/v2/{ref.repository}/manifests/{wanted}", what=f"{ref.repository}:{wanted}",
                           headers={"Accept": ", ".join(ACCEPT_ALL)})
    body = response.content
    digest = digest_of(body)
    expected = ref.digest or response.headers.get("Docker-Content-Digest")
    if expected and expected != digest:
        raise errors.manifest_arrived_damaged(ref, expected, digest)
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    return body, media_type, digest


def _platform_manifest(api: RegistryClient, ref: Reference, index: dict) -> tuple[bytes, str, str]:
    """From an image index, the manifest for linux on this machine's architecture."""
    for desc in index.get("manifests") or []:
        platform = desc.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == go_arch():
            return fetch_manifest(api, Reference(ref.registry, ref.repository, None, desc["digest"]))
    raise errors.no_image_for_platform(ref, go_arch())


def pull(store: ImageStore, reference: str, client_for: ClientFor = RegistryClient,
         progress: Progress | None = None) -> Transfer:
    """Pull ``reference`` from its registry into the store; layers it has already are skipped."""
    ref = parse(reference)
    api = client_for(ref.registry)
    body, media_type, top_digest = fetch_manifest(api, ref)
    manifest = _json(body, ref)
    if media_type in INDEX_TYPES or "manifests" in manifest:
        body, media_type, _ = _platform_manifest(api, ref, manifest)
        manifest = _json(body, ref)
    layers = manifest.get("layers") or []
    config = manifest.get("config") or {}
    with store.lock():
        known = store.find(config.get("digest", "")) if config.get("digest") else None
        moved = already = count = 0
        if known is None or not all(store.has_blob(layer["digest"]) for layer in layers):
            count = len(layers)  # else the image is here already: nothing to fetch, like Docker
            for layer in layers:
                if store.has_blob(layer["digest"]):
                    _event(progress, layer, 0, "Already exists")
                    already += 1
                else:
                    _event(progress, layer, 0, "Pulling fs layer")
            what = ref.digest or f"{ref.repository}:{ref.tag_or_default}"  # as Docker's words name it
            for layer in layers:
                if not store.has_blob(layer["digest"]):
                    _fetch_blob(api, store, ref.repository, layer, progress, what)
                    moved += 1
            if not store.has_blob(config["digest"]):
                _fetch_blob(api, store, ref.repository, config, None, what)
        manifest_digest = store.put_blob(body)
        store.set_tag(ref.tagged, manifest_digest, media_type, len(body))
    return Transfer(ref.tagged, top_digest, count, moved, already)


def _json(body: bytes, ref: Reference) -> dict:
    try:
        return json.loads(body)
    except ValueError:
        raise errors.pulled_manifest_not_json(ref) from None


def _fetch_blob(api: RegistryClient, store: ImageStore, repo: str, blob: dict, progress: Progress | None,
                what: str | None = None) -> None:
    digest = blob["digest"]
    size = int(blob.get("size", 0)) or None
    got = 0
    with store.blob_writer(digest, size) as out:
        for chunk in api.blob_chunks(repo, digest, what):
            out.write(chunk)
            got += len(chunk)
            _event(progress, blob, got, "Downloading")
    _event(progress, blob, got, "Download complete")
    _event(progress, blob, got, "Pull complete")
