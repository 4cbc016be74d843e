"""Reading a big registry tree: reglab's storage scan vs ``du -sb``.

A learner who wants to know what their registry holds would otherwise run ``du -sb`` on its
folder. This builds a synthetic registry tree the way the filesystem driver lays it out
(about 10,000 blobs across a few hundred repositories, with tags, tag history, shared base
layers, orphans and abandoned uploads; files written directly, no registry needed), then
times, alternating and several rounds in one run:

- ``du -sb <root>`` (one number: bytes), and
- reglab: ``Tree.from_path(root)`` plus its totals (files, physical, blob and logical bytes,
  blob kinds, orphans, uploads) — the whole model, without sha256 verification.

The last line prints the median ratio; below 1.0 means the full model costs less than ``du``'s
single number.

    REGLAB_OFFLINE=1 python benchmarks/storage_scan.py [--rounds 9] [--blobs 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from reglab import storage
from reglab.units import human

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


class TreeWriter:
    """Writes blobs and links where the registry's filesystem driver would."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _write(self, rel: str, data: bytes) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def blob(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self._write(storage.blob_path(digest), data)
        return digest

    def layer_link(self, repo: str, digest: str) -> None:
        self._write(storage.layer_link_path(repo, digest), digest.encode())

    def revision(self, repo: str, digest: str) -> None:
        self._write(storage.revision_link_path(repo, digest), digest.encode())

    def tag(self, repo: str, tag: str, digest: str, history: tuple[str, ...] = ()) -> None:
        self._write(storage.tag_link_path(repo, tag), digest.encode())
        for old in (*history, digest):
            self._write(storage.tag_index_path(repo, tag, old), old.encode())

    def upload(self, repo: str, uuid: str, data: bytes) -> None:
        base = storage.upload_path(repo, uuid)
        self._write(f"{base}/data", data)
        self._write(f"{base}/startedat", b"2024-01-01T00:00:00Z")
        self._write(f"{base}/hashstates/sha256/{len(data)}", b"\0" * 64)

    def image(self, repo: str, layers: list[bytes], config: dict) -> str:
        """Blobs, links and revision of one image; returns its manifest digest."""
        layer_refs = []
        for data in layers:
            digest = self.blob(data)
            self.layer_link(repo, digest)
            layer_refs.append({"mediaType": DOCKER_LAYER, "size": len(data), "digest": digest})
        config_bytes = json.dumps(config, sort_keys=True).encode()
        config_digest = self.blob(config_bytes)
        self.layer_link(repo, config_digest)
        manifest = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": DOCKER_CONFIG, "size": len(config_bytes), "digest": config_digest},
            "layers": layer_refs,
        }
        digest = self.blob(json.dumps(manifest, indent=3).encode())
        self.revision(repo, digest)
        return digest


def build(root: Path, blobs: int = 10_000, seed: int = 3) -> dict:
    """A registry tree of about ``blobs`` blobs, shaped like real ones: 8 images per repository,
    each with one or two of 40 shared base layers and 4 layers of its own (images on Docker Hub
    have 5 to 15 layers), every 4th tag moved once, plus orphans and abandoned uploads."""
    rng = random.Random(seed)
    writer = TreeWriter(root)
    bases = [rng.randbytes(rng.randint(2048, 8192)) for _ in range(40)]
    per_image = 6  # manifest, config, 4 own layers (the shared bases are counted once, above)
    repos = max(1, (blobs - len(bases) - 20) // (8 * per_image))
    images = 0
    for r in range(repos):
        repo = f"team{r % 16:02d}/app{r:04d}"
        digests = []
        for i in range(8):
            own = [rng.randbytes(rng.randint(256, 4096)) for _ in range(4)]
            layers = rng.sample(bases, rng.randint(1, 2)) + own
            config = {"architecture": "amd64", "os": "linux", "config": {"Env": [f"N={r}.{i}"]},
                      "rootfs": {"type": "layers", "diff_ids": [f"sha256:{rng.randbytes(32).hex()}"] * len(layers)}}
            digests.append(writer.image(repo, layers, config))
            images += 1
        for i, digest in enumerate(digests):
            history = (digests[i - 1],) if i % 4 == 3 else ()
            writer.tag(repo, f"v{i}", digest, history)
    for i in range(20):
        writer.blob(rng.randbytes(1024 + i))  # orphans
    for i in range(5):
        writer.upload(f"team00/app{i:04d}", f"{i:08d}-0000-4000-8000-000000000000", rng.randbytes(4096))
    return {"repositories": repos, "images": images}


def du_round(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    out = subprocess.run(["du", "-sb", str(root)], capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - start, int(out.split()[0])


def reglab_round(root: Path) -> tuple[float, storage.Tree]:
    """The model and its totals: blobs with kinds (from the manifests), repositories, tags,
    links, uploads, orphans; file count, physical, blob and logical bytes."""
    start = time.perf_counter()
    tree = storage.Tree.from_path(root)
    totals = (tree.file_count, tree.physical_bytes, tree.blob_count, tree.blob_bytes, tree.logical_bytes,
              tree.kinds(), len(tree.orphans()), len(tree.uploads()))
    elapsed = time.perf_counter() - start
    assert totals[0] > 0
    return elapsed, tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--blobs", type=int, default=10_000)
    parser.add_argument("--keep", help="build the tree in this folder and keep it")
    args = parser.parse_args()
    tmp = None
    if args.keep:
        root = Path(args.keep)
        if root.exists():
            shutil.rmtree(root)
    else:
        tmp = tempfile.mkdtemp(prefix="reglab-bench-storage-")
        root = Path(tmp) / "registry"
    try:
        start = time.perf_counter()
        shape = build(root, args.blobs)
        print(f"built a synthetic registry tree in {time.perf_counter() - start:.1f} s: "
              f"{shape['repositories']} repositories, {shape['images']} images")
        _, du_bytes = du_round(root)
        _, tree = reglab_round(root)  # warm-up for both: page cache, imports
        found = subprocess.run(["find", str(root), "-type", "f", "-printf", "%s\n"], capture_output=True,
                               text=True, check=True).stdout.split()
        print(f"reglab: {tree.blob_count} blobs, {tree.file_count} files, {tree.physical_bytes} bytes in files; "
              f"find: {len(found)} files, {sum(map(int, found))} bytes; du -sb: {du_bytes} bytes with folders")
        print(f"        {human(tree.blob_bytes)} of blobs, {human(tree.logical_bytes)} logical, "
              f"{len(tree.orphans())} orphans, {len(tree.uploads())} uploads, {len(tree.problems())} problems")
        du_times, ours = [], []
        for i in range(args.rounds):
            du_times.append(du_round(root)[0])
            ours.append(reglab_round(root)[0])
            print(f"round {i + 1}: du -sb {du_times[-1] * 1000:.1f} ms, reglab {ours[-1] * 1000:.1f} ms")
        ratios = [o / d for o, d in zip(ours, du_times)]
        print(f"median: du -sb {statistics.median(du_times) * 1000:.1f} ms, "
              f"reglab {statistics.median(ours) * 1000:.1f} ms")
        print(f"ratio reglab/du: {statistics.median(ratios):.2f}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
