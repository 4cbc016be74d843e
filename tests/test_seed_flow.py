"""The seed notes' whole sequence against the live daemon and a real registry."""

import hashlib
import os
import subprocess

import pytest
import requests

from reglab import images
from reglab.errors import ManifestUnknown, RegistryUnavailable
from reglab.naming import Scope
from reglab.storage import Tree


def _catalog(registry):
    return requests.get(f"{registry.url}/v2/_catalog", timeout=5).json()["repositories"]


def _manifest_digest(registry, repo, tag="latest"):
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    r = requests.head(f"{registry.url}/v2/{repo}/manifests/{tag}", headers={"Accept": accept}, timeout=5)
    r.raise_for_status()
    return r.headers["Docker-Content-Digest"]


def test_run_tag_push_remove_pull(lab_factory, engine, hello_of_its_own):
    lab = lab_factory("seed")
    registry = lab.run_registry()
    assert requests.get(f"{registry.url}/v2/", timeout=5).status_code == 200
    assert engine.containers.state(registry.name) == "running"
    assert _catalog(registry) == []

    # hello-world's program as an image of the test's own: on a learner's machine hello-world's image
    # may be theirs too (a tag keeps it when removed; a container of it makes Docker refuse), and the
    # flow must end with every local copy gone (notebook 01 runs it with hello-world itself)
    source = "reglab-t-seed-hello:latest"
    lab.load_images([hello_of_its_own(source, "t-seed")])
    run = lab.run(source)
    assert run.exit_code == 0 and run.output == images.hello_greeting()  # what the daemonless engine shows

    target = registry.ref("hello-world")
    lab.tag(source, target)
    assert engine.images.info(target).id == engine.images.info(source).id

    pushed = lab.push(target)
    assert _catalog(registry) == ["hello-world"]
    assert lab.tags("hello-world") == ["latest"]
    assert _manifest_digest(registry, "hello-world") == pushed.digest

    image_id = engine.images.info(source).id
    lab.remove_container("hello")
    lab.remove_image(source)
    lab.remove_image(target)
    assert engine.images.info(target) is None and engine.images.info(source) is None
    assert engine.images.info(image_id) is None  # the image itself is gone: nothing local is left to pull from

    pulled = lab.pull(target)
    assert pulled.digest == pushed.digest
    assert engine.images.info(target) is not None
    assert any(d.endswith(pushed.digest) for d in engine.images.info(target).repo_digests)


def test_registry_without_volume_forgets_with_volume_keeps(lab_factory, engine):
    lab = lab_factory("volumes")
    registry = lab.run_registry()
    lab.tag("hello-world", registry.ref("hello-world"))
    pushed = lab.push(registry.ref("hello-world"))
    lab.kill_registry()
    assert engine.containers.state(registry.name) == "exited"
    lab.remove_registry()
    assert engine.containers.state(registry.name) is None
    with pytest.raises(RegistryUnavailable):
        lab.pull(registry.ref("hello-world"))

    registry = lab.run_registry()
    assert _catalog(registry) == []
    with pytest.raises(ManifestUnknown):
        lab.pull(registry.ref("hello-world"))

    lab.kill_registry()
    lab.remove_registry()
    registry = lab.run_registry(volume="registry-data")
    assert engine.objects.volume_exists("reglab-t-volumes-registry-data")
    lab.push(registry.ref("hello-world"))
    lab.kill_registry()
    lab.remove_registry()
    registry = lab.run_registry(volume="registry-data")
    assert _catalog(registry) == ["hello-world"]
    assert _manifest_digest(registry, "hello-world") == pushed.digest


def test_tree_from_volume_and_bind_mount_match_disk_and_api(lab_factory, engine):
    lab = lab_factory("tree")
    registry = lab.run_registry(bind="registry-data")
    lab.tag("hello-world", registry.ref("hello-world"))
    pushed = lab.push(registry.ref("hello-world"))
    folder = registry.bind
    tree = lab.storage.tree()
    # the registry ran as us: its files are ours
    assert {p.stat().st_uid for p in folder.rglob("*")} == {os.getuid()}
    # every blob's name is the sha256 of its bytes, as sha256sum says
    for digest in tree.blobs():
        data = folder / "docker/registry/v2/blobs/sha256" / digest[7:9] / digest[7:] / "data"
        out = subprocess.run(["sha256sum", str(data)], capture_output=True, text=True, check=True).stdout
        assert out.split()[0] == digest[7:] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert tree.tag_target("hello-world", "latest") == pushed.digest
    # file count agrees with find
    found = subprocess.run(["find", str(folder), "-type", "f"], capture_output=True, text=True, check=True)
    assert tree.file_count == len(found.stdout.split())

    # the same data read through the archive API of a registry on a volume gives the same blobs
    lab.kill_registry()
    lab.remove_registry()
    registry = lab.run_registry(volume="data")
    lab.push(registry.ref("hello-world"))
    from_archive = lab.storage.tree()
    assert {d: n.size for d, n in from_archive.blobs().items()} == {d: n.size for d, n in tree.blobs().items()}
    assert Tree.from_path(folder).blobs().keys() == from_archive.blobs().keys()
    assert "blobs/" in from_archive.text() and "current/" in from_archive.text()


def test_cleanup_leaves_nothing(lab_factory, engine):
    lab = lab_factory("leaks")
    registry = lab.run_registry(volume="registry-data")
    lab.run("hello-world")
    lab.tag("hello-world", registry.ref("hello-world", "v1"))
    lab.push(registry.ref("hello-world", "v1"))
    bind_lab = lab_factory("leaks-bind")
    bound = bind_lab.run_registry(bind="data")
    assert bound.bind.exists()
    assert len(engine.objects.of(Scope("t-leaks"))) == 3  # registry, hello container, volume
    lab.cleanup()
    bind_lab.cleanup()
    assert engine.objects.of(Scope("t-leaks")) == [] and engine.objects.of(Scope("t-leaks-bind")) == []
    assert engine.images.info(registry.ref("hello-world", "v1")) is None
    assert not bound.bind.exists()
    # the anonymous volume a registry without a volume makes is removed with its container
    assert engine.images.info("hello-world") is not None
