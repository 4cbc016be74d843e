"""The daemonless engine's docker command: how it reads the docker CLI's words (the lab sheets
prove the commands live under the daemonless engine, tests/test_labs.py)."""

import pytest

from now import State, settings

from reglab.dockercli import Usage, _split_flags, _template, parse_run, scope_for
from reglab.naming import Scope
from reglab.registry_run import RegistryRun, parse_publish


def test_run_reads_the_flags_the_labs_use():
    run = RegistryRun.parse(["-d", "--name", "reg", "-p", "127.0.0.1:5110:5000", "-v", "data:/var/lib/registry",
                             "--user", "0:0", "-e", "REGISTRY_STORAGE_MAINTENANCE_READONLY=enabled: true", "registry:2"])
    assert (run.name, run.image, run.host, run.port, run.volume, run.user) == \
        ("reg", "registry:2", "127.0.0.1", 5110, "data", "0:0")
    assert run.env == (("REGISTRY_STORAGE_MAINTENANCE_READONLY", "enabled: true"),)
    assert parse_run(["--rm", "-it", "hello-world"]).remove


def test_what_only_docker_can_do_is_one_sentence():
    with pytest.raises(Usage, match="needs Docker"):
        parse_run(["--network", "lab", "hello-world"])
    with pytest.raises(Usage, match="requires at least 1 argument"):
        parse_run(["-d"])
    with pytest.raises(Usage, match="5000 inside"):
        parse_publish("127.0.0.1:5110:8080")
    assert parse_publish("5110:5000") == ("0.0.0.0", 5110)  # all addresses, as Docker reads it


def test_flags_with_values_depend_on_the_command():
    assert _split_flags(["-f", "{{.State.Status}}", "reg"], {"-f"}) == ({"-f": ["{{.State.Status}}"]}, ["reg"])
    assert _split_flags(["-fv", "reg"]) == ({"-f": [""], "-v": [""]}, ["reg"])
    doc = {"State": {"Status": "running"}, "Mounts": [{"Type": "volume"}]}
    assert _template("{{.State.Status}}", doc) == "running"
    assert _template("{{json .Mounts}}", doc) == '[{"Type": "volume"}]'


def test_names_belong_to_the_lab_they_start_with():
    cli = settings().but(learner="t-cli")
    state = State(Scope("lab-02", "t-cli"))
    state.add_name("volumes", "reglab-t-cli-lab-02-data")  # a sheet of lab-02 was set up
    try:
        assert scope_for("reglab-t-cli-lab-02-registry2", cli) == Scope("lab-02", "t-cli")
        assert scope_for("my-registry", cli) == Scope("cli", "t-cli")
        assert scope_for("my-registry", cli, lab="lab-07") == Scope("lab-07", "t-cli")
    finally:
        state.clear()
        state.dir.rmdir()


@pytest.mark.daemonless
def test_login_is_checked_then_stored_and_never_printed(monkeypatch):
    """``docker login`` on the daemonless engine, against lab 11's registry (TLS, htpasswd): a wrong
    password is refused in one sentence and stores nothing; the right one, from standard input, is
    stored in ``$DOCKER_CONFIG/config.json`` and printed nowhere."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from reglab import credentials
    from reglab.engines.local import LocalEngine
    from reglab.tasks import start

    monkeypatch.setenv("REGLAB_LEARNER", "t-login")
    sheet = start("lab-11", engine=LocalEngine(), echo=False)
    try:
        (sheet.trust_file.parent).mkdir(parents=True, exist_ok=True)
        sheet.trust_file.write_bytes(sheet.ca_files.cert.read_bytes())  # task 1 done
        password = Path(sheet.password_file).read_text().strip()
        login = [sys.executable, "-m", "reglab", "docker", "login", "--username", sheet.user, "--password-stdin",
                 sheet.address]
        # typed in a terminal, as labs/README.md says: the sheet's DOCKER_CONFIG exported first
        env = dict(os.environ, REGLAB_ENGINE="local", DOCKER_CONFIG=sheet.docker_config)
        wrong = subprocess.run(login, input="not-the-password\n", capture_output=True, text=True, env=env, check=False)
        assert wrong.returncode != 0 and "Login Succeeded" not in wrong.stdout
        assert len((wrong.stdout + wrong.stderr).strip().splitlines()) == 1, wrong.stderr
        assert sheet.address not in credentials.read(Path(sheet.docker_config)).get("auths", {})
        assert not sheet.q2.result()
        right = subprocess.run(login, input=password + "\n", capture_output=True, text=True, env=env, check=False)
        assert right.returncode == 0 and right.stdout.strip() == "Login Succeeded", right.stderr
        assert password not in right.stdout + right.stderr + wrong.stdout + wrong.stderr
        assert sheet.q2.result(), sheet.q2.result().detail
    finally:
        sheet.cleanup()
