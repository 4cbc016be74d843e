"""Steps for the registry as a pull-through cache (notebook 06).

A **hub** (the lab's own stand-in for Docker Hub) and a **proxy** (a registry with
``proxy.remoteurl`` pointing at the hub) on a network of the lab: under Docker the proxy
names the hub by its container name (``--dns-opt ndots:1`` keeps that name from ever being
asked of the outside world's DNS, which on an offline machine only times out once the hub is
gone); the daemonless engine gives the proxy the hub's loopback address instead.

Pulls are measured on both sides of the cache, from each registry's own access log
(:mod:`reglab.accesslog`, :mod:`reglab.bandwidth`): registry:3 fetches a new blob from its
upstream once, streaming it to the client and into its storage together (distribution PR
#3569); registry:2 fetched it twice. Before each call to its upstream a proxy sends ``GET
/v2/`` (it asks how to log in there). One engine plays every learner's machine:
before a learner's pull, the images of this topic that learner has not pulled are removed from
the engine's store (and those they had are put back), so each pull downloads what that
learner's own machine would.

Docker's ``registry-mirrors`` (only for Docker Hub names) is set in ``daemon.json`` through
:mod:`reglab.daemon` — only on a daemon reglab's set-up started — and restored byte for byte
by :meth:`MirrorSteps.restore_daemon`, by cleanup, and by the next ``Lab`` after a killed kernel.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import errors
from .. import images as course_images
from ..accesslog import AccessLog, Requests
from ..bandwidth import Ledger, PullCost
from ..daemon import DEFAULT_DAEMON_JSON, SIGHUP_TWIN, Change
from ..engines import Cannot, Engine
from ..engines.base import PROXY_REMOTEURL, REGISTRY_DATA
from ..media import ACCEPT_ALL, DOCKER_MANIFEST
from ..narrator import Narrator
from ..reference import parse
from ..registries import Registries
from ..registry import Registry
from ..registry_run import registry_major
from ..sandbox import Sandbox
from ..twin import Raw, Twin, docker
from ..units import count, human

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NETWORK = "net"
MIRRORS = "registry-mirrors"
DELETE_ENABLED = "REGISTRY_STORAGE_DELETE_ENABLED"
PROXY_TTL = "REGISTRY_PROXY_TTL"
APP = "app"  # the repository of the images published on the hub
DNS_OPTIONS = ("ndots:1",)
SEED = 6  # the notebook's own layers (a number for the pseudo-random bytes): none is shared with another notebook's images
HUB_NAME_SIZE = 256 * 1024  # the layer of the image published as a Docker Hub name: small, quick


@dataclass(frozen=True)
class Lookup:
    """A manifest looked up through the cache: its digest, and what reached the upstream meanwhile."""

    digest: str
    upstream: Requests


class MirrorSteps:
    """A hub, a pull-through cache in front of it, and pulls measured on both sides."""

    def __init__(self, narrator: Narrator, engine: Engine, sandbox: Sandbox, registries: Registries):
        self.say, self.engine, self.sandbox, self.registries = narrator, engine, sandbox, registries
        self.hub: Registry | None = None
        self.proxy: Registry | None = None
        self.ledger = Ledger()
        self.machines: dict[str, set[str]] = {}  # learner → the images (proxy references) on their machine
        self._here: set[str] = set()  # what the engine's store holds of them now
        self._mirror: Change | None = None

    # ------------------------------------------------------------------ the hub and the cache

    def _need(self, what: str) -> Registry:
        registry = getattr(self, what)
        if registry is None:
            raise errors.no_such_mirror_registry(what)
        return registry

    def run_hub(self, port: int | None = 5000) -> Registry:
        """The upstream: a plain registry on the lab's network, standing in for Docker Hub."""
        self.hub = self.registries.run(name="hub", network=NETWORK, port=port, current=False)
        return self.hub

    def publish(self, versions: int = 3, base_mib: float = 20) -> list[str]:
        """Someone publishes ``app:v1…vN`` (one shared base layer) on the hub; this machine then
        forgets them, as a learner's machine has never seen them."""
        hub = self._need("hub")
        builds = course_images.growth_series(hub.address, versions=versions, base_mib=base_mib,
                                             second_app_versions=0, seed=SEED)[:versions]
        tags, load = _load(self.engine, self.sandbox, builds, "app.tar")
        self.say.twin(load)
        for tag in tags:
            self.say.twin(docker("image", "push", tag))
            self.engine.images.push(tag)
        for tag in tags:
            self.say.twin(docker("image", "rm", tag))
            self.engine.images.remove(tag)
            self.sandbox.state.drop_tag(tag)
        sizes = " + ".join(human(len(layer.gzipped())) for layer in builds[0].layers)
        self.say.say(f"the hub holds {', '.join(parse(t).repository + ':' + parse(t).tag_or_default for t in tags)}: "
                     f"each a {human(len(builds[0].layers[0].gzipped()))} base layer they share and a layer of its own "
                     f"(app:v1 = {sizes}); this machine keeps no copy")
        return tags

    def run_proxy(self, port: int | None = None) -> Registry:
        """The pull-through cache: a registry with ``proxy.remoteurl`` = the hub, by its name on the network."""
        hub = self._need("hub")
        upstream = f"http://{hub.name}:5000"
        # deletes on: else a 2.8 cache cannot drop what expires ("OnExpire(…): operation unsupported")
        self.proxy = self.registries.run(name="proxy", network=NETWORK, port=port or hub.port + 1,
                                         env={PROXY_REMOTEURL: upstream, DELETE_ENABLED: "true"},
                                         dns_options=DNS_OPTIONS)
        if Cannot.CONTAINER_NAMES in self.engine.cannot:
            self.say.note(errors.cannot_name_containers(self.engine.label, "the proxy", hub.name, hub.url))
        self.say.say(f"a pull-through cache of {upstream}: it stores nothing until someone pulls through it")
        return self.proxy

    def _logs(self) -> tuple[AccessLog, AccessLog]:
        hub, proxy = self._need("hub"), self._need("proxy")
        return (AccessLog(lambda: self.engine.containers.logs(hub.name), hub.api),
                AccessLog(lambda: self.engine.containers.logs(proxy.name), proxy.api))

    def _hub_up(self) -> bool:
        return self.engine.containers.state(self._need("hub").name) == "running"

    # ------------------------------------------------------------------ learners pull through it

    def become(self, learner: str) -> str:
        """Make the engine's store hold exactly what ``learner``'s machine holds of this topic's
        images (other names of them the lab made, such as a practice cache's, go too); say what that is."""
        have = self.machines.setdefault(learner, set())
        for ref in sorted(self._here - have):
            self.engine.images.remove(ref)
            self.sandbox.state.drop_tag(parse(ref).tagged)
        for tag in sorted(set(self.sandbox.state.tags) - {parse(r).tagged for r in have}):
            if parse(tag).repository == APP and self.engine.images.info(tag) is not None:
                self.engine.images.remove(tag)  # the same layers under another registry's name
        for ref in sorted(have - self._here):
            self.engine.images.pull(ref)  # outside any measurement: the cache has it already
        self._here = set(have)
        names = ", ".join(_short(r) for r in sorted(have))
        return f"{learner}'s machine holds {names}" if names else f"{learner}'s machine holds nothing of app yet"

    def pull_as(self, learner: str, image: str) -> PullCost:
        """``learner`` pulls ``image`` (``app:v1``) through the cache, measured on both sides."""
        proxy = self._need("proxy")
        name, _, tag = image.partition(":")
        ref = proxy.ref(name, tag or "latest")
        machine = self.become(learner)
        hub_log, proxy_log = self._logs()
        hub_up = self._hub_up()
        h0 = hub_log.mark() if hub_up else None
        p0 = proxy_log.mark()
        e0 = len(proxy_log.cache_entries())
        self.say.twin(docker("image", "pull", ref))
        self.say.say(f"({machine})")
        start = time.perf_counter()
        self.engine.images.pull(ref)
        seconds = time.perf_counter() - start
        self.sandbox.record_tag(parse(ref).tagged)
        self.machines[learner].add(ref)
        self._here.add(ref)
        served = proxy_log.since(p0, proxy_log.mark())
        fetched = None
        if hub_up:
            first = hub_log.since(h0, hub_log.mark())
            # the cache stores its own copy of each blob it fetched in the background: wait for
            # those downloads to end, then read the hub's log again
            proxy_log.wait_cached({(r.repository, r.reference) for r in first.blob_downloads}, already=e0)
            fetched = hub_log.since(h0, hub_log.mark())
        cost = PullCost(learner, f"{name}:{tag or 'latest'}", served.blob_bytes, len(served.blobs),
                        fetched.blob_bytes if fetched is not None else None,
                        len(fetched.blob_downloads) if fetched is not None else 0,
                        len(fetched.blobs) if fetched is not None else 0, seconds, fetched)
        self.ledger.append(cost)
        self.say.say(f"{cost.learner} pulled {cost.image} through the cache: {count(cost.served_blobs, 'blob')}, "
                     f"{human(cost.served)} served to {cost.learner}; {_fetched(cost)}")
        return cost

    def hub_saw(self, cost: PullCost | None = None) -> Requests:
        """What the hub's access log shows for a pull (the last one by default), by kind of request."""
        cost = cost or (self.ledger[-1] if self.ledger else None)
        if cost is None or cost.hub is None:
            raise errors.no_pull_measured()
        self.say.twin(docker("container", "logs", self._need("hub").name))
        lines = cost.hub.summary()
        if cost.hub.of("base"):
            lines.append("GET /v2/ → 200 before each call to the hub (the cache asks how to log in there first)")
        self.say.say(f"during {cost.label}:\n" + "\n".join(f"  {line}" for line in lines))
        return cost.hub

    # ------------------------------------------------------------------ what reaches the upstream

    def look_up(self, repository: str, reference: str) -> Lookup:
        """``HEAD`` a manifest through the cache, by tag or by digest; show what reached the hub."""
        proxy = self._need("proxy")
        hub_log, _ = self._logs()
        start = hub_log.mark()
        self.say.twin(proxy.api.curl(f"/v2/{repository}/manifests/{reference}", head=True, accept=DOCKER_MANIFEST))
        head = proxy.api.manifest_head(repository, reference, accept=ACCEPT_ALL)
        seen = hub_log.since(start, hub_log.mark())
        self.say.say(f"HTTP/1.1 200 OK\nDocker-Content-Digest: {head.digest}")
        self.say.say(f"the hub's log meanwhile: {'; '.join(seen.summary())}")
        return Lookup(head.digest, seen)

    def cache_on_disk(self) -> dict[str, object]:
        """The cache's storage: blobs and repositories, like any registry's (notebook 03)."""
        proxy = self._need("proxy")
        self.say.twin(proxy.storage_command("find", REGISTRY_DATA))
        tree = self.engine.containers.storage(proxy.name)
        blobs = tree.blobs()
        kinds: dict[str, list[int]] = {}
        for blob in blobs.values():
            kinds.setdefault(tree.blob_kind(blob.digest), []).append(blob.size)
        self.say.say(f"blobs/: {count(len(blobs), 'blob')}, {human(sum(b.size for b in blobs.values()))}")
        for kind in sorted(kinds):
            self.say.say(f"  {count(len(kinds[kind]), kind)}: {human(sum(kinds[kind]))}")
        for name in tree.repositories():
            repo = tree.repository(name)
            self.say.say(f"repositories/{name}: tags {', '.join(sorted(repo.tags)) or '(none)'}; "
                         f"{count(len(repo.revisions), 'manifest')}, {count(len(repo.layers), 'blob link')} in _layers/")
        return {"blobs": len(blobs), "bytes": sum(b.size for b in blobs.values()), "repositories": tree.repositories()}

    def kept_for(self) -> int:
        """How long the cache keeps what it fetched: its log's scheduler entries (``proxy.ttl``,
        168 h by default; fixed at 168 h in 2.8)."""
        _, proxy_log = self._logs()
        proxy = self._need("proxy")
        self.say.twin(Twin.of("docker", "container", "logs", proxy.name, Raw("2>&1"), Raw("|"),
                              "grep", "-c", "Adding new scheduler entry"))
        entries = proxy_log.cache_entries()
        self.say.output(str(len(entries)))
        if not entries:
            self.say.explain("no entry yet: nothing was fetched through the cache")
            return 0
        hours = sorted({e.ttl_hours for e in entries})
        first = entries[0]
        self.say.explain(f'each line reads: msg="Adding new scheduler entry for {first.repository}@'
                         f'{first.digest[:19]}… with ttl={_go_ttl(first.ttl_seconds)}…s": one per manifest and blob the cache '
                         f"keeps, each for {' or '.join(f'{h} h' for h in hours)}")
        settings = dict(proxy.env)
        ttl = settings.get(PROXY_TTL)
        deletes = settings.get(DELETE_ENABLED, "true" if registry_major(proxy.run.image) >= 3 else "false") == "true"
        why = (f"{PROXY_TTL}={ttl}" if ttl else
               "proxy.ttl's default in registry:3 (set REGISTRY_PROXY_TTL to change it; 0 keeps everything)")
        after = ("then the cache deletes its copy, and the next pull fetches it again" if deletes else
                 "but with deletes off the cache cannot delete anything when it expires: it keeps it all")
        self.say.explain(f"{why}; {after}")
        return hours[-1]

    # ------------------------------------------------------------------ Docker's registry-mirrors

    def publish_hub_name(self, name: str = "reglab-hello") -> str:
        """Publish a small image on the hub as ``library/<name>``: how Docker Hub stores the
        images Docker knows by a short name (``docker pull hello-world``)."""
        hub = self._need("hub")
        ref = hub.ref(f"library/{name}", "latest")
        build = course_images.synthetic_image(ref, [course_images.random_layer(f"{name}.bin", HUB_NAME_SIZE, name)])
        _, load = _load(self.engine, self.sandbox, [build], f"{name}.tar")
        self.say.twin(load)
        self.say.twin(docker("image", "push", ref))
        self.engine.images.push(ref)
        self.say.twin(docker("image", "rm", ref))
        self.engine.images.remove(ref)
        self.sandbox.state.drop_tag(parse(ref).tagged)
        self.say.say(f"the hub holds library/{name}:latest: `docker pull {name}` means docker.io/library/{name}:latest")
        return ref

    def use_as_docker_mirror(self) -> Change:
        """Add the cache to ``registry-mirrors`` in ``daemon.json`` and reload the daemon (SIGHUP)."""
        proxy = self._need("proxy")
        change = self.engine.daemon.reconfigure({MIRRORS: [proxy.url]}, self.sandbox.daemon_backup)
        self._mirror = change
        self.say.say(f"add to {DEFAULT_DAEMON_JSON}:\n  \"{MIRRORS}\": {json.dumps(change.content[MIRRORS])}")
        self.say.twin(SIGHUP_TWIN)
        if not change.applied:
            self.say.say(f"✘ not applied: {change.why_not}; make the change above yourself to see it work: "
                         f"then `docker pull <name>` asks {proxy.url} first, and Docker Hub only if the mirror fails")
            return change
        if Cannot.DAEMON_JSON in self.engine.cannot:
            self.say.note(errors.cannot_daemon_json(self.engine.label, mirrors=True))
        elif str(change.path) != DEFAULT_DAEMON_JSON:
            self.say.note(f"this daemon reads {change.path}")
        self.say.say(f"the daemon reloaded its configuration: pulls of Docker Hub names now ask {proxy.url} first")
        return change

    def registry_mirrors(self) -> list[str]:
        """The "Registry Mirrors" part of ``docker info``."""
        self.say.twin(docker("info"))
        mirrors = [m.rstrip("/") + "/" for m in self.engine.daemon.registry_mirrors()]
        self.say.say("…\n Registry Mirrors:\n" + "".join(f"  {m}\n" for m in mirrors) + "…" if mirrors else
                     "… (no Registry Mirrors section: none is set) …")
        return mirrors

    def pull_hub_name(self, name: str = "reglab-hello") -> Requests | None:
        """``docker pull <name>``: a Docker Hub name, served by the mirror; show it arrive there."""
        proxy = self._need("proxy")
        ref = parse(name)
        self.say.twin(docker("image", "pull", name))
        mirrors = [m.rstrip("/") for m in self.engine.daemon.registry_mirrors()]
        if self._mirror is None or not self._mirror.applied or proxy.url not in mirrors:
            self.say.say(f"(not pulled: without {proxy.url} as its mirror, Docker would ask Docker Hub, which this "
                         "lab never contacts)")
            return None
        if mirrors[0] != proxy.url:
            self.say.say(f"(not pulled: Docker would ask {mirrors[0]}, listed before {proxy.url}, first — and this lab "
                         "contacts no registry but its own)")
            return None
        self._served_whole(ref.repository, ref.tag_or_default)  # else Docker would go on to Docker Hub
        hub_log, proxy_log = self._logs()
        p0, h0, e0 = proxy_log.mark(), hub_log.mark(), len(proxy_log.cache_entries())
        self.engine.images.pull(name)
        self.sandbox.record_tag(ref.tagged)
        arrived = proxy_log.since(p0, proxy_log.mark())
        first = hub_log.since(h0, hub_log.mark())
        proxy_log.wait_cached({(r.repository, r.reference) for r in first.blob_downloads}, already=e0)
        fetched = hub_log.since(h0, hub_log.mark())
        asked = sorted({r.repository for r in arrived if r.kind in ("manifest", "blob")})
        self.say.say(f"pulled {ref.tagged} (docker.io/{ref.repository}) — the requests arrived at the mirror "
                     f"{proxy.address} for {', '.join(asked)}: {count(len(arrived.blobs), 'blob')}, "
                     f"{human(arrived.blob_bytes)} served; the hub sent it {human(fetched.blob_bytes)}")
        return arrived

    def _served_whole(self, repository: str, tag: str) -> None:
        """The cache can serve ``repository:tag``: it answers for the manifest, and its upstream has
        every blob. (Asked of the hub directly: a ``HEAD`` of a blob through a 2.8 cache makes it
        fetch the whole blob, twice.)"""
        manifest = self._need("proxy").api.manifest(repository, tag)
        hub = self._need("hub").api
        for digest in [manifest.config, *manifest.layers]:
            if digest:
                hub.blob_head(repository, digest)

    def restore_daemon(self) -> bool:
        """Undo :meth:`use_as_docker_mirror`: an explicit empty list first (a key removed from the
        file would stay in the running daemon), reload, then the file's original bytes, reload."""
        self.say.say(f"1. in {DEFAULT_DAEMON_JSON}, the list docker info showed before, written out (here: none) — "
                     f"deleting the line would not do, the running daemon would keep the mirror:\n  \"{MIRRORS}\": []")
        self.say.twin(SIGHUP_TWIN)
        self.say.say(f"2. {DEFAULT_DAEMON_JSON} as it was before this lab")
        self.say.twin(SIGHUP_TWIN)
        restored = self.engine.daemon.restore(self.sandbox.daemon_backup)
        self._mirror = None
        if restored:
            self.say.say("restored: daemon.json holds its original bytes again, and docker info shows the daemon's "
                         f"original mirrors: {json.dumps(self.engine.daemon.registry_mirrors())}")
        else:
            self.say.say("nothing to restore: this lab had not changed the daemon's configuration")
        return restored

    # ------------------------------------------------------------------ the picture

    def figure(self) -> Figure:
        """The pulls so far as a picture (:func:`reglab.plots.bandwidth`), its numbers printed beside it."""
        from .. import plots  # matplotlib costs every kernel 0.6 CPU-s at import; only this step draws

        if not self.ledger:
            raise errors.no_pull_measured()
        self.say.say(plots.bandwidth_table(self.ledger))
        return plots.bandwidth(self.ledger)

    # ------------------------------------------------------------------ the upstream goes away

    def stop_hub(self) -> None:
        """Stop the hub at once (``docker container kill``): the cache is on its own."""
        hub = self._need("hub")
        self.say.twin(docker("container", "kill", hub.name))
        self.engine.containers.kill(hub.name)
        self.say.say(f"{hub.name} is stopped: the cache cannot reach its upstream any more")


def _go_ttl(seconds: float) -> str:
    """The start of a TTL as Go prints it in the scheduler's line, cut after a tenth of a second
    (``167h59m59.9`` for 168 h less the moment it took to log it; the rest varies)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    tenths = f"{int(secs * 10) / 10:.1f}"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{tenths}"
    return f"{int(minutes)}m{tenths}" if minutes else tenths


def _fetched(cost: PullCost) -> str:
    """What crossed from the hub during a pull, in words: each new blob once (registry:3), or twice
    (registry:2: once streamed to the learner, once into the cache's storage)."""
    if cost.upstream is None:
        return "the hub is down: nothing came from it"
    if not cost.upstream_downloads:
        return "the hub sent 0 B"
    if cost.upstream_downloads == cost.upstream_blobs:
        each = "each once: streamed to the learner and into the cache's storage together"
    elif cost.upstream_downloads == 2 * cost.upstream_blobs:
        each = "each twice: once streamed to the learner, once into the cache's storage"
    else:
        each = f"{cost.upstream_downloads} downloads"
    return f"the hub sent {human(cost.upstream)} ({count(cost.upstream_blobs, 'blob')}, {each})"


def _short(ref: str) -> str:
    r = parse(ref)
    return f"{r.repository}:{r.tag_or_default}"


def _load(engine: Engine, sandbox: Sandbox, builds: list, filename: str) -> tuple[list[str], Twin]:
    """Load images made in Python into the engine (their archive kept in the lab's folder, as
    ``docker image load -i`` reads it); record their tags for cleanup."""
    data = course_images.docker_archive(builds)
    path = sandbox.folder("archives") / filename
    path.write_bytes(data)
    engine.images.load(data)
    tags = [parse(tag).tagged for build in builds for tag in build.tags]
    for tag in tags:
        sandbox.record_tag(tag)
    return tags, docker("image", "load", "-i", str(path))
