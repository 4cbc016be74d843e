"""The Docker engine: registries are containers, images live in the daemon's store."""

from __future__ import annotations

import docker
import docker.errors
import requests

from ... import errors
from ...config import Settings
from ..base import Cannot, Engine
from .containers import DockerContainers
from .daemon import DockerDaemon, DockerTrust
from .images import DockerImages
from .objects import DockerObjects
from .words import _registry_trouble

__all__ = ["DockerEngine", "_registry_trouble"]


class DockerEngine(Engine):
    """Registries as containers of the registry image, driven through the Docker SDK."""

    kind = "docker"
    label = "Docker"
    cannot = frozenset({Cannot.KEEP_IMAGES_APART})  # a daemon's images are one namespace for all its users

    def __init__(self, settings: Settings | None = None, client: docker.DockerClient | None = None,
                 timeout: int = 120):
        self.settings = settings or Settings.from_env()
        try:
            self.client = client or docker.DockerClient(base_url=self.settings.docker_host, timeout=timeout)
            self.client.ping()
        except (docker.errors.DockerException, requests.RequestException, OSError):
            raise errors.docker_unreachable(self.settings.docker_host) from None
        self.images = DockerImages(self.client)
        self.containers = DockerContainers(self.client, self.images)
        self.objects = DockerObjects(self.client)
        self.daemon = DockerDaemon(self.client, self.settings)
        self.trust = DockerTrust(self.client)

    def describe(self) -> str:
        version = self.client.version()
        return f"Docker {version.get('Version', '?')} (API {version.get('ApiVersion', '?')})"
