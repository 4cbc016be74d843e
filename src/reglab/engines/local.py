"""The daemonless engine: registries are child processes, images live in an OCI layout.

No Docker daemon, no root: the registry is one Go binary (Debian's ``docker-registry``, or
``REGLAB_REGISTRY_BIN``) started per lab on 127.0.0.1 with its own config, and the client
side of push and pull is plain HTTP (:mod:`reglab.transfer`) against an OCI image layout
(:mod:`reglab.oci`). The course's Docker words map onto files in the lab's state folder
(``<state>/<lab>/``):

- a **container** is ``containers/<name>/``: ``container.json``, ``config.yml``, ``log``,
  the ``pid`` file while the registry runs, and ``data/`` when it has no volume
  (:mod:`reglab.engines.containers`);
- a **volume** is ``volumes/<name>/``, the registry's data folder: "recreate with a
  volume" starts a new process on the same folder, "without a volume" a fresh ``data/``;
- ``kill`` is SIGKILL, ``rm`` also deletes the folder; ``garbage-collect`` runs the same
  binary on the registry's config; the storage is read where it lies;
- a **network** is ``networks/<name>/``: there are no container networks here, so a registry
  that must be reached at an address that is not loopback (``loopback=False``) listens on
  the IPv6 loopback ``[::1]``, which this engine's client (Docker 20.10's list: 127.0.0.0/8)
  does not count as local; ``daemon.json``'s ``insecure-registries`` is this engine's own list,
  and trusted CA certificates go to reglab's ``<state>/certs.d`` (nothing outside reglab's
  folders changes);
- on a network, a registry names another by its container name (``http://<name>:5000``, a
  pull-through cache's upstream): the process gets that registry's loopback address instead;
- ``registry-mirrors`` is this engine's own list too: a pull of a Docker Hub name
  (``hello-world``, ``docker.io/library/…``) goes to the first mirror. Unlike Docker, which
  falls back to Docker Hub when its mirrors fail, this engine never contacts Docker Hub.

Processes are stopped by cleanup, at interpreter exit, and — after a killed kernel — by the
next ``Lab(...)`` of that name, which finds them through their pid files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from .. import cache, terminal, transfer
from .. import images as course_images
from ..daemon import Change
from ..errors import (
    EngineError,
    EngineUnavailable,
    ImageInUse,
    ImageMissing,
    ReglabError,
    missing_image,
    program_missing,
)
from ..naming import ANY, Scope
from ..oci import ID_PATTERN, ImageStore
from ..reference import parse
from ..registry_api import RegistryClient
from ..state import State, lab_dirs, learner_of, state_root
from ..storage import Tree
from ..twin import Twin
from . import containers, processes
from .base import (
    PROXY_REMOTEURL,
    REGISTRY_CONFIG,
    REGISTRY_DATA,
    ContainerInfo,
    DataMount,
    Engine,
    ImageInfo,
    LabObject,
    Progress,
    RegistrySpec,
    Run,
    Transfer,
    epoch_seconds,
)
from .containers import (
    IPV6_LOOPBACK,
    Container,
    config_text,
    hostport,
    image_env,
    install_hint,
    registry_binary,
    registry_major,
)

__all__ = ["NO_RUNTIME", "LocalEngine", "install_hint", "registry_binary"]

DOCKER_HUB = "docker.io"
NO_RUNTIME = "(reglab) the daemonless engine has no container runtime, so no container ran"


# ----------------------------------------------------------------------------- the engine


class LocalEngine(Engine):
    """Registries as processes of the registry binary; images in an OCI image layout."""

    kind = "local"
    has_networks = False

    def __init__(self, store: ImageStore | None = None, binary: str | os.PathLike | None = None,
                 chunk_size: int | None = None):
        found = Path(binary) if binary else registry_binary()
        if found is None or not found.is_file():
            raise EngineUnavailable(f"the daemonless engine needs the registry binary: {install_hint()}.")
        self.binary = found
        self.store = store or ImageStore()
        # the learner's own store (oci.store_root): only that learner's containers can use its images
        self._users = Scope.of(None) if store is None and not os.environ.get("REGLAB_IMAGE_STORE") \
            else Scope(None, ANY)
        self.chunk_size = chunk_size
        self._version: str | None = None
        self._registry_id: str | None = None
        self._insecure: list[str] = []  # daemon.json's insecure-registries, this engine's way
        self._mirrors: list[str] = []  # daemon.json's registry-mirrors, this engine's way

    # ------------------------------------------------------------------ the engine itself

    def version(self) -> str:
        if self._version is None:
            try:
                out = subprocess.run([str(self.binary), "--version"], capture_output=True, text=True, timeout=20)
                words = out.stdout.split()
                self._version = words[-1] if words else "?"
            except (OSError, subprocess.TimeoutExpired):
                self._version = "?"
        return self._version

    def major(self) -> int:
        """The registry binary's major version (2: Debian's 2.8; 3: distribution v3): its config's layout."""
        return registry_major(self.version())

    def describe(self) -> str:
        return (f"daemonless (no Docker): registry {self.version()} from {self.binary} as a plain process, "
                f"images in {self.store.root}")

    def insecure_registries(self) -> list[str]:
        # the same rule as Docker 20.10's default (plain HTTP to 127.0.0.0/8 only), plus the listed ones
        return ["127.0.0.0/8"] + sorted(self._insecure)

    def reconfigure(self, settings: dict, backup: Path) -> Change:
        """No daemon.json here: ``insecure-registries`` and ``registry-mirrors`` become this engine's
        own lists (for the life of this engine, i.e. of the lab); nothing on the machine changes."""
        lists = {"insecure-registries": self._insecure, "registry-mirrors": self._mirrors}
        for key in settings:
            if key not in lists:
                raise EngineError(f"the daemonless engine has no {key}: use the Docker engine for this step.")
        before = {key: list(value) for key, value in lists.items() if value}
        for key, values in settings.items():
            lists[key] += [v for v in values if v not in lists[key]]
        content = {key: list(value) for key, value in lists.items() if value or key in settings}
        changed = {k: content[k] for k in settings if before.get(k) != content[k]}
        return Change(Path("daemon.json"), before, content, changed, True)

    def restore_configuration(self, backup: Path) -> bool:
        had = bool(self._insecure or self._mirrors)
        self._insecure.clear()
        self._mirrors.clear()
        return super().restore_configuration(backup) or had  # a Docker run's backup, if one was left

    def registry_mirrors(self) -> list[str]:
        """Where pulls of Docker Hub names go (``docker info``'s "Registry Mirrors")."""
        return list(self._mirrors)

    # ------------------------------------------------------------------ trust and credentials

    def trust_folder(self) -> Path:
        return state_root() / "certs.d"  # the client looks here first, then in /etc/docker/certs.d

    def login(self, host: str, user: str, password: str) -> None:
        """``GET /v2/`` with the credentials, as the daemon does for ``docker login``."""
        RegistryClient(host, auth=(user, password), insecure=self.insecure_registries()).request("GET", "/v2/")

    # ------------------------------------------------------------------ image store

    def _is_registry_image(self, reference: str) -> bool:
        try:
            return parse(reference).tagged == parse(course_images.registry_image()).tagged
        except ReglabError:
            return False

    def _registry_info(self) -> ImageInfo:
        """The registry "image" here is the binary itself; its ID is the binary's sha256."""
        if self._registry_id is None:
            def digest() -> bytes:
                h = hashlib.sha256()
                with open(self.binary, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
                return h.hexdigest().encode()

            entry = cache.key(cache.file_key(self.binary))
            self._registry_id = "sha256:" + cache.get_or_make("registry-binary", entry, digest).decode()
        tag = parse(course_images.registry_image()).tagged
        return ImageInfo(self._registry_id, (tag,), self.binary.stat().st_size, standin=True)

    def image_info(self, reference: str) -> ImageInfo | None:
        if self._is_registry_image(reference):
            return self._registry_info()
        image = self.store.find(reference)
        if image is None:
            return None
        return self._info(image)

    def _info(self, image) -> ImageInfo:
        config = self.store.config(image)
        return ImageInfo(image.id, image.tags, self.store.size(image), self.store.is_standin(image),
                         created=epoch_seconds(config.get("created")), recipe=self.store.recipe(image))

    def list_images(self) -> list[ImageInfo]:
        return [self._info(i) for i in self.store.images()]

    def layer_count(self, reference: str) -> int:
        image = self.store.find(reference)
        return len(image.layers) if image else 0

    def load_image_archive(self, data: bytes) -> None:
        self.store.import_docker_archive(data)

    def pull_image(self, reference: str) -> None:
        raise ImageMissing(
            f"the daemonless engine does not fetch {reference} from Docker Hub: set REGLAB_OFFLINE=1 to build "
            "the stand-ins from Debian packages (python -m reglab images), or use the Docker engine."
        )

    def _not_an_image(self) -> EngineError:
        return EngineError(
            f"under the daemonless engine {course_images.registry_image()} is the registry binary "
            f"{self.binary}, not an image: it cannot be tagged, pushed or removed; use the Docker engine for that."
        )

    def tag(self, source: str, target: str) -> None:
        if self._is_registry_image(source):
            raise self._not_an_image()
        self.store.tag(source, target)

    def remove_image(self, reference: str) -> None:
        if self._is_registry_image(reference):
            raise self._not_an_image()
        image = self.store.find(reference)
        if image is None:
            raise missing_image(reference)
        by_id = ID_PATTERN.match(reference)
        if by_id and image.id[7:].startswith(by_id.group(1)) and not image.tags:
            self.store.remove_dangling(image.id)  # a dangling image: no name left, removed by its ID
            return
        if by_id and image.id[7:].startswith(by_id.group(1)):
            if len(image.tags) != 1:
                raise EngineError(f"the image {image.id[7:19]} has several names ({', '.join(image.tags)}): "
                                  "remove them by name.")
            name = image.tags[0]
        else:
            name = parse(reference).tagged
        if len(image.tags) == 1:
            users = [c.name for c in containers.of(self._users) if c.image == image.id]
            if users:
                raise ImageInUse(
                    f"{reference} is still used by the stopped container {users[0]}: remove that "
                    f"container first (docker container rm {users[0]})."
                )
        self.store.untag(name)

    def _client(self, host: str) -> RegistryClient:
        """The one registry client, with Docker's rule for plain HTTP (this engine's insecure list).

        Docker Hub's names go to the first registry mirror, never to Docker Hub itself."""
        if host == DOCKER_HUB:
            if not self._mirrors:
                raise ImageMissing("the daemonless engine never contacts Docker Hub: name your own registry in the "
                                   "image (127.0.0.1:<port>/…), or set a registry mirror first.")
            host = urlparse(self._mirrors[0]).netloc or self._mirrors[0]
        return RegistryClient(host, insecure=self.insecure_registries(), timeout=60.0,
                              upstream=self._upstream_of(host))

    def _upstream_of(self, host: str) -> str | None:
        """The upstream of the lab's registry at ``host``, when it is a pull-through cache."""
        for container in containers.of(Scope(None, ANY)):
            if container.kind == "registry" and hostport(container.host, container.port) == host:
                return container.env.get(PROXY_REMOTEURL)
        return None

    def _on_network(self, container: Container, value: str) -> str:
        """``http://<registry of the lab>:5000`` in a setting → that registry's loopback address."""
        if not container.network or "://" not in value:
            return value
        for other in containers.of(container.scope):
            if other.kind == "registry" and other.network == container.network and other.name != container.name:
                value = value.replace(f"://{other.name}:5000", f"://{hostport(other.host, other.port)}")
        return value

    def push(self, reference: str, progress: Progress | None = None) -> Transfer:
        return transfer.push(self.store, reference, self._client, progress, chunk_size=self.chunk_size)

    def pull(self, reference: str, progress: Progress | None = None) -> Transfer:
        return transfer.pull(self.store, reference, self._client, progress)

    # ------------------------------------------------------------------ containers

    def start_registry(self, spec: RegistrySpec) -> None:
        if not self._is_registry_image(spec.image):
            raise EngineError(
                f"the daemonless engine runs only the registry binary {self.binary}, not the image {spec.image}: "
                "use the Docker engine for other images."
            )
        if spec.network:
            self.create_network(spec.scope, spec.network)
        if not spec.loopback:  # no container addresses here: the IPv6 loopback stands in for one
            spec = RegistrySpec(**{**spec.__dict__, "host": IPV6_LOOPBACK})
        containers.make_room(spec.name, spec.scope)
        container = Container(spec.name, spec.scope.lab, "registry", self._registry_info().id, time.time_ns(),
                              spec.host, spec.port, volume=spec.volume, bind=str(spec.bind) if spec.bind else None,
                              env=dict(spec.env), learner=spec.scope.learner, network=spec.network,
                              files=dict(spec.files))
        if spec.volume:
            data = self._volume_dir(spec.scope, spec.volume)
        elif spec.bind:
            data = Path(spec.bind)
        else:
            data = container.dir / "data"  # dies with the container, as Docker's anonymous volume with -v
        container.data = str(data)
        container.dir.mkdir(parents=True, exist_ok=True)
        data.mkdir(parents=True, exist_ok=True)
        container.config.write_text(config_text(data, spec.host, spec.port, self.major()))
        container.save()
        containers.spawn(container, self.binary, lambda value: self._on_network(container, value),
                         base_env=image_env(self.major()))

    def registry_problem(self, name: str) -> str | None:
        container = containers.find(name)
        if container is None:
            return "the container is gone"
        if containers.running(container):
            return None
        return f"it stopped (exited); its last log line: {processes.last_words(container.log)}"

    def storage(self, name: str) -> Tree:
        return Tree.from_path(containers.get(name).data)

    def storage_exec(self, name: str, argv: list[str], workdir: str | None = None) -> str:
        """No container here: the command runs on this machine, on the registry's data folder
        (``/var/lib/registry`` in its arguments means that folder), and its output names the
        folder as the container would."""
        container = containers.get(name)

        def inside(text: str) -> str:
            return container.data + text[len(REGISTRY_DATA):] if text.startswith(REGISTRY_DATA) else text

        out = terminal.run(Twin(tuple(inside(a) for a in argv)), cwd=inside(workdir) if workdir else None)
        return out.text.replace(container.data, REGISTRY_DATA)

    def detach(self, name: str) -> None:
        """Let the registry ``name`` outlive this interpreter (the daemonless ``docker`` command
        starts it and exits); cleanup and the next ``Lab`` still stop it through its pid file."""
        pid = containers.get(name).pid()
        if pid is not None:
            processes.children.pop(pid, None)

    def data_folder(self, name: str) -> Path:
        """The folder holding the registry's /var/lib/registry (for ``docker exec <name> du …``)."""
        return Path(containers.get(name).data)

    def garbage_collect(self, name: str, dry_run: bool = False, delete_untagged: bool = False) -> tuple[int, str]:
        container = containers.get(name)
        argv = [str(self.binary), "garbage-collect"] + (["--dry-run"] if dry_run else []) + \
            (["--delete-untagged"] if delete_untagged else []) + [str(container.config)]
        env = {"PATH": os.environ.get("PATH", os.defpath), **image_env(self.major()), **container.env}
        try:
            done = subprocess.run(argv, capture_output=True, timeout=600, cwd=container.data, env=env)
        except subprocess.TimeoutExpired:
            raise EngineError(f"garbage-collect in {name} ran longer than 10 minutes and was stopped.") from None
        output = (done.stdout + done.stderr).decode(errors="replace")
        return done.returncode, output.replace(str(container.config), REGISTRY_CONFIG).replace(
            container.data, REGISTRY_DATA)

    def logs(self, name: str) -> str:
        try:
            return containers.get(name).log.read_text(errors="replace")
        except OSError:
            return ""

    def kill(self, name: str) -> None:
        containers.halt(containers.get(name))

    def remove(self, name: str) -> None:
        containers.discard(containers.get(name))

    def state(self, name: str) -> str | None:
        container = containers.find(name)
        if container is None:
            return None
        return "running" if containers.running(container) else "exited"

    def inspect(self, name: str) -> ContainerInfo | None:
        container = containers.find(name)
        if container is None:
            return None
        running = containers.running(container)
        data = None
        if container.kind == "registry":
            if container.volume:
                data = DataMount("volume", container.volume)
            elif container.bind:
                data = DataMount("bind", container.bind)
            else:
                data = DataMount("anonymous", container.data)  # containers/<name>/data: goes with rm
        labels = [("reglab.lab", container.lab)] + ([("reglab.learner", container.learner)] if container.learner else [])
        return ContainerInfo(container.name, "running" if running else "exited", container.image,
                             ((container.host, container.port),) if container.kind == "registry" else (),
                             data, tuple(sorted(container.env.items())),
                             None if running else (container.exit_code if container.exit_code is not None else 137),
                             container.started, tuple(labels))

    def restart(self, name: str) -> None:
        container = containers.get(name)
        if container.kind != "registry":
            raise EngineError(f"{name} ran to completion: run it again (docker container run) instead.")
        containers.halt(container)
        containers.spawn(container, self.binary, lambda value: self._on_network(container, value), fresh=False,
                         base_env=image_env(self.major()))

    def run_container(self, scope: Scope, name: str, image: str, entrypoint: str | None = None,
                      args: tuple[str, ...] = ()) -> Run:
        containers.make_room(name, scope)
        if self._is_registry_image(image):
            # nothing from an image runs here; what the registry image holds is known (its stand-in's programs)
            argv = [entrypoint, *args] if entrypoint else ["registry", "serve", REGISTRY_CONFIG]
            if argv[0] not in course_images.registry_standin_programs():
                raise program_missing(image, argv[0])
            return Run(name, 0, f"{NO_RUNTIME}; with Docker, this step runs {' '.join(argv)} inside {image}: "
                                "use the Docker engine to see it.\n")
        stored = self.store.find(image)
        if stored is None:
            raise ImageMissing(
                f"there is no image {image} in the local store: run `python -m reglab images`, or pull "
                "it back from your registry."
            )
        code, output = self._what_docker_prints(stored, entrypoint, args)
        Container(name, scope.lab, "run", stored.id, time.time_ns(), exit_code=code, learner=scope.learner).save()
        return Run(name, code, output)

    def _what_docker_prints(self, image, entrypoint: str | None = None, args: tuple[str, ...] = ()) -> tuple[int, str]:
        """No container runs here, and nothing from an image ever runs on this machine. For
        reglab's own hello-world stand-in the greeting is known (``standin/greeting.txt``, the
        text its program prints), so it is shown exactly as Docker would show it."""
        config = self.store.config(image).get("config") or {}
        argv = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
        if entrypoint:
            argv = [entrypoint, *args]
        if self.store.is_standin(image) and argv == ["/hello"]:
            return 0, f"{NO_RUNTIME}; this is what Docker prints:\n{course_images.hello_greeting()}"
        command = " ".join(argv) or "its command"
        name = image.tags[0] if image.tags else image.id
        return 0, (f"{NO_RUNTIME}; with Docker, this step runs {command} inside {name}: "
                   "use the Docker engine to see it.\n")

    # ------------------------------------------------------------------ networks, volumes, bookkeeping

    def create_network(self, scope: Scope, name: str) -> bool:
        """No container networks here: a folder records the lab's network, like Docker's object."""
        folder = State(scope).dir / "networks" / name
        if folder.is_dir():
            return False
        folder.mkdir(parents=True)
        return True

    def network_address(self, name: str, network: str) -> str:
        container = containers.get(name)
        return hostport(container.host, container.port)

    def _networks(self, scope: Scope) -> list[LabObject]:
        found = []
        for lab_dir in lab_dirs(scope):
            folder = lab_dir / "networks"
            if folder.is_dir():
                found += [LabObject("network", n.name, lab_dir.name, learner_of(lab_dir))
                          for n in sorted(folder.iterdir()) if n.is_dir()]
        return found

    @staticmethod
    def _volume_dir(scope: Scope, name: str) -> Path:
        return State(scope).dir / "volumes" / name

    def create_volume(self, scope: Scope, name: str) -> None:
        self._volume_dir(scope, name).mkdir(parents=True, exist_ok=True)

    def volume_exists(self, name: str) -> bool:
        return any((d / "volumes" / name).is_dir() for d in lab_dirs(Scope(None, ANY)))

    def remove_volume(self, name: str) -> None:
        folders = [d / "volumes" / name for d in lab_dirs(Scope(None, ANY)) if (d / "volumes" / name).is_dir()]
        if not folders:
            raise EngineError(f"there is no volume {name} (docker volume ls lists them).")
        users = [c.name for c in containers.of(Scope(None, ANY)) if c.volume == name]
        if users:
            raise EngineError(f"the volume {name} is in use by the container {users[0]}: remove that container "
                              f"first (docker container rm -f {users[0]}).")
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)

    def _volumes(self, scope: Scope) -> list[LabObject]:
        found = []
        for lab_dir in lab_dirs(scope):
            folder = lab_dir / "volumes"
            if folder.is_dir():
                found += [LabObject("volume", v.name, lab_dir.name, learner_of(lab_dir))
                          for v in sorted(folder.iterdir()) if v.is_dir()]
        return found

    def strangers(self, scope: Scope) -> list[LabObject]:
        return []  # nothing but the lab makes containers and volumes here: typed twins need Docker

    def remove_strangers(self, objects: list[LabObject]) -> None:
        return None

    def objects(self, scope: Scope) -> list[LabObject]:
        found = [LabObject("container", c.name, c.lab, c.learner) for c in containers.of(scope)]
        return found + self._volumes(scope) + self._networks(scope)

    def remove_objects(self, scope: Scope) -> list[LabObject]:
        found = self.objects(scope)
        for container in containers.of(scope):
            containers.discard(container)
        for obj in found:
            if obj.kind in ("volume", "network"):
                shutil.rmtree(State(Scope(obj.lab, obj.learner)).dir / f"{obj.kind}s" / obj.name, ignore_errors=True)
        for lab_dir in lab_dirs(scope):
            for folder in (lab_dir / "containers", lab_dir / "volumes", lab_dir / "networks", lab_dir):
                try:
                    folder.rmdir()  # only when empty: the lab's state.json may still be there
                except OSError:
                    pass
        return found


