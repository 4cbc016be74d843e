"""Self-checks a learner runs to see that a step really worked.

Every check reads live state — the registry's HTTP API, its files, the engine's objects — and
never the learner's code, so any way of getting there counts. A check returns a
:class:`Check` that prints as one line, ``✔ …`` or ``✘ … : what to do``, and is truthy when
it passed; it never raises for a failed check.
"""

from __future__ import annotations

from dataclasses import dataclass

from .engines import get_engine
from .errors import ReglabError
from .media import short_digest


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


def nothing_left(lab) -> Check:
    """Nothing the lab created is left (run after ``lab.cleanup()``)."""
    what = f"lab {lab.name} left nothing behind"
    left = lab.objects()
    if left:
        return Check(False, what, f"{', '.join(left)} remain: run lab.cleanup()")
    return Check(True, what, "no container, volume or network labelled reglab.lab=" + lab.name)
