"""The daemonless engine's images: an OCI image layout, pushed and pulled over plain HTTP.

The registry "image" is the registry binary itself (its ID the binary's sha256): it runs, but it
cannot be tagged, pushed or removed. A pull of a Docker Hub name goes to the first registry
mirror; unlike Docker, which falls back to Docker Hub, this engine never contacts Docker Hub.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlparse

from ... import cache, errors, transfer
from ...errors import EngineError, ReglabError
from ...naming import ANY, Scope
from ...oci import ID_PATTERN
from ...reference import parse
from ...registry_api import RegistryClient
from ..base import PROXY_REMOTEURL, ImageInfo, Progress, Transfer, epoch_seconds
from . import records, services
from .records import hostport

DOCKER_HUB = "docker.io"


class LocalImages:
    """``docker image …`` on the engine's OCI image layout."""

    def __init__(self, engine):
        self.engine = engine
        self.store = engine.store
        self._registry_ids: dict = {}  # binary → its ID

    @property
    def _root(self):
        return self.engine.settings.state_dir

    def is_registry_image(self, reference: str) -> bool:
        """The course's registry image, or another tag of the registry (``registry:2``, ``registry:3``)."""
        try:
            ref, course = parse(reference), parse(self.engine.settings.registry_image)
        except ReglabError:
            return False
        return ref.tagged == course.tagged or (ref.familiar_repository == course.familiar_repository == "registry")

    def registry_info(self, reference: str | None = None) -> ImageInfo:
        """The registry "image" here is the binary itself; its ID is the binary's sha256."""
        reference = reference or self.engine.settings.registry_image
        binary = self.engine.binary_for(reference)
        return ImageInfo(self._program_id(binary), (parse(reference).tagged,), binary.stat().st_size, standin=True)

    def _program_id(self, program) -> str:
        """An image ID for a program that stands for an image here: the program's sha256."""
        if program not in self._registry_ids:
            def digest() -> bytes:
                h = hashlib.sha256()
                with open(program, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
                return h.hexdigest().encode()

            entry = cache.key(cache.file_key(program))
            self._registry_ids[program] = "sha256:" + cache.get_or_make(self._root, "registry-binary", entry,
                                                                        digest).decode()
        return self._registry_ids[program]

    def service_info(self, reference: str) -> ImageInfo | None:
        """A service image (``nginx``, ``redis``, ``chrislusf/seaweedfs``) is the program it holds,
        run as a process (:mod:`.services`): present when that program is on this machine."""
        recipe = services.recipe_for(reference)
        program = recipe.program(self.engine.settings) if recipe else None
        if program is None:
            return None
        return ImageInfo(self._program_id(program), (parse(reference).tagged,), program.stat().st_size, standin=True)

    def info(self, reference: str) -> ImageInfo | None:
        if self.is_registry_image(reference):
            try:
                return self.registry_info(reference)
            except ReglabError:  # no program stands for that tag here
                return None
        if services.recipe_for(reference) is not None:
            return self.service_info(reference)
        image = self.store.find(reference)
        if image is None:
            return None
        return self._info(image)

    def _info(self, image) -> ImageInfo:
        config = self.store.config(image)
        return ImageInfo(image.id, image.tags, self.store.size(image), self.store.is_standin(image),
                         created=epoch_seconds(config.get("created")), recipe=self.store.recipe(image))

    def list(self) -> list[ImageInfo]:
        return [self._info(i) for i in self.store.images()]

    def layer_count(self, reference: str) -> int:
        image = self.store.find(reference)
        return len(image.layers) if image else 0

    def load(self, archive: bytes) -> None:
        self.store.import_docker_archive(archive)

    def fetch(self, reference: str) -> None:
        raise errors.no_fetch_daemonless(reference)

    def _not_an_image(self) -> EngineError:
        return errors.registry_binary_not_image(self.engine.settings.registry_image, self.engine.binary)

    def tag(self, source: str, target: str) -> None:
        if self.is_registry_image(source):
            raise self._not_an_image()
        self.store.tag(source, target)

    def remove(self, reference: str) -> None:
        if self.is_registry_image(reference):
            raise self._not_an_image()
        image = self.store.find(reference)
        if image is None:
            raise errors.missing_image(reference)
        by_id = ID_PATTERN.match(reference)
        if by_id and image.id[7:].startswith(by_id.group(1)) and not image.tags:
            self.store.remove_dangling(image.id)  # a dangling image: no name left, removed by its ID
            return
        if by_id and image.id[7:].startswith(by_id.group(1)):
            if len(image.tags) != 1:
                raise errors.several_names(image.id[7:19], list(image.tags))
            name = image.tags[0]
        else:
            name = parse(reference).tagged
        if len(image.tags) == 1:
            users = [c.name for c in records.of(self._root, self.engine.store_users) if c.image == image.id]
            if users:
                raise errors.image_in_use(reference, users[0])
        self.store.untag(name)

    # ------------------------------------------------------------------ push and pull

    def client(self, host: str, auth: tuple[str, str] | None = None) -> RegistryClient:
        """The one registry client, with Docker's rule for plain HTTP (this engine's insecure list).

        Docker Hub's names go to the first registry mirror, never to Docker Hub itself."""
        mirrors = self.engine.daemon.mirrors
        if host == DOCKER_HUB:
            if not mirrors:
                raise errors.never_docker_hub()
            host = urlparse(mirrors[0]).netloc or mirrors[0]
        return RegistryClient(host, insecure=self.engine.daemon.insecure_registries(), timeout=60.0,
                              upstream=self._upstream_of(host), auth=auth or False,
                              trust=(self.engine.trust.folder(), *self.engine.trust.system_folders))

    def _upstream_of(self, host: str) -> str | None:
        """The upstream of the lab's registry at ``host``, when it is a pull-through cache."""
        for container in records.of(self._root, Scope(None, ANY)):
            if container.kind == "registry" and hostport(container.host, container.port) == host:
                return container.env.get(PROXY_REMOTEURL)
        return None

    def push(self, reference: str, progress: Progress | None = None,
             auth: tuple[str, str] | None = None) -> Transfer:
        return transfer.push(self.store, reference, lambda host: self.client(host, auth), progress,
                             chunk_size=self.engine.chunk_size)

    def pull(self, reference: str, progress: Progress | None = None,
             auth: tuple[str, str] | None = None) -> Transfer:
        return transfer.pull(self.store, reference, lambda host: self.client(host, auth), progress)
