"""Notebook 06 · Your turn: a second cache of the hub that forgets after seconds (registry:3's
``proxy.ttl``), a pull through it, and its storage after the time is up — with the docker CLI.

Set up on the notebook's own lab (its hub must be running): the name, address and network
options of a cache the learner runs. The checks read the live cache (its container's settings,
its log's scheduler lines, its storage on disk) and the images on this machine.
"""

from __future__ import annotations

import re

from .. import accesslog, checks, errors
from ..engines.base import PROXY_REMOTEURL
from ..errors import ReglabError
from ..exercises import Practice, done, missing, task
from ..limits import Cannot
from ..steps.mirror import DNS_OPTIONS, PROXY_TTL

SHORT = 120  # seconds: a TTL above this is not "seconds" for this task
EXPIRED = "Deleting blob"  # what the cache logs as it deletes an expired blob
UNSUPPORTED = "operation unsupported"  # an expiry with deletes off


_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3}


def _seconds(value: str) -> float | None:
    """A Go duration (``15s``, ``1m30s``, ``0``) in seconds; None when it is not one."""
    value = value.strip()
    if value == "0":
        return 0.0
    found = _PART.findall(value)
    if not found or "".join(n + u for n, u in found) != value:
        return None
    return sum(float(n) * _UNIT[u] for n, u in found)


class Practice06(Practice):
    id = "06"
    title = "a cache that forgets"
    port_base = 5060

    def setup(self) -> None:
        hub = self.lab.mirror.hub
        if hub is None or self.engine.containers.state(hub.name) != "running":
            raise errors.practice_06_needs_hub()
        self.hub = hub
        self.lab.mirror.become("you")  # a machine without app, as a new learner's: a pull fetches every blob
        if self.echo:
            print("(this machine holds nothing of app now, as a new learner's: a pull fetches every blob)")
        self.new_container("cache", "quick-cache", "the cache you run")
        self.name("address", f"127.0.0.1:{self.new_port()}", "where it must answer")
        if Cannot.CONTAINER_NAMES not in self.engine.cannot:  # it names the hub on the lab's network
            network = self.scope.object_name("net")
            self.name("upstream", f"http://{hub.name}:5000", "the hub, as a container on the lab's network reaches it")
            self.name("network_options", f"--network {network} " + " ".join(f"--dns-opt {o}" for o in DNS_OPTIONS),
                      "what puts the cache on that network")
        else:
            self.name("upstream", hub.url, "the hub, as the cache reaches it here (no container networks)")
            self.name("network_options", "", "none: no container networks here")
        self.expect_tag(f"{self.address}/app:v2")

    # ------------------------------------------------------------------ what the checks read

    def _log(self) -> str:
        return self.engine.containers.logs(self.cache) if self.engine.containers.inspect(self.cache) else ""

    def _entries(self) -> list[accesslog.CacheEntry]:
        return [e for e in accesslog.cache_entries(self._log()) if e.repository == "app"]

    # ------------------------------------------------------------------ the tasks

    @task("Run a cache of the hub that forgets after 15 seconds",
          hint="The same registry:3 as the notebook's cache (REGISTRY_PROXY_REMOTEURL), with one more setting: "
               "proxy.ttl, as an environment variable REGISTRY_PROXY_TTL=15s. Without it the cache keeps what it "
               "fetched for 168 h; 0 keeps it forever.",
          solution="docker container run -d --name {cache} -p {address}:5000 {network_options} "
                   "-e REGISTRY_PROXY_REMOTEURL={upstream} -e REGISTRY_PROXY_TTL=15s registry:3")
    def q1(self):
        running = checks.registry_at(self.engine, self.cache, self.address)
        if not running:
            return running
        info = self.engine.containers.inspect(self.cache)
        if not info.setting(PROXY_REMOTEURL):
            return missing(f"{self.cache} runs as a plain registry: it has no {PROXY_REMOTEURL}")
        ttl = info.setting(PROXY_TTL)
        if ttl is None:
            return missing(f"{self.cache} has no {PROXY_TTL}: it keeps what it fetches for 168 h, proxy.ttl's default")
        seconds = _seconds(ttl)
        if seconds is None:
            return missing(f"{PROXY_TTL}={ttl} is not a duration the registry reads (15s, 1m30s)")
        if seconds == 0:
            return missing(f"{PROXY_TTL}={ttl} turns expiry off: the cache keeps everything forever")
        if seconds > SHORT:
            return missing(f"{PROXY_TTL}={ttl} is minutes or more: make it seconds (15s), or task 3 means a long wait")
        if checks.digest_of(self.address, "app", "v1") is None:
            return missing(f"{self.cache} does not serve the hub's app:v1: is {PROXY_REMOTEURL} the hub as the "
                           f"cache's container reaches it ({self.upstream})? docker container logs {self.cache}")
        return done(f"{self.cache} caches the hub at {self.address} and forgets after {ttl}")

    @task("Pull app:v2 through it",
          hint="Name the new cache's address in the image name; then read its log: docker container logs <cache> "
               "2>&1 | grep 'scheduler entry'.",
          solution="docker image pull {address}/app:v2")
    def q2(self):
        pulled = [r for r in accesslog.parse(self._log()) if r.kind == "manifest" and r.method in ("GET", "HEAD")
                  and r.repository == "app" and r.reference == "v2" and r.status == 200]  # Docker asks the tag with HEAD
        entries = self._entries()
        if not pulled or not entries:
            return missing(f"{self.cache}'s log shows no pull of app:v2 through it: docker image pull "
                           f"{self.address}/app:v2 (the address names the cache)")
        longest = max(e.ttl_seconds for e in entries)
        if longest > SHORT:
            return missing(f"{self.cache} keeps app for {round(longest / 3600)} h (its log's scheduler entries): "
                           f"run it with {PROXY_TTL}=15s (task 1)")
        return done(f"{self.cache} served app:v2 and its log has {len(entries)} scheduler entries for app, each "
                    f"with ttl≈{round(longest)} s")

    @task("Watch it forget",
          hint="Wait until the time is up, then count the files that hold blobs in its storage: docker container exec "
               "<cache> find /var/lib/registry/docker -name data. The expired blobs go (deletes are on in registry:3's own "
               "configuration); the manifest's stays.",
          solution="sleep 20\ndocker container exec {cache} find /var/lib/registry/docker -name data | wc -l")
    def q3(self):
        if self.engine.containers.inspect(self.cache) is None:
            return missing(f"there is no container {self.cache}: run it (task 1)")
        entries = self._entries()
        if not entries:
            return missing(f"nothing was pulled through {self.cache} yet (task 2)")
        log = self._log()
        if UNSUPPORTED in log and EXPIRED not in log:
            return missing(f"the entries expired, but {self.cache} could not delete them (its log: OnExpire(…): "
                           "operation unsupported): its storage has deletes off; run it without "
                           "REGISTRY_STORAGE_DELETE_ENABLED=false")
        try:
            tree = self.engine.containers.storage(self.cache)
        except ReglabError as exc:
            return missing(str(exc).rstrip("."))
        blobs = tree.blobs()
        left = [e.digest for e in entries if e.digest in blobs and tree.blob_kind(e.digest) != "manifest"]
        if left:
            return missing(f"{len(left)} of the blobs it fetched for app are still in its storage: wait until their "
                           f"ttl has passed ({round(max(e.ttl_seconds for e in entries))} s after the pull), then look "
                           "again")
        return done(f"the layers and config it fetched for app:v2 are gone from {self.cache}'s storage: they expired "
                    "and were deleted; the next pull fetches them from the hub again")
