"""Push and pull between the OCI image store and a registry, over the HTTP API v2.

What ``docker push`` and ``docker pull`` do on the wire, without a daemon:

push  ``HEAD /v2/<repo>/blobs/<digest>`` for each layer and the config (200: the registry
      has it, skip); else ``POST /v2/<repo>/blobs/uploads/`` and either one ``PUT …?digest=``
      with the whole blob (monolithic) or ``PATCH`` chunks with ``Content-Range`` and an
      empty ``PUT …?digest=`` (chunked); last ``PUT /v2/<repo>/manifests/<tag>``.
pull  ``GET /v2/<repo>/manifests/<tag>`` (an index picks this machine's platform), then
      ``GET /v2/<repo>/blobs/<digest>`` for each blob the store lacks.

Every manifest and blob is verified against its digest before it is kept. Progress is
reported per layer with Docker's status words through ``progress(item, current, total,
status)`` (:data:`reglab.engines.base.Progress`). Errors use the same sentences as the
Docker engine, so a notebook reads the same under either engine.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from urllib.parse import urljoin

import requests

from .engines.base import Progress, Transfer
from .errors import (
    EngineError,
    ManifestUnknown,
    login_needed,
    manifest_unknown,
    missing_image,
    plain_http_refused,
    read_only_refused,
    unreachable,
    untrusted_certificate,
)
from .images import go_arch
from .oci import INDEX_TYPES, ImageStore, digest_of
from .reference import Reference, parse
from .registry_api import MANIFEST_TYPES

READ_SIZE = 1024 * 1024
CERTS_D = "/etc/docker/certs.d"


# ----------------------------------------------------------------------------- HTTP


def plain_http_allowed(host: str) -> bool:
    """Docker's rule, kept here: plain HTTP only to loopback addresses (127.0.0.0/8, ::1)."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class RegistrySession:
    """HTTP to one registry host; every failure becomes one sentence."""

    def __init__(self, host: str, session: requests.Session | None = None, timeout: float = 60.0):
        self.host = host
        scheme = "http" if plain_http_allowed(host) else "https"
        self.base = f"{scheme}://{host}"
        self.session = session or requests.Session()
        self.session.trust_env = False  # never route 127.0.0.1 through a proxy
        ca = Path(CERTS_D) / host / "ca.crt"
        if ca.is_file():  # Docker's place for a registry's own CA
            self.session.verify = str(ca)
        self.timeout = timeout

    def request(self, method: str, url: str, ok: tuple[int, ...], **kwargs) -> requests.Response:
        url = urljoin(self.base + "/", url)
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.exceptions.SSLError as exc:
            text = str(exc).lower()
            if "wrong version number" in text or "record layer failure" in text or "http request" in text:
                raise plain_http_refused(self.host) from None
            raise untrusted_certificate(self.host) from None
        except (requests.ConnectionError, requests.Timeout):
            raise unreachable(self.host) from None
        if response.status_code == 401:
            raise login_needed(self.host)
        if response.status_code == 405 and method in ("POST", "PUT", "PATCH") and 405 not in ok:
            raise read_only_refused(self.host)
        if response.status_code not in ok:
            raise self._unexpected(method, url, response)
        return response

    def _unexpected(self, method: str, url: str, response: requests.Response) -> EngineError:
        detail = ""
        try:
            errors = response.json().get("errors") or []
            if errors:
                detail = f" ({errors[0].get('code', '')}: {errors[0].get('message', '')})"
        except ValueError:
            pass
        path = url.split(self.host, 1)[-1].split("?", 1)[0]
        return EngineError(f"the registry at {self.host} answered {response.status_code} to {method} {path}"
                           f"{detail}: look at its log (docker container logs <name>).")


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


# ----------------------------------------------------------------------------- push


def push(store: ImageStore, reference: str, progress: Progress | None = None, chunk_size: int | None = None,
         session: requests.Session | None = None) -> Transfer:
    """Push the image ``reference`` names to the registry its host part names.

    ``chunk_size`` None uploads each blob in one request; a number uploads it in chunks.
    """
    ref = parse(reference)
    image = store.find(ref.tagged)
    if image is None:
        raise missing_image(ref.tagged)
    http = RegistrySession(ref.registry, session)
    http.request("GET", "/v2/", ok=(200,))
    repo = ref.repository
    layers = image.layers
    for layer in layers:
        _event(progress, layer, 0, "Preparing")
    moved = already = 0
    mounts = MountSources(store, ref.registry)
    for layer in layers:
        if _push_blob(http, store, repo, layer, progress, chunk_size, mounts):
            moved += 1
        else:
            already += 1
    _push_blob(http, store, repo, image.manifest["config"], None, chunk_size, mounts)
    mounts.save()
    body = store.read_blob(image.manifest_digest)
    response = http.request("PUT", f"/v2/{repo}/manifests/{ref.tag_or_default}", ok=(201,), data=body,
                            headers={"Content-Type": image.media_type})
    digest = digest_of(body)
    answered = response.headers.get("Docker-Content-Digest")
    if answered and answered != digest:
        raise EngineError(f"the registry at {ref.registry} stored the manifest as {answered} but its bytes hash "
                          f"to {digest}: the registry altered it; check its version and storage.")
    return Transfer(ref.tagged, digest, len(layers), moved, already)


def _event(progress: Progress | None, layer: dict, current: int, status: str) -> None:
    if progress:
        progress(layer["digest"][7:19], current, int(layer.get("size", 0)), status)


class MountSources:
    """Which repositories of a registry received which blobs from this store.

    With it a push can ask the registry to *mount* a blob from a repository that has it
    (``POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo>``) instead of sending it
    again, as ``docker push`` does ("Mounted from …"). Kept beside the layout's index.
    """

    def __init__(self, store: ImageStore, registry: str):
        self.path = store.root / "reglab-pushed.json"
        self.registry = registry
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


def _push_blob(http: RegistrySession, store: ImageStore, repo: str, blob: dict, progress: Progress | None,
               chunk_size: int | None, mounts: MountSources) -> bool:
    """Upload one blob unless the registry has it (or can mount it); True when bytes were sent."""
    digest = blob["digest"]
    head = http.request("HEAD", f"/v2/{repo}/blobs/{digest}", ok=(200, 404))
    if head.status_code == 200:
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
    params = {"mount": digest, "from": source} if source else None
    start = http.request("POST", f"/v2/{repo}/blobs/uploads/", ok=(201, 202), params=params)
    mounts.note(digest, repo)
    if start.status_code == 201:  # mounted: the registry linked the blob it already had
        _event(progress, blob, int(blob.get("size", 0)), f"Mounted from {source}")
        return False
    location = start.headers["Location"]
    octets = {"Content-Type": "application/octet-stream"}
    if chunk_size and size > 0:
        offset = 0
        while offset < size:
            length = min(chunk_size, size - offset)
            headers = dict(octets, **{"Content-Range": f"{offset}-{offset + length - 1}"})
            answer = http.request("PATCH", location, ok=(202,), headers=headers,
                                  data=_FileSlice(path, offset, length, on_read))
            location = answer.headers["Location"]
            offset += length
        done = http.request("PUT", location, ok=(201,), params={"digest": digest}, headers=octets, data=b"")
    else:
        done = http.request("PUT", location, ok=(201,), params={"digest": digest}, headers=octets,
                            data=_FileSlice(path, 0, size, on_read) if size else b"")
    answered = done.headers.get("Docker-Content-Digest")
    if answered and answered != digest:
        raise EngineError(f"the registry stored {digest} as {answered}: the upload was damaged; push again.")
    _event(progress, blob, size, "Pushed")
    return True


# ----------------------------------------------------------------------------- pull


def fetch_manifest(http: RegistrySession, ref: Reference) -> tuple[bytes, str, str]:
    """The manifest ``ref`` names: (bytes, media type, digest), verified against its digest."""
    wanted = ref.digest or ref.tag_or_default
    response = http.request("GET", f"/v2/{ref.repository}/manifests/{wanted}", ok=(200, 404),
                            headers={"Accept": ", ".join(MANIFEST_TYPES)})
    if response.status_code == 404:
        raise manifest_unknown(ref)
    body = response.content
    digest = digest_of(body)
    expected = ref.digest or response.headers.get("Docker-Content-Digest")
    if expected and expected != digest:
        raise EngineError(f"the manifest of {ref} arrived damaged (expected {expected}, got {digest}): pull again.")
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    return body, media_type, digest


def _platform_manifest(http: RegistrySession, ref: Reference, index: dict) -> tuple[bytes, str, str]:
    """From an image index, the manifest for linux on this machine's architecture."""
    for desc in index.get("manifests") or []:
        platform = desc.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == go_arch():
            return fetch_manifest(http, Reference(ref.registry, ref.repository, None, desc["digest"]))
    raise ManifestUnknown(f"{ref} has no image for linux/{go_arch()}: push one built for this machine.")


def pull(store: ImageStore, reference: str, progress: Progress | None = None,
         session: requests.Session | None = None) -> Transfer:
    """Pull ``reference`` from its registry into the store; layers it has already are skipped."""
    ref = parse(reference)
    http = RegistrySession(ref.registry, session)
    body, media_type, top_digest = fetch_manifest(http, ref)
    manifest = _json(body, ref)
    if media_type in INDEX_TYPES or "manifests" in manifest:
        body, media_type, _ = _platform_manifest(http, ref, manifest)
        manifest = _json(body, ref)
    layers = manifest.get("layers") or []
    config = manifest.get("config") or {}
    with store.lock():
        known = store.find(config.get("digest", "")) if config.get("digest") else None
        if known is not None and all(store.has_blob(layer["digest"]) for layer in layers):
            moved = already = count = 0  # the image is here already: nothing to fetch, like Docker
        else:
            count = len(layers)
            moved = already = 0
            for layer in layers:
                if store.has_blob(layer["digest"]):
                    _event(progress, layer, 0, "Already exists")
                    already += 1
                else:
                    _event(progress, layer, 0, "Pulling fs layer")
            for layer in layers:
                if not store.has_blob(layer["digest"]):
                    _fetch_blob(http, store, ref.repository, layer, progress)
                    moved += 1
            if not store.has_blob(config["digest"]):
                _fetch_blob(http, store, ref.repository, config, None)
        manifest_digest = store.put_blob(body)
        store.set_tag(ref.tagged, manifest_digest, media_type, len(body))
    return Transfer(ref.tagged, top_digest, count, moved, already)


def _json(body: bytes, ref: Reference) -> dict:
    try:
        return json.loads(body)
    except ValueError:
        raise EngineError(f"the manifest of {ref} is not JSON: the registry sent something else.") from None


def _fetch_blob(http: RegistrySession, store: ImageStore, repo: str, blob: dict, progress: Progress | None) -> None:
    digest = blob["digest"]
    size = int(blob.get("size", 0)) or None
    response = http.request("GET", f"/v2/{repo}/blobs/{digest}", ok=(200,), stream=True)
    got = 0
    with response, store.blob_writer(digest, size) as out:
        for chunk in response.iter_content(READ_SIZE):
            out.write(chunk)
            got += len(chunk)
            _event(progress, blob, got, "Downloading")
    _event(progress, blob, got, "Download complete")
    _event(progress, blob, got, "Pull complete")
