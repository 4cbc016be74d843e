"""Lab 13 · Break-fix: "blob upload unknown" — two replicas behind nginx without a shared secret.

The set-up is notebook 07's, built with :mod:`reglab.steps.scale`: an object store with the
bucket, two registry replicas on it (each with the secret it made up at start) and nginx
round-robin in front at the sheet's address. ``team/app:v1`` is on the learner's machine; its
layer is in the bucket already, so its push fails at once, at its config: "blob upload unknown".
"""

from __future__ import annotations

from .. import checks
from ..checks import balanced
from ..exercises import Sheet, done, missing, task
from ..media import short_digest
from ..reference import parse
from ..registry_api import RegistryClient
from ..scaleout import NETWORK

REPOSITORY = "team/app"


class FixUpload(Sheet):
    id = "lab-13"
    title = "Fix: blob upload unknown"
    port_base = 5230

    def setup(self) -> None:
        scale = self.lab.scale
        scale.run_store(port=self.new_port())
        scale.create_bucket()
        balancer = scale.run_replicas(2, port=self.new_port())
        self._next_port = max(self._next_port, balancer.port + 3)
        first, second = scale.replicas
        for replica in scale.replicas:  # the learner recreates them, unlabelled with Docker
            self.lab.state.add_name("containers", replica.name)
        # yesterday's v0, pushed to one replica directly: its layer is in the bucket
        v0 = scale.make_app("v0")
        direct = first.ref(REPOSITORY, "v0")
        self.engine.images.tag(v0, direct)
        self.lab.sandbox.record_tag(parse(direct).tagged)
        self.engine.images.push(direct)
        self.image_ref = scale.make_app("v1")
        self.expect_tag(self.image_ref)
        self.config_digest = self.engine.images.info(self.image_ref).id  # the image the push must bring
        self.name("address", balancer.address, "the team's registry: nginx, in front of two replicas")
        self.name("replica1", first.name, f"replica 1, published at {first.address}")
        self.name("replica2", second.name, f"replica 2, published at {second.address}")
        self.name("nginx", balancer.name, "the load balancer")
        self.name("config", str(next(here for here, _ in first.files)), "the replicas' config file (it holds the "
                  "store's keys: yours alone)")
        self.name("image", first.run.image, "the registry image the replicas run")
        self.name("network", self.scope.object_name(NETWORK), "the network every part is on")
        self.name("secret", str(self.lab.sandbox.folder("yours") / "http-secret"),
                  "a file for the secret you choose (not made yet)")
        self.hidden("port1", str(first.port))
        self.hidden("port2", str(second.port))
        self.hidden("config_path", first.run.config_path)

    @task("Let an upload continue on either replica",
          hint="Push team/app:v1 and read both replicas' logs (docker container logs …): what does the one that "
               "refused the upload complain about? An upload's state travels in its URL, signed with the replica's "
               "http.secret; each replica here made up its own at start. Both must run with the same one "
               "(REGISTRY_HTTP_SECRET): recreate both, then restart nginx so it finds them again.",
          solution="python3 -c 'import secrets; print(secrets.token_hex(32))' > {secret}\n"
                   "docker container rm -f -v {replica1} {replica2}\n"
                   "docker container run -d -p 127.0.0.1:{port1}:5000 --name {replica1} --network {network} "
                   "-v {config}:{config_path}:ro -e REGISTRY_HTTP_SECRET=\"$(cat {secret})\" {image}\n"
                   "docker container run -d -p 127.0.0.1:{port2}:5000 --name {replica2} --network {network} "
                   "-v {config}:{config_path}:ro -e REGISTRY_HTTP_SECRET=\"$(cat {secret})\" {image}\n"
                   "docker container restart {nginx}")
    def q1(self):
        return balanced(self.engine, self.address, [self.replica1, self.replica2], REPOSITORY)

    @task("Push team/app:v1 through the load balancer",
          hint="Once any replica can continue any upload, the same push goes through: its layer is in the bucket "
               "already, only its config is sent.",
          solution="docker image push {address}/team/app:v1")
    def q2(self):
        served = checks.served(self.address, REPOSITORY, "v1")
        if not served:
            return missing(served.detail)
        config = RegistryClient(self.address).manifest(REPOSITORY, "v1").config
        if config != self.config_digest:
            return missing(f"{self.address} serves a team/app:v1 whose config is {short_digest(config or '')}, not "
                           f"the set-up's ({short_digest(self.config_digest)}): push the image the set-up loaded")
        return done(f"{served.detail}; its config is this machine's team/app:v1 ({short_digest(config)})")
