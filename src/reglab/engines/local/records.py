"""The daemonless engine's containers: a record in a folder per container, and its registry process.

A container is ``<state>/<lab>/containers/<name>/``: ``container.json`` (what ``docker container
inspect`` would say), ``config.yml``, ``log``, the ``pid`` file while its registry runs, and
``data/`` when it has no volume. This module finds those records (any learner's, by name, or a
scope's), starts a record's registry process and waits until *that* process listens, and
stops it. :class:`reglab.engines.local.LocalEngine` decides what to start; this is how.
Records live under a state root (``Settings.state_dir``), which every function here is given.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ... import errors
from ...errors import port_taken
from ...naming import ANY, Scope
from ...registry_run import CONFIG_PATHS, registry_major
from ...state import State, lab_dirs
from ... import images as course_images
from ... import tools
from . import processes

START_WAIT = 30.0  # seconds a registry process may take to bind its port


def _wants_v3(settings) -> bool:
    return settings is not None and registry_major(settings.registry_image) == 3


def registry_binary(settings=None, image: str | None = None) -> Path | None:
    """The registry program for ``image`` (default: the course's, ``Settings.registry_image``):
    ``Settings.registry_bin`` for the course's image if set; else for ``registry:3`` the v3 binary
    scripts/go-tools.sh built; else Debian's ``docker-registry`` (2.8). None when it is not an
    executable file."""
    course = settings.registry_image if settings is not None else None
    configured = settings.registry_bin if settings is not None and image in (None, course) else None
    if configured:
        path = Path(configured)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    if registry_major(image or course or "registry:2") == 3:
        return tools.find("registry", settings.tools_dir) if settings is not None else None
    for candidate in (shutil.which("docker-registry"), "/usr/bin/docker-registry"):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def install_hint(settings=None) -> str:
    configured = settings.registry_bin if settings is not None else None
    if configured:
        return errors.registry_binary_hint(str(configured))
    if _wants_v3(settings):
        return errors.registry_v3_hint(tools.install_hint("registry"))
    return errors.registry_binary_hint(None)


@dataclass
class Container:
    """What ``docker container inspect`` would say, kept as ``container.json``."""

    name: str
    lab: str
    kind: str  # "registry", "service" (an object store, a load balancer, a cache) or "run"
    image: str
    created: int
    host: str = "127.0.0.1"
    port: int = 0
    data: str = ""
    volume: str | None = None
    bind: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    learner: str | None = None
    network: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # folder here → path inside (certificates, htpasswd)
    started: float = 0.0  # Unix time the registry process last started
    state_dir: str = ""  # the state root it lives under
    user: str | None = None  # --user, as given (the process runs as whoever runs reglab)
    binary: str = ""  # the registry program it runs (registry:2's or registry:3's)
    major: int = 2  # that program's major version: its config's layout
    # a service: the image it stands for, the command after the image, where each port it listens
    # on inside a container is on this machine ("8333" → 21800), what is published, and the text
    # its process's command line holds (processes.alive tells it from another program by that)
    args: list[str] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    publish: list[list] = field(default_factory=list)  # [host, host port, port inside]
    marker: str = ""
    reference: str | None = None  # the image name it was run as (docker container run <reference>)

    @property
    def scope(self) -> Scope:
        return Scope(self.lab, self.learner)

    @property
    def dir(self) -> Path:
        return State(Path(self.state_dir), self.scope).dir / "containers" / self.name

    @property
    def config(self) -> Path:
        return self.dir / "config.yml"

    @property
    def pid_file(self) -> Path:
        return self.dir / "pid"

    @property
    def log(self) -> Path:
        return self.dir / "log"

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / "container.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(self.dir / "container.json")

    @classmethod
    def load(cls, folder: Path, state_dir: Path) -> Container | None:
        try:
            return cls(**{**json.loads((folder / "container.json").read_text()), "state_dir": str(state_dir)})
        except (OSError, ValueError, TypeError):
            return None

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    @property
    def mark(self) -> str:
        """What its process's command line holds: a registry's config file, a service's marker."""
        return self.marker or str(self.config)

    def host_port(self, inside: int) -> int | None:
        """Where the port ``inside`` a container is on this machine (a registry: 5000 is its port)."""
        if self.kind == "registry":
            return self.port if inside == 5000 else None
        return self.ports.get(str(inside))


IPV6_LOOPBACK = "::1"


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def version_major(version: str) -> int:
    """2 or 3 from what ``registry --version`` ends with: ``2.8.2+ds1``, ``v3.1.2+unknown``, ``3.1.2``."""
    found = re.match(r"v?(\d+)\.", version)
    return int(found.group(1)) if found else 2


def config_text(data: Path, host: str, port: int, major: int = 2, text: str | None = None) -> str:
    """The stand-in's config (upstream's for registry:2 or registry:3) — or ``text``, a config
    mounted where the image reads its own (a team's) — with this registry's data folder and
    address. registry:3's debug server is left out: upstream's listens on :5001 (every
    address of the container), and here processes share this machine's ports (a second registry
    would exit: "error listening on debug interface")."""
    if text is None:
        text = course_images.registry_standin_config(major).decode()
    text = re.sub(r"\n    debug:\n(?:        .*\n)+", "\n", text)
    text = text.replace("rootdirectory: /var/lib/registry", f"rootdirectory: {json.dumps(str(data))}")
    return text.replace("addr: :5000", f"addr: {json.dumps(hostport(host, port))}")


def mounted_config(container: Container) -> Path | None:
    """A config file mounted where the container's image reads its own (``-v team.yml:/etc/distribution/config.yml``,
    or a folder mounted at ``/etc/distribution``): what the registry reads instead of the image's."""
    inside = CONFIG_PATHS[container.major]
    for here, there in container.files.items():
        if there.rstrip("/") == inside:
            return Path(here)
        if there.rstrip("/") == os.path.dirname(inside) and (Path(here) / os.path.basename(inside)).exists():
            return Path(here) / os.path.basename(inside)
    return None


def write_config(container: Container, resolve: Callable[[str], str] = str) -> None:
    """The config the registry process reads: the image's, or the one mounted in its place (read
    again at each start, as a container reads its mounted file when it starts); ``resolve`` puts
    the loopback addresses of the lab's other parts where a mounted config names them (the
    object store, redis on the lab's network)."""
    mounted = mounted_config(container)
    try:
        text = resolve(mounted.read_text()) if mounted else None
    except OSError:
        raise errors.config_unreadable(str(mounted), CONFIG_PATHS[container.major]) from None
    container.config.write_text(config_text(Path(container.data), container.host, container.port, container.major,
                                            text))


def image_env(major: int) -> dict[str, str]:
    """What the registry image's config sets besides PATH (registry:3: OTEL_TRACES_EXPORTER=none)."""
    return dict(item.split("=", 1) for item in course_images.REGISTRY_LAYOUTS[major]["env"])


# ----------------------------------------------------------------------------- finding them


def of(root: Path, scope: Scope) -> list[Container]:
    found = []
    for lab_dir in lab_dirs(root, scope):
        folder = lab_dir / "containers"
        if folder.is_dir():
            for sub in sorted(folder.iterdir()):
                container = Container.load(sub, root)
                if container is not None:
                    found.append(container)
    return sorted(found, key=lambda c: c.created, reverse=True)  # newest first, like docker ps


def find(root: Path, name: str) -> Container | None:
    for container in of(root, Scope(None, ANY)):
        if container.name == name:
            return container
    return None


def get(root: Path, name: str) -> Container:
    container = find(root, name)
    if container is None:
        raise errors.no_container(name)
    return container


def running(container: Container) -> bool:
    pid = container.pid()
    return pid is not None and processes.alive(pid, container.mark)


def halt(container: Container) -> None:
    pid = container.pid()
    if pid is not None:
        processes.stop(pid, container.mark)
        container.pid_file.unlink(missing_ok=True)
        if container.exit_code is None:
            container.exit_code = 137
            container.save()


def discard(container: Container) -> None:
    halt(container)
    shutil.rmtree(container.dir, ignore_errors=True)


def make_room(root: Path, name: str, scope: Scope) -> None:
    """Like ``docker run --name``: an old container of ours with that name goes first."""
    for old in of(root, scope):
        if old.name == name:
            discard(old)


# ----------------------------------------------------------------------------- their registry process


def spawn(container: Container, binary: Path, resolve: Callable[[str], str] = str, fresh: bool = True,
          base_env: dict[str, str] | None = None) -> None:
    """Start the registry process of ``container`` and return once it listens on its port (a
    ``fresh`` container that fails to start is discarded, as ``docker run`` leaves none).
    ``resolve`` rewrites a setting's value (another registry's name → its address); ``base_env``
    is what the image sets (:func:`image_env`), under the container's own."""
    # the registry runs no other program; one Go thread and a lazier collector: a class runs a
    # registry per learner on a few cores (docs/classroom-profile.md: 0.29 → 0.22 CPU-s each)
    env = {"PATH": os.defpath + ":/usr/local/bin", "GOMAXPROCS": "1", "GOGC": "400", **(base_env or {})}
    for key, value in container.env.items():  # paths inside the "container" are folders of this machine
        for folder, inside in container.files.items():
            if value == inside or value.startswith(inside.rstrip("/") + "/"):
                value = folder.rstrip("/") + value[len(inside.rstrip("/")):]
        env[key] = resolve(value)
    container.log.write_bytes(b"")
    with open(container.log, "ab") as log:
        try:
            child = subprocess.Popen(
                [str(binary), "serve", str(container.config)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=container.dir,
                env=env, start_new_session=True,  # a notebook interrupt must not reach it
            )
        except OSError as exc:
            raise errors.registry_binary_failed(binary, exc.strerror) from None
    processes.children[child.pid] = child
    container.pid_file.write_text(f"{child.pid}\n")
    container.exit_code, container.started = None, time.time()
    container.save()
    wait_bound(container, child, fresh)


def wait_bound(container: Container, child: subprocess.Popen, fresh: bool = True) -> None:
    """Return once OUR process logged that it listens on the port: then no other registry
    (another learner's, say) can be the one answering there. A bind failure is PortInUse."""
    host, port = container.host, container.port
    wanted = f"listening on {hostport(host, port)}".encode()
    deadline = time.monotonic() + START_WAIT
    delay = 0.005
    while time.monotonic() < deadline:
        if wanted in container.log.read_bytes():
            return
        if child.poll() is not None:
            processes.children.pop(child.pid, None)
            text = container.log.read_text(errors="replace")
            if fresh:
                discard(container)
            else:
                halt(container)
                container.exit_code = child.returncode
                container.save()
            if "address already in use" in text:
                raise port_taken(port, host, processes.port_holder(port))
            if "assign requested address" in text:
                raise errors.no_address_to_listen(host)
            raise errors.registry_did_not_start(hostport(host, port),
                                                errors.registry_stopped("exited", processes.last_words_of(text)))
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    raise errors.registry_not_listening(container.name, hostport(host, port), START_WAIT, container.log)
