"""The engine interface: the only layer that knows *how* a registry runs and images are kept.

``Lab`` speaks to an engine in course terms — start a registry with these settings, push
this reference, give me the registry's storage, collect its garbage — and the Docker engine
answers through the Docker daemon, the daemonless engine with a registry process and an OCI
image layout. Everything above speaks ``Lab``; everything below speaks HTTP or files.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..naming import Scope
from ..storage import Tree
from ..transfer import Progress, Transfer

REGISTRY_DATA = "/var/lib/registry"
PROXY_REMOTEURL = "REGISTRY_PROXY_REMOTEURL"  # proxy.remoteurl: the registry is a pull-through cache of it
REGISTRY_CONFIG = "/etc/docker/registry/config.yml"  # registry:2; registry:3 reads /etc/distribution/config.yml

__all__ = ["PROXY_REMOTEURL", "REGISTRY_CONFIG", "REGISTRY_DATA", "ContainerInfo", "DataMount", "Engine", "ImageInfo",
           "LabObject", "Progress", "RegistrySpec", "Run", "Transfer"]


def epoch_seconds(created: str | None) -> float:
    """An image's ``Created`` (RFC 3339, nanoseconds allowed) as seconds since the epoch."""
    if not created:
        return 0.0
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)?", created)
    if not match:
        return 0.0
    stamp = datetime.fromisoformat(match.group(1) + (match.group(2) or "Z").replace("Z", "+00:00"))
    return stamp.timestamp()


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
class RegistrySpec:
    """Everything needed to start one registry.

    ``files`` maps a folder on this machine to a path inside the registry (read-only: its
    certificates, its htpasswd); ``env`` may name those inside paths. ``network`` attaches the
    registry to a network of the lab. ``loopback=False`` asks for a registry the engine's
    pushes and pulls reach at an address that is *not* loopback (see
    :meth:`Engine.network_address`): Docker's container address on ``network``; the
    daemonless engine, which has no networks, listens on the IPv6 loopback ``[::1]`` instead,
    which its client does not count as local (it follows Docker 20.10's list, 127.0.0.0/8 only;
    Docker 20.10 itself cannot even name ``[::1]:5000/…``, Docker ≥ 28 counts ::1 as local).

    On a network, a registry reaches another by its container name (``http://<name>:5000`` in
    ``env``, e.g. a pull-through cache's upstream): Docker's network DNS answers it; the
    daemonless engine puts that registry's loopback address in its place. ``dns_options``
    are Docker's ``--dns-opt`` (``ndots:1``: a name of the lab is never asked of the
    outside world's DNS, which on an offline machine only times out).
    """

    scope: Scope
    name: str
    image: str
    port: int
    host: str = "127.0.0.1"
    volume: str | None = None
    bind: Path | None = None
    user: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    network: str | None = None
    loopback: bool = True
    dns_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Run:
    """A container that ran to completion."""

    name: str
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


class Engine(ABC):
    """What a lab needs from whatever runs registries and stores images."""

    kind: str = "abstract"
    has_networks: bool = True  # container networks with addresses of their own (the daemonless engine: no)

    # -- the engine itself
    @abstractmethod
    def describe(self) -> str:
        """One line: which engine, which version."""

    @abstractmethod
    def insecure_registries(self) -> list[str]:
        """Where the client will speak plain HTTP (Docker: 127.0.0.0/8 unless configured)."""

    # -- image store
    @abstractmethod
    def image_info(self, reference: str) -> ImageInfo | None: ...

    @abstractmethod
    def list_images(self) -> list[ImageInfo]: ...

    @abstractmethod
    def layer_count(self, reference: str) -> int:
        """How many layers a local image has (0 when it is missing)."""

    @abstractmethod
    def load_image_archive(self, data: bytes) -> None: ...

    @abstractmethod
    def pull_image(self, reference: str) -> None:
        """Fetch a course image from its public home (Docker Hub)."""

    @abstractmethod
    def tag(self, source: str, target: str) -> None: ...

    @abstractmethod
    def remove_image(self, reference: str) -> None: ...

    @abstractmethod
    def push(self, reference: str, progress: Progress | None = None) -> Transfer: ...

    @abstractmethod
    def pull(self, reference: str, progress: Progress | None = None) -> Transfer: ...

    # -- registries
    @abstractmethod
    def start_registry(self, spec: RegistrySpec) -> None:
        """Start it; raise :class:`~reglab.errors.PortInUse` when its port is taken (the lab
        then tries another). When this returns, the process listening on the port is ours."""

    @abstractmethod
    def registry_problem(self, name: str) -> str | None:
        """Why the registry ``name`` is not running (its last log line), or None if it runs."""

    @abstractmethod
    def storage(self, name: str) -> Tree:
        """The registry's storage as a model (read from its folder, or through the archive API)."""

    @abstractmethod
    def storage_exec(self, name: str, argv: list[str], workdir: str | None = None) -> str:
        """Run a read-only command on the registry's storage, as ``docker container exec [-w
        workdir] <name> argv`` does, and return what it printed; paths in ``argv`` and ``workdir``
        name the data folder as the container sees it (``/var/lib/registry``)."""

    @abstractmethod
    def garbage_collect(self, name: str, dry_run: bool = False, delete_untagged: bool = False) -> tuple[int, str]:
        """Run ``registry garbage-collect`` on the registry's storage and config: (exit code, output)."""

    @abstractmethod
    def logs(self, name: str) -> str:
        """What the registry has logged so far (``docker container logs``)."""

    @abstractmethod
    def kill(self, name: str) -> None: ...

    @abstractmethod
    def remove(self, name: str) -> None: ...

    @abstractmethod
    def state(self, name: str) -> str | None:
        """``running``, ``exited``, … or None when no such container exists."""

    @abstractmethod
    def inspect(self, name: str) -> ContainerInfo | None:
        """The live facts about the container ``name`` (whoever created it), or None if there is none."""

    @abstractmethod
    def restart(self, name: str) -> None:
        """Restart a registry container as it was created (``docker container restart``): a new
        process, so an empty in-memory cache, on the same storage, port and settings."""

    # -- other containers
    @abstractmethod
    def run_container(self, scope: Scope, name: str, image: str, entrypoint: str | None = None,
                      args: tuple[str, ...] = ()) -> Run:
        """Run ``image`` (its own command, or ``entrypoint`` with ``args``) to completion."""

    # -- networks (the lab's own: a registry reached at an address that is not loopback)
    @abstractmethod
    def create_network(self, scope: Scope, name: str) -> bool:
        """A network of the lab's own (True when it was created now, False when it was there).
        The daemonless engine has no container networks: it keeps a folder in the lab's state,
        so the lab's objects read the same under both engines."""

    @abstractmethod
    def network_address(self, name: str, network: str) -> str:
        """``host:port`` at which the registry ``name`` is reached on ``network`` (by the other
        containers on it, and by the engine's pushes and pulls): Docker's container address
        and port 5000; the daemonless engine's listening address (``[::1]:<port>`` for a
        registry started with ``loopback=False``)."""

    # -- trust and credentials (notebook 05)
    @abstractmethod
    def trust_folder(self) -> Path:
        """Where this engine's pushes and pulls look for a registry's CA certificate:
        ``<folder>/<host:port>/ca.crt`` (Docker: ``/etc/docker/certs.d``)."""

    @abstractmethod
    def login(self, host: str, user: str, password: str) -> None:
        """Check ``user``/``password`` against the registry ``host`` as ``docker login`` does
        (``GET /v2/`` with them); raise :class:`~reglab.errors.AuthRequired` when refused.
        Storing them (``$DOCKER_CONFIG/config.json``) is :mod:`reglab.credentials`' part."""

    # -- the daemon's own configuration (daemon.json): notebooks 05 and 06
    def daemon_config(self):
        """The :class:`reglab.daemon.DaemonConfig` of the daemon behind this engine, or None when
        there is no daemon (the daemonless engine keeps its own equivalents in the lab's folders)."""
        return None

    def reconfigure(self, settings: dict, backup: Path):
        """Apply ``daemon.json`` settings (``insecure-registries``, ``registry-mirrors``) the
        engine's way; return the :class:`reglab.daemon.Change`. Docker: the daemon's file and
        SIGHUP, only on a daemon reglab's set-up started (else the change says why not)."""
        from ..daemon import DaemonConfig

        return (self.daemon_config() or DaemonConfig()).change(settings, backup)

    def restore_configuration(self, backup: Path) -> bool:
        """Undo :meth:`reconfigure` from its backup (also after a killed kernel); False if none."""
        from ..daemon import DaemonConfig

        return (self.daemon_config() or DaemonConfig()).restore(backup)

    def registry_mirrors(self) -> list[str]:
        """Where pulls of Docker Hub names go first (``docker info``'s "Registry Mirrors")."""
        config = self.daemon_config()
        return config.shows("registry-mirrors") if config else []

    # -- volumes and bookkeeping
    @abstractmethod
    def create_volume(self, scope: Scope, name: str) -> None: ...

    @abstractmethod
    def volume_exists(self, name: str) -> bool: ...

    @abstractmethod
    def strangers(self, scope: Scope) -> list[LabObject]:
        """Objects named with ``scope``'s prefix that reglab did not create (typed twins make
        them): the lab would collide with them, and never touches them unless told to."""

    @abstractmethod
    def remove_strangers(self, objects: list[LabObject]) -> None:
        """Remove objects the learner told the lab to take over (``Lab(..., adopt=True)``)."""

    @abstractmethod
    def remove_volume(self, name: str) -> None:
        """Remove a volume (``docker volume rm``); EngineError while a container uses it."""

    @abstractmethod
    def objects(self, scope: Scope) -> list[LabObject]:
        """Objects labelled ``reglab.lab`` that belong to ``scope``."""

    @abstractmethod
    def remove_objects(self, scope: Scope) -> list[LabObject]:
        """Remove the objects of ``scope``; return what was removed."""
