import hashlib
import io
import json
import tarfile

from reglab import images


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
