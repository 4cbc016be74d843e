import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from now import settings

from reglab.config import Settings
from reglab import elf, images
from reglab.errors import ImageMissing


def _members(archive: bytes) -> dict:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: (m, tar.extractfile(m).read() if m.isfile() else None) for m in tar}


def test_archive_is_reproducible_and_docker_save_shaped():
    layer = images.Layer().file("hello", b"hi\n", 0o755)
    one = images.image_archive(["x:1"], [layer], {"Cmd": ["/hello"]})
    two = images.image_archive(["x:1"], [images.Layer().file("hello", b"hi\n", 0o755)], {"Cmd": ["/hello"]})
    assert one == two
    members = _members(one)
    manifest = json.loads(members["manifest.json"][1])
    assert manifest[0]["RepoTags"] == ["x:1"]
    config = json.loads(members[manifest[0]["Config"]][1])
    layer_bytes = members[manifest[0]["Layers"][0]][1]
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer_bytes).hexdigest()]
    assert manifest[0]["Config"] == hashlib.sha256(members[manifest[0]["Config"]][1]).hexdigest() + ".json"


def _layer_files(archive: bytes) -> dict:
    members = _members(archive)
    manifest = json.loads(members["manifest.json"][1])
    layer = members[manifest[0]["Layers"][0]][1]
    config = json.loads(members[manifest[0]["Config"]][1])
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        return {m.name: m for m in tar}, config


@pytest.mark.engine
def test_registry_standin_looks_like_upstream():
    files, config = _layer_files(images.registry_standin_archive("registry:2", settings()))
    for path in ("bin/registry", "bin/busybox", "entrypoint.sh", "etc/docker/registry/config.yml", "var/lib/registry"):
        assert path in files, path
    for applet in ("sh", "du", "find"):
        assert files[f"bin/{applet}"].issym()
    assert config["config"]["Entrypoint"] == ["/entrypoint.sh"]
    assert config["config"]["Cmd"] == ["/etc/docker/registry/config.yml"]
    assert "/var/lib/registry" in config["config"]["Volumes"]
    assert "5000/tcp" in config["config"]["ExposedPorts"]
    assert config["config"]["Labels"]["reglab.standin"] == "true"


@pytest.mark.engine
def test_registry_3_standin_looks_like_the_official_v3_image():
    """Layout of distribution-library-image's Dockerfile for v3: config in /etc/distribution, traces off."""
    from reglab import tools

    if tools.find("registry", Settings.from_env().tools_dir) is None:
        pytest.fail(f"the registry v3 binary is not built: {tools.install_hint('registry')}")
    files, config = _layer_files(images.registry_standin_archive("registry:3", settings()))
    for path in ("bin/registry", "bin/busybox", "bin/sh", "entrypoint.sh", "etc/distribution/config.yml",
                 "var/lib/registry"):
        assert path in files, path
    assert "etc/docker/registry/config.yml" not in files
    assert not [name for name in files if name.startswith(("lib", "usr/lib"))]  # static: no libc, no loader
    assert config["config"]["Entrypoint"] == ["/entrypoint.sh"]
    assert config["config"]["Cmd"] == ["/etc/distribution/config.yml"]
    assert config["config"]["Env"][1:] == ["OTEL_TRACES_EXPORTER=none"]
    assert list(config["config"]["ExposedPorts"]) == ["5000/tcp"] and "/var/lib/registry" in config["config"]["Volumes"]
    assert config["config"]["Labels"]["reglab.standin"] == "true"
    text = images.registry_standin_config(3).decode()
    assert text.startswith("version: 0.1\n") and "      enabled: true\n" in text and "        addr: :5001\n" in text


@pytest.mark.parametrize("reference, major", [("registry:2", 2), ("registry:2.8.2", 2), ("registry:3", 3),
                                              ("registry:3.1.2", 3), ("registry", 3), ("registry:latest", 3),
                                              ("reglab-test/registry-nowhere:1", 2)])
def test_which_registry_stand_in_a_reference_gets(reference, major):
    assert images.registry_major(reference) == major


def test_hello_standin_is_one_small_static_program():
    files, config = _layer_files(images.hello_standin_archive("hello-world"))
    assert list(files) == ["hello"]
    assert files["hello"].size < 64 * 1024
    assert config["config"]["Cmd"] == ["/hello"]


def test_hello_program_prints_exactly_the_greeting_on_this_machine(tmp_path):
    program = tmp_path / "hello"
    program.write_bytes(elf.program(images.hello_greeting(), images.go_arch()))
    program.chmod(0o755)
    done = subprocess.run([str(program)], capture_output=True, timeout=10)
    assert (done.returncode, done.stdout, done.stderr) == (0, images.hello_greeting().encode(), b"")


@pytest.mark.parametrize("arch, emulator", [("amd64", "qemu-x86_64"), ("arm64", "qemu-aarch64")])
def test_hello_program_runs_on_each_architecture(arch, emulator, tmp_path):
    """The program for the other architecture too, under qemu's user-mode emulator (qemu-user)."""
    program = tmp_path / f"hello-{arch}"
    program.write_bytes(elf.program("one line\n", arch))
    program.chmod(0o755)
    done = subprocess.run([emulator, str(program)], capture_output=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, b"one line\n")


def test_hello_standin_is_the_same_bytes_whatever_the_machine_has():
    """No compiler involved: two builds, in two processes, give one digest."""
    code = ("from reglab import images; import hashlib; "
            "print(hashlib.sha256(images.hello_standin_archive('hello-world')).hexdigest())")
    no_tools = dict(os.environ, PATH="/nonexistent")  # no gcc, no cc: nothing to compile with
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=no_tools,
                           check=True).stdout for _ in range(2)}
    assert len(runs) == 1


@pytest.mark.engine
def test_a_stand_in_of_an_older_recipe_is_rebuilt(tmp_path, monkeypatch):
    """A machine that built hello-world with an older recipe (a compiled program, other digests)
    gets the current one, so its outputs match the committed ones."""
    from reglab.engines.local import LocalEngine
    from reglab.oci import ImageStore

    monkeypatch.setenv("REGLAB_OFFLINE", "1")
    engine = LocalEngine(store=ImageStore(tmp_path / "store"))
    old_config = dict(images._standin_config("hello", ["/hello"]))
    old_config["Labels"] = {**old_config["Labels"], "reglab.standin.recipe": "1"}
    engine.images.load(images.image_archive(["hello-world"], [images.Layer().file("hello", b"old")], old_config))
    assert engine.images.info("hello-world").recipe == "1"
    statuses = {s.role: s.action for s in images.ensure(engine, ("hello",), settings=settings())}
    assert statuses == {"hello": "rebuilt"}
    info = engine.images.info("hello-world")
    assert info.recipe == images.RECIPES["hello"]
    assert info.id == engine.store.find("hello-world").id
    assert [s.action for s in images.ensure(engine, ("hello",), settings=settings())] == ["present"]


# ----------------------------------------------------------------------------- which images a learner gets
# Nothing here reaches Docker Hub: the probe is pointed at 127.0.0.1 (a closed port, or a tiny
# server that counts requests), and the real pull is never exercised.

@contextmanager
def _probe_target():
    """An HTTP server on 127.0.0.1 answering 401 as Docker Hub does; yields its URL and the paths asked."""
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v2/", asked
    finally:
        server.shutdown()
        server.server_close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v2/"  # nobody listens there now: connection refused


@pytest.fixture
def auto(monkeypatch):
    """The learner's default: REGLAB_OFFLINE unset, the probe pointed at a closed port on 127.0.0.1."""
    monkeypatch.delenv("REGLAB_OFFLINE", raising=False)
    monkeypatch.setenv("REGLAB_HUB_PROBE_URL", _closed_port_url())
    return monkeypatch


def _absent(engine, ref: str) -> None:
    if engine.images.info(ref) is not None:
        engine.images.remove(ref)


def test_the_probe_counts_any_answer_and_a_closed_port_as_unreachable():
    with _probe_target() as (url, asked):
        assert images.hub_reachable(url) is True
    assert asked == ["/v2/"]
    assert images.hub_reachable(_closed_port_url()) is False


def test_image_source_follows_reglab_offline():
    for value, source in (("1", "standin"), ("0", "hub"), ("", "auto")):
        assert Settings.from_env({"REGLAB_OFFLINE": value}).image_source == source
    assert Settings.from_env({}).image_source == "auto" and not Settings.from_env({}).offline


def test_present_images_are_used_without_asking_docker_hub(engine, auto):
    ref = "reglab-test/hello-present:1"
    auto.setenv("REGLAB_HELLO_IMAGE", ref)
    engine.images.load(images.hello_standin_archive(ref))
    try:
        with _probe_target() as (url, asked):
            auto.setenv("REGLAB_HUB_PROBE_URL", url)
            statuses = images.ensure(engine, settings=settings())
        assert [s.action for s in statuses] == ["present", "present"]
        assert asked == []  # nothing missing: Docker Hub is not even asked
    finally:
        engine.images.remove(ref)


def test_without_docker_hub_a_stand_in_is_built(engine, auto):
    ref = "reglab-test/hello-auto:1"
    auto.setenv("REGLAB_HELLO_IMAGE", ref)
    _absent(engine, ref)
    try:
        [status] = images.ensure(engine, ("hello",), settings=settings())
        assert (status.action, status.standin) == ("built", True)
        assert status.why.startswith("Docker Hub cannot be reached (http://127.0.0.1:")
        info = engine.images.info(ref)
        assert info is not None and info.standin  # in the daemon's store, labelled reglab.standin=true
        assert str(status).startswith(f"{ref} (offline stand-in): built — Docker Hub cannot be reached")
    finally:
        _absent(engine, ref)


def test_without_docker_hub_or_packages_one_sentence_says_the_ways_forward(engine, auto, tmp_path):
    ref = "reglab-test/registry-nowhere:1"
    auto.setenv("REGLAB_REGISTRY_IMAGE", ref)
    auto.setenv("REGLAB_REGISTRY_BIN", str(tmp_path / "no-registry"))  # the registry binary is not here
    _absent(engine, ref)
    with pytest.raises(ImageMissing) as raised:
        images.ensure(engine, ("registry",), settings=settings())
    text = str(raised.value)
    assert "Docker Hub cannot be reached" in text and "docker-registry is missing" in text
    assert "python -m reglab images" in text and "sudo apt-get install docker-registry busybox-static" in text
    assert "\n" not in text and text.count(". ") == 0 and text.endswith(").")
    assert engine.images.info(ref) is None


@pytest.mark.engine
def test_the_daemonless_engine_builds_stand_ins_without_asking_docker_hub(auto):
    from reglab.engines.local import LocalEngine, registry_binary

    if registry_binary(settings()) is None:
        pytest.fail("the registry binary is missing: scripts/setup.sh installs docker-registry")
    engine = LocalEngine()
    ref = "reglab-test/hello-local:1"
    auto.setenv("REGLAB_HELLO_IMAGE", ref)
    _absent(engine, ref)
    try:
        with _probe_target() as (url, asked):
            auto.setenv("REGLAB_HUB_PROBE_URL", url)
            statuses = images.ensure(engine, settings=settings())
        assert [s.action for s in statuses] == ["present", "built"]
        assert statuses[1].why == "the daemonless engine does not pull from Docker Hub"
        assert asked == []
        assert engine.images.info(ref).standin
    finally:
        _absent(engine, ref)


def test_a_lab_says_once_that_its_images_are_not_the_stand_ins(lab_factory, engine, monkeypatch, capsys):
    ref = "reglab-test/real-hello:1"
    monkeypatch.setenv("REGLAB_HELLO_IMAGE", ref)
    engine.images.load(images.docker_archive([images.synthetic_image(ref, [images.Layer().file("x", b"x")])]))
    try:
        lab_factory("real", echo=True, settings=settings())
        lines = [line for line in capsys.readouterr().out.splitlines() if "not reglab's stand-in" in line]
        assert lines == [(f"(reglab) {ref} here is not reglab's stand-in (it came from Docker Hub or elsewhere): "
                          "the digests, sizes and hello-world's greeting you see differ from those saved in the "
                          "notebook, as expected.")]
    finally:
        engine.images.remove(ref)
    assert os.environ.get("REGLAB_OFFLINE") == "1"  # the tests themselves use the stand-ins


@pytest.mark.engine
def test_the_docker_engines_image_list_is_one_listing_that_says_what_an_inspect_says(engine):
    """``images.list()`` reads ``GET /images/json`` once (an image another learner removes while a
    lab cleans up no longer breaks the listing), and each entry holds what inspecting it gives."""
    from reglab.engines.docker.images import _info

    listed = {info.id: info for info in engine.images.list()}
    inspected = {image.id: _info(image) for image in engine.client.images.list()}
    assert listed == inspected and any(info.tags for info in listed.values())
