"""Notebook 04 · Your turn: delete an image yourself with curl, then take its space back safely.

On the notebook's own registry (registry:3, deletes on, data in a bind-mounted folder), after the
notebook's last step: ``other-app:v2`` is still there, with a top layer of its own.
"""

from __future__ import annotations

import os

from .. import checks
from ..exercises import Practice, done, missing, task
from ..media import short_digest
from ..registry_api import RegistryClient
from .evidence import image_deleted, silent


class Practice04(Practice):
    id = "04"
    title = "Storage growth and garbage collection"

    def setup(self) -> None:
        registry = self.lab.registry
        self.name("address", registry.address, "the notebook's registry")
        self.name("registry", registry.name, "its container")
        api = RegistryClient(registry.address)
        manifest = api.manifest("other-app", "v2")
        self.digest, self.layer = manifest.digest, manifest.layers[-1]  # its own top layer (the base is shared)

    def _collected_at(self) -> float | None:
        """When the folder that held other-app:v2's own layer last changed (its collection, at the latest)."""
        info = self.engine.containers.inspect(self.registry)
        if info is None or info.data is None or not info.data.source:
            return None
        folder = os.path.join(info.data.source, "docker/registry/v2/blobs/sha256", self.layer[7:9])
        try:
            return os.stat(folder).st_mtime
        except OSError:
            return None

    @task("Delete other-app:v2 yourself, with curl",
          hint="Predict first: after a DELETE by tag (…/manifests/v2), does the registry still hold the image? "
               "(Step 4 showed it.) The API deletes an image by its manifest's digest: HEAD the manifest with an "
               "Accept header naming its type, read Docker-Content-Digest, then DELETE …/manifests/<digest>.",
          solution="curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "
                   "http://{address}/v2/other-app/manifests/v2 | grep -i docker-content-digest\n"
                   "curl -sSf -X DELETE http://{address}/v2/other-app/manifests/<that digest>")
    def q1(self):
        problem = silent(self.address) or image_deleted(self.address, "other-app", "v2", self.digest)
        if problem:
            return missing(problem)
        whole = checks.served(self.address, "app", "v5")
        if not whole:
            return missing(f"other-app:v2 is deleted, but app:v5 had to stay whole: {whole.detail}")
        return done(f"other-app:v2's manifest {short_digest(self.digest)} is deleted; app:v5 still serves whole")

    @task("Take its space back, and leave the registry safe to push to",
          hint="Predict first: which of other-app:v2's blobs can go? (Its base layer is shared with app:v5.) "
               "Run registry garbage-collect in the container — --dry-run first — then restart the registry, so "
               "that no cache remembers what the collection deleted (step 6). On a registry others push to, make "
               "it read-only before collecting (step 5); here nobody else pushes.",
          solution="docker container exec {registry} registry garbage-collect --dry-run /etc/distribution/config.yml\n"
                   "docker container exec {registry} registry garbage-collect /etc/distribution/config.yml\n"
                   "docker container restart {registry}")
    def q2(self):
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        if checks.has_tag(self.address, "other-app", "v2"):
            return missing("delete other-app:v2 first (task 1): nothing of it is garbage yet")
        tree = self.engine.containers.storage(self.registry)
        if tree.blob(self.layer) is not None:
            return missing(f"other-app:v2's own layer {short_digest(self.layer)} is still on disk: collect the garbage")
        info = self.engine.containers.inspect(self.registry)
        collected = self._collected_at()
        if collected is not None and info.started and info.started < collected:
            return missing("the registry process started before the collection, so its cache may still answer for "
                           "blobs the collection deleted: restart it")
        if checks.remembers(self.address, "other-app", self.layer):
            return missing(f"HEAD of the collected layer {short_digest(self.layer)} still answers 200: restart the "
                           "registry")
        orphans = tree.orphans()
        if orphans:
            return missing(f"{len(orphans)} blobs on disk are referenced by no manifest: collect the garbage")
        whole = checks.served(self.address, "app", "v5")
        if not whole:
            return missing(f"app:v5 had to stay whole: {whole.detail}")
        return done("other-app:v2's own layer is gone from disk, the registry restarted after the collection, "
                    "app:v5 serves whole")
