"""Lab 10 · Break-fix: "Layer already exists" after garbage collection, and the image will not pull.

Measured on registry:3 as on registry:2: garbage collection beside a running registry leaves its
in-memory blob descriptor cache believing in blobs it deleted; ``HEAD`` answers 200, a push skips
them, and a ``GET`` sends the headers and then nothing (the pull fails with "unexpected EOF").
"""

from __future__ import annotations

from .. import checks
from ..registry_api import RegistryClient
from ..media import short_digest
from .. import images
from ..exercises import Sheet, done, missing, task
from .evidence import config_digest, is_image, silent

KiB = 1024


def scratch_image(address: str, tag: str):
    return images.synthetic_image(f"{address}/scratch:{tag}", [images.random_layer("scratch.bin", 32 * KiB,
                                                                                   f"lab-10-{tag}")])


class FixCache(Sheet):
    id = "lab-10"
    title = "Fix: layer already exists, blob unknown"
    port_base = 5200

    def setup(self) -> None:
        self.new_folder("folder", "registry-data", "its data folder")
        registry = self.run_registry("registry", bind=self.folder)  # registry:3's own config: deletes on
        self.name("registry", registry.name, "the team's registry")
        self.name("address", registry.address, "where it answers")
        builds = [scratch_image(registry.address, tag) for tag in ("old", "v1")]
        builds.append(images.synthetic_image(registry.ref("tools", "v1"), [images.random_layer(
            "tools.bin", 16 * KiB, "lab-10-tools")]))  # the team's other image, untouched by all this
        for ref in self.lab.load_images(builds):
            self.lab.push(ref)
        self.v1 = config_digest(builds[1])
        self.old = RegistryClient(registry.address).manifest("scratch", "old").layers[0]
        for tag in ("old", "v1"):
            self.lab.growth.delete_image(registry.ref("scratch", tag))
        self.lab.growth.garbage_collect()  # the mistake: collected while it kept serving, no restart
        self.lab.push(registry.ref("scratch", "v1"))  # "Layer already exists": nothing was sent

    def _tools_kept(self) -> str | None:
        whole = checks.served(self.address, "tools", "v1")
        return None if whole else f"the team's tools:v1 is not served whole any more: {whole.detail}"

    @task("Make the registry forget what the collection deleted",
          hint="Pull scratch:v1 from the registry (remove your local copy first, or pull with another name) and "
               "read the error. The blobs are gone from disk (look in the folder), yet HEAD answers 200: where "
               "does that answer come from, and how does a process forget? The registry's data must stay.",
          solution="docker container restart {registry}")
    def q1(self):
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        tree = self.engine.containers.storage(self.registry)
        if tree.blob(self.old) is not None:
            return missing("the collected blob is back on disk: start the lab again")
        if checks.remembers(self.address, "scratch", self.old):
            return missing(f"HEAD of the collected blob {short_digest(self.old)} still answers 200 from the registry's "
                           "in-memory cache")
        problem = self._tools_kept()
        return missing(problem) if problem else done("HEAD of a collected blob answers 404 now: the cache is gone; "
                                                     "tools:v1 still serves whole")

    @task("Serve scratch:v1 whole again",
          hint="Once the registry no longer believes in blobs it lacks, the same push sends them for real.",
          solution="docker image push {address}/scratch:v1")
    def q2(self):
        problem = silent(self.address) or is_image(self.address, "scratch", "v1", self.v1,
                                                   "the scratch:v1 the set-up loaded on your machine") or self._tools_kept()
        if problem:
            return missing(problem)
        return done(f"{checks.served(self.address, 'scratch', 'v1').detail}; tools:v1 still serves whole")
