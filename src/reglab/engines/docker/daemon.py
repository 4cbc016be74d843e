"""The Docker engine's daemon settings and trust: ``docker info``, ``daemon.json``, ``certs.d``, login."""

from __future__ import annotations

from pathlib import Path

import docker
import docker.errors

from ...config import Settings
from ...daemon import DaemonConfig
from ... import errors
from ...registry_api import CERTS_D
from .words import _message, _registry_trouble


class DockerDaemon:
    """What the daemon says of registries (``docker info``), and its ``daemon.json``."""

    def __init__(self, client: docker.DockerClient, settings: Settings):
        self.client, self.settings = client, settings

    def insecure_registries(self) -> list[str]:
        config = self.client.info().get("RegistryConfig") or {}
        cidrs = list(config.get("InsecureRegistryCIDRs") or [])
        names = [name for name, index in (config.get("IndexConfigs") or {}).items()
                 if not index.get("Secure", True) and name not in cidrs]
        return cidrs + sorted(names)

    def config(self) -> DaemonConfig:
        """daemon.json of the daemon this engine talks to, verified through its ``docker info``."""
        return DaemonConfig(self.settings.daemon_json, self.settings.dockerd_pidfile, info=self.client.info,
                            learner=self.settings.learner, host=self.settings.docker_host)

    def registry_mirrors(self) -> list[str]:
        """Where pulls of Docker Hub names go first (``docker info``'s "Registry Mirrors")."""
        return self.config().shows("registry-mirrors")

    def reconfigure(self, settings: dict, backup: Path):
        """``daemon.json`` changed and SIGHUP, only on a daemon reglab's set-up started."""
        return self.config().change(settings, backup)

    def restore(self, backup: Path) -> bool:
        return self.config().restore(backup)


class DockerTrust:
    """Docker's ``certs.d`` and ``docker login`` (the daemon checks the credentials)."""

    def __init__(self, client: docker.DockerClient):
        self.client = client

    def folder(self) -> Path:
        return Path(CERTS_D)

    def login(self, host: str, user: str, password: str) -> None:
        """``docker login``: the daemon checks the credentials against the registry (``POST /auth``)."""
        try:
            self.client.login(username=user, password=password, registry=host, reauth=True)
        except docker.errors.APIError as exc:
            text = _message(exc)
            raise (_registry_trouble(text, f"{host}/x", credentials=True)
                   or errors.login_failed(host, text)) from None
