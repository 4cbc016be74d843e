"""Lab 03 · Break-fix: a registry without a volume is about to be recreated. Save its images."""

from __future__ import annotations

import os

from .. import checks
from ..media import short_digest
from ..exercises import Sheet, done, missing, task

TAGS = ("1.0", "1.1")


class FixLostImages(Sheet):
    id = "lab-03"
    title = "Fix: images that die with the container"
    port_base = 5130

    def setup(self) -> None:
        registry = self.run_registry("registry")  # as a colleague ran it: no volume
        self.name("registry", registry.name, "the team's registry, running without a volume")
        self.name("address", registry.address, "where it answers (and must still answer)")
        self.new_volume("volume", "data", "the named volume its data must end up in")
        self.digests, self.ids = {}, {}
        for tag in TAGS:
            ref = registry.ref("app", tag)
            self.lab.make_image(ref, [("srv/app.bin", 10_000 + int(float(tag) * 10))], seed=f"lab-03-{tag}")
            self.lab.push(ref)
            self.lab.remove_image(ref)  # only the registry has them now
            self.digests[tag] = checks.digest_of(registry.address, "app", tag)
            self.ids[tag] = checks.config_of(registry.address, "app", tag)  # the image ID
            self.expect_tag(ref)  # you will pull them
        self.anonymous = self.engine.containers.inspect(registry.name).data  # where its data lives now

    @task("Move the registry onto the volume without losing an image",
          hint="Recreating the container throws away what it holds, so copy the images out first: they are only "
               "in the registry (docker image ls shows none). Pull them, recreate the registry with "
               "-v <volume>:/var/lib/registry on the same name and port, wait until it answers, push them back.",
          solution="docker image pull {address}/app:1.0\ndocker image pull {address}/app:1.1\n"
                   "docker container rm -f -v {registry}\ndocker container run -d --name {registry} -p {address}:5000 "
                   "-v {volume}:/var/lib/registry registry:3\ncurl -s -o /dev/null --retry 10 --retry-delay 1 --retry-all-errors http://{address}/v2/\n"
                   "docker image push {address}/app:1.0\ndocker image push {address}/app:1.1")
    def q1(self):
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        info = self.engine.containers.inspect(self.registry)
        if info.data is None or info.data.kind != "volume" or info.data.source != self.volume:
            where = f"in the {info.data.kind} {info.data.source}" if info.data and info.data.kind != "anonymous" \
                else "inside the container"
            return missing(f"{self.registry} keeps its data {where}, not in the volume {self.volume}: recreate it with "
                           f"-v {self.volume}:/var/lib/registry")
        for tag, image_id in self.ids.items():
            served = checks.serves_image(self.address, "app", tag, image_id, f"the team's app:{tag}")
            if not served:
                return missing(served.detail)
        same = all(checks.digest_of(self.address, "app", tag) == digest for tag, digest in self.digests.items())
        return done(f"{self.registry} serves app:1.0 and app:1.1, the same images (IDs "
                    f"{', '.join(short_digest(i) for i in self.ids.values())}), from the volume {self.volume}"
                    + ("; under the same manifest digests" if same else "; under new manifest digests (their layers "
                       "were compressed again on the way)"))

    @task("Leave no orphaned data behind",
          hint="docker container rm removes a container, not the anonymous volume Docker made for the image's "
               "VOLUME /var/lib/registry: add -v, or find it in docker volume ls (64 hex digits) and remove it.",
          solution="docker container rm -f -v {registry}   # when you remove the old container\n"
                   "docker volume ls   # and docker volume rm <the 64-hex name> if one is left")
    def q2(self):
        old = self.anonymous
        if old is None:
            return done("the old container had no data of its own")
        if old.source.startswith("/"):  # the daemonless engine: a folder of the container
            left = os.path.exists(old.source)
        else:
            left = self.engine.objects.volume_exists(old.source)
        if left:
            what = "folder" if old.source.startswith("/") else f"volume {old.source[:12]}…"
            return missing(f"the old container's anonymous {what} still exists: remove the old container with -v")
        return done("the old container's anonymous volume is gone")
