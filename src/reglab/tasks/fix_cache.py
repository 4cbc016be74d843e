"""Lab 10 · Break-fix: "Layer already exists" after garbage collection, and the image will not pull."""

from __future__ import annotations

from .. import checks
from ..registry_api import RegistryClient
from ..media import short_digest
from .. import images
from ..exercises import Sheet, done, missing, task
from ..steps.growth import DELETE_ENABLED

KiB = 1024


class FixCache(Sheet):
    id = "lab-10"
    title = "Fix: layer already exists, blob unknown"
    port_base = 5200

    def setup(self) -> None:
        self.new_folder("folder", "registry-data", "its data folder")
        registry = self.run_registry("registry", bind=self.folder, env={DELETE_ENABLED: "true"})
        self.name("registry", registry.name, "the team's registry")
        self.name("address", registry.address, "where it answers")
        scratch = [images.synthetic_image(registry.ref("scratch", tag), [images.random_layer(
            "scratch.bin", 32 * KiB, f"lab-10-{tag}")]) for tag in ("old", "v1")]
        for ref in self.lab.load_images(scratch):
            self.lab.push(ref)
        self.old = RegistryClient(registry.address).manifest("scratch", "old").layers[0]
        for tag in ("old", "v1"):
            self.lab.growth.delete_image(registry.ref("scratch", tag))
        self.lab.growth.garbage_collect()  # the mistake: collected while it kept serving, no restart
        self.lab.push(registry.ref("scratch", "v1"))  # "Layer already exists": nothing was sent

    @task("Make the registry forget what the collection deleted",
          hint="Pull scratch:v1 from the registry (remove your local copy first, or pull with another name) and "
               "read the error. The blobs are gone from disk (look in the folder), yet HEAD answers 200: where "
               "does that answer come from, and how does a process forget?",
          solution="docker container restart {registry}")
    def q1(self):
        tree = self.engine.containers.storage(self.registry)
        if tree.blob(self.old) is not None:
            return missing("the collected blob is back on disk: start the lab again")
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        if checks.remembers(self.address, "scratch", self.old):
            return missing(f"HEAD of the collected blob {short_digest(self.old)} still answers 200 from the registry's "
                           "in-memory cache")
        return done("HEAD of a collected blob answers 404 now: the cache is gone")

    @task("Serve scratch:v1 whole again",
          hint="Once the registry no longer believes in blobs it lacks, the same push sends them for real.",
          solution="docker image push {address}/scratch:v1")
    def q2(self):
        served = checks.served(self.address, "scratch", "v1")
        return done(served.detail) if served else missing(served.detail)
