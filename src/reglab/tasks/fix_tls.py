"""Lab 11 · Break-fix: "x509: certificate signed by unknown authority", then "401 Unauthorized".

The set-up is notebook 05's end state, built with :mod:`reglab.steps.secure`: a registry on the
lab's network (an address that is not loopback, so Docker insists on TLS and verifies it), with a
certificate signed by the lab's own CA and a login (htpasswd, user alice, her password in a file
of mode 0600). Nothing on this machine trusts that CA yet and nobody is logged in: the learner
trusts the CA for this one registry (``certs.d/<host:port>/ca.crt``), logs in, and pushes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .. import errors
from ..certs import CertFiles
from ..checks import credentials_accepted, image_in_registry, tls_verified
from ..credentials import stored as stored_credentials
from ..exercises import Sheet, done, missing, task
from ..media import short_digest
from ..steps.secure import NETWORK, VOLUME

USER = "alice"


class FixTls(Sheet):
    id = "lab-11"
    title = "Fix: x509 unknown authority, then 401 unauthorized"
    port_base = 5210

    def setup(self) -> None:
        secure = self.lab.secure
        self.lab.registries.run(port=self.new_port(), network=NETWORK, loopback=False, volume=VOLUME)
        secure.make_certificates()
        secure.add_user(USER)
        self.reg = secure.run_with_login()
        self.lab.state.add_name("containers", self.reg.name)
        self.ca_files: CertFiles = secure.ca
        self.name("registry", self.reg.name, "the team's registry: TLS and a login")
        self.name("address", self.reg.address, "where it answers: not loopback, so Docker verifies its certificate")
        self.name("ca", str(self.ca_files.cert), "the certificate of the CA that signed the registry's certificate")
        self.name("user", USER, "the user the registry knows")
        self.name("password_file", str(secure.passwords[USER]), "her password (mode 0600): never print it")
        self.name("docker_config", str(secure.use_throwaway_docker_config()),
                  "DOCKER_CONFIG of this notebook's shell commands: docker login stores logins there, not in "
                  "~/.docker (in a terminal: export DOCKER_CONFIG=<that folder>)")
        self.shell.env["DOCKER_CONFIG"] = self.docker_config
        self.shell.install()
        self.expect_tag(self.lab.make_image(self.reg.ref("app", "v1"), [("srv/app.bin", 10_000)], seed="lab-11"))
        self.image_id = self.engine.images.info(self.reg.ref("app", "v1")).id  # its config's digest, once pushed
        self.trust_file = self.engine.trust.folder() / self.reg.address / "ca.crt"
        self.hidden("certs_d", str(self.trust_file.parent))  # /etc/docker/certs.d/<address> with Docker
        self._record_trust_file()

    def _record_trust_file(self) -> None:
        """The file (and the folders) the learner will create in the shared certs.d: cleanup removes them."""
        if self.trust_file.exists():
            raise errors.trust_file_taken(self.trust_file)
        for folder in reversed([p for p in [self.trust_file.parent, *self.trust_file.parent.parents]
                                if not p.exists()]):
            self.lab.state.add_shared_dir(folder)
        self.lab.state.add_file(self.trust_file, f"the CA certificate trusted for {self.reg.address}")

    def _answers(self) -> bool:
        return self.reg.anonymous_api.status() is not None

    @task("Trust the lab's CA for this registry only",
          hint="Push first and read the error: x509 … signed by unknown authority means the registry's certificate "
               "is fine but nobody here trusts who signed it. Docker reads extra CAs per registry from "
               "/etc/docker/certs.d/<host:port>/ca.crt (as root, no restart) — trusting it there trusts it for that "
               "registry alone, not for the whole machine. Here that folder is sheet.certs_d.",
          solution="sudo mkdir -p {certs_d}\n"
                   "sudo cp {ca} {certs_d}/ca.crt\n"
                   "(in a terminal: /etc/docker needs root; without Docker, sheet.certs_d is a folder of reglab's: no sudo)")
    def q1(self):
        if not self._answers():
            return missing(errors.nothing_answers(self.reg.address))
        if not self.trust_file.exists():
            return missing(f"there is no {self.trust_file} yet: a push still fails with x509: certificate signed "
                           "by unknown authority")
        if self.trust_file.read_bytes().strip() != self.ca_files.cert.read_bytes().strip():
            return missing(f"{self.trust_file} is not the lab's CA certificate ({Path(self.ca).name})")
        verified = tls_verified(self.reg, ca=self.trust_file)
        return done(f"certs.d/{self.reg.address}/ca.crt is the lab's CA, and the registry's certificate names "
                    f"{self.reg.address} and verifies against it") if verified else missing(verified.detail)

    def _login_folder(self) -> Path | None:
        """Where a login for the registry is stored: this notebook's DOCKER_CONFIG, or the one a
        terminal uses by default (``~/.docker``: a login typed there counts too)."""
        for folder in (Path(self.docker_config), self.lab.settings.docker_config):
            if stored_credentials(folder, self.reg.address) is not None:
                return folder
        return None

    @task("Log in as the team's user",
          hint="With the CA trusted, a push gets further and then answers 401 Unauthorized (docker says: no basic "
               "auth credentials). docker login <host:port> stores a login for one registry; give it the password "
               "on standard input (--password-stdin), never on the command line, where ps and the shell's "
               "history would show it.",
          solution="docker login --username {user} --password-stdin {address} < {password_file}")
    def q2(self):
        if not self._answers():
            return missing(errors.nothing_answers(self.reg.address))
        folder = self._login_folder()
        if folder is None:
            return missing(f"no login for {self.reg.address} is stored in {self.docker_config}/config.json (nor in "
                           f"{self.lab.settings.docker_config}/config.json): a push answers 401 Unauthorized")
        accepted = credentials_accepted(self.reg, docker_config=folder)
        if not accepted:
            return missing(accepted.detail)
        return done(f"a login for {self.reg.address} is stored in config.json: {accepted.detail}")

    @task("Push app:v1",
          hint="The image is on this machine already, named for the registry: docker image ls shows it.",
          solution="docker image push {address}/app:v1")
    def q3(self):
        if not self._answers():
            return missing(errors.nothing_answers(self.reg.address))
        folder = self._login_folder()
        if folder is None:
            return missing(f"nobody is logged in to {self.reg.address} here, so it answers 401 to every request: "
                           "log in first (task 2)")
        registry = replace(self.reg, auth=None, docker_config=folder)  # with the login stored where it was typed
        served = image_in_registry(registry, "app", "v1")
        if not served:
            return missing(served.detail)
        config = registry.api.manifest("app", "v1").config
        if config != self.image_id:
            return missing(f"{self.reg.address}/app:v1 is another image (config {short_digest(config)}), not the set-up's "
                           f"app:v1 ({short_digest(self.image_id)}): push the image the set-up made")
        return done(f"{self.reg.address} serves the set-up's app:v1 whole (config {short_digest(config)}), over "
                    "verified TLS, to alice")
