"""What the storage sheets (labs 06–10, notebook 04's practice) read beside :mod:`reglab.checks`:
does anything answer, is an image gone (its manifest, not only its tag), is the image under a
tag the one the set-up made, is the registry read-only by its setting. Each returns the problem
in words (None when there is none), for a task to turn into ``missing(…)``."""

from __future__ import annotations

import json
import re

from .. import errors
from ..checks import ACCEPT_MANIFESTS, has_tag, served
from ..checks import digest_of as digest_of_tag
from ..errors import ReglabError
from ..media import digest_of, short_digest
from ..registry_api import RegistryClient

READ_ONLY = "REGISTRY_STORAGE_MAINTENANCE_READONLY"
DELETE_ENABLED = "REGISTRY_STORAGE_DELETE_ENABLED"


def silent(address: str) -> str | None:
    """``nothing answers at …`` when no registry answers at ``address`` (the first real problem)."""
    return errors.nothing_answers(address) if RegistryClient(address).status() is None else None


def manifest_stored(address: str, repository: str, digest: str) -> bool:
    """Does the registry still serve the manifest ``digest`` (by digest, whatever its tags)?"""
    api = RegistryClient(address)
    answer = api.request("HEAD", f"/v2/{repository}/manifests/{digest}", ok=tuple(range(100, 600)),
                         headers={"Accept": ", ".join(ACCEPT_MANIFESTS)})
    return answer.status_code == 200


def image_deleted(address: str, repository: str, tag: str, digest: str) -> str | None:
    """The image ``repository:tag`` (manifest ``digest``) is deleted: no tag, and no manifest either.
    A tag removed by hand (``rm -r`` of its folder) or by ``DELETE …/manifests/<tag>`` (registry:3)
    leaves the manifest stored: that is not a deleted image."""
    if has_tag(address, repository, tag):
        return f"{repository} still has the tag {tag}"
    if manifest_stored(address, repository, digest) and not _named_by_another_tag(address, repository, digest):
        return (f"the tag {repository}:{tag} is gone but its manifest {short_digest(digest)} is still stored (GET by "
                "digest answers 200): removing a tag, in its folder or with DELETE by tag, leaves the image; delete "
                "the manifest by its digest")
    return None


def _named_by_another_tag(address: str, repository: str, digest: str) -> bool:
    """The same image pushed again under another tag (a rollback) keeps its manifest, rightly."""
    api = RegistryClient(address)
    try:
        tags = api.tags(repository)
    except ReglabError:
        return False
    return any(digest_of_tag(address, repository, t) == digest for t in tags)


def config_digest(build) -> str:
    """The digest of an image's config: what names it, whichever engine pushed it (layers are
    compressed again by each push; the config travels as it is)."""
    return digest_of(build.config_bytes())


def is_image(address: str, repository: str, tag: str, config: str, what: str) -> str | None:
    """``repository:tag`` is served whole and is the image whose config is ``config`` (``what`` names it)."""
    whole = served(address, repository, tag)
    if not whole:
        return whole.detail
    try:
        manifest = RegistryClient(address).manifest(repository, tag)
    except ReglabError as exc:
        return str(exc).rstrip(".")
    if manifest.config != config:
        return (f"{repository}:{tag} in the registry is another image (its config {short_digest(manifest.config or '')}"
                f" is not {what}'s {short_digest(config)}): push {what}")
    return None


def readonly_setting(value: str | None) -> bool:
    """``REGISTRY_STORAGE_MAINTENANCE_READONLY``'s value turns read-only on: YAML ``enabled: true``
    or ``{"enabled": true}`` (the registry reads the variable as YAML)."""
    if not value:
        return False
    try:
        parsed = json.loads(value)
        return isinstance(parsed, dict) and parsed.get("enabled") is True
    except ValueError:
        return re.fullmatch(r"\s*\{?\s*enabled\s*:\s*(true|True|TRUE|yes|on)\s*\}?\s*", value) is not None


def config_readonly(text: str) -> bool:
    """A registry config (YAML text) turns read-only on: ``storage: maintenance: readonly: enabled: true``."""
    found = re.search(r"^\s+readonly:\s*\n\s+enabled:\s*(true|yes|on)\s*$", text, re.MULTILINE | re.IGNORECASE)
    inline = re.search(r"^\s+readonly:\s*\{\s*enabled:\s*(true|yes|on)\s*\}", text, re.MULTILINE | re.IGNORECASE)
    return bool(found or inline)
