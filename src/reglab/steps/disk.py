"""Steps that read the registry's storage and API side by side (notebooks 02 and 03).

Each step prints the command a learner would run on the registry's files — as is on a bind
mount, through ``docker container exec`` on a volume — runs that very command, and shows what
it printed; the lab's own reading follows on ``lab:`` lines. The model of the storage
(:meth:`reglab.engines.Engine.storage`) supplies those explanations.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from .. import errors, terminal
from ..engines import Engine
from ..engines.base import REGISTRY_DATA
from ..media import DOCKER_MANIFEST, OCI_MANIFEST, short_digest
from ..narrator import Narrator
from ..sandbox import Sandbox
from ..storage import BLOBS, ROOT, Tree, blob_path, layout, revision_link_path, tag_link_path
from ..twin import Twin
from ..units import count, human

SINGLE_IMAGE = (DOCKER_MANIFEST, OCI_MANIFEST)  # the manifest types of one image, as the twins ask for them


class DiskSteps:
    def __init__(self, narrator: Narrator, engine: Engine, sandbox: Sandbox):
        self.say, self.engine, self.sandbox = narrator, engine, sandbox

    # ------------------------------------------------------------------ running a twin on the storage

    def _tree(self) -> tuple[Tree, str]:
        """The current registry's storage as a model, and the folder the twins name."""
        registry = self.sandbox.current()
        return self.engine.containers.storage(registry.name), registry.top

    def _on_disk(self, rel: str) -> str:
        return self.sandbox.current().on_disk(rel)

    def _cd(self, rel: str) -> None:
        """``cd`` into a folder of the storage, for the twins that follow (bind mounts only: on a
        volume each ``docker container exec`` gets ``-w`` instead)."""
        if self.sandbox.current().bind:
            self.say.twin(Twin.of("cd", self._on_disk(rel)))

    def _run(self, *argv: str, pipe: Twin | None = None, cwd: str | None = None, wrap: int = 0) -> str:
        """Print the twin of ``argv`` (``| pipe``) run on the storage, run it, print and return its output.

        On a bind mount the command runs on this machine, in the folder itself; on a volume the
        engine runs it in the registry (``docker container exec``), and ``pipe`` runs here.
        """
        registry = self.sandbox.current()
        stages = pipe.stages if pipe else ()
        if registry.bind:
            twin = Twin(tuple(argv), stages, wrap)
            output = terminal.run(twin, cwd=registry.bind / cwd if cwd else None).text
        else:
            exec_args = ("container", "exec") + (("-w", f"{REGISTRY_DATA}/{cwd}") if cwd else ()) + (registry.name,)
            twin = Twin(("docker", *exec_args, *argv), stages, wrap + len(exec_args) + 1 if wrap else 0)
            workdir = f"{REGISTRY_DATA}/{cwd}" if cwd else None
            output = terminal.pipe_through(stages, self.engine.containers.exec(registry.name, list(argv), workdir).output)
        self.say.twin(twin)
        self.say.output(output)
        return output

    # ------------------------------------------------------------------ notebook 02

    def show_link(self, repository: str, tag: str = "latest") -> str:
        """Print a tag's ``current/link`` file: the digest of the manifest the tag points to."""
        self._run("cat", self._on_disk(tag_link_path(repository, tag)))
        target = self._tree()[0].tag_target(repository, tag)
        if target is None:
            raise errors.tag_not_stored(repository, tag)
        return target

    def tree(self, explain: bool = True) -> Tree:
        """Every file of the storage (``find -type f``), then — with ``explain`` — the same files as a
        tree with each level explained; without, one line saying what they are."""
        tree, top = self._tree()
        self._run("find", top, "-type", "f", pipe=Twin.of("sort"))
        if explain:
            self.say.explain(f"the same {count(tree.file_count, 'file')} as a tree, each level explained "
                             "(digests shortened):")
            self.say.say(tree.text(top))
        self.say.explain(tree.summary().splitlines()[0])
        return tree

    def explore(self):
        """A widget to browse repositories → tags → manifest → config and layers → the file on disk."""
        from ..widgets import Explorer

        tree, top = self._tree()
        return Explorer(tree, top)

    # ------------------------------------------------------------------ notebook 03

    def follow_tag(self, repository: str, tag: str = "latest") -> list[str]:
        """Follow a tag to its bytes: tag → ``current/link`` → revision → manifest → config and layers → ``data``.

        Returns the paths visited, in order (relative to the data folder).
        """
        tree, _ = self._tree()
        visited = []
        current = tag_link_path(repository, tag)
        self._cd(ROOT)
        self._run("cat", _in_v2(current), cwd=ROOT)
        digest = tree.tag_target(repository, tag)
        if not digest:
            raise errors.tag_has_no_current_link(repository, tag)
        self.say.explain(f"1. the tag {tag} is a link file: it names the manifest {short_digest(digest)}")
        visited.append(current)
        revision = revision_link_path(repository, digest)
        self._run("cat", _in_v2(revision), cwd=ROOT)
        known = digest in tree.repos[repository].revisions
        self.say.explain(f"2. {repository}/_manifests/revisions/ links it too: this repository may serve that manifest"
                         if known else f"2. {repository} does not list this manifest: pulls of {tag} fail")
        visited.append(revision)
        info, blob = tree.manifest(digest), tree.blob(digest)
        if blob is None or info is None:
            raise errors.manifest_missing_from_blobs(short_digest(digest))
        self._run("wc", "-c", _in_v2(blob.path), cwd=ROOT)
        self.say.explain(f"3. the manifest is a blob like any other, {human(blob.size)} of JSON under blobs/: it "
                         f"names {count(1 if info.config else 0, 'config')} and {count(len(info.layers), 'layer')} "
                         "by digest")
        visited.append(blob.path)
        parts = ([info.config] if info.config else []) + list(info.layers)
        self._run("wc", "-c", *[_in_v2(blob_path(d)) for d in parts], cwd=ROOT, wrap=2)
        sizes = [human(b.size) if (b := tree.blob(d)) else "missing!" for d in parts]
        config, layers = (sizes[0], sizes[1:]) if info.config else (None, sizes)
        self.say.explain("4. " + (f"the config ({config}) and " if config else "")
                         + f"the {count(len(layers), 'layer')} ({', '.join(layers)}) are blobs too: "
                         "their data files hold the bytes")
        visited += [blob_path(d) for d in parts]
        return visited

    def show_blob(self, digest: str):
        """Print a blob: a manifest or config as JSON, a layer as its file list (``tar -tvzf``)."""
        tree, _ = self._tree()
        blob = tree.blob(digest)
        if blob is None:
            raise errors.no_blob_to_show(short_digest(digest))
        path = _in_v2(blob.path)
        self._cd(ROOT)
        if blob.kind == "layer":
            self._run("tar", "-tvzf", path, cwd=ROOT)
            files = tree.layer_files(digest)
            self.say.explain(f"a layer: a gzipped tar of {count(len(files), 'entry', 'entries')}, "
                             f"{human(blob.size)} compressed")
            return files
        body = tree.json(digest)
        one_line = b"\n" not in tree.read(blob.path).rstrip(b"\n")
        if one_line and self.sandbox.current().bind:
            self._run("python3", "-m", "json.tool", path, cwd=ROOT)  # stored on one line: indent it to read it
            how = ", stored on one line (json.tool indents it)"
        else:
            self._run("cat", path, cwd=ROOT)
            how = ""
        self.say.explain(f"the {blob.kind}: {human(blob.size)} of JSON{how}")
        return body

    def blob_path(self, digest: str) -> Path:
        """Where a blob's bytes lie on this machine (bind mounts only: a volume is Docker's to keep)."""
        registry = self.sandbox.current()
        if not registry.bind:
            raise errors.data_in_volume(registry.name, REGISTRY_DATA, blob_path(digest))
        return registry.bind / blob_path(digest)

    def verify_blob(self, digest: str) -> str:
        """Hash one blob's ``data`` with ``sha256sum`` and compare the result with its folder's name;
        return the digest the bytes hash to (raises :class:`~reglab.storage.BlobCorrupt` if it differs)."""
        tree, _ = self._tree()
        blob = tree.blob(digest)
        if blob is None:
            raise errors.no_blob_check_digest(short_digest(digest))
        self._cd(ROOT)
        output = self._run("sha256sum", _in_v2(blob.path), cwd=ROOT)
        computed = "sha256:" + (output.split() or [""])[0]
        if computed != digest:
            raise errors.bytes_hash_elsewhere(short_digest(digest), short_digest(computed))
        self.say.explain(f"the sha256 of the bytes, {short_digest(computed)}, is the name of their folder: "
                         "the blob is intact")
        return computed

    def verify_blobs(self):
        """Hash every blob and check every link against its folder's name (``registry`` does this on read)."""
        tree, _ = self._tree()
        self._cd(ROOT)
        self._run("find", _in_v2(BLOBS), "-name", "data", "-exec", "sha256sum", "{}", "+", pipe=Twin.of("sort"),
                  cwd=ROOT)
        result = tree.verify()
        self.say.explain(str(result))
        return result

    def where_is(self, digest: str) -> list[str]:
        """Every file and folder named after a digest: the blob (once) and the links to it."""
        tree, _ = self._tree()
        hexd = digest.partition(":")[2]
        self._cd(ROOT)
        output = self._run("find", ".", "-name", hexd, pipe=Twin.of("sort"), cwd=ROOT)
        blob = tree.blob(digest)
        links = tree.links_to(digest)
        repos = sorted({layout.place(link.path, folder=False).fields["repository"] for link in links})
        stored = f"stored once ({human(blob.size)}, a {blob.kind})" if blob else "not stored at all (missing!)"
        self.say.explain(f"{short_digest(digest)} is {stored} under blobs/ and linked "
                         f"{count(len(links), 'time')}, from {count(len(repos), 'repository', 'repositories')}: "
                         f"{', '.join(repos)}")
        return [self._on_disk(f"{ROOT}/{line[2:]}") for line in output.splitlines() if line.startswith("./")]

    def disk_usage(self) -> Tree:
        """What the storage holds: ``du -sb``, then blobs by kind, files, and what sharing saves."""
        tree, top = self._tree()
        self._run("du", "-sb", top)
        lines = tree.summary().splitlines()
        # not the number of files: an upload Docker started and dropped (a cross-repository mount it
        # tried from a repository it remembers from an earlier run) leaves a file under _uploads/
        kinds = ", ".join(f"{n} {k}{'' if n == 1 else 's'}" for k, (n, _) in tree.kinds().items())
        self.say.explain(f"{count(tree.blob_count, 'blob')} ({kinds}), {human(tree.blob_bytes)} of image data, "
                         f"named by {count(tree.link_count, 'link file')} under repositories/ (du also counts the "
                         "folders, and any upload in progress under _uploads/)")
        for line in lines[1:]:
            self.say.explain(line)
        return tree

    def api_and_disk(self, repository: str, tag: str = "latest") -> list[tuple[str, str, str]]:
        """Ask the HTTP API about a tag and read the same facts from the disk, side by side."""
        registry = self.sandbox.current()
        api = registry.api
        self.say.twin(api.curl(f"/v2/{repository}/tags/list"))
        tags = api.tags(repository)
        self.say.twin(api.curl(f"/v2/{repository}/manifests/{tag}", accept=SINGLE_IMAGE))
        manifest = api.manifest(repository, tag, accept=SINGLE_IMAGE)  # exactly what the twin asks
        parts = ([("config", manifest.config)] if manifest.config else []) + \
            [(f"layer {i}", d) for i, d in enumerate(manifest.layers, 1)]
        heads = {}
        for label, digest in parts:
            self.say.twin(api.curl(f"/v2/{repository}/blobs/{digest}", head=True))
            heads[digest] = api.blob_head(repository, digest)
        tree, _ = self._tree()
        self.say.twin(registry.storage_command("ls", self._on_disk(layout.path(layout.TAGS, repository=repository))))
        self.say.twin(registry.storage_command("cat", self._on_disk(tag_link_path(repository, tag))))
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
        self.say.explain("what those commands answer (Docker-Content-Digest, Content-Length), beside the files:")
        for row in rows:
            self.say.say("  ".join(c.ljust(w) for c, w in zip(row, width)).rstrip())
        agree = all(r[1] == r[2] for r in rows[1:])
        self.say.explain("every figure agrees: the API answered from these files" if agree else
                         "the API and the disk disagree: the storage changed under the registry "
                         "(lab.storage.verify_blobs())")
        return rows

    def without_accept(self, repository: str, tag: str = "latest") -> str:
        """``GET`` a manifest by tag with no ``Accept`` header of ours (curl sends ``*/*``) and print
        the status, type and digest of the answer, as the twin's ``curl -w`` prints them; return
        that digest. registry:3 sends the manifest as stored; the tag's link on disk says which."""
        api = self.sandbox.current().api
        url = api.url(f"/v2/{repository}/manifests/{tag}")
        twin = Twin.of("curl", "-s", "-o", "/dev/null", "-w",
                       "%{http_code} %{content_type} %header{docker-content-digest}\\n", url)
        output = terminal.run(twin).text if shutil.which("curl") else ""
        if not re.fullmatch(r"\d{3} \S* \S*\n", output):  # no curl here, or one older than 7.84 (%header)
            answer = api.request("GET", f"/v2/{repository}/manifests/{tag}", ok=tuple(range(100, 600)),
                                 headers={"Accept": "*/*"})
            output = (f"{answer.status_code} {answer.headers.get('Content-Type', '')} "
                      f"{answer.headers.get('Docker-Content-Digest', '')}\n")
        self.say.twin(twin)
        self.say.output(output.rstrip("\n"))
        digest = output.split()[-1] if len(output.split()) == 3 else ""
        stored = self._tree()[0].tag_target(repository, tag)
        if digest and digest == stored:
            self.say.explain("the digest of the manifest as stored, the one the tag's link names: registry:3 sends "
                             "a Docker schema 2 manifest as it was pushed, whatever Accept says")
        else:
            self.say.explain(f"not the stored manifest {short_digest(stored or '?')}: this registry answered "
                             f"{output.split()[0] if output.split() else 'nothing'} (registry:2 rewrites a schema 2 "
                             "manifest into schema 1 for a client that does not name schema 2)")
        return digest

    def catalog_pages(self, n: int) -> list[list[str]]:
        """The catalog ``n`` names at a time, following the ``Link`` header from page to page."""
        api = self.sandbox.current().api
        pages = []
        for page in api.catalog_pages(n):
            # the Link header comes before the body, as curl -i prints them; grep keeps those two lines
            self.say.twin(Twin.of("curl", "-si", page.url) | Twin.of("grep", "-E", r"^(Link:|\{)"))
            self.say.output((f"Link: {page.link}\n" if page.link else "")
                            + json.dumps({"repositories": page.repositories}, separators=(",", ":")))
            if not page.link:
                self.say.explain("no Link header: this is the last page")
            pages.append(page.repositories)
        self.say.explain(f"{count(sum(map(len, pages)), 'repository', 'repositories')} in "
                         f"{count(len(pages), 'page')} of at most {n}")
        return pages


def _in_v2(rel: str) -> str:
    """A storage path relative to ``docker/registry/v2`` (the folder follow_tag works in)."""
    return rel[len(ROOT) + 1:] if rel.startswith(ROOT + "/") else rel
