"""A registry's ``docker container run`` as one value: its twin, read back as typed, is itself."""

import shlex

import pytest

from reglab.errors import UsageError
from reglab.registry_run import RegistryRun, this_user

RUNS = [
    RegistryRun("reglab-01-registry", "registry:2", 5000),
    RegistryRun("reglab-02-registry", "registry:2", 5001, volume="reglab-02-registry-data"),
    RegistryRun("reglab-04-registry", "registry:3", 5002, bind="/tmp/reglab-x/04/registry-data", user=this_user(),
                env=(("REGISTRY_STORAGE_DELETE_ENABLED", "true"),
                     ("REGISTRY_STORAGE_MAINTENANCE_READONLY", '{"enabled":true}'))),
    RegistryRun("reglab-05-registry", "registry:2", 5003, volume="reglab-05-registry-data",
                files=(("/tmp/reglab-x/05/certs", "/certs"), ("/tmp/reglab-x/05/auth", "/auth")),
                env=(("REGISTRY_HTTP_TLS_CERTIFICATE", "/certs/registry.crt"), ("REGISTRY_AUTH", "htpasswd")),
                network="reglab-05-net"),
    RegistryRun("reglab-06-proxy", "registry:2", 5004, network="reglab-06-net", dns_options=("ndots:1",),
                env=(("REGISTRY_PROXY_REMOTEURL", "http://reglab-06-hub:5000"),)),
    RegistryRun("other", "registry:2", 5005, user="1234:5678"),  # another user is printed as it is
]


@pytest.mark.parametrize("run", RUNS, ids=lambda r: r.name)
def test_the_twin_typed_as_printed_reads_back_as_the_same_run(run):
    typed = shlex.split(str(run.twin()))  # what a shell passes to docker: "$(id -u):$(id -g)" unexpanded here
    assert typed[:3] == ["docker", "container", "run"]
    assert RegistryRun.parse(typed) == run
    assert RegistryRun.parse(typed[3:]) == run  # without "docker container run" as well


def test_the_twin_says_the_learner_not_a_number():
    run = RUNS[2]
    assert '--user "$(id -u):$(id -g)"' in str(run.twin())
    assert "--user 1234:5678" in str(RUNS[-1].twin())


def test_settings_change_in_place_and_go():
    run = RUNS[2].with_settings(REGISTRY_STORAGE_MAINTENANCE_READONLY=None, EXTRA="1")
    assert run.env == (("REGISTRY_STORAGE_DELETE_ENABLED", "true"), ("EXTRA", "1"))


@pytest.mark.parametrize("argv, words", [
    (["-d", "registry:2"], "publish the registry's port once"),
    (["-p", "5000:5000", "registry:2"], "--name"),
    (["-p", "5000:8080", "--name", "r", "registry:2"], "5000 inside"),
    (["-p", "5000:5000", "--name", "r", "--bogus", "registry:2"], "unknown flag"),
    (["-p", "5000:5000", "--name"], "flag needs an argument"),
])
def test_a_line_it_cannot_read_gets_one_sentence(argv, words):
    with pytest.raises(UsageError, match=words):
        RegistryRun.parse(argv)


def test_env_without_a_value_is_read_from_the_environment_given():
    run = RegistryRun.parse(["-p", "5000:5000", "--name", "r", "-e", "REGISTRY_HTTP_SECRET", "registry:2"],
                            environ={"REGISTRY_HTTP_SECRET": "s3cret"})
    assert run.setting("REGISTRY_HTTP_SECRET") == "s3cret" and run.host == "0.0.0.0"
