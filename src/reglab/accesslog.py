"""A registry's log, read as the requests it served and the cache entries a proxy made.

distribution 2.x writes one line per HTTP request in Apache's *combined* format (besides its
own ``level=info msg="response completed"`` lines)::

    172.18.0.3 - - [28/Nov/2026:13:23:53 +0000] "GET /v2/app/blobs/sha256:… HTTP/1.1" 200 4591984 "" "Go-http-client/1.1"

The number after the status is the size of the body it sent: for a ``GET`` of a blob, the
bytes of the layer that crossed the wire. Summing those over a window of the log measures a
pull's traffic exactly, on the registry's own side.

A registry in proxy mode (a pull-through cache) also logs each digest it keeps, with the time
it will keep it (2.8: fixed at 168 h)::

    level=info msg="Adding new scheduler entry for app@sha256:… with ttl=167h59m59.99s"

:class:`AccessLog` reads one registry's log through a callable (the engine's
``docker container logs``) and cuts it into windows with *marks*: a ``GET /v2/`` the lab sends
with a user agent of its own, so that a window ends only once the registry has logged
everything before it (the log of a container reaches ``docker logs`` a moment later).
Marks are left out of every window.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from . import errors
from .media import short_digest
from .registry_api import RegistryClient
from .units import human

MARK_AGENT = "reglab-log-mark/"
MARK_WAIT = 20.0  # seconds a mark may take to reach the log

_ACCESS = re.compile(
    r'^(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" '
    r'(?P<status>\d{3}) (?P<size>\d+|-)(?: "(?P<referer>[^"]*)" "(?P<agent>[^"]*)")?')
_ENTRY = re.compile(r'msg="Adding new scheduler entry for (?P<repository>[^@"\s]+)@(?P<digest>sha256:[0-9a-f]{64}) '
                    r'with ttl=(?P<ttl>[0-9hms.µ]+)"')
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|µs|m|s)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6}


@dataclass(frozen=True)
class Request:
    """One request a registry served, as its access log line tells it."""

    client: str
    method: str
    path: str
    status: int
    size: int  # bytes of the body it sent
    agent: str = ""

    @property
    def parts(self) -> list[str]:
        return self.path.split("?", 1)[0].strip("/").split("/")

    @property
    def kind(self) -> str:
        """``base`` (``/v2/``), ``manifest``, ``blob``, ``upload``, ``tags``, ``catalog`` or ``other``."""
        parts = self.parts
        if parts == ["v2"]:
            return "base"
        if parts[-1:] == ["_catalog"]:
            return "catalog"
        if parts[-2:] == ["tags", "list"]:
            return "tags"
        if "uploads" in parts[-2:] and "blobs" in parts:
            return "upload"
        if len(parts) >= 4 and parts[-2] in ("manifests", "blobs"):
            return parts[-2][:-1]
        return "other"

    @property
    def repository(self) -> str:
        parts = self.parts
        for marker in ("manifests", "blobs", "tags"):
            if marker in parts[1:]:
                return "/".join(parts[1:parts.index(marker, 1)])
        return ""

    @property
    def reference(self) -> str:
        """The tag or digest a manifest or blob request names."""
        return self.parts[-1] if self.kind in ("manifest", "blob") else ""

    @property
    def downloads_blob(self) -> bool:
        """A ``GET`` that sent a blob's bytes (a layer or an image config)."""
        return self.method == "GET" and self.kind == "blob" and self.status in (200, 206)

    def named(self) -> str:
        """``app:v1``, ``app@sha256:0272fc3d051e…``: what the request was about."""
        ref = self.reference
        if ref.startswith("sha256:"):
            return f"{self.repository}@{short_digest(ref)}"
        return f"{self.repository}:{ref}" if ref else self.path

    def __str__(self) -> str:
        size = f"  {human(self.size)}" if self.downloads_blob else ""
        return f"{self.method} {self.path.split('?', 1)[0]} → {self.status}{size}"


@dataclass(frozen=True)
class CacheEntry:
    """A digest a pull-through cache keeps, and for how long (its log's scheduler entry)."""

    repository: str
    digest: str
    ttl_seconds: float

    @property
    def ttl_hours(self) -> int:
        return round(self.ttl_seconds / 3600)


def parse(text: str) -> list[Request]:
    """The access log lines of ``text`` as requests (other lines are skipped), marks left out."""
    found = []
    for line in text.splitlines():
        match = _ACCESS.match(line)
        if not match:
            continue
        agent = match["agent"] or ""
        if agent.startswith(MARK_AGENT):
            continue
        size = match["size"]
        found.append(Request(match["client"], match["method"], match["path"], int(match["status"]),
                             0 if size == "-" else int(size), agent))
    return found


def cache_entries(text: str) -> list[CacheEntry]:
    """The digests a proxy's log says it keeps (``Adding new scheduler entry …``), in order."""
    return [CacheEntry(m["repository"], m["digest"], _seconds(m["ttl"])) for m in _ENTRY.finditer(text)]


def _seconds(duration: str) -> float:
    """A Go duration (``167h59m59.999997737s``) in seconds."""
    return sum(float(value) * _SECONDS[unit] for value, unit in _DURATION.findall(duration))


class Requests(list):
    """A window of a registry's access log: what it served between two marks."""

    @property
    def blob_downloads(self) -> list[Request]:
        return [r for r in self if r.downloads_blob]

    @property
    def blob_bytes(self) -> int:
        """Bytes of blobs sent: the layers and configs that crossed the wire."""
        return sum(r.size for r in self.blob_downloads)

    @property
    def blobs(self) -> set[str]:
        """The distinct blobs sent."""
        return {r.reference for r in self.blob_downloads}

    def of(self, kind: str, method: str | None = None) -> list[Request]:
        return [r for r in self if r.kind == kind and (method is None or r.method == method)]

    def summary(self) -> list[str]:
        """One line per kind of request, in a fixed order: what a learner compares between pulls.

        Left out: ``GET /v2/`` (the check a proxy makes before calls to its upstream) and
        ``HEAD`` of blobs (a proxy asks a blob's size before each download, but remembers
        answers, so how many depends on timing); the order of concurrent requests, which
        varies, does not show either.
        """
        lines = []
        manifests = Counter((r.method, r.named(), r.status) for r in self.of("manifest"))
        order = {"HEAD": 0, "GET": 1}
        for (method, named, status), n in sorted(manifests.items(),
                                                 key=lambda kv: (kv[0][1], order.get(kv[0][0], 2), kv[0][0])):
            lines.append(f"{method} manifest {named} → {status}" + (f"  ×{n}" if n > 1 else ""))
        downloads = self.blob_downloads
        if downloads:
            lines.append(f"GET blob × {len(downloads)} ({len(self.blobs)} distinct): {human(self.blob_bytes)}")
        others = Counter(f"{r.method} {r.kind} → {r.status}" for r in self
                         if r.kind not in ("manifest", "blob", "base"))
        lines += [f"{what}" + (f"  ×{n}" if n > 1 else "") for what, n in sorted(others.items())]
        return lines or ["(no request)"]

    def __str__(self) -> str:
        return "\n".join(self.summary())

    __repr__ = __str__


class AccessLog:
    """One registry's log, cut into windows by marks (see the module's notes)."""

    def __init__(self, read: Callable[[], str], client: RegistryClient):
        self.read = read  # e.g. lambda: engine.containers.logs(name)
        self.client = client

    def mark(self) -> int:
        """Send a marked ``GET /v2/``, wait until the log shows it; return how many requests came before."""
        tag = f"{MARK_AGENT}{uuid.uuid4().hex[:12]}"
        self.client.request("GET", "/v2/", headers={"User-Agent": tag})
        deadline = time.monotonic() + MARK_WAIT
        delay = 0.005
        while True:
            text = self.read()
            at = text.find(f'"{tag}"')
            if at >= 0:
                return len(parse(text[:text.rfind("\n", 0, at) + 1]))  # the lines before the mark's
            if time.monotonic() > deadline:
                raise errors.log_silent(self.client.host, MARK_WAIT)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def since(self, start: int, end: int | None = None) -> Requests:
        """The requests from mark ``start`` (to mark ``end``, else to now)."""
        return Requests(parse(self.read())[start:end])

    def cache_entries(self) -> list[CacheEntry]:
        return cache_entries(self.read())

    def wait_cached(self, blobs: Iterable[tuple[str, str]], already: int = 0) -> None:
        """Wait until the proxy's log lists a cache entry for every ``(repository, digest)``
        beyond the first ``already`` entries: its copies of those blobs are then stored."""
        wanted = Counter(blobs)
        deadline = time.monotonic() + MARK_WAIT
        while True:
            have = Counter((e.repository, e.digest) for e in self.cache_entries()[already:])
            if all(have[key] >= n for key, n in wanted.items()):
                return
            if time.monotonic() > deadline:
                raise errors.proxy_still_storing(self.client.host, len(wanted), MARK_WAIT)
            time.sleep(0.02)
