"""Lab 07 · Break-fix: DELETE answers 405 Method Not Allowed.

registry:3's image turns deletes on in its own config; a team's config mounted in its place, as
teams do, says ``storage: delete: enabled: false`` (the registry program's default, and
registry:2's) — and every delete gets 405 ``UNSUPPORTED``. The team's config also sends a header
of its own (``X-Content-Type-Options: nosniff``, which registry:3's config no longer sends): a
registry that answers with it still reads the team's config.
"""

from __future__ import annotations

from pathlib import Path

from .. import checks
from ..exercises import Sheet, done, missing, task
from ..registry_api import RegistryClient
from ..registry_run import CONFIG_PATHS, registry_major
from .evidence import image_deleted, silent

TEAM_HEADER = ("X-Content-Type-Options", "nosniff")

TEAM_CONFIG = """\
# The platform team's registry config, mounted over the image's own:
#   docker container run … -v <this file>:{inside}:ro …
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: false
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
"""


class FixDelete(Sheet):
    id = "lab-07"
    title = "Fix: 405 on delete"
    port_base = 5170

    def setup(self) -> None:
        self.new_folder("folder", "registry-data", "its data folder")
        inside = CONFIG_PATHS[registry_major(self.lab.settings.registry_image)]
        config = Path(self.lab.sandbox.folder("team")) / "config.yml"
        config.write_text(TEAM_CONFIG.format(inside=inside))
        self.name("config", str(config), f"the team's config, mounted read-only at {inside}")
        self.hidden("inside", inside)
        registry = self.lab.registries.run(port=self.new_port(), name="registry", bind=self.folder,
                                           files={str(config): inside})
        self.lab.state.add_name("containers", registry.name)  # the learner may recreate it, unlabelled
        self.name("registry", registry.name, "the team's registry")
        self.name("address", registry.address, "where it answers")
        self.digests = {}
        for tag in ("v1", "v2"):
            ref = registry.ref("app", tag)
            self.lab.make_image(ref, [("srv/app.bin", 10_000)], seed=f"lab-07-{tag}")
            self.lab.push(ref)
            self.digests[tag] = checks.digest_of(registry.address, "app", tag)

    def _team_config_read(self) -> bool:
        answer = RegistryClient(self.address).request("GET", "/v2/", ok=tuple(range(100, 600)))
        return answer.headers.get(TEAM_HEADER[0]) == TEAM_HEADER[1]

    @task("Allow deletes, keeping every image and the team's config",
          hint="Try the delete first and read the answer's error code. The registry refuses deletes unless its "
               "configuration allows them (storage: delete: enabled). Which config does it read? docker container "
               "inspect shows what is mounted where. A mounted file is read when the container starts: change it, "
               "then restart the container — or override one setting with REGISTRY_STORAGE_DELETE_ENABLED=true "
               "on a recreated container (same folder, port, --user and config).",
          solution="sed -i 's/enabled: false/enabled: true/' {config}\ndocker container restart {registry}")
    def q1(self):
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        if not checks.deletes_allowed(self.address, "app"):
            return missing("a DELETE still answers 405 (UNSUPPORTED): the config it reads has deletes off")
        if not self._team_config_read():
            return missing(f"deletes are on, but it no longer reads the team's config (no {TEAM_HEADER[0]} header): "
                           f"mount {self.config} at {self.inside} again and turn deletes on there")
        for tag in ("v1", "v2"):
            if not checks.has_tag(self.address, "app", tag):
                continue
            whole = checks.served(self.address, "app", tag)
            if not whole:
                return missing(f"deletes are on, but app:{tag} is not served whole any more: {whole.detail}")
        if not checks.has_tag(self.address, "app", "v2"):
            return missing("deletes are on, but app:v2 is gone: it had to stay")
        return done("a DELETE of an unknown digest answers 404 now, not 405; the team's config is still read; "
                    "the images are still there")

    @task("Delete app:v1",
          hint="DELETE /v2/app/manifests/<digest> deletes the image: the digest is the Docker-Content-Digest "
               "header of a HEAD of the manifest with Accept: application/vnd.docker.distribution.manifest.v2+json. "
               "(DELETE by tag removes only the tag on registry:3, and the image stays.)",
          solution="curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "
                   "http://{address}/v2/app/manifests/v1 | grep -i docker-content-digest\n"
                   "curl -sSf -X DELETE http://{address}/v2/app/manifests/<that digest>")
    def q2(self):
        problem = silent(self.address) or image_deleted(self.address, "app", "v1", self.digests["v1"])
        if problem:
            return missing(problem)
        whole = checks.served(self.address, "app", "v2")
        return done("app:v1 is deleted, app:v2 serves whole") if whole else missing(f"app:v2 is damaged: {whole.detail}")
