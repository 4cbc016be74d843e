"""The Docker engine's images: the daemon's image store, and push and pull through it."""

from __future__ import annotations

import re

import docker
import docker.errors
import requests

from ... import errors, naming
from ...errors import ReglabError
from ...reference import parse
from ..base import PROXY_REMOTEURL, ImageInfo, Progress, Transfer, epoch_seconds
from .words import _first_line, _message, _registry_trouble

_LAYER_STATES = ("Preparing", "Pulling fs layer", "Waiting", "Already exists", "Layer already exists", "Pushed",
                 "Pull complete", "Pushing", "Downloading")


class DockerImages:
    """``docker image …`` through the daemon."""

    def __init__(self, client: docker.DockerClient):
        self.client, self.api = client, client.api

    def info(self, reference: str) -> ImageInfo | None:
        try:
            image = self.client.images.get(reference)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            if exc.status_code in (400, 404):  # invalid names the daemon cannot look up
                return None
            raise errors.lookup_failed(reference, _message(exc)) from None
        return _info(image)

    def list(self) -> list[ImageInfo]:
        """One ``GET /images/json``: docker-py's ``images.list()`` inspects each image after listing
        them, and an image another learner removes in between (one daemon, a class) raised
        ImageNotFound in the middle of a lab's clean-up."""
        return [_summary_info(summary) for summary in self.api.images()]

    def layer_count(self, reference: str) -> int:
        try:
            image = self.client.images.get(reference)
        except docker.errors.DockerException:
            return 0
        return len((image.attrs.get("RootFS") or {}).get("Layers") or [])

    def load(self, archive: bytes) -> None:
        try:
            self.client.images.load(archive)
        except docker.errors.DockerException as exc:
            raise errors.standin_refused(_message(exc)) from None

    def fetch(self, reference: str) -> None:
        ref = parse(reference)
        try:
            events = self.api.pull(ref.familiar_repository, tag=ref.tag_or_default, stream=True, decode=True)
            self._stream(events, reference, None)
        except (ReglabError, docker.errors.DockerException) as exc:
            raise errors.hub_pull_failed(reference, _first_line(exc)) from None

    def tag(self, source: str, target: str) -> None:
        ref = parse(target)
        try:
            ok = self.api.tag(source, ref.familiar_repository, tag=ref.tag_or_default)
        except docker.errors.ImageNotFound:
            raise errors.missing_image(source) from None
        except docker.errors.APIError as exc:
            raise errors.tag_failed(source, target, _message(exc)) from None
        if not ok:
            raise errors.not_tagged(source, target)

    def remove(self, reference: str) -> None:
        try:
            self.api.remove_image(reference)
        except docker.errors.ImageNotFound:
            raise errors.missing_image(reference) from None
        except docker.errors.APIError as exc:
            text = _message(exc)
            match = re.search(r"container ([0-9a-f]{6,64})", text)
            if exc.status_code == 409 and match:
                raise errors.image_in_use(reference, self._container_name(match.group(1))) from None
            raise errors.remove_failed(reference, text) from None

    def _container_name(self, ident: str) -> str:
        try:
            return self.client.containers.get(ident).name
        except docker.errors.DockerException:
            return ident[:12]

    # ------------------------------------------------------------------ push and pull

    def _stream(self, events, reference: str, progress: Progress | None, credentials: bool = False) -> dict:
        """Consume a push/pull event stream; raise on its error event; return a summary."""
        summary = {"digest": None, "layers": set(), "moved": set(), "already": set()}
        try:
            for event in events:
                if "error" in event:
                    text = (event.get("errorDetail") or {}).get("message") or event["error"]
                    raise self._trouble(text, reference, credentials) or errors.daemon_reported(reference, text)
                status = event.get("status", "")
                layer = event.get("id")
                aux = event.get("aux") or {}
                if aux.get("Digest"):
                    summary["digest"] = aux["Digest"]
                match = re.search(r"(?:digest|Digest): (sha256:[0-9a-f]{64})", status)
                if match:
                    summary["digest"] = match.group(1)
                if layer and status in _LAYER_STATES:
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
            raise (trouble or errors.transfer_failed(reference, _message(exc))) from None
        return summary

    def _trouble(self, text: str, reference: str, credentials: bool = False) -> Exception | None:
        return _registry_trouble(text, reference, credentials, self._upstream_of(parse(reference).registry))

    def _upstream_of(self, host: str) -> str | None:
        """The upstream of the lab's registry published at ``host``, when it is a pull-through cache."""
        port = host.rpartition(":")[2]
        if not port.isdigit():
            return None
        try:
            found = self.client.containers.list(filters={"label": naming.LAB_LABEL, "publish": port},
                                                ignore_removed=True)
        except docker.errors.DockerException:
            return None
        for container in found:
            for item in (container.attrs.get("Config") or {}).get("Env") or []:
                key, _, value = item.partition("=")
                if key == PROXY_REMOTEURL:
                    return value
        return None

    def _auth_config(self, auth: tuple[str, str] | None) -> dict | None:
        """The login for the registry, as the daemon wants it with a push or pull: the CLI sends it
        along, the daemon keeps no logins of its own. Without one, the SDK's own memory of logins
        is re-read, so a login it made earlier cannot linger after ``docker logout``."""
        if auth is None:
            self.api.reload_config()
            return None
        return {"username": auth[0], "password": auth[1]}

    def push(self, reference: str, progress: Progress | None = None,
             auth: tuple[str, str] | None = None) -> Transfer:
        ref = parse(reference)
        if self.info(ref.tagged) is None:
            raise errors.missing_image(ref.tagged)
        config = self._auth_config(auth)
        events = self.api.push(ref.familiar_repository, tag=ref.tag_or_default, stream=True, decode=True,
                               auth_config=config)
        s = self._stream(events, reference, progress, config is not None)
        if not s["digest"]:
            raise errors.pushed_no_digest(reference)
        return Transfer(ref.tagged, s["digest"], len(s["layers"]), len(s["moved"]), len(s["already"]))

    def pull(self, reference: str, progress: Progress | None = None,
             auth: tuple[str, str] | None = None) -> Transfer:
        ref = parse(reference)
        config = self._auth_config(auth)
        try:
            events = self.api.pull(ref.familiar_repository, tag=ref.tag_or_default, stream=True, decode=True,
                                   auth_config=config)
            s = self._stream(events, reference, progress, config is not None)
        except docker.errors.APIError as exc:
            trouble = self._trouble(_message(exc), reference, config is not None)
            raise (trouble or errors.pull_failed(reference, _message(exc))) from None
        if not s["digest"]:
            raise errors.pulled_no_digest(reference)
        return Transfer(ref.tagged, s["digest"], len(s["layers"]), len(s["moved"]), len(s["already"]))


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


def _summary_info(summary: dict) -> ImageInfo:
    """An image as ``docker image ls`` lists it (the same fields as an inspect gives :func:`_info`)."""
    labels = summary.get("Labels") or {}
    return ImageInfo(
        id=summary["Id"],
        tags=tuple(t for t in summary.get("RepoTags") or () if t != "<none>:<none>"),
        size=int(summary.get("Size") or 0),
        standin=labels.get(naming.STANDIN_LABEL) == "true",
        recipe=labels.get(f"{naming.STANDIN_LABEL}.recipe"),
        repo_digests=tuple(d for d in summary.get("RepoDigests") or () if d != "<none>@<none>"),
        created=float(summary.get("Created") or 0),
    )
