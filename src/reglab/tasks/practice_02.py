"""Notebook 02's "Your turn": a second tag in the bind-mounted folder, a registry recreated by hand."""

from __future__ import annotations

import os
import time

from .. import checks, errors
from ..exercises import Practice, done, missing, task
from ..media import short_digest
from ..registry_api import RegistryClient
from ..storage import tag_link_path


class Practice02(Practice):
    id = "02"
    title = "Keep your images with volumes"

    def setup(self) -> None:
        registry = self.lab.sandbox.current()
        self.name("address", registry.address, "the notebook's registry")
        self.name("folder", str(registry.bind), "the folder it keeps its data in (a bind mount)")
        self.name("registry", registry.name, "its container, which you recreate in task 2")
        self.lab.state.add_name("containers", registry.name)  # recreated by hand, unlabelled: cleanup removes it
        self.expect_tag(f"{registry.address}/hello-world:v2")
        self.image_id = checks.config_of(registry.address, "hello-world", "latest") or "?"
        self.since = time.time()  # task 2's container must be started after this

    def _link(self, tag: str) -> str:
        return os.path.join(self.folder, tag_link_path("hello-world", tag))

    @task("A second tag, as a file",
          hint="Tag the image you have, {address}/hello-world, as {address}/hello-world:v2 and push it. Then look "
               "under repositories/hello-world/_manifests/tags/ in the folder: what is new, and what did not grow?",
          solution="docker image tag {address}/hello-world {address}/hello-world:v2\n"
                   "docker image push {address}/hello-world:v2\n"
                   "find {folder} -path '*/tags/*' -name link | sort")
    def q1(self):
        if RegistryClient(self.address).status() is None:
            return missing(errors.nothing_answers(self.address))
        link = self._link("v2")
        if not os.path.exists(link):
            return missing(f"{self.folder} has no tag folder hello-world/_manifests/tags/v2 yet: push "
                           f"{self.address}/hello-world:v2")
        served = checks.serves_image(self.address, "hello-world", "v2", self.image_id, "hello-world")
        if not served:
            return missing(served.detail)
        with open(link) as fh:
            v2 = fh.read().strip()
        with open(self._link("latest")) as fh:
            latest = fh.read().strip()
        if v2 != latest:
            return missing(f"tags/v2 names {short_digest(v2)}, tags/latest {short_digest(latest)}: push the same image")
        return done(f"tags/v2/current/link holds {short_digest(v2)}, as tags/latest does: a new 71-byte file, "
                    "no new blob")

    @task("Recreate the registry yourself",
          hint="Remove the container {registry} (docker container rm -f), then run it again with the docker CLI: "
               "same name, same -p {address}:5000, the same folder mounted at /var/lib/registry, and --user "
               "\"$(id -u):$(id -g)\" so that the files stay yours.",
          solution="docker container rm -f -v {registry}\n"
                   "docker container run -d --name {registry} -p {address}:5000 --user \"$(id -u):$(id -g)\" "
                   "-v {folder}:/var/lib/registry registry:3")
    def q2(self):
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        info = self.engine.containers.inspect(self.registry)
        if info.data is None or info.data.kind != "bind" or not checks.same_folder(info.data.source, self.folder):
            return missing(f"{self.registry} does not keep its data in {self.folder}: recreate it with "
                           f"-v {self.folder}:/var/lib/registry")
        if info.started < self.since:
            return missing(f"{self.registry} is still the container the notebook started: remove it and run it "
                           "again yourself")
        served = checks.serves_image(self.address, "hello-world", "v2", self.image_id, "hello-world")
        if not served:
            return missing(f"the new {self.registry} does not serve hello-world:v2 (do task 1 first): {served.detail}")
        return done(f"{self.registry}, started anew on {self.folder}, serves hello-world:v2: the folder kept it")
