"""Steps for storage growth, deletion and garbage collection (notebook 04)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import terminal
from ..engines import Engine
from .. import errors
from ..footprint import History, Snapshot, measure
from ..media import ACCEPT_ALL
from ..narrator import Narrator
from ..progress import Bar
from ..reference import parse
from ..registries import Registries
from ..registry_api import error_for
from ..sandbox import Sandbox
from ..twin import Raw, Twin, docker
from ..units import human

DELETE_ENABLED = "REGISTRY_STORAGE_DELETE_ENABLED"
READ_ONLY = "REGISTRY_STORAGE_MAINTENANCE_READONLY"
_GC_SUMMARY = re.compile(r"(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion")
_GC_LINK = re.compile(r"^\S+: layer link eligible for deletion: ", re.MULTILINE)  # registry:3 (PR #4344)


@dataclass(frozen=True)
class Collection:
    """What one ``registry garbage-collect`` run found (and, unless a dry run, deleted)."""

    dry_run: bool
    marked: int  # blobs still referenced: kept
    blobs: int  # blobs eligible for deletion
    manifests: int  # manifests eligible for deletion (untagged ones, with --delete-untagged)
    output: str
    links: int = 0  # repositories' _layers links of the deleted blobs (registry:3 removes them; 2.8 leaves them)


class GrowthSteps:
    """Push series and measure them, delete by digest, collect garbage; restarts go through the lab's registries."""

    def __init__(self, narrator: Narrator, engine: Engine, sandbox: Sandbox, registries: Registries):
        self.say, self.engine, self.sandbox, self.registries = narrator, engine, sandbox, registries

    def push_series(self, references: list[str]) -> History:
        """Push images one after another, measuring the registry's storage after each push."""
        history = History()
        bar = Bar(len(references), "pushes", unit="image") if self.say.echo else None
        echo = self.say.echo
        try:
            before = self._snapshot("start")
            for reference in references:
                ref = parse(reference)
                result = self.engine.images.push(reference, auth=self.sandbox.credentials(ref.registry))
                label = f"{ref.repository}:{ref.tag_or_default}"
                snap = self._snapshot(label)
                history.append(snap)
                if echo:
                    self.say.twin(docker("image", "push", reference))  # (in the twin log: the replay types it)
                    print(f"  {result.moved} layer(s) sent, {result.already} already there; disk "
                          f"+{human(snap.physical - before.physical)} → {human(snap.physical)}")
                before = snap
                if bar:
                    bar.step()
        finally:
            if bar:
                bar.close()
        return history

    # ------------------------------------------------------------------ measuring

    def _snapshot(self, label: str) -> Snapshot:
        registry = self.sandbox.current()
        return measure(label, self.engine.containers.storage(registry.name), registry.api)

    def measure(self, label: str) -> Snapshot:
        """How much the registry stores now: ``du -sb`` (run for real), then the lab's count of
        bytes in blobs and what the tagged images weigh."""
        registry = self.sandbox.current()
        twin = registry.storage_command("du", "-sb", registry.top)
        self.say.twin(twin)
        if registry.bind:
            self.say.output(terminal.run(twin).text)
        else:
            self.say.output(self.engine.containers.exec(registry.name, ["du", "-sb", registry.top]).output)
        snap = self._snapshot(label)
        self.say.explain(snap.line())
        return snap

    # ------------------------------------------------------------------ deleting

    def manifest_digest(self, reference: str, accept: str | tuple[str, ...] | None = ACCEPT_ALL) -> str:
        """The digest the registry reports for a tag; it depends on the ``Accept`` header sent.

        Without one (curl then sends ``*/*``) a 2.8 registry rewrites a schema-2 manifest to the
        old schema 1 and reports *that* document's digest; an OCI manifest then answers 404. With
        every manifest type (the default, as ``docker pull`` sends them) it reports the digest of
        the manifest as stored — the one ``DELETE`` takes.
        """
        registry = self.sandbox.current()
        ref = parse(reference)
        types = (accept,) if isinstance(accept, str) else tuple(accept or ())
        url = f"{registry.url}/v2/{ref.repository}/manifests/{ref.tag_or_default}"
        headers = [Raw(f"-H 'Accept: {t}'") for t in types]
        twin = Twin(("curl", "-sI", url, *headers), wrap=3 if len(headers) > 1 else 0)
        self.say.twin(twin | Twin.of("grep", "-E", "^(Content-Type|Docker-Content-Digest):"))
        head = registry.api.manifest_head(ref.repository, ref.tag_or_default, accept=", ".join(types) or "*/*")
        self.say.output(f"Content-Type: {head.media_type}\nDocker-Content-Digest: {head.digest}")
        return head.digest

    def delete_tag(self, reference: str) -> str:
        """``DELETE /v2/<name>/manifests/<tag>``: registry:3 removes the tag and keeps the manifest
        (registry:2 answers 400, notebook A); show the tags left and the manifest still served by digest."""
        registry = self.sandbox.current()
        api, ref = registry.api, parse(reference)
        tag = ref.tag_or_default
        digest = api.manifest_head(ref.repository, tag).digest
        self.say.twin(Twin.of("curl", "-s", "-o", "/dev/null", "-w", r"%{http_code}\n", "-X", "DELETE",
                              api.url(f"/v2/{ref.repository}/manifests/{tag}")))
        answer = api.request("DELETE", f"/v2/{ref.repository}/manifests/{tag}", ok=tuple(range(100, 600)))
        self.say.output(str(answer.status_code))  # what curl prints
        if answer.status_code != 202:
            raise error_for(registry.address, "DELETE", f"/v2/{ref.repository}/manifests/{tag}", answer.status_code,
                            answer.content, what=f"{ref.repository}:{tag}")
        self.say.twin(api.curl(f"/v2/{ref.repository}/tags/list"))
        self.say.output(api.request("GET", f"/v2/{ref.repository}/tags/list", what=ref.repository).text)
        head = api.manifest_head(ref.repository, digest)
        self.say.twin(Twin.of("curl", "-sI", "-o", "/dev/null", "-w", r"%{http_code}\n", "-H",
                              f"Accept: {head.media_type}", api.url(f"/v2/{ref.repository}/manifests/{digest}")))
        still = api.request("HEAD", f"/v2/{ref.repository}/manifests/{digest}", ok=tuple(range(100, 600)),
                            headers={"Accept": head.media_type})
        self.say.output(str(still.status_code))
        self.say.explain(f"the tag {tag} is gone; the manifest {digest[:19]}… it named is still stored"
                         + (", untagged" if still.status_code == 200 else ""))
        return digest

    def delete_image(self, reference: str) -> str:
        """Delete a tag's manifest through the API (by digest, as the API requires)."""
        registry = self.sandbox.current()
        ref = parse(reference)
        with self.say.quiet():
            digest = self.manifest_digest(reference)
        self.say.twin(Twin.of("curl", "-X", "DELETE", f"{registry.url}/v2/{ref.repository}/manifests/{digest}"))
        registry.api.delete_manifest(ref.repository, digest)
        self.say.say(f"202 Accepted: manifest {digest[:19]}… deleted, and with it every tag of {ref.repository} "
                     f"that pointed to it")
        return digest

    def layer_links(self, repository: str) -> int:
        """Count the ``link`` files in a repository's ``_layers`` folder (``find … | wc -l``): one per
        blob the repository may serve; and say how many name a blob the disk no longer holds."""
        registry = self.sandbox.current()
        folder = f"{registry.top}/docker/registry/v2/repositories/{repository}/_layers"
        argv, count = ("find", folder, "-name", "link"), Twin.of("wc", "-l")
        if registry.bind:
            twin = Twin(argv) | count
            output = terminal.run(twin).text
        else:
            twin = Twin(("docker", "container", "exec", registry.name, *argv)) | count
            output = terminal.pipe_through(twin.pipe, self.engine.containers.exec(registry.name, list(argv)).output)
        self.say.twin(twin)
        self.say.output(output)
        tree = self.engine.containers.storage(registry.name)
        mine = f"repositories/{repository}/_layers/"
        dangling = [link for link in tree.dangling_links() if mine in link.path]
        links = int(output.split()[0]) if output.split() and output.split()[0].isdigit() else 0
        self.say.explain(f"{links} layer links in {repository}/_layers; "
                         + (f"{len(dangling)} of them name a blob no longer on disk" if dangling
                            else "each names a blob on disk"))
        return links

    def blob_answers(self, reference: str) -> None:
        """``HEAD`` and ``GET`` the first layer of an image (by its manifest), with curl: what the
        registry says about it, and how many of its bytes really come."""
        registry = self.sandbox.current()
        ref = parse(reference)
        layer = registry.api.manifest(ref.repository, ref.tag_or_default).layers[0]
        url = registry.api.url(f"/v2/{ref.repository}/blobs/{layer}")
        for twin in (Twin.of("curl", "-sI", "-o", "/dev/null", "-w",
                             r"HEAD: %{http_code}, Content-Length: %header{content-length}\n", url),
                     Twin.of("curl", "-s", "-o", "/dev/null", "-w", r"GET: %{http_code}, %{size_download} bytes came\n",
                             url)):
            self.say.twin(twin)
            done = terminal.run(twin)
            self.say.output(done.text)
            self.say.exited(done.code)  # the GET of a file gone: curl exits 18, fewer bytes than promised

    # ------------------------------------------------------------------ collecting

    def read_only(self, enabled: bool = True) -> None:
        """Restart the registry in (or out of) maintenance read-only mode: pulls work, pushes get 405."""
        self.registries.restart(**{READ_ONLY: '{"enabled":true}' if enabled else None})

    def garbage_collect(self, dry_run: bool = False, delete_untagged: bool = False) -> Collection:
        """Run ``registry garbage-collect`` inside the registry container: delete unreferenced blobs."""
        registry = self.sandbox.current()
        argv = ["registry", "garbage-collect"] + (["--dry-run"] if dry_run else []) + \
            (["--delete-untagged"] if delete_untagged else []) + [registry.run.config_path]
        self.say.twin(docker("container", "exec", registry.name, *argv))
        done = self.engine.containers.exec(registry.name, argv)
        code, output = done.exit_code, done.output
        match = _GC_SUMMARY.search(output)
        if code != 0 or not match:
            last = output.strip().splitlines()[-1] if output.strip() else "no output"
            raise errors.gc_failed(code, last)
        marked, blobs, manifests = (int(g) for g in match.groups())
        links = len(_GC_LINK.findall(output))
        also = f", and {links} _layers links to them" if links else ""
        if dry_run:
            self.say.say(f"dry run: {marked} blobs are still referenced; {blobs} blobs and {manifests} manifests "
                         f"would be deleted{also}; nothing was deleted")
        else:
            self.say.say(f"kept {marked} referenced blobs; deleted {blobs} blobs and {manifests} manifests{also}")
        return Collection(dry_run, marked, blobs, manifests, output, links)
