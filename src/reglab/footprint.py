"""Storage growth, push by push: snapshots of what the registry holds and what it costs.

*Logical* bytes are what the tagged images would weigh stored apart (each manifest, config
and layer counted once per image); *physical* bytes are what the disk holds. The gap is
deduplication: a base layer shared by ten images is stored once. Deleting a tag lowers the
logical figure at once, the physical one only after garbage collection.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ManifestUnknown
from .registry_api import RegistryClient
from .storage import Tree
from .units import human

MiB = 1024 * 1024


@dataclass(frozen=True)
class Snapshot:
    """The registry's storage at one moment."""

    label: str
    logical: int
    physical: int
    blobs: int
    layer_bytes: int
    config_bytes: int
    manifest_bytes: int
    metadata_bytes: int  # link files and everything else that is not a blob
    files: int
    tags: int

    def line(self) -> str:
        return (f"{human(self.physical)} on disk in {self.blobs} blobs; the {self.tags} tagged images "
                f"weigh {human(self.logical)} stored apart")


def measure(label: str, tree: Tree, api: RegistryClient) -> Snapshot:
    """A snapshot from the files on disk (physical) and the API's manifests (logical)."""
    logical = tags = 0
    for repository in api.catalog():
        try:
            names = api.tags(repository)
        except ManifestUnknown:  # a repository whose tags were all deleted answers 404
            names = []
        for tag in names:
            manifest = api.manifest(repository, tag)
            body = manifest.body
            logical += manifest.size + body.get("config", {}).get("size", 0)
            logical += sum(layer.get("size", 0) for layer in body.get("layers", []))
            tags += 1
    by_kind = {kind: size for kind, (_, size) in tree.kinds().items()}  # kinds read from the manifests
    blob_bytes = tree.blob_bytes
    return Snapshot(
        label=label,
        logical=logical,
        physical=tree.physical_bytes,
        blobs=tree.blob_count,
        layer_bytes=by_kind.get("layer", 0),
        config_bytes=by_kind.get("config", 0),
        manifest_bytes=by_kind.get("manifest", 0) + by_kind.get("image index", 0),
        metadata_bytes=tree.physical_bytes - blob_bytes,
        files=tree.file_count,
        tags=tags,
    )


class History(list):
    """Snapshots in order; prints as a plain table a learner can read (sizes in MiB)."""

    COLUMNS = ("#", "after", "logical MiB", "physical MiB", "blobs", "metadata KiB")

    def rows(self) -> list[tuple[str, ...]]:
        return [
            (str(i), s.label, f"{s.logical / MiB:.1f}", f"{s.physical / MiB:.1f}", str(s.blobs),
             f"{s.metadata_bytes / 1024:.1f}")
            for i, s in enumerate(self, 1)
        ]

    def __str__(self) -> str:
        rows = [self.COLUMNS, *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.COLUMNS))]
        aligned = []
        for r in rows:
            cells = [r[0].rjust(widths[0]), r[1].ljust(widths[1])]
            cells += [c.rjust(w) for c, w in zip(r[2:], widths[2:])]
            aligned.append("  ".join(cells).rstrip())
        return "\n".join(aligned)

    def __repr__(self) -> str:
        return str(self)
