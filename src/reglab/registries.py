"""Registries of a lab: start one (on a port that is really ours), stop, remove, restart it
alike, and ask it what it holds. Every topic that needs a registry — a plain one, one with
TLS or a login, a "hub" and a pull-through cache — starts it here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import images as course_images
from . import ports
from .engines import Engine, RegistrySpec
from .engines.base import REGISTRY_DATA
from .errors import PortInUse, ReglabError
from .narrator import Narrator
from .registry import Registry
from .sandbox import Sandbox
from .twin import Raw, docker


class Registries:
    """Starts and stops the lab's registries; the current one is the sandbox's."""

    def __init__(self, narrator: Narrator, engine: Engine, sandbox: Sandbox):
        self.say, self.engine, self.sandbox = narrator, engine, sandbox
        self.image = course_images.registry_image()

    def run(self, port: int | None = None, volume: str | None = None, bind: str | os.PathLike | None = None,
            name: str = "registry", env: dict[str, str] | None = None, host: str = "127.0.0.1",
            files: dict[str, str] | None = None, network: str | None = None, tls: bool = False,
            ca: Path | None = None, auth: tuple[str, str] | None = None, current: bool = True,
            loopback: bool = True, dns_options: tuple[str, ...] = ()) -> Registry:
        """Start a registry container and wait until ``GET /v2/`` answers.

        ``volume`` names a Docker volume (created as ``reglab-<lab>-<volume>``); ``bind`` a
        folder (relative paths go under the lab's work folder). Without either, the data
        lives in the container and dies with it. A taken port is never taken over: the next
        free one is used, said once, and used by every later twin. ``network`` (created as
        ``reglab-<lab>-<network>``) attaches it to a network of the lab; with
        ``loopback=False`` the registry is then named by its address on that network, which
        is not loopback (:meth:`reglab.engines.Engine.network_address`), and still published
        on 127.0.0.1. ``dns_options`` are Docker's ``--dns-opt`` for the container.
        """
        if volume and bind:
            raise ReglabError("choose either volume= or bind=, not both: the registry has one data folder.")
        sandbox = self.sandbox
        container = sandbox.object_name(name)
        args = ["container", "run", "-d"]
        volume_name = bind_path = user = None
        if volume:
            volume_name = volume if volume.startswith(f"{sandbox.scope.prefix}-") else sandbox.object_name(volume)
            self.engine.create_volume(sandbox.scope, volume_name)
        if bind:
            bind_path = sandbox.folder(bind)
            if hasattr(os, "getuid"):
                user = f"{os.getuid()}:{os.getgid()}"
        if not loopback and not network:
            raise ReglabError("a registry reached at an address that is not loopback needs a network of the lab: "
                              "pass network='net' too.")
        if network:
            network = network if network.startswith(f"{sandbox.scope.prefix}-") else sandbox.object_name(network)
            if self.engine.create_network(sandbox.scope, network):
                self.say.twin(docker("network", "create", network))
                if not self.engine.has_networks:
                    self.say.note(f"the daemonless engine has no container networks: a folder stands for {network}"
                                  + ("" if loopback else ", and a registry reached on it listens on the IPv6 "
                                     "loopback [::1]"))
        spec_env = dict(env or {})
        preferred = port or sandbox.port or ports.DEFAULT_PORT
        chosen, why = self._start(RegistrySpec(sandbox.scope, container, self.image, preferred, host, volume_name,
                                               bind_path, user, spec_env, dict(files or {}), network, loopback,
                                               tuple(dns_options)))
        args += ["-p", f"{host}:{chosen}:5000", "--name", container]
        if network:
            args += ["--network", network]
        for option in dns_options:
            args += ["--dns-opt", option]
        if volume_name:
            args += ["-v", f"{volume_name}:{REGISTRY_DATA}"]
        if bind_path:
            args += ["-v", f"{bind_path}:{REGISTRY_DATA}"]
            if user:
                args += ["--user", Raw('"$(id -u):$(id -g)"')]
        for folder, inside in (files or {}).items():
            args += ["-v", f"{folder}:{inside}:ro"]
        for key, value in spec_env.items():
            args += ["-e", f"{key}={value}"]
        self.say.twin(docker(*args, self.image))
        if why:
            self.say.say(f"port {preferred} is taken by {why}, so this lab uses port {chosen} instead.")
        reach_host, reach_port, published = host, chosen, None
        if not loopback:
            address = self.engine.network_address(container, network)
            self.say.twin(docker("container", "inspect", "--format",
                                 f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}', container))
            reach, _, port_text = address.rpartition(":")
            reach_host, reach_port, published = reach.strip("[]"), int(port_text), chosen
            self.say.say(reach_host)
        registry = Registry(container, reach_host, reach_port, volume_name, bind_path, tuple(sorted(spec_env.items())),
                            tuple(sorted((files or {}).items())), network, tls, ca, auth, published)
        registry.api.wait_ready(timeout=30, problem=lambda: self.engine.registry_problem(container))
        if current:
            sandbox.registry, sandbox.port = registry, chosen
        where = ""
        if volume_name:
            where = f", keeping its data in the volume {volume_name}"
        elif bind_path:
            where = f", keeping its data in the folder {bind_path}"
        if not loopback:
            where += f", on the network {network} (an address that is not loopback)"
        self.say.say(f"registry ready at {registry.url}{where}")
        return registry

    def _start(self, spec: RegistrySpec) -> tuple[int, str | None]:
        """Start on the preferred port, else on the next free one; (port, why the preferred was not used)."""
        why = None
        port = spec.port
        for _ in range(ports.SEARCH_SPAN):
            if not self.sandbox.hold_port(port, spec.host):
                why = why or "another lab"  # kept by another learner's lab (or another notebook's)
                port = ports.choose(port + 1, spec.host)
                continue
            try:
                self.engine.start_registry(RegistrySpec(**{**spec.__dict__, "port": port}))
                return port, why
            except PortInUse as exc:
                if port != self.sandbox.port:
                    ports.release(self.sandbox.scope.prefix, port)
                why = why or exc.holder
                port = ports.choose(port + 1, spec.host)
        raise PortInUse(f"no free port from {spec.port} on: free one, or pass another port.")

    def kill(self) -> None:
        """Stop the registry at once (SIGKILL), as ``docker container kill`` does."""
        registry = self.sandbox.current()
        self.say.twin(docker("container", "kill", registry.name))
        self.engine.kill(registry.name)
        self.say.say(f"{registry.name} is stopped; the container and its files still exist until it is removed")

    def remove(self) -> None:
        """Remove the registry container (its volume, if any, stays)."""
        registry = self.sandbox.current()
        self.say.twin(docker("container", "rm", "-v", registry.name))
        self.engine.remove(registry.name)
        if registry.volume:
            keeps = f"; the volume {registry.volume} still holds the data"
        elif registry.bind:
            keeps = f"; the folder {registry.bind} still holds the data"
        else:
            keeps = ", and with it every image pushed to it (there was no volume)"
        self.say.say(f"removed {registry.name}{keeps}")
        self.sandbox.registry = None

    def restart(self, **settings: str | None) -> Registry:
        """Recreate the registry on the same storage with changed environment settings (None removes one)."""
        registry = self.sandbox.current()
        env = dict(registry.env)
        for key, value in settings.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        self.kill()
        self.remove()
        return self.run(port=registry.published or registry.port, volume=registry.volume, bind=registry.bind,
                        env=env, files=dict(registry.files), network=registry.network, tls=registry.tls,
                        ca=registry.ca, auth=registry.auth, loopback=registry.loopback)

    # ------------------------------------------------------------------ what it holds

    def catalog(self) -> list[str]:
        """The repositories the registry holds (``GET /v2/_catalog``)."""
        api = self.sandbox.current().api
        self.say.twin(api.curl("/v2/_catalog"))
        repos = api.catalog()
        self.say.say(json.dumps({"repositories": repos}))
        return repos

    def tags(self, repository: str) -> list[str]:
        """The tags of one repository (``GET /v2/<name>/tags/list``)."""
        api = self.sandbox.current().api
        self.say.twin(api.curl(f"/v2/{repository}/tags/list"))
        tags = api.tags(repository)
        self.say.say(json.dumps({"name": repository, "tags": tags}))
        return tags

    def insecure_registries(self) -> list[str]:
        """Where the engine agrees to speak plain HTTP instead of HTTPS."""
        self.say.twin(docker("info", "--format", "{{json .RegistryConfig.InsecureRegistryCIDRs}}"))
        allowed = self.engine.insecure_registries()
        self.say.say(json.dumps(allowed))
        return allowed
