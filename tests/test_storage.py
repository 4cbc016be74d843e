"""The storage model against independent tools, on data a real registry wrote.

Figures come from ``du``, ``find``, ``sha256sum``, ``tar`` and the registry's HTTP API, never from
reglab itself; odd trees (orphan, dangling link, abandoned upload, corruption) are made by hand
from a copy of the real one.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from reglab import Lab
from reglab.media import short
from reglab.naming import Scope
from reglab.storage import BlobCorrupt, Tree, blob_path, layer_link_path, layout, tag_link_path
from reglab.units import human

SHARED = ("base/os.bin", 300_000)


def _run(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def pushed(engine):
    """One bind-mounted registry holding two images that share a layer, plus hello-world."""
    lab = Lab("t-storage-data", engine=engine, echo=False)
    try:
        registry = lab.run_registry(bind="data")
        lab.make_image(registry.ref("layered", "v1"), [SHARED, ("app/lib.bin", 90_000), ("app/main.bin", 5_000)],
                       seed="t-storage")
        lab.push(registry.ref("layered", "v1"))
        lab.make_image(registry.ref("team/sibling", "v2"), [SHARED, ("tools/extra.bin", 40_000)], seed="t-storage")
        lab.push(registry.ref("team/sibling", "v2"))
        lab.tag("hello-world", registry.ref("hello-world"))
        lab.push(registry.ref("hello-world"))
        yield lab, registry
    finally:
        lab.cleanup()


def _api_manifest(registry, repo, tag):
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    r = requests.get(f"{registry.url}/v2/{repo}/manifests/{tag}", headers={"Accept": accept}, timeout=5)
    r.raise_for_status()
    return r.headers["Docker-Content-Digest"], r.json(), r.content


def _dir_bytes(folder: Path) -> int:
    """What ``du --apparent-size`` adds for the folders themselves (find's %s of each folder)."""
    return sum(map(int, _run("find", str(folder), "-type", "d", "-printf", "%s\n").split()))


def test_totals_agree_with_du_find_and_sha256sum(pushed):
    _, registry = pushed
    tree = Tree.from_path(registry.bind)
    blobs_dir = registry.bind / "docker/registry/v2/blobs"
    du_blobs = int(_run("du", "-sb", "--apparent-size", str(blobs_dir)).split()[0])
    assert tree.blob_bytes == du_blobs - _dir_bytes(blobs_dir)
    du_all = int(_run("du", "-sb", "--apparent-size", str(registry.bind)).split()[0])
    assert tree.physical_bytes == du_all - _dir_bytes(registry.bind)
    assert tree.file_count == len(_run("find", str(registry.bind), "-type", "f").split())
    assert tree.blob_count == len(_run("find", str(blobs_dir), "-type", "f", "-name", "data").split())
    assert tree.link_count == len(_run("find", str(registry.bind), "-type", "f", "-name", "link").split())
    assert sorted(tree.dirs) == sorted(
        os.path.relpath(p, registry.bind) for p in _run("find", str(registry.bind), "-mindepth", "1", "-type", "d")
        .split())
    sums = _run("sh", "-c", f"find {blobs_dir} -name data -exec sha256sum {{}} +")
    by_sha = {line.split()[1]: "sha256:" + line.split()[0] for line in sums.splitlines()}
    assert {str(registry.bind / b.path): d for d, b in tree.blobs().items()} == by_sha
    assert tree.verify().blobs == len(by_sha)
    # 2 images sharing one layer, and hello-world: 3 manifests, 3 configs, 5 layers, nothing odd
    assert {k: n for k, (n, _) in tree.kinds().items()} == {"manifest": 3, "config": 3, "layer": 5}
    assert tree.problems() == []


def test_model_agrees_with_the_registry_api(pushed):
    _, registry = pushed
    tree = Tree.from_path(registry.bind)
    catalog = requests.get(f"{registry.url}/v2/_catalog", timeout=5).json()["repositories"]
    assert tree.repositories() == sorted(catalog) == ["hello-world", "layered", "team/sibling"]
    logical = 0
    for repo in catalog:
        tags = requests.get(f"{registry.url}/v2/{repo}/tags/list", timeout=5).json()["tags"]
        assert sorted(tree.repository(repo).tags) == sorted(tags)
        for tag in tags:
            digest, body, raw = _api_manifest(registry, repo, tag)
            assert tree.tag_target(repo, tag) == digest == "sha256:" + hashlib.sha256(raw).hexdigest()
            assert tree.blob_kind(digest) == "manifest"
            assert tree.blob(digest).size == len(raw)
            assert tree.blob_kind(body["config"]["digest"]) == "config"
            assert tree.blob(body["config"]["digest"]).media_type == body["config"]["mediaType"]
            for layer in body["layers"]:
                assert tree.blob_kind(layer["digest"]) == "layer"
                head = requests.head(f"{registry.url}/v2/{repo}/blobs/{layer['digest']}", timeout=5)
                assert int(head.headers["Content-Length"]) == tree.blob(layer["digest"]).size == layer["size"]
                assert layer["digest"] in tree.repository(repo).layers
            logical += len(raw) + body["config"]["size"] + sum(x["size"] for x in body["layers"])
    assert tree.logical_bytes == logical
    shared = tree.blob_bytes + tree.blob(_shared_digest(tree)).size
    assert logical == shared  # the shared layer is the only difference between logical and physical


def _shared_digest(tree: Tree) -> str:
    layered = tree.manifest(tree.tag_target("layered", "v1"))
    sibling = tree.manifest(tree.tag_target("team/sibling", "v2"))
    (shared,) = set(layered.layers) & set(sibling.layers)
    return shared


def test_shared_layer_is_stored_once_and_linked_twice(pushed):
    _, registry = pushed
    tree = Tree.from_path(registry.bind)
    shared = _shared_digest(tree)
    hexd = shared.split(":")[1]
    found = _run("find", str(registry.bind), "-name", hexd).split()
    assert sorted(os.path.relpath(p, registry.bind) for p in found) == sorted(
        [blob_path(shared).rsplit("/", 1)[0]] + [p.rsplit("/", 1)[0] for p in
                                                  (layer_link_path("layered", shared),
                                                   layer_link_path("team/sibling", shared))])
    assert [link.path for link in tree.links_to(shared)] == sorted(
        [layer_link_path("layered", shared), layer_link_path("team/sibling", shared)])
    assert len(_run("find", str(registry.bind), "-path", f"*{hexd}*", "-name", "data").split()) == 1


def test_host_path_and_archive_api_give_the_same_model(pushed, engine):
    _, registry = pushed
    from_path = Tree.from_path(registry.bind)
    container = engine.client.containers.get(registry.name)  # Docker's archive API, as for a volume
    from_archive = Tree.from_archive(container.get_archive("/var/lib/registry")[0],
                                     reopen=lambda p: container.get_archive(p)[0])
    assert from_path.as_dict() == from_archive.as_dict()
    assert from_path.text("/x") == from_archive.text("/x")
    assert from_archive.verify().blobs == from_path.blob_count
    shared = _shared_digest(from_archive)
    files = from_archive.layer_files(shared)
    assert files == from_path.layer_files(shared)
    listing = _run("tar", "-tzf", str(registry.bind / blob_path(shared))).split()
    assert [name for name, _, _ in files] == listing


def test_layout_table_places_every_file_a_real_registry_wrote(pushed):
    """The one table the readers and the renderer share knows every folder and file the registry
    wrote, and its builders give back the very paths the registry chose."""
    _, registry = pushed
    found = _run("find", str(registry.bind), "-mindepth", "1", "-printf", "%y %P\n").splitlines()
    assert len(found) > 50
    roles = set()
    for line in found:
        kind, rel = line.split(" ", 1)
        place = layout.place(rel, folder=kind == "d")
        assert place is not None, rel
        roles.add(place.role)
        if kind == "f":
            assert layout.path(place.role, **place.fields) == rel
    assert {layout.BLOB, layout.LAYER_LINK, layout.REVISION_LINK, layout.TAG_LINK, layout.TAG_INDEX_LINK} <= roles


TRICKY_TAGS = ("_layers", "_manifests", "_uploads", "current", "index")


def test_tags_named_like_layout_folders_read_the_same_both_ways(engine, pushed):
    """Tags may be called ``_layers`` or ``current``: the folder reader and the archive reader must
    still agree with each other and with the registry's API."""
    lab = Lab("t-storage-tags", engine=engine, echo=False)  # not lab_factory: `pushed` lives on
    try:
        _check_tricky_tags(lab, engine)
    finally:
        lab.cleanup()
    assert engine.objects.of(Scope("t-storage-tags")) == []


def _check_tricky_tags(lab, engine):
    registry = lab.run_registry(bind="data")
    for tag in TRICKY_TAGS:
        lab.tag("hello-world", registry.ref("tricky", tag))
        lab.push(registry.ref("tricky", tag))
    api_tags = requests.get(f"{registry.url}/v2/tricky/tags/list", timeout=5).json()["tags"]
    assert sorted(api_tags) == sorted(TRICKY_TAGS)
    from_path = Tree.from_path(registry.bind)
    container = engine.client.containers.get(registry.name)  # Docker's archive API, as for a volume
    from_archive = Tree.from_archive(container.get_archive("/var/lib/registry")[0])
    for tree in (from_path, from_archive):
        assert tree.repositories() == ["tricky"]
        assert sorted(tree.repository("tricky").tags) == sorted(api_tags)
        assert {tree.tag_target("tricky", tag) for tag in TRICKY_TAGS} == {tree.images()[0][1]}
        assert tree.problems() == []
    assert from_path.as_dict() == from_archive.as_dict()
    assert from_path.text("/x") == from_archive.text("/x")
    assert (registry.bind / tag_link_path("tricky", "_layers")).read_text() == from_path.images()[0][1]


def test_named_volume_is_read_through_the_archive_api(engine, pushed):
    # not lab_factory: it checks no t-* object is left after each test, and `pushed` lives on
    lab = Lab("t-storage-volume", engine=engine, echo=False)
    try:
        _check_volume(lab, pushed)
    finally:
        lab.cleanup()
    assert engine.objects.of(Scope("t-storage-volume")) == []


def _check_volume(lab, pushed):
    registry = lab.run_registry(volume="data")
    assert registry.volume == "reglab-t-storage-volume-data"
    lab.tag("hello-world", registry.ref("hello-world"))
    lab.push(registry.ref("hello-world"))
    tree = lab.storage.tree()
    _, bound = pushed
    reference = Tree.from_path(bound.bind)
    digest = reference.tag_target("hello-world", "latest")
    assert tree.tag_target("hello-world", "latest") == digest
    want = reference.manifest(digest)
    assert tree.manifest(digest) == want
    for part in (want.config, *want.layers):
        assert tree.blob(part).size == reference.blob(part).size
    out = lab.engine.client.containers.get(registry.name).exec_run(
        ["find", "/var/lib/registry", "-type", "f"]).output.decode()
    assert tree.file_count == len(out.split())


@pytest.fixture
def odd_copy(pushed, tmp_path):
    """A copy of the real tree to damage by hand."""
    _, registry = pushed
    root = tmp_path / "registry"
    shutil.copytree(registry.bind, root)
    return root


def _tar_stream(root: Path):
    """The tree as ``docker cp`` would send it: a tar whose top folder is the data folder."""
    data = _run_bytes("tar", "-C", str(root.parent), "-cf", "-", root.name)
    return [data[i:i + 65536] for i in range(0, len(data), 65536)]


def _run_bytes(*argv: str) -> bytes:
    return subprocess.run(argv, capture_output=True, check=True).stdout


def test_orphan_dangling_link_and_abandoned_upload_are_reported(odd_copy):
    root = odd_copy
    before = Tree.from_path(root)
    # an orphan: a blob no manifest names
    orphan = b'{"not": "referenced"}'
    orphan_digest = "sha256:" + hashlib.sha256(orphan).hexdigest()
    (root / blob_path(orphan_digest)).parent.mkdir(parents=True)
    (root / blob_path(orphan_digest)).write_bytes(orphan)
    # a dangling link: remove a layer only team/sibling uses
    sibling = before.manifest(before.tag_target("team/sibling", "v2"))
    own = next(d for d in sibling.layers if len(before.links_to(d)) == 1)
    shutil.rmtree((root / blob_path(own)).parent)
    # an abandoned upload
    upload = root / "docker/registry/v2/repositories/layered/_uploads/0f0e0d0c-0000-4000-8000-000000000000"
    (upload / "hashstates/sha256").mkdir(parents=True)
    (upload / "data").write_bytes(b"x" * 1234)
    (upload / "startedat").write_text("2024-05-01T10:00:00Z")
    (upload / "hashstates/sha256/1234").write_bytes(b"state")
    # a link folder without its link
    empty = root / layer_link_path("layered", "sha256:" + "ab" * 32)
    empty.parent.mkdir(parents=True)
    # a tag whose current/link is gone (an interrupted write): the fast reader lists that tag instead
    (root / tag_link_path("hello-world", "latest")).unlink()

    tree = Tree.from_path(root)
    kinds = {}
    for problem in tree.problems():
        kinds.setdefault(problem.kind, []).append(problem)
        assert "\n" not in problem.message and problem.message.endswith(".")
    assert [p.path for p in kinds["orphan"]] == [blob_path(orphan_digest)]
    assert tree.blob(orphan_digest).orphan and tree.blob(orphan_digest).kind == "config"
    assert "garbage-collect" in kinds["orphan"][0].message
    assert [p.path for p in kinds["dangling link"]] == [layer_link_path("team/sibling", own)]
    assert [p.path for p in kinds["missing link"]] == sorted(
        [str(empty.parent.relative_to(root)), tag_link_path("hello-world", "latest").rsplit("/", 1)[0]])
    assert "latest" in tree.repository("hello-world").tags and tree.tag_target("hello-world", "latest") is None
    (up,) = tree.uploads()
    assert (up.repository, up.size, up.started_at) == ("layered", 1234, "2024-05-01T10:00:00Z")
    assert [p.path for p in kinds["abandoned upload"]] == [up.path]
    assert tree.blob_kind(own) == "missing"
    assert "no such blob!" in tree.text()
    assert "orphan" in tree.text()
    # totals still agree with find, and the archive reading agrees with the folder reading
    assert tree.file_count == len(_run("find", str(root), "-type", "f").split())
    from_archive = Tree.from_archive(_tar_stream(root))
    assert from_archive.as_dict() == tree.as_dict()


def test_corrupted_blob_and_link_fail_verification(odd_copy):
    root = odd_copy
    tree = Tree.from_path(root)
    layer = _shared_digest(tree)
    data = root / blob_path(layer)
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    actual = "sha256:" + _run("sha256sum", str(data)).split()[0]
    with pytest.raises(BlobCorrupt) as caught:
        Tree.from_path(root).verify()
    message = str(caught.value)
    assert f"sha256:{short(layer[7:])}" in message and f"sha256:{short(actual[7:])}" in message
    assert "\n" not in message and message.endswith(".") and "push the image again" in message
    # one blob can be checked on its own; the others are fine
    others = [d for d in tree.blobs() if d != layer]
    assert Tree.from_path(root).verify(others).blobs == len(others)
    # repaired, every blob passes; then a link edited by hand is caught too
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    assert Tree.from_path(root).verify().blobs == tree.blob_count
    link = root / layer_link_path("layered", layer)
    link.write_text("sha256:" + "0" * 64)
    with pytest.raises(BlobCorrupt, match="holds sha256:000000000000… instead of"):
        Tree.from_path(root).verify()


def test_text_explains_each_level_and_is_stable(pushed):
    _, registry = pushed
    tree = Tree.from_path(registry.bind)
    text = tree.text("/var/lib/registry")
    assert text == Tree.from_path(registry.bind).text("/var/lib/registry")
    lines = text.splitlines()
    assert lines[0] == "/var/lib/registry/"
    for needle in ("docker/", "registry/", "v2/", "blobs/", "sha256/", "repositories/", "_layers/", "_manifests/",
                   "revisions/", "tags/", "v1/", "current/", "index/", "_uploads/", "team/", "sibling/"):
        assert any(re.search(r"── " + re.escape(needle) + r"\s{2,}\S", line) for line in lines), needle
    data_lines = [x for x in lines if x.split("── ")[-1].startswith("data ")]
    assert len(data_lines) == tree.blob_count
    assert all(x.endswith(("layer", "config", "manifest")) for x in data_lines)
    assert not re.search(r"[0-9a-f]{64}", text)  # digests are shortened to 12 hex digits
    assert f"({tree.blob_count} blobs, {human(tree.blob_bytes)})" in text


def test_empty_and_missing_folders(tmp_path):
    from reglab.storage import StorageError

    assert "empty" in Tree.from_path(tmp_path).text("/x")
    assert Tree.from_path(tmp_path).file_count == 0
    with pytest.raises(StorageError, match="is not a folder"):
        Tree.from_path(tmp_path / "nope")


def test_human_sizes():
    assert [human(n) for n in (0, 1023, 1024, 1536, 5 * 1024 * 1024)] == ["0 B", "1023 B", "1.0 KiB", "1.5 KiB",
                                                                       "5.0 MiB"]
    assert short("a" * 64) == "a" * 12 + "…"


def test_benchmark_tree_model_agrees_with_find(tmp_path):
    """The benchmark's synthetic tree: every file found, sizes as find prints them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("storage_scan", Path(__file__).parent.parent /
                                                  "benchmarks/storage_scan.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    root = tmp_path / "registry"
    shape = bench.build(root, blobs=400)
    tree = Tree.from_path(root)
    found = _run("find", str(root), "-type", "f", "-printf", "%s %P\n").splitlines()
    assert tree.files == {line.split(" ", 1)[1]: int(line.split(" ", 1)[0]) for line in found}
    assert len(tree.images()) == shape["images"]
    assert len(tree.orphans()) == 20 and len(tree.uploads()) == 5
    assert json.dumps(Tree.from_archive(_tar_stream(root)).as_dict(), default=str) == \
        json.dumps(tree.as_dict(), default=str)
