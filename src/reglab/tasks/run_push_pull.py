"""Lab 01 · Run, push, pull: run your own registry, push to it, copy an image from another one."""

from __future__ import annotations

from .. import checks, errors
from ..exercises import Sheet, done, missing, task
from ..media import short_digest
from ..reference import parse
from ..registry_api import RegistryClient


class RunPushPull(Sheet):
    id = "lab-01"
    title = "Run, push, pull"
    port_base = 5110

    def setup(self) -> None:
        self.new_container("registry", "registry", "the registry container you run")
        self.new_address("address", "where your registry must answer")
        team = self.run_registry("team")
        self.name("team", team.address, "the team's registry (the set-up started it)")
        self.new_container("hello", "hello", "the container you run from your registry's image")
        motd = team.ref("team/motd", "1.0")
        self.lab.make_image(motd, [("etc/motd", 2_000)], seed="lab-01-motd")
        self.lab.push(motd)
        self.lab.remove_image(motd)  # the team has it; you do not, yet
        self.team_digest = checks.digest_of(team.address, "team/motd", "1.0")
        hello = self.lab.settings.hello_image
        self.hello_image, self.hello_id = hello, self.engine.images.info(hello).id  # what task 2 must push
        for ref in (f"{self.address}/hello:v1", motd, f"{self.address}/motd:1.0"):
            self.expect_tag(ref)

    @task("Run your registry",
          hint="A registry is a container of the image registry:3; it listens on port 5000 inside. Name the "
               "container with --name and publish its port on 127.0.0.1 only with -p <host ip>:<host port>:"
               "<container port>; -d keeps it running in the background.",
          solution="docker container run -d --name {registry} -p {address}:5000 registry:3")
    def q1(self):
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        info = self.engine.containers.inspect(self.registry)
        everywhere = [f"{h or '0.0.0.0'}:{p}" for h, p in info.ports if h in ("", "0.0.0.0", "::")]
        if everywhere:
            return missing(f"{self.registry} publishes {everywhere[0]}, on every address of this machine: anyone on "
                           f"the network can push to it; recreate it with -p {self.address}:5000")
        return running

    @task("Push hello-world into your registry as hello:v1",
          hint="An image goes where its name says: the part before the first / is the registry. Give hello-world "
               "a second name that starts with your registry's address (docker image tag), then push that name.",
          solution="docker image tag hello-world {address}/hello:v1\ndocker image push {address}/hello:v1")
    def q2(self):
        return checks.serves_image(self.address, "hello", "v1", self.hello_id, self.hello_image)

    @task("Copy the team's motd:1.0 into your registry",
          hint="Images move between registries through your machine: pull team/motd:1.0 from the team's "
               "registry (its address is part of the name), name it for yours, push. The manifest digest stays the "
               "same here only because the team's layers were compressed the way your engine compresses them: "
               "docker push compresses each layer again, while crane copy keeps every byte.",
          solution="docker image pull {team}/team/motd:1.0\ndocker image tag {team}/team/motd:1.0 {address}/motd:1.0\n"
                   "docker image push {address}/motd:1.0\n"
                   "# or, without a copy on this machine: crane copy {team}/team/motd:1.0 {address}/motd:1.0")
    def q3(self):
        served = checks.served(self.address, "motd", "1.0")
        if not served:
            return missing(served.detail)
        digest = checks.digest_of(self.address, "motd", "1.0")
        if digest != self.team_digest:
            return missing(f"your motd:1.0 is {short_digest(digest)}, not the team's {short_digest(self.team_digest)}: "
                           "copy the team's image, not another one")
        return done(f"same manifest digest as the team's, {short_digest(digest)}")

    @task("Run hello:v1 from your registry",
          hint="docker container run takes any image name, your registry's included: the name says where the "
               "image comes from. Name the container so the check finds it. It prints its greeting and stops "
               "(exit code 0).",
          solution="docker container run --name {hello} {address}/hello:v1")
    def q4(self):
        info = self.engine.containers.inspect(self.hello)
        if info is None:
            return missing(f"there is no container {self.hello}: run {self.address}/hello:v1 with --name {self.hello}")
        wanted = f"{self.address}/hello:v1"
        ran = info.reference or "?"
        if _tagged(ran) != _tagged(wanted):
            return missing(f"{self.hello} ran the image {ran}, not {wanted}: a name without your registry's address "
                           "is another image name, even with the same bytes; remove the container and run "
                           f"{wanted}")
        served = RegistryClient(self.address)
        if served.status() is None:
            return missing(errors.nothing_answers(self.address))
        try:
            config = served.manifest("hello", "v1").config
        except errors.ReglabError:
            return missing("your registry has no hello:v1 to compare with: do task 2 first")
        if info.image != config:
            return missing(f"{self.hello} runs image {short_digest(info.image)}, not the hello:v1 your registry serves "
                           f"({short_digest(config)}): pull {wanted} again, then run it")
        if info.exit_code != 0:
            return missing(f"{self.hello} exited with code {info.exit_code}: look at docker container logs {self.hello}")
        return done(f"{self.hello} ran {wanted}, image {short_digest(config)} (the config digest of hello:v1), "
                    "and exited 0")


def _tagged(reference: str) -> str:
    try:
        return parse(reference).tagged
    except errors.ReglabError:
        return reference
