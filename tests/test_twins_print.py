"""What a step prints after its twin is what that twin prints — checked against the real
command (the docker CLI, find, sha256sum) — and cleanup prints the twins that undo a lab,
dangling images included; under both engines.
"""

import contextlib
import io
import shutil
import subprocess

import pytest
from conftest import labs

from reglab import checks, images
from reglab.engines.local import LocalEngine, registry_binary
from reglab.narrator import cleanup_twins
from reglab.sandbox import Made
from reglab.media import digest_of
from reglab.oci import ImageStore
from reglab.steps.growth import DELETE_ENABLED
from reglab.steps.local_images import tabulate
from reglab.storage import BlobCorrupt
from reglab.twin import Twin, docker
from reglab.units import docker_age, docker_size

DOCKER_CLI = shutil.which("docker")


def printed(step, *args, **kwargs) -> tuple[str, object]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = step(*args, **kwargs)
    return out.getvalue(), result


# ----------------------------------------------------------------------------- units and twins


def test_sizes_and_ages_as_the_docker_cli_prints_them():
    assert [docker_size(n) for n in (0, 999, 9160, 25_100_000, 23_712_345, 1_500_000_000)] == \
        ["0B", "999B", "9.16kB", "25.1MB", "23.7MB", "1.5GB"]
    assert [docker_age(s) for s in (0.2, 1, 30, 90, 1800, 3600, 36 * 3600, 3 * 86400, 20 * 86400, 90 * 86400)] == [
        "Less than a second ago", "1 second ago", "30 seconds ago", "About a minute ago", "30 minutes ago",
        "About an hour ago", "36 hours ago", "3 days ago", "2 weeks ago", "3 months ago"]
    assert docker_age(56 * 365.25 * 86400) == "56 years ago"


def test_columns_are_laid_out_like_tabwriter():
    rows = [("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"), ("hello-world", "latest", "0123456789ab",
                                                                      "56 years ago", "9.16kB")]
    assert tabulate(rows).splitlines() == ["REPOSITORY    TAG       IMAGE ID       CREATED        SIZE",
                                           "hello-world   latest    0123456789ab   56 years ago   9.16kB"]


def test_twin_pipes_and_wraps():
    twin = Twin.of("find", "/x y", "-type", "f") | Twin.of("sort")
    assert str(twin) == "find '/x y' -type f | sort" and twin.stages == (("find", "/x y", "-type", "f"), ("sort",))
    wrapped = docker("image", "rm", "a:1", "b:2").wrapped(3)
    assert repr(wrapped) == "$ docker image rm \\\n    a:1 \\\n    b:2"
    assert repr(docker("image", "rm", "a:1").wrapped(3)) == "$ docker image rm a:1"


def test_cleanup_twins_undo_each_kind_once():
    twins = cleanup_twins([Made("container", "reglab-01-registry"), Made("container", "reglab-01-hello"),
                           Made("volume", "reglab-01-data"), Made("tag", "127.0.0.1:5000/x:1"),
                           Made("image", "0123456789ab"), Made("folder", "/tmp/reglab-u/01/data"),
                           Made("file", "/etc/docker/certs.d/x/ca.crt", "the CA certificate trusted for x"),
                           Made("restored", "DOCKER_CONFIG, as it was")])
    assert [str(t) for t in twins] == [
        "docker container rm -f -v reglab-01-registry reglab-01-hello", "docker volume rm reglab-01-data",
        "docker image rm 127.0.0.1:5000/x:1", "docker image rm 0123456789ab", "rm -rf /tmp/reglab-u/01/data",
        "sudo rm /etc/docker/certs.d/x/ca.crt", "sudo rmdir /etc/docker/certs.d/x", "unset DOCKER_CONFIG"]


# ----------------------------------------------------------------------------- against the real commands


@pytest.mark.skipif(DOCKER_CLI is None, reason="no docker CLI")
def test_image_table_is_what_docker_image_ls_prints(lab_factory):
    lab = lab_factory("ls")
    registry = lab.run_registry()
    lab.tag("hello-world", registry.ref("hello-world"))
    lab.echo = True
    out, _ = printed(lab.images)
    twin_line, *table = out.splitlines()
    argv = twin_line[2:].replace("'", "").split()
    real = subprocess.run([DOCKER_CLI, *argv[1:]], capture_output=True, text=True, check=True).stdout.splitlines()
    assert table[0] == real[0] and sorted(table[1:len(real)]) == sorted(real[1:])  # row order is the CLI's own
    assert table[len(real):] == [l for l in table if l.startswith("lab: ")]


@pytest.mark.parametrize("kind", ["docker", "local"])
def test_storage_twins_print_the_commands_output(kind, engine, tmp_path):
    """On a volume (docker exec, or the daemonless engine's folder) and on a bind mount, the lines
    after `find … | sort` are every file of the model, and sha256sum computes the digest."""
    if kind == "local" and registry_binary() is None:
        pytest.skip("no registry binary")
    eng = engine if kind == "docker" else LocalEngine()
    images.ensure(eng)
    with labs(eng, f"t-{kind}-") as make:
        lab = make("twins", echo=True)
        registry = lab.run_registry(port=5200 if kind == "local" else None, volume="data")
        lab.tag("hello-world", registry.ref("hello-world"))
        with contextlib.redirect_stdout(io.StringIO()):
            lab.push(registry.ref("hello-world"))
        out, tree = printed(lab.storage.tree, explain=False)
        lines = out.splitlines()
        assert lines[0] == f"$ docker container exec {registry.name} find /var/lib/registry -type f | sort"
        assert lines[1:-1] == sorted(f"/var/lib/registry/{path}" for path in tree.files)
        assert lines[-1].startswith("lab: 3 blobs")
        lab.kill_registry(), lab.remove_registry()
        registry = lab.run_registry(bind=tmp_path / kind)
        with contextlib.redirect_stdout(io.StringIO()):
            lab.push(registry.ref("hello-world"))
            layer = lab.storage.follow_tag("hello-world")[-1]
        digest = "sha256:" + layer.split("/")[-2]
        out, computed = printed(lab.storage.verify_blob, digest)
        assert computed == digest and f"{digest[7:]}  blobs/sha256/" in out
        data = registry.bind / layer
        data.write_bytes(data.read_bytes()[:-1] + b"!")
        with pytest.raises(BlobCorrupt), contextlib.redirect_stdout(io.StringIO()):
            lab.storage.verify_blob(digest)  # sha256sum hashes the damaged bytes: no digest is taken on trust


# ----------------------------------------------------------------------------- leftovers


def test_the_daemonless_store_keeps_an_image_that_lost_its_tag_until_removed_by_id(tmp_path):
    store = ImageStore(tmp_path)
    old = images.synthetic_image("x/app:v6", [images.random_layer("a", 1000, "1")])
    store.import_builds([old])
    store.import_builds([images.rebuilt(old, seed=1)])
    dangling = [i for i in store.images() if not i.tags]
    assert len(dangling) == 1 and store.find(dangling[0].id[7:19]).tags == ()  # `<none>`, as with Docker
    assert store.remove_dangling(dangling[0].id)
    assert [i.tags for i in store.images()] == [("x/app:v6",)]
    store.untag("x/app:v6")
    assert store.images() == [] and list(store.blobs.iterdir()) == []


@pytest.mark.parametrize("kind", ["docker", "local"])
def test_cleanup_removes_an_image_the_lab_loaded_that_lost_its_tag(kind, engine):
    if kind == "local" and registry_binary() is None:
        pytest.skip("no registry binary")
    eng = engine if kind == "docker" else LocalEngine()
    images.ensure(eng)
    with labs(eng, f"t-{kind}-") as make:
        lab = make("dangling")
        registry = lab.run_registry(port=5210 if kind == "local" else None)
        first = images.synthetic_image(registry.ref("app", "v6"), [images.random_layer("a.bin", 4096, "dangling")])
        lab.load_images([first])
        lab.push(registry.ref("app", "v6"))
        lab.load_images([images.rebuilt(first, seed=1)])  # the tag moves: the first image stays, dangling
        old_id = digest_of(first.config_bytes())
        assert eng.images.info(old_id) is not None and eng.images.info(old_id).tags == ()
        assert f"image {old_id[7:19]}" in map(str, lab.objects()) and not checks.nothing_left(lab.engine, lab.scope)
        lab.echo = True
        out, removed = printed(lab.cleanup)
        assert f"$ docker image rm {old_id[7:19]}" in out and f"image {old_id[7:19]}" in map(str, removed)
        assert eng.images.info(old_id) is None and checks.nothing_left(lab.engine, lab.scope)


def test_no_garbage_check_fails_before_collecting_and_passes_after(lab_factory):
    lab = lab_factory("garbage")
    registry = lab.run_registry(bind="data", env={DELETE_ENABLED: "true"})
    ref = registry.ref("app", "v1")
    lab.load_images([images.synthetic_image(ref, [images.random_layer("g.bin", 8192, "garbage")])])
    lab.push(ref)
    assert checks.no_garbage(lab.engine, lab.registry)
    lab.growth.delete_image(ref)
    left = checks.no_garbage(lab.engine, lab.registry)
    assert not left and "3 blobs" in str(left) and "garbage-collect" in str(left)
    lab.growth.read_only()
    lab.growth.garbage_collect()
    assert checks.no_garbage(lab.engine, lab.registry)
