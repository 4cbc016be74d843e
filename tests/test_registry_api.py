"""The HTTP API client against a real registry, checked with curl, skopeo and sha256sum."""

import hashlib
import json
import socket
import subprocess

import pytest

from reglab import Lab
from reglab.errors import AuthRequired, BlobUnknown, DeleteDisabled, ManifestUnknown, RegistryUnavailable
from reglab.naming import Scope
from reglab.registry_api import RegistryClient
from reglab.storage import Tree, blob_path

REPOS = ["alpha", "bravo", "charlie", "delta/one", "echo"]


def _curl(*args: str) -> str:
    return subprocess.run(["curl", "-sS", "--noproxy", "*", *args], capture_output=True, text=True,
                          check=True).stdout


def _one_sentence(exc: Exception) -> None:
    text = str(exc)
    assert "\n" not in text and text.endswith(".") and "Traceback" not in text


@pytest.fixture(scope="module")
def filled(engine):
    """A bind-mounted registry with five repositories, one of them with three tags."""
    lab = Lab("t-api-data", engine=engine, echo=False)
    try:
        registry = lab.run_registry(bind="data", env={"REGISTRY_STORAGE_DELETE_ENABLED": "false"})  # deletes off
        for name in REPOS:
            lab.make_image(registry.ref(name, "v1"), [(f"{name}.bin", 2_000), ("shared.bin", 3_000)], seed="t-api")
            lab.push(registry.ref(name, "v1"))
        for tag in ("v2", "v3"):
            lab.tag(registry.ref("alpha", "v1"), registry.ref("alpha", tag))
            lab.push(registry.ref("alpha", tag))
        yield lab, registry
    finally:
        lab.cleanup()


def test_ping_and_catalog_pages_follow_the_link_header(filled):
    _, registry = filled
    api = RegistryClient(registry.url)
    assert api.ping()
    full = json.loads(_curl(f"{registry.url}/v2/_catalog"))["repositories"]
    assert api.catalog() == full == sorted(REPOS)
    pages = list(api.catalog_pages(2))
    assert [p.repositories for p in pages] == [full[0:2], full[2:4], full[4:]]
    # the Link header curl sees is the one the client followed
    headers = _curl("-i", f"{registry.url}/v2/_catalog?n=2")
    link = next(line.split(":", 1)[1].strip() for line in headers.splitlines() if line.lower().startswith("link:"))
    assert link == pages[0].link and pages[0].last == full[1]
    assert pages[-1].next is None and pages[-1].link is None
    assert api.catalog(n=2) == full
    assert api.tags("alpha") == ["v1", "v2", "v3"] == sorted(
        json.loads(_curl(f"{registry.url}/v2/alpha/tags/list"))["tags"])
    assert api.tags("alpha", n=1) == ["v1", "v2", "v3"]


def test_manifest_get_and_head_agree_with_curl_skopeo_and_sha256sum(filled):
    _, registry = filled
    api = registry.api
    manifest = api.manifest("delta/one", "v1")
    head = api.manifest_head("delta/one", "v1")
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    raw = subprocess.run(["curl", "-sS", "--noproxy", "*", "-H", f"Accept: {accept}",
                          f"{registry.url}/v2/delta/one/manifests/v1"], capture_output=True, check=True).stdout
    assert manifest.raw == raw
    assert manifest.digest == head.digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert manifest.media_type == head.media_type == accept
    assert manifest.size == head.size == len(raw)
    skopeo = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                             f"docker://{registry.address}/delta/one:v1"], capture_output=True, check=True).stdout
    assert hashlib.sha256(skopeo).hexdigest() == manifest.digest[7:]
    by_digest = api.manifest("delta/one", manifest.digest)
    assert by_digest.raw == raw
    # blobs: HEAD size, GET bytes, the file on disk and sha256sum all agree
    for digest in [manifest.config, *manifest.layers]:
        size = api.blob_head("delta/one", digest).size
        data = api.blob("delta/one", digest)
        on_disk = registry.bind / blob_path(digest)
        assert size == len(data) == on_disk.stat().st_size
        out = subprocess.run(["sha256sum", str(on_disk)], capture_output=True, text=True, check=True).stdout
        assert "sha256:" + out.split()[0] == digest == "sha256:" + hashlib.sha256(data).hexdigest()
    tree = Tree.from_path(registry.bind)
    assert tree.tag_target("delta/one", "v1") == manifest.digest


def test_errors_are_one_sentence(filled):
    _, registry = filled
    api = registry.api
    with pytest.raises(ManifestUnknown, match="has no alpha:nope") as caught:
        api.manifest("alpha", "nope")
    _one_sentence(caught.value)
    with pytest.raises(ManifestUnknown, match="has no repository nothing-here") as caught:
        api.tags("nothing-here")
    _one_sentence(caught.value)
    with pytest.raises(ManifestUnknown):
        api.manifest_head("alpha", "nope")
    missing = "sha256:" + "0" * 64
    with pytest.raises(BlobUnknown, match="has no blob") as caught:
        api.blob_head("alpha", missing)
    _one_sentence(caught.value)
    digest = api.manifest_head("alpha", "v1").digest
    with pytest.raises(DeleteDisabled, match="REGISTRY_STORAGE_DELETE_ENABLED=true") as caught:
        api.delete_manifest("alpha", digest)
    _one_sentence(caught.value)
    assert api.manifest_head("alpha", "v1").digest == digest  # nothing was deleted
    with pytest.raises(RegistryUnavailable, match="nothing answers") as caught:
        RegistryClient(f"http://127.0.0.1:{_free_port()}", timeout=2).catalog()
    _one_sentence(caught.value)
    assert not RegistryClient(f"http://127.0.0.1:{_free_port()}").ping()


def test_delete_when_enabled(engine):
    lab = Lab("t-api-delete", engine=engine, echo=False)
    try:
        registry = lab.run_registry(env={"REGISTRY_STORAGE_DELETE_ENABLED": "true"})
        lab.tag("hello-world", registry.ref("hello-world", "gone"))
        lab.push(registry.ref("hello-world", "gone"))
        api = registry.api
        digest = api.manifest_head("hello-world", "gone").digest
        with pytest.raises(Exception, match="by its digest"):
            api.delete_manifest("hello-world", "gone")
        api.delete_manifest("hello-world", digest)
        with pytest.raises(ManifestUnknown):
            api.manifest_head("hello-world", "gone")
        code = _curl("-o", "/dev/null", "-w", "%{http_code}", f"{registry.url}/v2/hello-world/manifests/{digest}")
        assert code == "404"
    finally:
        lab.cleanup()
    assert engine.objects.of(Scope("t-api-delete")) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_auth_required_is_one_sentence(tmp_path):
    """A registry that wants credentials (the 'silly' access controller, as a plain process)."""
    port = _free_port()
    config = tmp_path / "config.yml"
    config.write_text(f"""version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: {tmp_path / 'data'}
http:
  addr: 127.0.0.1:{port}
auth:
  silly:
    realm: reglab
    service: reglab
""")
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        api = RegistryClient(f"http://127.0.0.1:{port}")
        api.wait_ready(timeout=20)  # 401 counts as up
        assert _curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/v2/_catalog") == "401"
        assert not api.ping()
        with pytest.raises(AuthRequired, match="wants a token from reglab .Bearer") as caught:
            api.catalog()  # the silly controller challenges with Bearer: a token server, not a password
        _one_sentence(caught.value)
        with pytest.raises(AuthRequired):
            api.manifest("x", "latest")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_curl_twin():
    api = RegistryClient("http://127.0.0.1:5000")
    assert api.curl("/v2/_catalog?n=2") == "curl 'http://127.0.0.1:5000/v2/_catalog?n=2'"
    assert api.curl("/v2/x/blobs/sha256:ab", head=True) == "curl -I http://127.0.0.1:5000/v2/x/blobs/sha256:ab"
    assert api.curl("/v2/x/manifests/v1", accept="a/b") == "curl -H 'Accept: a/b' http://127.0.0.1:5000/v2/x/manifests/v1"
