"""Media types and digests: the names a registry and an image store give to content.

One place for both, so a manifest type or a digest rule means the same to the registry
client, the image store, the storage model and the lab steps.
"""

from __future__ import annotations

import hashlib
import re

from . import errors

# manifests and indexes (what ``Accept`` and ``Content-Type`` name)
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

# what manifests point to
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

IMAGE_MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)  # one image: a config and layers
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)  # several images, one per platform
# what a modern client accepts; without it a 2.x registry rewrites a schema-2 manifest to schema 1
ACCEPT_ALL = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def digest_of(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``: the content's name in a registry."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_digest(text: str) -> bool:
    return isinstance(text, str) and bool(_DIGEST.match(text))


def split_digest(digest: str) -> tuple[str, str]:
    """``("sha256", "<hex>")``; a string that is no digest gets one clear error."""
    algo, _, hexd = digest.partition(":") if isinstance(digest, str) else ("", "", "")
    if not algo or not hexd:
        raise errors.not_a_digest(digest)
    return algo, hexd


def short(digest_hex: str) -> str:
    """The first 12 hex digits and an ellipsis, as ``docker image ls`` shortens IDs."""
    return digest_hex[:12] + "…" if len(digest_hex) > 12 else digest_hex


def short_digest(digest: str) -> str:
    """``sha256:0123456789ab…``: a digest shortened for reading."""
    algo, _, hexd = digest.partition(":")
    return f"{algo}:{short(hexd)}" if hexd else digest
