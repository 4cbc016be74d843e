"""Storage growth, deletion and garbage collection against a live registry (notebook 04's steps)."""

import hashlib
import subprocess
from pathlib import Path

import pytest
import requests

from reglab import images, oci
from reglab.errors import RegistryError, DeleteDisabled
from reglab.media import DOCKER_MANIFEST as DOCKER_V2
from reglab.steps.growth import DELETE_ENABLED

SMALL = dict(versions=3, base_mib=4, app_mib=(0.5, 1), second_app_versions=1, unrelated_mib=1)


def _files(folder: Path) -> tuple[int, int]:
    """(bytes, count) of regular files, as find sees them."""
    out = subprocess.run(["find", str(folder), "-type", "f", "-printf", "%s\n"], capture_output=True, text=True,
                         check=True).stdout.split()
    return sum(int(n) for n in out), len(out)


def _blob_dirs(folder: Path) -> set[str]:
    out = subprocess.run(["find", str(folder / "docker/registry/v2/blobs"), "-name", "data"], capture_output=True,
                         text=True, check=True).stdout.split()
    return {"sha256:" + Path(p).parent.name for p in out}


def _digest(registry, repo, tag):
    r = requests.head(f"{registry.url}/v2/{repo}/manifests/{tag}", headers={"Accept": DOCKER_V2}, timeout=5)
    return r.headers.get("Docker-Content-Digest") if r.status_code == 200 else None


def test_series_history_matches_disk(lab_factory):
    lab = lab_factory("growth")
    registry = lab.run_registry(bind="data")
    series = images.growth_series(registry.address, **SMALL)
    tags = lab.load_images(series)
    history = lab.growth.push_series(tags)
    assert [s.label for s in history] == [f"{t.split('/', 1)[1]}" for t in tags]
    size, count = _files(registry.bind)
    assert history[-1].physical == size and history[-1].files == count
    assert history[-1].blobs == len(_blob_dirs(registry.bind))
    assert history[-1].tags == len(tags)
    # logical: every tagged image counted in full, from the manifests the API serves
    logical = 0
    for tag in tags:
        repo, name = tag.split("/", 1)[1].split(":")
        body = requests.get(f"{registry.url}/v2/{repo}/manifests/{name}", headers={"Accept": DOCKER_V2},
                            timeout=5)
        manifest = body.json()
        logical += len(body.content) + manifest["config"]["size"] + sum(x["size"] for x in manifest["layers"])
    assert history[-1].logical == logical
    # the shared base is stored once: physical below logical from the second push on
    assert all(s.physical < s.logical for s in history[1:])
    assert history[0].physical <= history[0].logical + 4096
    assert str(history).splitlines()[0].startswith("#  after")
    _plot_shows(history)


def _plot_shows(history) -> None:
    """Notebook 04's figure draws exactly the measured history (nbval cannot compare images): one
    point per push, at the bytes measured (in MiB), labelled with the tags pushed, the shaded gap
    between the two lines, and the last values written as text."""
    from matplotlib.collections import PolyCollection

    from reglab import plots
    from reglab.units import human

    fig = plots.growth(history)
    [ax] = fig.axes
    logical, physical = ax.get_lines()
    mib = 1024 * 1024
    assert list(logical.get_xdata()) == list(physical.get_xdata()) == list(range(1, len(history) + 1))
    assert list(logical.get_ydata()) == [s.logical / mib for s in history]
    assert list(physical.get_ydata()) == [s.physical / mib for s in history]
    assert [t.get_text() for t in ax.get_xticklabels()] == [s.label for s in history]
    assert any(isinstance(c, PolyCollection) for c in ax.collections)  # the deduplication gap, shaded
    texts = {t.get_text() for t in ax.texts}
    assert {human(history[-1].physical), human(history[-1].logical)} <= texts
    assert f"{human(history[-1].logical - history[-1].physical)} saved" in texts
    # the table the notebook prints beside it: the same numbers, in bytes, read back from the figure
    assert plots.numbers(fig).rows == [(str(i), s.label, f"{s.logical:,}", f"{s.physical:,}")
                                       for i, s in enumerate(history, 1)]


def test_delete_disabled_then_delete_frees_nothing_until_gc(lab_factory, engine):
    lab = lab_factory("gc")
    registry = lab.run_registry(bind="data", env={DELETE_ENABLED: "false"})  # a team's config: deletes off
    series = images.growth_series(registry.address, **SMALL)
    tags = lab.load_images(series)
    lab.growth.push_series(tags)
    with pytest.raises(DeleteDisabled) as info:
        lab.growth.delete_image(registry.ref("app", "v1"))
    assert "REGISTRY_STORAGE_DELETE_ENABLED=true" in str(info.value) and "\n" not in str(info.value)
    assert _digest(registry, "app", "v1") is not None

    lab.restart_registry(**{DELETE_ENABLED: "true"})
    before_bytes, _ = _files(registry.bind)
    blobs_before = _blob_dirs(registry.bind)
    v1 = _digest(registry, "app", "v1")
    assert lab.growth.delete_image(registry.ref("app", "v1")) == v1
    assert _digest(registry, "app", "v1") is None
    after_bytes, _ = _files(registry.bind)
    assert _blob_dirs(registry.bind) == blobs_before and after_bytes <= before_bytes  # only links went
    assert before_bytes - after_bytes < 1024

    lab.growth.read_only()
    dry = lab.growth.garbage_collect(dry_run=True)
    assert dry.blobs == 3 and _blob_dirs(registry.bind) == blobs_before  # manifest, config, app layer
    real = lab.growth.garbage_collect()
    remaining = _blob_dirs(registry.bind)
    assert real.blobs == 3 and len(blobs_before - remaining) == 3 and v1 not in remaining
    lab.growth.read_only(False)

    # every image still tagged pulls, with the digest the registry reports, and verifies on disk
    for tag in tags[1:]:
        repo, name = tag.split("/", 1)[1].split(":")
        lab.remove_image(tag)
        pulled = lab.pull(tag)
        assert pulled.digest == _digest(registry, repo, name)
    for digest in remaining:
        data = registry.bind / "docker/registry/v2/blobs/sha256" / digest[7:9] / digest[7:] / "data"
        assert "sha256:" + hashlib.sha256(data.read_bytes()).hexdigest() == digest


def _links(folder: Path, repository: str) -> set[str]:
    """The blobs a repository's ``_layers`` folder has a ``link`` for."""
    layers = folder / "docker/registry/v2/repositories" / repository / "_layers/sha256"
    return {"sha256:" + p.parent.name for p in layers.glob("*/link")}


def test_delete_by_tag_keeps_the_manifest_until_delete_untagged(lab_factory):
    """registry:3: DELETE by tag removes the tag only; plain GC keeps the untagged manifest and its
    layer; --delete-untagged takes both, and GC removes the _layers links of what it deletes."""
    lab = lab_factory("tagdel")
    registry = lab.run_registry(bind="data")  # registry:3's own config: deletes on
    series = images.growth_series(registry.address, **SMALL)
    lab.growth.push_series(lab.load_images(series))
    digest = _digest(registry, "other-app", "v1")
    own = requests.get(f"{registry.url}/v2/other-app/manifests/{digest}", headers={"Accept": DOCKER_V2},
                       timeout=5).json()["layers"][1]["digest"]
    assert lab.growth.delete_tag(registry.ref("other-app", "v1")) == digest
    assert "v1" not in requests.get(f"{registry.url}/v2/other-app/tags/list", timeout=5).json()["tags"]
    assert requests.head(f"{registry.url}/v2/other-app/manifests/{digest}", headers={"Accept": DOCKER_V2},
                         timeout=5).status_code == 200
    assert lab.growth.layer_links("other-app") == len(_links(registry.bind, "other-app"))
    lab.growth.read_only()
    plain = lab.growth.garbage_collect()
    assert plain.manifests == 0 and own in _blob_dirs(registry.bind)
    dry = lab.growth.garbage_collect(dry_run=True, delete_untagged=True)
    assert dry.manifests == 1 and own in _blob_dirs(registry.bind) and own in _links(registry.bind, "other-app")
    real = lab.growth.garbage_collect(delete_untagged=True)
    assert real.manifests == 1 and own not in _blob_dirs(registry.bind)
    assert real.links >= 1 and own not in _links(registry.bind, "other-app")  # PR #4344: the link goes too
    assert requests.head(f"{registry.url}/v2/other-app/manifests/{digest}", headers={"Accept": DOCKER_V2},
                         timeout=5).status_code == 404


def test_stale_blob_cache_after_gc_and_the_restart_fix(lab_factory, capsys):
    lab = lab_factory("cache")
    registry = lab.run_registry(bind="data", env={DELETE_ENABLED: "true"})
    ref = registry.ref("scratch", "v1")
    scratch = images.synthetic_image(ref, [images.random_layer("s.bin", 256 * 1024, "cache-test")])
    lab.load_images([scratch])
    lab.push(ref)
    lab.growth.delete_image(ref)
    lab.growth.garbage_collect()  # the wrong way: the registry keeps serving with its cache
    again = lab.push(ref)
    assert again.moved == 0 and again.already == 1  # "Layer already exists" - but it does not
    assert len(_blob_dirs(registry.bind)) < 3
    lab.echo = True  # what the notebook shows, from curl itself: HEAD 200 with the length, GET 200 and no byte
    capsys.readouterr()
    lab.growth.blob_answers(ref)
    shown = capsys.readouterr().out
    lab.echo = False
    assert "HEAD: 200, Content-Length: " in shown and "GET: 200, 0 bytes came" in shown
    lab.remove_image(ref)
    with pytest.raises(RegistryError) as broken:  # registry:3: the manifest is back, its blobs stop half-way
        lab.pull(ref)
    assert "unexpected EOF" in str(broken.value)
    lab.restart_registry()
    lab.load_images([scratch])
    fixed = lab.push(ref)
    assert fixed.moved == 1
    lab.remove_image(ref)
    assert lab.pull(ref).digest == fixed.digest


def test_synthetic_series_is_deterministic_and_quick_to_build():
    one = images.growth_series("127.0.0.1:5000", **SMALL)
    two = images.growth_series("127.0.0.1:5000", **SMALL)
    assert [b.manifest_bytes() for b in one] == [b.manifest_bytes() for b in two]
    base = {b.layers[0].diff_id for b in one[:-1]}
    assert len(base) == 1  # app and other-app share one base layer
    assert one[-1].layers[0].diff_id not in base
    rebuilt = images.rebuilt(one[0], seed=9)
    assert rebuilt.layers[0] is one[0].layers[0] and rebuilt.layers[1].diff_id != one[0].layers[1].diff_id


def test_oci_layout_is_readable_by_skopeo(tmp_path):
    series = images.growth_series("127.0.0.1:5000", **SMALL)
    oci.write_layout(series, tmp_path)
    out = subprocess.run(["skopeo", "inspect", "--raw", f"oci:{tmp_path}:127.0.0.1:5000/app:v2"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.encode() == series[1].manifest_bytes()
