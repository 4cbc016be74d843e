"""The daemonless engine speaks the same registry protocol as real clients, with equal digests.

- Docker's own layer compression is reproduced byte for byte (Docker itself is the oracle);
- hello-world pushed by either engine has the same manifest digest and the same storage tree;
- an image pushed by the local engine pulls with the Docker daemon and inspects with skopeo
  under the same digest, and runs under Docker;
- an image pushed by Docker (or skopeo) pulls into the local store byte for byte.

Needs the shared Docker daemon and skopeo; every object is named reglab-t-interop-… or
tagged under a t-interop registry, and removed afterwards.
"""

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import labs

from reglab import dockergzip, errors, images, oci, ports
from reglab.engines.local import LocalEngine, registry_binary
from reglab.errors import DockerUnavailable
from reglab.oci import ImageStore
from reglab.reference import parse

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(registry_binary() is None, reason="the registry binary (docker-registry) is missing"),
    pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is missing"),
]


def run(*argv: str) -> str:
    out = subprocess.run(list(argv), capture_output=True, text=True)
    assert out.returncode == 0, f"{' '.join(argv)}: {out.stderr.strip()}"
    return out.stdout


def sha256sum(path: Path) -> str:
    return "sha256:" + run("sha256sum", str(path)).split()[0]


@pytest.fixture(scope="module")
def docker_engine():
    from reglab.engines import get_engine

    try:
        engine = get_engine("docker")
    except DockerUnavailable:
        pytest.skip("no Docker daemon answers")
    images.ensure(engine)
    return engine


@pytest.fixture(scope="module")
def local_engine(tmp_path_factory):
    engine = LocalEngine(store=ImageStore(tmp_path_factory.mktemp("interop-store")))
    images.ensure(engine)
    return engine


@pytest.fixture
def interop_lab(local_engine):
    """Labs t-interop-<name> (local engine unless another is given), cleaned up after."""
    with labs(local_engine, "t-interop-") as make:
        yield make


@pytest.fixture
def docker_tags():
    """Image names the test gives the Docker daemon; removed afterwards."""
    tags: list[str] = []
    yield tags
    for tag in tags:
        subprocess.run(["docker", "image", "rm", tag], capture_output=True)


def _build(tag: str, seed: str, files: dict[str, bytes]) -> images.ImageBuild:
    layers = [images.Layer().file(path, data) for path, data in files.items()]
    return images.ImageBuild([tag], layers, {"Cmd": ["/bin/true"], "Labels": {"t-interop": seed}})


def test_layer_compression_is_byte_identical_to_dockers(docker_engine, interop_lab, docker_tags):
    registry = interop_lab("oracle").run_registry(port=ports.choose(5200))
    rnd = __import__("random").Random(5)
    text = Path(images.__file__).read_bytes()
    kinds = {
        "text": text * 2,
        "random": rnd.randbytes(120_000),
        "zeros": bytes(150_000),
        "binary": registry_binary().read_bytes()[:200_000],
        "mixed": b"".join(rnd.choice([text[:3000], rnd.randbytes(2000), bytes(5000)]) for _ in range(30)),
        "empty": b"",
    }
    builds = [_build(registry.ref(f"oracle-{kind}", "1"), kind, {kind: data}) for kind, data in kinds.items()]
    docker_engine.images.load(images.docker_archive(builds))
    for build in builds:
        docker_tags.append(build.tags[0])
        run("docker", "image", "push", build.tags[0])
        repo = parse(build.tags[0]).repository
        manifest = registry.api.manifest(repo, "1").body
        assert manifest["layers"][0]["digest"] == "sha256:" + hashlib.sha256(
            dockergzip.go_gzip(build.layers[0].tar())).hexdigest(), repo


def test_hello_world_has_the_same_digest_and_tree_under_both_engines(docker_engine, interop_lab):
    results = {}
    for kind, engine in (("docker", docker_engine), ("local", None)):
        lab = interop_lab(kind, engine=engine)
        registry = lab.run_registry(port=ports.choose(5200))
        lab.tag("hello-world", registry.ref("hello-world"))
        pushed = lab.push(registry.ref("hello-world"))
        results[kind] = (pushed.digest, lab.storage.tree().text(), sorted(lab.storage.tree().blobs()))
        lab.cleanup()
    assert results["docker"] == results["local"]


def test_local_push_pulls_with_docker_and_inspects_with_skopeo(docker_engine, local_engine, interop_lab,
                                                                  docker_tags):
    lab = interop_lab("to-docker")
    registry = lab.run_registry(port=ports.choose(5200))
    tag = registry.ref("t-interop/multi", "1")
    build = _build(tag, "multi", {"a/one": b"1" * 5000, "b/two": bytes(range(256)) * 300, "c/three": b"3\n"})
    local_engine.store.import_builds([build])
    lab.state.add_tag(tag)
    pushed = local_engine.images.push(tag)
    assert pushed.layers == 3

    docker_tags.append(tag)
    run("docker", "image", "pull", tag)
    inspect = json.loads(run("docker", "image", "inspect", tag))[0]
    assert f"{registry.address}/t-interop/multi@{pushed.digest}" in inspect["RepoDigests"]
    assert inspect["Id"] == local_engine.images.info(tag).id

    skopeo = json.loads(run("skopeo", "inspect", "--tls-verify=false", f"docker://{tag}"))
    assert skopeo["Digest"] == pushed.digest
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{tag}"],
                         capture_output=True, check=True).stdout
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == pushed.digest

    hello = registry.ref("hello-world")
    lab.tag("hello-world", hello)
    lab.push(hello)
    docker_tags.append(hello)
    name = "reglab-t-interop-to-docker-hello"
    try:
        out = run("docker", "container", "run", "--name", name, "--label", "reglab.lab=t-interop-to-docker", hello)
    finally:
        subprocess.run(["docker", "container", "rm", "-f", name], capture_output=True)
    assert "Hello from Registry Lab!" in out


def test_docker_push_pulls_into_the_local_store_byte_identical(docker_engine, interop_lab, docker_tags, tmp_path):
    lab = interop_lab("from-docker")
    registry = lab.run_registry(port=ports.choose(5200), bind=tmp_path / "registry")
    tag = registry.ref("t-interop/pushed-by-docker", "1")
    layers = [images.random_layer(f"data/{i}", 600_000 + i, "from-docker") for i in range(3)]
    docker_engine.images.load(images.docker_archive([images.ImageBuild([tag], layers, {"Cmd": ["/x"]})]))
    docker_tags.append(tag)
    out = run("docker", "image", "push", tag)
    docker_digest = next(w for w in out.split() if w.startswith("sha256:"))

    store = ImageStore(tmp_path / "store")
    pulled = LocalEngine(store=store).images.pull(tag)
    assert (pulled.digest, pulled.layers, pulled.moved) == (docker_digest, 3, 3)
    ours = {p.name: p for p in store.blobs.iterdir()}
    theirs = {p.parent.name: p for p in (tmp_path / "registry/docker/registry/v2/blobs/sha256").glob("*/*/data")}
    assert set(ours) == set(theirs)  # every blob: 3 layers, config, manifest
    for name, path in ours.items():
        assert path.read_bytes() == theirs[name].read_bytes() and sha256sum(path) == f"sha256:{name}"

    # skopeo copies the same layers; it rewrites manifest and config into OCI form, we keep Docker's bytes
    run("skopeo", "copy", "--src-tls-verify=false", f"docker://{tag}", f"oci:{tmp_path / 'skopeo'}:copy")
    skopeo_blobs = {p.name for p in (tmp_path / "skopeo/blobs/sha256").iterdir()}
    layer_blobs = {layer["digest"][7:] for layer in store.find(tag).layers}
    assert layer_blobs <= skopeo_blobs and pulled.digest[7:] not in skopeo_blobs


def test_skopeo_reads_and_fills_the_local_store(local_engine, interop_lab):
    """skopeo reads the store's OCI-typed images (as :func:`oci.write_layout` writes
    them); it skips Docker schema 2 entries, which hold Docker's exact bytes."""
    lab = interop_lab("skopeo")
    registry = lab.run_registry(port=ports.choose(5200))
    store = local_engine.store
    name = "t-interop/oci-typed:1"
    build = images.ImageBuild([name], [images.random_layer("x", 30_000, "skopeo"), images.Layer().file("y", b"y")],
                              {"Cmd": ["/x"]})
    oci.write_layout([build], store.root)
    lab.state.add_tag(name)
    target = registry.ref("t-interop/by-skopeo", "1")
    run("skopeo", "copy", "--dest-tls-verify=false", f"oci:{store.root}:{name}", f"docker://{target}")
    digest = json.loads(run("skopeo", "inspect", "--tls-verify=false", f"docker://{target}"))["Digest"]
    assert digest == store.find(name).manifest_digest
    lab.state.add_tag(target)
    pulled = local_engine.images.pull(target)
    assert (pulled.digest, pulled.layers) == (digest, 0)  # every blob is here already
    fresh = LocalEngine(store=ImageStore(store.root.parent / "fresh"))
    assert fresh.images.pull(target).digest == digest


def test_error_sentences_match_the_docker_engine():
    from reglab.engines.docker import _registry_trouble

    ref = parse("127.0.0.1:5999/hello-world")
    pairs = [
        ("dial tcp 127.0.0.1:5999: connect: connection refused", errors.unreachable(ref.registry)),
        ("manifest unknown", errors.manifest_unknown(ref.registry, ref.repository, ref.tag_or_default)),
        ("server gave HTTP response to HTTPS client", errors.plain_http_refused(ref.registry)),
        ("unauthorized: authentication required", errors.login_needed(ref.registry)),
    ]
    for text, ours in pairs:
        theirs = _registry_trouble(text, str(ref))
        assert (type(theirs), str(theirs)) == (type(ours), str(ours))


def test_plain_http_only_where_the_docker_daemon_allows_it(engine):
    from reglab.registry_api import plain_http_allowed

    # the daemonless engine's rule is the live daemon's default (Docker 20.10: 127.0.0.0/8, not ::1)
    assert LocalEngine().daemon.insecure_registries() == engine.daemon.insecure_registries()
    allowed = engine.daemon.insecure_registries()
    assert all(plain_http_allowed(h, allowed) for h in ("127.0.0.1:5000", "127.8.9.10:5000", "localhost:5000"))
    assert not any(plain_http_allowed(h, allowed) for h in ("10.0.0.1:5000", "registry.example.org", "[::1]:5000"))
    assert plain_http_allowed("10.0.0.1:5000", allowed + ["10.0.0.1:5000"])  # listed in insecure-registries
