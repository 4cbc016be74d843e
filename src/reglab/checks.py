"""Checks: what a learner's work looks like live, for notebooks and lab sheets alike.

Every check reads live state — a registry's HTTP API, its files, the engine's objects — and
never the learner's code, so any way of getting there counts (a terminal included). A check
takes what it reads (an engine, a registry or its address, a folder) and returns a
:class:`Check`, which prints as one line — ``✔ …`` or ``✘ …: what is wrong`` — and is truthy
when it passed; it never raises for a failed check. A notebook runs one as
``lab.check(checks.image_in_registry, registry, "hello-world")`` (the lab hands over its engine
and scope where a check reads them, and keeps the result in the learner's progress); a lab
sheet's task returns one (:mod:`reglab.exercises`).

Below the checks, *readers*: small questions about live state (a tag's digest, are deletes on?)
that tasks combine into checks of their own.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from . import errors
from .engines import Engine
from .errors import ReglabError
from .media import DOCKER_MANIFEST, OCI_MANIFEST, short_digest
from .naming import Scope
from .registry import Registry
from .registry_api import RegistryClient
from .units import count, human

__all__ = ["Check", "anonymous_refused", "balanced", "cache_empty", "cached", "credentials_accepted",
           "daemon_as_before", "done",
           "image_in_registry", "keeps_data", "missing", "no_garbage", "nothing_left", "registry_answers",
           "registry_at", "served", "serves_image", "storage_intact", "tls_verified"]

DELETE_PROBE = "sha256:" + "0" * 64  # no manifest has it: DELETE answers 404 if deletes are on, 405 if off
ACCEPT_MANIFESTS = (DOCKER_MANIFEST, OCI_MANIFEST)
READY_WITHIN = 15  # seconds a registry started a moment ago may take to answer


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was checked, whether it holds, and the evidence or the fix."""

    ok: bool
    what: str
    detail: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{'✔' if self.ok else '✘'} {self.what}: {self.detail}"

    __repr__ = __str__

    def named(self, what: str) -> Check:
        """The same outcome under another name (a task's ``Task 2 · …``)."""
        return replace(self, what=what)


def done(evidence: str) -> Check:
    """A passed check whose name its caller gives (a sheet's task)."""
    return Check(True, "", evidence)


def missing(what: str) -> Check:
    """A failed check whose name its caller gives: ``what`` says what is wrong or missing."""
    return Check(False, "", what)


# ----------------------------------------------------------------------------- registries


def registry_answers(registry: Registry) -> Check:
    """The registry is up and speaks the API v2 (``GET /v2/`` answers 200)."""
    what = f"a registry answers at {registry.address}"
    if registry.api.ping():
        return Check(True, what, "GET /v2/ → 200")
    return Check(False, what, "nothing answers: start it with lab.run_registry()")


def _client(where: Registry | str) -> RegistryClient:
    return where.api if isinstance(where, Registry) else RegistryClient(where)


def _address(where: Registry | str) -> str:
    return where.address if isinstance(where, Registry) else where


def image_in_registry(registry: Registry | str, repository: str, tag: str = "latest") -> Check:
    """The registry serves ``repository:tag`` whole: its manifest, and every blob it lists (config
    and layers) downloaded and hashed to its digest.

    More than ``docker push`` reporting success, and more than ``HEAD`` answering 200: a registry
    whose blob cache remembers blobs garbage collection removed says yes to both (notebook 04),
    and one whose file lost its bytes answers ``HEAD`` 200 and ``GET`` with nothing.
    """
    address = _address(registry)
    what = f"{address} serves {repository}:{tag}"
    api = _client(registry)
    if api.status() is None:
        return Check(False, what, errors.nothing_answers(address))
    try:
        manifest = api.manifest(repository, tag)
    except ReglabError:
        if tag in _tags(api, repository):
            return Check(False, what, "it lists the tag but cannot serve its manifest (its blob is gone): "
                                      "restart the registry and push again")
        return Check(False, what, f"it has no {repository}:{tag}" + (
            f" (its tags: {', '.join(sorted(_tags(api, repository)))})" if _tags(api, repository) else ""))
    blobs = ([manifest.config] if manifest.config else []) + manifest.layers
    bad = [d for d in blobs if not _whole(api, repository, d)]
    if bad:
        return Check(False, what, f"its manifest lists {len(bad)} of {len(blobs)} blobs the registry cannot "
                                  f"serve whole ({short_digest(bad[0])}): restart the registry and push again")
    layers = len(manifest.layers)
    return Check(True, what, f"manifest {short_digest(manifest.digest)}, config and "
                             f"{layers} layer{'s' if layers != 1 else ''} all present")


served = image_in_registry  # a sheet's name for it: can the registry at this address serve the image whole?


def serves_image(address: str, repository: str, tag: str, image_id: str, image: str) -> Check:
    """The registry serves ``repository:tag`` whole, and it is the image ``image`` (its config
    digest, the image ID, is ``image_id``): not any image pushed under that name."""
    whole = image_in_registry(address, repository, tag)
    if not whole:
        return whole
    config = config_of(address, repository, tag)
    if config != image_id:
        return Check(False, whole.what, f"{repository}:{tag} is another image (ID {short_digest(config or '?')}), "
                                        f"not {image} ({short_digest(image_id)}): give {image} itself that name "
                                        "and push it again")
    return Check(True, whole.what, f"{image} (ID {short_digest(image_id)}), {whole.detail}")


def _whole(api: RegistryClient, repository: str, digest: str) -> bool:
    """``GET`` the blob and hash every byte: does it come back as the digest says?"""
    return api.blob_digest(repository, digest) == digest


def _tags(api: RegistryClient, repository: str) -> list[str]:
    try:
        return api.tags(repository)
    except ReglabError:
        return []


def registry_at(engine: Engine, name: str, address: str) -> Check:
    """The container ``name`` is a running registry publishing ``address`` that answers ``GET /v2/``."""
    host, port = address.rsplit(":", 1)
    what = f"{name} answers at {address}"
    info = engine.containers.inspect(name)
    run = f"docker container run -d --name {name} -p {address}:5000 … {engine.settings.registry_image}"
    if info is None:
        if RegistryClient(address).status() is not None:
            return Check(False, what, f"something answers at {address}, but there is no container {name}: "
                                      f"name your registry {name} ({run})")
        return Check(False, what, f"there is no container {name} and nothing answers at {address}: start it ({run})")
    if not info.running:
        return Check(False, what, f"{name} exists but is not running ({info.status}): start it, or remove it and "
                                  "run it again")
    if not info.publishes(int(port), host):
        where = ", ".join(f"{h or '0.0.0.0'}:{p}" for h, p in info.ports) or "no port"
        return Check(False, what, f"{name} publishes {where}, not {address}: recreate it with -p {address}:5000")
    client = RegistryClient(address)
    try:
        client.wait_ready(timeout=READY_WITHIN)
    except ReglabError:
        return Check(False, what, f"{name} runs but nothing answers GET /v2/ at {address}: look at docker "
                                  f"container logs {name}")
    if not client.ping():
        return Check(False, what, f"{name} answers at {address} but not with 200 (GET /v2/): look at docker "
                                  f"container logs {name}")
    return Check(True, what, f"{name} answers GET /v2/ at {address}")


def keeps_data(engine: Engine, registry: Registry | str) -> Check:
    """The registry's data outlives its container: the LIVE container named ``registry.name``
    (however it was started: a notebook step or ``docker container run`` in a terminal) has a
    named volume or a bind mount at /var/lib/registry (``docker container inspect``'s Mounts)."""
    name = getattr(registry, "name", registry)
    what = f"{name} keeps its data outside the container"
    info = engine.containers.inspect(name)
    fix = "recreate it with a volume (docker container run … -v registry-data:/var/lib/registry …)"
    if info is None:
        return Check(False, what, f"there is no container {name}: {fix}")
    if info.data is None or not info.data.outlives_container:
        return Check(False, what, f"its /var/lib/registry is inside the container (an anonymous volume at best): {fix}")
    if info.data.kind == "volume":
        return Check(True, what, f"in the volume {info.data.source}")
    return Check(True, what, f"in the folder {info.data.source}")


def storage_intact(engine: Engine, registry: Registry) -> Check:
    """Every blob on disk hashes to its name, and every link holds its folder's digest."""
    what = "every blob on disk is intact"
    try:
        result = engine.containers.storage(registry.name).verify()
    except ReglabError as exc:
        return Check(False, what, str(exc))
    return Check(True, what, str(result))


def no_garbage(engine: Engine, registry: Registry) -> Check:
    """Every blob on disk is referenced by a manifest a repository still lists: nothing for
    ``registry garbage-collect`` to collect."""
    tree = engine.containers.storage(registry.name)
    what = "the registry's disk holds no garbage"
    orphans = tree.orphans()
    if orphans:
        size = human(sum(b.size for b in orphans))
        return Check(False, what, f"{count(len(orphans), 'blob')} ({size}) no manifest references: make the registry "
                                  "read-only, run registry garbage-collect, then restart it")
    return Check(True, what, f"each of its {count(tree.blob_count, 'blob')} is referenced by a manifest it keeps")


# ----------------------------------------------------------------------------- TLS and logins


def anonymous_refused(registry: Registry) -> Check:
    """Without credentials the registry answers ``GET /v2/`` with 401 and a Basic challenge."""
    what = f"{registry.address} refuses anonymous requests"
    try:
        answer = registry.anonymous_api.request("GET", "/v2/", ok=tuple(range(100, 600)))
    except ReglabError as exc:
        return Check(False, what, str(exc).rstrip("."))
    challenge = answer.headers.get("WWW-Authenticate", "")
    if answer.status_code == 401 and challenge.lower().startswith("basic"):
        return Check(True, what, f"GET /v2/ → 401, WWW-Authenticate: {challenge}")
    return Check(False, what, f"GET /v2/ → {answer.status_code}: start it with REGISTRY_AUTH=htpasswd "
                              "(lab.secure.run_with_login())")


def credentials_accepted(registry: Registry, docker_config: str | os.PathLike | None = None) -> Check:
    """With the login ``docker login`` stored in ``docker_config`` (else in the lab's
    ``DOCKER_CONFIG``, which the registry's client reads) it answers 200."""
    what = f"{registry.address} accepts the stored login"
    folder = docker_config if docker_config is not None else registry.api.docker_config
    api = RegistryClient(registry.address, tls=registry.tls, ca=registry.ca, docker_config=folder,
                         trust=registry.trust)
    if not api.user:
        return Check(False, what, f"no login is stored for it: run docker login {registry.address} "
                                  "(lab.secure.login())")
    try:
        api.request("GET", "/v2/")
    except ReglabError as exc:
        return Check(False, what, str(exc).rstrip("."))
    return Check(True, what, f"GET /v2/ as {api.user} → 200")


def tls_verified(registry: Registry, ca: str | os.PathLike | None = None) -> Check:
    """Its TLS certificate verifies against the CA (``ca``, else the lab's, else certs.d) and names its address."""
    what = f"{registry.address} speaks TLS verified with the CA"
    api = RegistryClient(registry.address, tls=True, ca=ca or registry.ca, auth=False, trust=registry.trust)
    try:
        api.request("GET", "/v2/", ok=tuple(range(100, 600)))
    except ReglabError as exc:
        return Check(False, what, str(exc).rstrip("."))
    source = api.ca_file or "this machine's trusted CAs"
    return Check(True, what, f"its certificate names {registry.address} and verifies against {source}")


# ----------------------------------------------------------------------------- caches and the daemon


def cached(engine: Engine, registry: Registry, repository: str, tag: str = "latest") -> Check:
    """A pull-through cache keeps ``repository:tag`` on its own disk: the tag's link, its manifest,
    config and every layer in its storage (read where the engine keeps it, not through its API,
    which would ask the upstream)."""
    what = f"the cache {registry.address} keeps {repository}:{tag} on its own disk"
    try:
        tree = engine.containers.storage(registry.name)
    except ReglabError as exc:
        return Check(False, what, str(exc).rstrip("."))
    target = tree.tag_target(repository, tag)
    manifest = tree.manifest(target) if target else None
    if manifest is None:
        return Check(False, what, f"its storage has no {repository}:{tag} yet: pull it through the cache "
                                  f"(docker image pull {registry.address}/{repository}:{tag})")
    blobs = tree.blobs()
    wanted = [d for d in (manifest.config, *manifest.layers) if d]
    absent = [d for d in wanted if d not in blobs]
    if absent:
        return Check(False, what, f"{len(absent)} of its {len(wanted)} blobs are not stored yet "
                                  f"({short_digest(absent[0])}): pull it through the cache again")
    size = sum(blobs[d].size for d in wanted)
    return Check(True, what, f"manifest {short_digest(manifest.digest)}, config and {len(manifest.layers)} "
                             f"layer{'s' if len(manifest.layers) != 1 else ''} stored ({human(size)})")


def balanced(engine: Engine, address: str, replicas: list[str], repository: str = "team/app",
             rounds: int = 3) -> Check:
    """Uploads through the load balancer at ``address`` go on from one replica to another, and each
    of ``replicas`` (container names) served part of them: one shared ``http.secret``, and nobody
    left out of the balancer. Each upload is started, continued with one ``PATCH``, then cancelled."""
    what = f"uploads through {address} continue on any of {count(len(replicas), 'replica')}"
    stopped = [name for name in replicas if engine.containers.state(name) != "running"]
    if stopped:
        return Check(False, what, f"{stopped[0]} is not running: run it (docker container ps -a shows it)")
    api = RegistryClient(address)
    if api.status() is None:
        return Check(False, what, errors.nothing_answers(address))
    before = {name: _served(engine, name) for name in replicas}
    every = tuple(range(100, 600))
    total, refused = rounds * len(replicas), 0
    for _ in range(total):
        started = api.request("POST", f"/v2/{repository}/blobs/uploads/", ok=every)
        if started.status_code != 202:
            return Check(False, what, f"POST /v2/{repository}/blobs/uploads/ through {address} answered "
                                      f"{started.status_code}: is every replica writable?")
        location = started.headers["Location"]
        sent = api.request("PATCH", api.url(location), ok=every, data=b"reglab check\n",
                           headers={"Content-Type": "application/octet-stream"})
        refused += sent.status_code != 202
        api.request("DELETE", api.url(sent.headers.get("Location", location)), ok=every)
    if refused:
        return Check(False, what, f"{refused} of {total} uploads were refused half-way (404 BLOB_UPLOAD_INVALID: "
                                  "\"blob upload unknown\"): the replicas do not share one http.secret")
    deadline = time.monotonic() + 3  # the engine's log of a replica lags its answers (seen under load)
    while (idle := [n for n in replicas if _served(engine, n) <= before[n]]) and time.monotonic() < deadline:
        time.sleep(0.2)
    if idle:
        return Check(False, what, f"{idle[0]} runs but got none of {total * 3} requests: the load balancer does "
                                  "not send it any (is it in nginx's upstream, and was nginx restarted since?)")
    return Check(True, what, f"{total} uploads, each continued wherever nginx sent it; all "
                             f"{count(len(replicas), 'replica')} served part of them")


def _served(engine: Engine, name: str) -> int:
    """How many requests a registry logged (``response completed``, in 2.8 and 3 alike)."""
    return engine.containers.logs(name).count("response completed")


def cache_empty(engine: Engine, name: str) -> Check:
    """The redis ``name``, a blob descriptor cache the replicas share, holds no key."""
    what = f"the shared cache {name} is empty"
    if engine.containers.state(name) != "running":
        return Check(False, what, f"{name} is not running: start it again (docker container start {name})")
    words = engine.containers.exec(name, ["redis-cli", "DBSIZE"]).output.split()
    keys = int(words[-1]) if words and words[-1].isdigit() else -1
    if keys:
        held = count(keys, "key") if keys > 0 else "keys"
        return Check(False, what, f"it still holds {held}, among them descriptions of blobs the collection deleted: "
                                  "empty it (redis-cli FLUSHDB in its container)")
    return Check(True, what, "no key left: the replicas ask the bucket again, and fill it with what is there")


def daemon_as_before(engine: Engine, daemon_backup: Path) -> Check:
    """The daemon's ``registry-mirrors`` are what its ``daemon.json`` says, and no change of the
    lab's is pending (its backup of the original file, ``daemon_backup``, is gone). An engine
    without a daemon.json must have its own list empty again."""
    what = "the daemon's configuration is as before the lab"
    if Path(daemon_backup).exists():
        return Check(False, what, "the lab's change is still in place: run lab.mirror.restore_daemon()")
    mirrors = engine.daemon.registry_mirrors()
    config = engine.daemon.config()
    if config is None:  # the engine's own lists, for this lab only
        if mirrors:
            return Check(False, what, f"the engine still sends Docker Hub pulls to {mirrors[0]}: run "
                                      "lab.mirror.restore_daemon()")
        return Check(True, what, "registry mirrors as daemon.json lists them: []")
    if config.why_not():  # a daemon reglab may not change: it changed nothing
        return Check(True, what, f"this lab left it alone; docker info shows the mirrors {json.dumps(mirrors)}")
    try:
        wanted = [m.rstrip("/") for m in config.read().get("registry-mirrors") or []]
    except ReglabError as exc:
        return Check(False, what, str(exc).rstrip("."))
    if [m.rstrip("/") for m in mirrors] != wanted:
        return Check(False, what, f"docker info shows the mirrors {mirrors} but {config.path} says {wanted}: "
                                  "reload the daemon (sudo kill -SIGHUP $(pidof dockerd))")
    return Check(True, what, f"registry mirrors as daemon.json lists them: {json.dumps(wanted)}")


def nothing_left(engine: Engine, scope: Scope) -> Check:
    """Nothing the lab ``scope`` created is left (run after ``lab.cleanup()``)."""
    from .sandbox import Sandbox

    what = f"lab {scope.lab} left nothing behind"
    left = Sandbox(scope, engine).left()
    if left:
        return Check(False, what, f"{', '.join(f'{m.kind} {m.name}' for m in left)} remain: run lab.cleanup()")
    return Check(True, what, "no container, volume or network labelled reglab.lab=" + scope.lab
                 + ", no image it loaded, pulled or tagged")


# ----------------------------------------------------------------------------- readers (facts, not checks)


def digest_of(address: str, repository: str, tag: str) -> str | None:
    """The manifest digest a tag has (as Docker asks for it), or None when there is no such tag."""
    try:
        return RegistryClient(address).manifest_head(repository, tag, accept=ACCEPT_MANIFESTS).digest
    except ReglabError:
        return None


def config_of(address: str, repository: str, tag: str) -> str | None:
    """The config digest — the image ID — of the image a tag names (as Docker asks for it), or None."""
    try:
        return RegistryClient(address).manifest(repository, tag, accept=ACCEPT_MANIFESTS).config
    except ReglabError:
        return None


def has_tag(address: str, repository: str, tag: str) -> bool:
    return tag in _tags(RegistryClient(address), repository)


def deletes_allowed(address: str, repository: str) -> bool:
    """Live: does the registry accept deletes? (DELETE of a digest no manifest has: 404 if on, 405 if off.)"""
    status = RegistryClient(address).request("DELETE", f"/v2/{repository}/manifests/{DELETE_PROBE}",
                                             ok=tuple(range(100, 600))).status_code
    return status != 405


def writable(address: str, repository: str) -> bool:
    """Live: does the registry accept a push? (It starts an upload, then cancels it.)"""
    api = RegistryClient(address)
    answer = api.request("POST", f"/v2/{repository}/blobs/uploads/", ok=tuple(range(100, 600)))
    if answer.status_code == 202 and answer.headers.get("Location"):
        api.request("DELETE", api.url(answer.headers["Location"]), ok=tuple(range(100, 600)))
    return answer.status_code == 202


def remembers(address: str, repository: str, digest: str) -> bool:
    """Does the registry answer 200 to ``HEAD`` a blob (from its disk, or from its cache)?"""
    return RegistryClient(address).has_blob(repository, digest)


def eventually(check, within: float, *args, **kwargs) -> Check:
    """``check(*args)`` again every half second until it passes or ``within`` seconds went by."""
    result = check(*args, **kwargs)
    deadline = time.monotonic() + within
    while not result and time.monotonic() < deadline:
        time.sleep(0.5)
        result = check(*args, **kwargs)
    return result


def same_folder(a: str | os.PathLike | None, b: str | os.PathLike) -> bool:
    return a is not None and os.path.realpath(a) == os.path.realpath(b)
