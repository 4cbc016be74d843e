"""The storage explorer widget, driven as a learner would click it (no browser needed)."""

import hashlib
import json
import subprocess

import pytest

from reglab import images
from reglab.errors import ReglabError
from reglab.storage import (
    Tree,
    blob_path,
    layer_link_path,
    revision_link_path,
    tag_index_path,
    tag_link_path,
    upload_path,
)
from reglab.widgets import Explorer


def _put(root, rel, data: bytes):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _push(root, repo: str, tag: str, build: images.ImageBuild) -> str:
    """Write an image where the registry's filesystem driver would."""
    for data in [layer.gzipped() for layer in build.layers] + [build.config_bytes()]:
        _put(root, blob_path(_digest(data)), data)
        _put(root, layer_link_path(repo, _digest(data)), _digest(data).encode())
    manifest = build.manifest_bytes()
    digest = _digest(manifest)
    _put(root, blob_path(digest), manifest)
    _put(root, revision_link_path(repo, digest), digest.encode())
    _put(root, tag_link_path(repo, tag), digest.encode())
    _put(root, tag_index_path(repo, tag, digest), digest.encode())
    return digest


@pytest.fixture
def tree_root(tmp_path):
    root = tmp_path / "registry"
    base = images.random_layer("base/os.bin", 5_000, "widgets")
    app = images.Layer().file("app/hello.txt", b"hello\n").file("app/bin/run", b"#!/bin/sh\n", 0o755)
    _push(root, "web", "v1", images.ImageBuild(["web:v1"], [base, app], {"Cmd": ["/app/bin/run"]}))
    _push(root, "team/api", "v2", images.ImageBuild(["api:v2"], [base], {}))
    _put(root, blob_path(_digest(b"lost bytes")), b"lost bytes")
    _put(root, upload_path("web", "1234-abcd") + "/data", b"x" * 10)
    _put(root, upload_path("web", "1234-abcd") + "/startedat", b"2024-01-01T00:00:00Z")
    return root


def test_columns_lead_from_repository_to_the_file_on_disk(tree_root):
    tree = Tree.from_path(tree_root)
    explorer = Explorer(tree, "/srv/registry")
    first = [label for label, _ in explorer._columns[0][0].options]
    assert first == ["team/api", "web", "(orphans: 1)", "(uploads: 1)"]
    item = explorer.choose("web")
    assert "tags" in dict(item.facts) and dict(item.facts)["tags"] == "v1"
    item = explorer.choose("web", "v1")
    assert dict(item.facts)["points to"] == tree.tag_target("web", "v1")
    manifest = explorer.choose("web", "v1", "manifest")
    assert manifest.kind == "manifest"
    # the preview is the manifest's JSON, pretty-printed
    assert json.loads(explorer.preview.value) == json.loads((tree_root / blob_path(manifest.digest)).read_bytes())
    labels = [label for label, _ in explorer._columns[3][0].options]
    assert labels[0].startswith("config sha256:") and labels[1].startswith("layer 1 sha256:")
    assert labels[2].startswith("layer 2 ") and labels[-1] == "manifest's own file"
    layer = explorer.choose("web", "v1", "manifest", "layer 2")
    listing = subprocess.run(["tar", "-tvzf", str(tree_root / blob_path(layer.digest))], capture_output=True,
                             text=True, check=True).stdout
    for name in ("app/hello.txt", "app/bin/run"):
        assert name in listing and name in explorer.preview.value
    facts = dict(layer.facts)
    assert facts["linked from"] == "web"
    assert facts["path"] == f"/srv/registry/{blob_path(layer.digest)}"
    shared = explorer.choose("web", "v1", "manifest", "layer 1")
    assert dict(shared.facts)["linked from"] == "team/api, web"
    file = explorer.choose("web", "v1", "manifest", "layer 1", "data")
    assert file.kind == "file" and dict(file.facts)["path"].endswith("/data")
    assert "/srv/registry/docker/registry/v2/blobs/sha256/" in explorer.detail.value
    assert explorer.check.layout.display == ""
    explorer._on_check()
    assert "✔" in explorer.check_result.value
    # choosing earlier closes the later columns
    explorer.choose("team/api")
    assert len(explorer._columns) == 2


def test_config_preview_orphans_and_uploads(tree_root):
    tree = Tree.from_path(tree_root)
    explorer = Explorer(tree)
    config = explorer.choose("web", "v1", "manifest", "config")
    body = json.loads(explorer.preview.value)
    assert body["config"] == {"Cmd": ["/app/bin/run"]} and len(body["rootfs"]["diff_ids"]) == 2
    assert config.kind == "config"
    orphan = explorer.choose("(orphans", "layer")
    assert "orphan" in dict(orphan.facts)["what"]
    upload = explorer.choose("(uploads", "1234-abcd")
    assert dict(upload.facts)["received"] == "10 B"
    with pytest.raises(ReglabError, match="has no 'nope'"):
        explorer.choose("nope")


def test_corrupt_file_shows_a_cross(tree_root):
    tree = Tree.from_path(tree_root)
    explorer = Explorer(tree)
    file = explorer.choose("web", "v1", "manifest", "layer 2", "data")
    (tree_root / blob_path(file.digest)).write_bytes(b"damaged")
    explorer._on_check()
    assert "✘" in explorer.check_result.value and "no longer match" in explorer.check_result.value


def test_text_form_is_short_and_stable(tree_root):
    tree = Tree.from_path(tree_root)
    one, two = Explorer(tree, "/a"), Explorer(Tree.from_path(tree_root), "/a")
    text = one._repr_mimebundle_()["text/plain"]
    assert text == two._repr_mimebundle_()["text/plain"] == repr(one)
    assert text == "Explorer: 2 repositories, 7 blobs (browse it in a running kernel)"
    assert len(text) <= 110  # ipywidgets cuts longer ones with "…"
    assert "application/vnd.jupyter.widget-view+json" in one._repr_mimebundle_()


def test_empty_registry(tmp_path):
    explorer = Explorer(Tree.from_path(tmp_path))
    assert [label for label, _ in explorer._columns[0][0].options] == ["(empty)"]


def test_a_widget_that_outlived_its_registry_says_so(tree_root):
    """After lab.cleanup() removed the registry's folder, every click says so in the widget."""
    import shutil

    from reglab.widgets import GONE

    explorer = Explorer(Tree.from_path(tree_root))
    explorer.choose("web", "v1", "manifest", "layer 1", "data")
    shutil.rmtree(tree_root)
    explorer._on_check()
    assert GONE in explorer.check_result.value and "✘" in explorer.check_result.value
    explorer.choose("web", "v1", "manifest", "config")  # JSON: its preview used to read "(not JSON)"
    assert GONE in explorer.detail.value
    assert explorer.preview.layout.display == "none" and "not JSON" not in explorer.preview.value
    assert len(explorer._columns) == 4  # nothing opens beyond what is gone
    explorer.choose("team/api")
    assert GONE in explorer.detail.value and len(explorer._columns) == 1


def test_a_failure_inside_a_click_is_shown_not_lost(tree_root):
    """A blob removed by hand (the registry itself still there): the layer's listing fails in
    the widget, with the reason, instead of only in JupyterLab's log."""
    explorer = Explorer(Tree.from_path(tree_root))
    layer = explorer.choose("web", "v1", "manifest", "layer 2")
    (tree_root / blob_path(layer.digest)).unlink()
    explorer.choose("web", "v1", "manifest", "config")
    explorer.choose("web", "v1", "manifest", "layer 2")
    assert "✘ FileNotFoundError" in explorer.detail.value
    assert "gone — the lab was cleaned up" not in explorer.detail.value


def test_an_explorer_over_a_volume_says_so_once_its_lab_is_cleaned_up(lab_factory):
    """A volume is read through Docker's archive API: after cleanup the container is gone, and
    the widget says so too (its first reads may come from a cache)."""
    from reglab.widgets import GONE

    lab = lab_factory("explore-volume")
    registry = lab.run_registry(volume="registry-data")
    lab.tag("hello-world", registry.ref("hello-world"))
    lab.push(registry.ref("hello-world"))
    explorer = lab.storage.explore()
    explorer.choose("hello-world", "latest", "manifest")
    assert '"layers"' in explorer.preview.value  # live: the manifest's JSON
    lab.cleanup()
    explorer.choose("hello-world", "latest", "manifest", "config")
    assert GONE in explorer.detail.value
