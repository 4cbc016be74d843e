import socket

import pytest

from reglab import naming, ports
from reglab.config import Settings
from reglab.errors import BadReference, PortInUse, ReglabError
from reglab.naming import Scope
from reglab.twin import Raw, docker


def test_object_names_and_labels_without_a_learner():
    scope = Scope("01")
    assert scope.object_name("registry") == "reglab-01-registry"
    assert scope.labels() == {"reglab.lab": "01"}
    assert Scope("02").docker_filter() == {"label": ["reglab.lab=02"]}
    assert Scope(None).docker_filter() == {"label": ["reglab.lab"]}


def test_a_learner_scopes_names_labels_and_ownership():
    alice = Scope("02", "alice")
    assert alice.object_name("registry") == "reglab-alice-02-registry"
    assert alice.labels() == {"reglab.lab": "02", "reglab.learner": "alice"}
    assert alice.docker_filter() == {"label": ["reglab.lab=02", "reglab.learner=alice"]}
    assert alice.owns({"reglab.lab": "02", "reglab.learner": "alice"})
    assert not alice.owns({"reglab.lab": "02", "reglab.learner": "bob"})
    assert not alice.owns({"reglab.lab": "02"})  # the machine's single learner's lab is not alice's
    assert not Scope("02").owns({"reglab.lab": "02", "reglab.learner": "alice"})  # nor the other way round
    assert Scope(None, "alice").owns({"reglab.lab": "05", "reglab.learner": "alice"})
    assert Scope(None, naming.ANY).owns({"reglab.lab": "05", "reglab.learner": "bob"})
    assert not Scope(None, naming.ANY).owns({"other": "x"})


def test_the_learner_comes_from_reglab_learner_else_jupyterhub_user():
    assert Settings.from_env({}).learner is None
    assert Scope("01", Settings.from_env({"JUPYTERHUB_USER": "bob"}).learner).object_name("registry") \
        == "reglab-bob-01-registry"
    assert Settings.from_env({"JUPYTERHUB_USER": "bob", "REGLAB_LEARNER": "alice"}).learner == "alice"


@pytest.mark.parametrize("bad", ["Alice", "a b", "a/b", "x" * 33, "-x", "é"])
def test_invalid_learner_names_get_one_clear_error(bad):
    with pytest.raises(BadReference) as info:
        Settings.from_env({"REGLAB_LEARNER": bad})
    assert "REGLAB_LEARNER=" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("bad", ["", "UP", "a b", "-x", "x" * 41, "a/b"])
def test_bad_lab_ids(bad):
    with pytest.raises(BadReference):
        Scope(bad).object_name("registry")


def test_twin_quotes_only_what_the_shell_needs():
    twin = docker("image", "ls", "--filter", "reference=127.0.0.1:5000/*")
    assert str(twin) == "docker image ls --filter 'reference=127.0.0.1:5000/*'"
    assert repr(twin).startswith("$ docker ")
    raw = docker("run", "--user", Raw('"$(id -u):$(id -g)"'), "registry:2")
    assert str(raw) == 'docker run --user "$(id -u):$(id -g)" registry:2'


def _listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_port_choice_skips_a_taken_port():
    with _listener() as held:
        port = held.getsockname()[1]
        assert not ports.is_free(port)
        chosen = ports.choose(port)
        assert chosen > port and ports.is_free(chosen)


def test_strict_port_raises_one_sentence():
    with _listener() as held:
        port = held.getsockname()[1]
        with pytest.raises(PortInUse) as info:
            ports.choose(port, strict=True)
    assert str(port) in str(info.value) and "\n" not in str(info.value)


def test_free_port_is_kept():
    with _listener() as held:
        port = held.getsockname()[1]
    assert ports.choose(port) == port


def test_error_renders_as_one_line_in_ipython():
    err = PortInUse("port 5000 is taken: stop it.")
    assert isinstance(err, ReglabError)
    assert err._render_traceback_() == ["PortInUse: port 5000 is taken: stop it."]
