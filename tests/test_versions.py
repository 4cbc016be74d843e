"""Appendix A's steps against live state, under both engines: registry:2 (2.8) beside registry:3.

Each difference the notebook shows is asserted here on what the registries hold or answer, read
another way than the step read it (the registry client instead of curl, the storage tree instead
of ``find``, the cache's scheduler file instead of its log, the hub's manifest for the sizes):
the config paths, the 405 and the 202, the schema 1 digest next to the pushed one, a tag deleted
or not, the ``_layers`` link files before and after garbage collection, what the hub sent each
cache (2× and 1× the image), how long each cache keeps a blob, and whose ``/metrics`` has the
cache's counters. Nothing is left behind (the fixture checks).
"""

import json
import time
from datetime import datetime, timezone

import pytest
from conftest import labs

from reglab import errors
from reglab.engines.local import LocalEngine
from reglab.errors import ReglabError, UsageError
from reglab.media import ACCEPT_ALL
from reglab.naming import Scope
from reglab.registry_run import CONFIG_PATHS

SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"
SCHEMA2 = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker),
                        pytest.param("local", marks=pytest.mark.daemonless)])
def versions_lab(request):
    """A lab on each engine; whatever it made is gone afterwards."""
    chosen = request.getfixturevalue("engine") if request.param == "docker" else LocalEngine()
    with labs(chosen, "t-") as make:
        yield make("v")
    assert chosen.objects.of(Scope("t-v")) == []


def test_config_deletes_schema1_and_delete_by_tag(versions_lab):
    lab = versions_lab
    r = lab.versions.run_both(port=None)
    assert lab.engine.containers.inspect(r[2].name).config == CONFIG_PATHS[2]
    assert lab.versions.config_path() == {2: "/etc/docker/registry/config.yml", 3: "/etc/distribution/config.yml"}

    pushed = lab.versions.push_both()
    digest = pushed[3]
    assert pushed[2] == digest

    # a tag asked for without Accept: 2.8 rewrites to schema 1 (another digest), v3 serves it as stored
    rewritten = lab.versions.schema1_rewrite()
    old = r[2].api.manifest_head("hello-world", "latest", accept="*/*")
    assert old.media_type == SCHEMA1 and old.digest == rewritten[2] != digest
    new = r[3].api.manifest_head("hello-world", "latest", accept="*/*")
    assert new.media_type == SCHEMA2 and new.digest == rewritten[3] == digest
    assert r[2].api.manifest_head("hello-world", "latest", accept=ACCEPT_ALL).digest == digest

    # deletes by digest, each image's own config: off in registry:2's, on in registry:3's
    assert lab.versions.deletes_by_default() == {2: 405, 3: 202}
    assert r[2].api.manifest_head("hello-world", digest).digest == digest  # still there
    with pytest.raises(ReglabError):
        r[3].api.manifest_head("hello-world", digest)  # gone
    assert lab.engine.containers.storage(r[3].name).tag_target("hello-world", "latest") is None

    # deletes on in registry:2 too; a tag deleted: refused by 2.8, the tag alone gone in v3
    r2 = lab.versions.turn_deletes_on()
    assert lab.engine.containers.inspect(r2.name).setting("REGISTRY_STORAGE_DELETE_ENABLED") == "true"
    lab.versions.push_both(tags=("latest", "old"))
    assert lab.versions.delete_by_tag() == {2: 400, 3: 202}
    assert sorted(r2.api.tags("hello-world")) == ["latest", "old"]
    assert r[3].api.tags("hello-world") == ["latest"]
    assert r[3].api.manifest_head("hello-world", digest).digest == digest  # the manifest stays


def test_gc_leaves_layer_links_in_2_8_and_removes_them_in_3(versions_lab):
    lab = versions_lab
    lab.versions.run_both(port=None)
    lab.versions.turn_deletes_on()
    lab.versions.push_both()
    r = lab.versions.registry

    def tree(version):
        return lab.engine.containers.storage(r[version].name)

    for version in (2, 3):
        assert len(tree(version).blobs()) == 3 and len(tree(version).repository("hello-world").layers) == 2
    collected = lab.versions.gc_and_layers()
    for version in (2, 3):
        assert tree(version).blobs() == {}  # manifest, config and layer: collected in both
        before, _ = collected[version]
        assert len(before) == 2
    assert len(tree(2).repository("hello-world").layers) == 2 and len(tree(2).dangling_links()) == 2
    assert collected[2][1] == collected[2][0]
    assert tree(3).repository("hello-world").layers == {} and tree(3).dangling_links() == []
    assert collected[3][1] == []


def _scheduled_hours(lab, proxy, wait: float = 15.0) -> set[int]:
    """Hours from now to each expiry in the cache's ``scheduler-state.json`` (written every 5 s)."""
    deadline = time.monotonic() + wait
    while True:
        tree = lab.engine.containers.storage(proxy.name)
        if "scheduler-state.json" in tree.files:
            entries = json.loads(tree.read("scheduler-state.json"))
            if len(entries) >= 3:  # the manifest, the config, the layer
                now = datetime.now(timezone.utc)
                return {round((datetime.fromisoformat(e["ExpiryData"]) - now).total_seconds() / 3600)
                        for e in entries.values()}
        if time.monotonic() > deadline:
            raise AssertionError(f"{proxy.name} wrote no scheduler-state.json with 3 entries within {wait:g} s")
        time.sleep(0.5)


def test_a_cache_of_each_version_fetches_keeps_and_counts(versions_lab):
    lab = versions_lab
    caches = lab.versions.run_caches(port=None)
    hub = lab.versions.hub
    body = hub.api.manifest("library/demo", "latest").body
    blobs = [body["config"], *body["layers"]]
    size = sum(b["size"] for b in blobs)

    fetches = lab.versions.proxy_double_fetch()
    two, three = fetches["registry:2"], fetches["registry:3"]
    assert two.served == three.served == size and two.served_blobs == three.served_blobs == len(blobs)
    assert two.upstream == 2 * size and two.upstream_downloads == 2 * len(blobs)  # fetched twice (2.8)
    assert three.upstream == size and three.upstream_downloads == len(blobs)  # once (PR #3569)
    assert "each twice" in str(fetches).splitlines()[1] and "each once" in str(fetches).splitlines()[2]
    assert lab.engine.images.info(caches[3].ref("library/demo", "latest")) is None  # pulled, then removed

    # proxy.ttl 2h given to both: 2.8 ignores it (168 h), v3 keeps each blob 2 h
    assert lab.versions.proxy_ttl() == {2: 168, 3: 2}
    assert _scheduled_hours(lab, caches[2]) == {168}
    assert _scheduled_hours(lab, caches[3]) == {2}

    # the debug server each was given, on the lab's loopback port; the cache's counters only in v3
    families = lab.versions.metrics()
    for version, proxy in caches.items():
        assert f"debug server listening 127.0.0.1:{lab.versions.debug_port[version]}" in lab.engine.containers.logs(
            proxy.name)
    assert "registry_http_" in families[2] and "registry_proxy_" not in families[2]
    assert "registry_proxy_" in families[3]


@pytest.mark.daemonless
def test_a_step_before_its_registries_says_what_to_start(tmp_path):
    with labs(LocalEngine(), "t-") as make:
        lab = make("v0")
        with pytest.raises(UsageError) as no_pair:
            lab.versions.deletes_by_default()
        assert str(no_pair.value) == str(errors.versions_not_started("registry:2 and registry:3",
                                                                       "lab.versions.run_both()"))
        assert "lab.versions.run_both()" in str(no_pair.value)
        with pytest.raises(UsageError, match=r"lab\.versions\.run_caches\(\)"):
            lab.versions.proxy_ttl()
