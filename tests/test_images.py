import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

from reglab import elf, images


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


def test_registry_standin_looks_like_upstream():
    files, config = _layer_files(images.registry_standin_archive("registry:2"))
    for path in ("bin/registry", "bin/busybox", "entrypoint.sh", "etc/docker/registry/config.yml", "var/lib/registry"):
        assert path in files, path
    for applet in ("sh", "du", "find"):
        assert files[f"bin/{applet}"].issym()
    assert config["config"]["Entrypoint"] == ["/entrypoint.sh"]
    assert config["config"]["Cmd"] == ["/etc/docker/registry/config.yml"]
    assert "/var/lib/registry" in config["config"]["Volumes"]
    assert "5000/tcp" in config["config"]["ExposedPorts"]
    assert config["config"]["Labels"]["reglab.standin"] == "true"


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


def test_a_stand_in_of_an_older_recipe_is_rebuilt(tmp_path, monkeypatch):
    """A machine that built hello-world with an older recipe (a compiled program, other digests)
    gets the current one, so its outputs match the committed ones."""
    from reglab.engines.local import LocalEngine
    from reglab.oci import ImageStore

    monkeypatch.setenv("REGLAB_OFFLINE", "1")
    engine = LocalEngine(store=ImageStore(tmp_path / "store"))
    old_config = dict(images._standin_config("hello", ["/hello"]))
    old_config["Labels"] = {**old_config["Labels"], "reglab.standin.recipe": "1"}
    engine.load_image_archive(images.image_archive(["hello-world"], [images.Layer().file("hello", b"old")], old_config))
    assert engine.image_info("hello-world").recipe == "1"
    statuses = {s.role: s.action for s in images.ensure(engine, roles=("hello",))}
    assert statuses == {"hello": "rebuilt"}
    info = engine.image_info("hello-world")
    assert info.recipe == images.RECIPES["hello"]
    assert info.id == engine.store.find("hello-world").id
    assert [s.action for s in images.ensure(engine, roles=("hello",))] == ["present"]
