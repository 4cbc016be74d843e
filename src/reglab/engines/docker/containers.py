"""The Docker engine's containers: a registry is a container of the registry image."""

from __future__ import annotations

import re
from pathlib import Path

import docker
import docker.errors

from ... import errors, naming
from ...errors import NameConflict
from ...naming import Scope
from ...storage import Tree
from ..base import REGISTRY_DATA, ContainerInfo, DataMount, Exec, RegistryRun, Run, ServiceRun, last_words_of
from .words import _message, _timestamp

_ANONYMOUS = re.compile(r"^[0-9a-f]{64}$")  # Docker names an anonymous volume by 64 hex digits


class DockerContainers:
    """``docker container …`` through the daemon."""

    def __init__(self, client: docker.DockerClient, images):
        self.client, self.images = client, images

    def _get(self, name: str):
        try:
            return self.client.containers.get(name)
        except docker.errors.NotFound:
            raise errors.no_container(name) from None

    def _check_name_free(self, name: str, scope: Scope) -> None:
        try:
            existing = self.client.containers.get(name)
        except docker.errors.NotFound:
            return
        if naming.LAB_LABEL not in (existing.labels or {}):
            raise NameConflict(errors.not_ours("container", name, scope.lab))
        if not scope.owns(existing.labels):
            raise NameConflict(errors.another_learners("container", name))
        existing.remove(force=True, v=True)

    def start_registry(self, run: RegistryRun, scope: Scope, loopback: bool = True) -> None:
        self._check_name_free(run.name, scope)
        volumes = {folder: {"bind": inside, "mode": "ro"} for folder, inside in run.files}
        if run.volume:
            volumes[run.volume] = {"bind": REGISTRY_DATA, "mode": "rw"}
        if run.bind:
            volumes[str(run.bind)] = {"bind": REGISTRY_DATA, "mode": "rw"}
        if self.images.info(run.image) is None:
            raise errors.registry_image_missing(run.image)
        try:
            container = self.client.containers.create(
                run.image, name=run.name, labels=scope.labels(), ports={"5000/tcp": (run.host, run.port)},
                volumes=volumes, user=run.user, environment=dict(run.env) or None, detach=True,
                network=run.network, dns_opt=list(run.dns_options) or None,
            )
        except docker.errors.APIError as exc:
            raise errors.cannot_create_registry(run.name, _message(exc)) from None
        try:
            container.start()
        except docker.errors.APIError as exc:
            container.remove(force=True, v=True)
            text = _message(exc)
            if "address already in use" in text or "port is already allocated" in text:
                raise errors.port_taken(run.port, run.host, self._port_holder(run.port)) from None
            raise errors.registry_start_failed(run.name, text) from None

    def start_service(self, run: ServiceRun, scope: Scope) -> None:
        self._check_name_free(run.name, scope)
        if self.images.info(run.image) is None:
            raise errors.service_image_missing(run.image)
        volumes = {here: {"bind": inside, "mode": "ro"} for here, inside in run.files}
        if run.data:
            volumes[run.data[0]] = {"bind": run.data[1], "mode": "rw"}
        try:
            container = self.client.containers.create(
                run.image, command=list(run.args) or None, name=run.name, labels=scope.labels(),
                ports={f"{inside}/tcp": (host, port) for host, port, inside in run.publish}, volumes=volumes,
                user=run.user, environment=dict(run.env) or None, detach=True, network=run.network)
        except docker.errors.APIError as exc:
            raise errors.cannot_create_service(run.name, _message(exc)) from None
        try:
            container.start()
        except docker.errors.APIError as exc:
            container.remove(force=True, v=True)
            text = _message(exc)
            if "address already in use" in text or "port is already allocated" in text:
                port = next((p for _, p, _ in run.publish if f":{p}" in text), run.publish[0][1])
                raise errors.port_taken(port, run.publish[0][0], self._port_holder(port)) from None
            raise errors.service_start_failed(run.name, text) from None

    def _port_holder(self, port: int) -> str:
        """Who holds a host port: a container of another lab or learner (by its labels), or a program."""
        for container in self.client.containers.list(filters={"publish": str(port)}, ignore_removed=True):
            labels = container.labels or {}
            if naming.LEARNER_LABEL in labels:
                return f"learner {labels[naming.LEARNER_LABEL]}'s container {container.name}"
            return f"the container {container.name}"
        return "another program"

    def problem(self, name: str) -> str | None:
        try:
            container = self.client.containers.get(name)
        except docker.errors.NotFound:
            return errors.container_gone()
        if container.status == "running":
            return None
        return errors.registry_stopped(container.status, last_words_of(container.logs().decode(errors="replace")))

    def storage(self, name: str) -> Tree:
        """A bind-mounted data folder is read where it lies; a volume (or the container's own
        layer) through Docker's archive API, which also works with Docker Desktop."""
        container = self._get(name)
        for mount in container.attrs.get("Mounts") or []:
            if mount.get("Destination") == REGISTRY_DATA and mount.get("Type") == "bind":
                source = Path(mount.get("Source", ""))
                if source.is_dir():
                    return Tree.from_path(source)

        def read(path: str):
            try:
                stream, _ = self._get(name).get_archive(path)
            except docker.errors.NotFound:
                raise errors.no_such_path(path, name) from None
            return stream

        return Tree.from_archive(read(REGISTRY_DATA), reopen=read, top=REGISTRY_DATA)

    def exec(self, name: str, argv: list[str], workdir: str | None = None) -> Exec:
        result = self._get(name).exec_run(list(argv), workdir=workdir)
        return Exec(result.exit_code, result.output.decode(errors="replace"))

    def logs(self, name: str) -> str:
        return self._get(name).logs(stdout=True, stderr=True).decode(errors="replace")

    def kill(self, name: str) -> None:
        container = self._get(name)
        if container.status == "running":
            try:
                container.kill()
            except docker.errors.APIError as exc:
                if exc.status_code != 409:  # 409: it stopped on its own meanwhile
                    raise errors.kill_failed(name, _message(exc)) from None

    def remove(self, name: str) -> None:
        container = self._get(name)
        try:
            container.remove(force=True, v=True)
        except docker.errors.APIError as exc:
            raise errors.remove_failed(name, _message(exc)) from None

    def state(self, name: str) -> str | None:
        try:
            return self.client.containers.get(name).status
        except docker.errors.NotFound:
            return None

    def inspect(self, name: str) -> ContainerInfo | None:
        try:
            attrs = self.client.containers.get(name).attrs
        except docker.errors.NotFound:
            return None
        state = attrs.get("State") or {}
        host_config = attrs.get("HostConfig") or {}
        bindings = (host_config.get("PortBindings") or {}).get("5000/tcp") or []
        ports = tuple((b.get("HostIp") or "", int(b["HostPort"])) for b in bindings if b.get("HostPort"))
        data = None
        for mount in attrs.get("Mounts") or []:
            if mount.get("Destination") != REGISTRY_DATA:
                continue
            if mount.get("Type") == "bind":
                data = DataMount("bind", mount.get("Source", ""))
            elif mount.get("Type") == "volume":
                volume = mount.get("Name", "")
                data = DataMount("anonymous" if _ANONYMOUS.match(volume) else "volume", volume)
        config = attrs.get("Config") or {}
        env = tuple(tuple(item.split("=", 1)) for item in config.get("Env") or [] if "=" in item)
        labels = tuple(sorted((config.get("Labels") or {}).items()))
        command = [c for c in config.get("Cmd") or [] if str(c).endswith("config.yml")]
        return ContainerInfo(name, state.get("Status", "?"), attrs.get("Image", ""), ports, data, env,
                             state.get("ExitCode"), _timestamp(state.get("StartedAt")), labels,
                             config.get("User") or None, command[-1] if command else None,
                             reference=config.get("Image") or None)

    def restart(self, name: str) -> None:
        try:
            self._get(name).restart(timeout=0)
        except docker.errors.APIError as exc:
            text = _message(exc)
            if "address already in use" in text or "port is already allocated" in text:
                raise errors.restart_port_taken(name) from None
            raise errors.restart_failed(name, text) from None

    def run(self, scope: Scope, name: str, image: str, entrypoint: str | None = None,
            args: tuple[str, ...] = ()) -> Run:
        self._check_name_free(name, scope)
        if self.images.info(image) is None:
            raise errors.no_image_to_run(image)
        container = self.client.containers.create(image, name=name, labels=scope.labels(), detach=True,
                                                  entrypoint=entrypoint, command=list(args) or None)
        try:
            container.start()
        except docker.errors.APIError as exc:
            container.remove(force=True, v=True)
            text = _message(exc)
            if "executable file not found" in text and entrypoint:
                raise errors.program_missing(image, entrypoint) from None
            raise errors.run_failed(name, text) from None
        result = container.wait(timeout=120)
        output = container.logs(stdout=True, stderr=True).decode(errors="replace")
        return Run(name, int(result.get("StatusCode", -1)), output)

    def keep(self, name: str) -> None:
        """A container outlives the command that started it anyway."""
