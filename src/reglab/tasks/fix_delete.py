"""Lab 07 · Break-fix: DELETE answers 405 Method Not Allowed."""

from __future__ import annotations

from .. import checks
from ..exercises import Sheet, done, missing, task


class FixDelete(Sheet):
    id = "lab-07"
    title = "Fix: 405 on delete"
    port_base = 5170

    def setup(self) -> None:
        self.new_folder("folder", "registry-data", "its data folder")
        registry = self.run_registry("registry", bind=self.folder)  # deletes off: upstream's default
        self.name("registry", registry.name, "the team's registry")
        self.name("address", registry.address, "where it answers")
        for tag in ("v1", "v2"):
            ref = registry.ref("app", tag)
            self.lab.make_image(ref, [("srv/app.bin", 10_000)], seed=f"lab-07-{tag}")
            self.lab.push(ref)

    @task("Allow deletes, keeping every image",
          hint="Try the delete first and read the answer's error code. The registry refuses deletes unless its "
               "configuration allows them: storage.delete.enabled, or the environment variable "
               "REGISTRY_STORAGE_DELETE_ENABLED. Environment is set when a container is created: recreate it on "
               "the same folder, port and --user.",
          solution="docker container rm -f {registry}\ndocker container run -d --name {registry} -p {address}:5000 "
                   "--user \"$(id -u):$(id -g)\" -v {folder}:/var/lib/registry "
                   "-e REGISTRY_STORAGE_DELETE_ENABLED=true registry:2")
    def q1(self):
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        if not checks.deletes_allowed(self.address, "app"):
            return missing("a DELETE still answers 405 (UNSUPPORTED): deletes are off")
        served = checks.served(self.address, "app", "v2")
        if not served:
            return missing(f"deletes are on, but app:v2 is not served whole any more: {served.detail}")
        return done("a DELETE of an unknown digest answers 404 now, not 405; the images are still there")

    @task("Delete app:v1",
          hint="DELETE /v2/app/manifests/<digest>: the digest Docker-Content-Digest gives when you HEAD the "
               "manifest with Accept: application/vnd.docker.distribution.manifest.v2+json.",
          solution="curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "
                   "http://{address}/v2/app/manifests/v1 | grep -i docker-content-digest\n"
                   "curl -sSf -X DELETE http://{address}/v2/app/manifests/<that digest>")
    def q2(self):
        if checks.has_tag(self.address, "app", "v1"):
            return missing("app still has v1")
        served = checks.served(self.address, "app", "v2")
        return done("app:v1 is deleted, app:v2 serves whole") if served else missing(f"app:v2 is damaged: {served.detail}")
