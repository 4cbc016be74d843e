"""Registries of a lab: start one (on a port that is really ours), stop, remove, restart it
alike, and ask it what it holds. Every topic that needs a registry — a plain one, one with
TLS or a login, a "hub" and a pull-through cache — starts it here.
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path

from . import errors, ports
from . import images as course_images
from .engines import Cannot, Engine
from .engines.base import REGISTRY_DATA
from .errors import PortInUse, UsageError
from .narrator import Narrator
from .registry import Registry
from .registry_run import RegistryRun, this_user
from .sandbox import Sandbox
from .twin import Twin, docker


class Registries:
    """Starts and stops the lab's registries; the current one is the sandbox's."""

    def __init__(self, narrator: Narrator, engine: Engine, sandbox: Sandbox):
        self.say, self.engine, self.sandbox = narrator, engine, sandbox
        self.image = sandbox.settings.registry_image

    def run(self, port: int | None = None, volume: str | None = None, bind: str | os.PathLike | None = None,
            name: str = "registry", env: dict[str, str] | None = None, host: str = "127.0.0.1",
            files: dict[str, str] | None = None, network: str | None = None, tls: bool = False,
            ca: Path | None = None, auth: tuple[str, str] | None = None, current: bool = True,
            loopback: bool = True, dns_options: tuple[str, ...] = (), again: bool = False,
            image: str | None = None) -> Registry:
        """Start a registry container and wait until ``GET /v2/`` answers.

        ``volume`` names a Docker volume (created as ``reglab-<lab>-<volume>``); ``bind`` a
        folder (relative paths go under the lab's work folder). Without either, the data
        lives in the container and dies with it. A taken port is never taken over: the next
        free one is used, said once, and used by every later twin. ``network`` (created as
        ``reglab-<lab>-<network>``) attaches it to a network of the lab; with
        ``loopback=False`` the registry is then named by its address on that network, which
        is not loopback (``engine.objects.address``), and still published on 127.0.0.1.
        ``dns_options`` are Docker's ``--dns-opt`` for the container. ``image``: another registry
        image than the course's (``registry:2`` beside ``registry:3``), made ready first.
        """
        if volume and bind:
            raise UsageError(errors.one_data_folder())
        sandbox = self.sandbox
        container = sandbox.object_name(name)
        volume_name = bind_path = user = None
        if volume:
            volume_name = volume if volume.startswith(f"{sandbox.scope.prefix}-") else sandbox.object_name(volume)
            self.engine.objects.create_volume(sandbox.scope, volume_name)
        if bind:
            bind_path = sandbox.folder(bind)
            user = this_user()
        if not loopback and not network:
            raise UsageError(errors.not_loopback_needs_network())
        if network:
            network = network if network.startswith(f"{sandbox.scope.prefix}-") else sandbox.object_name(network)
            if self.engine.objects.create_network(sandbox.scope, network):
                self.say.twin(docker("network", "create", network))
                if Cannot.NETWORKS in self.engine.cannot:
                    self.say.note(errors.cannot_network(self.engine.label, network, reached=not loopback))
        preferred = port or sandbox.port or ports.DEFAULT_PORT
        image = image or self.image
        if image != self.image:
            course_images.ensure(self.engine, ("registry",), sandbox.settings, {"registry": image})
        wanted = RegistryRun(container, image, preferred, host, volume_name, str(bind_path) if bind_path else None,
                             user, tuple((env or {}).items()), tuple((files or {}).items()), network,
                             tuple(dns_options))
        run, why = self._start(wanted, loopback)
        chosen = run.port
        if bind_path and not again:
            # typed without it, Docker would create the folder as root, and a registry running as
            # the learner (--user) could not write there: its pushes would fail with a 500
            self.say.twin(Twin.of("mkdir", "-p", str(bind_path)))
        self.say.twin(run.twin())
        if why:
            self.say.say(f"port {preferred} is taken by {why}, so this lab uses port {chosen} instead.")
        reach_host, reach_port, published = host, chosen, None
        if not loopback:
            address = self.engine.objects.address(container, network)
            self.say.twin(docker("container", "inspect", "--format",
                                 f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}', container))
            reach, _, port_text = address.rpartition(":")
            reach_host, reach_port, published = reach.strip("[]"), int(port_text), chosen
            self.say.say(reach_host)
        registry = Registry(container, reach_host, reach_port, volume_name, bind_path, tuple(sorted(run.env)),
                            tuple(sorted(run.files)), network, tls, ca, auth, published, run,
                            trust=(self.engine.trust.folder(), *_docker_trust(self.engine)),
                            docker_config=lambda: sandbox.docker_config)
        # what the lab does next, typed: wait until it answers (a command right after `docker run -d`
        # may meet a registry not yet listening: "connection reset by peer", "EOF")
        self.say.twin(registry.wait_twin())
        registry.api.wait_ready(timeout=30, problem=lambda: self.engine.containers.problem(container))
        if current:
            sandbox.registry, sandbox.port = registry, chosen
        where = ""
        if volume_name:
            where = f", keeping its data in the volume {volume_name}"
        elif bind_path:
            where = f", keeping its data in the folder {bind_path}"
        if not loopback:
            where += f", on the network {network} (an address that is not loopback)"
        if not again:
            self.say.say(f"registry ready at {registry.url}{where}")
        return registry

    def _start(self, wanted: RegistryRun, loopback: bool = True) -> tuple[RegistryRun, str | None]:
        """Start on the preferred port, else on the next free one; (the run, why the preferred was not used)."""
        why = None
        port = wanted.port
        for _ in range(ports.SEARCH_SPAN):
            if not self.sandbox.hold_port(port, wanted.host):
                why = why or "another lab"  # kept by another learner's lab (or another notebook's)
                port = ports.choose(port + 1, wanted.host)
                continue
            try:
                run = wanted.but(port=port)
                self.engine.containers.start_registry(run, self.sandbox.scope, loopback)
                return run, why
            except PortInUse as exc:
                if port != self.sandbox.port:
                    ports.release(self.sandbox.scope.prefix, port)
                why = why or exc.holder
                port = ports.choose(port + 1, wanted.host)
        raise PortInUse(errors.no_free_port_from(wanted.port))

    def kill(self) -> None:
        """Stop the registry at once (SIGKILL), as ``docker container kill`` does."""
        registry = self.sandbox.current()
        self.say.twin(docker("container", "kill", registry.name))
        self.engine.containers.kill(registry.name)
        self.say.say(f"{registry.name} is stopped; the container and its files still exist until it is removed")

    def remove(self) -> None:
        """Remove the registry container (its volume, if any, stays)."""
        registry = self.sandbox.current()
        self.say.twin(docker("container", "rm", "-v", registry.name))
        self.engine.containers.remove(registry.name)
        if registry.volume:
            keeps = f"; -v removes only anonymous volumes, so the volume {registry.volume} still holds the data"
        elif registry.bind:
            keeps = f"; the folder {registry.bind} still holds the data"
        else:
            keeps = (f", and with -v the anonymous volume Docker made for its {REGISTRY_DATA}: every image "
                     "pushed to it is gone")
        self.say.say(f"removed {registry.name}{keeps}")
        self.sandbox.registry = None

    def restart(self, **settings: str | None) -> Registry:
        """Recreate the registry on the same storage with changed environment settings (None removes
        one): ``docker container rm -f`` (kill and remove at once), then the same ``run``."""
        registry = self.sandbox.current()
        env = dict(registry.env)
        for key, value in settings.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        anonymous = ["-v"] if not (registry.volume or registry.bind) else []  # its anonymous volume goes too
        self.say.twin(docker("container", "rm", "-f", *anonymous, registry.name))
        self.engine.containers.kill(registry.name)
        self.engine.containers.remove(registry.name)
        self.sandbox.registry = None
        role = registry.name.removeprefix(f"{self.sandbox.scope.prefix}-")  # registry, registry2, proxy …
        restarted = self.run(port=registry.published or registry.port, volume=registry.volume, bind=registry.bind, env=env,
                             name=role,
                             files=dict(registry.files), network=registry.network, tls=registry.tls,
                             ca=registry.ca, auth=registry.auth,
                             loopback=registry.loopback, again=True, image=registry.run.image if registry.run else None)
        where = f"the volume {registry.volume}" if registry.volume else \
            f"the folder {registry.bind}" if registry.bind else "a new anonymous volume (empty)"
        changes = [f"{k}={v}" if v is not None else f"without {k}" for k, v in settings.items()]
        self.say.say(f"registry restarted at {restarted.url} on {where}"
                     + (f"; now {', '.join(changes)}" if changes else "; a new process, with an empty cache"))
        return restarted

    # ------------------------------------------------------------------ what it holds

    def catalog(self) -> list[str]:
        """The repositories the registry holds (``GET /v2/_catalog``)."""
        api = self.sandbox.current().api
        self.say.twin(api.curl("/v2/_catalog"))
        self.say.output(api.request("GET", "/v2/_catalog", what="catalog").text)  # what curl prints
        return api.catalog()

    def tags(self, repository: str) -> list[str]:
        """The tags of one repository (``GET /v2/<name>/tags/list``)."""
        api = self.sandbox.current().api
        self.say.twin(api.curl(f"/v2/{repository}/tags/list"))
        self.say.output(api.request("GET", f"/v2/{repository}/tags/list", what=repository).text)  # what curl prints
        return api.tags(repository)

    def insecure_registries(self) -> list[str]:
        """Where the engine agrees to speak plain HTTP instead of HTTPS."""
        self.say.twin(docker("info", "--format", "{{json .RegistryConfig.InsecureRegistryCIDRs}}"))
        allowed = self.engine.daemon.insecure_registries()
        cidrs = [a for a in allowed if _is_cidr(a)]
        self.say.output(json.dumps(cidrs, separators=(",", ":")))  # Go's JSON, as docker info prints it
        names = [a for a in allowed if not _is_cidr(a)]
        if names:
            self.say.explain(f"also listed by name in insecure-registries (docker info shows them under "
                             f"Insecure Registries): {', '.join(names)}")
        if Cannot.ASK_DAEMON in self.engine.cannot:
            self.say.note(errors.cannot_ask_daemon(self.engine.label))
        return allowed


def _docker_trust(engine: Engine) -> tuple[Path, ...]:
    """Docker's own certs.d too, where the engine's trust folder is another (the daemonless engine's)."""
    docker_folder = Path("/etc/docker/certs.d")
    return () if engine.trust.folder() == docker_folder else (docker_folder,)


def _is_cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return "/" in text
