"""Lab 04 · Break-fix: "port is already allocated"."""

from __future__ import annotations

from .. import checks
from ..exercises import Sheet, done, missing, task


class FixPort(Sheet):
    id = "lab-04"
    title = "Fix: port is already allocated"
    port_base = 5140

    def setup(self) -> None:
        seed = self.run_registry("seed", volume="data")  # fill the team's volume, then go
        ref = seed.ref("app", "1.0")
        self.lab.make_image(ref, [("srv/app.bin", 10_000)], seed="lab-04")
        self.lab.push(ref)
        self.lab.remove_image(ref)
        self.digest = checks.digest_of(seed.address, "app", "1.0")
        self.lab.kill_registry()
        self.lab.remove_registry()
        old = self.run_registry("old")  # a forgotten registry, holding the port
        self.old, self.anonymous = self.hidden("old", old.name), self.engine.containers.inspect(old.name).data
        self.new_container("registry", "registry", "the team's registry you start")
        self.name("address", old.address, "where it must answer")
        self.name("volume", seed.volume, "the team's volume, holding its images")

    @task("Start the team's registry on its port",
          hint="Try it: docker container run -d --name <registry> -p <address>:5000 -v <volume>:/var/lib/registry "
               "registry:3. Read the error, then find who holds the port: docker container ls shows published "
               "ports (ss -ltnp lists every listening program). A failed run may leave a created container behind.",
          solution="docker container ls --all   # {old} publishes the port\n"
                   "docker container rm -f -v {old}\ndocker container rm {registry}   # if a failed run left it\n"
                   "docker container run -d --name {registry} -p {address}:5000 -v {volume}:/var/lib/registry registry:3")
    def q1(self):
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        info = self.engine.containers.inspect(self.registry)
        if info.data is None or info.data.source != self.volume:
            return missing(f"{self.registry} answers but does not use the volume {self.volume}")
        if checks.digest_of(self.address, "app", "1.0") != self.digest:
            return missing("what answers does not serve the team's app:1.0")
        served = checks.served(self.address, "app", "1.0")
        return done(f"{self.registry} answers at {self.address} with the team's app:1.0") if served \
            else missing(served.detail)

    @task("Remove the forgotten registry, data and all",
          hint="The container that held the port had an anonymous volume of its own: remove both (rm -v).",
          solution="docker container rm -f -v {old}")
    def q2(self):
        if self.engine.containers.inspect(self.old) is not None:
            return missing(f"{self.old} still exists")
        old = self.anonymous
        if old is not None and not old.source.startswith("/") and self.engine.objects.volume_exists(old.source):
            return missing(f"{self.old} is gone but its anonymous volume {old.source[:12]}… is still there: "
                           "docker volume rm it (next time: docker container rm -v)")
        return done(f"{self.old} and its data are gone")
