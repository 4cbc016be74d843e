"""The daemonless engine's volumes and networks: folders in the lab's state folder.

A **volume** is ``volumes/<name>/``, the registry's data folder: "recreate with a volume"
starts a new process on the same folder. A **network** is ``networks/<name>/``: there are no
container networks here, so the lab's objects read the same under both engines.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ... import errors
from ...naming import ANY, Scope
from ...state import State, lab_dirs, learner_of
from ..base import LabObject
from . import records
from .records import hostport


class LocalObjects:
    def __init__(self, engine):
        self.engine = engine

    @property
    def _root(self) -> Path:
        return self.engine.settings.state_dir

    def create_network(self, scope: Scope, name: str) -> bool:
        folder = State(self._root, scope).dir / "networks" / name
        if folder.is_dir():
            return False
        folder.mkdir(parents=True)
        return True

    def address(self, name: str, network: str) -> str:
        container = records.get(self._root, name)
        return hostport(container.host, container.port)

    def _listed(self, scope: Scope, kind: str) -> list[LabObject]:
        found = []
        for lab_dir in lab_dirs(self._root, scope):
            folder = lab_dir / f"{kind}s"
            if folder.is_dir():
                found += [LabObject(kind, n.name, lab_dir.name, learner_of(lab_dir))
                          for n in sorted(folder.iterdir()) if n.is_dir()]
        return found

    def volume_dir(self, scope: Scope, name: str) -> Path:
        return State(self._root, scope).dir / "volumes" / name

    def create_volume(self, scope: Scope, name: str) -> None:
        self.volume_dir(scope, name).mkdir(parents=True, exist_ok=True)

    def volume_exists(self, name: str) -> bool:
        return any((d / "volumes" / name).is_dir() for d in lab_dirs(self._root, Scope(None, ANY)))

    def remove_volume(self, name: str) -> None:
        folders = [d / "volumes" / name for d in lab_dirs(self._root, Scope(None, ANY))
                   if (d / "volumes" / name).is_dir()]
        if not folders:
            raise errors.no_volume(name)
        users = [c.name for c in records.of(self._root, Scope(None, ANY)) if c.volume == name]
        if users:
            raise errors.volume_in_use(name, users[0])
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)

    def strangers(self, scope: Scope) -> list[LabObject]:
        return []  # nothing but the lab makes containers and volumes here: typed twins need Docker

    def remove_strangers(self, objects: list[LabObject]) -> None:
        return None

    def of(self, scope: Scope) -> list[LabObject]:
        found = [LabObject("container", c.name, c.lab, c.learner) for c in records.of(self._root, scope)]
        return found + self._listed(scope, "volume") + self._listed(scope, "network")

    def remove_all(self, scope: Scope) -> list[LabObject]:
        found = self.of(scope)
        for container in records.of(self._root, scope):
            records.discard(container)
        for obj in found:
            if obj.kind in ("volume", "network"):
                shutil.rmtree(State(self._root, Scope(obj.lab, obj.learner)).dir / f"{obj.kind}s" / obj.name,
                              ignore_errors=True)
        for lab_dir in lab_dirs(self._root, scope):
            for folder in (lab_dir / "containers", lab_dir / "volumes", lab_dir / "networks", lab_dir):
                try:
                    folder.rmdir()  # only when empty: the lab's state.json may still be there
                except OSError:
                    pass
        return found
