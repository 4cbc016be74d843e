"""Self-checks a learner runs to see that a step really worked.

Every check reads live state — the registry's HTTP API, its files, the engine's objects — and
never the learner's code, so any way of getting there counts. A check returns a
:class:`Check` that prints as one line, ``✔ …`` or ``✘ … : what to do``, and is truthy when
it passed; it never raises for a failed check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .engines import get_engine
from .errors import ReglabError
from .media import short_digest
from .units import count, human


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


def registry_answers(registry) -> Check:
    """The registry is up and speaks the API v2 (``GET /v2/`` answers 200)."""
    what = f"a registry answers at {registry.address}"
    if registry.api.ping():
        return Check(True, what, "GET /v2/ → 200")
    return Check(False, what, "nothing answers: start it with lab.run_registry()")


def image_in_registry(registry, repository: str, tag: str = "latest") -> Check:
    """The registry can serve ``repository:tag`` whole: its manifest, config and every layer.

    More than ``docker push`` reporting success: a push can "succeed" against a registry whose
    blob cache remembers blobs garbage collection removed (notebook 04).
    """
    what = f"{registry.address} serves {repository}:{tag}"
    api = registry.api
    try:
        manifest = api.manifest(repository, tag)
    except ReglabError:
        if tag in _tags(api, repository):
            return Check(False, what, "it lists the tag but cannot serve its manifest (its blob is gone): "
                                      "restart the registry and push again")
        return Check(False, what, f"it has no such manifest: push it (docker image push "
                                  f"{registry.address}/{repository}:{tag})")
    blobs = ([manifest.config] if manifest.config else []) + manifest.layers
    missing = []
    for digest in blobs:
        try:
            api.blob_head(repository, digest)
        except ReglabError:
            missing.append(digest)
    if missing:
        return Check(False, what, f"its manifest lists {len(missing)} of {len(blobs)} blobs the registry no "
                                  f"longer has ({short_digest(missing[0])}): restart the registry and push again")
    layers = len(manifest.layers)
    return Check(True, what, f"manifest {short_digest(manifest.digest)}, config and "
                             f"{layers} layer{'s' if layers != 1 else ''} all present")


def _tags(api, repository: str) -> list[str]:
    try:
        return api.tags(repository)
    except ReglabError:
        return []


def keeps_data(registry, engine=None) -> Check:
    """The registry's data outlives its container: the LIVE container named ``registry.name``
    (however it was started: a notebook step or ``docker container run`` in a terminal) has a
    named volume or a bind mount at /var/lib/registry (``docker container inspect``'s Mounts)."""
    name = getattr(registry, "name", registry)
    what = f"{name} keeps its data outside the container"
    info = (engine or get_engine()).inspect(name)
    fix = "recreate it with a volume (docker container run … -v registry-data:/var/lib/registry …)"
    if info is None:
        return Check(False, what, f"there is no container {name}: {fix}")
    if info.data is None or not info.data.outlives_container:
        return Check(False, what, f"its /var/lib/registry is inside the container (an anonymous volume at best): {fix}")
    if info.data.kind == "volume":
        return Check(True, what, f"in the volume {info.data.source}")
    return Check(True, what, f"in the folder {info.data.source}")


def storage_intact(lab) -> Check:
    """Every blob on disk hashes to its name, and every link holds its folder's digest."""
    tree = lab.engine.storage(lab.sandbox.current().name)
    what = "every blob on disk is intact"
    try:
        result = tree.verify()
    except ReglabError as exc:
        return Check(False, what, str(exc))
    return Check(True, what, str(result))


def anonymous_refused(registry) -> Check:
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


def credentials_accepted(registry) -> Check:
    """With the login ``docker login`` stored (``$DOCKER_CONFIG/config.json``) it answers 200."""
    what = f"{registry.address} accepts the stored login"
    api = registry.api
    if not api.session.auth:
        return Check(False, what, f"no login is stored for it: run docker login {registry.address} "
                                  "(lab.secure.login())")
    try:
        api.request("GET", "/v2/")
    except ReglabError as exc:
        return Check(False, what, str(exc).rstrip("."))
    return Check(True, what, f"GET /v2/ as {api.session.auth[0]} → 200")


def tls_verified(registry, ca=None) -> Check:
    """Its TLS certificate verifies against the CA (``ca``, else the lab's, else certs.d) and names its address."""
    from .registry_api import RegistryClient

    what = f"{registry.address} speaks TLS verified with the CA"
    api = RegistryClient(registry.address, tls=True, ca=ca or registry.ca, auth=False)
    try:
        api.request("GET", "/v2/", ok=tuple(range(100, 600)))
    except ReglabError as exc:
        return Check(False, what, str(exc).rstrip("."))
    source = api.ca_file or "this machine's trusted CAs"
    return Check(True, what, f"its certificate names {registry.address} and verifies against {source}")


def cached(lab, registry, repository: str, tag: str = "latest") -> Check:
    """A pull-through cache keeps ``repository:tag`` on its own disk: the tag's link, its manifest,
    config and every layer in its storage (read where the engine keeps it, not through its API,
    which would ask the upstream)."""
    what = f"the cache {registry.address} keeps {repository}:{tag} on its own disk"
    try:
        tree = lab.engine.storage(registry.name)
    except ReglabError as exc:
        return Check(False, what, str(exc).rstrip("."))
    target = tree.tag_target(repository, tag)
    manifest = tree.manifest(target) if target else None
    if manifest is None:
        return Check(False, what, f"its storage has no {repository}:{tag} yet: pull it through the cache "
                                  f"(docker image pull {registry.address}/{repository}:{tag})")
    blobs = tree.blobs()
    wanted = [d for d in (manifest.config, *manifest.layers) if d]
    missing = [d for d in wanted if d not in blobs]
    if missing:
        return Check(False, what, f"{len(missing)} of its {len(wanted)} blobs are not stored yet "
                                  f"({short_digest(missing[0])}): pull it through the cache again")
    size = sum(blobs[d].size for d in wanted)
    return Check(True, what, f"manifest {short_digest(manifest.digest)}, config and {len(manifest.layers)} "
                             f"layer{'s' if len(manifest.layers) != 1 else ''} stored ({human(size)})")


def daemon_as_before(lab) -> Check:
    """The daemon's ``registry-mirrors`` are what its ``daemon.json`` says, and no change of the
    lab's is pending (its backup of the original file is gone). The daemonless engine's own
    list must be empty again."""
    what = "the daemon's configuration is as before the lab"
    if lab.sandbox.daemon_backup.exists():
        return Check(False, what, "the lab's change is still in place: run lab.mirror.restore_daemon()")
    mirrors = lab.engine.registry_mirrors()
    config = lab.engine.daemon_config()
    if config is None:  # the daemonless engine: its own lists, for this lab only
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


def no_garbage(lab) -> Check:
    """Every blob on disk is referenced by a manifest a repository still lists: nothing for
    ``registry garbage-collect`` to collect."""
    tree = lab.engine.storage(lab.sandbox.current().name)
    what = "the registry's disk holds no garbage"
    orphans = tree.orphans()
    if orphans:
        size = human(sum(b.size for b in orphans))
        return Check(False, what, f"{count(len(orphans), 'blob')} ({size}) no manifest references: make the registry "
                                  "read-only, run registry garbage-collect, then restart it")
    return Check(True, what, f"each of its {count(tree.blob_count, 'blob')} is referenced by a manifest it keeps")


def nothing_left(lab) -> Check:
    """Nothing the lab created is left (run after ``lab.cleanup()``)."""
    what = f"lab {lab.name} left nothing behind"
    left = lab.objects()
    if left:
        return Check(False, what, f"{', '.join(left)} remain: run lab.cleanup()")
    return Check(True, what, "no container, volume or network labelled reglab.lab=" + lab.name
                 + ", no image it loaded, pulled or tagged")
