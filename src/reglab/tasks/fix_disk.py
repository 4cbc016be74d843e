"""Lab 09 · Break-fix: images were deleted, the disk did not shrink."""

from __future__ import annotations

from .. import checks
from ..registry_api import RegistryClient
from ..media import short_digest
from .. import images
from ..exercises import Sheet, done, missing, task
from .evidence import silent

KiB = 1024


def data_image(ref: str, seed: str):
    return images.synthetic_image(ref, [images.random_layer("data.bin", 32 * KiB, f"lab-09-{seed}")])


class FixDisk(Sheet):
    id = "lab-09"
    title = "Fix: disk not freed after deleting images"
    port_base = 5190

    def setup(self) -> None:
        self.new_folder("folder", "registry-data", "its data folder (du -sh it)")
        registry = self.run_registry("registry", bind=self.folder)  # registry:3's own config: deletes on
        self.name("registry", registry.name, "the team's registry (deletes on, as registry:3's config has them)")
        self.name("address", registry.address, "where it answers")
        api = RegistryClient(registry.address)
        builds = [data_image(registry.ref("data", f"v{n}"), f"data-{n}") for n in (1, 2, 3)]
        builds.append(data_image(registry.ref("tools", "latest"), "tools-old"))
        for ref in self.lab.load_images(builds):
            self.lab.push(ref)

        def blobs(repository, tag):  # the manifest, its config and its layer
            manifest = api.manifest(repository, tag)
            return [manifest.digest, manifest.config, *manifest.layers]

        self.gone = {tag: blobs("data", tag) for tag in ("v1", "v2")}
        self.old_tools = blobs("tools", "latest")
        for tag in ("v1", "v2"):
            self.lab.growth.delete_image(registry.ref("data", tag))
        self.lab.push(self.lab.load_images([data_image(registry.ref("tools", "latest"), "tools-new")])[0])  # rebuilt

    def _on_disk(self, digests) -> list[str]:
        tree = self.engine.containers.storage(self.registry)
        return [d for d in digests if tree.blob(d) is not None]

    @task("Free the space the deleted images hold",
          hint="Deleting an image removes links, not bytes. The registry binary frees the bytes no manifest "
               "references: registry garbage-collect <config>, inside the container (registry:3 reads "
               "/etc/distribution/config.yml); --dry-run first shows what would go. Safely: recreate the registry "
               "read-only first (REGISTRY_STORAGE_MAINTENANCE_READONLY='enabled: true'), same folder and --user.",
          solution="docker container rm -f -v {registry}\ndocker container run -d --name {registry} -p {address}:5000 "
                   "--user \"$(id -u):$(id -g)\" -v {folder}:/var/lib/registry "
                   "-e \"REGISTRY_STORAGE_MAINTENANCE_READONLY=enabled: true\" registry:3\n"
                   "docker container exec {registry} registry garbage-collect --dry-run /etc/distribution/config.yml\n"
                   "docker container exec {registry} registry garbage-collect /etc/distribution/config.yml")
    def q1(self):
        problem = silent(self.address)
        if problem:
            return missing(problem)
        left = self._on_disk([d for blobs in self.gone.values() for d in blobs])
        if left:
            return missing(f"{len(left)} blob(s) of the deleted data:v1 and data:v2 (manifests, configs, layers) are "
                           "still on disk: garbage-collect frees every blob no manifest references")
        served = checks.served(self.address, "data", "v3")
        return done("the deleted images' blobs are gone; data:v3 serves whole") if served else missing(served.detail)

    @task("Free the old tools:latest too",
          hint="tools:latest was pushed twice: the tag moved to the new manifest, and the old one stays, untagged, "
               "still referencing its layer — so plain garbage collection keeps it. Look at garbage-collect --help "
               "(and before using that option on a registry 2.8, read what it does to multi-platform images).",
          solution="docker container exec {registry} registry garbage-collect --dry-run --delete-untagged "
                   "/etc/distribution/config.yml\n"
                   "docker container exec {registry} registry garbage-collect --delete-untagged "
                   "/etc/distribution/config.yml")
    def q2(self):
        problem = silent(self.address)
        if problem:
            return missing(problem)
        if self._on_disk(self.old_tools):
            return missing("the old tools:latest is still on disk: its untagged manifest keeps its layer")
        served = checks.served(self.address, "tools", "latest")
        return done("the untagged manifest and its layer are gone; tools:latest serves whole") if served \
            else missing(f"tools:latest is damaged: {served.detail}")

    @task("Leave the registry safe to push to",
          hint="After collecting: writable again, deletes still on, and a NEW registry process — the old one's "
               "in-memory cache still believes in the blobs the collection deleted (pushes would skip them: "
               "'Layer already exists').",
          solution="docker container rm -f -v {registry}\ndocker container run -d --name {registry} -p {address}:5000 "
                   "--user \"$(id -u):$(id -g)\" -v {folder}:/var/lib/registry registry:3")
    def q3(self):
        layer = self.gone["v1"][-1]
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        if self._on_disk([layer]):
            return missing("collect the garbage first (task 1)")
        if checks.remembers(self.address, "data", layer):
            return missing(f"HEAD of the collected blob {short_digest(layer)} still answers 200: the registry's cache "
                           "remembers it; restart the registry")
        if not checks.writable(self.address, "data"):
            return missing("it still refuses pushes (read-only): recreate it without the read-only setting")
        if not checks.deletes_allowed(self.address, "data"):
            return missing("it refuses deletes now (405): the team's registry had deletes on, keep them on")
        return done("writable, deletes on, and it answers 404 for the collected blobs: its cache is fresh")
