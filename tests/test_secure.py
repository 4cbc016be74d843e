"""Notebook 05's steps against live state: the daemon, the registry's answers, files on disk.

Secure by default (refused live, ``insecure-registries`` applied and restored byte for byte),
TLS (refused without the CA, accepted with it; the certificate's SANs; keys 0600; the legacy
Common Name error; the same sentences under both engines), basic auth (401 anonymous and with
a wrong password, success with the right one — through the API and through the real docker
CLIs, whose ``config.json`` is byte for byte what reglab writes), and nothing left after
cleanup: ``certs.d``, ``DOCKER_CONFIG``, ``daemon.json``, objects.
"""

import base64
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import bcrypt
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from conftest import labs
from reglab import certs, credentials, htpasswd
from reglab.daemon import DaemonConfig
from reglab.engines.local import LocalEngine
from reglab.errors import AuthRequired, PlainHTTPRefused, ProgramMissing, UntrustedCertificate
from reglab.registry_api import RegistryClient

ROOT = Path(__file__).resolve().parent.parent
CLIS = [c for c in ("/usr/local/bin/docker", "/usr/bin/docker") if Path(c).exists()]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _sh(command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=False, **kwargs)


# ----------------------------------------------------------------------------- certificates (no engine)


def test_ca_and_server_certificate_with_sans_and_private_keys(tmp_path):
    old = os.umask(0)  # the key is 0600 whatever the umask says
    try:
        ca = certs.make_ca(tmp_path / "ca", "t CA")
        server = certs.make_server(tmp_path / "certs", ca, ["172.30.0.2", "reglab-t-registry"])
        legacy = certs.make_server(tmp_path / "certs", ca, ["172.30.0.2"], stem="legacy", sans=False)
    finally:
        os.umask(old)
    for key in (ca.key, server.key, legacy.key):
        assert _mode(key) == 0o600
    ca_cert, cert = ca.load(), server.load()
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = ca_cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert certs.subject_alt_names(cert) == ["DNS:reglab-t-registry", "IP:172.30.0.2"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert cert.issuer == ca_cert.subject
    assert certs.subject_alt_names(legacy.load()) == []
    verify = _sh(f"openssl verify -CAfile {ca.cert} {server.cert} {legacy.cert}")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_go_hostname_errors_word_for_word(tmp_path):
    ca = certs.make_ca(tmp_path, "t CA")
    good = certs.make_server(tmp_path, ca, ["172.30.0.2", "reg.example"]).load()
    legacy = certs.make_server(tmp_path, ca, ["172.30.0.2"], stem="legacy", sans=False).load()
    dns_only = certs.make_server(tmp_path, ca, ["reg.example"], stem="dns").load()
    assert certs.go_hostname_error(good, "172.30.0.2") is None
    assert certs.go_hostname_error(good, "reg.example") is None
    assert certs.go_hostname_error(legacy, "172.30.0.2") == \
        "x509: certificate relies on legacy Common Name field, use SANs instead"
    assert certs.go_hostname_error(good, "172.30.0.3") == "x509: certificate is valid for 172.30.0.2, not 172.30.0.3"
    assert certs.go_hostname_error(dns_only, "172.30.0.2") == \
        "x509: cannot validate certificate for 172.30.0.2 because it doesn't contain any IP SANs"
    assert certs.go_hostname_error(good, "[::1]") == "x509: certificate is valid for 172.30.0.2, not ::1"


def test_htpasswd_lines_are_bcrypt_cost_5_and_private(tmp_path):
    table = tmp_path / "auth" / "htpasswd"
    htpasswd.add_user(table, "alice", "pw-one")
    htpasswd.add_user(table, "bob", "pw-two")
    users = htpasswd.read(table)
    assert list(users) == ["alice", "bob"] and _mode(table) == 0o600
    assert users["alice"].startswith("$2b$05$") and bcrypt.checkpw(b"pw-one", users["alice"].encode())
    assert not bcrypt.checkpw(b"pw-two", users["alice"].encode())


# ----------------------------------------------------------------------------- twins typed as printed


@pytest.fixture
def local_lab(tmp_path):
    with labs(LocalEngine(), "t-") as make:
        yield make


def _twins(text: str, start: str) -> list[str]:
    return [line[2:] for line in text.splitlines() if line.startswith(f"$ {start}")]


@pytest.mark.daemonless
def test_twins_run_as_typed_make_the_same_files(local_lab, capsys, tmp_path):
    """Every twin the first steps print, typed in order in bash as printed (into another folder):
    the folders come from the ``mkdir -p`` twins, no twin fails, and the files are of the kind the
    lab made — the certificate's SANs, private keys 0600, a password file 0600, htpasswd's bcrypt."""
    lab = local_lab("sec-twins", echo=True)
    lab.secure.run_plain()
    lab.secure.make_certificates()
    lab.secure.new_password("alice")
    lab.secure.add_user("alice")
    out = capsys.readouterr().out
    work = str(lab.workdir)
    typed = [t.replace(work, str(tmp_path)) for t in _twins(out, "") if not t.startswith("docker ")]
    assert [t.split()[0] for t in typed] == ["curl", "mkdir", "openssl", "openssl", "mkdir", "(umask", "mkdir",
                                             "htpasswd"]
    for command in typed:
        if command.startswith("htpasswd") and not shutil.which("htpasswd"):
            continue  # apache2-utils is not on every machine: the lab writes the same line with bcrypt
        done = _sh(command)
        assert done.returncode == 0, (command, done.stderr)
    ours, theirs = lab.secure.server.load(), x509.load_pem_x509_certificate((tmp_path / "certs/registry.crt").read_bytes())
    assert certs.subject_alt_names(theirs) == certs.subject_alt_names(ours) == \
        ["DNS:reglab-t-sec-twins-registry", "IP:::1"]
    assert not certs.is_ca(theirs) and certs.is_ca(x509.load_pem_x509_certificate((tmp_path / "ca/ca.crt").read_bytes()))
    assert _mode(tmp_path / "ca/ca.key") == _mode(tmp_path / "certs/registry.key") == 0o600
    assert _sh(f"openssl verify -CAfile {tmp_path}/ca/ca.crt {tmp_path}/certs/registry.crt").returncode == 0
    secret = tmp_path / "secrets" / "alice.password"
    assert _mode(secret) == 0o600 and len(secret.read_text().strip()) == 20
    assert not (lab.workdir / "auth" / "alice.password").exists()  # the registry's folder holds htpasswd alone
    assert sorted(p.name for p in (lab.workdir / "auth").iterdir()) == ["htpasswd"]
    if shutil.which("htpasswd"):
        user, _, hashed = (tmp_path / "auth" / "htpasswd").read_text().strip().partition(":")
        assert user == "alice" and hashed.startswith("$2y$05$")
        assert bcrypt.checkpw(secret.read_text().strip().encode(), hashed.encode())


@pytest.mark.daemonless
def test_login_curl_and_cleanup_as_they_print(local_lab, capsys):
    """With TLS and a login: ``curl -i`` shows what curl prints (HTTP/2, lower-case headers), the
    delete's curl reads the password from its file (on no command line, in no output) and does
    delete, the login warning is the 20.10 CLI's, and the clean-up prints a twin for everything the
    twins did — certs.d's file and folder, DOCKER_CONFIG."""
    lab = local_lab("sec-curl", echo=True)
    registry = lab.secure.run_plain()
    lab.tag("hello-world", registry.ref("team-b/hello-world"))
    lab.secure.make_certificates()
    lab.secure.add_user("alice")
    registry = lab.secure.run_with_login()
    assert sorted(dict(registry.files).values()) == ["/auth", "/certs"]
    assert sorted(p.name for p in Path(next(k for k, v in registry.files if v == "/auth")).iterdir()) == ["htpasswd"]
    lab.secure.trust()
    capsys.readouterr()
    assert lab.secure.anonymous() == 401
    out = capsys.readouterr().out
    assert "\nHTTP/2 401 \n" in out and '\nwww-authenticate: Basic realm="Registry Lab"\n' in out
    assert re.search(r"^date: \w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT$", out, re.MULTILINE)
    lab.secure.use_throwaway_docker_config()
    lab.secure.login("alice")
    lab.push(registry.ref("team-b/hello-world"))
    password = lab.secure.passwords["alice"].read_text().strip()
    capsys.readouterr()
    digest = lab.secure.delete(registry.ref("team-b/hello-world"))
    out = capsys.readouterr().out
    twin = _twins(out, "printf")[0]
    assert password not in out and "$(cat " in twin and " -K - " in twin
    assert out.splitlines()[1] == "202"  # what curl printed: the lab's client did not do it
    assert registry.api.request("HEAD", f"/v2/team-b/hello-world/manifests/{digest}", ok=(200, 404)).status_code == 404
    lab.cleanup()
    out = capsys.readouterr().out
    address = registry.address
    assert f"$ sudo rm /etc/docker/certs.d/{address}/ca.crt\n$ sudo rmdir /etc/docker/certs.d/{address}\n" in out
    assert "$ unset DOCKER_CONFIG\n" in out and password not in out


@pytest.mark.engine
def test_the_login_warning_is_the_one_docker_20_10_prints(tmp_path):
    """What lab.secure.login() prints is word for word what Debian's docker CLI 20.10 prints (the CLI
    the course installs), checked against that CLI logging in to a registry with a login."""
    if not Path("/usr/bin/docker").exists():
        pytest.skip("no docker CLI 20.10 at /usr/bin/docker")
    from reglab.credentials import WARNING as WARNING_20_10

    version = subprocess.run(["/usr/bin/docker", "--version"], capture_output=True, text=True, check=False).stdout
    if "20.10" not in version:
        pytest.skip(f"/usr/bin/docker is {version.strip()}")
    config = tmp_path / "cfg"
    # the CLI warns after a login the daemon checked: a registry with a login on 127.0.0.1, which it may reach
    from reglab.engines.local import LocalEngine

    with labs(LocalEngine(), "t-") as make:
        lab = make("sec-warn")
        htpasswd.add_user(tmp_path / "htpasswd", "alice", "pw-20-10")
        registry = lab.run_registry(port=None, env={"REGISTRY_AUTH": "htpasswd", "REGISTRY_AUTH_HTPASSWD_REALM": "r",
                                                     "REGISTRY_AUTH_HTPASSWD_PATH": str(tmp_path / "htpasswd")})
        done = subprocess.run(["/usr/bin/docker", "login", "-u", "alice", "--password-stdin", registry.address],
                              input="pw-20-10\n", capture_output=True, text=True, check=False,
                              env={**os.environ, "DOCKER_CONFIG": str(config)})
    if done.returncode != 0:
        pytest.skip(f"no Docker daemon for the CLI to ask: {done.stderr.strip()}")
    assert done.stderr == WARNING_20_10.format(path=config / "config.json") + "\n"  # then a blank line
    assert done.stdout == "Login Succeeded\n"


# ----------------------------------------------------------------------------- Docker: secure by default


def test_plain_http_refused_then_insecure_registries_applied_and_restored(lab_factory, engine):
    daemon = engine.daemon.config()
    if daemon.why_not():
        pytest.skip(daemon.why_not())
    original = daemon.path.read_bytes() if daemon.path.exists() else None
    lab = lab_factory("sec-plain")
    registry = lab.secure.run_plain()
    assert not registry.host.startswith("127.") and registry.port == 5000
    ref = registry.ref("hello-world")
    lab.tag("hello-world", ref)
    with pytest.raises(PlainHTTPRefused) as refused:
        lab.push(ref)
    assert "http: server gave HTTP response to HTTPS client" in str(refused.value)
    cli = _sh(f"docker push {ref}")
    assert cli.returncode != 0 and "server gave HTTP response to HTTPS client" in cli.stderr
    change = lab.secure.allow_plain_http()
    assert change.applied and registry.address in engine.daemon.insecure_registries()
    assert registry.address in daemon.read()["insecure-registries"]
    assert lab.push(ref).digest.startswith("sha256:")
    assert lab.secure.restore_daemon()
    assert (daemon.path.read_bytes() if daemon.path.exists() else None) == original
    assert registry.address not in engine.daemon.insecure_registries()
    assert not lab.sandbox.daemon_backup.exists()


def test_restore_writes_the_list_docker_info_showed_not_an_empty_one(tmp_path):
    """Undoing insecure-registries writes the list docker info showed before the change, explicitly
    (an empty list drops the loopback default on Docker >= 29.10, moby#53868), reloads, then puts the
    original bytes back and reloads again."""
    shown = {"insecure-registries": ["127.0.0.0/8"]}
    written, reloads = [], []

    class Daemon(DaemonConfig):
        def pid(self):
            return 1

        def why_not(self):
            return None

        def shows(self, key):
            return list(shown[key])

        def _reload(self, expect):
            reloads.append(expect)

        def _write(self, data):
            written.append(data)
            super()._write(data)

    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text('{"debug": true}\n')
    daemon = Daemon(path=daemon_json, pidfile=tmp_path / "pid")
    backup = tmp_path / "backup"
    assert daemon.change({"insecure-registries": ["172.30.0.2:5000"]}, backup).applied
    shown["insecure-registries"] = ["172.30.0.2:5000", "127.0.0.0/8"]
    assert daemon.restore(backup)
    import json as _json
    assert _json.loads(written[1]) == {"debug": True, "insecure-registries": ["127.0.0.0/8"]}
    assert reloads[1] == {"insecure-registries": ["127.0.0.0/8"]}
    assert daemon_json.read_text() == '{"debug": true}\n' and len(reloads) == 3 and not backup.exists()


def test_a_daemon_reglab_did_not_start_is_left_alone(tmp_path):
    daemon_json = tmp_path / "daemon.json"
    daemon_json.write_text('{"debug": true}\n')
    config = DaemonConfig(path=daemon_json, pidfile=tmp_path / "no.pid")
    change = config.change({"insecure-registries": ["10.0.0.1:5000"]}, tmp_path / "backup")
    assert not change.applied and "not started by reglab" in change.why_not
    assert '"10.0.0.1:5000"' in change.instructions() and "SIGHUP" in change.instructions()
    assert daemon_json.read_text() == '{"debug": true}\n' and not (tmp_path / "backup").exists()


# ----------------------------------------------------------------------------- Docker: TLS and a login


def test_tls_refused_without_the_ca_accepted_with_it_then_a_login(lab_factory, engine, tmp_path):
    lab = lab_factory("sec-tls")
    registry = lab.secure.run_plain()
    ref = registry.ref("hello-world")
    lab.tag("hello-world", ref)
    lab.secure.make_certificates()
    registry = lab.secure.run_tls()
    cert = lab.secure.server.load()
    assert f"IP:{registry.host}" in certs.subject_alt_names(cert)
    assert _mode(lab.secure.server.key) == _mode(lab.secure.ca.key) == 0o600
    # refused without the CA: the daemon and reglab's client say the same sentence
    with pytest.raises(UntrustedCertificate) as by_daemon:
        lab.push(ref)
    with pytest.raises(UntrustedCertificate) as by_client:
        RegistryClient(registry.address, tls=True).request("GET", "/v2/")
    assert str(by_daemon.value) == str(by_client.value)
    assert "x509: certificate signed by unknown authority" in str(by_daemon.value)
    assert _sh(f"curl -sS https://{registry.address}/v2/").returncode != 0
    # trusted for this registry only, in certs.d: accepted
    trusted = lab.secure.trust()
    assert trusted == Path("/etc/docker/certs.d") / registry.address / "ca.crt"
    assert trusted.read_bytes() == lab.secure.ca.cert.read_bytes()
    assert lab.push(ref).digest.startswith("sha256:")
    assert _sh(f"curl -sS --cacert {lab.secure.ca.cert} https://{registry.address}/v2/").returncode == 0
    # the legacy certificate: the same sentence from the daemon and from the client
    lab.secure.run_tls(legacy=True)
    with pytest.raises(UntrustedCertificate) as by_daemon:
        lab.pull(ref)
    with pytest.raises(UntrustedCertificate) as by_client:
        RegistryClient(registry.address, tls=True).request("GET", "/v2/")
    assert str(by_daemon.value) == str(by_client.value)
    assert "relies on legacy Common Name field" in str(by_daemon.value)
    # the broken recipe
    with pytest.raises(ProgramMissing, match='exec: "htpasswd": executable file not found'):
        lab.secure.htpasswd_in_registry_image("alice")
    # a login
    lab.secure.add_user("alice")
    password = lab.secure.passwords["alice"].read_text().strip()
    registry = lab.secure.run_with_login()
    anonymous = registry.anonymous_api.request("GET", "/v2/", ok=(401,))
    assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="Registry Lab"'
    with pytest.raises(AuthRequired, match="refused that user name and password"):
        RegistryClient(registry.address, tls=True, auth=("alice", "wrong")).request("GET", "/v2/")
    assert RegistryClient(registry.address, tls=True, auth=("alice", password)).ping()
    folder = lab.secure.use_throwaway_docker_config()
    with pytest.raises(AuthRequired, match="no basic auth credentials"):
        lab.push(ref)
    with pytest.raises(AuthRequired, match="refused that user name and password"):
        lab.secure.login("alice", wrong=True)
    assert not (folder / "config.json").exists()
    lab.secure.login("alice")
    assert lab.push(ref).digest.startswith("sha256:")
    # the real docker CLIs: wrong password refused, right one accepted, config.json byte for byte ours
    ours = (folder / "config.json").read_bytes()
    assert _mode(folder / "config.json") == 0o600
    for cli in CLIS:
        cli_config = tmp_path / Path(cli).parent.name
        env = {**os.environ, "DOCKER_CONFIG": str(cli_config)}
        wrong = subprocess.run([cli, "login", "-u", "alice", "--password-stdin", registry.address], input="wrong\n",
                               capture_output=True, text=True, env=env, check=False)
        assert wrong.returncode != 0 and "401 Unauthorized" in wrong.stderr
        right = subprocess.run([cli, "login", "-u", "alice", "--password-stdin", registry.address],
                               input=password + "\n", capture_output=True, text=True, env=env, check=False)
        assert right.returncode == 0 and "Login Succeeded" in right.stdout, right.stderr
        assert (cli_config / "config.json").read_bytes() == ours
        assert _mode(cli_config / "config.json") == 0o600
    pushed = subprocess.run(["docker", "push", ref], capture_output=True, text=True, check=False,
                            env={**os.environ, "DOCKER_CONFIG": str(folder)})
    assert pushed.returncode == 0, pushed.stderr  # the CLI accepts the file reglab wrote
    # all or nothing: alice deletes from any repository
    other = registry.ref("team-b/hello-world")
    lab.tag("hello-world", other)
    lab.push(other)
    digest = lab.secure.delete(other)
    assert registry.api.request("HEAD", f"/v2/team-b/hello-world/manifests/{digest}", ok=(200, 404)).status_code == 404
    # cleanup: certs.d, DOCKER_CONFIG, objects; this process's environment was never changed
    assert lab.sandbox.docker_config == folder and os.environ.get("DOCKER_CONFIG") != str(folder)
    lab.cleanup()
    assert not trusted.exists() and not trusted.parent.exists()
    assert os.environ.get("DOCKER_CONFIG") != str(folder) and not folder.exists()
    assert lab.objects() == []


def test_checks_fail_on_a_plain_registry_and_pass_on_a_secured_one(lab_factory):
    from reglab import checks

    lab = lab_factory("sec-checks")
    registry = lab.secure.run_plain()
    assert not checks.anonymous_refused(registry)
    assert not checks.credentials_accepted(registry)
    assert not checks.tls_verified(registry)
    lab.secure.make_certificates()
    lab.secure.add_user("alice")
    registry = lab.secure.run_with_login()
    assert checks.tls_verified(registry)  # with the lab's CA, before anything is trusted
    assert checks.anonymous_refused(registry)
    assert not checks.credentials_accepted(registry)
    lab.secure.trust()
    lab.secure.login("alice")
    assert checks.credentials_accepted(registry)


# ----------------------------------------------------------------------------- daemonless: the same sentences


@pytest.mark.daemonless
def test_daemonless_refuses_and_accepts_alike(local_lab):
    lab = local_lab("sec-local")
    registry = lab.secure.run_plain()
    assert registry.address.startswith("[::1]:")
    ref = registry.ref("hello-world")
    lab.tag("hello-world", ref)
    with pytest.raises(PlainHTTPRefused, match="server gave HTTP response to HTTPS client"):
        lab.push(ref)
    assert lab.secure.allow_plain_http().applied
    assert registry.address in lab.engine.daemon.insecure_registries()
    lab.push(ref)
    assert lab.secure.restore_daemon() and registry.address not in lab.engine.daemon.insecure_registries()
    lab.secure.make_certificates()
    registry = lab.secure.run_tls()
    with pytest.raises(UntrustedCertificate, match="signed by unknown authority"):
        lab.push(ref)
    trusted = lab.secure.trust()
    assert trusted.parent.parent == lab.engine.trust.folder() and not str(trusted).startswith("/etc/")
    lab.push(ref)
    lab.secure.run_tls(legacy=True)
    with pytest.raises(UntrustedCertificate, match="relies on legacy Common Name field"):
        lab.pull(ref)
    with pytest.raises(ProgramMissing, match='exec: "htpasswd"'):
        lab.secure.htpasswd_in_registry_image()
    lab.secure.add_user("alice")
    lab.secure.run_with_login()
    lab.secure.use_throwaway_docker_config()
    with pytest.raises(AuthRequired, match="no basic auth credentials"):
        lab.push(ref)
    with pytest.raises(AuthRequired, match="refused"):
        lab.secure.login("alice", wrong=True)
    lab.secure.login("alice")
    lab.push(ref)
    lab.cleanup()
    assert not trusted.exists() and lab.objects() == []


# ----------------------------------------------------------------------------- no credential in any output


SECRETS = [
    re.compile(r"YWxpY2U6"),  # base64 of "alice:" — the start of a stored auth value
    re.compile(r'"auth":\s*"[A-Za-z0-9+/=]{8,}"'),  # an auth value that is not masked
    re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}"),  # a whole bcrypt hash
    re.compile(r"docker login[^\n]*(?:\s-p\s|--password[ =])"),  # a password on docker login's command line
]


def test_no_password_or_credential_in_committed_outputs():
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                text = output.get("text", "") + str((output.get("data") or {}).get("text/plain", ""))
                for pattern in SECRETS:
                    assert not pattern.search(text), f"{path.name}: {pattern.pattern} in {text[:200]!r}"
                assert output.get("output_type") != "error", f"{path.name} holds an error output"


def test_a_live_run_prints_neither_the_password_nor_its_base64(engine, tmp_path):
    """Run notebook 05 in a kernel; before its clean-up, read the password it made and look for it
    (and every base64 form of it) in every output."""
    import nbformat
    from jupyter_client.manager import start_new_kernel

    nb = nbformat.read(ROOT / "notebooks" / "05-secure-your-registry.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    cleanup = next(i for i, c in enumerate(code) if "lab.cleanup()" in c)
    manager, client = start_new_kernel(kernel_name="python3", env=os.environ.copy(), cwd=str(ROOT / "notebooks"))
    outputs: list[str] = []

    def collect(msg):
        content = msg["content"]
        outputs.append(content.get("text", "") + str((content.get("data") or {}).get("text/plain", "")))

    try:
        for source in code[:cleanup]:
            reply = client.execute_interactive(source, timeout=120, output_hook=collect)
            assert reply["content"]["status"] == "ok", reply["content"]
        found: list[str] = []
        client.execute_interactive("print(lab.secure.passwords['alice'].read_text().strip())", timeout=30,
                                   output_hook=lambda m: found.append(m["content"].get("text", "")))
        client.execute_interactive(code[cleanup], timeout=120)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    password = "".join(found).strip()
    assert len(password) == 20
    text = "\n".join(outputs)
    forms = [password, base64.b64encode(password.encode()).decode().rstrip("="),
             credentials.encode("alice", password).rstrip("=")]
    for form in forms:
        assert form not in text
    assert "Login Succeeded" in text and "•" in text  # the login happened, and was shown masked


def test_a_daemon_shared_by_learners_is_left_alone(engine, tmp_path):
    from reglab.engines.docker import DockerEngine

    alices = DockerEngine(engine.settings.but(learner="alice"), client=engine.client)
    change = alices.daemon.reconfigure({"insecure-registries": ["10.0.0.1:5000"]}, tmp_path / "backup")
    assert not change.applied and "several learners" in change.why_not
    assert "10.0.0.1:5000" not in engine.daemon.insecure_registries() and not (tmp_path / "backup").exists()


def test_the_daemons_words_become_the_clients_sentences():
    """What dockerd (Go) says about a registry maps to the sentence reglab's own client says."""
    from reglab import errors
    from reglab.engines.docker import _registry_trouble

    ref, host = "172.30.0.2:5000/hello-world", "172.30.0.2:5000"
    get = 'Get "https://172.30.0.2:5000/v2/": '
    mismatch = "x509: certificate is valid for 172.30.0.3, not 172.30.0.2"
    pairs = [
        (get + "http: server gave HTTP response to HTTPS client", False, errors.plain_http_refused(host)),
        (get + "x509: certificate signed by unknown authority", False, errors.untrusted_certificate(host)),
        (get + "x509: certificate relies on legacy Common Name field, use SANs instead", False,
         errors.legacy_common_name(host)),
        (get + mismatch, False, errors.certificate_mismatch(host, mismatch)),
        ("no basic auth credentials", False, errors.login_needed(host)),
        ("unauthorized: authentication required", True, errors.login_refused(host)),
        ("login attempt to https://172.30.0.2:5000/v2/ failed with status: 401 Unauthorized", True,
         errors.login_refused(host)),
    ]
    for text, given, ours in pairs:
        theirs = _registry_trouble(text, ref, credentials=given)
        assert (type(theirs), str(theirs)) == (type(ours), str(ours))
        assert "\n" not in str(ours) and str(ours).endswith(".")


def test_restore_when_there_was_no_daemon_json(engine, tmp_path):
    """No file before the lab: after it, no file again — and the daemon forgot the change."""
    daemon = engine.daemon.config()
    if daemon.why_not():
        pytest.skip(daemon.why_not())
    kept = daemon.path.read_bytes() if daemon.path.exists() else None
    daemon.path.unlink(missing_ok=True)
    try:
        backup = tmp_path / "daemon.json.backup"
        change = daemon.change({"insecure-registries": ["10.11.12.13:5000"]}, backup)
        assert change.applied and "10.11.12.13:5000" in engine.daemon.insecure_registries()
        assert daemon.restore(backup)
        assert not daemon.path.exists() and "10.11.12.13:5000" not in engine.daemon.insecure_registries()
    finally:
        if kept is not None:
            daemon.path.write_bytes(kept)
