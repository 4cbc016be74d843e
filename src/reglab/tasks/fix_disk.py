"""Lab 09 · Break-fix: images were deleted, the disk did not shrink."""

from __future__ import annotations

from .. import checks
from ..registry_api import RegistryClient
from ..media import short_digest
from .. import images
from ..exercises import Sheet, done, missing, task
from ..steps.growth import DELETE_ENABLED

KiB = 1024


def data_image(ref: str, seed: str):
    return images.synthetic_image(ref, [images.random_layer("data.bin", 32 * KiB, f"lab-09-{seed}")])


class FixDisk(Sheet):
    id = "lab-09"
    title = "Fix: disk not freed after deleting images"
    port_base = 5190

    def setup(self) -> None:
        self.new_folder("folder", "registry-data", "its data folder (du -sh it)")
        registry = self.run_registry("registry", bind=self.folder, env={DELETE_ENABLED: "true"})
        self.name("registry", registry.name, "the team's registry")
        self.name("address", registry.address, "where it answers")
        api = RegistryClient(registry.address)
        builds = [data_image(registry.ref("data", f"v{n}"), f"data-{n}") for n in (1, 2, 3)]
        builds.append(data_image(registry.ref("tools", "latest"), "tools-old"))
        for ref in self.lab.load_images(builds):
            self.lab.push(ref)
        self.gone = {tag: api.manifest("data", tag).layers[0] for tag in ("v1", "v2")}
        self.old_tools = api.manifest("tools", "latest").layers[0]
        for tag in ("v1", "v2"):
            self.lab.growth.delete_image(registry.ref("data", tag))
        self.lab.push(self.lab.load_images([data_image(registry.ref("tools", "latest"), "tools-new")])[0])  # rebuilt

    def _on_disk(self, digests) -> list[str]:
        tree = self.engine.containers.storage(self.registry)
        return [d for d in digests if tree.blob(d) is not None]

    @task("Free the space the deleted images hold",
          hint="Deleting an image removes links, not bytes. The registry binary frees the bytes no manifest "
               "references: registry garbage-collect <config>, inside the container. Safely: recreate the registry "
               "read-only first (REGISTRY_STORAGE_MAINTENANCE_READONLY='enabled: true'), same folder and --user.",
          solution="docker container rm -f {registry}\ndocker container run -d --name {registry} -p {address}:5000 "
                   "--user \"$(id -u):$(id -g)\" -v {folder}:/var/lib/registry "
                   "-e \"REGISTRY_STORAGE_MAINTENANCE_READONLY=enabled: true\" registry:2\n"
                   "docker container exec {registry} registry garbage-collect /etc/docker/registry/config.yml")
    def q1(self):
        left = self._on_disk(self.gone.values())
        if left:
            return missing(f"{len(left)} layer(s) of the deleted data:v1 and data:v2 are still on disk")
        served = checks.served(self.address, "data", "v3")
        return done("the deleted images' layers are gone; data:v3 serves whole") if served else missing(served.detail)

    @task("Free the old tools:latest too",
          hint="tools:latest was pushed twice: the tag moved to the new manifest, and the old one stays, untagged, "
               "still referencing its layer — so plain garbage collection keeps it. Look at garbage-collect --help.",
          solution="docker container exec {registry} registry garbage-collect --delete-untagged "
                   "/etc/docker/registry/config.yml")
    def q2(self):
        if self._on_disk([self.old_tools]):
            return missing("the old tools:latest layer is still on disk: its untagged manifest keeps it")
        served = checks.served(self.address, "tools", "latest")
        return done("the untagged manifest and its layer are gone; tools:latest serves whole") if served \
            else missing(f"tools:latest is damaged: {served.detail}")

    @task("Leave the registry safe to push to",
          hint="After collecting: writable again, and a NEW registry process — the old one's in-memory cache still "
               "believes in the blobs the collection deleted (pushes would skip them: 'Layer already exists').",
          solution="docker container rm -f {registry}\ndocker container run -d --name {registry} -p {address}:5000 "
                   "--user \"$(id -u):$(id -g)\" -v {folder}:/var/lib/registry "
                   "-e REGISTRY_STORAGE_DELETE_ENABLED=true registry:2")
    def q3(self):
        digest = self.gone["v1"]
        if self._on_disk([digest]):
            return missing("collect the garbage first (task 1)")
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        if checks.remembers(self.address, "data", digest):
            return missing(f"HEAD of the collected blob {short_digest(digest)} still answers 200: the registry's cache "
                           "remembers it; restart the registry")
        if not checks.writable(self.address, "data"):
            return missing("it still refuses pushes (read-only): recreate it without the read-only setting")
        return done("writable, and it answers 404 for the collected blobs: its cache is fresh")
