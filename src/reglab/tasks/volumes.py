"""Lab 02 · Keep your images: named volumes, recreating a registry, bind mounts."""

from __future__ import annotations

import os

from .. import accesslog, checks
from ..media import short_digest
from ..exercises import Sheet, done, missing, task

TAG_LINK = "docker/registry/v2/repositories/hello/_manifests/tags/v1/current/link"


class Volumes(Sheet):
    id = "lab-02"
    title = "Keep your images"
    port_base = 5120

    def setup(self) -> None:
        self.new_volume("volume", "data", "the named volume you create")
        self.new_container("registry", "registry", "your first registry container")
        self.new_container("replacement", "registry2", "the container that replaces it")
        self.new_address("address", "where both answer, one after the other")
        self.new_container("opened", "opened", "a registry keeping its data in a folder")
        self.new_address("opened_address", "where that one answers")
        self.new_folder("folder", "registry-data", "the folder it keeps its data in")
        for address in (self.address, self.opened_address):
            self.expect_tag(f"{address}/hello:v1")
        hello = self.lab.settings.hello_image
        self.hello_image, self.hello_id = hello, self.engine.images.info(hello).id  # what tasks 3 and 5 push

    def _on_volume(self, name: str) -> str | None:
        running = checks.registry_at(self.engine, name, self.address)
        if not running:
            return running.detail
        info = self.engine.containers.inspect(name)
        if info.data is None or info.data.kind != "volume" or info.data.source != self.volume:
            where = f"{info.data.kind} {info.data.source}" if info.data else "its own layer"
            return f"{name} keeps /var/lib/registry in {where}, not in the volume {self.volume}: recreate it with " \
                   f"-v {self.volume}:/var/lib/registry"
        return None

    @task("Create a named volume",
          hint="Volumes have their own docker subcommand; a named volume is created once and outlives every "
               "container that uses it.",
          solution="docker volume create {volume}")
    def q1(self):
        if not self.engine.objects.volume_exists(self.volume):
            return missing(f"there is no volume {self.volume} yet (docker volume ls lists them)")
        return done(f"the volume {self.volume} exists")

    @task("Run your registry on the volume",
          hint="The registry keeps everything under /var/lib/registry inside its container. Mount the volume "
               "there with -v <volume>:<path inside>; name and publish the container as in lab 01.",
          solution="docker container run -d --name {registry} -p {address}:5000 "
                   "-v {volume}:/var/lib/registry registry:3")
    def q2(self):
        if self.engine.containers.inspect(self.registry) is None and \
                self.engine.containers.inspect(self.replacement) is not None:  # task 4 done: it lives on in its replacement
            problem = self._on_volume(self.replacement)
            return missing(problem) if problem else done(f"{self.replacement}, which replaced {self.registry} in task 4, "
                                                         f"answers at {self.address} from the volume {self.volume}")
        problem = self._on_volume(self.registry)
        return missing(problem) if problem else done(f"{self.registry} answers at {self.address} and keeps its "
                                                     f"data in the volume {self.volume}")

    @task("Push hello:v1 into it",
          hint="As in lab 01: name the image for your registry, then push that name.",
          solution="docker image tag hello-world {address}/hello:v1\ndocker image push {address}/hello:v1")
    def q3(self):
        return checks.serves_image(self.address, "hello", "v1", self.hello_id, self.hello_image)

    @task("Replace the container; the image stays",
          hint="Remove the first container entirely (docker container rm -f), then run the replacement on the "
               "same volume and port. Nobody pushes again: the image must come from the volume.",
          solution="docker container rm -f -v {registry}\ndocker container run -d --name {replacement} "
                   "-p {address}:5000 -v {volume}:/var/lib/registry registry:3")
    def q4(self):
        if self.engine.containers.inspect(self.registry) is not None:
            return missing(f"{self.registry} still exists: remove it (docker container rm -f -v {self.registry})")
        problem = self._on_volume(self.replacement)
        if problem:
            return missing(problem)
        served = checks.serves_image(self.address, "hello", "v1", self.hello_id, self.hello_image)
        if not served:
            return missing(f"{self.replacement} runs on the volume but does not serve hello:v1: {served.detail}")
        pushes = [r for r in accesslog.parse(self.engine.containers.logs(self.replacement))
                  if r.method == "PUT" and r.path.startswith("/v2/hello/manifests/")]
        if pushes:
            return missing(f"{self.replacement}'s log shows hello:v1 pushed to it ({pushes[0].method} {pushes[0].path}): "
                           "this task is to find the image the volume kept, without a push; remove "
                           f"{self.replacement} and run a new container on the volume")
        return done(f"{self.replacement} serves hello:v1 from the volume {self.volume}, and nobody pushed it there")

    @task("Keep the data in a folder you can open",
          hint="A bind mount maps a folder of this machine into the container: -v <absolute path>:<path inside>. "
               "Add --user \"$(id -u):$(id -g)\" so the files it writes are yours. Push hello:v1 there too, then "
               "look for the tag v1 under repositories/ in the folder.",
          solution="docker container run -d --name {opened} -p {opened_address}:5000 --user \"$(id -u):$(id -g)\" "
                   "-v {folder}:/var/lib/registry registry:3\ndocker image tag hello-world {opened_address}/hello:v1\n"
                   "docker image push {opened_address}/hello:v1\ncat {folder}/" + TAG_LINK)
    def q5(self):
        running = checks.registry_at(self.engine, self.opened, self.opened_address)
        if not running:
            return running
        info = self.engine.containers.inspect(self.opened)
        if info.data is None or info.data.kind != "bind" or not checks.same_folder(info.data.source, self.folder):
            return missing(f"{self.opened} does not keep its data in {self.folder}: recreate it with "
                           f"-v {self.folder}:/var/lib/registry")
        link = os.path.join(self.folder, TAG_LINK)
        if not os.path.exists(link):
            return missing(f"{self.folder} has no tag hello:v1 yet: push {self.opened_address}/hello:v1")
        mine = str(os.getuid())
        if (info.user or "").split(":")[0] != mine and not (os.stat(link).st_uid == os.getuid() != 0):
            return missing(f"{self.opened} runs as {info.user or 'root'}, so the files it writes in {self.folder} "
                           "are not yours to change: recreate it with --user \"$(id -u):$(id -g)\"")
        served = checks.serves_image(self.opened_address, "hello", "v1", self.hello_id, self.hello_image)
        if not served:
            return missing(served.detail)
        digest = checks.digest_of(self.opened_address, "hello", "v1")
        with open(link) as fh:
            text = fh.read().strip()
        if text != digest:
            return missing(f"the link file says {text[:19]}… but the registry serves {digest}")
        return done(f"the tag v1 is the file {link.replace(self.folder, '<folder>')}, holding {short_digest(digest)}")
