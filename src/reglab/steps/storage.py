"""Steps that read the registry's storage and API side by side (notebooks 02 and 03).

The storage is the engine's to read (:meth:`reglab.engines.Engine.storage`: a bind folder where
it lies, a volume through Docker's archive API); each step prints the command a learner would
run on those files — as is for a bind mount, through ``docker container exec`` otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..engines import Engine
from ..engines.base import REGISTRY_DATA
from ..errors import ReglabError
from ..media import DOCKER_MANIFEST, OCI_MANIFEST, short_digest
from ..narrator import Narrator
from ..sandbox import Sandbox
from ..storage import BLOBS, Tree, blob_path, layout, revision_link_path, tag_link_path
from ..twin import Twin, docker
from ..units import count, human


class StorageSteps:
    def __init__(self, narrator: Narrator, engine: Engine, sandbox: Sandbox):
        self.say, self.engine, self.sandbox = narrator, engine, sandbox

    def _storage(self, twin: str | None = None) -> tuple[Tree, str]:
        """The current registry's storage as a model, and the folder it is shown under."""
        registry = self.sandbox.current()
        if twin:
            self.say.twin(Twin.of(twin, registry.top) if registry.bind else
                          docker("container", "exec", registry.name, "find", REGISTRY_DATA))
        return self.engine.storage(registry.name), registry.top

    def _on_disk(self, rel: str) -> str:
        return self.sandbox.current().on_disk(rel)

    def _storage_twin(self, *argv: str) -> None:
        self.say.twin(self.sandbox.current().storage_command(*argv))

    def show_link(self, repository: str, tag: str = "latest") -> str:
        """Print a tag's ``current/link`` file: the digest of the manifest the tag points to."""
        self._storage_twin("cat", self._on_disk(tag_link_path(repository, tag)))
        target = self._storage()[0].tag_target(repository, tag)
        if target is None:
            raise ReglabError(f"{repository}:{tag} has no link file in the registry's storage: push it first.")
        self.say.say(target)
        return target

    def tree(self) -> Tree:
        """The registry's files, like ``tree``, with each level explained."""
        tree, top = self._storage(twin="tree")
        self.say.say(tree.text(top))
        self.say.say(tree.summary())
        return tree

    def explore(self):
        """A widget to browse repositories → tags → manifest → config and layers → the file on disk."""
        from ..widgets import Explorer

        tree, top = self._storage(twin="tree")
        return Explorer(tree, top)

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
                              "(lab.storage.tree() shows what is there).")
        self.say.say(digest)
        self.say.say(f"1. the tag {tag} is a link file: it names the manifest {short_digest(digest)}")
        visited.append(current)
        revision = revision_link_path(repository, digest)
        self._storage_twin("cat", self._on_disk(revision))
        known = digest in tree.repos[repository].revisions
        self.say.say(digest if known else "(no such file)")
        self.say.say(f"2. {repository}/_manifests/revisions/ links it too: this repository may serve that manifest"
                  if known else f"2. {repository} does not list this manifest: pulls of {tag} fail")
        visited.append(revision)
        info = tree.manifest(digest)
        blob = tree.blob(digest)
        if blob is None or info is None:
            raise ReglabError(f"the manifest {short_digest(digest)} is missing from blobs/ (or is not JSON): "
                              "the storage is damaged; push the image again.")
        self._storage_twin("cat", self._on_disk(blob.path))
        self.say.say(f"3. the manifest is a blob like any other, {human(blob.size)} of JSON in "
                  f"{_short_path(blob.path)}: it names {count(1 if info.config else 0, 'config')} and "
                  f"{count(len(info.layers), 'layer')} by digest")
        visited.append(blob.path)
        parts = ([("config", info.config)] if info.config else []) + \
            [(f"layer {i}", d) for i, d in enumerate(info.layers, 1)]
        self._storage_twin("ls", "-l", *[self._on_disk(blob_path(d)) for _, d in parts])
        self.say.say("4. each of them is a blob too, and its data file holds the bytes:")
        width = max(len(label) for label, _ in parts) if parts else 0
        for label, part in parts:
            b = tree.blob(part)
            size = human(b.size) if b else "missing!"
            self.say.say(f"   {label:<{width}}  {short_digest(part)}  {size:>9}  {_short_path(blob_path(part))}")
            visited.append(blob_path(part))
        return visited

    def show_blob(self, digest: str):
        """Print a blob: pretty JSON for a manifest or config, the file list of a layer."""
        tree, _ = self._storage()
        blob = tree.blob(digest)
        if blob is None:
            raise ReglabError(f"the storage holds no blob {short_digest(digest)}: copy the digest from "
                              "lab.storage.follow_tag() or lab.storage.tree().")
        path = self._on_disk(blob.path)
        if blob.kind == "layer":
            self._storage_twin("tar", "-tvzf", path)
            files = tree.layer_files(digest)
            for name, size, kind in files:
                self.say.say(f"{'d' if kind == 'dir' else '-'} {size:>10}  {name}")
            self.say.say(f"(a {blob.kind}: a gzipped tar of {len(files)} entries, {human(blob.size)} compressed)")
            return files
        self._storage_twin("cat", path)
        body = tree.json(digest)
        self.say.say(json.dumps(body, indent=3))
        self.say.say(f"(the {blob.kind}: {human(blob.size)} of JSON)")
        return body

    def blob_path(self, digest: str) -> Path:
        """Where a blob's bytes lie on this machine (bind mounts only: a volume is Docker's to keep)."""
        registry = self.sandbox.current()
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
        self.say.say(f"{hexd}  {path}")
        self.say.say("the sha256 of the bytes is the name of their folder: the blob is intact")

    def verify_blobs(self):
        """Hash every blob and check every link against its folder's name (``registry`` does this on read)."""
        tree, _ = self._storage()
        self._storage_twin("find", self._on_disk(BLOBS), "-name", "data", "-exec", "sha256sum", "{}", "+")
        result = tree.verify()
        self.say.say(str(result))
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
            self.say.say(self._on_disk(rel))
        repos = sorted({layout.place(link.path, folder=False).fields["repository"] for link in links})
        stored = f"stored once ({human(blob.size)}, a {blob.kind})" if blob else "not stored at all (missing!)"
        self.say.say(f"{short_digest(digest)} is {stored} and linked {count(len(links), 'time')}, "
                  f"from {count(len(repos), 'repository', 'repositories')}: {', '.join(repos)}")
        return [self._on_disk(rel) for rel in found]

    def disk_usage(self) -> Tree:
        """What the storage holds: blobs by kind, files, and what sharing saves."""
        registry = self.sandbox.current()
        tree, top = self._storage()
        if registry.bind:
            self.say.twin(Twin.of("du", "-sb", top))
        else:
            self.say.twin(docker("container", "exec", registry.name, "du", "-sb", top))
        self.say.say(tree.summary())
        return tree

    def api_and_disk(self, repository: str, tag: str = "latest") -> list[tuple[str, str, str]]:
        """Ask the HTTP API about a tag and read the same facts from the disk, side by side."""
        registry = self.sandbox.current()
        api = registry.api
        accept = f"{DOCKER_MANIFEST}, {OCI_MANIFEST}"
        self.say.twin(api.curl(f'/v2/{repository}/tags/list'))
        tags = api.tags(repository)
        self.say.twin(api.curl(f'/v2/{repository}/manifests/{tag}', accept=DOCKER_MANIFEST))
        manifest = api.manifest(repository, tag, accept=accept)
        parts = ([("config", manifest.config)] if manifest.config else []) + \
            [(f"layer {i}", d) for i, d in enumerate(manifest.layers, 1)]
        heads = {}
        for label, digest in parts:
            self.say.twin(api.curl(f'/v2/{repository}/blobs/{digest}', head=True))
            heads[digest] = api.blob_head(repository, digest)
        tree, _ = self._storage()
        self._storage_twin("ls", self._on_disk(layout.path(layout.TAGS, repository=repository)))
        self._storage_twin("cat", self._on_disk(tag_link_path(repository, tag)))
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
            self.say.say("  ".join(c.ljust(w) for c, w in zip(row, width)).rstrip())
        agree = all(r[1] == r[2] for r in rows[1:])
        self.say.say("every figure agrees: the API serves exactly what the disk holds" if agree else
                  "the API and the disk disagree: the storage changed under the registry (lab.storage.verify_blobs())")
        return rows

    def catalog_pages(self, n: int) -> list[list[str]]:
        """The catalog ``n`` names at a time, following the ``Link`` header from page to page."""
        registry = self.sandbox.current()
        api = registry.api
        pages = []
        for page in api.catalog_pages(n):
            self.say.say(f"$ curl -i '{page.url}'")
            self.say.say(json.dumps({"repositories": page.repositories}))
            self.say.say(f"Link: {page.link}" if page.link else "(no Link header: this is the last page)")
            pages.append(page.repositories)
        self.say.say(f"{count(sum(map(len, pages)), 'repository', 'repositories')} in "
                  f"{count(len(pages), 'page')} of at most {n}")
        return pages


def _short_path(rel: str) -> str:
    """A storage path with its digest folder shortened, for reading (the twin above has it whole)."""
    parts = rel.split("/")
    return "/".join(p[:12] + "…" if len(p) == 64 else p for p in parts[3:])
