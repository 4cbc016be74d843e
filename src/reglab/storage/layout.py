"""The filesystem driver's on-disk layout: one table, read by every part of :mod:`reglab.storage`.

The registry keeps everything under ``docker/registry/v2`` of its data directory:

- ``blobs/sha256/<2 hex>/<hex>/data`` holds the bytes, each blob once, in a folder named by the
  sha256 of its content (*content addressing*, hence deduplication);
- ``repositories/<name>/`` holds only small ``link`` files naming blobs by digest: ``_layers/``
  (blobs the repository may serve), ``_manifests/revisions/`` (every manifest pushed there),
  ``_manifests/tags/<tag>/current/link`` (what the tag means now) and ``…/index/`` (what it meant
  before), plus ``_uploads/`` for pushes in progress.

:data:`LAYOUT` says so once, as rows of (shape, role). From it come the path builders
(:func:`path`, :func:`blob_path`, …), the recogniser (:func:`place`: what is this path?) and the
tree of :class:`Shape` the folder reader walks (:data:`TOP`). The folder reader, the archive
reader and the renderer all read this table; none of them spells a path shape of its own.
"""

from __future__ import annotations

from typing import NamedTuple

from .. import errors
from ..media import split_digest

ROOT = "docker/registry/v2"
BLOBS = f"{ROOT}/blobs"
REPOS = f"{ROOT}/repositories"

# roles: what a folder or file at a place of the layout is
DRIVER, REGISTRY, VERSION = "driver folder", "registry folder", "layout version"
BLOB_STORE, BLOB_ALGORITHM, FANOUT, BLOB_FOLDER, BLOB = (
    "blob store", "blob algorithm", "fan-out", "blob folder", "blob")
NAMES, REPOSITORY = "repositories", "repository"  # REPOSITORY: a repository, or a namespace holding some
LAYERS, LAYER_ALGORITHM, LAYER_FOLDER, LAYER_LINK = "layers", "layer algorithm", "layer folder", "layer link"
MANIFESTS = "manifests"
REVISIONS, REVISION_ALGORITHM, REVISION_FOLDER, REVISION_LINK = (
    "revisions", "revision algorithm", "revision folder", "revision link")
TAGS, TAG, CURRENT, TAG_LINK = "tags", "tag", "current", "tag link"
TAG_INDEX, TAG_INDEX_ALGORITHM, TAG_INDEX_FOLDER, TAG_INDEX_LINK = (
    "tag index", "tag index algorithm", "tag index folder", "tag index link")
UPLOADS, UPLOAD, UPLOAD_DATA, UPLOAD_STARTED = "uploads", "upload", "upload data", "upload start"
HASHSTATES, HASHSTATE_ALGORITHM, HASHSTATE = "hash states", "hash state algorithm", "hash state"

# The table: every folder (ending in /) and file the filesystem driver writes, relative to the data
# directory. {field} is one path component, {repository} one or more (names hold slashes), and
# {algo=sha256} a field with a single value (the registry names manifests by sha256 only).
_V2 = f"{ROOT}/"
_REPO = f"{REPOS}/{{repository}}/"
_TAG = f"{_REPO}_manifests/tags/{{tag}}/"
_UPLOAD = f"{_REPO}_uploads/{{uuid}}/"
LAYOUT: tuple[tuple[str, str], ...] = (
    ("docker/", DRIVER),
    ("docker/registry/", REGISTRY),
    (_V2, VERSION),
    (_V2 + "blobs/", BLOB_STORE),
    (_V2 + "blobs/{algo}/", BLOB_ALGORITHM),
    (_V2 + "blobs/{algo}/{two}/", FANOUT),
    (_V2 + "blobs/{algo}/{two}/{hex}/", BLOB_FOLDER),
    (_V2 + "blobs/{algo}/{two}/{hex}/data", BLOB),
    (_V2 + "repositories/", NAMES),
    (_REPO, REPOSITORY),
    (_REPO + "_layers/", LAYERS),
    (_REPO + "_layers/{algo}/", LAYER_ALGORITHM),
    (_REPO + "_layers/{algo}/{hex}/", LAYER_FOLDER),
    (_REPO + "_layers/{algo}/{hex}/link", LAYER_LINK),
    (_REPO + "_manifests/", MANIFESTS),
    (_REPO + "_manifests/revisions/", REVISIONS),
    (_REPO + "_manifests/revisions/{algo}/", REVISION_ALGORITHM),
    (_REPO + "_manifests/revisions/{algo}/{hex}/", REVISION_FOLDER),
    (_REPO + "_manifests/revisions/{algo}/{hex}/link", REVISION_LINK),
    (_REPO + "_manifests/tags/", TAGS),
    (_TAG, TAG),
    (_TAG + "current/", CURRENT),
    (_TAG + "current/link", TAG_LINK),
    (_TAG + "index/", TAG_INDEX),
    (_TAG + "index/{algo=sha256}/", TAG_INDEX_ALGORITHM),
    (_TAG + "index/{algo=sha256}/{hex}/", TAG_INDEX_FOLDER),
    (_TAG + "index/{algo=sha256}/{hex}/link", TAG_INDEX_LINK),
    (_REPO + "_uploads/", UPLOADS),
    (_UPLOAD, UPLOAD),
    (_UPLOAD + "data", UPLOAD_DATA),
    (_UPLOAD + "startedat", UPLOAD_STARTED),
    (_UPLOAD + "hashstates/", HASHSTATES),
    (_UPLOAD + "hashstates/{algo}/", HASHSTATE_ALGORITHM),
    (_UPLOAD + "hashstates/{algo}/{offset}", HASHSTATE),
)
# Folders whose content the registry fixes to the table's rows: a reader may open those by name
# instead of listing the folder (a tag folder holds current/ and index/, index/ holds sha256/).
OPENED_BY_NAME = frozenset({TAG, TAG_INDEX})
# Files whose content matters (a tag's link is read: only its content says where it points; a
# digest-named folder's link holds that same digest, which Tree.verify checks).
READ_CONTENT = frozenset({TAG_LINK, UPLOAD_STARTED})
LINKS = frozenset({LAYER_LINK, REVISION_LINK, TAG_LINK, TAG_INDEX_LINK})
_MANY = {"repository"}  # fields spanning one or more components


class Shape:
    """One place of the layout: the role of a folder or file found there, and what lies below."""

    __slots__ = ("by_name", "children", "field", "file", "folder", "leaf", "var")

    def __init__(self, field: str | None = None):
        self.folder: str | None = None  # role of a folder here
        self.file: str | None = None  # role of a file here
        self.field = field  # the field this component fills
        self.children: dict[str, Shape] = {}  # fixed names
        self.var: Shape | None = self if field in _MANY else None  # any other name (a repeating field: itself)
        self.leaf: str | None = None  # a folder holding exactly one file: its name
        self.by_name = False  # see OPENED_BY_NAME


def _build() -> tuple[Shape, dict[str, str], dict[str, tuple[tuple[str, str], ...]], dict[str, str]]:
    top, formats, only, leaves = Shape(), {}, {}, {}
    for pattern, role in LAYOUT:
        node, fmt, fixed = top, [], []
        for part in pattern.rstrip("/").split("/"):
            if part.startswith("{"):
                name, _, value = part[1:-1].partition("=")
                if value:
                    node = node.children.setdefault(value, Shape(name))
                    fixed.append((name, value))
                    fmt.append(value)
                    continue
                if node.var is None:
                    node.var = Shape(name)
                node = node.var
                fmt.append(f"{{{name}}}")
            else:
                node = node.children.setdefault(part, Shape())
                fmt.append(part)
        if pattern.endswith("/"):
            node.folder, node.by_name = role, role in OPENED_BY_NAME
        else:
            node.file = role
        formats[role], only[role] = "/".join(fmt), tuple(fixed)
    stack, seen = [top], set()
    while stack:  # every shape once (a repository's shape is its own var)
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        kids = list(node.children.values())
        if node.folder and node.var is None and len(kids) == 1 and kids[0].file and not kids[0].folder:
            node.leaf = leaves[node.folder] = next(iter(node.children))
        stack.extend(kids + ([node.var] if node.var else []))
    return top, formats, only, leaves


TOP, _FORMATS, _ONLY, LEAF = _build()  # LEAF: folder role → the one file such a folder holds


class Place(NamedTuple):
    """What a path is: its role in the layout and the fields its components fill
    (``repository``, ``tag``, ``uuid``, ``algo``, ``hex``…)."""

    role: str
    fields: dict[str, str]

    @property
    def digest(self) -> str:
        return f"{self.fields['algo']}:{self.fields['hex']}"


def place(path: str, folder: bool) -> Place | None:
    """What the folder (or file) at ``path`` (relative to the data directory) is; None for a
    path the registry does not write."""
    node, fields = TOP, {}
    for part in path.split("/"):
        below = node.children.get(part) or node.var
        if below is None:
            return None
        if below.field:
            fields[below.field] = f"{fields[below.field]}/{part}" if below is node else part
        node = below
    role = node.folder if folder else node.file
    return Place(role, fields) if role else None


# --------------------------------------------------------------------- builders


def path(role: str, **fields: str) -> str:
    """Where the filesystem driver keeps ``role``, relative to the data directory (a folder
    without its trailing slash); ``digest=`` fills ``algo``, ``two`` and ``hex``."""
    digest = fields.pop("digest", None)
    if digest is not None:
        algo, hexd = split_digest(digest)
        fields.update(algo=algo, two=hexd[:2], hex=hexd)
    for name, value in _ONLY[role]:
        if fields.get(name, value) != value:
            raise errors.layout_only(role, value, fields[name])
    return _FORMATS[role].format_map(fields)


_BLOB = _FORMATS[BLOB]


def blob_path(digest: str) -> str:
    """Where the filesystem driver keeps a blob's bytes (relative to the data directory)."""
    algo, hexd = split_digest(digest)
    return _BLOB.format(algo=algo, two=hexd[:2], hex=hexd)


def layer_link_path(repository: str, digest: str) -> str:
    return path(LAYER_LINK, repository=repository, digest=digest)


def revision_link_path(repository: str, digest: str) -> str:
    return path(REVISION_LINK, repository=repository, digest=digest)


def tag_link_path(repository: str, tag: str) -> str:
    return path(TAG_LINK, repository=repository, tag=tag)


def tag_index_path(repository: str, tag: str, digest: str) -> str:
    return path(TAG_INDEX_LINK, repository=repository, tag=tag, digest=digest)


def upload_path(repository: str, uuid: str) -> str:
    return path(UPLOAD, repository=repository, uuid=uuid)
