import socket

import pytest

from reglab import naming, ports
from reglab.errors import BadReference, PortInUse, ReglabError
from reglab.twin import Raw, docker


def test_object_names_and_labels():
    assert naming.object_name("01", "registry") == "reglab-01-registry"
    assert naming.labels("02") == {"reglab.lab": "02"}
    assert naming.label_filter("02") == {"label": ["reglab.lab=02"]}
    assert naming.label_filter() == {"label": ["reglab.lab"]}


@pytest.mark.parametrize("bad", ["", "UP", "a b", "-x", "x" * 41, "a/b"])
def test_bad_lab_ids(bad):
    with pytest.raises(BadReference):
        naming.object_name(bad, "registry")


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
