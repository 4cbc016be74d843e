"""Notebook 03's "Your turn": a push that stores no new blob, and a tag deleted through the API."""

from __future__ import annotations

import os

from .. import accesslog, checks, errors
from ..exercises import Practice, done, missing, task
from ..media import short_digest
from ..registry_api import RegistryClient
from ..storage import blob_path


class Practice03(Practice):
    id = "03"
    title = "Inside the registry"

    def setup(self) -> None:
        registry = self.lab.sandbox.current()
        self.name("address", registry.address, "the notebook's registry")
        self.name("folder", str(registry.bind), "its data folder")
        self.registry_name = registry.name
        self.expect_tag(f"{registry.address}/copy:v1")
        self.blobs = set(self.engine.containers.storage(registry.name).blobs())  # what the disk holds now
        self.layered = checks.digest_of(registry.address, "layered", "v1")
        self.alpha = checks.digest_of(registry.address, "alpha", "latest")

    def _answers(self):
        if RegistryClient(self.address).status() is None:
            return missing(errors.nothing_answers(self.address))
        return None

    @task("A push that stores no new blob",
          hint="Tag {address}/layered:v1 as {address}/copy:v1 and push it. Which layers will docker push send? "
               "Afterwards, count the folders under blobs/sha256/*/ again.",
          solution="docker image tag {address}/layered:v1 {address}/copy:v1\n"
                   "docker image push {address}/copy:v1\n"
                   "find {folder}/docker/registry/v2/blobs -name data | wc -l")
    def q1(self):
        problem = self._answers()
        if problem:
            return problem
        served = checks.served(self.address, "copy", "v1")
        if not served:
            return missing(served.detail)
        digest = checks.digest_of(self.address, "copy", "v1")
        if digest != self.layered:
            return missing(f"copy:v1 is {short_digest(digest)}, not layered:v1's manifest {short_digest(self.layered)}: "
                           "tag layered:v1 itself")
        new = set(self.engine.containers.storage(self.registry_name).blobs()) - self.blobs
        if new:
            return missing(f"{len(new)} new blob(s) appeared ({short_digest(sorted(new)[0])}): push the same image")
        return done(f"copy:v1 is layered:v1, {short_digest(digest)}, and blobs/ holds not one new blob: "
                    "only link files in repositories/copy/")

    @task("Delete the tag alpha:latest through the API",
          hint="registry:3 deletes a tag with DELETE /v2/<name>/manifests/<tag> (202 Accepted). Before you do: "
               "which files under the folder will go, and will the manifest's blob stay?",
          solution="curl -s -o /dev/null -w '%{{http_code}}\\n' -X DELETE http://{address}/v2/alpha/manifests/latest\n"
                   "find {folder}/docker/registry/v2/repositories/alpha -name link | sort")
    def q2(self):
        problem = self._answers()
        if problem:
            return problem
        if checks.has_tag(self.address, "alpha", "latest"):
            return missing("alpha still lists the tag latest (GET /v2/alpha/tags/list)")
        deletes = [r for r in accesslog.parse(self.engine.containers.logs(self.registry_name))
                   if r.method == "DELETE" and r.path == "/v2/alpha/manifests/latest" and r.status == 202]
        if not deletes:
            return missing("the tag latest is gone, but the registry's log has no DELETE /v2/alpha/manifests/latest "
                           "answered 202: delete it through the API, not by hand")
        if self.alpha is None or not os.path.exists(os.path.join(self.folder, blob_path(self.alpha))):
            return missing("the manifest's blob is gone from blobs/ too: a delete by digest (or by hand) took it")
        return done(f"the tag's folder went; the manifest {short_digest(self.alpha)} stays in blobs/ until "
                    "garbage collection (notebook 04)")
