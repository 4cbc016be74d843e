"""Engines, found by name in one mapping: ``Settings.engine`` (``REGLAB_ENGINE=docker|local``); by
default Docker when a daemon answers, else the daemonless engine when the registry binary is here."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .. import errors
from ..config import Settings
from ..errors import EngineUnavailable
from .base import (
    Cannot,
    ContainerInfo,
    DataMount,
    Engine,
    Exec,
    ImageInfo,
    LabObject,
    RegistryRun,
    Run,
    Transfer,
)

__all__ = ["ENGINES", "Cannot", "ContainerInfo", "DataMount", "Engine", "EngineChoice", "Exec", "ImageInfo",
           "LabObject", "RegistryRun", "Run", "Transfer", "choose_engine", "get_engine"]

# name → "module:class", imported only when chosen (the Docker SDK is not needed daemonless)
ENGINES = {
    "docker": "reglab.engines.docker:DockerEngine",
    "local": "reglab.engines.local:LocalEngine",
}
PROBE_TIMEOUT = 5  # seconds a default choice waits for the Docker daemon to answer


@dataclass(frozen=True)
class EngineChoice:
    """Which engine, and why (``doctor`` prints both)."""

    kind: str
    reason: str


def _docker_problem(settings: Settings) -> str | None:
    """None when a Docker daemon answers; else where nobody answered."""
    try:
        import docker

        client = docker.DockerClient(base_url=settings.docker_host, timeout=PROBE_TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
    except Exception:  # any failure means: no daemon we can use
        return f"no Docker daemon answers at {settings.docker_host}"
    return None


def choose_engine(kind: str | None = None, settings: Settings | None = None) -> EngineChoice:
    """The engine ``kind`` or ``Settings.engine`` names, else the best one this machine has."""
    settings = settings or Settings.from_env()
    asked = (kind or settings.engine or "").strip().lower()
    if asked:
        if asked not in ENGINES:
            raise EngineUnavailable(errors.no_such_engine(asked, list(ENGINES)))
        return EngineChoice(asked, "asked for" if kind else f"REGLAB_ENGINE={asked}")
    problem = _docker_problem(settings)
    if problem is None:
        return EngineChoice("docker", "a Docker daemon answers")
    from .local import install_hint, registry_binary

    binary = registry_binary(settings)
    if binary is not None:
        return EngineChoice("local", f"{problem}, and the registry binary {binary} is here")
    raise EngineUnavailable(errors.no_engine(problem, install_hint(settings)))


def get_engine(kind: str | None = None, settings: Settings | None = None) -> Engine:
    """The engine named by ``kind`` or ``Settings.engine``; see :func:`choose_engine`."""
    settings = settings or Settings.from_env()
    module, _, name = ENGINES[choose_engine(kind, settings).kind].partition(":")
    return getattr(importlib.import_module(module), name)(settings)
