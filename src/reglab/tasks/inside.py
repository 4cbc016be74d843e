"""Lab 05 · Inside the storage: deduplication on disk, tags and mounts through the HTTP API, a tag deleted by the API."""

from __future__ import annotations

import os
import time

from .. import accesslog, checks, errors
from ..registry_api import RegistryClient
from ..media import short_digest
from ..exercises import Sheet, done, missing, task
from ..storage import layer_link_path

LAYERS = [("base/os.bin", 60_000), ("app/lib.bin", 20_000), ("app/main.bin", 5_000)]
SIBLING = [("base/os.bin", 60_000), ("tools/extra.bin", 10_000)]


class Inside(Sheet):
    id = "lab-05"
    title = "Inside the storage"
    port_base = 5150

    def setup(self) -> None:
        self.new_folder("folder", "registry-data", "the registry's data folder: open it, read it, change it")
        registry = self.run_registry("registry", bind=self.folder)
        self.name("registry", registry.name, "the registry the set-up started (it runs as you)")
        self.name("address", registry.address, "where it answers")
        for tag in ("v1", "old"):
            self.lab.make_image(registry.ref("layered", tag), LAYERS, seed="lab-05")
            self.lab.push(registry.ref("layered", tag))
        self.lab.make_image(registry.ref("sibling", "v1"), SIBLING, seed="lab-05")  # for you to push
        manifest = RegistryClient(self.address).manifest("layered", "v1")
        self.v1, self.base = manifest.digest, manifest.layers[0]

    def _path(self, rel: str) -> str:
        return os.path.join(self.folder, rel)

    @task("Push sibling:v1: one base layer, stored once",
          hint="sibling:v1 is loaded on your machine already (docker image ls). After the push, look in blobs/ and "
               "in repositories/*/_layers/: where is the base layer's data, and who links to it?",
          solution="docker image push {address}/sibling:v1\nfind {folder} -path '*_layers*' -name link | sort")
    def q1(self):
        served = checks.served(self.address, "sibling", "v1")
        if not served:
            return missing(served.detail)
        tree = self.engine.containers.storage(self.registry)
        linked = sorted({link.path.split("/")[4] for link in tree.links_to(self.base) if "/_layers/" in link.path})
        if tree.blob(self.base) is None or not {"layered", "sibling"} <= set(linked):
            return missing(f"the base layer {short_digest(self.base)} should be one blob linked from layered and sibling; "
                           f"it is linked from {', '.join(linked) or 'nothing'}")
        return done(f"the base layer {short_digest(self.base)} is one file in blobs/, linked from layered and sibling")

    @task("Tag layered:v1 as layered:stable through the HTTP API",
          hint="A tag is a manifest stored under a name. GET the manifest of v1 as Docker asks for it (an Accept "
               "header naming application/vnd.docker.distribution.manifest.v2+json), then PUT the very same bytes "
               "to /v2/layered/manifests/stable with that Content-Type.",
          solution="curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "
                   "http://{address}/v2/layered/manifests/v1 \\\n"
                   "  | curl -s -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' "
                   "--data-binary @- http://{address}/v2/layered/manifests/stable")
    def q2(self):
        if RegistryClient(self.address).status() is None:
            return missing(errors.nothing_answers(self.address))
        if not checks.has_tag(self.address, "layered", "stable"):
            return missing("layered has no tag stable yet (GET /v2/layered/tags/list)")
        digest = checks.digest_of(self.address, "layered", "stable")
        if digest != self.v1:
            return missing(f"stable is {short_digest(digest)}, not v1's manifest {short_digest(self.v1)}: PUT v1's exact bytes")
        return done(f"stable and v1 name the same manifest, {short_digest(digest)}")

    @task("Mount the base layer into a new repository, base",
          hint="The base layer is the first layer of layered:v1's manifest. A registry can link a blob it has into "
               "another repository without an upload: POST /v2/<name>/blobs/uploads/ with the query "
               "mount=<digest>&from=<repository that has it>; 201 Created means mounted.",
          solution="curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "
                   "http://{address}/v2/layered/manifests/v1   # layers[0].digest is the base\n"
                   "curl -i -X POST 'http://{address}/v2/base/blobs/uploads/?mount=<base digest>&from=layered'")
    def q3(self):
        if RegistryClient(self.address).status() is None:
            return missing(errors.nothing_answers(self.address))
        if not checks.remembers(self.address, "base", self.base):
            return missing("HEAD /v2/base/blobs/<base layer> does not answer 200: the repository base has no "
                           "link to it yet")
        if not os.path.exists(self._path(layer_link_path("base", self.base))):
            return missing("the registry answers, but repositories/base/_layers has no link file for it")
        return done(f"base links the base layer {short_digest(self.base)}: one more link file, no new blob")

    @task("Delete the tag old through the HTTP API; v1 stays",
          hint="On registry:3, DELETE /v2/<name>/manifests/<tag> removes that one tag (202 Accepted). A DELETE by "
               "digest would remove the manifest itself, and with it every tag naming it: v1 and stable too.",
          solution="curl -i -X DELETE http://{address}/v2/layered/manifests/old")
    def q4(self):
        api = RegistryClient(self.address)
        if api.status() is None:
            return missing(errors.nothing_answers(self.address))
        if checks.has_tag(self.address, "layered", "old"):
            return missing("layered still lists the tag old (GET /v2/layered/tags/list)")
        if checks.digest_of(self.address, "layered", "v1") != self.v1:
            return missing(f"layered:v1 is gone too: the manifest {short_digest(self.v1)} was deleted (by digest?), "
                           "not only the tag old; run the set-up again and delete the tag by its name")
        served = checks.served(self.address, "layered", "v1")
        if not served:
            return missing(f"old is gone but layered:v1 is damaged: {served.detail}")
        for _ in range(15):  # the registry writes its access line after the answer; the engine's log a moment later
            deletes = [r for r in accesslog.parse(self.engine.containers.logs(self.registry))
                       if r.method == "DELETE" and r.path == "/v2/layered/manifests/old"]
            if any(r.status == 202 for r in deletes):
                break
            time.sleep(0.2)
        else:
            return missing("old is gone, but not through the API: the registry's log has no DELETE "
                           "/v2/layered/manifests/old answered 202 (a folder removed on disk, behind the registry's "
                           "back, is no way on object storage); tag v1 as old again, as in task 2, and delete old with the API")
        try:
            api.manifest("layered", self.v1, accept=checks.ACCEPT_MANIFESTS)
        except errors.ReglabError:
            return missing(f"the manifest {short_digest(self.v1)} no longer answers by digest: the delete took more "
                           "than the tag")
        return done(f"DELETE …/manifests/old → 202 removed the tag only: v1, and the manifest {short_digest(self.v1)} "
                    "by digest, still answer")
