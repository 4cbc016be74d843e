"""Steps for registry:2 beside registry:3 (appendix notebook A): each difference a learner meets, live.

Two registries run side by side — ``registry:2`` (distribution 2.8; offline, Debian's 2.8.2) and
``registry:3`` (distribution v3) — and every step sends both the same command, shows what each
answered (the twin's own output: curl run in the learner's terminal, ``docker container exec``
through the engine), then one ``lab:`` line reading it. For the pull-through cache a hub and one
cache of each version stand in front of it, measured from the hub's own access log as notebook 06
measures (:mod:`reglab.accesslog`, :mod:`reglab.bandwidth`).

What each step shows, and where the difference comes from, is measured and sourced in
docs/registry-2-and-3.md (the numbers in brackets below are its sections):

=====================  ===========================================================  ======
``config_path``        where the image reads its config (PR #4365)                  1, 12
``deletes_by_default`` ``DELETE`` of a manifest: 405 vs 202 (the image's config)    1
``schema1_rewrite``    a tag fetched without ``Accept``: schema 1 vs as stored      2
``delete_by_tag``      ``DELETE`` of a tag: 400 vs 202 (PR #3427)                   3
``gc_and_layers``      garbage collection and ``_layers`` link files (PR #4344)     4
``proxy_double_fetch`` a new blob fetched by a cache twice vs once (PR #3569)       6
``proxy_ttl``          ``proxy.ttl`` ignored vs honoured (PR #3880)                 7
``metrics``            ``/metrics`` on the debug server (PRs #4047, #4045)           8
=====================  ===========================================================  ======
"""

from __future__ import annotations

import json
import time

from .. import errors, ports, terminal
from .. import images as course_images
from ..accesslog import AccessLog, cache_entries
from ..bandwidth import PullCost
from ..engines import Cannot, Engine
from ..engines.base import PROXY_REMOTEURL, REGISTRY_DATA
from ..media import ACCEPT_ALL
from ..narrator import Narrator
from ..reference import parse
from ..registries import Registries
from ..registry import Registry
from ..sandbox import Sandbox
from ..twin import Raw, Twin, docker
from ..units import count, human

VERSIONS = (2, 3)
IMAGES = {2: "registry:2", 3: "registry:3"}
DELETE_ENABLED = "REGISTRY_STORAGE_DELETE_ENABLED"
PROXY_TTL = "REGISTRY_PROXY_TTL"  # proxy.ttl: registry 3 only (2.8: fixed 168 h)
DEBUG_ADDR = "REGISTRY_HTTP_DEBUG_ADDR"  # http.debug.addr: both versions
PROMETHEUS = "REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED"  # http.debug.prometheus.enabled: both versions
TTL_HOURS = 2
TTL = f"{TTL_HOURS}h"  # what both caches are given
DEBUG_PORT = 5100  # where the caches' debug servers listen (on a loopback port the lab keeps)
NETWORK = "net"
DNS_OPTIONS = ("ndots:1",)  # the hub's name is never asked of the outside world's DNS (notebook 06)
HUB_IMAGE = "library/demo"
LAYER_SIZE = 2 * 1024 * 1024
SEED = "appendix-a"
LINKS = "docker/registry/v2/repositories/{}"  # a repository's folder, under the registry's data
STATUS = "HTTP %{http_code}\\n"  # curl -w: the answer's status on a line of its own


class Fetches(dict):
    """One first pull through each version's cache, measured on the hub: ``{"registry:2": PullCost, …}``.
    Prints as the table :func:`reglab.plots.fetches_by_version` draws."""

    def __str__(self) -> str:
        rows = [("cache", "the image", "sent by the hub", "blob downloads at the hub")]
        for label, cost in self.items():
            each = {1: "each once", 2: "each twice"}.get(cost.upstream_downloads // max(cost.upstream_blobs, 1),
                                                         f"{cost.upstream_downloads} in all")
            rows.append((label, human(cost.served), human(cost.upstream or 0),
                         f"{cost.upstream_downloads} ({count(cost.upstream_blobs, 'blob')}, {each})"))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        return "\n".join(f"{r[0]:<{widths[0]}}   {r[1]:>{widths[1]}}   {r[2]:>{widths[2]}}   {r[3]}" for r in rows)

    __repr__ = __str__


class VersionSteps:
    """registry:2 and registry:3 side by side; one method per difference."""

    def __init__(self, narrator: Narrator, engine: Engine, sandbox: Sandbox, registries: Registries):
        self.say, self.engine, self.sandbox, self.registries = narrator, engine, sandbox, registries
        self.registry: dict[int, Registry] = {}
        self.hub: Registry | None = None
        self.proxy: dict[int, Registry] = {}
        self.debug_port: dict[int, int] = {}
        self.fetches = Fetches()

    # ------------------------------------------------------------------ helpers

    def _both(self) -> dict[int, Registry]:
        if len(self.registry) < 2:
            raise errors.versions_not_started(what="registry:2 and registry:3", start="lab.versions.run_both()")
        return self.registry

    def _caches(self) -> dict[int, Registry]:
        if len(self.proxy) < 2 or self.hub is None:
            raise errors.versions_not_started(what="a hub and a cache of each version", start="lab.versions.run_caches()")
        return self.proxy

    def _terminal(self, twin: Twin) -> str:
        """Run ``twin`` in the learner's terminal and show what it prints (HTTP's CRs dropped)."""
        self.say.twin(twin)
        text = terminal.run(twin).text.replace("\r", "")
        self.say.output(text)
        return text

    def _exec(self, registry: Registry, argv: list[str], pipe: tuple[tuple[str, ...], ...] = (),
              workdir: str | None = None, redirect: str | None = None) -> str:
        """``docker container exec [-w DIR] NAME argv [2>&1] | pipe…``: the command runs in the registry's
        container (the engine's exec), the pipe in the learner's terminal; show what comes out."""
        head = docker("container", "exec", *(["-w", workdir] if workdir else []), registry.name, *argv,
                      *([Raw(redirect)] if redirect else []))
        self.say.twin(Twin(head.argv, pipe))
        text = self.engine.containers.exec(registry.name, argv, workdir=workdir).output
        text = terminal.pipe_through(pipe, text) if pipe else text
        self.say.output(text)
        return text

    def _tag_and_push(self, source: str, target: str) -> str:
        """``docker image tag`` + ``docker image push``: the manifest digest the registry got."""
        ref = parse(target)
        self.say.twin(docker("image", "tag", source, target))
        if self.engine.images.info(ref.tagged) is None:
            self.engine.images.tag(parse(source).tagged, ref.tagged)
            self.sandbox.record_tag(ref.tagged)
        self.say.twin(docker("image", "push", target))
        digest = self.engine.images.push(ref.tagged, auth=self.sandbox.credentials(ref.registry)).digest
        self.say.say(f"pushed {ref.tagged}: manifest digest {digest}")
        return digest

    # ------------------------------------------------------------------ the two registries

    def run_both(self, port: int | None = 5000) -> dict[int, Registry]:
        """``registry:2`` and ``registry:3`` side by side, each with its image's own config."""
        first = self.registries.run(port=port, name="registry2", image=IMAGES[2])  # the lab's current registry
        second = self.registries.run(port=first.port + 1, name="registry3", image=IMAGES[3], current=False)
        self.registry = {2: first, 3: second}
        return self.registry

    def config_path(self) -> dict[int, str]:
        """Where each image's registry reads its config: the command the image gives it."""
        paths = {}
        for version, registry in self._both().items():
            self.say.twin(docker("container", "inspect", "--format", "{{json .Config.Cmd}}", registry.name))
            info = self.engine.containers.inspect(registry.name)
            paths[version] = info.config if info else None
            self.say.output(json.dumps([paths[version]]))
        self.say.explain(f"registry:2 reads {paths[2]}, registry:3 {paths[3]}: a config mounted at the old path "
                         "is silently ignored by registry:3, and `registry garbage-collect` must name the new one")
        return paths

    def push_both(self, image: str | None = None, tags: tuple[str, ...] = ("latest",)) -> dict[int, str]:
        """The same image pushed to both (``docker image tag`` + ``push``)."""
        image = image or self.sandbox.settings.hello_image
        repository = parse(image).familiar_repository
        digests = {}
        for version, registry in self._both().items():
            for tag in tags:
                digests[version] = self._tag_and_push(image, registry.ref(repository, tag))
        return digests

    # ------------------------------------------------------------------ the differences

    def deletes_by_default(self, repository: str = "hello-world", tag: str = "latest") -> dict[int, int]:
        """``DELETE`` a manifest by its digest, the API's way, on each image's own config."""
        registries = self._both()
        digest = registries[3].api.manifest_head(repository, tag, accept=ACCEPT_ALL).digest
        codes = {}
        for version, registry in registries.items():
            text = self._terminal(Twin.of("curl", "-s", "-w", STATUS, "-X", "DELETE",
                                          f"{registry.url}/v2/{repository}/manifests/{digest}"))
            codes[version] = _status(text)
        self.say.explain(f"registry:2 answers {codes[2]} (deletes are off unless its config turns them on); "
                         f"registry:3 answers {codes[3]}: its image's config has storage.delete.enabled: true, so "
                         "the manifest and every tag naming it are gone")
        return codes

    def schema1_rewrite(self, repository: str = "hello-world", tag: str = "latest") -> dict[int, str]:
        """A tag fetched without an ``Accept`` header (curl's default): which manifest comes back."""
        digests = {}
        for version, registry in self._both().items():
            text = self._terminal(Twin.of("curl", "-sI", f"{registry.url}/v2/{repository}/manifests/{tag}")
                                  | Twin.of("grep", "-E", "^(Content-Type|Docker-Content-Digest):"))
            digests[version] = _header(text, "Docker-Content-Digest")
        self.say.explain(f"the same push, two answers: registry:2 rewrote the manifest to the old schema 1 "
                         f"(another document, digest {digests[2][:19]}…, which no DELETE accepts); registry:3 "
                         f"serves it as stored, {digests[3][:19]}…, the digest the push printed")
        return digests

    def turn_deletes_on(self) -> Registry:
        """registry:2 again, with deletes on, as a team's own config does (its data goes with it: no volume)."""
        old = self._both()[2]
        self.say.twin(docker("container", "rm", "-f", "-v", old.name))
        self.engine.containers.kill(old.name)
        self.engine.containers.remove(old.name)
        self.registry[2] = self.registries.run(port=old.port, name="registry2", image=IMAGES[2],
                                               env={DELETE_ENABLED: "true"})
        return self.registry[2]

    def delete_by_tag(self, repository: str = "hello-world", tag: str = "old") -> dict[int, int]:
        """``DELETE`` a manifest by a tag (deletes on in both), then ask for that tag again."""
        registries = self._both()
        codes, after = {}, {}
        for version, registry in registries.items():
            text = self._terminal(Twin.of("curl", "-s", "-w", STATUS, "-X", "DELETE",
                                          f"{registry.url}/v2/{repository}/manifests/{tag}"))
            codes[version] = _status(text)
        for version, registry in registries.items():
            text = self._terminal(Twin.of("curl", "-sI", f"{registry.url}/v2/{repository}/manifests/{tag}")
                                  | Twin.of("head", "-n", "1"))
            after[version] = _status(text)
        self.say.explain(f"registry:2 refuses a tag ({codes[2]}: its API deletes by digest only) and {tag} still "
                         f"answers {after[2]}; registry:3 removes the tag alone ({codes[3]}, then {after[3]}): the "
                         "manifest stays for the image's other tags")
        return codes

    def layer_links(self, repository: str = "hello-world") -> dict[int, list[str]]:
        """The link files in each registry's ``_layers/`` for ``repository`` (``find … | sort``)."""
        links = {}
        for version, registry in self._both().items():
            text = self._exec(registry, ["find", "_layers", "-name", "link"], (("sort",),),
                              workdir=f"{REGISTRY_DATA}/{LINKS.format(repository)}")
            links[version] = text.split()
            if not links[version]:
                self.say.say("(no output: no link file)")
        return links

    def gc_and_layers(self, repository: str = "hello-world") -> dict[int, tuple[list[str], list[str]]]:
        """Delete the image by digest in both (deletes on in both now), collect garbage, and look at
        the ``_layers`` link files before and after."""
        registries = self._both()
        digest = registries[3].api.manifest_head(repository, "latest", accept=ACCEPT_ALL).digest
        for registry in registries.values():
            self._terminal(Twin.of("curl", "-s", "-w", STATUS, "-X", "DELETE",
                                   f"{registry.url}/v2/{repository}/manifests/{digest}"))
        before = self.layer_links(repository)
        for registry in registries.values():
            self._exec(registry, ["registry", "garbage-collect", registry.run.config_path],
                       (("grep", "eligible"), ("sort",)), redirect="2>&1")
        after = self.layer_links(repository)
        self.say.explain(f"both deleted the blobs; registry:2 left {count(len(after[2]), 'link file')} in _layers/ "
                         f"naming blobs that are gone, registry:3 removed {len(before[3]) - len(after[3])} of "
                         f"{len(before[3])}, each with its blob")
        return {version: (before[version], after[version]) for version in registries}

    # ------------------------------------------------------------------ a pull-through cache of each

    def _debug_port(self, preferred: int) -> int:
        """A loopback port for a debug server, kept for the lab (processes share this machine's ports)."""
        for _ in range(ports.SEARCH_SPAN):
            port = ports.choose(preferred)
            if self.sandbox.hold_port(port, "127.0.0.1"):
                return port
            preferred = port + 1
        return ports.choose(preferred, strict=True)

    def run_caches(self, port: int | None = None) -> dict[int, Registry]:
        """A hub with one image on it, and a pull-through cache of each version in front of it, both
        configured alike: ``proxy.ttl`` 2 h, a debug server with Prometheus metrics on loopback."""
        start = port or (max(r.port for r in self.registry.values()) + 1 if self.registry else 5000)
        self.hub = hub = self.registries.run(name="hub", network=NETWORK, port=start, current=False)
        source = hub.ref(HUB_IMAGE, "latest")
        build = course_images.synthetic_image(source, [course_images.random_layer("demo.bin", LAYER_SIZE, SEED)])
        data = course_images.docker_archive([build])
        archive = self.sandbox.folder("archives") / "demo.tar"
        archive.write_bytes(data)
        self.say.twin(docker("image", "load", "-i", str(archive)))
        self.engine.images.load(data)
        self.sandbox.record_tag(parse(source).tagged)
        self.say.twin(docker("image", "push", source))
        self.engine.images.push(source)
        self.say.twin(docker("image", "rm", source))
        self.engine.images.remove(source)
        self.sandbox.state.drop_tag(parse(source).tagged)
        self.say.say(f"the hub holds {HUB_IMAGE}:latest ({human(len(build.layers[0].gzipped()))} layer); "
                     "this machine keeps no copy")
        upstream = f"http://{hub.name}:5000"
        debug = DEBUG_PORT
        for offset, version in enumerate(VERSIONS, start=1):
            debug = self.debug_port[version] = self._debug_port(debug)
            env = {PROXY_REMOTEURL: upstream, PROXY_TTL: TTL, DEBUG_ADDR: f"127.0.0.1:{debug}", PROMETHEUS: "true"}
            self.proxy[version] = self.registries.run(name=f"proxy{version}", image=IMAGES[version], network=NETWORK,
                                                      port=hub.port + offset, env=env, dns_options=DNS_OPTIONS,
                                                      current=False)
            if Cannot.CONTAINER_NAMES in self.engine.cannot:
                self.say.note(errors.cannot_name_containers(self.engine.label, "the proxy", hub.name, hub.url))
            debug += 1
        self.say.explain(f"two caches of {upstream}, configured alike (proxy.ttl {TTL}, a debug server on loopback "
                         "with Prometheus metrics); neither holds anything yet")
        return self.proxy

    def proxy_double_fetch(self) -> Fetches:
        """The image pulled once through each cache, each time from nothing; what the hub sent, from its log."""
        caches = self._caches()
        hub = self.hub
        hub_log = AccessLog(lambda: self.engine.containers.logs(hub.name), hub.api)
        for version, proxy in caches.items():
            proxy_log = AccessLog(lambda name=proxy.name: self.engine.containers.logs(name), proxy.api)
            ref = parse(proxy.ref(HUB_IMAGE, "latest"))
            h0, p0, e0 = hub_log.mark(), proxy_log.mark(), len(proxy_log.cache_entries())
            self.say.twin(docker("image", "pull", ref.tagged))
            began = time.perf_counter()
            self.engine.images.pull(ref.tagged)
            seconds = time.perf_counter() - began
            self.sandbox.record_tag(ref.tagged)
            served = proxy_log.since(p0, proxy_log.mark())
            first = hub_log.since(h0, hub_log.mark())
            # the cache stores its copy of each blob in the background: wait for it, then read the hub's log again
            proxy_log.wait_cached({(r.repository, r.reference) for r in first.blob_downloads}, already=e0)
            fetched = hub_log.since(h0, hub_log.mark())
            self.say.say(f"the hub's log meanwhile: {'; '.join(fetched.summary())}")
            self.say.twin(docker("image", "rm", ref.tagged))  # the next pull starts from nothing again
            self.engine.images.remove(ref.tagged)
            self.sandbox.state.drop_tag(ref.tagged)
            self.fetches[IMAGES[version]] = PullCost(
                IMAGES[version], f"{HUB_IMAGE}:latest", served.blob_bytes, len(served.blobs), fetched.blob_bytes,
                len(fetched.blob_downloads), len(fetched.blobs), seconds, fetched)
        two, three = self.fetches[IMAGES[2]], self.fetches[IMAGES[3]]
        self.say.explain(f"for a {human(two.served)} image the hub sent the registry:2 cache {human(two.upstream)} "
                         f"({_times(two)} the image: each blob streamed to the client and fetched again for its "
                         f"storage) and the registry:3 cache {human(three.upstream)} ({_times(three)})")
        return self.fetches

    def proxy_ttl(self) -> dict[int, int]:
        """How long each cache keeps what it fetched, from its own log (both were given ``proxy.ttl`` 2 h)."""
        hours = {}
        pattern = "ttl=[0-9]+h[0-9]+m|unrecognized environment variable [A-Z_]+"
        for version, proxy in self._caches().items():
            self.say.twin(docker("container", "logs", proxy.name, Raw("2>&1"))
                          | Twin.of("grep", "-oE", pattern) | Twin.of("sort", "-u"))
            log = self.engine.containers.logs(proxy.name)
            self.say.output(terminal.pipe_through((("grep", "-oE", pattern), ("sort", "-u")), log))
            hours[version] = max((entry.ttl_hours for entry in cache_entries(log)), default=0)
        self.say.explain(f"registry:2 ignores {PROXY_TTL} (no such setting in 2.8) and keeps each blob its fixed "
                         f"{hours[2]} h; registry:3 keeps it for the {hours[3]} h it was given, then deletes it "
                         "(deletes are on in its image's config) and fetches it again on the next pull")
        return hours

    def metrics(self) -> dict[int, list[str]]:
        """Each cache's ``/metrics``, from the debug server both were given: which metric families it
        has, and what registry:3's says it pulled from the hub."""
        caches = self._caches()
        families = {}
        for version, proxy in caches.items():
            families[version] = self._exec(proxy, ["wget", "-qO-", self._metrics_url(version)],
                                           (("grep", "-oE", "^registry_[a-z]+_"), ("sort", "-u"))).split()
        pulled = self._exec(caches[3], ["wget", "-qO-", self._metrics_url(3)],
                            (("grep", '^registry_proxy_pulled_bytes_total{type="blob"}'),))
        counted = float(pulled.split()[-1]) if pulled.split() else 0.0
        fetched = self.fetches.get(IMAGES[3])
        hub = ", what the hub's log says it sent" if fetched and fetched.upstream == round(counted) else ""
        only = sorted(set(families[3]) - set(families[2]))
        self.say.explain(f"both serve /metrics once configured; only registry:3 has {', '.join(f + '…' for f in only)}"
                         f", what a cache did: {round(counted)} bytes of blobs pulled from its upstream{hub}")
        return families

    def _metrics_url(self, version: int) -> str:
        return f"http://127.0.0.1:{self.debug_port[version]}/metrics"


def _status(text: str) -> int:
    """The status in curl's ``HTTP 202`` (``-w``) or ``HTTP/1.1 404 Not Found`` line."""
    for line in reversed(text.splitlines()):
        if line.startswith("HTTP"):
            return int(line.split()[1])
    return 0


def _header(text: str, name: str) -> str:
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return ""


def _times(cost: PullCost) -> str:
    ratio = (cost.upstream or 0) / cost.served if cost.served else 0
    return f"{ratio:.0f}×" if abs(ratio - round(ratio)) < 0.05 else f"{ratio:.2f}×"
