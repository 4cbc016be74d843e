"""Notebook 01's "Your turn": a second tag, a copy that keeps crane's digest, a run by digest."""

from __future__ import annotations

import os
from pathlib import Path

from .. import checks, errors, tools
from ..exercises import Practice, done, missing, task
from ..media import short_digest
from ..reference import parse
from ..registry_api import RegistryClient


def crane_on_path(practice: Practice) -> None:
    """``crane`` in the notebook's shell commands (``!crane …``) is the one the set-up built: a link
    to it in the folder the practice puts first on the shell's PATH (a learner's own ``go install``
    puts it in ``~/go/bin``)."""
    program = tools.find("crane", practice.lab.settings.tools_dir)
    if program is None:
        return
    folder = practice.shell.path or practice.lab.state.shell_bin
    folder.mkdir(parents=True, exist_ok=True)
    link = Path(folder) / "crane"
    if not (link.is_symlink() and os.readlink(link) == str(program)):
        tmp = Path(folder) / f".crane.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(program)
        tmp.replace(link)
    if practice.shell.path is None:
        practice.shell.path = Path(folder)
        practice.shell.install()


class Practice01(Practice):
    id = "01"
    title = "Run your own registry"

    def setup(self) -> None:
        registry = self.lab.sandbox.current()
        self.name("address", registry.address, "the notebook's registry")
        self.new_container("pinned", "pinned", "the container you run by digest")
        self.expect_tag(f"{registry.address}/hello-world:v2")
        # the image step 6 pulled back: its ID is the config digest the registry's hello-world:latest names
        self.hello_image = f"{registry.address}/hello-world"
        self.hello_id = checks.config_of(registry.address, "hello-world", "latest") or "?"
        crane_on_path(self)

    @task("A second tag of the same image",
          hint="Give the image you pulled back, {address}/hello-world, the name {address}/hello-world:v2 and push "
               "that name. Before you do: the registry has every blob of this image already, so how many layers "
               "will docker push send, and which digest will it print?",
          solution="docker image tag {address}/hello-world {address}/hello-world:v2\n"
                   "docker image push {address}/hello-world:v2")
    def q1(self):
        served = checks.serves_image(self.address, "hello-world", "v2", self.hello_id, self.hello_image)
        if not served:
            return missing(served.detail)
        v2, latest = (checks.digest_of(self.address, "hello-world", t) for t in ("v2", "latest"))
        if latest and v2 == latest:
            return done(f"v2 and latest name one manifest, {short_digest(v2)}: the push sent no layer and wrote "
                        "the same manifest under a second tag")
        return done(f"hello-world:v2 is hello-world, manifest {short_digest(v2)}")

    @task("A copy that keeps crane's digest",
          hint="crane copy SOURCE TARGET copies an image between two names — one registry or two — moving the "
               "blobs and the manifest as they are, with no copy on this machine.",
          solution="crane copy {address}/motd:crane {address}/backup/motd:crane")
    def q2(self):
        original = checks.digest_of(self.address, "motd", "crane")
        if original is None:
            if RegistryClient(self.address).status() is None:
                return missing(errors.nothing_answers(self.address))
            return missing(f"{self.address} has no motd:crane to copy: run the cells of step 7 first")
        served = checks.served(self.address, "backup/motd", "crane")
        if not served:
            return missing(served.detail)
        copy = checks.digest_of(self.address, "backup/motd", "crane")
        if copy != original:
            return missing(f"backup/motd:crane is {short_digest(copy)}, not motd:crane's {short_digest(original)}: "
                           "whatever pushed it wrote its own manifest (docker push does); copy it with crane copy")
        return done(f"backup/motd:crane is byte for byte motd:crane, {short_digest(copy)}")

    @task("Run hello-world by its digest",
          hint="A name may end in @<digest> instead of :<tag>, and then it can only ever mean those bytes; "
               "crane digest (or the digest docker push printed) gives it. Name the container as asked.",
          solution="docker container run --name {pinned} {address}/hello-world@$(crane digest "
                   "{address}/hello-world:latest)")
    def q3(self):
        info = self.engine.containers.inspect(self.pinned)
        if info is None:
            return missing(f"there is no container {self.pinned}: run it with --name {self.pinned}")
        digest = checks.digest_of(self.address, "hello-world", "latest")
        if digest is None:
            return missing(f"{self.address} no longer serves hello-world:latest, whose digest the container should "
                           "name")
        ran = info.reference or "?"
        try:
            named = parse(ran)
            same = (named.registry, named.repository, named.digest) == (self.address, "hello-world", digest)
        except errors.ReglabError:
            same = False
        if not same:
            return missing(f"{self.pinned} ran {ran}, not {self.address}/hello-world@{short_digest(digest)}: a tag "
                           "may move to other bytes tomorrow, a digest cannot; run the name with @<digest>")
        if info.exit_code != 0:
            return missing(f"{self.pinned} exited with code {info.exit_code}: docker container logs {self.pinned}")
        return done(f"{self.pinned} ran {self.address}/hello-world@{short_digest(digest)}, image "
                    f"{short_digest(info.image)}: those bytes, whatever the tag latest names tomorrow")
