"""reglab.checks: each check passes on the real state it describes and fails, with a fix, otherwise."""

import shutil
from dataclasses import replace

import pytest

from reglab import checks, images
from reglab.steps.growth import DELETE_ENABLED


def test_registry_and_image_checks_follow_live_state(lab_factory):
    lab = lab_factory("checks")
    registry = lab.run_registry()
    assert checks.registry_answers(registry)
    missing = checks.image_in_registry(registry, "hello-world")
    assert not missing and "it has no hello-world:latest" in str(missing) and str(missing).startswith("✘")
    lab.tag("hello-world", registry.ref("hello-world"))
    lab.push(registry.ref("hello-world"))
    present = checks.image_in_registry(registry, "hello-world")
    assert present and str(present).startswith("✔") and "1 layer all present" in str(present)
    assert not checks.keeps_data(lab.engine, registry)
    claimed = replace(registry, volume="registry-data")  # a Python object that says so is not enough:
    assert not checks.keeps_data(lab.engine, claimed)  # the live container has no volume
    lab.kill_registry()
    assert not checks.registry_answers(registry)
    lab.remove_registry()
    registry = lab.run_registry(volume="registry-data")
    assert checks.keeps_data(lab.engine, registry)
    assert checks.keeps_data(lab.engine, replace(registry, volume=None))  # the live mount counts
    lab.cleanup()
    assert checks.nothing_left(lab.engine, lab.scope)


def test_image_check_catches_the_stale_cache_push(lab_factory):
    lab = lab_factory("checks-gc")
    registry = lab.run_registry(bind="data", env={DELETE_ENABLED: "true"})
    ref = registry.ref("scratch", "v1")
    lab.load_images([images.synthetic_image(ref, [images.random_layer("s.bin", 64 * 1024, "checks")])])
    lab.push(ref)
    lab.growth.delete_image(ref)
    lab.growth.garbage_collect()
    lab.push(ref)  # "Layer already exists": the cache remembers a blob that is gone
    stale = checks.image_in_registry(registry, "scratch", "v1")
    assert not stale and "restart the registry" in str(stale)


def test_storage_check_reports_a_damaged_blob(lab_factory):
    lab = lab_factory("checks-disk")
    registry = lab.run_registry(bind="data")
    lab.tag("hello-world", registry.ref("hello-world"))
    lab.push(registry.ref("hello-world"))
    assert checks.storage_intact(lab.engine, registry)
    data = next(registry.bind.glob("docker/registry/v2/blobs/sha256/*/*/data"))
    data.write_bytes(data.read_bytes() + b"!")
    damaged = checks.storage_intact(lab.engine, registry)
    assert not damaged and data.parent.name[:12] in str(damaged)


def test_nothing_left_names_what_remains(lab_factory):
    lab = lab_factory("checks-left")
    lab.run_registry()
    left = checks.nothing_left(lab.engine, lab.scope)
    assert not left and "reglab-t-checks-left-registry" in str(left)


@pytest.mark.engine
@pytest.mark.skipif(shutil.which("docker-registry") is None, reason="no registry binary")
def test_checks_work_on_the_daemonless_engine(tmp_path):
    from conftest import labs

    from reglab.engines.local import LocalEngine

    engine = LocalEngine()
    images.ensure(engine)
    with labs(engine, "t-local-") as make:
        lab = make("checks")
        registry = lab.run_registry(port=5300)
        lab.tag("hello-world", registry.ref("hello-world"))
        lab.push(registry.ref("hello-world"))
        assert checks.image_in_registry(registry, "hello-world")
        assert checks.storage_intact(lab.engine, registry)
