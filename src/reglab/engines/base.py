"""What an engine is: five small capabilities, and what it cannot do, stated as data.

An engine is whatever runs registries and keeps images. Topics never ask *which* engine they
have; they use its capabilities, each a small protocol both engines implement:

=================  ======================================================================
``images``         the local image store: look up, list, load, tag, remove, push, pull
``containers``     registries, the services beside them (an object store, a load balancer,
                   a cache) and containers that run to completion: start, inspect, logs,
                   exec, kill, remove, restart; a registry's storage as a model
``objects``        what a lab labels: volumes, networks; a scope's objects, strangers
``daemon``         the daemon's registry settings: insecure registries, mirrors, daemon.json
``trust``          where a registry's CA is trusted, and ``docker login``'s check
=================  ======================================================================

Where an engine cannot do something a lesson shows (run a container, reload a daemon), it says
so in :attr:`Engine.cannot`; the narrator words it (:mod:`reglab.errors.engines`), and the step
goes on the engine's way. Everything above speaks these capabilities; everything below speaks
HTTP, files, or the Docker API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from ..config import Settings
from ..limits import Cannot
from ..naming import Scope
from ..registry_run import REGISTRY_DATA, RegistryRun
from ..service_run import ServiceRun
from ..storage import Tree
from ..transfer import Progress, Transfer

PROXY_REMOTEURL = "REGISTRY_PROXY_REMOTEURL"  # proxy.remoteurl: the registry is a pull-through cache of it

__all__ = ["PROXY_REMOTEURL", "REGISTRY_DATA", "Cannot", "ContainerInfo", "Containers", "DaemonSettings",
           "DataMount", "Engine", "Exec", "ImageInfo", "Images", "LabObject", "LabObjects", "Progress", "RegistryRun",
           "Run", "ServiceRun", "Transfer", "Trust"]


def epoch_seconds(created: str | None) -> float:
    """An image's ``Created`` (RFC 3339, nanoseconds allowed) as seconds since the epoch."""
    if not created:
        return 0.0
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)?", created)
    if not match:
        return 0.0
    stamp = datetime.fromisoformat(match.group(1) + (match.group(2) or "Z").replace("Z", "+00:00"))
    return stamp.timestamp()


def last_words_of(text: str) -> str:
    """The line of a registry's log that says why it stopped (a Go panic's first line wins
    over its stack trace, a fatal message over usage text): the same line under either engine."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for marker in ("panic:", "level=fatal", "configuration error", "error"):
        for line in lines:
            if marker in line:
                return line
    return lines[-1] if lines else "no log output"


@dataclass(frozen=True)
class ImageInfo:
    """An image in the local store."""

    id: str
    tags: tuple[str, ...]
    size: int
    standin: bool = False
    repo_digests: tuple[str, ...] = ()
    created: float = 0.0  # seconds since the epoch, from the image config (the stand-ins: 0, 1970-01-01)
    recipe: str | None = None  # a stand-in's recipe version (label reglab.standin.recipe)


@dataclass(frozen=True)
class Run:
    """A container that ran to completion."""

    name: str
    exit_code: int
    output: str


@dataclass(frozen=True)
class Exec:
    """What ``docker container exec`` of a command in a registry's container gave."""

    exit_code: int
    output: str


@dataclass(frozen=True)
class DataMount:
    """Where a registry container keeps ``/var/lib/registry``: a named volume, a bind-mounted
    folder, or an anonymous volume (Docker makes one for the image's ``VOLUME``; it does not
    outlive ``docker container rm -v`` and no new container ever uses it again)."""

    kind: str  # "volume" | "bind" | "anonymous"
    source: str  # the volume's name, or the folder's path

    @property
    def outlives_container(self) -> bool:
        return self.kind in ("volume", "bind")


@dataclass(frozen=True)
class ContainerInfo:
    """What ``docker container inspect`` says about a container, in the course's terms."""

    name: str
    status: str  # running | exited | created | …
    image: str  # the image ID it runs
    ports: tuple[tuple[str, int], ...] = ()  # (host address, host port) published for 5000/tcp
    data: DataMount | None = None  # where /var/lib/registry lives (None: in the container's own layer)
    env: tuple[tuple[str, str], ...] = ()
    exit_code: int | None = None
    started: float = 0.0  # when it last started (Unix time; 0 if never)
    labels: tuple[tuple[str, str], ...] = ()
    user: str | None = None  # --user, if any
    config: str | None = None  # where its registry reads its config (registry:2 and registry:3 differ)
    published: tuple[tuple[str, int, int], ...] = ()  # a service's (host address, port, port inside)
    reference: str | None = None  # the image name it was created from (Config.Image: hello-world, 127.0.0.1:5000/…)

    @property
    def running(self) -> bool:
        return self.status == "running"

    def publishes(self, port: int, host: str = "127.0.0.1") -> bool:
        """Is ``host:port`` published to the container's port 5000 (``-p host:port:5000``)?"""
        return any(p == port and h in (host, "", "0.0.0.0") for h, p in self.ports)

    def setting(self, key: str) -> str | None:
        return dict(self.env).get(key)


@dataclass(frozen=True)
class LabObject:
    kind: str  # container | volume | network
    name: str
    lab: str
    learner: str | None = None


# ----------------------------------------------------------------------------- the capabilities


class Images(Protocol):
    """The engine's local image store (``docker image …``)."""

    def info(self, reference: str) -> ImageInfo | None: ...
    def list(self) -> list[ImageInfo]: ...
    def layer_count(self, reference: str) -> int: ...
    def load(self, archive: bytes) -> None: ...
    def fetch(self, reference: str) -> None:
        """Get a course image from its public home (Docker Hub)."""
    def tag(self, source: str, target: str) -> None: ...
    def remove(self, reference: str) -> None: ...
    def push(self, reference: str, progress: Progress | None = None,
             auth: tuple[str, str] | None = None) -> Transfer: ...
    def pull(self, reference: str, progress: Progress | None = None,
             auth: tuple[str, str] | None = None) -> Transfer: ...


class Containers(Protocol):
    """Registries, and containers that run to completion (``docker container …``)."""

    def start_registry(self, run: RegistryRun, scope: Scope, loopback: bool = True) -> None:
        """Start it; raise :class:`~reglab.errors.PortInUse` when its port is taken. When this
        returns, the process listening on the port is ours. ``loopback=False``: it must be
        reached at an address that is not loopback (:meth:`LabObjects.address`)."""
    def start_service(self, run: ServiceRun, scope: Scope) -> None:
        """Start a service (``chrislusf/seaweedfs``, ``nginx``, ``redis``) on the lab's network;
        raise :class:`~reglab.errors.PortInUse` when a port it publishes is taken. When this
        returns it runs (it may still be warming up: readiness is the caller's to check)."""
    def problem(self, name: str) -> str | None:
        """Why the registry ``name`` is not running (its last log line), or None if it runs."""
    def inspect(self, name: str) -> ContainerInfo | None: ...
    def state(self, name: str) -> str | None: ...
    def logs(self, name: str) -> str: ...
    def exec(self, name: str, argv: list[str], workdir: str | None = None) -> Exec:
        """``docker container exec [-w workdir] name argv``: the registry's own program (``registry
        garbage-collect``) or a file tool on its data (paths as the container sees them)."""
    def storage(self, name: str) -> Tree: ...
    def kill(self, name: str) -> None: ...
    def remove(self, name: str) -> None: ...
    def restart(self, name: str) -> None: ...
    def run(self, scope: Scope, name: str, image: str, entrypoint: str | None = None,
            args: tuple[str, ...] = ()) -> Run: ...
    def keep(self, name: str) -> None:
        """Let the registry ``name`` outlive this process (``docker run -d`` from a command that exits)."""


class LabObjects(Protocol):
    """What a lab creates and labels besides containers: volumes and networks."""

    def create_volume(self, scope: Scope, name: str) -> None: ...
    def volume_exists(self, name: str) -> bool: ...
    def remove_volume(self, name: str) -> None: ...
    def create_network(self, scope: Scope, name: str) -> bool:
        """A network of the lab's own (True when created now)."""
    def address(self, name: str, network: str) -> str:
        """``host:port`` at which the registry ``name`` is reached on ``network``."""
    def of(self, scope: Scope) -> list[LabObject]: ...
    def remove_all(self, scope: Scope) -> list[LabObject]: ...
    def strangers(self, scope: Scope) -> list[LabObject]:
        """Objects named with ``scope``'s prefix that reglab did not create (typed twins make them)."""
    def remove_strangers(self, objects: list[LabObject]) -> None: ...


class DaemonSettings(Protocol):
    """The daemon's registry settings (``docker info``, ``daemon.json``)."""

    def insecure_registries(self) -> list[str]: ...
    def registry_mirrors(self) -> list[str]: ...
    def config(self):
        """The :class:`reglab.daemon.DaemonConfig` of the daemon, or None when there is none."""
    def reconfigure(self, settings: dict, backup: Path): ...
    def restore(self, backup: Path) -> bool: ...


class Trust(Protocol):
    """Whom the engine's pushes and pulls trust, and ``docker login``'s check."""

    def folder(self) -> Path:
        """Where ``<host:port>/ca.crt`` is looked up (Docker: ``/etc/docker/certs.d``)."""
    def login(self, host: str, user: str, password: str) -> None: ...


class Engine:
    """An engine: its capabilities, what it cannot do, and the settings it was made with."""

    kind: str = "abstract"
    label: str = "the engine"  # how a sentence names it
    cannot: frozenset[Cannot] = frozenset()
    images: Images
    containers: Containers
    objects: LabObjects
    daemon: DaemonSettings
    trust: Trust
    settings: Settings

    def describe(self) -> str:
        """One line: which engine, which version."""
        raise NotImplementedError
