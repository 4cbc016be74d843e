"""Sentences of the registry client (:mod:`reglab.registry_api`) beyond the HTTP answers of
:mod:`reglab.errors` itself: a registry that does not answer, bytes that do not match their
digest, a registry's log that stays silent."""

from __future__ import annotations

from . import RegistryError, RegistryUnavailable, ReglabError

__all__ = ["blob_damaged_in_transit", "delete_by_digest", "log_silent", "manifest_altered", "manifest_not_json",
           "registry_answered", "registry_silent", "upload_damaged"]


def registry_answered(host: str, status: int, method: str, path: str, code: str = "", message: str = "") -> RegistryError:
    """Any other answer that is not a success; ``code`` and ``message``: the registry's error JSON, if any."""
    detail = f" ({code}: {message})" if code else ""
    return RegistryError(f"{host} answered {status} to {method} {path}{detail}: "
                         "look at the registry's logs (docker container logs <name>).")


def registry_silent(host: str, seconds: float) -> RegistryUnavailable:
    return RegistryUnavailable(f"the registry at {host} did not answer within {seconds:g} s: look at its logs "
                               "(docker container logs <name>).")


def manifest_not_json(reference: str, host: str) -> RegistryError:
    return RegistryError(f"the manifest of {reference} is not JSON: the registry at "
                         f"{host} sent something else.")


def manifest_altered(host: str, answered: str, digest: str) -> RegistryError:
    return RegistryError(f"the registry at {host} stored the manifest as {answered} but its bytes hash "
                         f"to {digest}: the registry altered it; check its version and storage.")


def delete_by_digest(tag: str) -> ReglabError:
    return ReglabError(f"delete a manifest by its digest (sha256:…), not by the tag {tag!r}: "
                       "lab.tags() and the manifest's Docker-Content-Digest give it.")


def blob_damaged_in_transit(host: str, digest: str) -> RegistryError:
    return RegistryError(f"the blob {digest} that {host} sent hashes to something else: its storage is "
                         "damaged (lab.storage.verify_blobs() finds which blob).")


def upload_damaged(digest: str, answered: str) -> RegistryError:
    return RegistryError(f"the registry stored {digest} as {answered}: the upload was damaged; push again.")


def log_silent(host: str, seconds: float) -> RegistryUnavailable:
    return RegistryUnavailable(f"the log of {host} did not show a request within "
                               f"{seconds:g} s: is the registry logging to its standard output?")
