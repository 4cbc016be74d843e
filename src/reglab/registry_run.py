"""A registry's ``docker container run``, as one value.

:class:`RegistryRun` is everything that line says — name, image, published address, where the
data lives, the user, settings, read-only files, the network — and nothing else. It gives the
twin a learner types (:meth:`RegistryRun.twin`), what an engine starts (the engines read its
fields), and it is read back from a typed line (:meth:`RegistryRun.parse`, which the daemonless
``docker`` command uses): ``RegistryRun.parse(run.twin().argv) == run`` (tests say so).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from . import errors
from .reference import parse
from .twin import Raw, Twin, docker

REGISTRY_DATA = "/var/lib/registry"  # where the registry image keeps its data
# where each major version's image reads its config: registry:2's upstream image, and registry:3's
# (distribution PR #4365; distribution-library-image a1a8847). A config mounted at the old path is
# silently ignored by registry:3, and its `garbage-collect` must be given the new one.
CONFIG_PATHS = {2: "/etc/docker/registry/config.yml", 3: "/etc/distribution/config.yml"}
REGISTRY_PORT = 5000  # where the registry listens inside its container
AS_YOU = '"$(id -u):$(id -g)"'  # the twin's --user: the learner who types it, whoever that is
AS_YOU_TYPED = "$(id -u):$(id -g)"  # the same, as a shell-like split leaves it unexpanded

_VALUED = {"--name", "-p", "--publish", "-v", "--volume", "-e", "--env", "--user", "-u", "--network", "--net",
           "--dns-opt", "--restart", "--label", "-l", "--mount", "-w", "--workdir", "--entrypoint", "-h",
           "--hostname"}
_SWITCHES = {"-d", "--detach", "--rm", "-i", "-t", "--interactive", "--tty"}


def registry_major(image: str) -> int:
    """3 for ``registry:3``, ``registry:3.x``, ``registry:latest`` and ``registry`` (distribution v3
    since 2025-04), else 2."""
    tag = parse(image).tag or "latest"
    return 3 if tag in ("latest", "3") or tag.startswith("3.") else 2


def config_path(image: str) -> str:
    """Where the registry image ``image`` reads its config (``registry garbage-collect`` needs it)."""
    return CONFIG_PATHS[registry_major(image)]


def this_user() -> str | None:
    """``uid:gid`` of this process (None where there are no such ids)."""
    return f"{os.getuid()}:{os.getgid()}" if hasattr(os, "getuid") else None


@dataclass(frozen=True)
class RegistryRun:
    """``docker container run -d -p HOST:PORT:5000 --name NAME … IMAGE`` for one registry."""

    name: str
    image: str
    port: int
    host: str = "127.0.0.1"
    volume: str | None = None  # a named volume at /var/lib/registry
    bind: str | None = None  # a folder of this machine at /var/lib/registry
    user: str | None = None  # uid:gid the registry runs as (with a bind mount: the learner)
    env: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, str], ...] = ()  # (folder here, path inside), mounted read-only
    network: str | None = None
    dns_options: tuple[str, ...] = ()
    # settings whose values the twin leaves to the shell's environment (``-e KEY``): secrets
    hidden: tuple[str, ...] = ()

    def __post_init__(self):
        if self.volume and self.bind:
            raise errors.UsageError(errors.one_data_folder())

    @property
    def config_path(self) -> str:
        return config_path(self.image)

    @property
    def settings(self) -> dict[str, str]:
        return dict(self.env)

    def setting(self, key: str) -> str | None:
        return dict(self.env).get(key)

    def but(self, **changes) -> RegistryRun:
        return replace(self, **changes)

    def with_settings(self, **settings: str | None) -> RegistryRun:
        """The same run with settings changed (None removes one), in their original order."""
        env = dict(self.env)
        for key, value in settings.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return replace(self, env=tuple(env.items()))

    # ------------------------------------------------------------------ the line a learner types

    def argv(self, me: str | None = None) -> tuple[str, ...]:
        """The docker CLI arguments; ``me``: this learner's ``uid:gid``, shown as ``$(id -u):$(id -g)``."""
        me = this_user() if me is None else me
        args = ["container", "run", "-d", "-p", f"{self.host}:{self.port}:{REGISTRY_PORT}", "--name", self.name]
        if self.network:
            args += ["--network", self.network]
        for option in self.dns_options:
            args += ["--dns-opt", option]
        if self.volume:
            args += ["-v", f"{self.volume}:{REGISTRY_DATA}"]
        if self.bind:
            args += ["-v", f"{self.bind}:{REGISTRY_DATA}"]
        if self.user:
            args += ["--user", Raw(AS_YOU) if self.user == me else self.user]
        for folder, inside in self.files:
            args += ["-v", f"{folder}:{inside}:ro"]
        for key, value in self.env:
            args += ["-e", key if key in self.hidden else f"{key}={value}"]
        return (*args, self.image)

    def twin(self, me: str | None = None) -> Twin:
        return docker(*self.argv(me))

    # ------------------------------------------------------------------ read back from a typed line

    @classmethod
    def parse(cls, argv: Sequence[str], environ: Mapping[str, str] | None = None,
              me: str | None = None) -> RegistryRun:
        """A typed ``docker [container] run …`` (its arguments as the shell passes them, with or
        without the leading ``docker container run``) as a :class:`RegistryRun`. ``-e KEY``
        without a value takes it from ``environ``, as the docker CLI does (and stays hidden)."""
        args = list(argv)
        for head in (["docker"], ["container"], ["run"]):
            if args[:1] == head:
                args = args[1:]
        flags, rest = split_flags(args, _VALUED)
        if not rest:
            raise errors.UsageError(errors.run_needs_image())
        unknown = set(flags) - _VALUED - _SWITCHES
        if unknown:
            raise errors.UsageError(errors.unknown_flag("run", min(unknown)))
        publish = flags.get("-p", []) + flags.get("--publish", [])
        if len(publish) != 1:
            raise errors.UsageError(errors.publish_once())
        host, port = parse_publish(publish[0])
        volume = bind = None
        files = []
        for item in flags.get("-v", []) + flags.get("--volume", []):
            source, _, rest_ = item.partition(":")
            target, _, mode = rest_.partition(":")
            if target == REGISTRY_DATA:
                if source.startswith(("/", ".", "~")):
                    bind = os.path.abspath(os.path.expanduser(source))
                else:
                    volume = source
            else:
                files.append((os.path.abspath(os.path.expanduser(source)), target))
        env, hidden = [], []
        for item in flags.get("-e", []) + flags.get("--env", []):
            key, eq, value = item.partition("=")
            env.append((key, value if eq else (environ or {}).get(key, "")))
            if not eq:
                hidden.append(key)
        user = (flags.get("--user") or flags.get("-u") or [None])[-1]
        if user in (AS_YOU_TYPED, AS_YOU):
            user = this_user() if me is None else me
        network = (flags.get("--network") or flags.get("--net") or [None])[-1]
        name = (flags.get("--name") or [None])[-1]
        if not name:
            raise errors.UsageError(errors.registry_needs_name())
        return cls(name, rest[0], port, host, volume, bind, user, tuple(env), tuple(files), network,
                   tuple(flags.get("--dns-opt", [])), tuple(hidden))


def split_flags(args: list[str], valued: set[str] = frozenset()) -> tuple[dict[str, list[str]], list[str]]:
    """Flags before the first positional argument (and their values: ``valued`` flags take one), and the rest."""
    flags: dict[str, list[str]] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("-") or arg == "-":
            break
        key, eq, value = arg.partition("=")
        if key in valued and not eq:
            if i + 1 >= len(args):
                raise errors.UsageError(errors.flag_needs_argument(key))
            value = args[i + 1]
            i += 1
        if key.startswith("-") and not key.startswith("--") and len(key) > 2 and key[1:].isalpha() \
                and key not in valued:  # -it, -fv: several one-letter flags
            for letter in key[1:]:
                flags.setdefault(f"-{letter}", []).append("")
        else:
            flags.setdefault(key, []).append(value)
        i += 1
    return flags, args[i:]


def parse_publish(spec: str) -> tuple[str, int]:
    """``[host:]port:5000`` → (host, port); the registry listens on 5000 inside."""
    parts = spec.split(":")
    if len(parts) == 2:
        parts = ["", *parts]
    if len(parts) != 3 or not parts[1].isdigit() or parts[2].split("/")[0] != str(REGISTRY_PORT):
        raise errors.UsageError(errors.cannot_publish(spec))
    host = parts[0] or "0.0.0.0"
    return ("127.0.0.1" if host == "localhost" else host), int(parts[1])
