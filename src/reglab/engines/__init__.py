"""Engine selection: ``REGLAB_ENGINE=docker|local``, default Docker."""

from __future__ import annotations

import os

from ..errors import EngineUnavailable
from .base import Engine, ImageInfo, LabObject, RegistrySpec, Run, Transfer

__all__ = ["Engine", "ImageInfo", "LabObject", "RegistrySpec", "Run", "Transfer", "get_engine"]


def get_engine(kind: str | None = None) -> Engine:
    """The engine named by ``kind`` or ``REGLAB_ENGINE``; Docker when neither says."""
    kind = (kind or os.environ.get("REGLAB_ENGINE") or "docker").lower()
    if kind == "docker":
        from .docker import DockerEngine

        return DockerEngine()
    if kind == "local":
        raise EngineUnavailable(
            "the daemonless engine (REGLAB_ENGINE=local) is not part of this version yet: "
            "use Docker (unset REGLAB_ENGINE)."
        )
    raise EngineUnavailable(f"REGLAB_ENGINE={kind!r} names no engine: use 'docker' or 'local'.")
