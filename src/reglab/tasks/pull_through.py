"""Lab 12 · A pull-through cache in front of the lab's hub.

The set-up is notebook 06's start, built with :mod:`reglab.steps.mirror`: a hub (the lab's
stand-in for Docker Hub) holding ``app:v1``, which this machine has never pulled. The learner
runs a registry as a pull-through cache of the hub, pulls through it, and shows that the cache
keeps the image on its own disk and serves it with the hub down.

Task 3's evidence is in the two registries' own logs: a pull by tag the cache answered (200)
after the hub's last logged request — the hub answers every tag look-up of the cache while it
runs, so a request the cache *started* after the hub's last line was served without it. (The
checks themselves ask the cache by digest, never by tag, so they never make that evidence.)
"""

from __future__ import annotations

import re
import time
from datetime import datetime

from .. import checks, errors
from ..checks import ACCEPT_MANIFESTS, cached
from ..engines.base import PROXY_REMOTEURL
from ..errors import ReglabError
from ..exercises import Sheet, done, missing, task
from ..limits import Cannot
from ..media import short_digest
from ..registry import Registry
from ..registry_api import RegistryClient
from ..steps.mirror import DNS_OPTIONS, NETWORK

STORED_WITHIN = 10  # seconds: the cache writes what it fetched while serving it; a moment's grace
_TIME = re.compile(r'^time="(?P<time>[^"]+)"', re.MULTILINE)
_COMPLETED = re.compile(r'^time="(?P<time>[^"]+)" .*msg="response completed" .*http\.request\.method=(?:GET|HEAD) '
                        r'.*http\.request\.uri=/v2/app/manifests/v1 .*http\.response\.duration=(?P<took>\S+) '
                        r'.*http\.response\.status=200 ', re.MULTILINE)
_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|µs|us|ns|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}


def _when(stamp: str) -> float:
    """A registry log's ``time="2026-12-04T20:42:13.035908444Z"`` as Unix time (to the microsecond)."""
    day, _, rest = stamp.rstrip("Z").partition("T")
    clock, _, fraction = rest.partition(".")
    return datetime.fromisoformat(f"{day}T{clock}.{(fraction + '000000')[:6]}+00:00").timestamp()


def _seconds(duration: str) -> float:
    return sum(float(n) * _UNIT[u] for n, u in _PART.findall(duration))


class PullThrough(Sheet):
    id = "lab-12"
    title = "A pull-through cache"
    port_base = 5220

    def setup(self) -> None:
        mirror = self.lab.mirror
        hub = mirror.run_hub(port=self.new_port())
        self.lab.state.add_name("containers", hub.name)
        mirror.publish(versions=1, base_mib=0.25)
        self.digest = checks.digest_of(hub.address, "app", "v1")
        self.name("hub", hub.name, "the hub: the lab's stand-in for Docker Hub, holding app:v1")
        self.name("hub_address", hub.address, "where the hub answers on this machine")
        self.new_container("proxy", "proxy", "the cache you run")
        self.new_volume("volume", "cache", "the cache's storage")
        self.name("address", f"127.0.0.1:{self.new_port()}", "where the cache must answer")
        if Cannot.CONTAINER_NAMES not in self.engine.cannot:  # the cache names the hub on the lab's network
            network = self.scope.object_name(NETWORK)
            self.hidden("upstream", f"http://{hub.name}:5000")
            self.hidden("network_options", f"--network {network} " + " ".join(f"--dns-opt {o}" for o in DNS_OPTIONS))
        else:  # no networks: the cache reaches the hub on loopback
            self.hidden("upstream", hub.url)
            self.hidden("network_options", "")
        self.expect_tag(f"{self.address}/app:v1")

    def _digest_through_cache(self) -> str | None:
        """``HEAD`` app:v1's manifest by its digest through the cache (asked of the hub if the cache
        lacks it): never by tag, which task 3 reads as a learner's pull."""
        try:
            return RegistryClient(self.address).manifest_head("app", self.digest, accept=ACCEPT_MANIFESTS).digest
        except ReglabError:
            return None

    def _cache(self) -> Registry:
        host, port = self.address.rsplit(":", 1)
        return Registry(self.proxy, host, int(port))

    @task("Run a pull-through cache of the hub",
          hint="A registry becomes a cache of another when its configuration has proxy.remoteurl — environment "
               "variable REGISTRY_PROXY_REMOTEURL — set to the upstream's URL as the cache's container reaches it. "
               "With Docker that is the hub's name on the lab's network (--network), not 127.0.0.1: inside a "
               "container 127.0.0.1 is the container itself. print(sheet.upstream) and print(sheet.network_options) "
               "give both.",
          solution="docker container run -d --name {proxy} -p {address}:5000 {network_options} "
                   "-v {volume}:/var/lib/registry -e REGISTRY_PROXY_REMOTEURL={upstream} registry:3")
    def q1(self):
        running = checks.registry_at(self.engine, self.proxy, self.address)
        if not running:
            return running
        info = self.engine.containers.inspect(self.proxy)
        if not info.setting(PROXY_REMOTEURL):
            return missing(f"{self.proxy} runs as a plain registry: it has no {PROXY_REMOTEURL}")
        if info.data is None or info.data.source != self.volume:
            return missing(f"{self.proxy} does not keep its storage in the volume {self.volume}")
        got = self._digest_through_cache()
        if got != self.digest:
            return missing(f"{self.proxy} does not serve the hub's app:v1 (HEAD of its manifest by digest through it: "
                           f"{'nothing' if got is None else short_digest(got)}): is {PROXY_REMOTEURL} the hub as the "
                           "cache's container reaches it? docker container logs " + self.proxy)
        return done(f"{self.proxy} answers app:v1 with the hub's digest {short_digest(self.digest)}")

    @task("Pull app:v1 through the cache",
          hint="Docker pulls from the registry its image name starts with: name the cache's address, not the hub's.",
          solution="docker image pull {address}/app:v1")
    def q2(self):
        if RegistryClient(self.address).status() is None:
            return missing(errors.nothing_answers(self.address))
        ref = f"{self.address}/app:v1"
        if self.engine.images.info(ref) is None:
            return missing(f"there is no image {ref} on this machine: pull it")
        stored = cached(self.engine, self._cache(), "app", "v1")
        deadline = time.monotonic() + STORED_WITHIN
        while not stored and time.monotonic() < deadline:
            time.sleep(0.5)
            stored = cached(self.engine, self._cache(), "app", "v1")
        return done(f"{ref} is on this machine; {stored.what}: {stored.detail}") if stored \
            else missing(stored.detail)

    def _pulled_with_hub_down(self) -> bool:
        """Did the cache answer a pull of app:v1 by tag that it started after the hub's last logged
        request? (While the hub runs, it logs every tag look-up the cache makes for such a pull.)"""
        hub_times = [_when(m["time"]) for m in _TIME.finditer(self.engine.containers.logs(self.hub))]
        if not hub_times:
            return False
        last = max(hub_times)
        return any(_when(m["time"]) - _seconds(m["took"]) > last
                   for m in _COMPLETED.finditer(self.engine.containers.logs(self.proxy)))

    @task("Pull app:v1 again, with the hub down",
          hint="Stop the hub, remove your copy of the image, and pull it again through the cache. A pull by tag asks "
               "the upstream what the tag names now — while it answers; with the hub down, the cache answers from "
               "what it kept. Look at its storage too: docker container exec <cache> find /var/lib/registry/docker "
               "-name data.",
          solution="docker container stop {hub}\ndocker image rm {address}/app:v1\ndocker image pull {address}/app:v1")
    def q3(self):
        if RegistryClient(self.address).status() is None:
            return missing(errors.nothing_answers(self.address))
        if self.engine.containers.state(self.hub) == "running":
            return missing(f"the hub {self.hub} is still running: stop it first")
        if self.engine.containers.inspect(self.proxy) is None:
            return missing(f"there is no container {self.proxy}: the cache is gone, and what it kept with it")
        if not self._pulled_with_hub_down():
            return missing(f"the cache has not served a pull of app:v1 since the hub stopped: remove your copy "
                           f"({self.address}/app:v1) and pull it again through {self.address}")
        served = checks.served(self.address, "app", self.digest)  # by digest: never a tag look-up of the check's own
        if not served:
            return missing(f"with the hub down the cache does not serve app:v1 whole: {served.detail}")
        if self.engine.images.info(f"{self.address}/app:v1") is None:
            return missing(f"the cache served it, but {self.address}/app:v1 is not on this machine: pull it again")
        return done(f"with {self.hub} stopped, {self.address} served app:v1 by its tag, whole, from its own disk")
