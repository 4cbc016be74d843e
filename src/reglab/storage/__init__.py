"""The registry's storage, read into a model: what ``tree`` shows, explained.

- :mod:`.layout`: the filesystem driver's on-disk layout, one table (path builders, recogniser);
- :mod:`.model`: the records (blobs, links, tags, uploads, repositories, manifests) and the
  inventory the readers fill;
- :mod:`.folder` (a host folder, fast) and :mod:`.archive` (a tar stream from Docker's archive
  API): the readers;
- :mod:`.tree`: :class:`Tree`, the model a lab step, a check or a widget asks;
- :mod:`.render`: the annotated ``tree`` text and the summary.
"""

from .layout import (
    BLOBS,
    REPOS,
    ROOT,
    blob_path,
    layer_link_path,
    revision_link_path,
    tag_index_path,
    tag_link_path,
    upload_path,
)
from .model import (
    Blob,
    BlobCorrupt,
    Link,
    ManifestInfo,
    Problem,
    Repository,
    StorageError,
    Tag,
    Upload,
    Verification,
)
from .tree import Tree

__all__ = [
    "BLOBS", "REPOS", "ROOT", "Blob", "BlobCorrupt", "Link", "ManifestInfo", "Problem", "Repository",
    "StorageError", "Tag", "Tree", "Upload", "Verification", "blob_path", "layer_link_path",
    "revision_link_path", "tag_index_path", "tag_link_path", "upload_path",
]
