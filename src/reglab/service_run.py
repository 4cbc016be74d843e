"""A service's ``docker container run`` (an object store, a load balancer, a cache), as one value.

:class:`ServiceRun` is to the images a registry works with (``chrislusf/seaweedfs``, ``nginx``,
``redis``) what :class:`reglab.registry_run.RegistryRun` is to the registry: the twin a learner
types (:meth:`ServiceRun.twin`) and what an engine starts (the engines read its fields). Under
Docker it is a container on the lab's network; the daemonless engine runs the same program as a
process on 127.0.0.1 (:mod:`reglab.engines.local.services`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .registry_run import AS_YOU, this_user
from .twin import Raw, Twin, docker, run_breaks

_VALUED = frozenset({"--name", "--network", "-p", "-v", "-e", "--user"})


@dataclass(frozen=True)
class ServiceRun:
    """``docker container run -d --name NAME [--network NET] [-p HOST:PORT:INSIDE …] [-v …] [-e …] IMAGE ARGS…``."""

    name: str
    image: str
    args: tuple[str, ...] = ()  # the command after the image (none: the image's own)
    publish: tuple[tuple[str, int, int], ...] = ()  # (host address, host port, port inside)
    env: tuple[tuple[str, str], ...] = ()
    hidden: tuple[str, ...] = ()  # settings whose values the twin leaves to the shell (-e KEY): secrets
    files: tuple[tuple[str, str], ...] = ()  # (file or folder here, path inside), mounted read-only
    data: tuple[str, str] | None = None  # (folder here, path inside): where it keeps its data, read-write
    user: str | None = None  # uid:gid it runs as (with a data folder here: the learner)
    network: str | None = None

    def but(self, **changes) -> ServiceRun:
        return replace(self, **changes)

    def setting(self, key: str) -> str | None:
        return dict(self.env).get(key)

    def published(self, inside: int) -> int | None:
        """The host port published for the port ``inside`` the container, if any."""
        return next((port for _, port, at in self.publish if at == inside), None)

    def argv(self, me: str | None = None) -> tuple[str, ...]:
        me = this_user() if me is None else me
        args = ["container", "run", "-d", "--name", self.name]
        if self.network:
            args += ["--network", self.network]
        for host, port, inside in self.publish:
            args += ["-p", f"{host}:{port}:{inside}"]
        if self.data:
            args += ["-v", f"{self.data[0]}:{self.data[1]}"]
        for here, inside in self.files:
            args += ["-v", f"{here}:{inside}:ro"]
        if self.user:
            args += ["--user", Raw(AS_YOU) if self.user == me else self.user]
        for key, value in self.env:
            args += ["-e", key if key in self.hidden else f"{key}={value}"]
        return (*args, self.image, *self.args)

    def twin(self, me: str | None = None) -> Twin:
        """The command, one option per line."""
        argv = ("docker", *self.argv(me))
        return docker(*argv[1:]).in_lines(run_breaks(argv, len(argv) - len(self.args) - 1, _VALUED))
