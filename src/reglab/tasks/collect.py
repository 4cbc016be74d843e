"""Lab 06 · Garbage collection: delete by digest, read-only mode, collect, push again."""

from __future__ import annotations

from .. import checks
from .. import images
from ..exercises import Sheet, done, missing, task
from ..limits import Cannot
from ..registry_api import RegistryClient
from .evidence import READ_ONLY, config_digest, config_readonly, image_deleted, is_image, readonly_setting, silent

KiB = 1024


def app_image(address: str, tag: str, top: str):
    """``app:<tag>``: the shared base layer and a thin top layer of its own (seeded: the same everywhere)."""
    return images.synthetic_image(f"{address}/app:{tag}", [images.random_layer("base/os.bin", 64 * KiB, "lab-06-base"),
                                                         images.random_layer("app/main.bin", 16 * KiB, f"lab-06-{top}")])


def push_answer(address: str, repository: str) -> int:
    """The status a push's first request gets (``POST …/blobs/uploads/``); an upload it starts is cancelled."""
    api = RegistryClient(address)
    answer = api.request("POST", f"/v2/{repository}/blobs/uploads/", ok=tuple(range(100, 600)))
    if answer.status_code == 202 and answer.headers.get("Location"):
        api.request("DELETE", api.url(answer.headers["Location"]), ok=tuple(range(100, 600)))
    return answer.status_code


class Collect(Sheet):
    id = "lab-06"
    title = "Garbage collection"
    port_base = 5160

    def setup(self) -> None:
        self.new_folder("folder", "registry-data", "its data folder")
        registry = self.run_registry("registry", bind=self.folder)  # registry:3's own config: deletes on
        self.name("registry", registry.name, "the registry the set-up started (deletes on, as registry:3's config has them)")
        self.name("address", registry.address, "where it answers")
        tags = self.lab.load_images([app_image(self.address, f"v{n}", f"v{n}") for n in range(1, 5)])
        for tag in tags:
            self.lab.push(tag)
        api = RegistryClient(self.address)
        manifests = {tag: api.manifest("app", tag) for tag in ("v1", "v2")}
        self.digests = {tag: m.digest for tag, m in manifests.items()}
        self.only = {tag: m.layers[1] for tag, m in manifests.items()}  # the top layers
        rollback = app_image(self.address, "v5", "v1")  # a rollback: v1's code again, for you to push
        self.lab.load_images([rollback])
        self.v5 = config_digest(rollback)

    def _gone_from_disk(self) -> str | None:
        """No blob is left that no manifest references (app:v1's top layer may be back: app:v5 is v1 again)."""
        orphans = {blob.digest for blob in self.engine.containers.storage(self.registry).orphans()}
        still = [tag for tag, digest in self.only.items() if digest in orphans]
        if still:
            return f"the top layers of app:{' and app:'.join(still)} are still on disk"
        if orphans:
            return f"{len(orphans)} blobs on disk are referenced by no manifest (orphans)"
        return None

    def _read_only_by_setting(self) -> bool:
        """The container's own setting says read-only: its REGISTRY_STORAGE_MAINTENANCE_READONLY, or the
        config it reads (where the engine can look inside the container)."""
        info = self.engine.containers.inspect(self.registry)
        if info is None:
            return False
        if readonly_setting(info.setting(READ_ONLY)):
            return True
        if Cannot.RUN_CONTAINERS in self.engine.cannot or not info.config:
            return False
        shown = self.engine.containers.exec(self.registry, ["cat", info.config])
        return shown.exit_code == 0 and config_readonly(shown.output)

    @task("Delete app:v1 and app:v2 through the API",
          hint="DELETE /v2/<name>/manifests/<digest> deletes an image, and takes its digest, not its tag (on "
               "registry:3 DELETE by tag removes only the tag; the image stays). Ask for the digest as Docker does: "
               "HEAD the manifest with an Accept header naming application/vnd.docker.distribution.manifest.v2+json "
               "and read Docker-Content-Digest.",
          solution="curl -sI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "
                   "http://{address}/v2/app/manifests/v1 | grep -i docker-content-digest\n"
                   "curl -sSf -X DELETE http://{address}/v2/app/manifests/<that digest>\n(the same for v2)")
    def q1(self):
        problem = silent(self.address)
        if problem:
            return missing(problem)
        for tag in ("v1", "v2"):
            problem = image_deleted(self.address, "app", tag, self.digests[tag])
            if problem:
                return missing(problem)
        for tag in ("v3", "v4"):
            whole = checks.served(self.address, "app", tag)
            if not whole:
                return missing(f"app:{tag} should have stayed: {whole.detail}")
        return done("app:v1 and app:v2 are deleted; v3 and v4 still serve whole")

    @task("Make the registry read-only",
          hint="Garbage collection is stop-the-world: no push may land while it runs. Recreate the registry (same "
               "name, port, folder and --user) with REGISTRY_STORAGE_MAINTENANCE_READONLY set to the YAML "
               "'enabled: true': pulls keep working, pushes get 405. (A read-only mount of the folder is not "
               "that: the registry would fail every write with a 500, uploads included.)",
          solution="docker container rm -f -v {registry}\ndocker container run -d --name {registry} -p {address}:5000 "
                   "--user \"$(id -u):$(id -g)\" -v {folder}:/var/lib/registry "
                   "-e \"REGISTRY_STORAGE_MAINTENANCE_READONLY=enabled: true\" registry:3")
    def q2(self):
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        info = self.engine.containers.inspect(self.registry)
        if info.data is None or not checks.same_folder(info.data.source, self.folder):
            return missing(f"{self.registry} must keep its data in {self.folder} (-v {self.folder}:/var/lib/registry)")
        status = push_answer(self.address, "app")
        if status == 202:
            return missing("it still accepts pushes (POST /v2/app/blobs/uploads/ answers 202): set "
                           f"{READ_ONLY} and recreate it")
        if status != 405 or not self._read_only_by_setting():
            return missing(f"pushes get {status}, but its setting is not read-only mode ({READ_ONLY} is not "
                           "'enabled: true'): a refusal for another reason is not maintenance mode; set it and "
                           "recreate the registry")
        return done("read-only by its setting: pushes get 405 now; pulls still work")

    @task("Collect the garbage",
          hint="The registry binary collects: run `registry garbage-collect <its config>` inside the container "
               "(docker container exec). Add --dry-run first to see what would go. registry:3 reads its config "
               "at /etc/distribution/config.yml.",
          solution="docker container exec {registry} registry garbage-collect --dry-run /etc/distribution/config.yml\n"
                   "docker container exec {registry} registry garbage-collect /etc/distribution/config.yml")
    def q3(self):
        problem = silent(self.address)
        if problem:
            return missing(problem)
        if any(checks.has_tag(self.address, "app", tag) for tag in ("v1", "v2")):
            return missing("delete app:v1 and app:v2 first (task 1): nothing is garbage yet")
        problem = self._gone_from_disk()
        if problem:
            return missing(f"{problem}: run garbage-collect")
        return done("no orphan blob is left: the deleted images' own layers are gone from disk")

    @task("Writable again: push app:v5",
          hint="Recreate the registry without the read-only setting (a new process also starts with an empty blob "
               "cache), wait until it answers, then push app:v5 — it is loaded on your machine: v1's code again, "
               "a rollback.",
          solution="docker container rm -f -v {registry}\ndocker container run -d --name {registry} -p {address}:5000 "
                   "--user \"$(id -u):$(id -g)\" -v {folder}:/var/lib/registry registry:3\n"
                   "curl -s -o /dev/null --retry 10 --retry-delay 1 --retry-all-errors http://{address}/v2/   # until it answers\n"
                   "docker image push {address}/app:v5")
    def q4(self):
        running = checks.registry_at(self.engine, self.registry, self.address)
        if not running:
            return running
        tree = self.engine.containers.storage(self.registry)
        if tree.blob(self.only["v2"]) is not None:
            return missing("collect the garbage first (task 3): app:v2's own layer is still on disk")
        problem = is_image(self.address, "app", "v5", self.v5, "the app:v5 the set-up loaded")
        if problem and push_answer(self.address, "app") != 202:
            return missing("it still refuses pushes: recreate it without the read-only setting")
        if problem:
            return missing(problem)
        if not checks.deletes_allowed(self.address, "app"):
            return missing("it refuses deletes now (405): it was set up with deletes on, keep them on")
        return done("app:v5, the rollback, serves whole; deletes are still on")
