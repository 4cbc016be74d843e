"""Engines, found by name in one mapping: ``REGLAB_ENGINE=docker|local``; by default Docker
when a daemon answers, else the daemonless engine when the registry binary is here."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

from ..errors import EngineUnavailable
from .base import ContainerInfo, DataMount, Engine, ImageInfo, LabObject, RegistrySpec, Run, Transfer

__all__ = ["ENGINES", "ContainerInfo", "DataMount", "Engine", "EngineChoice", "ImageInfo", "LabObject",
           "RegistrySpec", "Run", "Transfer", "choose_engine", "get_engine"]

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


def _docker_problem() -> str | None:
    """None when a Docker daemon answers; else where nobody answered."""
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        import docker

        client = docker.from_env(timeout=PROBE_TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
    except Exception:  # any failure means: no daemon we can use
        return f"no Docker daemon answers at {where}"
    return None


def choose_engine(kind: str | None = None) -> EngineChoice:
    """The engine ``kind`` or ``REGLAB_ENGINE`` names, else the best one this machine has."""
    asked = (kind or os.environ.get("REGLAB_ENGINE") or "").strip().lower()
    if asked:
        if asked not in ENGINES:
            raise EngineUnavailable(f"REGLAB_ENGINE={asked!r} names no engine: use {' or '.join(repr(k) for k in ENGINES)}.")
        return EngineChoice(asked, "asked for" if kind else f"REGLAB_ENGINE={asked}")
    problem = _docker_problem()
    if problem is None:
        return EngineChoice("docker", "a Docker daemon answers")
    from .local import install_hint, registry_binary

    binary = registry_binary()
    if binary is not None:
        return EngineChoice("local", f"{problem}, and the registry binary {binary} is here")
    raise EngineUnavailable(
        f"{problem} and the registry binary is missing: start Docker (`make lab` does on Debian), "
        f"or {install_hint()} to use the daemonless engine."
    )


def get_engine(kind: str | None = None) -> Engine:
    """The engine named by ``kind`` or ``REGLAB_ENGINE``; see :func:`choose_engine`."""
    module, _, name = ENGINES[choose_engine(kind).kind].partition(":")
    return getattr(importlib.import_module(module), name)()
