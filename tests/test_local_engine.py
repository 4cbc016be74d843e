"""The daemonless engine: registry processes, the OCI image store, push and pull over HTTP.

Every check reads real state with tools that are not reglab: curl, sha256sum, find, pgrep,
/proc/net/tcp, the registry's files on disk. No Docker daemon is needed (these tests also
run as a non-root user with DOCKER_HOST pointing at a dead socket: see test_binder.py).
"""

import io
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
from conftest import labs

from reglab.config import Settings
from reglab import Lab, images, ports
from reglab.engines import choose_engine, get_engine
from reglab.registry_run import RegistryRun
from reglab.engines.local import NO_RUNTIME, LocalEngine, registry_binary
from reglab.errors import (
    EngineError,
    EngineUnavailable,
    ImageInUse,
    ManifestUnknown,
    PortInUse,
    RegistryUnavailable,
)
from reglab.naming import Scope
from reglab.oci import ImageStore
from now import State, settings, state_root

pytestmark = [pytest.mark.skipif(registry_binary(settings()) is None, reason="the registry binary (docker-registry) is missing"),
              pytest.mark.daemonless]

ROOT = Path(__file__).resolve().parent.parent


def our_registry_processes() -> list[str]:
    """Registry processes started under this test session's state folder (pgrep, not reglab)."""
    out = subprocess.run(["pgrep", "-a", "-f", "registry serve"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if f"{state_root()}/t-local-" in line]


def sha256sum(path: Path) -> str:
    out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout
    return "sha256:" + out.split()[0]


def curl_json(url: str) -> dict:
    out = subprocess.run(["curl", "-sf", "--noproxy", "*", url], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def listening(port: int) -> list[str]:
    """Local addresses listening on ``port``, from /proc/net/tcp (IPv4 as dotted quads)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            addr, hexport = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hexport, 16) == port:  # 0A: LISTEN
                if len(addr) == 8:
                    found.append(socket.inet_ntoa(bytes.fromhex(addr)[::-1]))
                else:
                    found.append(addr)
    return found


@pytest.fixture(scope="module")
def local_engine():
    engine = LocalEngine()
    images.ensure(engine)
    return engine


@pytest.fixture
def local_lab(local_engine):
    """Quiet labs named ``t-local-<name>``; cleaned up after, with no registry process left."""
    with labs(local_engine, "t-local-") as make:
        yield make
    assert our_registry_processes() == []
    assert [o for o in local_engine.objects.of(Scope(None)) if o.lab.startswith("t-local-")] == []


def port() -> int:
    return ports.choose(5200)


# ----------------------------------------------------------------------------- the seed flow


def test_seed_flow_push_remove_pull(local_lab, local_engine):
    lab = local_lab("seed")
    registry = lab.run_registry(port=port())
    assert curl_json(f"{registry.url}/v2/_catalog") == {"repositories": []}
    ref = registry.ref("hello-world")
    lab.tag("hello-world", ref)
    pushed = lab.push(ref)
    assert (pushed.layers, pushed.moved, pushed.already) == (1, 1, 0)
    assert curl_json(f"{registry.url}/v2/_catalog") == {"repositories": ["hello-world"]}
    assert curl_json(f"{registry.url}/v2/hello-world/tags/list") == {"name": "hello-world", "tags": ["latest"]}

    # the registry's files: every blob's bytes hash to its name
    data = State(lab.scope).dir / "containers" / registry.name / "data"
    blob_files = sorted(data.glob("docker/registry/v2/blobs/sha256/*/*/data"))
    assert len(blob_files) == 3
    for blob in blob_files:
        assert sha256sum(blob) == f"sha256:{blob.parent.name}"
    link = data / "docker/registry/v2/repositories/hello-world/_manifests/tags/latest/current/link"
    assert link.read_text() == pushed.digest

    again = lab.push(ref)  # the registry has every layer: nothing is sent
    assert (again.moved, again.already, again.digest) == (0, 1, pushed.digest)

    image_id = local_engine.images.info("hello-world").id
    lab.remove_image(ref)
    assert local_engine.images.info(ref) is None and local_engine.images.info(image_id) is not None
    pulled = lab.pull(ref)  # hello-world still holds the layer
    assert (pulled.digest, pulled.layers) == (pushed.digest, 0)


def test_pull_into_an_empty_store_is_byte_identical(local_lab, local_engine, tmp_path):
    lab = local_lab("fresh")
    registry = lab.run_registry(port=port())
    ref = registry.ref("hello-world")
    lab.tag("hello-world", ref)
    pushed = lab.push(ref)
    empty = LocalEngine(store=ImageStore(tmp_path / "store"))
    pulled = empty.images.pull(ref)
    assert (pulled.digest, pulled.layers, pulled.moved) == (pushed.digest, 1, 1)
    ours = {p.name: sha256sum(p) for p in (tmp_path / "store/blobs/sha256").iterdir()}
    assert all(digest == f"sha256:{name}" for name, digest in ours.items())
    originals = {p.name for p in local_engine.store.blobs.iterdir()}
    assert set(ours) <= originals and len(ours) == 3
    index = json.loads((tmp_path / "store/index.json").read_text())
    assert [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]] == [
        f"{registry.address}/hello-world:latest"]
    assert json.loads((tmp_path / "store/oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}


# ----------------------------------------------------------------------------- the process


def test_registry_is_a_child_process_on_loopback_with_a_pid_file(local_lab, local_engine):
    lab = local_lab("proc")
    registry = lab.run_registry(port=port())
    folder = State(lab.scope).dir / "containers" / registry.name
    pid = int((folder / "pid").read_text())
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[1:3] == [b"serve", str(folder / "config.yml").encode()]
    assert listening(registry.port) == ["127.0.0.1"]
    assert local_engine.containers.state(registry.name) == "running"
    assert [o.name for o in local_engine.objects.of(lab.scope)] == [registry.name]
    lab.kill_registry()
    assert not Path(f"/proc/{pid}").exists() or b"Z" in Path(f"/proc/{pid}/stat").read_bytes().split(b")")[-1][:3]
    assert local_engine.containers.state(registry.name) == "exited"
    assert not (folder / "pid").exists() and (folder / "data").is_dir()  # stopped, not removed
    lab.remove_registry()
    assert not folder.exists() and local_engine.containers.state(registry.name) is None


def test_without_a_volume_the_images_die_with_the_registry(local_lab):
    lab = local_lab("novol")
    registry = lab.run_registry(port=port())
    lab.tag("hello-world", registry.ref("hello-world"))
    lab.push(registry.ref("hello-world"))
    lab.kill_registry()
    lab.remove_registry()
    registry = lab.run_registry()
    assert curl_json(f"{registry.url}/v2/_catalog") == {"repositories": []}
    with pytest.raises(ManifestUnknown) as info:
        lab.pull(registry.ref("hello-world"))
    assert "push it there first" in str(info.value)


def test_a_volume_keeps_the_images_across_a_recreated_registry(local_lab, local_engine):
    lab = local_lab("vol")
    registry = lab.run_registry(port=port(), volume="registry-data")
    lab.tag("hello-world", registry.ref("hello-world"))
    pushed = lab.push(registry.ref("hello-world"))
    volume = State(lab.scope).dir / "volumes" / "reglab-t-local-vol-registry-data"
    assert local_engine.objects.volume_exists(volume.name)
    lab.kill_registry()
    lab.remove_registry()
    assert (volume / "docker/registry/v2/repositories/hello-world").is_dir()
    registry = lab.run_registry(volume="registry-data")
    assert curl_json(f"{registry.url}/v2/_catalog") == {"repositories": ["hello-world"]}
    assert lab.storage.show_link("hello-world") == pushed.digest
    assert [(o.kind, o.name) for o in local_engine.objects.of(lab.scope)] == [
        ("container", registry.name), ("volume", volume.name)]
    removed = lab.cleanup()
    assert f"volume {volume.name}" in map(str, removed) and not volume.exists()


def test_a_bind_mount_is_an_ordinary_folder(local_lab, tmp_path):
    lab = local_lab("bind")
    folder = tmp_path / "registry-data"
    registry = lab.run_registry(port=port(), bind=folder)
    lab.tag("hello-world", registry.ref("hello-world"))
    pushed = lab.push(registry.ref("hello-world"))
    link = folder / "docker/registry/v2/repositories/hello-world/_manifests/tags/latest/current/link"
    assert link.read_text() == pushed.digest and link.stat().st_uid == os.getuid()
    found = subprocess.run(["find", str(folder), "-name", "data", "-type", "f"], capture_output=True, text=True)
    assert len(found.stdout.split()) == 3


def test_a_killed_kernel_leaves_a_registry_the_next_lab_stops(local_engine, tmp_path):
    chosen = port()
    script = textwrap.dedent(f"""
        import os, signal
        from reglab import Lab
        from reglab.engines.local import LocalEngine
        lab = Lab("t-local-stale", engine=LocalEngine(), echo=False)
        lab.run_registry(port={chosen}, volume="data")
        print("started", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no cleanup: like a killed kernel
    """)
    env = dict(os.environ, REGLAB_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == -signal.SIGKILL and "started" in out.stdout
    left = our_registry_processes()
    assert len(left) == 1 and "t-local-stale" in left[0]
    assert listening(chosen) == ["127.0.0.1"]
    lab = Lab("t-local-stale", engine=local_engine, echo=False)  # finds it by its pid file, stops it
    try:
        assert our_registry_processes() == []
        assert listening(chosen) == []
        assert local_engine.objects.of(Scope("t-local-stale")) == []
    finally:
        lab.cleanup()


def test_a_registry_that_cannot_start_says_why(local_lab):
    lab = local_lab("broken")
    with pytest.raises(RegistryUnavailable) as info:
        lab.run_registry(port=port(), env={"REGISTRY_STORAGE": "nosuchdriver"})
    text = str(info.value)
    assert "did not start" in text and "nosuchdriver" in text and "\n" not in text


def test_a_taken_port_is_refused(local_engine):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    taken = holder.getsockname()[1]
    try:
        run = RegistryRun("reglab-t-local-taken-registry", local_engine.settings.registry_image, taken)
        with pytest.raises(PortInUse):
            local_engine.containers.start_registry(run, Scope("t-local-taken"))
    finally:
        holder.close()
        local_engine.objects.remove_all(Scope("t-local-taken"))


# ----------------------------------------------------------------------------- garbage collection and storage


def test_garbage_collect_runs_the_binary_on_the_registrys_config(local_lab, local_engine):
    lab = local_lab("gc")
    registry = lab.run_registry(port=port())
    lab.tag("hello-world", registry.ref("hello-world"))
    pushed = lab.push(registry.ref("hello-world"))
    gc = ["registry", "garbage-collect", "--dry-run", registry.run.config_path]
    code, out = (done := local_engine.containers.exec(registry.name, gc)).exit_code, done.output
    assert code == 0 and pushed.digest in out and "3 blobs marked, 0 blobs and 0 manifests eligible" in out
    data = State(lab.scope).dir / "containers" / registry.name / "data"
    assert str(data) not in out  # paths read as inside the container, like the twin shows
    lab.kill_registry()  # garbage-collect is an offline tool: a stopped registry's storage works too
    assert local_engine.containers.exec(registry.name, gc).exit_code == 0


def test_tree_reads_the_data_folder_where_it_lies(local_lab, local_engine):
    lab = local_lab("tree")
    registry = lab.run_registry(port=port())
    lab.tag("hello-world", registry.ref("hello-world"))
    lab.push(registry.ref("hello-world"))
    tree = lab.storage.tree()
    data = State(lab.scope).dir / "containers" / registry.name / "data"
    on_disk = subprocess.run(["find", str(data), "-type", "f"], capture_output=True, text=True).stdout.split()
    assert tree.file_count == len(on_disk)
    sizes = subprocess.run(["find", str(data / "docker/registry/v2/blobs"), "-name", "data", "-printf", "%s\\n"],
                           capture_output=True, text=True).stdout.split()
    assert len(sizes) == 3 and tree.blob_bytes == sum(map(int, sizes))
    assert len(tree.blobs()) == 3 and tree.repositories() == ["hello-world"]
    lab.kill_registry()  # a stopped registry's files can still be read, as with docker cp
    assert lab.storage.tree().file_count == len(on_disk)


# ----------------------------------------------------------------------------- containers that cannot run


def test_running_a_stand_in_shows_what_docker_prints(local_lab, local_engine):
    lab = local_lab("run")
    result = lab.run("hello-world")
    first, _, rest = result.output.partition("\n")
    assert first.startswith(NO_RUNTIME) and "cannot" not in rest
    assert rest == images.hello_greeting()  # the stand-in's own words; nothing from the image ran here
    assert result.exit_code == 0
    assert local_engine.containers.state(result.name) == "exited"
    assert [o.name for o in local_engine.objects.of(lab.scope)] == [result.name]


def test_an_image_used_by_a_stopped_container_cannot_lose_its_last_name(local_lab, local_engine):
    lab = local_lab("inuse")
    build = images.ImageBuild(["t-local-inuse/only:1"], [images.Layer().file("x", b"x\n", 0o755)], {"Cmd": ["/x"]})
    local_engine.store.import_builds([build])
    lab.state.add_tag("t-local-inuse/only:1")
    result = lab.run("t-local-inuse/only:1", name="user")
    assert result.output.startswith(NO_RUNTIME) and "use the Docker engine to see it" in result.output
    with pytest.raises(ImageInUse) as info:
        lab.remove_image("t-local-inuse/only:1")
    assert "reglab-t-local-inuse-user" in str(info.value)
    lab.remove_container("user")
    lab.remove_image("t-local-inuse/only:1")
    assert local_engine.images.info("t-local-inuse/only:1") is None


# ----------------------------------------------------------------------------- transfers


def _synthetic(tag: str, seed: str, sizes: list[int]) -> images.ImageBuild:
    layers = [images.random_layer(f"data/{i}.bin", size, seed) for i, size in enumerate(sizes)]
    return images.ImageBuild([tag], layers, {"Cmd": ["/bin/true"]})


def test_chunked_and_monolithic_uploads_store_the_same_blobs(local_lab, local_engine, tmp_path):
    lab = local_lab("chunks")
    registry = lab.run_registry(port=port(), bind=tmp_path / "data")
    tags = [registry.ref("mono", "1"), registry.ref("chunked", "1")]
    for tag in tags:
        local_engine.store.import_builds([_synthetic(tag, "chunks", [300_000, 700_000, 5])], docker_compatible=False)
        lab.state.add_tag(tag)
    events = []
    mono = local_engine.images.push(tags[0], progress=lambda *e: events.append(e))
    chunked_engine = LocalEngine(store=local_engine.store, chunk_size=64 * 1024)
    chunked = chunked_engine.images.push(tags[1])
    assert mono.digest == chunked.digest and (mono.layers, mono.moved) == (3, 3)
    statuses = {status for _, _, _, status in events}
    assert {"Preparing", "Pushing", "Pushed"} <= statuses
    last = {}
    for item, current, total, status in events:
        last[item] = (current, total, status)
    assert all(current == total and status == "Pushed" for current, total, status in last.values())
    blobs = sorted((tmp_path / "data/docker/registry/v2/blobs/sha256").glob("*/*/data"))
    assert len(blobs) == 5  # 3 layers, 1 config, 1 manifest: stored once for both repositories
    for blob in blobs:
        assert sha256sum(blob) == f"sha256:{blob.parent.name}"
    again = local_engine.images.push(tags[0])
    assert (again.moved, again.already) == (0, 3)


def test_pull_refuses_a_blob_whose_bytes_do_not_match_its_digest(local_lab, local_engine, tmp_path):
    lab = local_lab("damaged")
    registry = lab.run_registry(port=port(), bind=tmp_path / "data")
    tag = registry.ref("damaged", "1")
    local_engine.store.import_builds([_synthetic(tag, "damaged", [50_000])], docker_compatible=False)
    lab.state.add_tag(tag)
    pushed = local_engine.images.push(tag)
    layer = local_engine.store.find(tag).layers[0]["digest"]
    blob = tmp_path / "data/docker/registry/v2/blobs/sha256" / layer[7:9] / layer[7:] / "data"
    data = bytearray(blob.read_bytes())
    data[-100] ^= 0xFF
    blob.write_bytes(bytes(data))
    fresh = ImageStore(tmp_path / "store")
    with pytest.raises(EngineError) as info:
        LocalEngine(store=fresh).images.pull(tag)
    assert f"the blob {layer} arrived damaged" in str(info.value)  # the layer just corrupted, by digest
    assert pushed.digest.startswith("sha256:")
    assert not fresh.has_blob(layer) and not list((tmp_path / "store/blobs/sha256").glob(".tmp-*"))


# ----------------------------------------------------------------------------- the image store


def test_store_tags_lists_and_collects_blobs(tmp_path):
    store = ImageStore(tmp_path / "store")
    build = _synthetic("t-local/a:1", "store", [1000, 2000])
    store.import_builds([build])
    blobs = tmp_path / "store/blobs/sha256"

    def files() -> int:
        out = subprocess.run(["find", str(blobs), "-type", "f"], capture_output=True, text=True).stdout
        return len(out.split())

    assert files() == 4  # 2 layers, config, manifest
    store.tag("t-local/a:1", "t-local/b:2")
    assert [img.tags for img in store.images()] == [("t-local/a:1", "t-local/b:2")]
    assert store.untag("t-local/a:1") is False and files() == 4
    assert store.untag("t-local/b:2") is True and files() == 0
    assert json.loads((tmp_path / "store/index.json").read_text())["manifests"] == []


def test_store_sizes_match_the_unpacked_files(tmp_path):
    store = ImageStore(tmp_path / "store")
    store.import_builds([_synthetic("t-local/size:1", "size", [10_000, 20_000])])
    image = store.find("t-local/size:1")
    assert store.size(image) == 30_000
    assert store.find(image.id) == store.find(image.id[7:19]) and store.find("t-local/nothing") is None


def test_imported_stand_in_keeps_dockers_image_id(local_engine):
    archive = images.hello_standin_archive("hello-world")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        config_name = json.loads(tar.extractfile("manifest.json").read())[0]["Config"]
    info = local_engine.images.info("hello-world")
    assert info.id == "sha256:" + config_name[:-5] and info.standin
    manifest = local_engine.store.find("hello-world").manifest
    assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    raw = local_engine.store.read_blob(local_engine.store.find("hello-world").manifest_digest)
    assert raw.startswith(b'{\n   "schemaVersion": 2,') and not raw.endswith(b"\n")


# ----------------------------------------------------------------------------- engine choice


def test_engine_choice_follows_reglab_engine(monkeypatch):
    monkeypatch.setenv("REGLAB_ENGINE", "local")
    assert isinstance(get_engine(), LocalEngine)
    assert choose_engine().reason == "REGLAB_ENGINE=local"
    monkeypatch.setenv("REGLAB_ENGINE", "podman")
    with pytest.raises(EngineUnavailable) as info:
        get_engine()
    assert "'docker' or 'local'" in str(info.value)


def test_without_a_daemon_the_default_is_local(monkeypatch, tmp_path):
    monkeypatch.delenv("REGLAB_ENGINE", raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    choice = choose_engine()
    assert choice.kind == "local" and "dead.sock" in choice.reason and str(registry_binary(settings())) in choice.reason
    monkeypatch.setenv("REGLAB_REGISTRY_BIN", str(tmp_path / "missing"))
    with pytest.raises(EngineUnavailable) as info:
        choose_engine()
    text = str(info.value)
    assert "dead.sock" in text and "REGLAB_REGISTRY_BIN" in text and "\n" not in text


def test_doctor_says_which_engine_and_why(tmp_path):
    env = dict(os.environ, DOCKER_HOST=f"unix://{tmp_path}/dead.sock", REGLAB_OFFLINE="1")
    env.pop("REGLAB_ENGINE", None)
    out = subprocess.run([sys.executable, "-m", "reglab", "doctor"], capture_output=True, text=True, env=env)
    assert "[ok  ] engine: daemonless" in out.stdout
    assert "engine local is active because no Docker daemon answers" in out.stdout


# ----------------------------------------------------------------------------- secure by default


def test_plain_http_to_another_host_is_refused_before_any_connection():
    from reglab.registry_api import RegistryClient

    with pytest.raises(RegistryUnavailable) as info:
        RegistryClient("10.0.0.1:5000", tls=False).request("GET", "/v2/")
    assert "speaks plain HTTP" in str(info.value) and "127.0.0.0/8" in str(info.value)


def test_https_to_a_plain_http_server_says_so_in_dockers_words():
    import http.server
    import threading

    from reglab.registry_api import RegistryClient

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(RegistryUnavailable) as info:
            RegistryClient(f"127.0.0.1:{server.server_port}", tls=True).request("GET", "/v2/")
        assert "speaks plain HTTP" in str(info.value)
    finally:
        server.shutdown()


def test_registry_3_runs_the_v3_binary_with_upstreams_v3_config(monkeypatch):
    """With REGLAB_REGISTRY_IMAGE=registry:3 the daemonless engine runs the v3 binary the set-up built,
    with the official image's config (deletes on) less its debug server (:5001 is one port for every
    process here), and the image's OTEL_TRACES_EXPORTER=none in the process's environment."""
    from reglab import tools
    from reglab.engines.local import records as containers

    monkeypatch.setenv("REGLAB_REGISTRY_IMAGE", "registry:3")
    monkeypatch.delenv("REGLAB_REGISTRY_BIN", raising=False)
    v3 = tools.find("registry", Settings.from_env().tools_dir)
    assert v3 is not None, f"the registry v3 binary is not built: {tools.install_hint('registry')}"
    engine = LocalEngine()
    assert (engine.binary, engine.major()) == (v3, 3)
    images.ensure(engine)
    with labs(engine, "t-local-") as make:
        lab = make("v3")
        registry = lab.run_registry(port=port())
        container = containers.get(engine.settings.state_dir, registry.name)
        config = container.config.read_text()
        assert "debug:" not in config and ":5001" not in config and "delete:\n      enabled: true\n" in config
        environ = Path(f"/proc/{container.pid()}/environ").read_bytes().split(b"\0")
        assert b"OTEL_TRACES_EXPORTER=none" in environ
        assert "listening on " + registry.address in container.log.read_text()
        lab.tag("hello-world", registry.ref("hello-world"))
        pushed = lab.push(registry.ref("hello-world"))
        deleted = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--noproxy", "*", "-X", "DELETE",
                                  f"{registry.url}/v2/hello-world/manifests/{pushed.digest}"],
                                 capture_output=True, text=True, check=True).stdout
        assert deleted == "202"  # registry:2's config answers 405 (deletes off)
    assert our_registry_processes() == []
