"""Steps of notebook 05, *Secure your registry*: secure by default refused live, TLS with a
certificate of the lab's own CA, a login with htpasswd — under either engine.

One registry goes through the notebook, always named by its address on the lab's network
(``172.x.y.z:5000`` with Docker; ``[::1]:<port>`` under the daemonless engine, which has no
networks), never by a loopback address Docker lets through: plain, then with TLS, then with
TLS and a login. Its data lives in a volume, so the images outlive each re-creation. Each
start is followed by the ``curl`` that waits until it answers (a command typed at once meets
"connection reset" or "EOF"), run as printed.

Where a step shows what its twin prints (``curl -i``, ``openssl x509``, the ``curl`` that
deletes), it runs that twin (:mod:`reglab.terminal`); the lab's reading follows on ``lab:``
lines. Folders a twin writes into are made by a ``mkdir -p`` twin first; no password is ever on
a command line (``--password-stdin``, curl's ``-K -`` config on standard input).

Everything the steps change outside the lab's work folder is undone by cleanup (and by the
next ``Lab`` after a killed kernel): ``daemon.json`` (restored from its backup),
``certs.d/<host:port>/ca.crt`` (recorded, removed), ``DOCKER_CONFIG`` (a throwaway folder of the
lab's, which its client reads; this process's environment is never changed). No password and no ``auth`` value is ever printed.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
from pathlib import Path

from .. import certs, credentials, errors, htpasswd, terminal
from ..certs import CertFiles
from ..daemon import SIGHUP_TWIN, Change
from ..engines import Cannot, Engine
from ..errors import ProgramMissing
from ..narrator import Narrator
from ..registries import Registries
from ..registry import Registry
from ..registry_api import RegistryClient
from ..sandbox import Made, Sandbox
from ..twin import Raw, Twin, docker

NETWORK = "net"
VOLUME = "registry-data"
REALM = "Registry Lab"
DAEMON_JSON = "/etc/docker/daemon.json"  # what a learner edits (the lab's own may live elsewhere)
CERTS_D = "/etc/docker/certs.d"
INSECURE = "insecure-registries"
WRONG_PASSWORD = "not-the-password"

def _openssl(*args: str) -> Twin:
    return Twin.of("openssl", "req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-days", str(certs.VALID_DAYS), *args)


class SecureSteps:
    """``lab.secure``: the steps of notebook 05."""

    def __init__(self, narrator: Narrator, engine: Engine, sandbox: Sandbox, registries: Registries):
        self.say, self.engine, self.sandbox, self.registries = narrator, engine, sandbox, registries
        self.ca: CertFiles | None = None
        self.server: CertFiles | None = None
        self.legacy: CertFiles | None = None
        self.passwords: dict[str, Path] = {}  # user → their password file (0600)
        self.docker_config: Path | None = None
        self.insecure_before: list[str] | None = None  # docker info's list before this lab changed it

    # ------------------------------------------------------------------ part 1: secure by default

    def run_plain(self) -> Registry:
        """A plain-HTTP registry on the lab's network, named by its address there (not loopback)."""
        registry = self.registries.run(network=NETWORK, loopback=False, volume=VOLUME)
        return registry

    def allow_plain_http(self, registry: Registry | None = None) -> Change:
        """List the registry under ``insecure-registries`` and reload the daemon (SIGHUP)."""
        registry = registry or self.sandbox.current()
        if self.insecure_before is None:
            self.insecure_before = self.engine.daemon.insecure_registries()
        change = self.engine.daemon.reconfigure({INSECURE: [registry.address]}, self.sandbox.daemon_backup)
        self.say.say(f"add to {DAEMON_JSON}:\n  \"{INSECURE}\": {json.dumps(change.content[INSECURE])}")
        self.say.twin(SIGHUP_TWIN)
        if not change.applied:
            self.say.say(f"✘ not applied: {change.why_not}; make the change above yourself to see it work")
            return change
        if Cannot.DAEMON_JSON in self.engine.cannot:
            self.say.note(errors.cannot_daemon_json(self.engine.label))
        elif str(change.path) != DAEMON_JSON:
            self.say.note(f"this daemon reads {change.path}")
        self.say.say(f"the daemon reloaded its configuration (no restart, no container stopped): it now speaks "
                     f"plain HTTP to {registry.address}")
        return change

    def insecure_registries(self) -> list[str]:
        """The "Insecure Registries" part of ``docker info``: names first, then CIDRs, as the CLI prints."""
        self.say.twin(docker("info"))
        allowed = self.engine.daemon.insecure_registries()
        names = [a for a in allowed if "/" not in a]
        cidrs = [a for a in allowed if "/" in a]
        self.say.say("…\n Insecure Registries:\n" + "".join(f"  {a}\n" for a in names + cidrs) + "…")
        return allowed

    def restore_daemon(self) -> bool:
        """Undo :meth:`allow_plain_http`: the list ``docker info`` showed before, written out (a
        key removed from the file would stay in the running daemon, and an empty list drops the
        loopback default on Docker ≥ 29.10), reload, then the file's original bytes, reload."""
        before = self.insecure_before if self.insecure_before is not None else \
            [a for a in self.engine.daemon.insecure_registries() if "/" in a]
        self.say.say(f"1. in {DAEMON_JSON}, the list docker info showed before, written out:\n"
                     f"  \"{INSECURE}\": {json.dumps(before)}\n"
                     "   (deleting the line would not do: the running daemon would keep the entry; nor would an empty "
                     "list on Docker ≥ 29.10: it also drops the loopback default, moby#53868)")
        self.say.twin(SIGHUP_TWIN)
        self.say.say(f"2. {DAEMON_JSON} as it was before this lab")
        self.say.twin(SIGHUP_TWIN)
        self.say.say("(or, instead of both reloads, restart the daemon from the original file — sudo systemctl "
                     "restart docker — which also stops running containers unless live-restore is on)")
        restored = self.engine.daemon.restore(self.sandbox.daemon_backup)
        if restored:
            self.say.say("restored: daemon.json holds its original bytes again, and docker info shows the "
                         "daemon's original list")
        else:
            self.say.say("nothing to restore: this lab had not changed the daemon's configuration")
        return restored

    # ------------------------------------------------------------------ part 2: TLS

    def make_certificates(self, registry: Registry | None = None) -> CertFiles:
        """A CA of the lab's own, and a certificate it signs for the registry's address (SANs)."""
        registry = registry or self.sandbox.current()
        ca_dir, cert_dir = self.sandbox.folder("ca"), self.sandbox.folder("certs")
        self.say.twin(Twin.of("mkdir", "-p", str(ca_dir), str(cert_dir)))
        name = f"{self.sandbox.scope.prefix} CA"
        ca = CertFiles(ca_dir / "ca.crt", ca_dir / "ca.key")
        self.say.twin(_openssl("-subj", f"/O=Registry Lab/CN={name}",
                               "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                               "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                               "-keyout", str(ca.key), "-out", str(ca.cert)))
        self.ca = certs.make_ca(ca_dir, name)
        self.say.say(f"made the certificate authority {name}: {ca.cert.name} (give it to clients) and {ca.key.name} "
                     f"(keep it: mode {_mode(ca.key)})")
        self.server = self._server(registry, "registry", sans=True)
        return self.server

    def _names(self, registry: Registry) -> list[str]:
        return [registry.host, registry.name]

    def _server(self, registry: Registry, stem: str, sans: bool) -> CertFiles:
        if self.ca is None:
            raise errors.no_ca_yet()
        folder = self.sandbox.folder("certs")
        names = self._names(registry)
        files = CertFiles(folder / f"{stem}.crt", folder / f"{stem}.key")
        alt = ",".join(f"{'IP' if n == registry.host else 'DNS'}:{n}" for n in names)
        extra = ["-addext", f"subjectAltName={alt}"] if sans else []
        self.say.twin(_openssl("-CA", str(self.ca.cert), "-CAkey", str(self.ca.key),
                               "-subj", f"/O=Registry Lab/CN={names[0]}", *extra,
                               "-addext", "basicConstraints=critical,CA:FALSE",
                               "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
                               "-addext", "extendedKeyUsage=serverAuth",
                               "-keyout", str(files.key), "-out", str(files.cert)))
        made = certs.make_server(folder, self.ca, names, stem=stem, sans=sans)
        what = (f"subject alternative names {', '.join(certs.subject_alt_names(made.load()))}" if sans
                else f"no subject alternative names, only the Common Name {names[0]}")
        self.say.say(f"made {made.cert.name} signed by {certs.common_name(self.ca.load())}: {what}; "
                     f"{made.key.name} has mode {_mode(made.key)}")
        return made

    def show_certificate(self, files: CertFiles | None = None) -> None:
        """What a certificate says: subject, issuer, names, use (``openssl x509 -noout``), as openssl prints it."""
        files = files or self.server
        if files is None:
            raise errors.no_certificate_yet()
        cert = files.load()
        twin = Twin.of("openssl", "x509", "-in", str(files.cert), "-noout", "-subject", "-issuer", "-ext",
                       "basicConstraints,subjectAltName,extendedKeyUsage")
        self.say.twin(twin)
        self.say.output(terminal.run(twin).text)
        sans = certs.subject_alt_names(cert)
        self.say.explain(f"not a CA (CA:FALSE), for TLS servers only, naming the registry as "
                         f"{' and '.join(sans) if sans else '(nothing)'}; valid for {certs.VALID_DAYS} days")

    def run_tls(self, legacy: bool = False) -> Registry:
        """Re-create the registry with TLS (``REGISTRY_HTTP_TLS_*``); ``legacy``: with the
        certificate that names it only in its Common Name."""
        old = self.sandbox.current()
        if legacy and self.legacy is None:
            self.legacy = self._server(old, "legacy", sans=False)
        files = self.legacy if legacy else self.server
        if files is None:
            raise errors.no_certificate_yet()
        return self._recreate(old, self._tls_env(files), {str(files.cert.parent): "/certs"})

    def _tls_env(self, files: CertFiles) -> dict[str, str]:
        return {"REGISTRY_HTTP_TLS_CERTIFICATE": f"/certs/{files.cert.name}",
                "REGISTRY_HTTP_TLS_KEY": f"/certs/{files.key.name}"}

    def _recreate(self, old: Registry, env: dict[str, str], files: dict[str, str]) -> Registry:
        """Replace the registry by one with ``env`` on the same network, volume and port. Its
        certificate names the old address: a new address (another allocator) gets a new one."""
        for _ in range(3):
            self.say.twin(docker("container", "rm", "-f", old.name))
            self.engine.containers.remove(old.name)
            self.sandbox.registry = None
            registry = self.registries.run(port=old.published or old.port, volume=old.volume, network=old.network,
                                           loopback=False, env=env, files=files, tls=True,
                                           ca=self.ca.cert if self.ca else None)
            if registry.host == old.host:
                        return registry
            self.say.note(f"the registry came back at {registry.address}, not {old.address}: a new certificate "
                          "for that address")
            self.server = certs.make_server(self.server.cert.parent, self.ca, self._names(registry))
            old = registry
        raise errors.new_address_each_time(old.address)

    def trust(self, registry: Registry | None = None) -> Path:
        """Trust the lab's CA for this one registry: ``certs.d/<host:port>/ca.crt``."""
        registry = registry or self.sandbox.current()
        if self.ca is None:
            raise errors.no_ca_yet()
        shown = f"{CERTS_D}/{registry.address}"
        self.say.twin(Twin.of("sudo", "mkdir", "-p", shown))
        self.say.twin(Twin.of("sudo", "cp", str(self.ca.cert), f"{shown}/ca.crt"))
        path = self.engine.trust.folder() / registry.address / "ca.crt"
        try:
            self.sandbox.shared_file(path, self.ca.cert.read_bytes(), f"the CA certificate trusted for {registry.address}")
        except PermissionError:
            raise errors.cannot_write_trust(path) from None
        if str(path.parent) != shown:
            self.say.note(f"this engine reads {path}")
        self.say.say(f"{registry.address} is trusted: certificates signed by {certs.common_name(self.ca.load())} are "
                     "accepted for it, and for no other registry (read on every push and pull: no restart)")
        return path

    # ------------------------------------------------------------------ part 3: a login

    def new_password(self, user: str = "alice") -> Path:
        """A random password in a file of its own (mode 0600), in a folder the registry never sees."""
        folder = self.sandbox.folder("secrets")
        secret = folder / f"{user}.password"
        self.say.twin(Twin.of("mkdir", "-p", str(folder)))
        self.say.twin(Twin.of(Raw(f"(umask 077 && openssl rand -base64 15 > {shlex.quote(str(secret))})")))
        htpasswd.write_password_file(secret, base64.b64encode(os.urandom(15)).decode())
        self.passwords[user] = secret
        self.say.say(f"{user}'s password is in {secret.name} (mode {_mode(secret)}), and nowhere else: not in a command, "
                     "not in an output")
        return secret

    def htpasswd_in_registry_image(self, user: str = "alice") -> None:
        """The recipe found online, ``docker run --entrypoint htpasswd registry:… -Bbn user password``
        (here with the password on standard input): the image has no htpasswd."""
        secret = self.passwords.get(user) or self.new_password(user)
        image = self.sandbox.settings.registry_image
        self.say.twin(docker("container", "run", "--rm", "-i", "--entrypoint", "htpasswd", image, "-Bin", user,
                             Raw("<"), str(secret)))
        try:
            self.engine.containers.run(self.sandbox.scope, self.sandbox.object_name("htpasswd"), image,
                                       entrypoint="htpasswd", args=("-Bin", user))
        except ProgramMissing:
            raise errors.no_htpasswd_in_image(image) from None

    def add_user(self, user: str = "alice") -> Path:
        """The user's bcrypt line in the registry's htpasswd file (alone in its folder, the one
        the registry gets), from their password file (made first if there is none)."""
        secret = self.passwords.get(user) or self.new_password(user)
        folder = self.sandbox.folder("auth")
        table = folder / "htpasswd"
        self.say.twin(Twin.of("mkdir", "-p", str(folder)))
        self.say.twin(Twin.of("htpasswd", "-B", "-C", str(htpasswd.ROUNDS), "-i", *(["-c"] if not table.exists() else []),
                              str(table), user, Raw("<"), str(secret)))
        htpasswd.add_user(table, user, secret.read_text().strip())
        hashed = htpasswd.read(table)[user]
        self.say.say(f"{table.name} now has {user}:{hashed[:7]}… — written by the lab with Python's bcrypt; htpasswd "
                     f"writes {hashed[:1]}2y{hashed[3:7]}…, the same bcrypt under another prefix, and the registry accepts "
                     f"both (cost {htpasswd.ROUNDS}: it checks the hash on every request)")
        return table

    def run_with_login(self) -> Registry:
        """Re-create the registry with TLS and ``REGISTRY_AUTH=htpasswd`` (deletes allowed, to show
        that any user may delete). Only the folder holding ``htpasswd`` is mounted: the password
        files stay out of the registry."""
        old = self.sandbox.current()
        if self.server is None or not self.passwords:
            raise errors.certificates_and_user_first()
        table = self.sandbox.folder("auth") / "htpasswd"
        if not table.exists():
            raise errors.no_htpasswd_file()
        env = {**self._tls_env(self.server), "REGISTRY_AUTH": "htpasswd", "REGISTRY_AUTH_HTPASSWD_REALM": REALM,
               "REGISTRY_AUTH_HTPASSWD_PATH": "/auth/htpasswd", "REGISTRY_STORAGE_DELETE_ENABLED": "true"}
        return self._recreate(old, env, {str(self.server.cert.parent): "/certs", str(table.parent): "/auth"})

    def anonymous(self, registry: Registry | None = None) -> int:
        """``GET /v2/`` without credentials, with ``curl -i`` as it prints it: the status, the
        challenge, the body."""
        registry = registry or self.sandbox.current()
        ca = ("--cacert", str(self.ca.cert)) if self.ca else ()
        twin = Twin.of("curl", "-sS", "-i", *ca, f"{registry.url}/v2/")
        self.say.twin(twin)
        self.say.output(terminal.run(twin).text)
        answer = registry.anonymous_api.request("GET", "/v2/", ok=tuple(range(100, 600)))
        if answer.status_code == 401:
            self.say.explain(f"401: no credentials, so no entry; the www-authenticate header says how to log in "
                             f"(basic auth, realm \"{REALM}\")")
        return answer.status_code

    def use_throwaway_docker_config(self) -> Path:
        """``export DOCKER_CONFIG=<lab folder>``: this lab's logins go there (its pushes, pulls and
        checks read them from there), your ``~/.docker`` stays untouched."""
        if self.docker_config is None:
            folder = self.sandbox.folder("docker-config")
            self.sandbox.docker_config = self.docker_config = folder

            def put_back() -> Made:
                self.docker_config = None
                return Made("restored", "DOCKER_CONFIG, as it was")

            self.sandbox.on_clear(put_back)
        self.say.twin(Twin.of(Raw(f"export DOCKER_CONFIG={self.docker_config}")))
        self.say.say(f"docker logins now go to {self.docker_config}/config.json; your own ~/.docker is left alone")
        return self.docker_config

    def login(self, user: str = "alice", wrong: bool = False, registry: Registry | None = None) -> None:
        """``docker login`` with the user's password file (``wrong``: with a wrong password)."""
        registry = registry or self.sandbox.current()
        if user not in self.passwords:
            raise errors.no_user_yet(user)
        folder = self.docker_config or self.use_throwaway_docker_config()
        login = ["docker", "login", "--username", user, "--password-stdin", registry.address]
        if wrong:
            self.say.twin(Twin.of("echo", WRONG_PASSWORD, Raw("|"), *login))
            password = WRONG_PASSWORD
        else:
            self.say.twin(Twin.of(*login, Raw("<"), str(self.passwords[user])))
            password = self.passwords[user].read_text().strip()
        self.engine.trust.login(registry.address, user, password)
        path = credentials.store(folder, registry.address, user, password)
        self.say.say(credentials.WARNING.format(path=path) + "\nLogin Succeeded")
        self.say.explain("that is what the docker CLI 20.10 this course installs prints, at every login; Docker 28's "
                         "says \"Your credentials are stored unencrypted in '…'\", and only when it stores a new login")

    def show_login(self, registry: Registry | None = None) -> None:
        """The stored login, masked: ``config.json`` and its ``auth`` decoded."""
        registry = registry or self.sandbox.current()
        if self.docker_config is None:
            raise errors.nobody_logged_in()
        path = self.docker_config / credentials.CONFIG_NAME
        self.say.twin(Twin.of("cat", str(path)))
        self.say.say(credentials.masked(self.docker_config) + "\n(the auth value is masked here)")
        self.say.twin(Twin.of("jq", "-r", f'.auths["{registry.address}"].auth', str(path), Raw("|"), "base64", "-d"))
        self.say.say(f"{credentials.decoded_masked(self.docker_config, registry.address)}   (the password masked here)")

    def curl_as(self, user: str, path: str, registry: Registry | None = None, method: str = "GET",
                *options: str) -> Twin:
        """A ``curl`` as ``user`` that reads the password from its file, never from the command
        line: ``printf 'user = "alice:%s"' "$(cat …)" | curl -K - …`` (curl takes its options
        from the config on standard input; ``printf`` is the shell's own, so no process shows it)."""
        registry = registry or self.sandbox.current()
        secret = self.passwords[user]
        ca = ("--cacert", str(self.ca.cert)) if self.ca else ()
        verb = ("-X", method) if method != "GET" else ()
        return (Twin.of("printf", f'user = "{user}:%s"\\n', Raw(f'"$(cat {shlex.quote(str(secret))})"'))
                | Twin.of("curl", "-sS", "-K", "-", *options, *verb, *ca, f"{registry.url}{path}"))

    def delete(self, reference: str, user: str = "alice") -> str:
        """``DELETE`` a manifest as ``user`` with curl (the password read from its file): any user
        may delete anything."""
        registry = self.sandbox.current()
        repository, _, tag = reference.removeprefix(f"{registry.address}/").partition(":")
        api = RegistryClient(registry.address, tls=True, ca=registry.ca, docker_config=self.sandbox.docker_config,
                             trust=registry.trust)
        digest = api.manifest_head(repository, tag or "latest").digest
        twin = self.curl_as(user, f"/v2/{repository}/manifests/{digest}", registry, "DELETE",
                            "-o", "/dev/null", "-w", "%{http_code}\\n")
        self.say.twin(twin)
        done = terminal.run(twin)
        self.say.output(done.text)
        if done.code == 127:  # no curl on this machine: the lab's own client does it
            api.delete_manifest(repository, digest)
        self.say.explain(f"202 Accepted: {user} deleted {repository}@{digest}")
        return digest


def _mode(path: Path) -> str:
    return f"{path.stat().st_mode & 0o777:04o}"
