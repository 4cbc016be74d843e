"""The storage in words: the annotated ``tree`` text and the two-line summary.

Each line of the tree is explained by its role in the layout table (:func:`.layout.place`):
:data:`NOTES` holds the fixed phrases, and the roles whose phrase depends on what the tree holds
(counts, sizes, where a link points) are worded below it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..media import short
from ..units import count, human
from . import layout
from .layout import Place, place
from .model import Link

NOTES = {
    layout.DRIVER: "written by the registry's filesystem storage driver",
    layout.REGISTRY: "the registry's own folder",
    layout.VERSION: "storage layout version 2",
    layout.BLOB_ALGORITHM: "the hash algorithm",
    layout.FANOUT: "first two hex digits of the digest: keeps folders small",
    layout.BLOB_FOLDER: "one blob, named by the sha256 of its bytes",
    layout.LAYERS: "blobs (layers, config) this repository may serve",
    layout.LAYER_ALGORITHM: "one folder per blob, named by its digest",
    layout.MANIFESTS: "the manifests this repository knows",
    layout.REVISIONS: "every manifest ever pushed here, by digest",
    layout.REVISION_ALGORITHM: "one folder per manifest, named by its digest",
    layout.TAGS: "one folder per tag",
    layout.TAG: "a tag",
    layout.CURRENT: "where the tag points now",
    layout.TAG_INDEX: "every manifest the tag has pointed to",
    layout.TAG_INDEX_ALGORITHM: "one folder per manifest",
    layout.UPLOAD: "one upload session, named by a random id",
    layout.UPLOAD_STARTED: "when the upload began",
    layout.HASHSTATES: "saved hash state, to resume",
}
WIDTH = 46  # the notes' column


def _note(tree, links: Mapping[str, Link], path: str, found: Place | None, size: int) -> str:
    """One phrase saying what this folder or file is."""
    if found is None:
        return ""
    role, fields = found
    if role in NOTES:
        return NOTES[role]
    if role == layout.BLOB_STORE:
        return (f"the content: every blob stored once, named by its digest "
                f"({count(tree.blob_count, 'blob')}, {human(tree.blob_bytes)})")
    if role == layout.NAMES:
        return f"the names: only small link files, no image bytes ({count(tree.link_count, 'link')})"
    if role == layout.BLOB:
        blob = tree.blob(found.digest)
        if blob is None:
            return human(size)
        return f"{human(blob.size)}, {blob.kind}" + (", orphan: no manifest uses it" if blob.orphan else "")
    if role in layout.LINKS:
        link = links.get(path)
        if link is None or not link.target:
            return "an empty link"
        algo, _, hexd = link.target.partition(":")
        kind = tree.blob_kind(link.target)
        return f"→ {algo}:{short(hexd)} ({'no such blob!' if kind == 'missing' else kind})"
    if role == layout.REPOSITORY:
        repo = tree.repos.get(fields["repository"])
        if repo is None:
            return "a namespace: repositories inside"
        return (f"a repository: {count(len(repo.tags), 'tag')}, {count(len(repo.revisions), 'manifest')}, "
                f"{count(len(repo.layers), 'blob link')}")
    if role == layout.UPLOADS:
        repo = tree.repos.get(fields["repository"])
        n = len(repo.uploads) if repo else 0
        return "uploads in progress (or abandoned)" + (f": {n}" if n else "")
    if role == layout.UPLOAD_DATA:
        return f"{human(size)} received so far"
    return ""


def _label(name: str, is_dir: bool) -> str:
    if len(name) == 64 and all(c in "0123456789abcdef" for c in name):
        name = short(name)
    return name + ("/" if is_dir else "")


def text(tree, top: str, links: Mapping[str, Link]) -> str:
    """``tree``-like text of a :class:`~reglab.storage.Tree`: digests shortened, sizes shown,
    each level explained (``links``: path → :class:`Link` of every link file)."""
    files = tree.files
    children: dict[str, list[str]] = {}
    for path in [*tree.dirs, *files]:
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        children.setdefault(parent, []).append(path)
    lines = [f"{top.rstrip('/')}/"]

    def walk(parent: str, prefix: str) -> None:
        kids = sorted(children.get(parent, []))
        for i, path in enumerate(kids):
            is_dir = path not in files
            last = i == len(kids) - 1
            label = prefix + ("└── " if last else "├── ") + _label(path.rsplit("/", 1)[-1], is_dir)
            note = _note(tree, links, path, place(path, folder=is_dir), files.get(path, 0))
            lines.append(f"{label:<{WIDTH}}  {note}".rstrip() if note else label)
            walk(path, prefix + ("    " if last else "│   "))

    walk("", "")
    if len(lines) == 1:
        lines.append("(empty: nothing has been pushed to this registry yet)")
    return "\n".join(lines)


def summary(tree) -> str:
    """Two lines: what is stored, and what sharing saves."""
    kinds = ", ".join(f"{n} {k}{'' if n == 1 else 's'}" for k, (n, _) in tree.kinds().items())
    first = (f"{tree.blob_count} blobs ({kinds}), {human(tree.blob_bytes)} of image data; "
             f"{tree.file_count} files, {human(tree.physical_bytes)} in all") if tree.blob_count else \
        f"no blobs; {tree.file_count} files, {human(tree.physical_bytes)} in all"
    logical = tree.logical_bytes
    saved = logical - tree.blob_bytes
    images = len(tree.images())
    second = (f"stored apart, the {count(images, 'image')} would weigh {human(logical)}; "
              f"stored once each, the blobs weigh {human(tree.blob_bytes)}")
    if saved > 0:
        second += f" (sharing saves {human(saved)})"
    return first + "\n" + second
