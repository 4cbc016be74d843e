"""Sentences about a registry's storage: growth, deleting, garbage collection; reading its files
(:mod:`reglab.storage`, the disk steps, the storage explorer)."""

from __future__ import annotations

from . import BadReference, BlobCorrupt, ReglabError, StorageError, fragment

__all__ = ["gc_failed", "no_numbers"]


@fragment
def gc_failed(code: int, last: str) -> ReglabError:
    """Raised whole, but it ends with garbage-collect's own last line, not a full stop."""
    return ReglabError(f"garbage-collect failed (exit {code}): {last}")


__all__ += ["archive_unreadable", "bytes_hash_elsewhere", "cannot_read_storage", "column_has_no", "data_in_volume",
            "files_gone", "files_gone_error", "files_no_longer_match", "layout_only", "manifest_missing_from_blobs",
            "no_blob_check_digest", "no_blob_to_show", "no_repository", "not_a_data_folder", "not_a_file_in",
            "not_a_layer", "not_kept", "storage_has_no_blob", "tag_has_no_current_link", "tag_not_stored"]


# ----------------------------------------------------------------------------- reading the storage


def not_a_data_folder(root: str) -> StorageError:
    return StorageError(f"{root} is not a folder: give the folder mounted at /var/lib/registry.")


def cannot_read_storage(path: str) -> StorageError:
    return StorageError(f"cannot read {path}: run the registry with --user \"$(id -u):$(id -g)\" "
                        "or read it as root.")


def archive_unreadable(reason: str) -> StorageError:
    return StorageError(f"the archive of the registry's data could not be read ({reason}): "
                        "is the container's data folder readable?")


def not_kept(what: str) -> StorageError:
    return StorageError(f"{what} was not kept when the tree was read: read it again with "
                        "Tree.from_archive(..., reopen=...) to look inside blobs.")


def not_a_file_in(path: str, top: str) -> StorageError:
    return StorageError(f"{path} is not a file in {top}.")


def layout_only(role: str, value: str, given: str) -> BadReference:
    return BadReference(f"the registry keeps a {role} under {value} only, not {given}: "
                        f"give a {value} digest.")


def no_repository(name: str, repositories: list[str]) -> StorageError:
    return StorageError(f"the storage holds no repository {name}: "
                        f"it has {', '.join(repositories) or 'none'}.")


def storage_has_no_blob(digest: str) -> StorageError:
    """``digest`` as the learner reads it (short)."""
    return StorageError(f"the storage holds no blob {digest}.")


def no_blob_check_digest(digest: str) -> StorageError:
    """``digest`` as the learner reads it (short)."""
    return StorageError(f"the storage holds no blob {digest}: check the digest.")


def not_a_layer(digest: str, reason: str) -> StorageError:
    return StorageError(f"blob {digest} is not a tar archive ({reason}): it is no layer.")


def files_no_longer_match(bad: list[tuple[str, str, str | None, bool]]) -> BlobCorrupt:
    """``bad``: ``(path, expected, actual, is_blob)`` for each file whose bytes changed, digests as the
    learner reads them (short); ``actual`` is None when the file is gone."""
    what = "; ".join(
        (f"blob {expected} now hashes to {actual}" if is_blob else
         f"{path} holds {actual or 'nothing'} instead of {expected}") if actual is not None else
        f"{path} is gone" for path, expected, actual, is_blob in bad)
    return BlobCorrupt(f"{len(bad)} file(s) no longer match their names — {what}: delete the damaged "
                       "blob folder and push the image again, or restore the storage from a backup.")


# ----------------------------------------------------------------------------- the disk steps (notebook 03)


def tag_not_stored(repository: str, tag: str) -> ReglabError:
    return ReglabError(f"{repository}:{tag} has no link file in the registry's storage: push it first.")


def tag_has_no_current_link(repository: str, tag: str) -> ReglabError:
    return ReglabError(f"{repository}:{tag} has no current/link in the storage: push it first "
                       "(lab.storage.tree() shows what is there).")


def manifest_missing_from_blobs(digest: str) -> ReglabError:
    return ReglabError(f"the manifest {digest} is missing from blobs/ (or is not JSON): "
                       "the storage is damaged; push the image again.")


def no_blob_to_show(digest: str) -> ReglabError:
    return ReglabError(f"the storage holds no blob {digest}: copy the digest from "
                       "lab.storage.follow_tag() or lab.storage.tree().")


def data_in_volume(name: str, data: str, blob: str) -> ReglabError:
    """``data``: the registry's data folder inside its container; ``blob``: the blob's path under it."""
    return ReglabError(f"{name} keeps its data in a volume, not in a folder of yours: copy a blob out "
                       f"with docker cp {name}:{data}/{blob} ., or run the "
                       "registry with bind=.")


def bytes_hash_elsewhere(digest: str, computed: str) -> BlobCorrupt:
    return BlobCorrupt(f"the bytes of {digest} hash to {computed}: the blob is "
                       "damaged; delete its folder and push the image again.")


# ----------------------------------------------------------------------------- the storage explorer


@fragment
def files_gone() -> str:
    """The explorer shows these words as its problem; :func:`files_gone_error` raises them."""
    return "the registry's files are gone — the lab was cleaned up; run the notebook from the top"


def files_gone_error() -> ReglabError:
    return ReglabError(files_gone() + ".")


def column_has_no(column: int, label: str, offered: list[str]) -> ReglabError:
    return ReglabError(f"column {column} has no {label!r}: it offers "
                       f"{', '.join(offered)}.")


def no_numbers(kind: str) -> str:
    """``plots.numbers`` reads notebook 04's figures (growth, composition, collection) only."""
    return (f"reglab reads back the numbers of notebook 04's figures (growth, composition, collection), not of "
            f"a figure labelled {kind!r}: print the data you drew it from instead.")
