"""Lab steps for storage growth, deletion and garbage collection (notebook 04).

A mixin of :class:`reglab.lab.Lab`: it uses the lab's printing, registry and engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import images as course_images
from .engines.base import REGISTRY_CONFIG, REGISTRY_DATA
from .errors import ReglabError
from .growth import History, Snapshot, measure
from .progress import Bar
from .reference import parse
from .twin import Twin, docker
from .units import human

DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
OCI_V1 = "application/vnd.oci.image.manifest.v1+json"
DELETE_ENABLED = "REGISTRY_STORAGE_DELETE_ENABLED"
READ_ONLY = "REGISTRY_STORAGE_MAINTENANCE_READONLY"
_GC_SUMMARY = re.compile(r"(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion")


@dataclass(frozen=True)
class Collection:
    """What one ``registry garbage-collect`` run found (and, unless a dry run, deleted)."""

    dry_run: bool
    marked: int  # blobs still referenced: kept
    blobs: int  # blobs eligible for deletion
    manifests: int  # manifests eligible for deletion (untagged ones, with --delete-untagged)
    output: str


class GrowthSteps:
    """Steps that load synthetic images, push series, measure, delete and collect."""

    # ------------------------------------------------------------------ images and pushes

    def load_images(self, builds: list[course_images.ImageBuild]) -> list[str]:
        """Load images made in Python into the engine (``docker image load``)."""
        folder = self.workdir / "archives"
        if not folder.exists():
            folder.mkdir(parents=True)
            self.state.add_dir(folder)
        path = folder / "images.tar"
        data = course_images.docker_archive(builds)
        path.write_bytes(data)
        self._twin(docker("image", "load", "-i", str(path)))
        self.engine.load_image_archive(data)
        tags = [parse(tag).tagged for build in builds for tag in build.tags]
        for tag in tags:
            self._record(tag)
        layers = {layer.diff_id: len(layer.gzipped()) for build in builds for layer in build.layers}
        self._say(f"loaded {len(tags)} images with {len(layers)} distinct layers "
                  f"({human(sum(layers.values()))} of layers in all)")
        names = [f"{parse(b.tags[0]).repository}:{parse(b.tags[0]).tag_or_default}" for b in builds]
        width = max(len(n) for n in names)
        for name, build in zip(names, builds):
            sizes = " + ".join(human(len(layer.gzipped())) for layer in build.layers)
            self._say(f"  {name:<{width}}  layers: {sizes}")
        return tags

    def push_series(self, references: list[str]) -> History:
        """Push images one after another, measuring the registry's storage after each push."""
        history = History()
        bar = Bar(len(references), "pushes", unit="image") if self.echo else None
        echo, self.echo = self.echo, False  # one line per push instead of each step's own
        try:
            before = self._snapshot("start")
            for reference in references:
                ref = parse(reference)
                result = self.engine.push(reference)
                label = f"{ref.repository}:{ref.tag_or_default}"
                snap = self._snapshot(label)
                history.append(snap)
                if echo:
                    print(f"$ docker image push {reference}")
                    print(f"  {result.moved} layer(s) sent, {result.already} already there; disk "
                          f"+{human(snap.physical - before.physical)} → {human(snap.physical)}")
                before = snap
                if bar:
                    bar.step()
        finally:
            self.echo = echo
            if bar:
                bar.close()
        return history

    # ------------------------------------------------------------------ measuring

    def _snapshot(self, label: str) -> Snapshot:
        tree, _ = self._storage()  # the model, from the folder or through the archive API
        return measure(label, tree, self._current().api)

    def measure(self, label: str) -> Snapshot:
        """How much the registry stores now: bytes on disk, blobs, and what the tagged images weigh."""
        registry = self._current()
        if registry.bind:
            self._twin(Twin.of("du", "-sb", str(registry.bind)))
        else:
            self._twin(docker("container", "exec", registry.name, "du", "-sb", REGISTRY_DATA))
        snap = self._snapshot(label)
        self._say(snap.line())
        return snap

    # ------------------------------------------------------------------ deleting

    def manifest_digest(self, reference: str, accept: str | None = DOCKER_V2) -> str:
        """The digest the registry reports for a tag; it depends on the ``Accept`` header sent.

        Without one (curl, like most clients, then sends ``*/*``) a 2.x registry converts the
        manifest to the old schema 1 and reports *that* document's digest.
        """
        registry = self._current()
        ref = parse(reference)
        header = ["-H", f"Accept: {accept}"] if accept else []
        self._twin(Twin.of("curl", "-sI", *header, f"{registry.url}/v2/{ref.repository}/manifests/{ref.tag_or_default}"))
        accepts = f"{accept}, {OCI_V1}" if accept == DOCKER_V2 else (accept or "*/*")
        head = registry.api.manifest_head(ref.repository, ref.tag_or_default, accept=accepts)
        self._say(f"Content-Type: {head.media_type.split(';')[0]}")
        self._say(f"Docker-Content-Digest: {head.digest}")
        return head.digest

    def delete_image(self, reference: str) -> str:
        """Delete a tag's manifest through the API (by digest, as the API requires)."""
        registry = self._current()
        ref = parse(reference)
        echo, self.echo = self.echo, False
        try:
            digest = self.manifest_digest(reference)
        finally:
            self.echo = echo
        self._twin(Twin.of("curl", "-X", "DELETE", f"{registry.url}/v2/{ref.repository}/manifests/{digest}"))
        registry.api.delete_manifest(ref.repository, digest)
        self._say(f"202 Accepted: manifest {digest[:19]}… deleted, and with it every tag of {ref.repository} "
                  f"that pointed to it")
        return digest

    # ------------------------------------------------------------------ collecting

    def restart_registry(self, **settings: str | None) -> None:
        """Recreate the registry on the same storage with changed environment settings (None removes one)."""
        registry = self._current()
        env = dict(registry.env)
        for key, value in settings.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        self.kill_registry()
        self.remove_registry()
        self.run_registry(port=registry.port, volume=registry.volume, bind=registry.bind, env=env)

    def read_only(self, enabled: bool = True) -> None:
        """Restart the registry in (or out of) maintenance read-only mode: pulls work, pushes get 405."""
        self.restart_registry(**{READ_ONLY: '{"enabled":true}' if enabled else None})

    def garbage_collect(self, dry_run: bool = False, delete_untagged: bool = False) -> Collection:
        """Run ``registry garbage-collect`` inside the registry container: delete unreferenced blobs."""
        registry = self._current()
        argv = ["registry", "garbage-collect"]
        if dry_run:
            argv.append("--dry-run")
        if delete_untagged:
            argv.append("--delete-untagged")
        argv.append(REGISTRY_CONFIG)
        self._twin(docker("container", "exec", registry.name, *argv))
        code, output = self.engine.exec(registry.name, argv)
        match = _GC_SUMMARY.search(output)
        if code != 0 or not match:
            last = output.strip().splitlines()[-1] if output.strip() else "no output"
            raise ReglabError(f"garbage-collect failed (exit {code}): {last}")
        marked, blobs, manifests = (int(g) for g in match.groups())
        if dry_run:
            self._say(f"dry run: {marked} blobs are still referenced; {blobs} blobs and {manifests} manifests "
                      "would be deleted; nothing was deleted")
        else:
            self._say(f"kept {marked} referenced blobs; deleted {blobs} blobs and {manifests} manifests")
        return Collection(dry_run, marked, blobs, manifests, output)
