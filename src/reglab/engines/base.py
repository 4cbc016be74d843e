"""The engine interface: the only layer that knows *how* a registry and images run.

``Lab`` speaks to an engine in course terms (start a registry, push a reference, read the
storage tree); the Docker engine answers through the Docker daemon, the daemonless engine
(see issue "LocalEngine") will answer with a registry process and an OCI image layout.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# progress(item, current_bytes, total_bytes, status): one call per progress event
Progress = Callable[[str, int, int, str], None]

REGISTRY_DATA = "/var/lib/registry"
REGISTRY_CONFIG = "/etc/docker/registry/config.yml"


@dataclass(frozen=True)
class ImageInfo:
    """An image in the local store."""

    id: str
    tags: tuple[str, ...]
    size: int
    standin: bool = False
    repo_digests: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegistrySpec:
    """Everything needed to start one registry."""

    lab: str
    name: str
    image: str
    port: int
    host: str = "127.0.0.1"
    volume: str | None = None
    bind: Path | None = None
    user: str | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Transfer:
    """The outcome of a push or a pull."""

    reference: str
    digest: str
    layers: int
    moved: int  # layers actually sent or fetched
    already: int  # layers the other side had already


@dataclass(frozen=True)
class Run:
    """A container that ran to completion."""

    name: str
    exit_code: int
    output: str


@dataclass(frozen=True)
class LabObject:
    kind: str  # container | volume | network
    name: str
    lab: str


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

    # -- registries and other containers
    @abstractmethod
    def start_registry(self, spec: RegistrySpec) -> None: ...

    @abstractmethod
    def registry_problem(self, name: str) -> str | None:
        """Why the registry ``name`` is not running (its last log line), or None if it runs."""

    @abstractmethod
    def kill(self, name: str) -> None: ...

    @abstractmethod
    def remove(self, name: str) -> None: ...

    @abstractmethod
    def state(self, name: str) -> str | None:
        """``running``, ``exited``, … or None when no such container exists."""

    @abstractmethod
    def run_container(self, lab: str, name: str, image: str) -> Run: ...

    @abstractmethod
    def exec(self, name: str, argv: list[str]) -> tuple[int, str]: ...

    @abstractmethod
    def read_archive(self, name: str, path: str) -> Iterator[bytes]:
        """A tar stream of ``path`` inside the registry ``name`` (works on stopped ones)."""

    # -- volumes and bookkeeping
    @abstractmethod
    def create_volume(self, lab: str, name: str) -> None: ...

    @abstractmethod
    def volume_exists(self, name: str) -> bool: ...

    @abstractmethod
    def objects(self, lab: str | None = None) -> list[LabObject]:
        """Objects labelled ``reglab.lab`` (of one lab, or of all)."""

    @abstractmethod
    def remove_objects(self, lab: str | None = None) -> list[LabObject]:
        """Remove the objects of ``lab`` (or of every lab); return what was removed."""
