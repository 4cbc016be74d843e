"""Prototype for notebook 07 (issue 23): object storage, replicas behind nginx, a shared cache.

Live, on this machine only (127.0.0.1, or a lab network of a Docker daemon of our own). Every
experiment prints the exact commands it ran and what came back; docs/scale-out-notes.md quotes
these runs. Nothing here is library code: the lead turns the findings into reglab's steps.

    python prototypes/scale_out.py PART [--mode process|docker] [--version 2|3] ...

PART: weed-compare | layout | secret | sticky | cache | killpull | gc | all
--mode docker needs DOCKER_HOST pointing at a daemon of our own (tests/second_dockerd.py) and
the stand-in images from src/reglab/service_images.py (loaded by `images`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
from requests_aws4auth import AWS4Auth

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

WEED = Path(os.environ.get("REGLAB_WEED_BIN",
                           "/root/.cache/reglab/tools/weed-v0.0.0-20261109003541-7506e5f91cd6/weed"))
REGISTRY_BIN = {"2": Path(os.environ.get("REGLAB_REGISTRY_BIN", "/usr/bin/docker-registry")),
                "3": Path(os.environ.get("REGLAB_REGISTRY3_BIN", "/root/.cache/reglab-probe/registry"))}
NGINX = Path("/usr/sbin/nginx")
REDIS = Path("/usr/bin/redis-server")
REDIS_CLI = Path("/usr/bin/redis-cli")

# our own ports on 127.0.0.1. weed's gRPC ports are these + 10000: they must stay below the
# ephemeral range (32768-60999 here), or a client's outgoing port may hold one ("bind: address
# already in use" at weed's start, seen with 47888 -> 57888)
P = dict(master=21333, volume=21080, filer=21888, s3=21800, weed_metrics=21901, s3_metrics=21902,
         redis=21379, nginx=21500, registry=21501)
P = {k: v + int(os.environ.get("SCALEOUT_PORT_SHIFT", "0")) for k, v in P.items()}  # two experiments side by side
BUCKET = "registry"
REGION = "us-east-1"
ACCESS_KEY = "reglab"
SECRET_KEY = os.environ.get("SCALEOUT_S3_SECRET") or secrets.token_hex(16)  # never printed
LAB = "scaleout"

RUN = Path(os.environ.get("SCALEOUT_DIR", "/tmp/scaleout/run"))


def say(*parts) -> None:
    print(*parts, flush=True)


def shown(cmd: list[str] | str) -> str:
    text = cmd if isinstance(cmd, str) else " ".join(cmd)
    text = re.sub(r"REGISTRY_HTTP_SECRET=\S+", "REGISTRY_HTTP_SECRET=<secret>", text)
    return text.replace(SECRET_KEY, "<secret>")


def wait_for(what: str, probe, timeout: float = 30.0, every: float = 0.05) -> float:
    """Call probe() until it returns truthy; the seconds it took, or RuntimeError."""
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < timeout:
        try:
            if probe():
                return time.monotonic() - t0
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(every)
    raise RuntimeError(f"{what} not ready after {timeout}s ({last})")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            total += proc.memory_info().rss
            for child in proc.children(recursive=True):
                total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


# ----------------------------------------------------------------------------- processes


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass
class Procs:
    """Processes we started, stopped in reverse order (SIGTERM, then SIGKILL after `grace`)."""

    run: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> Proc:
        log = self.run / f"{name}.log"
        say(f"$ {shown(cmd)}")
        # AWS_* of this shell stay out: Debian's registry 2.8.2 panics at start when AWS_CA_BUNDLE is set
        # ("LoadCustomCABundleError: unable to load custom CA bundle, HTTPClient's transport unsupported type")
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or os.environ.get("SCALEOUT_KEEP_AWS_ENV")}
        with open(log, "ab") as out:
            popen = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**base, **(env or {})}, cwd=cwd or self.run)
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def stop(self, proc: Proc, grace: float = 5.0, sig: int = signal.SIGTERM) -> float:
        t0 = time.monotonic()
        if proc.alive():
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.popen.wait()
        if proc in self.started:
            self.started.remove(proc)
        return time.monotonic() - t0

    def kill9(self, proc: Proc) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.popen.wait()

    def stop_all(self) -> None:
        for proc in reversed(list(self.started)):
            self.stop(proc, grace=3.0)


# ----------------------------------------------------------------------------- SeaweedFS


WEED_EXTRA: list[str] = []  # more flags for `weed server` (an experiment sets them)


def weed_common() -> list[str]:
    return ["-ip=127.0.0.1", "-ip.bind=127.0.0.1"]


def start_weed_server(procs: Procs, data: Path) -> list[Proc]:
    """All in one process: master + volume + filer + S3 gateway (`weed server -s3`)."""
    data.mkdir(parents=True, exist_ok=True)
    cmd = [str(WEED), "server", f"-dir={data}", *weed_common(),
           f"-master.port={P['master']}", "-master.volumeSizeLimitMB=64", "-master.telemetry=false",
           f"-volume.port={P['volume']}", "-volume.max=0", "-volume.preStopSeconds=0",
           "-filer", f"-filer.port={P['filer']}",
           "-s3", f"-s3.port={P['s3']}", "-s3.port.iceberg=0", "-s3.port.lance=0",
           f"-metricsPort={P['weed_metrics']}", *WEED_EXTRA]
    env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    return [procs.start("weed-server", cmd, env=env)]


def start_weed_split(procs: Procs, data: Path) -> list[Proc]:
    """The four processes a real deployment runs: master, volume, filer, S3 gateway."""
    for d in ("master", "volume", "filer"):
        (data / d).mkdir(parents=True, exist_ok=True)
    master = f"127.0.0.1:{P['master']}"
    out = [procs.start("weed-master", [str(WEED), "master", f"-mdir={data / 'master'}", *weed_common(),
                                       f"-port={P['master']}", "-volumeSizeLimitMB=64", "-telemetry=false"])]
    out.append(procs.start("weed-volume", [str(WEED), "volume", f"-dir={data / 'volume'}", *weed_common(),
                                           f"-master={master}", f"-port={P['volume']}", "-max=0",
                                           "-preStopSeconds=0"]))
    out.append(procs.start("weed-filer", [str(WEED), "filer", f"-defaultStoreDir={data / 'filer'}", *weed_common(),
                                          f"-master={master}", f"-port={P['filer']}"]))
    env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    out.append(procs.start("weed-s3", [str(WEED), "s3", f"-filer=127.0.0.1:{P['filer']}", "-ip.bind=127.0.0.1",
                                       f"-port={P['s3']}", "-port.iceberg=0", "-port.lance=0",
                                       f"-metricsPort={P['s3_metrics']}"], env=env))
    return out


class S3:
    """The S3 API of the store, signed with SigV4 (requests-aws4auth)."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip("/")
        self.auth = AWS4Auth(ACCESS_KEY, SECRET_KEY, REGION, "s3")

    def request(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, self.endpoint + path, auth=self.auth, timeout=30, **kw)

    def ready(self) -> bool:
        """ListBuckets answers 200 (the S3 gateway is up and knows our key)."""
        return self.request("GET", "/").status_code == 200

    def create_bucket(self, name: str = BUCKET) -> requests.Response:
        return self.request("PUT", f"/{name}")

    def keys(self, bucket: str = BUCKET, prefix: str = "") -> list[tuple[str, int]]:
        out, token = [], None
        while True:
            params = {"list-type": "2", "prefix": prefix}
            if token:
                params["continuation-token"] = token
            r = self.request("GET", f"/{bucket}", params=params)
            r.raise_for_status()
            out += [(m.group(1), int(m.group(2))) for m in
                    re.finditer(r"<Key>([^<]+)</Key>.*?<Size>(\d+)</Size>", r.text, re.DOTALL)]
            m = re.search(r"<NextContinuationToken>([^<]+)</NextContinuationToken>", r.text)
            if "<IsTruncated>true</IsTruncated>" not in r.text or not m:
                return out
            token = m.group(1)


def weed_shell(command: str) -> str:
    cmd = [str(WEED), "shell", f"-master=127.0.0.1:{P['master']}"]
    say(f"$ echo '{command}' | {' '.join(cmd)}")
    r = subprocess.run(cmd, input=command + "\n", capture_output=True, text=True, timeout=60)
    return r.stdout + r.stderr


def s3_request_counts(port: int) -> dict[str, float]:
    """SeaweedFS's own Prometheus counter of S3 requests, by action (SeaweedFS_s3_request_total)."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    counts: dict[str, float] = {}
    for m in re.finditer(r'^SeaweedFS_s3_request_total\{([^}]*)\} ([0-9.e+]+)$', text, re.MULTILINE):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        key = labels.get("type", "?")
        counts[key] = counts.get(key, 0) + float(m.group(2))
    return counts


# ----------------------------------------------------------------------------- registries, redis, nginx


def registry_config(version: str, port: int, *, secret: str | None, redis: bool, readonly: bool = False,
                    endpoint: str | None = None, redis_addr: str | None = None, listen: str = "127.0.0.1") -> str:
    endpoint = endpoint or f"http://127.0.0.1:{P['s3']}"
    redis_addr = redis_addr or f"127.0.0.1:{P['redis']}"
    s3 = {"accesskey": ACCESS_KEY, "secretkey": SECRET_KEY, "region": REGION, "regionendpoint": endpoint,
          "bucket": BUCKET, "secure": False, "v4auth": True, "rootdirectory": "/"}
    if version == "3":
        s3["forcepathstyle"] = True
    storage = {"s3": s3, "delete": {"enabled": True}, "redirect": {"disable": True},
               "maintenance": {"uploadpurging": {"enabled": False}, "readonly": {"enabled": readonly}}}
    if redis:
        storage["cache"] = {"blobdescriptor": "redis"}
    config = {"version": 0.1, "log": {"level": "info", "fields": {"replica": str(port)}},
              "storage": storage, "http": {"addr": f"{listen}:{port}"}}
    if secret:
        config["http"]["secret"] = secret
    if redis:
        config["redis"] = {"addrs": [redis_addr]} if version == "3" else {"addr": redis_addr}
    return json.dumps(config, indent=1)  # JSON is YAML


def start_registry(procs: Procs, version: str, port: int, **kw) -> Proc:
    cfg = procs.run / f"registry-{port}.yml"
    cfg.write_text(registry_config(version, port, **kw))
    cfg.chmod(0o600)
    env = {"OTEL_TRACES_EXPORTER": "none"} if version == "3" else {}
    proc = procs.start(f"registry-{port}", [str(REGISTRY_BIN[version]), "serve", str(cfg)], env=env)
    return proc


def registry_ready(port: int, timeout: float = 20) -> float:
    return wait_for(f"registry {port}", lambda: requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code == 200,
                    timeout)


def start_redis(procs: Procs) -> Proc:
    conf = procs.run / "redis.conf"
    conf.write_text(f"bind 127.0.0.1\nport {P['redis']}\ndir {procs.run}\nsave \"\"\nappendonly no\n"
                    "protected-mode yes\n")
    proc = procs.start("redis", [str(REDIS), str(conf)])
    wait_for("redis", lambda: port_open(P["redis"]))
    return proc


def redis_cli(*args: str) -> str:
    cmd = [str(REDIS_CLI), "-p", str(P["redis"]), *args]
    say(f"$ {' '.join(cmd)}")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout


NGINX_CONF = """\
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/nginx-error.log info;
daemon off;
events {{ worker_connections 256; }}
http {{
  log_format upstreamlog '$remote_addr "$request" $status $body_bytes_sent upstream=$upstream_addr '
                         'upstream_status=$upstream_status rt=$request_time';
  access_log {run}/nginx-access.log upstreamlog;
  client_body_temp_path {run}/nginx-body;
  proxy_temp_path {run}/nginx-proxy;
  fastcgi_temp_path {run}/nginx-fastcgi;
  uwsgi_temp_path {run}/nginx-uwsgi;
  scgi_temp_path {run}/nginx-scgi;
  upstream registry {{
{balance}
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 0;
    chunked_transfer_encoding on;
    location /v2/ {{
      proxy_pass http://registry;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 900;
      proxy_request_buffering off;
      proxy_buffering {buffering};
      proxy_next_upstream {next_upstream};
      limit_rate {limit_rate};
{extra}
    }}
  }}
}}
"""


def nginx_conf(run: Path, replicas: list[str], *, balance: str = "", next_upstream: str = "error timeout",
               buffering: str = "off", port: int | None = None, limit_rate: str = "0", extra: str = "") -> str:
    servers = "\n".join(f"    server {r};" for r in replicas)
    return NGINX_CONF.format(run=run, balance=f"    {balance};" if balance else "", servers=servers,
                             port=port or P["nginx"], next_upstream=next_upstream, buffering=buffering,
                             limit_rate=limit_rate, extra=extra)


def start_nginx(procs: Procs, replicas: list[str], **kw) -> Proc:
    conf = procs.run / "nginx.conf"
    conf.write_text(nginx_conf(procs.run, replicas, **kw))
    proc = procs.start("nginx", [str(NGINX), "-c", str(conf), "-e", str(procs.run / "nginx-error.log")])

    def up() -> bool:
        if not proc.alive():
            raise SystemExit("nginx stopped: " + proc.log.read_text())
        return port_open(P["nginx"])
    wait_for("nginx", up)
    return proc


# ----------------------------------------------------------------------------- an HTTP client doing the upload sequence


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Step:
    method: str
    path: str
    status: int
    body: str


def push_blob(base: str, repo: str, data: bytes, chunk: int | None = None, log: list[Step] | None = None,
              session: requests.Session | None = None) -> str:
    """POST /blobs/uploads/, PATCH (one or more chunks), PUT ?digest= — as docker push does."""
    s = session or requests.Session()
    log = log if log is not None else []

    def rec(r: requests.Response, method: str, path: str) -> requests.Response:
        log.append(Step(method, path.split("?")[0], r.status_code, r.text.strip()[:300]))
        return r

    digest = sha(data)
    r = rec(s.post(f"{base}/v2/{repo}/blobs/uploads/", timeout=60), "POST", f"/v2/{repo}/blobs/uploads/")
    if r.status_code != 202:
        raise RuntimeError(f"POST {r.status_code} {r.text.strip()}")
    location = r.headers["Location"]
    if location.startswith("/"):
        location = base + location
    pieces = [data] if not chunk else [data[i:i + chunk] for i in range(0, len(data), chunk)]
    offset = 0
    for piece in pieces:
        headers = {"Content-Type": "application/octet-stream",
                   "Content-Range": f"{offset}-{offset + len(piece) - 1}"}
        r = rec(s.patch(location, data=piece, headers=headers, timeout=60), "PATCH", location)
        if r.status_code != 202:
            raise RuntimeError(f"PATCH {r.status_code} {r.text.strip()}")
        location = r.headers["Location"]
        if location.startswith("/"):
            location = base + location
        offset += len(piece)
    sep = "&" if "?" in location else "?"
    r = rec(s.put(f"{location}{sep}digest={digest}", timeout=60), "PUT", location)
    if r.status_code != 201:
        raise RuntimeError(f"PUT {r.status_code} {r.text.strip()}")
    return digest


def push_image(base: str, repo: str, tag: str, layers: list[bytes], log: list[Step] | None = None,
               chunk: int | None = None) -> str:
    s = requests.Session()
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
                         "diff_ids": [sha(x) for x in layers]}}).encode()
    for blob in [*layers, config]:
        push_blob(base, repo, blob, chunk=chunk, log=log, session=s)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": sha(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                       "digest": sha(x), "size": len(x)} for x in layers]}).encode()
    r = s.put(f"{base}/v2/{repo}/manifests/{tag}", data=manifest, timeout=60,
              headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    if log is not None:
        log.append(Step("PUT", f"/v2/{repo}/manifests/{tag}", r.status_code, r.text.strip()[:300]))
    if r.status_code != 201:
        raise RuntimeError(f"manifest PUT {r.status_code} {r.text.strip()}")
    return sha(manifest)


def pull_image(base: str, repo: str, ref: str, session: requests.Session | None = None) -> int:
    s = session or requests.Session()
    accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
    r = s.get(f"{base}/v2/{repo}/manifests/{ref}", headers={"Accept": accept}, timeout=60)
    r.raise_for_status()
    manifest = r.json()
    total = 0
    for d in [manifest["config"], *manifest["layers"]]:
        b = s.get(f"{base}/v2/{repo}/blobs/{d['digest']}", timeout=60)
        b.raise_for_status()
        if sha(b.content) != d["digest"]:
            raise RuntimeError(f"digest mismatch for {d['digest']}")
        total += len(b.content)
    return total


def random_bytes(size: int, seed) -> bytes:
    return random.Random(seed).randbytes(size)


# ----------------------------------------------------------------------------- Docker mode


def docker(*args: str, check: bool = True, timeout: float = 300, show: bool = True) -> subprocess.CompletedProcess:
    cmd = ["docker", *args]
    if show:
        say(f"$ {shown(cmd)}")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{shown(cmd)} failed: {r.stderr.strip()}")
    return r


def docker_client():
    import docker as docker_sdk

    return docker_sdk.from_env(timeout=300)


def load_standin_images() -> None:
    from reglab import images, service_images

    client = docker_client()
    for name, build in (("registry:2", lambda: images.registry_standin_archive("registry:2")),
                        ("chrislusf/seaweedfs", service_images.seaweedfs_standin_archive),
                        ("nginx", service_images.nginx_standin_archive),
                        ("redis", service_images.redis_standin_archive)):
        t0 = time.monotonic()
        client.images.load(build())
        say(f"loaded {name} stand-in in {time.monotonic() - t0:.1f} s")
    if REGISTRY_BIN["3"].exists():
        t0 = time.monotonic()
        client.images.load(registry3_standin_archive())
        say(f"loaded registry:3 stand-in in {time.monotonic() - t0:.1f} s")


def registry3_standin_archive() -> bytes:
    """registry:3 look-alike for the prototype (the other helper builds the real one in images.py)."""
    from reglab import images

    os.environ["REGLAB_REGISTRY_BIN"] = str(REGISTRY_BIN["3"])
    try:
        archive = images.registry_standin_archive("registry:3")
    finally:
        os.environ.pop("REGLAB_REGISTRY_BIN", None)
    return archive


# ----------------------------------------------------------------------------- experiments (process mode)


@contextmanager
def lab_run(name: str):
    """A fresh folder of our own for one experiment; every process stopped and the folder removed after."""
    run = RUN / name
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    procs = Procs(run)
    try:
        yield procs
    finally:
        procs.stop_all()
        if not os.environ.get("SCALEOUT_KEEP"):
            shutil.rmtree(run, ignore_errors=True)


def start_store(procs: Procs, kind: str = "server") -> tuple[list[Proc], float, S3]:
    t0 = time.monotonic()
    weed = start_weed_server(procs, procs.run / "s3data") if kind == "server" else \
        start_weed_split(procs, procs.run / "s3data")
    s3 = S3(f"http://127.0.0.1:{P['s3']}")

    def ready() -> bool:
        for p in weed:
            if not p.alive():
                raise SystemExit(f"{p.name} stopped:\n" + p.log.read_text(errors="replace")[-3000:])
        return s3.ready()
    wait_for("S3 gateway", ready, timeout=60)
    return weed, time.monotonic() - t0, s3


def exp_weed_compare(args) -> None:
    """weed server -s3 (one process) vs master + volume + filer + s3: start time, RSS, stop time."""
    for kind in ("server", "split") * args.repeat:
        with lab_run(f"weed-{kind}") as procs:
            weed, started, s3 = start_store(procs, kind)
            r = s3.create_bucket()
            t_bucket = time.monotonic()
            attempts = []

            def put_ok() -> bool:
                attempts.append(s3.request("PUT", f"/{BUCKET}/probe", data=b"x" * 1024).status_code)
                return attempts[-1] == 200
            waited = wait_for("first PutObject", put_ok, timeout=60, every=0.25)
            time.sleep(1)
            rss = rss_mib([p.pid for p in weed])
            say(f"RESULT weed {kind}: processes={len(weed)} ListBuckets 200 after {started:.2f} s; "
                f"CreateBucket {r.status_code}; first PutObject 200 {waited:.2f} s later "
                f"(answers before: {sorted(set(attempts[:-1]))}); RSS {rss:.0f} MiB; "
                f"data folder {sum(f.stat().st_size for f in (procs.run / 's3data').rglob('*') if f.is_file()) / 2**20:.1f} MiB")
            t0 = time.monotonic()
            for p in reversed(weed):
                procs.stop(p, grace=60)
            say(f"RESULT weed {kind}: stopped (SIGTERM) in {time.monotonic() - t0:.2f} s")


def exp_bucket(args) -> None:
    """Who creates the bucket: the registry's driver? weed's autoCreateBucket? weed shell? S3 PUT?"""
    v = args.version
    for autocreate in (True, False):
        WEED_EXTRA[:] = [] if autocreate else ["-s3.autoCreateBucket=false"]
        with lab_run(f"bucket-v{v}") as procs:
            _, _, s3 = start_store(procs)
            say(f"# registry {v} on a store without the bucket; -s3.autoCreateBucket={str(autocreate).lower()}")
            reg = start_registry(procs, v, P["registry"], secret="s", redis=False)
            try:
                say(f"registry /v2/ answers 200 after {registry_ready(P['registry'], timeout=10):.2f} s")
            except RuntimeError as exc:
                say(f"registry not ready: {exc}")
            log: list[Step] = []
            try:
                push_image(f"http://127.0.0.1:{P['registry']}", "probe/app", "v1", [random_bytes(1024, 1)], log=log)
                say("push without a bucket: worked")
            except RuntimeError as exc:
                say(f"push without a bucket failed: {exc}")
            for step in log:
                say(f"  {step.method} {step.path} -> {step.status} {step.body[:300]}")
            say("S3 buckets now:", re.findall(r"<Name>([^<]+)</Name>", s3_list_buckets()))
            say(grep_log(reg.log, r"level=(error|warn)|panic|NoSuchBucket|bucket", 6))
            if not autocreate:
                say("# the bucket made with weed shell, then the same push")
                say(weed_shell(f"s3.bucket.create -name {BUCKET}").strip())
                say(weed_shell("s3.bucket.list").strip())
                log.clear()
                push_image(f"http://127.0.0.1:{P['registry']}", "probe/app", "v1", [random_bytes(1024, 1)], log=log)
                say("push after weed shell s3.bucket.create: worked", [f"{x.method} {x.status}" for x in log])
            procs.stop(reg)
    WEED_EXTRA.clear()


def s3_list_buckets() -> str:
    return S3(f"http://127.0.0.1:{P['s3']}").request("GET", "/").text


def grep_log(path: Path, pattern: str, limit: int = 20) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if re.search(pattern, line)]
    return "\n".join(f"  | {line[:400]}" for line in lines[:limit]) or "  | (no such lines)"


def exp_driver_names(args) -> None:
    """Which storage driver names each registry accepts; v3 without forcepathstyle."""
    with lab_run("driver-names") as procs:
        _, _, s3 = start_store(procs)
        s3.create_bucket()
        for v in ("2", "3"):
            for name in ("s3", "s3-aws", "s3aws"):
                cfg = json.loads(registry_config(v, P["registry"], secret="s", redis=False))
                cfg["storage"][name] = cfg["storage"].pop("s3")
                path = procs.run / f"r{v}-{name}.yml"
                path.write_text(json.dumps(cfg))
                env = {"OTEL_TRACES_EXPORTER": "none"} if v == "3" else {}
                reg = procs.start(f"r{v}-{name}", [str(REGISTRY_BIN[v]), "serve", str(path)], env=env)
                try:
                    registry_ready(P["registry"], timeout=5)
                    say(f"RESULT registry {v} storage.{name}: starts")
                except RuntimeError:
                    say(f"RESULT registry {v} storage.{name}: does not start:\n" + grep_log(reg.log, r".", 3))
                procs.stop(reg)
        say("# registry 3 without forcepathstyle")
        cfg = json.loads(registry_config("3", P["registry"], secret="s", redis=False))
        cfg["storage"]["s3"].pop("forcepathstyle")
        path = procs.run / "r3-nopathstyle.yml"
        path.write_text(json.dumps(cfg))
        reg = procs.start("r3-nopathstyle", [str(REGISTRY_BIN["3"]), "serve", str(path)], env={"OTEL_TRACES_EXPORTER": "none"})
        registry_ready(P["registry"], timeout=10)
        log: list[Step] = []
        try:
            push_image(f"http://127.0.0.1:{P['registry']}", "probe/app", "v1", [random_bytes(1024, 1)], log=log)
            say("RESULT v3 without forcepathstyle: push worked")
        except RuntimeError as exc:
            say(f"RESULT v3 without forcepathstyle: push failed: {exc}")
        say(grep_log(reg.log, r"level=error", 2))
        procs.stop(reg)


def exp_layout(args) -> None:
    """Push one image to a registry on S3 and to one on a folder: the bucket's keys = the folder's files."""
    v = args.version
    with lab_run(f"layout-v{v}") as procs:
        _, _, s3 = start_store(procs)
        say(weed_shell(f"s3.bucket.create -name {BUCKET}").strip())
        start_registry(procs, v, P["registry"], secret="s", redis=False)
        registry_ready(P["registry"])
        fs_cfg = procs.run / "registry-fs.yml"
        fs_cfg.write_text(json.dumps({"version": 0.1, "log": {"level": "info"},
                                      "storage": {"filesystem": {"rootdirectory": str(procs.run / "fsroot")},
                                                  "delete": {"enabled": True}},
                                      "http": {"addr": f"127.0.0.1:{P['registry'] + 9}", "secret": "s"}}))
        procs.start("registry-fs", [str(REGISTRY_BIN[v]), "serve", str(fs_cfg)],
                    env={"OTEL_TRACES_EXPORTER": "none"})
        registry_ready(P["registry"] + 9)
        layers = [random_bytes(300_000, "base"), random_bytes(100_000, "app")]
        for port in (P["registry"], P["registry"] + 9):
            push_image(f"http://127.0.0.1:{port}", "team/app", "v1", layers)
        keys = s3.keys()
        files = sorted(str(f.relative_to(procs.run / "fsroot")) for f in (procs.run / "fsroot").rglob("*") if f.is_file())
        say(f"RESULT bucket keys: {len(keys)}; folder files: {len(files)}; same paths: {sorted(k for k, _ in keys) == files}")
        for key, size in sorted(keys):
            say(f"  {size:>8}  {key}")
        say(weed_shell(f"fs.ls -l /buckets/{BUCKET}/docker/registry/v2").strip())


def start_replicas(procs: Procs, v: str, n: int, *, secret: str | None, redis: bool = False,
                   different_secrets: bool = False, readonly: bool = False) -> list[Proc]:
    out = []
    for i in range(n):
        port = P["registry"] + i
        sec = f"{secret}-{i}" if different_secrets and secret else secret
        out.append(start_registry(procs, v, port, secret=sec, redis=redis, readonly=readonly))
    for i in range(n):
        registry_ready(P["registry"] + i)
    return out


def replica_addrs(n: int) -> list[str]:
    return [f"127.0.0.1:{P['registry'] + i}" for i in range(n)]


def docker_available() -> bool:
    return bool(os.environ.get("DOCKER_HOST")) and shutil.which("docker") is not None


def load_synthetic(ref: str, sizes: list[int], seed) -> None:
    from reglab.images import docker_archive, random_layer, synthetic_image

    layers = [random_layer(f"layer{i}.bin", size, f"{seed}-{i}") for i, size in enumerate(sizes)]
    docker_client().images.load(docker_archive([synthetic_image(ref, layers)]))


def docker_push(ref: str) -> tuple[int, str, float]:
    t0 = time.monotonic()
    r = docker("push", ref, check=False, timeout=600)
    return r.returncode, (r.stdout + r.stderr).strip(), time.monotonic() - t0


def nginx_upstreams(run: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    log = run / "nginx-access.log"
    if log.exists():
        for m in re.finditer(r"upstream=(\S+)", log.read_text()):
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def http_pushes(base: str, m: int, seed: str, layers: int = 2, size: int = 64 * 1024) -> tuple[int, list[str]]:
    ok, failures = 0, []
    for i in range(m):
        log: list[Step] = []
        try:
            push_image(base, "team/app", f"{seed}-{i}", [random_bytes(size, f"{seed}-{i}-{j}") for j in range(layers)],
                       log=log)
            ok += 1
        except RuntimeError:
            step = log[-1]
            failures.append(f"{step.method} {re.sub('[0-9a-f-]{36}', '<uuid>', step.path)} -> {step.status} {step.body}")
    return ok, failures


def exp_secret(args) -> None:
    """Two replicas behind nginx round-robin: without a shared http.secret, with one; docker CLI and HTTP."""
    v, m = args.version, args.n
    cases = {"none": ("no http.secret (each replica makes its own)", None, False),
             "different": ("a different http.secret on each replica", "wrong", True),
             "shared": ("one shared http.secret", "shared-" + secrets.token_hex(8), False)}
    for label, secret, different in [cases[c] for c in args.cases.split(",")]:
        with lab_run(f"secret-v{v}-{len(label)}") as procs:
            start_store(procs)
            say(weed_shell(f"s3.bucket.create -name {BUCKET}").strip())
            reps = start_replicas(procs, v, 2, secret=secret, different_secrets=different)
            start_nginx(procs, replica_addrs(2))
            base = f"http://127.0.0.1:{P['nginx']}"
            ok, failures = http_pushes(base, m, f"h{v}", size=args.size)
            say(f"RESULT v{v} {label}: HTTP client pushes through nginx round-robin: {ok} of {m} worked")
            for f in sorted(set(failures)):
                say(f"  failed step ({failures.count(f)}x): {f}")
            if docker_available():
                dok = 0
                outputs = []
                for i in range(args.docker_n):
                    ref = f"127.0.0.1:{P['nginx']}/team/cli:{v}-{i}"
                    load_synthetic(ref, [args.size, args.size // 2], f"cli-{v}-{i}-{label}")
                    code, out, took = docker_push(ref)
                    dok += code == 0
                    outputs.append((code, out, took))
                    docker("image", "rm", ref, check=False, show=False)
                say(f"RESULT v{v} {label}: docker push through nginx round-robin: {dok} of {args.docker_n} worked")
                shown_failure = False
                for i, (code, out, took) in enumerate(outputs):
                    retries = out.count("Retrying in")
                    say(f"  push {i}: exit {code} in {took:.1f} s, {retries} 'Retrying in' lines, last line: {out.splitlines()[-1]}")
                    if code != 0 and not shown_failure:
                        shown_failure = True
                        say("\n".join("    | " + line for line in out.splitlines()))
            say("nginx: requests per replica:", nginx_upstreams(procs.run))
            for rep in reps:
                say(f"{rep.name} log lines:")
                say(grep_log(rep.log, r"error resolving upload|blob upload|BLOB_UPLOAD|No HTTP secret", 4))


def chunked_upload_with_kill(base: str, procs: Procs, reps: list[Proc], chunks: int = 6, chunk: int = 1 << 20,
                             kill_after: int = 2) -> None:
    """POST, then PATCH chunk by chunk; after `kill_after` chunks kill -9 the replica that took them."""
    s = requests.Session()
    data = random_bytes(chunks * chunk, "kill-upload")
    digest = sha(data)
    r = s.post(f"{base}/v2/team/big/blobs/uploads/", timeout=60)
    say(f"  POST -> {r.status_code}")
    location = r.headers["Location"]
    location = base + location if location.startswith("/") else location
    for i in range(chunks):
        if i == kill_after:
            served = nginx_last_upstream(procs.run)
            victim = next(p for p in reps if p.name.endswith(served.split(":")[1]))
            t0 = time.monotonic()
            procs.kill9(victim)
            say(f"  kill -9 {victim.name} (it served the last PATCH) after {kill_after} chunks")
        piece = data[i * chunk:(i + 1) * chunk]
        t0 = time.monotonic()
        r = s.patch(location, data=piece, timeout=60, headers={"Content-Type": "application/octet-stream",
                                                               "Content-Range": f"{i * chunk}-{(i + 1) * chunk - 1}"})
        say(f"  PATCH chunk {i} -> {r.status_code} via {nginx_last_upstream(procs.run)} in {time.monotonic() - t0:.2f} s "
            f"{r.text.strip()[:200]}")
        if r.status_code != 202:
            say("  RESULT the upload is lost: the client must start it again from POST")
            return
        location = r.headers["Location"]
        location = base + location if location.startswith("/") else location
    r = s.put(f"{location}&digest={digest}", timeout=60)
    say(f"  PUT ?digest= -> {r.status_code} via {nginx_last_upstream(procs.run)} {r.text.strip()[:200]}")
    if r.status_code == 201:
        b = s.get(f"{base}/v2/team/big/blobs/{digest}", timeout=60)
        say(f"  RESULT the upload survived the kill: GET blob -> {b.status_code}, digest ok: {sha(b.content) == digest}")


def nginx_last_upstream(run: Path) -> str:
    lines = (run / "nginx-access.log").read_text().strip().splitlines()
    return re.search(r"upstream=(.+?) upstream_status", lines[-1]).group(1) if lines else "?"


def exp_sticky(args) -> None:
    """Sticky sessions (ip_hash) without a shared secret: works; kill the sticky replica mid-upload.
    Then round-robin with a shared secret: the same kill."""
    v = args.version
    for label, balance, secret in (("ip_hash, no shared secret", "ip_hash", None),
                                   ("round-robin, shared secret", "", "shared-" + secrets.token_hex(8))):
        with lab_run(f"sticky-v{v}-{len(label)}") as procs:
            start_store(procs)
            weed_shell(f"s3.bucket.create -name {BUCKET}")
            reps = start_replicas(procs, v, 2, secret=secret)
            start_nginx(procs, replica_addrs(2), balance=balance)
            base = f"http://127.0.0.1:{P['nginx']}"
            ok, failures = http_pushes(base, args.n, f"s{v}", size=args.size)
            say(f"RESULT v{v} {label}: HTTP pushes {ok} of {args.n} worked; nginx per replica {nginx_upstreams(procs.run)}")
            if docker_available():
                dok = 0
                for i in range(args.docker_n):
                    ref = f"127.0.0.1:{P['nginx']}/team/cli:{v}-{i}"
                    load_synthetic(ref, [args.size, args.size // 2], f"sticky-{v}-{i}-{label}")
                    code, out, took = docker_push(ref)
                    dok += code == 0
                    docker("image", "rm", ref, check=False, show=False)
                say(f"RESULT v{v} {label}: docker push {dok} of {args.docker_n} worked")
            say(f"# {label}: a 6 MiB blob in 1 MiB PATCHes; the replica serving it killed after 2")
            chunked_upload_with_kill(base, procs, reps)
            say(grep_log(procs.run / "nginx-error.log", r"\[error\]|\[warn\]", 3))


def garbage_collect(procs: Procs, v: str, port: int, *extra: str) -> tuple[int, str, float]:
    cfg = procs.run / f"registry-{port}.yml"
    cmd = [str(REGISTRY_BIN[v]), "garbage-collect", *extra, str(cfg)]
    say(f"$ {shown(cmd)}")
    base = {k: val for k, val in os.environ.items() if not k.startswith("AWS_")}
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**base, "OTEL_TRACES_EXPORTER": "none"})
    return r.returncode, r.stdout + r.stderr, time.monotonic() - t0


def delete_manifest(base: str, repo: str, tag: str) -> tuple[str, int]:
    accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
    h = requests.head(f"{base}/v2/{repo}/manifests/{tag}", headers={"Accept": accept}, timeout=30)
    digest = h.headers["Docker-Content-Digest"]
    r = requests.delete(f"{base}/v2/{repo}/manifests/{digest}", timeout=30)
    return digest, r.status_code


def exp_cache(args) -> None:
    """The blob descriptor cache in redis, shared by two replicas: its keys; the stale-cache trap."""
    v = args.version
    with lab_run(f"cache-v{v}") as procs:
        start_store(procs)
        weed_shell(f"s3.bucket.create -name {BUCKET}")
        start_redis(procs)
        reps = start_replicas(procs, v, 2, secret="shared-" + secrets.token_hex(8), redis=True)
        start_nginx(procs, replica_addrs(2))
        base = f"http://127.0.0.1:{P['nginx']}"
        r1, r2 = (f"http://{a}" for a in replica_addrs(2))
        layer = random_bytes(2 << 20, f"scratch-{v}")
        say("# push scratch:v1 (one 2 MiB layer) through nginx, pull it")
        push_image(base, "team/scratch", "v1", [layer])
        pull_image(base, "team/scratch", "v1")
        say(redis_cli("--scan").strip())
        key = next(k for k in redis_cli("--scan").split() if k.startswith("blobs::"))
        say(redis_cli("HGETALL", key).strip())
        repo_key = next(k for k in redis_cli("--scan").split() if k.startswith("repository::") and k.count("::") == 2)
        say(redis_cli("TYPE", repo_key).strip(), redis_cli("SMEMBERS", repo_key).strip())
        say("# delete the manifest, garbage-collect (replicas still serving: the wrong way)")
        digest, code = delete_manifest(r1, "team/scratch", "v1")
        say(f"DELETE manifest {digest[:19]}… via replica 1 -> {code}")
        rc, out, took = garbage_collect(procs, v, P["registry"])
        say(f"garbage-collect exit {rc} in {took:.1f} s; its last lines:")
        say("\n".join("  | " + line[:200] for line in out.strip().splitlines()[-4:]))
        keys = [k for k, _ in S3(f"http://127.0.0.1:{P['s3']}").keys()]
        say(f"bucket: layer data still there? {any(k.endswith(sha(layer)[7:] + '/data') for k in keys)}; keys left: {len(keys)}")
        say("\n".join("  " + k for k in keys))
        say(f"redis still knows the layer: {redis_cli('EXISTS', 'blobs::' + sha(layer)).strip()}")
        for name, url in (("replica 1", r1), ("replica 2", r2)):
            h = requests.head(f"{url}/v2/team/scratch/blobs/{sha(layer)}", timeout=30)
            g = requests.get(f"{url}/v2/team/scratch/blobs/{sha(layer)}", timeout=30, stream=True)
            try:
                body = g.raw.read(decode_content=False)
                got = f"{len(body)} bytes"
            except Exception as exc:
                got = f"{type(exc).__name__}: {exc}"
            say(f"RESULT {name}: HEAD layer -> {h.status_code} (Content-Length {h.headers.get('Content-Length')}); "
                f"GET layer -> {g.status_code} (Content-Length {g.headers.get('Content-Length')}), body: {got}")
        if docker_available():
            ref = f"127.0.0.1:{P['nginx']}/team/scratch:v1"
            from reglab.images import docker_archive, random_layer, synthetic_image
            say("# the docker CLI: the same trap")
            scratch = synthetic_image(ref, [random_layer("scratch.bin", 2 << 20, f"dscratch-{v}")])
            docker_client().images.load(docker_archive([scratch]))
            say(docker_push(ref)[1])
            digest, code = delete_manifest(r1, "team/scratch", "v1")
            rc, out, took = garbage_collect(procs, v, P["registry"])
            say(f"garbage-collect exit {rc} in {took:.1f} s")
            code, out, took = docker_push(ref)
            say(f"RESULT docker push again: exit {code}\n" + "\n".join("  | " + x for x in out.splitlines()))
            docker("image", "rm", ref, check=False)
            r = docker("pull", ref, check=False)
            say(f"RESULT docker pull: exit {r.returncode}\n" + "\n".join("  | " + x for x in (r.stdout + r.stderr).strip().splitlines()))
            say("# restart both replicas: redis keeps the entries")
            for i, rep in enumerate(reps):
                procs.stop(rep)
            reps = start_replicas(procs, v, 2, secret="shared-again", redis=True)
            r = docker("pull", ref, check=False)
            say(f"RESULT docker pull after restarting the replicas: exit {r.returncode} {(r.stdout + r.stderr).strip().splitlines()[-1]}")
            say(redis_cli("FLUSHDB").strip())
            docker_client().images.load(docker_archive([scratch]))
            code, out, took = docker_push(ref)
            say(f"RESULT docker push after FLUSHDB: exit {code}\n" + "\n".join("  | " + x for x in out.splitlines()))
            docker("image", "rm", ref, check=False)
            r = docker("pull", ref, check=False)
            say(f"RESULT docker pull after FLUSHDB + push: exit {r.returncode} {(r.stdout + r.stderr).strip().splitlines()[-1]}")
            docker("image", "rm", ref, check=False)
        else:
            say("# restart both replicas: redis keeps the entries")
            for rep in reps:
                procs.stop(rep)
            reps = start_replicas(procs, v, 2, secret="shared-again", redis=True)
            h = requests.head(f"{r2}/v2/team/scratch/blobs/{sha(layer)}", timeout=30)
            say(f"RESULT after restart: HEAD layer -> {h.status_code}")
            say(redis_cli("FLUSHDB").strip())
            h = requests.head(f"{r2}/v2/team/scratch/blobs/{sha(layer)}", timeout=30)
            say(f"RESULT after FLUSHDB: HEAD layer -> {h.status_code}")
        for rep in reps:
            say(f"{rep.name}:")
            say(grep_log(rep.log, r"level=error", 3))


def serving_replica(reps: list[Proc]) -> Proc | None:
    """The replica with an established connection on its port (nginx -> it), if exactly one."""
    busy = []
    for rep in reps:
        if not rep.alive():
            continue
        port = int(rep.name.split("-")[1])
        try:
            conns = psutil.Process(rep.pid).net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        if any(c.status == "ESTABLISHED" and c.laddr.port == port for c in conns):
            busy.append(rep)
    return busy[0] if len(busy) == 1 else None


def exp_killpull(args) -> None:
    """A replica killed while a client downloads a large blob through nginx (limit_rate: a slower link)."""
    v = args.version
    size = args.size if args.size > 1 << 20 else 64 << 20
    with lab_run(f"killpull-v{v}") as procs:
        start_store(procs)
        weed_shell(f"s3.bucket.create -name {BUCKET}")
        secret = "shared-" + secrets.token_hex(8)
        reps = start_replicas(procs, v, 2, secret=secret)
        # limit_rate only applies to buffered proxying; proxy_max_temp_file_size 0 keeps nginx from
        # reading the whole blob ahead into a temp file, so the replica streams at the client's pace
        start_nginx(procs, replica_addrs(2), limit_rate=args.rate, buffering="on",
                    extra="      proxy_max_temp_file_size 0;")
        base = f"http://127.0.0.1:{P['nginx']}"
        blob = random_bytes(size, "big")
        digest = sha(blob)
        t0 = time.monotonic()
        push_blob(base, "team/big", blob)
        say(f"pushed a {size >> 20} MiB blob in {time.monotonic() - t0:.1f} s")
        url = f"{base}/v2/team/big/blobs/{digest}"
        t0 = time.monotonic()
        r = requests.get(url, timeout=120)
        say(f"RESULT baseline GET through nginx (limit_rate {args.rate}): {r.status_code} {len(r.content) >> 20} MiB "
            f"in {time.monotonic() - t0:.2f} s")

        say("# kill -9 the serving replica after a quarter of the blob; the client then resumes with Range")
        t0 = time.monotonic()
        r = requests.get(url, timeout=120, stream=True)
        got = bytearray()
        killed = None
        error = None
        try:
            for piece in r.iter_content(1 << 20):
                got += piece
                if killed is None and len(got) >= size // 4:
                    killed = serving_replica(reps)
                    procs.kill9(killed)
                    t_kill = time.monotonic() - t0
                    say(f"  kill -9 {killed.name} at {len(got) >> 20} MiB, {t_kill:.2f} s in")
        except Exception as exc:
            error = exc
        t_err = time.monotonic() - t0
        say(f"RESULT the client sees after {t_err:.2f} s: {type(error).__name__}: {error}; {len(got)} of {size} bytes")
        t1 = time.monotonic()
        r2 = requests.get(url, headers={"Range": f"bytes={len(got)}-"}, timeout=120)
        got += r2.content
        say(f"RESULT retry with Range: bytes={len(got) - len(r2.content)}-: {r2.status_code} "
            f"(Content-Range {r2.headers.get('Content-Range')}) in {time.monotonic() - t1:.2f} s via "
            f"{nginx_last_upstream(procs.run)}; digest ok: {sha(bytes(got)) == digest}; total {time.monotonic() - t0:.2f} s")
        say(grep_log(procs.run / "nginx-error.log", r"\[error\]", 4))

        say("# the killed replica stays down: new requests (nginx proxy_next_upstream error timeout)")
        for i in range(4):
            t0 = time.monotonic()
            r = requests.get(url, timeout=120)
            say(f"RESULT GET {i}: {r.status_code}, {len(r.content) >> 20} MiB in {time.monotonic() - t0:.2f} s via "
                f"{nginx_last_upstream(procs.run)}")
        idx = reps.index(killed)
        reps[idx] = start_registry(procs, v, P["registry"] + idx, secret=secret, redis=False)
        registry_ready(P["registry"] + idx)

        if docker_available():
            ref = f"127.0.0.1:{P['nginx']}/team/bigimage:v1"
            load_synthetic(ref, [size], "bigimage")
            code, out, took = docker_push(ref)
            say(f"docker push {size >> 20} MiB layer: exit {code} in {took:.1f} s")
            docker("image", "rm", ref)
            t0 = time.monotonic()
            r = docker("pull", ref, check=False)
            say(f"RESULT baseline docker pull: exit {r.returncode} in {time.monotonic() - t0:.1f} s")
            docker("image", "rm", ref)
            say("# docker pull; the replica serving the layer killed 1/4 of the way")
            t0 = time.monotonic()
            pull = subprocess.Popen(["docker", "pull", ref], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            expected = size / parse_rate(args.rate) if args.rate != "0" else 1.0
            killed = None
            while pull.poll() is None and killed is None:
                time.sleep(0.05)
                if time.monotonic() - t0 > expected / 4:
                    killed = serving_replica(reps)
                    if killed:
                        procs.kill9(killed)
                        say(f"  kill -9 {killed.name} {time.monotonic() - t0:.2f} s in")
            out = pull.communicate()[0]
            say(f"RESULT docker pull with a replica killed: exit {pull.returncode} in {time.monotonic() - t0:.1f} s")
            say("\n".join("  | " + x for x in out.strip().splitlines()))
            say(grep_log(procs.run / "nginx-access.log", r"bigimage/blobs/sha256", 6))
            docker("image", "rm", ref, check=False)


def parse_rate(rate: str) -> float:
    m = re.fullmatch(r"(\d+)([km]?)", rate)
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20}[m.group(2)]


def push_blobs_only(base: str, repo: str, layers: list[bytes]) -> tuple[bytes, bytes]:
    """The first half of a push: every blob uploaded, the manifest not yet sent. Returns (config, manifest)."""
    s = requests.Session()
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
                         "diff_ids": [sha(x) for x in layers]}}).encode()
    for blob in [*layers, config]:
        push_blob(base, repo, blob, session=s)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": sha(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                       "digest": sha(x), "size": len(x)} for x in layers]}).encode()
    return config, manifest


def exp_gc(args) -> None:
    """GC across replicas: read-only everywhere, collect, writable again; and a push in flight during GC."""
    v = args.version
    for cache in (False, True):
        with lab_run(f"gc-v{v}-{int(cache)}") as procs:
            start_store(procs)
            weed_shell(f"s3.bucket.create -name {BUCKET}")
            if cache:
                start_redis(procs)
            secret = "shared-" + secrets.token_hex(8)
            reps = start_replicas(procs, v, 2, secret=secret, redis=cache)
            start_nginx(procs, replica_addrs(2))
            base = f"http://127.0.0.1:{P['nginx']}"
            r1 = f"http://{replica_addrs(2)[0]}"
            say(f"# registry {v}, blob cache: {'redis' if cache else 'inmemory (default)'}")
            push_image(base, "team/app", "old", [random_bytes(1 << 20, "old")])
            delete_manifest(base, "team/app", "old")
            if not cache:
                say("# the right way: every replica read-only, collect, writable again")
                t0 = time.monotonic()
                for rep in reps:
                    procs.stop(rep)
                reps = start_replicas(procs, v, 2, secret=secret, redis=cache, readonly=True)
                t_ro = time.monotonic() - t0
                r = requests.post(f"{base}/v2/team/app/blobs/uploads/", timeout=30)
                say(f"RESULT read-only replicas (restarted in {t_ro:.1f} s): POST upload -> {r.status_code} {r.text.strip()}")
                g = requests.get(f"{base}/v2/_catalog", timeout=30)
                say(f"  reads still work: GET /v2/_catalog -> {g.status_code} {g.text.strip()}")
                rc, out, took = garbage_collect(procs, v, P["registry"])
                say(f"RESULT garbage-collect exit {rc} in {took:.2f} s, {out.count('Deleting blob')} blobs deleted")
                t0 = time.monotonic()
                for rep in reps:
                    procs.stop(rep)
                reps = start_replicas(procs, v, 2, secret=secret, redis=cache)
                say(f"RESULT writable again after {time.monotonic() - t0:.1f} s; the read-only window: "
                    f"{t_ro + took + time.monotonic() - t0:.1f} s")
            say("# the wrong way: a push in flight while GC runs on writable replicas")
            layer = random_bytes(1 << 20, f"inflight-{cache}")
            config, manifest = push_blobs_only(base, "team/app", [layer])
            say("  blobs of team/app:new uploaded, manifest not yet sent")
            rc, out, took = garbage_collect(procs, v, P["registry"])
            deleted = re.findall(r"Deleting blob: (\S+?)\"? ", out)
            say(f"  garbage-collect exit {rc} in {took:.2f} s; deleted: {deleted}")
            r = requests.put(f"{base}/v2/team/app/manifests/new", data=manifest, timeout=30,
                             headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
            say(f"RESULT manifest PUT after GC -> {r.status_code} {r.text.strip()[:300]}")
            for what, digest in (("layer", sha(layer)), ("config", sha(config))):
                h = requests.head(f"{base}/v2/team/app/blobs/{digest}", timeout=30)
                say(f"  HEAD {what} -> {h.status_code}")
            try:
                n = pull_image(base, "team/app", "new")
                say(f"RESULT pull team/app:new: {n} bytes, fine")
            except Exception as exc:
                say(f"RESULT pull team/app:new fails: {type(exc).__name__}: {str(exc)[:300]}")


NET = f"reglab-{LAB}-net"
BRIDGE = "rl-scaleout0"
REG_IMAGE = {"2": "registry:2", "3": "registry:3"}


def container_rss(name: str) -> float:
    pid = int(docker("container", "inspect", "-f", "{{.State.Pid}}", name, show=False).stdout.strip())
    return rss_mib([pid])


def registry_env(v: str, secret: str | None, redis: bool) -> list[str]:
    env = {"REGISTRY_STORAGE": "s3", "REGISTRY_STORAGE_S3_ACCESSKEY": ACCESS_KEY,
           "REGISTRY_STORAGE_S3_SECRETKEY": SECRET_KEY, "REGISTRY_STORAGE_S3_REGION": REGION,
           "REGISTRY_STORAGE_S3_REGIONENDPOINT": f"http://reglab-{LAB}-seaweedfs:8333",
           "REGISTRY_STORAGE_S3_BUCKET": BUCKET, "REGISTRY_STORAGE_S3_SECURE": "false",
           "REGISTRY_STORAGE_REDIRECT_DISABLE": "true", "REGISTRY_STORAGE_DELETE_ENABLED": "true"}
    if v == "3":
        env["REGISTRY_STORAGE_S3_FORCEPATHSTYLE"] = "true"
        env["OTEL_TRACES_EXPORTER"] = "none"
    if secret:
        env["REGISTRY_HTTP_SECRET"] = secret
    if redis:
        env["REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR"] = "redis"
        if v == "3":
            env["REGISTRY_REDIS_ADDRS"] = f"[reglab-{LAB}-redis:6379]"
        else:
            env["REGISTRY_REDIS_ADDR"] = f"reglab-{LAB}-redis:6379"
    out = []
    for k, val in env.items():
        out += ["-e", f"{k}={val}"]
    return out


NGINX_SITE = """\
upstream registry {{
{servers}
}}
server {{
    listen 80;
    client_max_body_size 0;
    chunked_transfer_encoding on;
    location /v2/ {{
        proxy_pass http://registry;
        proxy_set_header Host $http_host;
        proxy_read_timeout 900;
        proxy_request_buffering off;
    }}
}}
"""


def exp_docker(args) -> None:
    """The whole set-up as containers on a lab network of our own daemon, with the stand-in images."""
    v = args.version
    assert docker_available(), "needs DOCKER_HOST (tests/second_dockerd.py)"
    run = RUN / f"docker-v{v}"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    names = []
    try:
        t0 = time.monotonic()
        load_standin_images()
        say(f"RESULT stand-ins loaded in {time.monotonic() - t0:.1f} s")
        say(docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}").stdout.strip())
        say(docker("image", "inspect", "-f", "{{.Config.Entrypoint}} {{.Config.Cmd}} {{.Config.WorkingDir}} "
                   "{{.Config.ExposedPorts}} {{.Config.Volumes}} {{.Config.StopSignal}}",
                   "chrislusf/seaweedfs", "nginx", "redis").stdout.strip())
        # On a second dockerd started with --iptables=false (tests/second_dockerd.py) containers on one
        # network cannot reach each other here: br_netfilter (bridge-nf-call-iptables=1) sends bridged
        # packets through FORWARD, whose policy the machine's dockerd set to DROP. One ACCEPT rule in
        # DOCKER-USER for this network's own bridge, removed at the end, lets them talk.
        docker("network", "create", "--label", f"reglab.lab={LAB}", "-o", f"com.docker.network.bridge.name={BRIDGE}", NET)
        if os.environ.get("SCALEOUT_BRIDGE_RULE", "1") == "1":
            subprocess.run(["iptables", "-I", "DOCKER-USER", "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT"], check=True)
            say(f"$ iptables -I DOCKER-USER -i {BRIDGE} -o {BRIDGE} -j ACCEPT")
        store = f"reglab-{LAB}-seaweedfs"
        names.append(store)
        t0 = time.monotonic()
        docker("run", "-d", "--name", store, "--network", NET, "--label", f"reglab.lab={LAB}",
               "-p", f"127.0.0.1:{P['s3']}:8333", "-e", f"AWS_ACCESS_KEY_ID={ACCESS_KEY}",
               "-e", f"AWS_SECRET_ACCESS_KEY={SECRET_KEY}", "chrislusf/seaweedfs",
               "server", "-s3", "-master.telemetry=false", "-volume.preStopSeconds=0",
               "-master.volumeSizeLimitMB=64", "-master.volumePreallocate=false")
        s3 = S3(f"http://127.0.0.1:{P['s3']}")
        wait_for("S3 in a container", s3.ready, timeout=60)
        t_s3 = time.monotonic() - t0
        r = docker("exec", store, "sh", "-c", f"echo 's3.bucket.create -name {BUCKET}' | weed shell -master={store}:9333",
                   check=False)
        say((r.stdout + r.stderr).strip())
        wait_for("first PutObject", lambda: s3.request("PUT", f"/{BUCKET}/probe", data=b"x").status_code == 200,
                 timeout=60, every=0.25)
        s3.request("DELETE", f"/{BUCKET}/probe")
        say(f"RESULT seaweedfs container: S3 answers {t_s3:.1f} s after docker run, first write at "
            f"{time.monotonic() - t0:.1f} s; RSS {container_rss(store):.0f} MiB")
        say("$ docker exec " + store + " du -sh /data; " + docker("exec", store, "du", "-sh", "/data", show=False).stdout.strip())
        say(docker("exec", store, "ls", "-la", "/data", show=False).stdout.strip()[:1500])
        redis = f"reglab-{LAB}-redis"
        names.append(redis)
        t0 = time.monotonic()
        docker("run", "-d", "--name", redis, "--network", NET, "--label", f"reglab.lab={LAB}", "redis")
        wait_for("redis", lambda: "PONG" in docker("exec", redis, "redis-cli", "ping", check=False, show=False).stdout)
        say(f"RESULT redis container ready in {time.monotonic() - t0:.1f} s; RSS {container_rss(redis):.0f} MiB")
        say(docker("logs", redis, show=False).stderr.strip()[-600:] + docker("logs", redis, show=False).stdout.strip()[-600:])

        def replicas(secret: str | None) -> list[str]:
            reps = []
            for i in range(2):
                name = f"reglab-{LAB}-registry-{i + 1}"
                docker("rm", "-f", "-v", name, check=False, show=False)
                docker("run", "-d", "--name", name, "--network", NET, "--label", f"reglab.lab={LAB}",
                       *registry_env(v, secret, redis=True), REG_IMAGE[v])
                reps.append(name)
                if name not in names:
                    names.append(name)
            return reps

        def nginx(reps: list[str]) -> str:
            name = f"reglab-{LAB}-nginx"
            docker("rm", "-f", "-v", name, check=False, show=False)
            conf = run / "registry.conf"
            conf.write_text(NGINX_SITE.format(servers="\n".join(f"    server {r}:5000;" for r in reps)))
            docker("run", "-d", "--name", name, "--network", NET, "--label", f"reglab.lab={LAB}",
                   "-p", f"127.0.0.1:{P['nginx']}:80", "-v", f"{conf}:/etc/nginx/conf.d/default.conf:ro", "nginx")
            if name not in names:
                names.append(name)
            wait_for("nginx container", lambda: requests.get(f"http://127.0.0.1:{P['nginx']}/v2/", timeout=1).status_code == 200)
            return name

        t0 = time.monotonic()
        reps = replicas(None)
        lb = nginx(reps)
        say(f"RESULT 2 registry containers + nginx answering in {time.monotonic() - t0:.1f} s; RSS "
            + ", ".join(f"{n} {container_rss(n):.0f} MiB" for n in [*reps, lb]))
        base = f"http://127.0.0.1:{P['nginx']}"
        ok, failures = http_pushes(base, 4, f"d{v}", size=2048)
        say(f"RESULT docker mode, no shared secret: HTTP pushes {ok} of 4 worked; {sorted(set(failures))[:2]}")
        ref = f"127.0.0.1:{P['nginx']}/team/app:v1"
        load_synthetic(ref, [2048, 1024], f"docker-mode-{v}")
        code, out, took = docker_push(ref)
        say(f"RESULT docker push, no shared secret: exit {code} in {took:.1f} s; last line: {out.splitlines()[-1]}")
        say("$ docker logs " + reps[1] + " 2>&1 | grep 'error resolving upload' | head -1")
        logs = docker("logs", reps[1], show=False)
        say("\n".join(l for l in (logs.stdout + logs.stderr).splitlines() if "error resolving upload" in l)[:600])
        secret = secrets.token_hex(16)
        reps = replicas(secret)
        for r_ in reps:
            wait_for(r_, lambda: docker("exec", r_, "wget", "-q", "-O-", "http://127.0.0.1:5000/v2/", check=False,
                                        show=False).returncode == 0)
        docker("restart", lb)
        wait_for("nginx", lambda: requests.get(f"{base}/v2/", timeout=1).status_code == 200)
        code, out, took = docker_push(ref)
        say(f"RESULT docker push, shared REGISTRY_HTTP_SECRET: exit {code} in {took:.1f} s\n" + out)
        keys = s3.keys()
        say(f"RESULT bucket keys after the push: {len(keys)}")
        say("\n".join(f"  {size:>8} {k}" for k, size in sorted(keys)))
        say("$ docker exec " + redis + " redis-cli --scan")
        say(docker("exec", redis, "redis-cli", "--scan", show=False).stdout.strip())
        docker("image", "rm", ref)
        r = docker("pull", ref, check=False)
        say(f"RESULT docker pull through nginx: exit {r.returncode}")
        docker("image", "rm", ref, check=False)
        say("RESULT RSS: " + ", ".join(f"{n} {container_rss(n):.0f} MiB" for n in names))
    except BaseException:
        for n in names:
            logs = docker("logs", "--tail", "15", n, check=False, show=False)
            say(f"--- docker logs {n}\n{(logs.stdout + logs.stderr)[-2500:]}")
        raise
    finally:
        t0 = time.monotonic()
        for n in names:
            docker("rm", "-f", "-v", n, check=False)
        docker("network", "rm", NET, check=False)
        subprocess.run(["iptables", "-D", "DOCKER-USER", "-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT"], check=False,
                       capture_output=True)
        say(f"RESULT cleanup (docker rm -f -v, network rm) in {time.monotonic() - t0:.1f} s")
        left = docker("ps", "-a", "--filter", f"label=reglab.lab={LAB}", "-q", show=False).stdout.strip()
        vols = docker("volume", "ls", "-q", show=False).stdout.strip()
        say(f"RESULT left: containers [{left}] volumes [{vols}]")
        shutil.rmtree(run, ignore_errors=True)


def exp_costs(args) -> None:
    """Start time, RSS and stop time of each part as a process (the store measured by weed-compare)."""
    with lab_run("costs") as procs:
        t0 = time.monotonic()
        redis = start_redis(procs)
        say(f"RESULT redis-server: ready in {time.monotonic() - t0:.2f} s, RSS {rss_mib([redis.pid]):.0f} MiB")
        for v in ("2", "3"):
            t0 = time.monotonic()
            reg = start_registry(procs, v, P["registry"], secret="s", redis=True)
            took = registry_ready(P["registry"])
            time.sleep(0.5)
            say(f"RESULT registry {v} (s3 + redis config): /v2/ 200 after {time.monotonic() - t0 - 0.5:.2f} s, "
                f"RSS {rss_mib([reg.pid]):.0f} MiB; SIGTERM stop {procs.stop(reg):.2f} s")
        t0 = time.monotonic()
        ng = start_nginx(procs, replica_addrs(2))
        say(f"RESULT nginx (1 worker): listening after {time.monotonic() - t0:.2f} s, RSS master+worker "
            f"{rss_mib([ng.pid]):.0f} MiB; SIGTERM stop {procs.stop(ng):.2f} s")
        say(f"RESULT redis SIGTERM stop {procs.stop(redis):.2f} s")


EXPERIMENTS = {"costs": exp_costs, "docker": exp_docker, "gc": exp_gc, "killpull": exp_killpull, "cache": exp_cache, "sticky": exp_sticky, "secret": exp_secret, "layout": exp_layout, "driver-names": exp_driver_names, "weed-compare": exp_weed_compare, "bucket": exp_bucket}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("part", choices=sorted(EXPERIMENTS))
    parser.add_argument("--version", default="2", choices=["2", "3"])
    parser.add_argument("--mode", default="process", choices=["process", "docker"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--docker-n", type=int, default=5)
    parser.add_argument("--size", type=int, default=64 * 1024, help="bytes per layer")
    parser.add_argument("--cases", default="none,different,shared")
    parser.add_argument("--rate", default="32m", help="nginx limit_rate for killpull")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    EXPERIMENTS[args.part](args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
