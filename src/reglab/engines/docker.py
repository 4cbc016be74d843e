"""The Docker engine: registries are containers, images live in the daemon's store."""

from __future__ import annotations

import re
from pathlib import Path

import docker
import docker.errors
import requests

from .. import errors, naming
from ..errors import EngineError, ImageInUse, ImageMissing, NameConflict, ReglabError
from ..naming import Scope
from ..reference import parse
from ..registry_api import CERTS_D, stored_credentials
from ..storage import Tree
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
from .docker_words import _first_line, _message, _registry_trouble, _timestamp, _unreachable

_ANONYMOUS = re.compile(r"^[0-9a-f]{64}$")  # Docker names an anonymous volume by 64 hex digits



def _auth_config(host: str) -> dict | None:
    """What ``docker login`` stored for ``host`` (``$DOCKER_CONFIG/config.json``), as the daemon wants
    it with a push or pull: the CLI sends it along, the daemon keeps no logins of its own."""
    credentials = stored_credentials(host)
    return {"username": credentials[0], "password": credentials[1]} if credentials else None


class DockerEngine(Engine):
    """Registries as containers of the ``registry:2`` image, driven through the Docker SDK."""

    kind = "docker"

    def __init__(self, client: docker.DockerClient | None = None, timeout: int = 120):
        try:
            self.client = client or docker.from_env(timeout=timeout)
            self.client.ping()
        except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
            raise _unreachable(exc) from None
        self.api = self.client.api

    def describe(self) -> str:
        version = self.client.version()
        return f"Docker {version.get('Version', '?')} (API {version.get('ApiVersion', '?')})"

    def insecure_registries(self) -> list[str]:
        config = self.client.info().get("RegistryConfig") or {}
        cidrs = list(config.get("InsecureRegistryCIDRs") or [])
        names = [name for name, index in (config.get("IndexConfigs") or {}).items()
                 if not index.get("Secure", True) and name not in cidrs]
        return cidrs + sorted(names)

    def daemon_config(self):
        """daemon.json of the daemon this engine talks to, verified through its ``docker info``."""
        from ..daemon import DaemonConfig

        return DaemonConfig(info=self.client.info)

    # ------------------------------------------------------------------ image store

    def image_info(self, reference: str) -> ImageInfo | None:
        try:
            image = self.client.images.get(reference)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            if exc.status_code in (400, 404):  # invalid names the daemon cannot look up
                return None
            raise EngineError(f"the daemon could not look up {reference}: {_message(exc)}.") from None
        return self._info(image)

    @staticmethod
    def _info(image) -> ImageInfo:
        attrs = image.attrs
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        return ImageInfo(
            id=image.id,
            tags=tuple(image.tags),
            size=int(attrs.get("Size") or 0),
            standin=labels.get(naming.STANDIN_LABEL) == "true",
            recipe=labels.get(f"{naming.STANDIN_LABEL}.recipe"),
            repo_digests=tuple(attrs.get("RepoDigests") or ()),
            created=epoch_seconds(attrs.get("Created")),
        )

    def list_images(self) -> list[ImageInfo]:
        return [self._info(image) for image in self.client.images.list()]

    def layer_count(self, reference: str) -> int:
        try:
            image = self.client.images.get(reference)
        except docker.errors.DockerException:
            return 0
        return len((image.attrs.get("RootFS") or {}).get("Layers") or [])

    def load_image_archive(self, data: bytes) -> None:
        try:
            self.client.images.load(data)
        except docker.errors.DockerException as exc:
            raise EngineError(f"the daemon refused a stand-in image: {_message(exc)}.") from None

    def pull_image(self, reference: str) -> None:
        ref = parse(reference)
        try:
            events = self.api.pull(ref.familiar_repository, tag=ref.tag_or_default, stream=True, decode=True)
            self._stream(events, reference, None)
        except (ReglabError, docker.errors.DockerException) as exc:
            raise ImageMissing(
                f"could not pull {reference} from Docker Hub ({_first_line(exc)}): without internet set "
                "REGLAB_OFFLINE=1 to build stand-ins from Debian packages (python -m reglab images)."
            ) from None

    def tag(self, source: str, target: str) -> None:
        ref = parse(target)
        try:
            ok = self.api.tag(source, ref.familiar_repository, tag=ref.tag_or_default)
        except docker.errors.ImageNotFound:
            raise self._missing(source) from None
        except docker.errors.APIError as exc:
            raise EngineError(f"could not tag {source} as {target}: {_message(exc)}.") from None
        if not ok:
            raise EngineError(f"the daemon did not tag {source} as {target}.")

    @staticmethod
    def _missing(reference: str) -> ImageMissing:
        return errors.missing_image(reference)

    def remove_image(self, reference: str) -> None:
        try:
            self.api.remove_image(reference)
        except docker.errors.ImageNotFound:
            raise self._missing(reference) from None
        except docker.errors.APIError as exc:
            text = _message(exc)
            match = re.search(r"container ([0-9a-f]{6,64})", text)
            if exc.status_code == 409 and match:
                user = self._container_name(match.group(1))
                raise ImageInUse(
                    f"{reference} is still used by the stopped container {user}: remove that "
                    f"container first (docker container rm {user})."
                ) from None
            raise EngineError(f"could not remove {reference}: {text}.") from None

    def _container_name(self, ident: str) -> str:
        try:
            return self.client.containers.get(ident).name
        except docker.errors.DockerException:
            return ident[:12]

    def _stream(self, events, reference: str, progress: Progress | None, credentials: bool = False) -> dict:
        """Consume a push/pull event stream; raise on its error event; return a summary."""
        summary = {"digest": None, "layers": set(), "moved": set(), "already": set()}
        try:
            for event in events:
                if "error" in event:
                    text = (event.get("errorDetail") or {}).get("message") or event["error"]
                    raise self._trouble(text, reference, credentials) or EngineError(
                        f"{reference}: the daemon reported: {text}.")
                status = event.get("status", "")
                layer = event.get("id")
                aux = event.get("aux") or {}
                if aux.get("Digest"):
                    summary["digest"] = aux["Digest"]
                match = re.search(r"(?:digest|Digest): (sha256:[0-9a-f]{64})", status)
                if match:
                    summary["digest"] = match.group(1)
                if layer and status in ("Preparing", "Pulling fs layer", "Waiting", "Already exists",
                                        "Layer already exists", "Pushed", "Pull complete", "Pushing",
                                        "Downloading"):
                    summary["layers"].add(layer)
                if layer and status in ("Pushed", "Pull complete"):
                    summary["moved"].add(layer)
                if layer and (status in ("Layer already exists", "Already exists")
                              or status.startswith("Mounted from")):  # a mount: the registry had the bytes
                    summary["layers"].add(layer)
                    summary["already"].add(layer)
                if progress and layer:
                    detail = event.get("progressDetail") or {}
                    progress(layer, int(detail.get("current") or 0), int(detail.get("total") or 0), status)
        except (requests.RequestException, docker.errors.DockerException) as exc:
            trouble = self._trouble(_message(exc), reference, credentials)
            raise (trouble or EngineError(f"{reference}: {_message(exc)}.")) from None
        return summary

    def _trouble(self, text: str, reference: str, credentials: bool = False) -> Exception | None:
        return _registry_trouble(text, reference, credentials, self._upstream_of(parse(reference).registry))

    def _upstream_of(self, host: str) -> str | None:
        """The upstream of the lab's registry published at ``host``, when it is a pull-through cache."""
        port = host.rpartition(":")[2]
        if not port.isdigit():
            return None
        try:
            found = self.client.containers.list(filters={"label": naming.LAB_LABEL, "publish": port})
        except docker.errors.DockerException:
            return None
        for container in found:
            for item in (container.attrs.get("Config") or {}).get("Env") or []:
                key, _, value = item.partition("=")
                if key == PROXY_REMOTEURL:
                    return value
        return None

    def _auth_config(self, host: str) -> dict | None:
        """The stored login for ``host``; without one, the SDK's own memory of logins is re-read
        from the same file, so a login it made earlier cannot linger after ``docker logout``."""
        auth = _auth_config(host)
        if auth is None:
            self.api.reload_config()
        return auth

    def push(self, reference: str, progress: Progress | None = None) -> Transfer:
        ref = parse(reference)
        if self.image_info(ref.tagged) is None:
            raise self._missing(ref.tagged)
        auth = self._auth_config(ref.registry)
        events = self.api.push(ref.familiar_repository, tag=ref.tag_or_default, stream=True, decode=True,
                               auth_config=auth)
        s = self._stream(events, reference, progress, auth is not None)
        if not s["digest"]:
            raise EngineError(f"the daemon pushed {reference} but reported no digest: check `docker push` by hand.")
        return Transfer(ref.tagged, s["digest"], len(s["layers"]), len(s["moved"]), len(s["already"]))

    def pull(self, reference: str, progress: Progress | None = None) -> Transfer:
        ref = parse(reference)
        auth = self._auth_config(ref.registry)
        try:
            events = self.api.pull(ref.familiar_repository, tag=ref.tag_or_default, stream=True, decode=True,
                                   auth_config=auth)
            s = self._stream(events, reference, progress, auth is not None)
        except docker.errors.APIError as exc:
            trouble = self._trouble(_message(exc), reference, auth is not None)
            raise (trouble or EngineError(f"could not pull {reference}: {_message(exc)}.")) from None
        if not s["digest"]:
            raise EngineError(f"the daemon pulled {reference} but reported no digest.")
        return Transfer(ref.tagged, s["digest"], len(s["layers"]), len(s["moved"]), len(s["already"]))

    # ------------------------------------------------------------------ containers

    def _check_name_free(self, name: str, scope: Scope) -> None:
        try:
            existing = self.client.containers.get(name)
        except docker.errors.NotFound:
            return
        if naming.LAB_LABEL not in (existing.labels or {}):
            raise NameConflict(
                f"a container named {name} exists but reglab did not create it (typing the twins makes it): reglab "
                f"will not touch it; remove it (docker container rm -f {name}) and run this step again, or start "
                f"with Lab(\"{scope.lab}\", adopt=True) to let the lab take it over."
            )
        if not scope.owns(existing.labels):
            raise NameConflict(f"the container {name} belongs to another learner's lab: reglab will not touch it; "
                               "set REGLAB_LEARNER to a name of your own.")
        existing.remove(force=True, v=True)

    def start_registry(self, spec: RegistrySpec) -> None:
        self._check_name_free(spec.name, spec.scope)
        volumes = {folder: {"bind": inside, "mode": "ro"} for folder, inside in spec.files.items()}
        if spec.volume:
            volumes[spec.volume] = {"bind": REGISTRY_DATA, "mode": "rw"}
        if spec.bind:
            volumes[str(spec.bind)] = {"bind": REGISTRY_DATA, "mode": "rw"}
        if self.image_info(spec.image) is None:
            raise ImageMissing(
                f"the registry image {spec.image} is not in the local store: run `python -m reglab images` "
                "(add REGLAB_OFFLINE=1 without internet)."
            )
        try:
            container = self.client.containers.create(
                spec.image, name=spec.name, labels=spec.scope.labels(), ports={"5000/tcp": (spec.host, spec.port)},
                volumes=volumes, user=spec.user, environment=spec.env or None, detach=True,
                network=spec.network, dns_opt=list(spec.dns_options) or None,
            )
        except docker.errors.APIError as exc:
            raise EngineError(f"could not create the registry container {spec.name}: {_message(exc)}.") from None
        try:
            container.start()
        except docker.errors.APIError as exc:
            container.remove(force=True, v=True)
            text = _message(exc)
            if "address already in use" in text or "port is already allocated" in text:
                raise errors.port_taken(spec.port, spec.host, self._port_holder(spec.port)) from None
            raise EngineError(f"could not start the registry {spec.name}: {text}.") from None

    def _port_holder(self, port: int) -> str:
        """Who holds a host port: a container of another lab or learner (by its labels), or a program."""
        for container in self.client.containers.list(filters={"publish": str(port)}):
            labels = container.labels or {}
            if naming.LEARNER_LABEL in labels:
                return f"learner {labels[naming.LEARNER_LABEL]}'s container {container.name}"
            return f"the container {container.name}"
        return "another program"

    def registry_problem(self, name: str) -> str | None:
        try:
            container = self.client.containers.get(name)
        except docker.errors.NotFound:
            return "the container is gone"
        if container.status == "running":
            return None
        logs = container.logs(tail=5).decode(errors="replace").strip().splitlines()
        last = logs[-1] if logs else "no log output"
        return f"it stopped ({container.status}); its last log line: {last}"

    def _get(self, name: str):
        try:
            return self.client.containers.get(name)
        except docker.errors.NotFound:
            raise EngineError(f"there is no container {name}: start it first (lab.run_registry()).") from None

    def storage(self, name: str) -> Tree:
        """A bind-mounted data folder is read where it lies; a volume (or the container's own
        layer) through Docker's archive API, which also works with Docker Desktop."""
        container = self._get(name)
        for mount in container.attrs.get("Mounts") or []:
            if mount.get("Destination") == REGISTRY_DATA and mount.get("Type") == "bind":
                source = Path(mount.get("Source", ""))
                if source.is_dir():
                    return Tree.from_path(source)

        def read(path: str):
            try:
                stream, _ = self._get(name).get_archive(path)
            except docker.errors.NotFound:
                raise EngineError(f"{path} does not exist in {name}.") from None
            return stream

        return Tree.from_archive(read(REGISTRY_DATA), reopen=read, top=REGISTRY_DATA)

    def storage_exec(self, name: str, argv: list[str], workdir: str | None = None) -> str:
        result = self._get(name).exec_run(list(argv), workdir=workdir)
        return result.output.decode(errors="replace")

    def garbage_collect(self, name: str, dry_run: bool = False, delete_untagged: bool = False) -> tuple[int, str]:
        argv = ["registry", "garbage-collect"] + (["--dry-run"] if dry_run else []) + \
            (["--delete-untagged"] if delete_untagged else []) + [REGISTRY_CONFIG]
        result = self._get(name).exec_run(argv)
        return result.exit_code, result.output.decode(errors="replace")

    def logs(self, name: str) -> str:
        return self._get(name).logs(stdout=True, stderr=True).decode(errors="replace")

    def kill(self, name: str) -> None:
        container = self._get(name)
        if container.status == "running":
            try:
                container.kill()
            except docker.errors.APIError as exc:
                if exc.status_code != 409:  # 409: it stopped on its own meanwhile
                    raise EngineError(f"could not kill {name}: {_message(exc)}.") from None

    def remove(self, name: str) -> None:
        container = self._get(name)
        try:
            container.remove(force=True, v=True)
        except docker.errors.APIError as exc:
            raise EngineError(f"could not remove {name}: {_message(exc)}.") from None

    def state(self, name: str) -> str | None:
        try:
            return self.client.containers.get(name).status
        except docker.errors.NotFound:
            return None

    def inspect(self, name: str) -> ContainerInfo | None:
        try:
            attrs = self.client.containers.get(name).attrs
        except docker.errors.NotFound:
            return None
        state = attrs.get("State") or {}
        host_config = attrs.get("HostConfig") or {}
        bindings = (host_config.get("PortBindings") or {}).get("5000/tcp") or []
        ports = tuple((b.get("HostIp") or "", int(b["HostPort"])) for b in bindings if b.get("HostPort"))
        data = None
        for mount in attrs.get("Mounts") or []:
            if mount.get("Destination") != REGISTRY_DATA:
                continue
            if mount.get("Type") == "bind":
                data = DataMount("bind", mount.get("Source", ""))
            elif mount.get("Type") == "volume":
                volume = mount.get("Name", "")
                data = DataMount("anonymous" if _ANONYMOUS.match(volume) else "volume", volume)
        env = tuple(tuple(item.split("=", 1)) for item in (attrs.get("Config") or {}).get("Env") or []
                    if "=" in item)
        labels = tuple(sorted(((attrs.get("Config") or {}).get("Labels") or {}).items()))
        return ContainerInfo(name, state.get("Status", "?"), attrs.get("Image", ""), ports, data, env,
                             state.get("ExitCode"), _timestamp(state.get("StartedAt")), labels)

    def restart(self, name: str) -> None:
        try:
            self._get(name).restart(timeout=0)
        except docker.errors.APIError as exc:
            text = _message(exc)
            if "address already in use" in text or "port is already allocated" in text:
                raise EngineError(f"could not restart {name}: its port is taken by another program now; stop that "
                                  "program, or remove the container and run it on another port.") from None
            raise EngineError(f"could not restart {name}: {text}.") from None

    def run_container(self, scope: Scope, name: str, image: str, entrypoint: str | None = None,
                      args: tuple[str, ...] = ()) -> Run:
        self._check_name_free(name, scope)
        if self.image_info(image) is None:
            raise ImageMissing(
                f"there is no image {image} in the local store: run `python -m reglab images`, or pull "
                "it back from your registry."
            )
        container = self.client.containers.create(image, name=name, labels=scope.labels(), detach=True,
                                                  entrypoint=entrypoint, command=list(args) or None)
        try:
            container.start()
        except docker.errors.APIError as exc:
            container.remove(force=True, v=True)
            text = _message(exc)
            if "executable file not found" in text and entrypoint:
                raise errors.program_missing(image, entrypoint) from None
            raise EngineError(f"could not start {name}: {text}.") from None
        result = container.wait(timeout=120)
        output = container.logs(stdout=True, stderr=True).decode(errors="replace")
        return Run(name, int(result.get("StatusCode", -1)), output)

    # ------------------------------------------------------------------ trust and credentials

    def trust_folder(self) -> Path:
        return Path(CERTS_D)

    def login(self, host: str, user: str, password: str) -> None:
        """``docker login``: the daemon checks the credentials against the registry (``POST /auth``)."""
        try:
            self.client.login(username=user, password=password, registry=host, reauth=True)
        except docker.errors.APIError as exc:
            text = _message(exc)
            raise (_registry_trouble(text, f"{host}/x", credentials=True)
                   or EngineError(f"docker login {host} failed: {text}.")) from None

    # ------------------------------------------------------------------ networks, volumes, bookkeeping

    def create_network(self, scope: Scope, name: str) -> bool:
        try:
            existing = self.client.networks.get(name)
        except docker.errors.NotFound:
            self.client.networks.create(name, labels=scope.labels(), driver="bridge")
            return True
        if not scope.owns(existing.attrs.get("Labels")):
            raise NameConflict(f"a network named {name} exists but this lab did not create it: reglab will not "
                               f"touch it; remove it yourself (docker network rm {name}) if it is not in use.")
        return False

    def network_address(self, name: str, network: str) -> str:
        container = self._get(name)
        container.reload()
        settings = ((container.attrs.get("NetworkSettings") or {}).get("Networks") or {}).get(network) or {}
        if not settings.get("IPAddress"):
            raise EngineError(f"{name} has no address on the network {network}: is it running and attached?")
        return f"{settings['IPAddress']}:5000"  # the registry listens on 5000 inside its container

    def create_volume(self, scope: Scope, name: str) -> None:
        try:
            existing = self.client.volumes.get(name)
        except docker.errors.NotFound:
            self.client.volumes.create(name, labels=scope.labels())
            return
        labels = existing.attrs.get("Labels") or {}
        if naming.LAB_LABEL not in labels:
            raise NameConflict(
                f"a volume named {name} exists but reglab did not create it (typing the twins makes it): reglab "
                f"will not touch it; remove it (docker volume rm {name}) and run this step again, or start "
                f"with Lab(\"{scope.lab}\", adopt=True) to let the lab take it over."
            )
        if not scope.owns(labels):
            raise NameConflict(f"the volume {name} belongs to another learner's lab: reglab will not touch it; "
                               "set REGLAB_LEARNER to a name of your own.")

    def volume_exists(self, name: str) -> bool:
        try:
            self.client.volumes.get(name)
            return True
        except docker.errors.NotFound:
            return False

    def strangers(self, scope: Scope) -> list[LabObject]:
        prefix = f"{scope.prefix}-"
        found = []
        kinds = (("container", lambda: self.client.containers.list(all=True, filters={"name": prefix}),
                  lambda c: (c.name, c.labels)),
                 ("volume", lambda: self.client.volumes.list(filters={"name": prefix}),
                  lambda v: (v.name, v.attrs.get("Labels"))),
                 ("network", lambda: self.client.networks.list(filters={"name": prefix}),
                  lambda n: (n.name, n.attrs.get("Labels"))))
        for kind, listing, name_labels in kinds:
            for obj in listing():
                name, labels = name_labels(obj)
                if name.startswith(prefix) and naming.LAB_LABEL not in (labels or {}):
                    found.append(LabObject(kind, name, scope.lab, scope.learner))
        return found

    def remove_strangers(self, objects: list[LabObject]) -> None:
        """Remove objects the learner told the lab to take over (``Lab(..., adopt=True)``)."""
        for obj in _in_removal_order(objects):
            try:
                self._remove(obj)
            except docker.errors.APIError as exc:
                raise EngineError(f"could not remove {obj.kind} {obj.name}: {_message(exc)}.") from None

    def _remove(self, obj: LabObject) -> None:
        """Remove one container (with its anonymous volumes), volume or network; gone already is fine."""
        try:
            if obj.kind == "container":
                self.client.containers.get(obj.name).remove(force=True, v=True)
            elif obj.kind == "volume":
                self.client.volumes.get(obj.name).remove(force=True)
            else:
                self.client.networks.get(obj.name).remove()
        except docker.errors.NotFound:
            pass

    def remove_volume(self, name: str) -> None:
        try:
            self.client.volumes.get(name).remove()
        except docker.errors.NotFound:
            raise EngineError(f"there is no volume {name} (docker volume ls lists them).") from None
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                users = [c.name for c in self.client.containers.list(all=True, filters={"volume": name})]
                user = users[0] if users else "a container"
                raise EngineError(f"the volume {name} is in use by the container {user}: remove that container "
                                  f"first (docker container rm -f {user}).") from None
            raise EngineError(f"could not remove the volume {name}: {_message(exc)}.") from None

    def objects(self, scope: Scope) -> list[LabObject]:
        flt = scope.docker_filter()
        found = []

        def add(kind: str, name: str, labels: dict | None) -> None:
            if scope.owns(labels):
                found.append(LabObject(kind, name, labels[naming.LAB_LABEL], labels.get(naming.LEARNER_LABEL)))

        for c in self.client.containers.list(all=True, filters=flt):
            add("container", c.name, c.labels)
        for v in self.client.volumes.list(filters=flt):
            add("volume", v.name, v.attrs.get("Labels"))
        for n in self.client.networks.list(filters=flt):
            add("network", n.name, n.attrs.get("Labels"))
        return found

    def remove_objects(self, scope: Scope) -> list[LabObject]:
        removed = []
        for obj in _in_removal_order(self.objects(scope)):
            try:
                self._remove(obj)
            except docker.errors.APIError as exc:
                if exc.status_code == 409:  # still used by a container that is not the lab's: leave it
                    continue
                raise
            removed.append(obj)
        return removed


def _in_removal_order(objects: list[LabObject]) -> list[LabObject]:
    """Containers first (they use the networks and volumes), then networks, then volumes."""
    order = {"container": 0, "network": 1, "volume": 2}
    return sorted(objects, key=lambda o: order[o.kind])
