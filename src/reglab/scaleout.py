"""A registry that outgrew one container, as values: the texts and settings of its parts.

What :mod:`reglab.steps.scale` writes and starts — the replicas' config file (``storage.s3`` on
the bucket), their settings per step, nginx's site file, the ``curl`` that speaks S3 to the store —
made here from plain values, so the steps only narrate and start. And what the lab's own HTTP
client saw of an upload or a download (:class:`Attempt`, :class:`Outcome`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .registry_run import _VALUED
from .twin import Raw, Twin, run_breaks

NETWORK = "net"
BUCKET = "registry"
ACCESS_KEY = "reglab"
REGION = "us-east-1"
S3_PORT, MASTER_PORT, REDIS_PORT = 8333, 9333, 6379  # inside the containers
HTTP_SECRET = "REGISTRY_HTTP_SECRET"
CACHE = "REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR"
READ_ONLY = "REGISTRY_STORAGE_MAINTENANCE_READONLY"
STORE_ARGS = ("server", "-s3", "-master.telemetry=false", "-volume.preStopSeconds=0", "-master.volumeSizeLimitMB=64",
              "-master.volumePreallocate=false", "-s3.autoCreateBucket=false")
STORE_WAIT = 120.0  # seconds the store may take to accept writes (about 10 on a quiet machine)
KiB, MiB = 1024, 1024 * 1024
SEED = 7  # notebook 07's own layers
GC_SUMMARY = re.compile(r"(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion")


@dataclass(frozen=True)
class Attempt:
    """One request of an upload or a download, as the lab's client saw it."""

    method: str
    what: str
    status: int | None  # None: no answer (the connection broke)
    replica: str | None  # the replica nginx passed it to (or its role: "the other replica")

    def __str__(self) -> str:
        answer = {200: "200 OK", 201: "201 Created", 202: "202 Accepted", 206: "206 Partial Content",
                  404: "404 Not Found"}.get(self.status, str(self.status)) if self.status else "no answer"
        return f"{self.method} {self.what} → {answer}" + (f" (from {self.replica})" if self.replica else "")


@dataclass
class Outcome:
    """What a step with an HTTP client saw: its requests, whether it got what it wanted, how long it took."""

    ok: bool
    attempts: list[Attempt] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""

    def __repr__(self) -> str:
        return f"Outcome(ok={self.ok}, {len(self.attempts)} requests, {self.seconds:.2f} s)"


def registry_config(store: str, secret_key: str, major: int) -> str:
    """The replicas' config: ``storage.s3`` on the bucket of the store named ``store`` (its S3 at
    ``http://<store>:8333``), deletes on, no redirects to the store, upload purging off."""
    s3 = {"accesskey": ACCESS_KEY, "secretkey": secret_key, "region": REGION,
          "regionendpoint": f"http://{store}:{S3_PORT}", "bucket": BUCKET, "rootdirectory": "/", "secure": False}
    if major == 3:
        s3["forcepathstyle"] = True  # v3: else it asks DNS for <bucket>.<host>
    lines = ["version: 0.1", "log:", "  level: info", "storage:", "  s3:"]
    lines += [f"    {k}: {json.dumps(v)}" for k, v in s3.items()]
    lines += ["  cache:", "    blobdescriptor: inmemory", "  delete:", "    enabled: true", "  redirect:",
              "    disable: true", "  maintenance:", "    uploadpurging:", "      enabled: false", "http:",
              "  addr: :5000"]
    return "\n".join(lines) + "\n"


def replica_env(major: int, http_secret: str | None, cache: str | None, read_only: bool) -> dict[str, str]:
    """A replica's settings on top of the config file: its ``http.secret``, the redis cache (the
    container ``cache``: ``redis.addrs`` in registry 3, ``redis.addr`` in 2.8), read-only mode."""
    env = {HTTP_SECRET: http_secret} if http_secret else {}
    if cache:
        env[CACHE] = "redis"
        if major == 3:
            env["REGISTRY_REDIS_ADDRS"] = f"[{cache}:{REDIS_PORT}]"
        else:
            env["REGISTRY_REDIS_ADDR"] = f"{cache}:{REDIS_PORT}"
    if read_only:
        env[READ_ONLY] = '{"enabled":true}'
    return env


def nginx_conf(replicas: list[str], sticky: bool = False, rate: str = "0") -> str:
    """nginx's site file: round-robin (``ip_hash`` when ``sticky``) over the replicas by name; one
    second to connect before trying the next; no temporary file for what a replica sends (it then
    streams at the client's pace); a request's body kept in memory up to 1 MiB, so that it goes to
    the replica with its headers in one write (from a temporary file it went after them, and a
    replica refusing an upload answers on the headers: nginx then said 502, writev() failed: Broken
    pipe, for the replica's 404); ``X-Upstream`` names the replica that answered; ``rate``: nginx's
    ``limit_rate`` per client, "0" for none."""
    lines = ["upstream registry {", "    zone registry 64k;"] + (["    ip_hash;"] if sticky else [])
    lines += [f"    server {name}:5000;" for name in replicas]
    lines += ["}", "server {", "    listen 80;", "    client_max_body_size 0;", "    client_body_buffer_size 1m;", "    location /v2/ {",
              "        proxy_pass http://registry;", "        proxy_set_header Host $http_host;",
              "        proxy_connect_timeout 1s;", "        proxy_read_timeout 900;",
              "        proxy_max_temp_file_size 0;", "        add_header X-Upstream $upstream_addr always;"]
    if rate != "0":
        lines.append(f"        limit_rate {rate};")
    return "\n".join(lines + ["    }", "}"]) + "\n"


def s3_curl(port: int, key_file: Path, *args: str, path: str = "") -> Twin:
    """``curl`` speaking S3 to the store at 127.0.0.1:``port``, signed with its keys (AWS Signature
    Version 4), the secret key read from its file."""
    return Twin(("curl", "-s", *args, "--aws-sigv4", f"aws:amz:{REGION}:s3", "--user",
                 Raw(f'"{ACCESS_KEY}:$(cat {key_file})"'), f"http://127.0.0.1:{port}/{path}"))


def with_secret_files(argv: tuple, files: dict[str, Path]) -> Twin:
    """A ``docker container run`` with each hidden setting read from its file (``-e KEY="$(cat file)"``)."""
    words = list(argv)
    for i, word in enumerate(words):
        if i and words[i - 1] == "-e" and word in files:
            words[i] = Raw(f'{word}="$(cat {files[word]})"')
    return Twin(tuple(words))


def run_breaks_of(argv: tuple) -> tuple[int, ...]:
    """A registry's ``docker container run`` (its image last), one option per line."""
    return run_breaks(argv, len(argv) - 1, _VALUED)
