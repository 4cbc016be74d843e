"""The Docker engine's labelled objects: volumes and networks, and a scope's objects of every kind."""

from __future__ import annotations

import docker
import docker.errors

from ... import errors, naming
from ...errors import NameConflict
from ...naming import Scope
from ..base import LabObject
from .words import _message

_REMOVAL_ORDER = {"container": 0, "network": 1, "volume": 2}  # containers use the networks and volumes


class DockerObjects:
    """``docker volume …``, ``docker network …``, and ``--filter label=reglab.lab``."""

    def __init__(self, client: docker.DockerClient):
        self.client = client

    def create_network(self, scope: Scope, name: str) -> bool:
        try:
            existing = self.client.networks.get(name)
        except docker.errors.NotFound:
            self.client.networks.create(name, labels=scope.labels(), driver="bridge")
            return True
        if not scope.owns(existing.attrs.get("Labels")):
            raise NameConflict(errors.network_not_ours(name))
        return False

    def address(self, name: str, network: str) -> str:
        try:
            container = self.client.containers.get(name)
        except docker.errors.NotFound:
            raise errors.no_container(name) from None
        settings = ((container.attrs.get("NetworkSettings") or {}).get("Networks") or {}).get(network) or {}
        if not settings.get("IPAddress"):
            raise errors.no_address_on(name, network)
        return f"{settings['IPAddress']}:5000"  # the registry listens on 5000 inside its container

    def create_volume(self, scope: Scope, name: str) -> None:
        try:
            existing = self.client.volumes.get(name)
        except docker.errors.NotFound:
            self.client.volumes.create(name, labels=scope.labels())
            return
        labels = existing.attrs.get("Labels") or {}
        if naming.LAB_LABEL not in labels:
            raise NameConflict(errors.not_ours("volume", name, scope.lab))
        if not scope.owns(labels):
            raise NameConflict(errors.another_learners("volume", name))

    def volume_exists(self, name: str) -> bool:
        try:
            self.client.volumes.get(name)
            return True
        except docker.errors.NotFound:
            return False

    def remove_volume(self, name: str) -> None:
        try:
            self.client.volumes.get(name).remove()
        except docker.errors.NotFound:
            raise errors.no_volume(name) from None
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                users = [c.name for c in self.client.containers.list(all=True, filters={"volume": name},
                                                                     ignore_removed=True)]
                raise errors.volume_in_use(name, users[0] if users else "a container") from None
            raise errors.volume_remove_failed(name, _message(exc)) from None

    def strangers(self, scope: Scope) -> list[LabObject]:
        prefix = f"{scope.prefix}-"
        found = []
        containers = self.client.containers
        kinds = (("container", lambda: containers.list(all=True, filters={"name": prefix}, ignore_removed=True),
                  lambda c: (c.name, c.labels)),
                 ("volume", lambda: self.client.volumes.list(filters={"name": prefix}),
                  lambda v: (v.name, v.attrs.get("Labels"))),
                 ("network", lambda: self.client.networks.list(filters={"name": prefix}),
                  lambda n: (n.name, n.attrs.get("Labels"))))
        for kind, listing, name_labels in kinds:
            for obj in listing():
                name, labels = name_labels(obj)
                if name.startswith(prefix) and naming.LAB_LABEL not in (labels or {}):
                    found.append(LabObject(kind, name, scope.lab, scope.learner))
        return found

    def remove_strangers(self, objects: list[LabObject]) -> None:
        """Remove objects the learner told the lab to take over (``Lab(..., adopt=True)``)."""
        for obj in sorted(objects, key=lambda o: _REMOVAL_ORDER[o.kind]):
            try:
                self._remove(obj)
            except docker.errors.APIError as exc:
                raise errors.object_remove_failed(obj.kind, obj.name, _message(exc)) from None

    def _remove(self, obj: LabObject) -> None:
        """Remove one container (with its anonymous volumes), volume or network; gone already is fine."""
        try:
            if obj.kind == "container":
                self.client.containers.get(obj.name).remove(force=True, v=True)
            elif obj.kind == "volume":
                self.client.volumes.get(obj.name).remove(force=True)
            else:
                self.client.networks.get(obj.name).remove()
        except docker.errors.NotFound:
            pass

    def of(self, scope: Scope) -> list[LabObject]:
        flt = scope.docker_filter()
        found = []

        def add(kind: str, name: str, labels: dict | None) -> None:
            if scope.owns(labels):
                found.append(LabObject(kind, name, labels[naming.LAB_LABEL], labels.get(naming.LEARNER_LABEL)))

        for c in self.client.containers.list(all=True, filters=flt, ignore_removed=True):
            add("container", c.name, c.labels)
        for v in self.client.volumes.list(filters=flt):
            add("volume", v.name, v.attrs.get("Labels"))
        for n in self.client.networks.list(filters=flt):
            add("network", n.name, n.attrs.get("Labels"))
        return found

    def remove_all(self, scope: Scope) -> list[LabObject]:
        removed = []
        for obj in sorted(self.of(scope), key=lambda o: _REMOVAL_ORDER[o.kind]):
            try:
                self._remove(obj)
            except docker.errors.APIError as exc:
                if exc.status_code == 409:  # still used by a container that is not the lab's: leave it
                    continue
                raise
            removed.append(obj)
        return removed
