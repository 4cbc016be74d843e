"""Notebook 05 · Your turn: a second user, added while the registry runs; a login, a push and a
delete by tag as that user — with the docker CLI and curl, the password never on a command line.

Set up on the notebook's own lab (its registry with TLS and a login must be running): a password
file for ``bob`` and his line in the registry's htpasswd file, written while the registry runs
(it re-reads the file when it changes: no restart). The checks read the live registry (its API
with the stored login, its tags, its access log) and the stored login in the lab's
``DOCKER_CONFIG`` or in ``~/.docker`` (a login typed in a terminal counts).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .. import accesslog, errors
from ..checks import image_in_registry
from ..errors import ReglabError
from ..exercises import Practice, done, missing, task
from ..media import short_digest
from ..registry import Registry
from ..registry_api import RegistryClient, stored_credentials

USER = "bob"
REPOSITORY = "bob/hello"


class Practice05(Practice):
    id = "05"
    title = "a second user"

    def setup(self) -> None:
        secure = self.lab.secure
        registry = self.lab.sandbox.registry
        if registry is None or secure.ca is None or not secure.passwords or not registry.tls:
            raise errors.practice_05_needs_login()
        self.reg = registry
        folder = secure.docker_config or secure.use_throwaway_docker_config()
        secure.new_password(USER)
        secure.add_user(USER)
        self.name("address", registry.address, "the registry: TLS, a login")
        self.name("ca", str(secure.ca.cert), "the CA that signed its certificate (curl --cacert)")
        self.name("user", USER, "a second user, added while the registry runs (no restart)")
        self.name("bob_password", str(secure.passwords[USER]), "his password (mode 0600): never print it")
        self.name("docker_config", str(folder), "DOCKER_CONFIG of this notebook's shell commands (in a terminal: "
                  "export DOCKER_CONFIG=<that folder>)")
        self.shell.env["DOCKER_CONFIG"] = str(folder)
        self.shell.install()
        for tag in ("v1", "old"):
            self.expect_tag(f"{registry.address}/{REPOSITORY}:{tag}")

    # ------------------------------------------------------------------ what the checks read

    def _login(self) -> tuple[Path, str] | None:
        """Where a login for the registry is stored (this notebook's DOCKER_CONFIG, else the one a
        terminal uses by default), and whose."""
        for folder in (Path(self.docker_config), self.lab.settings.docker_config):
            stored = stored_credentials(folder, self.reg.address)
            if stored is not None:
                return folder, stored[0]
        return None

    def _registry(self) -> Registry:
        """The registry, its client carrying the stored login (not the lab's)."""
        login = self._login()
        return replace(self.reg, auth=None, docker_config=login[0] if login else Path(self.docker_config))

    def _api(self) -> RegistryClient:
        return self._registry().api

    def _hello_config(self) -> str | None:
        """hello-world's image ID on this machine: the config digest its manifest names when pushed."""
        info = self.engine.images.info(self.lab.settings.hello_image)
        return info.id if info else None

    # ------------------------------------------------------------------ the tasks

    def _silent(self):
        """The first real problem when nothing answers at the registry's address, else None."""
        if self.reg.anonymous_api.status() is None:
            return missing(errors.nothing_answers(self.reg.address))
        return None

    @task("Log in as bob",
          hint="docker login <host:port> stores one login per registry: a new login replaces alice's. Give the password "
               "on standard input (--password-stdin < file), never after -p, where ps and the shell's history show it.",
          solution="docker login --username {user} --password-stdin {address} < {bob_password}")
    def q1(self):
        if (silent := self._silent()) is not None:
            return silent
        login = self._login()
        if login is None:
            return missing(f"no login for {self.reg.address} is stored in {self.docker_config}/config.json (nor in "
                           f"{self.lab.settings.docker_config}/config.json): log in as {USER}")
        folder, user = login
        if user != USER:
            return missing(f"the login stored for {self.reg.address} in {folder}/config.json is {user}'s, not {USER}'s")
        try:
            self._api().request("GET", "/v2/")
        except ReglabError as exc:
            return missing(f"the registry refuses the login stored for {USER}: {str(exc).rstrip('.')}")
        return done(f"{USER}'s login for {self.reg.address} is stored in {folder}/config.json, and the registry "
                    "accepts it (GET /v2/ → 200) — though nobody restarted it after he was added")

    @task("Push hello-world as bob/hello:v1",
          hint="Give hello-world a second name that starts with the registry's address, then push that name; the "
               "login stored for the registry goes with the push.",
          solution="docker image tag hello-world {address}/bob/hello:v1\ndocker image push {address}/bob/hello:v1")
    def q2(self):
        if (silent := self._silent()) is not None:
            return silent
        served = image_in_registry(self._registry(), REPOSITORY, "v1")
        if not served:
            return missing(served.detail)
        config = self._api().manifest(REPOSITORY, "v1").config
        hello = self._hello_config()
        if hello is not None and config != hello:
            return missing(f"{REPOSITORY}:v1 is another image (config {short_digest(config)}), not hello-world "
                           f"({short_digest(hello)}): tag hello-world itself and push it")
        return done(f"{self.reg.address} serves {REPOSITORY}:v1 whole, and it is hello-world (config "
                    f"{short_digest(config)})")

    @task("Remove only the tag old, with curl as bob",
          hint="registry:3 deletes a tag: DELETE /v2/<name>/manifests/<tag>. A DELETE of the digest would remove the "
               "manifest, and with it every tag that names it — v1 too. For the password, give curl its options on "
               "standard input (-K -): printf 'user = \"bob:%s\"\\n' \"$(cat <file>)\" | curl -K - …, so no command line "
               "holds it.",
          solution="docker image tag hello-world {address}/bob/hello:old\ndocker image push {address}/bob/hello:old\n"
                   "printf 'user = \"bob:%s\"\\n' \"$(cat {bob_password})\" | curl -sS -K - -o /dev/null "
                   "-w '%{{http_code}}\\n' -X DELETE --cacert {ca} https://{address}/v2/bob/hello/manifests/old")
    def q3(self):
        if (silent := self._silent()) is not None:
            return silent
        api = self._api()
        try:
            tags = api.tags(REPOSITORY)
        except ReglabError:
            tags = []
        deletes = [r for r in accesslog.parse(self.engine.containers.logs(self.reg.name))
                   if r.method == "DELETE" and r.kind == "manifest" and r.repository == REPOSITORY]
        by_tag = [r for r in deletes if r.reference == "old" and r.status == 202]
        if "v1" not in tags:
            if any(r.reference.startswith("sha256:") for r in deletes):
                return missing(f"{REPOSITORY}:v1 is gone too — a DELETE by digest removes the manifest, and with it "
                               "every tag that names it: push v1 again, and delete the tag old, not its digest")
            return missing(f"there is no {REPOSITORY}:v1 to keep beside it: push it first (task 2)")
        if "old" in tags:
            return missing(f"{REPOSITORY}:old is still there: DELETE /v2/{REPOSITORY}/manifests/old, as {USER}")
        if not by_tag:
            return missing(f"the registry never answered a DELETE of {REPOSITORY}:old with 202: push "
                           f"{REPOSITORY}:old first, then delete that tag")
        return done(f"the tag old is gone (DELETE …/manifests/old → 202) and {REPOSITORY}:v1, the same manifest, is "
                    "still there: registry:3 deleted the tag alone")
