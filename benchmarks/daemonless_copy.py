"""Push and pull a ~50 MB multi-layer image: reglab's daemonless engine vs ``skopeo copy``.

Both move the same image between the same OCI image layout and the same registry process
(Debian's ``docker-registry`` on 127.0.0.1): push (every round to a registry started on an
empty data folder, so every blob is uploaded — skopeo's blob-info cache would otherwise mount
blobs from earlier rounds' repositories instead), then pull into an empty OCI layout (every
blob downloaded and verified).
reglab does it in-process over HTTP (``LocalEngine.push``/``pull``); skopeo is what a
user without a Docker daemon would otherwise run. Rounds alternate (skopeo, reglab, …)
so drift hits both alike; the last line prints the ratio of the medians (below 1.0:
reglab is faster).

    REGLAB_OFFLINE=1 python benchmarks/daemonless_copy.py [--rounds 7] [--mb 50] [--layers 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def skopeo(*args: str) -> None:
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--quiet", *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--mb", type=int, default=50, help="image size in MB (random, incompressible)")
    parser.add_argument("--layers", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("REGLAB_OFFLINE", "1")
    work = Path(tempfile.mkdtemp(prefix="reglab-bench-daemonless-"))
    os.environ["REGLAB_STATE_DIR"] = str(work / "state")  # the benchmark's lab never meets a learner's

    from reglab import Lab, images, oci, ports
    from reglab.engines.local import LocalEngine
    from reglab.oci import ImageStore

    store = ImageStore(work / "store")
    size = args.mb * 1_000_000 // args.layers
    build = images.ImageBuild(
        ["bench/big:1"],
        [images.random_layer(f"data/{i}.bin", size, "daemonless-copy") for i in range(args.layers)],
        {"Cmd": ["/bin/true"]},
    )
    oci.write_layout([build], store.root)  # the synthetic image, in the store's own form
    engine = LocalEngine(store=store)
    lab = Lab("bench-daemonless", engine=engine, echo=False, ensure_images=False)
    try:
        port = ports.choose(5300)
        source = f"oci:{store.root}:bench/big:1"
        counter = iter(range(10_000))

        def fresh_registry():
            if lab.registry is not None:
                lab.remove_registry()
            return lab.run_registry(port=port)  # no volume: a new, empty data folder

        def reglab_round() -> tuple[float, float]:
            n = next(counter)
            target = fresh_registry().ref(f"reglab-{n}/big", "1")
            store.tag("bench/big:1", target)
            start = time.perf_counter()
            engine.images.push(target)
            pushed = time.perf_counter()
            fresh = work / f"pull-{n}"
            LocalEngine(store=ImageStore(fresh)).images.pull(target)
            done = time.perf_counter()
            shutil.rmtree(fresh)
            store.untag(target)
            return pushed - start, done - pushed

        def skopeo_round() -> tuple[float, float]:
            n = next(counter)
            target = fresh_registry().ref(f"skopeo-{n}/big", "1")
            start = time.perf_counter()
            skopeo("--dest-tls-verify=false", source, f"docker://{target}")
            pushed = time.perf_counter()
            fresh = work / f"pull-{n}"
            skopeo("--src-tls-verify=false", f"docker://{target}", f"oci:{fresh}:big")
            done = time.perf_counter()
            shutil.rmtree(fresh)
            return pushed - start, done - pushed

        skopeo_round(), reglab_round()  # warm-up: page cache, registry
        theirs, ours = [], []
        for i in range(args.rounds):
            theirs.append(skopeo_round())
            ours.append(reglab_round())
            print(f"round {i + 1}: skopeo push {theirs[-1][0]:.3f} s pull {theirs[-1][1]:.3f} s, "
                  f"reglab push {ours[-1][0]:.3f} s pull {ours[-1][1]:.3f} s")
        for label, index in (("push", 0), ("pull", 1)):
            s, r = statistics.median(t[index] for t in theirs), statistics.median(t[index] for t in ours)
            print(f"median {label}: skopeo {s:.3f} s, reglab {r:.3f} s")
        s, r = statistics.median(sum(t) for t in theirs), statistics.median(sum(t) for t in ours)
        print(f"median push+pull of {args.mb} MB in {args.layers} layers: skopeo {s:.3f} s, reglab {r:.3f} s")
        print(f"ratio reglab/skopeo: {r / s:.2f}")
    finally:
        lab.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
