"""The engine interface: the only layer that knows *how* a registry runs and images are kept.

``Lab`` speaks to an engine in course terms — start a registry with these settings, push
this reference, give me the registry's storage, collect its garbage — and the Docker engine
answers through the Docker daemon, the daemonless engine with a registry process and an OCI
image layout. Everything above speaks ``Lab``; everything below speaks HTTP or files.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from ..naming import Scope
from ..storage import Tree
from ..transfer import Progress, Transfer

REGISTRY_DATA = "/var/lib/registry"
REGISTRY_CONFIG = "/etc/docker/registry/config.yml"  # registry:2; registry:3 reads /etc/distribution/config.yml

__all__ = ["REGISTRY_CONFIG", "REGISTRY_DATA", "ContainerInfo", "DataMount", "Engine", "ImageInfo", "LabObject",
           "Progress", "RegistrySpec", "Run", "Transfer"]


@dataclass(frozen=True)
class ImageInfo:
    """An image in the local store."""

    id: str
    tags: tuple[str, ...]
    size: int
    standin: bool = False
    repo_digests: tuple[str, ...] = ()
    recipe: str | None = None  # a stand-in's recipe version (label reglab.standin.recipe)


@dataclass(frozen=True)
class RegistrySpec:
    """Everything needed to start one registry.

    ``files`` maps a folder on this machine to a path inside the registry (read-only: its
    certificates, its htpasswd); ``env`` may name those inside paths. ``network`` attaches a
    Docker registry to a network of the lab (the daemonless engine has only 127.0.0.1).
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
    def run_container(self, scope: Scope, name: str, image: str) -> Run: ...

    # -- networks (the lab's own: a registry reached at an address that is not loopback)
    @abstractmethod
    def create_network(self, scope: Scope, name: str) -> None:
        """A network of the lab's own; the daemonless engine has none (it raises EngineError)."""

    @abstractmethod
    def network_address(self, name: str, network: str) -> str:
        """The container ``name``'s IP address on the lab network ``network``."""

    # -- volumes and bookkeeping
    @abstractmethod
    def create_volume(self, scope: Scope, name: str) -> None: ...

    @abstractmethod
    def volume_exists(self, name: str) -> bool: ...

    @abstractmethod
    def remove_volume(self, name: str) -> None:
        """Remove a volume (``docker volume rm``); EngineError while a container uses it."""

    @abstractmethod
    def objects(self, scope: Scope) -> list[LabObject]:
        """Objects labelled ``reglab.lab`` that belong to ``scope``."""

    @abstractmethod
    def remove_objects(self, scope: Scope) -> list[LabObject]:
        """Remove the objects of ``scope``; return what was removed."""
