"""Notebook 06's steps against live state: two registries' access logs, their storage, the daemon.

A hub and a pull-through cache under both engines: the bytes a cold pull costs the hub (from
the hub's own log) against the blob sizes its manifest lists, none on a warm pull; pushes
refused in one sentence from the client and from the daemon; the hub stopped; Docker's
``registry-mirrors`` set live, a Docker Hub name pulled through the cache, and daemon.json
restored byte for byte (also after a killed kernel); nothing left behind.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import labs

from reglab import accesslog, checks
from reglab.engines.docker import _registry_trouble
from reglab.engines.local import LocalEngine
from reglab.registry_run import registry_major
from reglab.errors import ImageMissing, NotCached, PushRefused
from reglab.naming import Scope
from reglab.registry_api import error_for

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = "http://reglab-t-m-hub:5000"

# lines as registry 2.8.2 wrote them in this project's runs
HUB_LOG = """\
time="2026-11-28T13:23:53.17Z" level=info msg="response completed" go.version=go1.19.8 http.request.method=GET
172.18.0.3 - - [28/Nov/2026:13:23:53 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "Go-http-client/1.1"
172.18.0.3 - - [28/Nov/2026:13:23:53 +0000] "HEAD /v2/app/manifests/v1 HTTP/1.1" 200 739 "" "Go-http-client/1.1"
172.18.0.3 - - [28/Nov/2026:13:23:53 +0000] "GET /v2/app/manifests/v1 HTTP/1.1" 200 739 "" "Go-http-client/1.1"
172.19.0.3 - - [28/Nov/2026:13:23:53 +0000] "HEAD /v2/app/blobs/sha256:0272fc3d051eee4462e9fe9c0fa0edda92b963d65f033ab87e7a93286dc354e0 HTTP/1.1" 200 0 "" "Go-http-client/1.1"
172.19.0.3 - - [28/Nov/2026:13:23:53 +0000] "GET /v2/app/blobs/sha256:0272fc3d051eee4462e9fe9c0fa0edda92b963d65f033ab87e7a93286dc354e0 HTTP/1.1" 200 20978121 "" "Go-http-client/1.1"
172.19.0.3 - - [28/Nov/2026:13:23:53 +0000] "GET /v2/app/blobs/sha256:0272fc3d051eee4462e9fe9c0fa0edda92b963d65f033ab87e7a93286dc354e0 HTTP/1.1" 200 20978121 "" "Go-http-client/1.1"
172.19.0.1 - - [28/Nov/2026:13:23:54 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "reglab-log-mark/0123456789ab"
172.19.0.1 - - [28/Nov/2026:13:23:54 +0000] "POST /v2/mine/blobs/uploads/ HTTP/1.1" 405 78 "" "docker/20.10.24"
time="2026-11-28T13:23:53.18Z" level=info msg="Adding new scheduler entry for app@sha256:2a2f63c528c1c85263d991c4cb6fa6722101971abedf9f81fd84b855a97c88ba with ttl=167h59m59.999997737s" go.version=go1.19.8
"""


# ----------------------------------------------------------------------------- the log and the sentences


def test_access_log_read_as_requests_marks_left_out():
    requests = accesslog.Requests(accesslog.parse(HUB_LOG))
    assert [r.kind for r in requests] == ["base", "manifest", "manifest", "blob", "blob", "blob", "upload"]
    assert requests.blob_bytes == 2 * 20978121 and len(requests.blob_downloads) == 2 and len(requests.blobs) == 1
    assert requests[1].named() == "app:v1" and requests[3].repository == "app"
    assert requests.summary() == ["HEAD manifest app:v1 → 200", "GET manifest app:v1 → 200",
                                  "GET blob × 2 (1 distinct): 40.0 MiB", "POST upload → 405"]
    entry, = accesslog.cache_entries(HUB_LOG)
    assert entry.repository == "app" and entry.digest.startswith("sha256:2a2f63c5") and entry.ttl_hours == 168


def test_a_cache_refusal_reads_the_same_from_the_client_and_from_the_daemon():
    body = b'{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}'
    refused = error_for("127.0.0.1:5001", "PUT", "/v2/app/manifests/mine", 405, body, upstream=UPSTREAM)
    assert isinstance(refused, PushRefused) and "405 UNSUPPORTED" in str(refused) and UPSTREAM in str(refused)
    daemon = _registry_trouble("unsupported", "127.0.0.1:5001/app:mine", upstream=UPSTREAM)
    assert str(daemon) == str(refused)
    # without knowing the upstream, the body alone tells a cache (JSON UNSUPPORTED) from read-only mode
    unknown = error_for("127.0.0.1:5001", "POST", "/v2/app/blobs/uploads/", 405, body)
    assert isinstance(unknown, PushRefused) and "pull-through cache" in str(unknown)
    read_only = error_for("127.0.0.1:5001", "POST", "/v2/app/blobs/uploads/", 405, b"Method not allowed\n")
    assert "read-only" in str(read_only) and "pull-through" not in str(read_only)
    missing = error_for("127.0.0.1:5001", "GET", "/v2/app/manifests/v3", 404,
                        b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', upstream=UPSTREAM)
    daemon = _registry_trouble("manifest unknown: manifest unknown", "127.0.0.1:5001/app:v3", upstream=UPSTREAM)
    assert isinstance(missing, NotCached) and str(daemon) == str(missing) and "app:v3" in str(missing)


# ----------------------------------------------------------------------------- both engines, live


@pytest.fixture(params=["docker", pytest.param("local", marks=pytest.mark.daemonless)])
def mirror_lab(request):
    """A lab on each engine (the daemonless one runs beside the Docker tests, make test)."""
    chosen = request.getfixturevalue("engine") if request.param == "docker" else LocalEngine()
    with labs(chosen, "t-") as make:
        yield make("m")
    assert chosen.objects.of(Scope("t-m")) == []


def _blob_sizes(hub, tag: str) -> tuple[int, int]:
    """(bytes, count) of the blobs (config and layers) the hub's manifest of ``app:<tag>`` lists."""
    body = hub.api.manifest("app", tag).body
    blobs = [body["config"], *body["layers"]]
    return sum(b["size"] for b in blobs), len(blobs)


def test_pulls_measured_on_both_logs_refusals_and_the_hub_gone(mirror_lab):
    lab = mirror_lab
    hub = lab.mirror.run_hub(port=None)
    lab.mirror.publish(versions=3, base_mib=1)
    proxy = lab.mirror.run_proxy()
    assert not checks.cached(lab.engine, proxy, "app", "v1")
    size, blobs = _blob_sizes(hub, "v1")

    cold = lab.mirror.pull_as("A", "app:v1")
    assert cold.served == size and cold.served_blobs == blobs
    # 2.8.2 fetches each missing blob twice (one copy streamed to the client, one for its storage);
    # registry 3 once (distribution PR #3569)
    times = 2 if registry_major(proxy.run.image) == 2 else 1
    assert cold.upstream == times * size and cold.upstream_blobs == blobs and cold.upstream_downloads == times * blobs
    assert checks.cached(lab.engine, proxy, "app", "v1")
    warm = lab.mirror.pull_as("B", "app:v1")
    assert warm.served == size and warm.upstream == 0
    assert [line for line in warm.hub.summary()] == ["HEAD manifest app:v1 → 200"]  # the tag still asked upstream

    v2_size, _ = _blob_sizes(hub, "v2")
    base = hub.api.manifest("app", "v1").body["layers"][0]["size"]
    shared = lab.mirror.pull_as("A", "app:v2")  # A has the base layer: config and top layer only
    assert shared.served == v2_size - base and shared.upstream == times * (v2_size - base)
    assert lab.mirror.ledger.served == 2 * size + v2_size - base

    by_tag = lab.mirror.look_up("app", "v1")
    assert by_tag.upstream.summary() == ["HEAD manifest app:v1 → 200"]
    assert lab.mirror.look_up("app", by_tag.digest).upstream.summary() == ["(no request)"]

    lab.tag(proxy.ref("app", "v2"), proxy.ref("app", "mine"))
    with pytest.raises(PushRefused, match="pull-through cache of http://reglab-t-m-hub:5000.*405 UNSUPPORTED"):
        lab.push(proxy.ref("app", "mine"))
    with pytest.raises(PushRefused, match="405 UNSUPPORTED"):
        proxy.api.start_upload("mine")
    lab.remove_image(proxy.ref("app", "mine"))
    assert "mine" not in hub.api.tags("app")

    lab.mirror.stop_hub()
    assert lab.engine.containers.state(hub.name) != "running"
    down = lab.mirror.pull_as("E", "app:v2")  # a fresh machine: every blob comes from the cache's disk
    assert down.served == v2_size and down.upstream is None
    with pytest.raises(NotCached) as uncached:
        lab.mirror.pull_as("E", "app:v3")
    assert "\n" not in str(uncached.value) and "app:v3" in str(uncached.value)


# ----------------------------------------------------------------------------- Docker's registry-mirrors


def _mirrors(engine) -> list[str]:
    return [m.rstrip("/") for m in (engine.client.info().get("RegistryConfig") or {}).get("Mirrors") or []]


@pytest.mark.parametrize("original", [None, b'{\n  "registry-mirrors": ["http://127.0.0.1:5999"]\n}\n'])
def test_registry_mirrors_set_live_and_restored_byte_for_byte(engine, original):
    daemon = engine.daemon.config()
    if daemon.why_not():
        pytest.skip(daemon.why_not())
    kept = daemon.path.read_bytes() if daemon.path.exists() else None
    try:
        if original is not None:  # a daemon.json with a mirror of its own (never contacted: nothing pulls)
            daemon.path.write_bytes(original)
            daemon._reload({"registry-mirrors": ["http://127.0.0.1:5999"]})
        before, shown = (daemon.path.read_bytes() if daemon.path.exists() else None), _mirrors(engine)
        with labs(engine, "t-") as make:
            lab = make("mm")
            lab.mirror.run_hub(port=None)
            proxy = lab.mirror.run_proxy()
            lab.mirror.publish_hub_name("reglab-t-hello")
            assert lab.mirror.use_as_docker_mirror().applied
            assert _mirrors(engine) == [*shown, proxy.url]  # added after the daemon's own mirrors
            assert not checks.daemon_as_before(lab.engine, lab.sandbox.daemon_backup)
            arrived = lab.mirror.pull_hub_name("reglab-t-hello")
            if shown:  # Docker would ask the daemon's own mirror first: the lab does not pull
                assert arrived is None and engine.images.info("reglab-t-hello:latest") is None
            else:
                assert {r.repository for r in arrived if r.kind == "blob"} == {"library/reglab-t-hello"}
                assert arrived.blob_bytes > 0 and engine.images.info("reglab-t-hello:latest") is not None
            assert lab.mirror.restore_daemon()
            assert (daemon.path.read_bytes() if daemon.path.exists() else None) == before
            assert _mirrors(engine) == shown
            assert checks.daemon_as_before(lab.engine, lab.sandbox.daemon_backup)
        assert engine.images.info("reglab-t-hello:latest") is None
    finally:
        _put_back(daemon, kept)
    assert (daemon.path.read_bytes() if daemon.path.exists() else None) == kept


def _put_back(daemon, kept: bytes | None) -> None:
    """The file as it was (or no file), and the running daemon's mirrors with it: an explicit list
    first (a reload leaves a key the file no longer has as it was)."""
    mirrors = json.loads(kept or b"{}").get("registry-mirrors") or []
    daemon.path.write_text(json.dumps({**json.loads(kept or b"{}"), "registry-mirrors": mirrors}))
    daemon._reload({"registry-mirrors": mirrors})
    if kept is None:
        daemon.path.unlink()
    else:
        daemon.path.write_bytes(kept)
    daemon._reload({"registry-mirrors": mirrors})


@pytest.mark.engine
def test_daemonless_mirrors_are_its_own_and_docker_hub_is_never_asked(tmp_path):
    engine = LocalEngine()
    with pytest.raises(ImageMissing, match="never contacts Docker Hub"):
        engine.images.pull("reglab-t-hello")
    with labs(engine, "t-") as make:
        lab = make("ml")
        lab.mirror.run_hub(port=None)
        proxy = lab.mirror.run_proxy()
        lab.mirror.publish_hub_name("reglab-t-hello")
        assert lab.mirror.use_as_docker_mirror().applied and engine.daemon.registry_mirrors() == [proxy.url]
        arrived = lab.mirror.pull_hub_name("reglab-t-hello")
        assert {r.repository for r in arrived if r.kind == "manifest"} == {"library/reglab-t-hello"}
        assert lab.mirror.restore_daemon() and engine.daemon.registry_mirrors() == []
        assert checks.daemon_as_before(lab.engine, lab.sandbox.daemon_backup)
    assert engine.images.info("reglab-t-hello:latest") is None


@pytest.mark.parametrize("engine_kind", ["docker", "local"])
def test_killed_kernel_with_the_mirror_set_is_undone_by_the_next_lab(engine_kind, engine, tmp_path):
    """Kill a kernel with the hub, the cache and the daemon's mirror set: the next ``Lab('06')``
    puts daemon.json back byte for byte (and the daemon's view of it) and leaves nothing."""
    from jupyter_client.manager import start_new_kernel

    from reglab import Lab

    env = os.environ.copy()
    env["REGLAB_ENGINE"] = engine_kind
    if engine_kind == "local":
        env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    daemon = engine.daemon.config()
    if engine_kind == "docker" and daemon.why_not():
        pytest.skip(daemon.why_not())
    def daemon_json():
        return daemon.path.read_bytes() if daemon.path.exists() else None

    original, shown = daemon_json(), _mirrors(engine)
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(ROOT / "notebooks"))
    try:
        code = ("from reglab import Lab\nlab = Lab('06', echo=False)\nlab.mirror.run_hub()\nlab.mirror.publish(1, 1)\n"
                "lab.mirror.run_proxy()\nlab.mirror.pull_as('A', 'app:v1')\nlab.mirror.use_as_docker_mirror()")
        reply = client.execute_interactive(code, timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)  # SIGKILL: no atexit, no cleanup
    chosen = engine if engine_kind == "docker" else LocalEngine()
    assert chosen.objects.of(Scope("06")) != []
    if engine_kind == "docker":
        assert daemon_json() != original and _mirrors(engine) != shown
    lab = Lab("06", engine=chosen, echo=False)
    assert chosen.objects.of(Scope("06")) == [] and not lab.sandbox.daemon_backup.exists()
    assert daemon_json() == original and _mirrors(engine) == shown
    if engine_kind == "local":
        running = subprocess.run(["pgrep", "-af", "registry serve"], capture_output=True, text=True,
                                 check=False).stdout
        assert [line for line in running.splitlines() if os.environ["REGLAB_STATE_DIR"] in line and "/06/" in line] == []
    lab.cleanup()
