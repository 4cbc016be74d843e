"""Settings: every knob of reglab, read from the environment once and passed down.

This is the only module that reads ``REGLAB_*`` (and the few other variables reglab honours).
An entry point — ``Lab(...)``, a lab sheet, ``python -m reglab …`` — calls
:meth:`Settings.from_env` once and hands the value to everything it builds: engines, the
sandbox, the registry client, the image set-up. Nothing below ever writes ``os.environ``, so
one lab in a kernel cannot change what the next one gets.

Every setting, its variable and its default, in one table (``docs/settings.md`` is generated
from :data:`VARIABLES`; a test keeps them equal):
"""

from __future__ import annotations

import getpass
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .naming import check_learner

__all__ = ["DEFAULT_HELLO_IMAGE", "DEFAULT_REGISTRY_IMAGE", "Settings", "VARIABLES", "settings_table"]

DEFAULT_REGISTRY_IMAGE = "registry:3"  # what registry:latest has been since distribution v3.0.0 (2025-04)
DEFAULT_HELLO_IMAGE = "hello-world"
DEFAULT_HUB_PROBE_URL = "https://registry-1.docker.io/v2/"
DEFAULT_DAEMON_JSON = "/etc/docker/daemon.json"
DEFAULT_DOCKERD_PIDFILE = "/tmp/reglab-dockerd.pid"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"

def _learner(env: Mapping[str, str]) -> str | None:
    for source in ("REGLAB_LEARNER", "JUPYTERHUB_USER"):
        value = env.get(source)
        if value:
            return check_learner(value, source)
    return None


def _image_source(env: Mapping[str, str]) -> str:
    value = env.get("REGLAB_OFFLINE", "").strip().lower()
    if value in ("1", "true", "yes"):
        return "standin"
    if value in ("0", "false", "no"):
        return "hub"
    return "auto"


def _state_dir(env: Mapping[str, str]) -> Path:
    if env.get("REGLAB_STATE_DIR"):
        return Path(env["REGLAB_STATE_DIR"])
    base = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "reglab"


def _workdir(env: Mapping[str, str]) -> Path:
    if env.get("REGLAB_WORKDIR"):
        return Path(env["REGLAB_WORKDIR"])
    return Path(tempfile.gettempdir()) / f"reglab-{getpass.getuser()}"


def _port_locks(env: Mapping[str, str]) -> Path:
    if env.get("REGLAB_PORT_LOCKS"):
        return Path(env["REGLAB_PORT_LOCKS"])
    try:  # ports are per network namespace: one folder for each
        namespace = f"-{os.stat('/proc/self/ns/net').st_ino}"
    except OSError:
        namespace = ""
    base = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())
    return base / f"reglab-ports{namespace}"


def _tools_dir(env: Mapping[str, str]) -> Path:
    if env.get("REGLAB_TOOLS_DIR"):
        return Path(env["REGLAB_TOOLS_DIR"])
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "reglab" / "tools"


def _docker_config(env: Mapping[str, str]) -> Path:
    return Path(env.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker"))


def _path(env: Mapping[str, str], name: str) -> Path | None:
    return Path(env[name]) if env.get(name) else None


# variable, field, default as a reader sees it, what it does
VARIABLES: tuple[tuple[str, str, str, str], ...] = (
    ("REGLAB_ENGINE", "engine", "Docker when a daemon answers, else `local`",
     "`docker` or `local` (the daemonless engine: the registry binary as a process)"),
    ("REGLAB_LEARNER", "learner", "`JUPYTERHUB_USER`, else none",
     "scopes every name, label, folder and port choice to one learner (`reglab-<learner>-<lab>-…`)"),
    ("REGLAB_OFFLINE", "image_source", "probe Docker Hub when an image is missing",
     "`1`: build stand-in images, never contact Docker Hub; `0`: always pull"),
    ("REGLAB_STATE_DIR", "state_dir", "`$XDG_STATE_HOME/reglab` (`~/.local/state/reglab`)",
     "where labs write down what they created, the daemonless engine's containers, the learner's progress"),
    ("REGLAB_WORKDIR", "workdir", "`/tmp/reglab-<user>`", "where a lab's own folders go (bind mounts, certificates)"),
    ("REGLAB_IMAGE_STORE", "image_store", "`_images` in the learner's state folder",
     "the daemonless engine's image store (an OCI image layout)"),
    ("REGLAB_PORT_LOCKS", "port_locks", "`/tmp/reglab-ports-<network namespace>`",
     "lock files by which labs of every learner share 127.0.0.1's ports"),
    ("REGLAB_REGISTRY_BIN", "registry_bin",
     "for `registry:3` the v3 binary `scripts/go-tools.sh` built; for `registry:2` Debian's `docker-registry`",
     "the registry program the daemonless engine runs for the course's image"),
    ("REGLAB_REGISTRY_IMAGE", "registry_image", f"`{DEFAULT_REGISTRY_IMAGE}`", "the registry image the course runs"),
    ("REGLAB_HELLO_IMAGE", "hello_image", f"`{DEFAULT_HELLO_IMAGE}`", "the small image the course pushes first"),
    ("REGLAB_HUB_PROBE_URL", "hub_probe_url", f"`{DEFAULT_HUB_PROBE_URL}`",
     "asked once, when an image is missing, whether Docker Hub can be reached"),
    ("REGLAB_DAEMON_JSON", "daemon_json", f"`{DEFAULT_DAEMON_JSON}`",
     "the daemon.json notebooks 05 and 06 change (only on a daemon the set-up started)"),
    ("REGLAB_DOCKERD_PIDFILE", "dockerd_pidfile", f"`{DEFAULT_DOCKERD_PIDFILE}`",
     "the pid of the dockerd the set-up started: the only daemon whose configuration reglab changes"),
    ("REGLAB_TOOLS_DIR", "tools_dir", "`$XDG_CACHE_HOME/reglab/tools` (`~/.cache/reglab/tools`)",
     "where the set-up keeps the programs it builds with Go (registry v3, crane, weed)"),
    ("REGLAB_TWIN_LOG", "twin_log", "none",
     "a file where every lab appends the twins it prints (tests/test_twin_replay.py types them again)"),
    ("DOCKER_HOST", "docker_host", f"`{DEFAULT_DOCKER_HOST}`", "the Docker daemon, as for the docker CLI"),
    ("DOCKER_CONFIG", "docker_config", "`~/.docker`", "where `docker login` keeps credentials, as for the docker CLI"),
)


@dataclass(frozen=True)
class Settings:
    """Everything reglab's behaviour depends on that is not an argument. Frozen: derive a changed
    copy with :meth:`but` (``settings.but(engine="local")``)."""

    engine: str | None = None
    learner: str | None = None
    image_source: str = "auto"  # "standin" | "hub" | "auto"
    state_dir: Path = field(default_factory=lambda: _state_dir({}))
    workdir: Path = field(default_factory=lambda: _workdir({}))
    image_store: Path | None = None
    port_locks: Path = field(default_factory=lambda: _port_locks({}))
    registry_bin: Path | None = None
    registry_image: str = DEFAULT_REGISTRY_IMAGE
    hello_image: str = DEFAULT_HELLO_IMAGE
    hub_probe_url: str = DEFAULT_HUB_PROBE_URL
    daemon_json: Path = Path(DEFAULT_DAEMON_JSON)
    dockerd_pidfile: Path = Path(DEFAULT_DOCKERD_PIDFILE)
    tools_dir: Path = field(default_factory=lambda: _tools_dir({}))
    twin_log: Path | None = None
    docker_host: str = DEFAULT_DOCKER_HOST
    docker_config: Path = field(default_factory=lambda: _docker_config({}))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from ``env`` (default: this process's environment), once."""
        env = os.environ if env is None else env
        return cls(
            engine=(env.get("REGLAB_ENGINE") or "").strip().lower() or None,
            learner=_learner(env),
            image_source=_image_source(env),
            state_dir=_state_dir(env),
            workdir=_workdir(env),
            image_store=_path(env, "REGLAB_IMAGE_STORE"),
            port_locks=_port_locks(env),
            registry_bin=_path(env, "REGLAB_REGISTRY_BIN"),
            registry_image=env.get("REGLAB_REGISTRY_IMAGE") or DEFAULT_REGISTRY_IMAGE,
            hello_image=env.get("REGLAB_HELLO_IMAGE") or DEFAULT_HELLO_IMAGE,
            hub_probe_url=env.get("REGLAB_HUB_PROBE_URL") or DEFAULT_HUB_PROBE_URL,
            daemon_json=Path(env.get("REGLAB_DAEMON_JSON") or DEFAULT_DAEMON_JSON),
            dockerd_pidfile=Path(env.get("REGLAB_DOCKERD_PIDFILE") or DEFAULT_DOCKERD_PIDFILE),
            tools_dir=_tools_dir(env),
            twin_log=_path(env, "REGLAB_TWIN_LOG"),
            docker_host=env.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST,
            docker_config=_docker_config(env),
        )

    def but(self, **changes) -> Settings:
        """A copy with ``changes`` (the original stays as it is)."""
        return replace(self, **changes)

    @property
    def offline(self) -> bool:
        return self.image_source == "standin"

    def environment(self) -> dict[str, str]:
        """These settings as the variables a child process (the daemonless ``docker`` command, a
        nested notebook run) reads back into the same :class:`Settings`."""
        values = {
            "REGLAB_STATE_DIR": str(self.state_dir), "REGLAB_WORKDIR": str(self.workdir),
            "REGLAB_PORT_LOCKS": str(self.port_locks), "REGLAB_REGISTRY_IMAGE": self.registry_image,
            "REGLAB_HELLO_IMAGE": self.hello_image, "REGLAB_HUB_PROBE_URL": self.hub_probe_url,
            "REGLAB_DAEMON_JSON": str(self.daemon_json), "REGLAB_DOCKERD_PIDFILE": str(self.dockerd_pidfile),
            "REGLAB_TOOLS_DIR": str(self.tools_dir), "DOCKER_CONFIG": str(self.docker_config),
            "REGLAB_OFFLINE": {"standin": "1", "hub": "0"}.get(self.image_source, ""),
        }
        optional = {"REGLAB_ENGINE": self.engine, "REGLAB_LEARNER": self.learner, "REGLAB_TWIN_LOG": self.twin_log,
                    "REGLAB_IMAGE_STORE": self.image_store, "REGLAB_REGISTRY_BIN": self.registry_bin}
        values.update({k: str(v) for k, v in optional.items() if v})
        return {k: v for k, v in values.items() if v}


def settings_table() -> str:
    """The Markdown table of every setting (``docs/settings.md``)."""
    known = {f.name for f in fields(Settings)}
    rows = ["| variable | setting | default | what it does |", "| --- | --- | --- | --- |"]
    for variable, name, default, what in VARIABLES:
        assert name in known, name
        rows.append(f"| `{variable}` | `{name}` | {default} | {what} |")
    return "\n".join(rows)
