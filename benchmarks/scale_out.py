"""Scale-out on one machine: K parallel clients pushing and pulling through 1, 2 and 3 replicas.

The set-up of notebook 07 as processes on 127.0.0.1 (prototypes/scale_out.py): one SeaweedFS
(`weed server -s3`), redis as the shared blob descriptor cache, R registry replicas with one
shared http.secret, nginx round-robin in front. Each of K client processes pushes N synthetic
images (two layers of --layer-mib MiB, unique bytes, then the config and the manifest) with the
upload sequence docker push uses (POST, PATCH, PUT), then pulls them back by tag (manifest, then
every blob, digests checked). Per replica count it prints push and pull throughput (images/s),
p50/p95 latency per image, the CPU seconds each process group used during the run (what limits
it), and the object store's S3 requests per push and per pull from SeaweedFS's own Prometheus
counter (`SeaweedFS_s3_request_total` on its -metricsPort). Last line:
``throughput 2 replicas / 1 replica: X`` (push + pull images per second).

    python benchmarks/scale_out.py [--clients 4] [--images 5] [--layer-mib 1] [--replicas 1,2,3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "prototypes"))
import scale_out as so


def client(index: int, images: int, layer_bytes: int, tag: str, base: str, out) -> None:
    pushes, pulls = [], []
    for i in range(images):
        layers = [so.random_bytes(layer_bytes, f"{tag}-{index}-{i}-{j}") for j in range(2)]
        t0 = time.monotonic()
        so.push_image(base, f"bench/{tag}-c{index}", f"v{i}", layers)
        pushes.append(time.monotonic() - t0)
    for i in range(images):
        t0 = time.monotonic()
        so.pull_image(base, f"bench/{tag}-c{index}", f"v{i}")
        pulls.append(time.monotonic() - t0)
    out.put((pushes, pulls))


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def run(procs: so.Procs, weed: list[so.Proc], redis: so.Proc, replicas: int, args, phase: str) -> dict:
    reps = so.start_replicas(procs, "2" if args.version == "2" else "3", replicas, secret="bench-secret", redis=True)
    nginx = so.start_nginx(procs, so.replica_addrs(replicas))
    groups = {"weed": [p.pid for p in weed], "redis": [redis.pid], "nginx": [nginx.pid] +
              [c.pid for c in psutil.Process(nginx.pid).children()], "registries": [r.pid for r in reps]}
    before = {g: cpu_seconds(p) for g, p in groups.items()}
    s3_before = so.s3_request_counts(so.P["weed_metrics"])
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    base = f"http://127.0.0.1:{so.P['nginx']}"
    workers = [ctx.Process(target=client, args=(i, args.images, args.layer_mib << 20, f"{phase}r{replicas}", base, out))
               for i in range(args.clients)]
    t0 = time.monotonic()
    for w in workers:
        w.start()
    results = [out.get(timeout=600) for _ in workers]
    wall = time.monotonic() - t0
    for w in workers:
        w.join()
    used = {g: cpu_seconds(p) - before[g] for g, p in groups.items()}
    s3_after = so.s3_request_counts(so.P["weed_metrics"])
    s3_delta = {k: s3_after.get(k, 0) - s3_before.get(k, 0) for k in s3_after}
    rss = {g: so.rss_mib(p) for g, p in groups.items()}
    pushes = [x for r in results for x in r[0]]
    pulls = [x for r in results for x in r[1]]
    for r in reps:
        procs.stop(r)
    procs.stop(nginx)
    return {"replicas": replicas, "wall": wall, "pushes": pushes, "pulls": pulls, "cpu": used,
            "s3": s3_delta, "rss": rss}


def per_op(procs: so.Procs, redis: so.Proc, args) -> None:
    """S3 requests of one push, then of one pull of the same image (one replica, redis cache)."""
    reps = so.start_replicas(procs, args.version, 1, secret="bench-secret", redis=True)
    base = f"http://127.0.0.1:{so.P['registry']}"
    layers = [so.random_bytes(args.layer_mib << 20, f"perop-{j}") for j in range(2)]
    c0 = so.s3_request_counts(so.P["weed_metrics"])
    so.push_image(base, "bench/perop", "v1", layers)
    c1 = so.s3_request_counts(so.P["weed_metrics"])
    so.pull_image(base, "bench/perop", "v1")
    c2 = so.s3_request_counts(so.P["weed_metrics"])
    for what, a, b in (("push", c0, c1), ("pull", c1, c2)):
        delta = {k: int(b.get(k, 0) - a.get(k, 0)) for k in b if b.get(k, 0) - a.get(k, 0)}
        print(f"S3 requests for one {what} (2 layers + config + manifest, registry {args.version}): "
              f"{sum(delta.values())} {dict(sorted(delta.items()))}", flush=True)
    for r in reps:
        procs.stop(r)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--images", type=int, default=5)
    parser.add_argument("--layer-mib", type=int, default=1)
    parser.add_argument("--replicas", default="1,2,3")
    parser.add_argument("--version", default="2", choices=["2", "3"])
    args = parser.parse_args(argv)
    counts = [int(x) for x in args.replicas.split(",")]
    rows = []
    with so.lab_run(f"bench-v{args.version}") as procs:
        weed, _, s3 = so.start_store(procs)
        so.weed_shell(f"s3.bucket.create -name {so.BUCKET}")
        so.wait_for("first PutObject", lambda: s3.request("PUT", f"/{so.BUCKET}/probe", data=b"x").status_code == 200,
                    timeout=60, every=0.25)
        redis = so.start_redis(procs)
        run(procs, weed, redis, 1, argparse.Namespace(**{**vars(args), "clients": 1, "images": 1}), "warm")
        per_op(procs, redis, args)
        for n in counts:
            before_children = psutil.Process().cpu_times()
            row = run(procs, weed, redis, n, args, "b")
            now = psutil.Process().cpu_times()
            row["clients_cpu"] = (now.children_user + now.children_system
                                  - before_children.children_user - before_children.children_system)
            rows.append(row)
            ops = len(row["pushes"]) + len(row["pulls"])
            print(f"registry {args.version}, {n} replica(s), {args.clients} clients x {args.images} images "
                  f"(2 x {args.layer_mib} MiB): wall {row['wall']:.1f} s, {ops / row['wall']:.2f} images/s "
                  f"(push p50 {statistics.median(row['pushes']):.2f} s p95 {p95(row['pushes']):.2f} s; "
                  f"pull p50 {statistics.median(row['pulls']):.2f} s p95 {p95(row['pulls']):.2f} s)", flush=True)
            cpu = ", ".join(f"{g} {s:.1f}" for g, s in row["cpu"].items())
            print(f"  CPU seconds during the run: {cpu}, clients {row['clients_cpu']:.1f} "
                  f"(of {2 * row['wall']:.1f} on 2 cores)", flush=True)
            n_push = len(row["pushes"])
            print(f"  S3 requests by type: {dict(sorted((k, int(v)) for k, v in row['s3'].items() if v))}; "
                  f"total per image pushed+pulled: {sum(row['s3'].values()) / n_push:.1f}", flush=True)
            print("  RSS MiB: " + ", ".join(f"{g} {m:.0f}" for g, m in row["rss"].items()), flush=True)
    by = {r["replicas"]: (len(r["pushes"]) + len(r["pulls"])) / r["wall"] for r in rows}
    if 1 in by and 2 in by:
        print(f"throughput 2 replicas / 1 replica: {by[2] / by[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
