"""The daemonless engine: registries (and notebook 07's object store, nginx and redis) are child
processes, images live in an OCI layout.

No Docker daemon, no root: the registry is one Go binary (Debian's ``docker-registry``, or
``Settings.registry_bin``) started per lab on 127.0.0.1 with its own config, and the client
side of push and pull is plain HTTP (:mod:`reglab.transfer`) against an OCI image layout
(:mod:`reglab.oci`). The course's Docker words map onto files in the lab's state folder: see
:mod:`.containers`, :mod:`.objects`, :mod:`.daemon`, :mod:`.images`.

Processes are stopped by cleanup, at interpreter exit, and — after a killed kernel — by the
next ``Lab(...)`` of that name, which finds them through their pid files. The services run the
program their image holds (:mod:`.services`); any other image's program does not run here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ...config import Settings
from ... import errors
from ...errors import EngineUnavailable
from ...naming import ANY, Scope
from ...oci import ImageStore, store_root
from ..base import Cannot, Engine
from .containers import NO_RUNTIME, LocalContainers
from .daemon import LocalDaemon, LocalTrust
from .images import LocalImages
from .objects import LocalObjects
from .records import install_hint, registry_binary, version_major

__all__ = ["NO_RUNTIME", "LocalEngine", "install_hint", "registry_binary"]


class LocalEngine(Engine):
    """Registries as processes of the registry binary; images in an OCI image layout."""

    kind = "local"
    label = "the daemonless engine"
    cannot = frozenset({Cannot.RUN_CONTAINERS, Cannot.NETWORKS, Cannot.CONTAINER_NAMES, Cannot.ASK_DAEMON,
                        Cannot.DAEMON_JSON, Cannot.PULL_FROM_HUB, Cannot.DOCKER_CLI})

    def __init__(self, settings: Settings | None = None, store: ImageStore | None = None,
                 binary: str | os.PathLike | None = None, chunk_size: int | None = None):
        self.settings = settings or Settings.from_env()
        found = Path(binary) if binary else registry_binary(self.settings)
        if found is None or not found.is_file():
            raise errors.registry_binary_missing(install_hint(self.settings))
        self.binary = found
        self.store = store or ImageStore(store_root(self.settings))
        # the learner's own store: only that learner's containers can use its images
        self.store_users = Scope(None, self.settings.learner) if store is None and not self.settings.image_store \
            else Scope(None, ANY)
        self.chunk_size = chunk_size
        self._versions: dict[Path, str] = {}
        self._binaries: dict[str, Path] = {}
        self.daemon = LocalDaemon(self)
        self.trust = LocalTrust(self)
        self.images = LocalImages(self)
        self.containers = LocalContainers(self)
        self.objects = LocalObjects(self)

    def version(self, binary: Path | None = None) -> str:
        """What ``registry --version`` ends with (``2.8.2+ds1``, ``v3.1.2+unknown``)."""
        binary = binary or self.binary
        if binary not in self._versions:
            try:
                out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=20)
                words = out.stdout.split()
                self._versions[binary] = words[-1] if words else "?"
            except (OSError, subprocess.TimeoutExpired):
                self._versions[binary] = "?"
        return self._versions[binary]

    def major(self, binary: Path | None = None) -> int:
        """A registry binary's major version (2: Debian's 2.8; 3: distribution v3): its config's layout."""
        return version_major(self.version(binary))

    def binary_for(self, image: str) -> Path:
        """The program that stands for the registry image ``image`` here: the course's image is
        :attr:`binary`; ``registry:2`` is Debian's 2.8, ``registry:3`` the v3 build."""
        if image == self.settings.registry_image:
            return self.binary
        if image not in self._binaries:
            found = registry_binary(self.settings, image)
            if found is None:
                raise EngineUnavailable(errors.no_registry_binary_for(image, install_hint(
                    self.settings.but(registry_image=image, registry_bin=None))))
            self._binaries[image] = found
        return self._binaries[image]

    def describe(self) -> str:
        return (f"daemonless (no Docker): registry {self.version()} from {self.binary} as a plain process, "
                f"images in {self.store.root}")
