"""Lab steps for looking inside the registry (notebook 03).

A mixin of :class:`reglab.lab.Lab`: reading the storage model (:mod:`reglab.storage`), the HTTP
API (:mod:`reglab.registry_api`) and the explorer widget (:mod:`reglab.widgets`) — following a
tag to its bytes, checking digests by hand, shared layers, catalog pages.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import images as course_images
from .engines.base import REGISTRY_DATA
from .errors import ReglabError
from .media import short_digest
from .reference import parse
from .storage import BLOBS, REPOS, Tree, blob_path, revision_link_path, tag_link_path
from .twin import Twin, docker
from .units import human


class InsideSteps:
    """Steps that read the registry's storage and API side by side."""


    def _storage(self, twin: str | None = None) -> tuple[Tree, str]:
        """The registry's storage as a model, and the folder it is shown under.

        A bind mount is read directly; a volume (or the container's own layer) through Docker's
        archive API, which also works with Docker Desktop.
        """
        registry = self._current()
        if registry.bind:
            if twin:
                self._twin(Twin.of(twin, str(registry.bind)))
            return Tree.from_path(registry.bind), str(registry.bind)
        if twin:
            self._twin(docker("container", "exec", registry.name, "find", REGISTRY_DATA))
        name = registry.name
        tree = Tree.from_archive(self.engine.read_archive(name, REGISTRY_DATA),
                                 reopen=lambda path: self.engine.read_archive(name, path), top=REGISTRY_DATA)
        return tree, REGISTRY_DATA

    def _on_disk(self, rel: str) -> str:
        registry = self._current()
        return f"{registry.bind}/{rel}" if registry.bind else f"{REGISTRY_DATA}/{rel}"

    def _storage_twin(self, *argv: str) -> None:
        """``argv`` run on the storage: as is for a bind mount, through ``docker exec`` otherwise."""
        registry = self._current()
        if registry.bind:
            self._twin(Twin.of(*argv))
        else:
            self._twin(docker("container", "exec", registry.name, *argv))

    def explore(self):
        """A widget to browse repositories → tags → manifest → config and layers → the file on disk."""
        from .widgets import Explorer

        tree, top = self._storage(twin="tree")
        return Explorer(tree, top)

    def make_image(self, reference: str, layers: list[tuple[str, int]], seed: str | None = None) -> str:
        """Make an image of several layers in Python and load it (``docker image load``).

        Each layer is one file of pseudo-random bytes, ``(path, size)``: the same path and size
        (and seed) always give the same layer, so two images can share one.
        """
        ref = parse(reference)
        seed = seed or f"reglab-{self.name}"
        built = [course_images.random_layer(path, size, seed) for path, size in layers]
        build = course_images.ImageBuild([ref.tagged], built, {"Cmd": ["/" + layers[-1][0]]})
        folder = self.workdir / "images"
        if not folder.exists():
            folder.mkdir(parents=True)
            self.state.add_dir(folder)
        archive = folder / f"{ref.repository.replace('/', '-')}-{ref.tag_or_default}.tar"
        data = course_images.docker_archive([build])
        archive.write_bytes(data)
        self._twin(docker("image", "load", "-i", str(archive)))
        existed = self.engine.image_info(ref.tagged) is not None
        self.engine.load_image_archive(data)
        if not existed:
            self._record(ref.tagged)
        parts = ", ".join(f"/{path} {human(size)}" for path, size in layers)
        self._say(f"loaded {ref.tagged}: {_layers(len(layers))} ({parts})")
        return ref.tagged

    def follow_tag(self, repository: str, tag: str = "latest") -> list[str]:
        """Follow a tag to its bytes: tag → ``current/link`` → revision → manifest → config and layers → ``data``.

        Returns the paths visited, in order.
        """
        tree, _ = self._storage()
        visited = []
        current = tag_link_path(repository, tag)
        self._storage_twin("cat", self._on_disk(current))
        digest = tree.tag_target(repository, tag)
        if not digest:
            raise ReglabError(f"{repository}:{tag} has no current/link in the storage: push it first "
                              "(lab.tree() shows what is there).")
        self._say(digest)
        self._say(f"1. the tag {tag} is a link file: it names the manifest {short_digest(digest)}")
        visited.append(current)
        revision = revision_link_path(repository, digest)
        self._storage_twin("cat", self._on_disk(revision))
        known = digest in tree.repos[repository].revisions
        self._say(digest if known else "(no such file)")
        self._say(f"2. {repository}/_manifests/revisions/ links it too: this repository may serve that manifest"
                  if known else f"2. {repository} does not list this manifest: pulls of {tag} fail")
        visited.append(revision)
        info = tree.manifest(digest)
        blob = tree.blob(digest)
        if blob is None or info is None:
            raise ReglabError(f"the manifest {short_digest(digest)} is missing from blobs/ (or is not JSON): "
                              "the storage is damaged; push the image again.")
        self._storage_twin("cat", self._on_disk(blob.path))
        self._say(f"3. the manifest is a blob like any other, {human(blob.size)} of JSON in "
                  f"{_short_path(blob.path)}: it names {_count(1 if info.config else 0, 'config')} and "
                  f"{_layers(len(info.layers))} by digest")
        visited.append(blob.path)
        parts = ([("config", info.config)] if info.config else []) + \
            [(f"layer {i}", d) for i, d in enumerate(info.layers, 1)]
        self._storage_twin("ls", "-l", *[self._on_disk(blob_path(d)) for _, d in parts])
        self._say("4. each of them is a blob too, and its data file holds the bytes:")
        width = max(len(label) for label, _ in parts) if parts else 0
        for label, part in parts:
            b = tree.blob(part)
            size = human(b.size) if b else "missing!"
            self._say(f"   {label:<{width}}  {short_digest(part)}  {size:>9}  {_short_path(blob_path(part))}")
            visited.append(blob_path(part))
        return visited

    def show_blob(self, digest: str):
        """Print a blob: pretty JSON for a manifest or config, the file list of a layer."""
        tree, _ = self._storage()
        blob = tree.blob(digest)
        if blob is None:
            raise ReglabError(f"the storage holds no blob {short_digest(digest)}: copy the digest from "
                              "lab.follow_tag() or lab.tree().")
        path = self._on_disk(blob.path)
        if blob.kind == "layer":
            self._storage_twin("tar", "-tvzf", path)
            files = tree.layer_files(digest)
            for name, size, kind in files:
                self._say(f"{'d' if kind == 'dir' else '-'} {size:>10}  {name}")
            self._say(f"(a {blob.kind}: a gzipped tar of {len(files)} entries, {human(blob.size)} compressed)")
            return files
        self._storage_twin("cat", path)
        body = tree.json(digest)
        self._say(json.dumps(body, indent=3))
        self._say(f"(the {blob.kind}: {human(blob.size)} of JSON)")
        return body

    def blob_path(self, digest: str) -> Path:
        """Where a blob's bytes lie on this machine (bind mounts only: a volume is Docker's to keep)."""
        registry = self._current()
        if not registry.bind:
            raise ReglabError(f"{registry.name} keeps its data in a volume, not in a folder of yours: copy a blob out "
                              f"with docker cp {registry.name}:{REGISTRY_DATA}/{blob_path(digest)} ., or run the "
                              "registry with bind=.")
        return registry.bind / blob_path(digest)

    def verify_blob(self, digest: str) -> None:
        """Hash one blob's ``data`` as ``sha256sum`` does and compare with its folder's name
        (raises :class:`~reglab.storage.BlobCorrupt` when they differ)."""
        tree, _ = self._storage()
        blob = tree.blob(digest)
        if blob is None:
            raise ReglabError(f"the storage holds no blob {short_digest(digest)}: check the digest.")
        path = self._on_disk(blob.path)
        self._storage_twin("sha256sum", path)
        tree.verify([digest])  # raises BlobCorrupt, naming what the bytes hash to
        hexd = digest.partition(":")[2]
        self._say(f"{hexd}  {path}")
        self._say("the sha256 of the bytes is the name of their folder: the blob is intact")

    def verify_blobs(self):
        """Hash every blob and check every link against its folder's name (``registry`` does this on read)."""
        tree, _ = self._storage()
        self._storage_twin("find", self._on_disk(BLOBS), "-name", "data", "-exec", "sha256sum", "{}", "+")
        result = tree.verify()
        self._say(str(result))
        return result

    def where_is(self, digest: str) -> list[str]:
        """Every file and folder named after a digest: the blob (once) and the links to it."""
        tree, top = self._storage()
        hexd = digest.partition(":")[2]
        self._storage_twin("find", top, "-name", hexd)
        blob = tree.blob(digest)
        links = tree.links_to(digest)
        found = ([blob.path.rsplit("/", 1)[0]] if blob else []) + [link.path.rsplit("/", 1)[0] for link in links]
        for rel in found:
            self._say(self._on_disk(rel))
        repos = sorted({link.path[len(REPOS) + 1:].split("/_")[0] for link in links})
        stored = f"stored once ({human(blob.size)}, a {blob.kind})" if blob else "not stored at all (missing!)"
        self._say(f"{short_digest(digest)} is {stored} and linked {_count(len(links), 'time')}, "
                  f"from {_count(len(repos), 'repository', 'repositories')}: {', '.join(repos)}")
        return [self._on_disk(rel) for rel in found]

    def disk_usage(self) -> Tree:
        """What the storage holds: blobs by kind, files, and what sharing saves."""
        registry = self._current()
        tree, top = self._storage()
        if registry.bind:
            self._twin(Twin.of("du", "-sb", top))
        else:
            self._twin(docker("container", "exec", registry.name, "du", "-sb", top))
        self._say(tree.summary())
        return tree

    def api_and_disk(self, repository: str, tag: str = "latest") -> list[tuple[str, str, str]]:
        """Ask the HTTP API about a tag and read the same facts from the disk, side by side."""
        from .registry_api import DOCKER_MANIFEST, OCI_MANIFEST

        registry = self._current()
        api = registry.api
        accept = f"{DOCKER_MANIFEST}, {OCI_MANIFEST}"
        self._say(f"$ {api.curl(f'/v2/{repository}/tags/list')}")
        tags = api.tags(repository)
        self._say(f"$ {api.curl(f'/v2/{repository}/manifests/{tag}', accept=DOCKER_MANIFEST)}")
        manifest = api.manifest(repository, tag, accept=accept)
        parts = ([("config", manifest.config)] if manifest.config else []) + \
            [(f"layer {i}", d) for i, d in enumerate(manifest.layers, 1)]
        heads = {}
        for label, digest in parts:
            self._say(f"$ {api.curl(f'/v2/{repository}/blobs/{digest}', head=True)}")
            heads[digest] = api.blob_head(repository, digest)
        tree, _ = self._storage()
        self._storage_twin("ls", self._on_disk(f"{REPOS}/{repository}/_manifests/tags"))
        self._storage_twin("cat", self._on_disk(f"{REPOS}/{repository}/_manifests/tags/{tag}/current/link"))
        repo = tree.repository(repository)
        on_disk = tree.tag_target(repository, tag) or "(none)"
        rows = [("what", "the HTTP API says", "the disk holds"),
                ("tags", ", ".join(tags), ", ".join(sorted(repo.tags))),
                ("manifest digest", manifest.digest, on_disk)]
        mblob = tree.blob(manifest.digest)
        rows.append(("manifest size", human(manifest.size), human(mblob.size) if mblob else "missing"))
        for label, digest in parts:
            blob = tree.blob(digest)
            rows.append((f"{label} size", human(heads[digest].size), human(blob.size) if blob else "missing"))
        width = [max(len(r[i]) for r in rows) for i in range(3)]
        for row in rows:
            self._say("  ".join(c.ljust(w) for c, w in zip(row, width)).rstrip())
        agree = all(r[1] == r[2] for r in rows[1:])
        self._say("every figure agrees: the API serves exactly what the disk holds" if agree else
                  "the API and the disk disagree: the storage changed under the registry (lab.verify_blobs())")
        return rows

    def catalog_pages(self, n: int) -> list[list[str]]:
        """The catalog ``n`` names at a time, following the ``Link`` header from page to page."""
        registry = self._current()
        api = registry.api
        pages = []
        for page in api.catalog_page_objects(n):
            self._say(f"$ curl -i '{page.url}'")
            self._say(json.dumps({"repositories": page.repositories}))
            self._say(f"Link: {page.link}" if page.link else "(no Link header: this is the last page)")
            pages.append(page.repositories)
        self._say(f"{_count(sum(map(len, pages)), 'repository', 'repositories')} in "
                  f"{_count(len(pages), 'page')} of at most {n}")
        return pages


def _layers(n: int) -> str:
    return f"{n} layer" + ("" if n == 1 else "s")


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _short_path(rel: str) -> str:
    """A storage path with its digest folder shortened, for reading (the twin above has it whole)."""
    parts = rel.split("/")
    return "/".join(p[:12] + "…" if len(p) == 64 else p for p in parts[3:])
