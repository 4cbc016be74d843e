"""One running registry: where it answers, where it keeps its data, how it was started."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .engines.base import PROXY_REMOTEURL, REGISTRY_DATA
from .registry_api import CERTS_D, DEFAULT_INSECURE, RegistryClient
from .registry_run import RegistryRun
from .twin import Twin, docker


@dataclass(frozen=True)
class Registry:
    """A running registry: where it answers, where it keeps its data, how it was started."""

    name: str
    host: str
    port: int
    volume: str | None = None
    bind: Path | None = None
    env: tuple[tuple[str, str], ...] = ()  # the settings it was started with, to restart it alike
    files: tuple[tuple[str, str], ...] = ()  # (folder here, path inside): certificates, htpasswd
    network: str | None = None
    tls: bool = False
    ca: Path | None = None  # the CA that signed its certificate, when the lab made one
    auth: tuple[str, str] | None = None  # the lab's own user, for its checks (never printed)
    published: int | None = None  # the port on 127.0.0.1 when ``host`` is its network address
    run: RegistryRun | None = None  # the `docker container run` that started it
    # where its client finds CA certificates and stored logins (the lab's engine and DOCKER_CONFIG)
    trust: tuple[Path, ...] = field(default=(Path(CERTS_D),), compare=False, repr=False)
    docker_config: Path | Callable[[], Path] | None = field(default=None, compare=False, repr=False)

    @property
    def address(self) -> str:
        """``127.0.0.1:5000``: the first part of every image name stored here."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def loopback(self) -> bool:
        """Is it named by a loopback address Docker counts as local (127.0.0.0/8)?"""
        return self.published is None

    @property
    def upstream(self) -> str | None:
        """The registry a pull-through cache fetches from (``proxy.remoteurl``), or None."""
        return dict(self.env).get(PROXY_REMOTEURL)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"

    def ref(self, repository: str, tag: str | None = None) -> str:
        """The name an image gets in this registry: ``<address>/<repository>[:tag]``."""
        return f"{self.address}/{repository}" + (f":{tag}" if tag else "")

    @cached_property
    def api(self) -> RegistryClient:
        """The registry's HTTP API — one client, made once — that trusts the lab's CA and knows its
        user (else what ``docker login`` stored in the lab's DOCKER_CONFIG)."""
        return RegistryClient(self.address, tls=self.tls, ca=self.ca, auth=self.auth, insecure=self._plain_ok,
                              upstream=self.upstream, trust=self.trust, docker_config=self.docker_config)

    @property
    def _plain_ok(self) -> tuple[str, ...]:
        """The lab's own client (like curl) speaks plain HTTP to a plain registry it started, wherever
        it is; Docker's rule is for pushes and pulls, which go through the engine."""
        return DEFAULT_INSECURE if self.tls else DEFAULT_INSECURE + (self.address,)

    @cached_property
    def anonymous_api(self) -> RegistryClient:
        """The same API without any credentials: what anybody on the network gets."""
        return RegistryClient(self.address, tls=self.tls, ca=self.ca, auth=False, insecure=self._plain_ok,
                              trust=self.trust)

    # -- where its files are, as a learner would reach them
    @property
    def top(self) -> str:
        """The data folder as the twins name it: the bind folder, else the path in the container."""
        return str(self.bind) if self.bind else REGISTRY_DATA

    def on_disk(self, rel: str) -> str:
        return f"{self.top}/{rel}"

    def wait_twin(self) -> Twin:
        """``curl`` until ``GET /v2/`` answers (any status: 401 answers too), as the lab waits for a
        registry it just started; for TLS it trusts the lab's CA (``-k`` only when none is known: it
        only waits, it reads nothing)."""
        trust = (["--cacert", str(self.ca)] if self.ca else ["-k"]) if self.tls else []
        return Twin.of("curl", "-s", "-o", "/dev/null", "--retry", "30", "--retry-delay", "1", "--retry-all-errors",
                       *trust, f"{self.url}/v2/")

    def storage_command(self, *argv: str) -> Twin:
        """``argv`` run on the storage: as is for a bind mount, through ``docker exec`` otherwise."""
        return Twin.of(*argv) if self.bind else docker("container", "exec", self.name, *argv)

    def __repr__(self) -> str:
        return f"Registry({self.name} at {self.url})"
