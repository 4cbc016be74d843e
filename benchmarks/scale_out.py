"""Scale-out on one machine: K parallel clients pushing and pulling through 1, 2 and 3 replicas.

Notebook 07's set-up, built by its own steps (``lab.scale``) on the daemonless engine — one
SeaweedFS (``weed server -s3``), redis as the shared blob descriptor cache, R registry replicas with
one shared ``http.secret``, nginx round-robin in front, all processes on 127.0.0.1. Each of K
client processes pushes N synthetic images (two layers of --layer-mib MiB of their own, then the
config and the manifest: POST, PUT per blob, as reglab's client pushes) and then pulls them back
(manifest, then every blob, each hashed). Per registry version and replica count it prints the
throughput (images pushed + pulled per second), p50/p95 per image, the CPU seconds each group of
processes used during the run (what limits it), and the store's S3 requests per push and per pull
from SeaweedFS's own Prometheus counter (``SeaweedFS_s3_request_total`` on ``-metricsPort``). The
figures go to ``benchmarks/results/scale-out.json`` (notebook 07 plots them). Last line:
``throughput 2 replicas / 1 replica: X`` (the last registry version measured).

    python benchmarks/scale_out.py [--clients 4] [--images 5] [--layer-mib 1] [--replicas 1,2,3] [--versions 3,2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import statistics
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from reglab import Lab, images, ports
from reglab.engines.local import LocalEngine, records
from reglab.media import OCI_MANIFEST, digest_of
from reglab.registry_api import RegistryClient

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "scale-out.json"


def image(index: int, i: int, layer_bytes: int, tag: str) -> tuple[list[bytes], bytes, bytes]:
    layers = [images.random_layer(f"l{j}.bin", layer_bytes, f"{tag}-{index}-{i}-{j}").gzipped() for j in range(2)]
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                         "tag": f"{tag}-{index}-{i}"}).encode()
    return layers, config, images.oci_manifest(config, layers)


def client(index: int, count: int, layer_bytes: int, tag: str, address: str, out) -> None:
    api = RegistryClient(address, timeout=120)
    repo = f"bench/{tag}-c{index}"
    pushes, pulls = [], []
    built = [image(index, i, layer_bytes, tag) for i in range(count)]
    for i, (layers, config, manifest) in enumerate(built):
        t0 = time.perf_counter()
        for blob in [*layers, config]:
            api.upload(api.start_upload(repo), digest_of(blob), lambda o, n, b=blob: b[o:o + n], len(blob))
        api.put_manifest(repo, f"v{i}", manifest, OCI_MANIFEST)
        pushes.append(time.perf_counter() - t0)
    for i, (layers, config, _) in enumerate(built):
        t0 = time.perf_counter()
        got = api.manifest(repo, f"v{i}")
        for digest in [got.config, *got.layers]:
            if api.blob_digest(repo, digest) != digest:
                raise SystemExit(f"{repo}:v{i}: {digest} did not come back whole")
        pulls.append(time.perf_counter() - t0)
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


def s3_requests(port: int) -> dict[str, float]:
    """SeaweedFS's own counter of S3 requests, by type."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    counts: dict[str, float] = {}
    for m in re.finditer(r'^SeaweedFS_s3_request_total\{([^}]*)\} ([0-9.e+]+)$', text, re.MULTILINE):
        kind = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1))).get("type", "?")
        counts[kind] = counts.get(kind, 0) + float(m.group(2))
    return counts


def groups(lab: Lab) -> dict[str, list[int]]:
    """The processes of each part, from the daemonless engine's records."""
    found: dict[str, list[int]] = {"weed": [], "redis": [], "nginx": [], "registries": []}
    for c in records.of(lab.settings.state_dir, lab.scope):
        pid = c.pid()
        if pid is None:
            continue
        kind = ("registries" if c.kind == "registry" else "weed" if "seaweedfs" in c.image
                else "redis" if "redis" in c.image else "nginx")
        found[kind].append(pid)
    return found


def measure(lab: Lab, replicas: int, args, tag: str, metrics: int) -> dict:
    balancer = lab.scale.run_replicas(replicas, secret="shared", cache=True)
    parts = groups(lab)
    before = {g: cpu_seconds(p) for g, p in parts.items()}
    s3_before = s3_requests(metrics)
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    workers = [ctx.Process(target=client, args=(i, args.images, args.layer_mib << 20, f"{tag}r{replicas}",
                                                 balancer.address, out)) for i in range(args.clients)]
    mine = psutil.Process().cpu_times()
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    results = [out.get(timeout=900) for _ in workers]
    wall = time.perf_counter() - t0
    for w in workers:
        w.join()
    now = psutil.Process().cpu_times()
    used = {g: cpu_seconds(p) - before[g] for g, p in parts.items()}
    used["clients"] = now.children_user + now.children_system - mine.children_user - mine.children_system
    s3 = {k: v - s3_before.get(k, 0) for k, v in s3_requests(metrics).items() if v - s3_before.get(k, 0)}
    pushes = [x for r in results for x in r[0]]
    pulls = [x for r in results for x in r[1]]
    return {"replicas": replicas, "wall": wall, "images_per_s": (len(pushes) + len(pulls)) / wall,
            "push_p50": statistics.median(pushes), "push_p95": p95(pushes),
            "pull_p50": statistics.median(pulls), "pull_p95": p95(pulls),
            "cpu": {k: round(v, 2) for k, v in used.items()}, "s3": s3}


def per_operation(lab: Lab, args, metrics: int) -> dict[str, dict[str, int]]:
    """The store's S3 requests for one push, then for one pull of that image (one replica, cache warm)."""
    balancer = lab.scale.run_replicas(1, secret="shared", cache=True)
    api = RegistryClient(balancer.address, timeout=120)
    layers, config, manifest = image(0, 0, args.layer_mib << 20, "perop")
    c0 = s3_requests(metrics)
    for blob in [*layers, config]:
        api.upload(api.start_upload("bench/perop"), digest_of(blob), lambda o, n, b=blob: b[o:o + n], len(blob))
    api.put_manifest("bench/perop", "v1", manifest, OCI_MANIFEST)
    c1 = s3_requests(metrics)
    for digest in [digest_of(config), *map(digest_of, layers)]:
        api.blob_digest("bench/perop", digest)
    c2 = s3_requests(metrics)
    return {what: {k: int(b.get(k, 0) - a.get(k, 0)) for k in b if b.get(k, 0) - a.get(k, 0)}
            for what, a, b in (("push", c0, c1), ("pull", c1, c2))}


def run_version(version: str, args) -> tuple[list[dict], dict]:
    engine = LocalEngine()
    image_ref = f"registry:{version}"
    lab = Lab(f"bench-scale-{version}", engine=engine, echo=False)
    try:
        metrics = ports.choose(19500)
        lab.scale.run_store(port=ports.choose(18333), extra=(f"-metricsPort={metrics}",))
        lab.scale.create_bucket()
        lab.scale.run_cache()
        lab.scale.image = image_ref
        measure(lab, 1, argparse.Namespace(**{**vars(args), "clients": 1, "images": 1}), "warm", metrics)
        operations = per_operation(lab, args, metrics)
        for what, counts in operations.items():
            print(f"registry {version}: S3 requests for one {what} (2 layers + config + manifest): "
                  f"{sum(counts.values())} {dict(sorted(counts.items()))}", flush=True)
        rows = []
        for n in [int(x) for x in args.replicas.split(",")]:
            row = measure(lab, n, args, "b", metrics)
            row["registry"] = version
            rows.append(row)
            print(f"registry {version}, {n} replica(s), {args.clients} clients x {args.images} images "
                  f"(2 x {args.layer_mib} MiB): wall {row['wall']:.1f} s, {row['images_per_s']:.2f} images/s "
                  f"(push p50 {row['push_p50']:.2f} s p95 {row['push_p95']:.2f} s; "
                  f"pull p50 {row['pull_p50']:.2f} s p95 {row['pull_p95']:.2f} s)", flush=True)
            print(f"  CPU seconds: {', '.join(f'{g} {s:.1f}' for g, s in row['cpu'].items())} "
                  f"(of {os.cpu_count() * row['wall']:.1f} on {os.cpu_count()} cores)", flush=True)
            print(f"  S3 requests: {dict(sorted((k, int(v)) for k, v in row['s3'].items()))}", flush=True)
        return rows, operations
    finally:
        lab.cleanup()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--images", type=int, default=5)
    parser.add_argument("--layer-mib", type=int, default=1)
    parser.add_argument("--replicas", default="1,2,3")
    parser.add_argument("--versions", default="3,2")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    pressure = Path("/proc/pressure/cpu")
    before = pressure.read_text().split()[1] if pressure.exists() else "?"
    runs, operations, ratio = [], {}, None
    for version in args.versions.split(","):
        rows, operations[version] = run_version(version, args)
        runs += rows
        by = {r["replicas"]: r["images_per_s"] for r in rows}
        if 1 in by and 2 in by:
            ratio = by[2] / by[1]
        one = next((r for r in rows if r["replicas"] == 1), None)
        if one:  # what one image (a push or a pull) costs each part: the paper estimate for separate hosts
            ops = one["images_per_s"] * one["wall"]
            cost = {g: one["cpu"].get(g, 0) / ops for g in ("weed", "registries", "clients")}
            print(f"registry {version}: CPU seconds per image: store {cost['weed']:.3f}, "
                  f"replica {cost['registries']:.3f}, "
                  f"client {cost['clients']:.3f}; a core carries {1 / cost['registries']:.0f} images/s in a replica, "
                  f"{1 / cost['weed']:.0f} in the store", flush=True)
            one["cpu_per_image"] = {g: round(c, 4) for g, c in cost.items()}
    after = pressure.read_text().split()[1] if pressure.exists() else "?"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": f"{os.cpu_count()} cores, {platform.machine()}",
                               "cpu_pressure": {"before": before, "after": after}, "clients": args.clients,
                               "images": args.images,
                               "layer_mib": args.layer_mib, "runs": runs, "s3_requests_per": operations},
                              indent=1) + "\n")
    print(f"(figures written to {out})")
    if ratio is not None:
        print(f"throughput 2 replicas / 1 replica: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
