"""The daemonless engine's containers: a registry is a process of the registry binary, a
service (object store, load balancer, cache) a process of the program its image holds.

A container is a record in the lab's state folder (:mod:`.records`): ``kill`` is SIGKILL,
``rm`` also deletes its folder, ``exec`` of ``registry garbage-collect`` runs the same binary
on the registry's config, a file tool runs on its data folder, a service's own programs run
pointed at it (:mod:`.services`). A registry that must be reached at an address that is not
loopback listens on the IPv6 loopback ``[::1]`` (no networks here); on a network, a container
names another by its container name (``http://<name>:5000``, ``<name>:6379``) and the process
gets that container's address on this machine instead. A config file mounted at the registry
image's config path is the registry's config here too (its listening address made this one's).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from ... import errors, terminal
from ... import images as course_images
from ...naming import Scope
from ...registry_run import CONFIG_PATHS, config_path
from ...storage import Tree
from ...twin import Twin
from ..base import REGISTRY_DATA, ContainerInfo, DataMount, Exec, RegistryRun, Run, ServiceRun
from . import processes, records, services
from .records import IPV6_LOOPBACK, Container, hostport, image_env

NO_RUNTIME = "(reglab) the daemonless engine has no container runtime, so no container ran"


class LocalContainers:
    """``docker container …`` as records and registry processes."""

    def __init__(self, engine):
        self.engine = engine

    @property
    def _root(self) -> Path:
        return self.engine.settings.state_dir

    def _get(self, name: str) -> Container:
        return records.get(self._root, name)

    def _on_network(self, container: Container, value: str) -> str:
        """``<container of the lab>:<port>`` in a setting (``http://hub:5000``, ``[redis:6379]``) →
        where that container's port is on this machine."""
        return services.resolve(self._root, container, value)

    def _config(self, run: RegistryRun, container: Container, data: Path, host: str) -> tuple[str, dict[str, str]]:
        """The registry's config here, and what the process's environment adds: the stand-in's, or
        the file mounted at the image's config path (as the image would read it), listening here."""
        mounted = next((Path(here) for here, inside in run.files if inside == CONFIG_PATHS[container.major]), None)
        if mounted is None:
            return records.config_text(data, host, run.port, container.major), {}
        text = mounted.read_text()
        text = text.replace(f"rootdirectory: {REGISTRY_DATA}", f"rootdirectory: {data}")
        text = re.sub(r"(?m)^(\s*)debug:\n(?:\1\s+.*\n)+", "", text)  # its debug server: a second port
        return services.resolve(self._root, container, text), {"REGISTRY_HTTP_ADDR": hostport(host, run.port)}

    def start_registry(self, run: RegistryRun, scope: Scope, loopback: bool = True) -> None:
        images = self.engine.images
        if not images.is_registry_image(run.image):
            raise errors.only_the_registry_binary(self.engine.binary, run.image)
        host = run.host
        if host == "0.0.0.0":
            host = "127.0.0.1"  # it publishes on loopback only
        elif host not in ("127.0.0.1", IPV6_LOOPBACK):
            raise errors.UsageError(errors.loopback_only(host))
        if run.network:
            self.engine.objects.create_network(scope, run.network)
        if not loopback:  # no container addresses here: the IPv6 loopback stands in for one
            host = IPV6_LOOPBACK
        records.make_room(self._root, run.name, scope)
        binary = self.engine.binary_for(run.image)
        container = Container(run.name, scope.lab, "registry", images.registry_info(run.image).id, time.time_ns(),
                              host, run.port, volume=run.volume, bind=str(run.bind) if run.bind else None,
                              env=dict(run.env), learner=scope.learner, network=run.network,
                              files=dict(run.files), state_dir=str(self._root), user=run.user,
                              binary=str(binary), major=self.engine.major(binary), reference=run.image)
        if run.volume:
            data = self.engine.objects.volume_dir(scope, run.volume)
        elif run.bind:
            data = Path(run.bind)
        else:
            data = container.dir / "data"  # dies with the container, as Docker's anonymous volume with -v
        container.data = str(data)
        container.dir.mkdir(parents=True, exist_ok=True)
        data.mkdir(parents=True, exist_ok=True)
        records.write_config(container, lambda text: services.resolve(self._root, container, text))
        container.config.chmod(0o600)  # a mounted config may hold the storage's keys
        if records.mounted_config(container):  # a team's config listens where its file says: here, on this port
            container.env = {**container.env, "REGISTRY_HTTP_ADDR": hostport(host, run.port)}
        container.save()
        records.spawn(container, binary, lambda value: self._on_network(container, value),
                      base_env=image_env(container.major))

    def start_service(self, run: ServiceRun, scope: Scope) -> None:
        if run.network:
            self.engine.objects.create_network(scope, run.network)
        services.start(self._root, run, scope, self.engine.settings)

    def problem(self, name: str) -> str | None:
        container = records.find(self._root, name)
        if container is None:
            return errors.container_gone()
        if records.running(container):
            return None
        return errors.registry_stopped("exited", processes.last_words(container.log))

    def storage(self, name: str) -> Tree:
        return Tree.from_path(self._get(name).data)

    def exec(self, name: str, argv: list[str], workdir: str | None = None) -> Exec:
        """No container here: ``registry …`` runs the registry binary on the registry's own config;
        anything else runs on this machine, on the registry's data folder (``/var/lib/registry`` in
        its arguments means that folder), and its output names the folder as the container would."""
        container = self._get(name)
        if container.kind == "service":
            return Exec(*services.run_exec(self._root, container, list(argv)))
        if argv and argv[0] == "registry":
            return self._registry_command(container, argv[1:])

        def inside(text: str) -> str:
            return container.data + text[len(REGISTRY_DATA):] if text.startswith(REGISTRY_DATA) else text

        out = terminal.run(Twin(tuple(inside(a) for a in argv)), cwd=inside(workdir) if workdir else None)
        return Exec(out.code, out.text.replace(container.data, REGISTRY_DATA))

    def _registry_command(self, container: Container, args: list[str]) -> Exec:
        inside = CONFIG_PATHS[container.major]
        args = [str(container.config) if a == inside else a for a in args]
        env = {"PATH": os.defpath, **image_env(container.major),
               **{k: self._on_network(container, v) for k, v in container.env.items()}}
        try:
            done = subprocess.run([container.binary or str(self.engine.binary), *args], capture_output=True,
                                  timeout=600, cwd=container.data, env=env)
        except subprocess.TimeoutExpired:
            raise errors.command_too_long(args, container.name) from None
        output = (done.stdout + done.stderr).decode(errors="replace")
        return Exec(done.returncode, output.replace(str(container.config), inside).replace(
            container.data, REGISTRY_DATA))

    def data_folder(self, name: str) -> Path:
        """The folder holding the registry's /var/lib/registry."""
        return Path(self._get(name).data)

    def logs(self, name: str) -> str:
        try:
            return self._get(name).log.read_text(errors="replace")
        except OSError:
            return ""

    def kill(self, name: str) -> None:
        records.halt(self._get(name))

    def remove(self, name: str) -> None:
        records.discard(self._get(name))

    def state(self, name: str) -> str | None:
        container = records.find(self._root, name)
        if container is None:
            return None
        return "running" if records.running(container) else "exited"

    def inspect(self, name: str) -> ContainerInfo | None:
        container = records.find(self._root, name)
        if container is None:
            return None
        running = records.running(container)
        data = None
        if container.kind == "registry":
            if container.volume:
                data = DataMount("volume", container.volume)
            elif container.bind:
                data = DataMount("bind", container.bind)
            else:
                data = DataMount("anonymous", container.data)  # containers/<name>/data: goes with rm
        labels = [("reglab.lab", container.lab)] + ([("reglab.learner", container.learner)] if container.learner else [])
        published = ((container.host, container.port),) if container.kind == "registry" else \
            tuple((host, port) for host, port, _ in container.publish)
        return ContainerInfo(container.name, "running" if running else "exited", container.image, published,
                             data, tuple(sorted(container.env.items())),
                             None if running else (container.exit_code if container.exit_code is not None else 137),
                             container.started, tuple(labels), container.user,
                             CONFIG_PATHS[container.major] if container.kind == "registry" else None,
                             tuple((h, p, i) for h, p, i in container.publish),
                             reference=container.reference)

    def restart(self, name: str) -> None:
        container = self._get(name)
        if container.kind == "service":
            records.halt(container)
            services.spawn(self._root, container, self.engine.settings, fresh=False)
            return
        if container.kind != "registry":
            raise errors.ran_to_completion(name)
        records.halt(container)
        if records.mounted_config(container):  # a mounted config is read again at each start
            records.write_config(container, lambda text: services.resolve(self._root, container, text))
        records.spawn(container, Path(container.binary) if container.binary else self.engine.binary,
                      lambda value: self._on_network(container, value), fresh=False,
                      base_env=image_env(container.major))

    def keep(self, name: str) -> None:
        """Let the registry ``name`` outlive this interpreter (the daemonless ``docker`` command
        starts it and exits); cleanup and the next ``Lab`` still stop it through its pid file."""
        pid = self._get(name).pid()
        if pid is not None:
            processes.children.pop(pid, None)

    def run(self, scope: Scope, name: str, image: str, entrypoint: str | None = None,
            args: tuple[str, ...] = ()) -> Run:
        records.make_room(self._root, name, scope)
        if self.engine.images.is_registry_image(image):
            # nothing from an image runs here; what the registry image holds is known (its stand-in's programs)
            argv = [entrypoint, *args] if entrypoint else ["registry", "serve", config_path(image)]
            if argv[0] not in course_images.registry_standin_programs():
                raise errors.program_missing(image, argv[0])
            return Run(name, 0, f"{NO_RUNTIME}; with Docker, this step runs {' '.join(argv)} inside {image}: "
                                "use the Docker engine to see it.\n")
        stored = self.engine.store.find(image)
        if stored is None:
            raise errors.no_image_to_run(image)
        code, output = self._what_docker_prints(stored, entrypoint, args)
        Container(name, scope.lab, "run", stored.id, time.time_ns(), exit_code=code, learner=scope.learner,
                  state_dir=str(self._root), reference=image).save()
        return Run(name, code, output)

    def _what_docker_prints(self, image, entrypoint: str | None = None, args: tuple[str, ...] = ()) -> tuple[int, str]:
        """No container runs here, and nothing from an image ever runs on this machine. For
        reglab's own hello-world stand-in the greeting is known (``standin/greeting.txt``, the
        text its program prints), so it is shown exactly as Docker would show it."""
        store = self.engine.store
        config = store.config(image).get("config") or {}
        argv = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
        if entrypoint:
            argv = [entrypoint, *args]
        if store.is_standin(image) and argv == ["/hello"]:
            return 0, f"{NO_RUNTIME}; this is what Docker prints:\n{course_images.hello_greeting()}"
        command = " ".join(argv) or "its command"
        name = image.tags[0] if image.tags else image.id
        return 0, (f"{NO_RUNTIME}; with Docker, this step runs {command} inside {name}: "
                   "use the Docker engine to see it.\n")
