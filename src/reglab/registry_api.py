"""A small client for the registry's HTTP API v2 (what ``docker push``/``pull`` speak).

Every call is one HTTP request a learner could type with ``curl`` (:meth:`RegistryClient.curl`
prints that twin). Failures become one-sentence errors (:class:`~reglab.errors.ReglabError`): 404
unknown manifest, blob or repository, 405 deletes disabled, 401 credentials needed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlparse

import requests

from .errors import ManifestUnknown, RegistryUnavailable, ReglabError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_TYPES = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)


class DeleteDisabled(ReglabError):
    """The registry refuses deletes (405)."""


class AuthRequired(ReglabError):
    """The registry wants credentials (401)."""


class BlobUnknown(ReglabError):
    """The registry has no such blob in that repository (404)."""


class RegistryError(ReglabError):
    """Any other answer the registry gives that is not a success."""


@dataclass(frozen=True)
class Manifest:
    """A manifest as ``GET /v2/<name>/manifests/<reference>`` returns it."""

    digest: str  # Docker-Content-Digest: sha256 of the exact bytes below
    media_type: str  # Content-Type
    size: int
    body: dict
    raw: bytes = field(default=b"", repr=False)

    @property
    def config(self) -> str | None:
        return (self.body.get("config") or {}).get("digest")

    @property
    def layers(self) -> list[str]:
        return [layer["digest"] for layer in self.body.get("layers") or [] if "digest" in layer]


@dataclass(frozen=True)
class Head:
    """What a ``HEAD`` request tells without sending the bytes."""

    digest: str  # Docker-Content-Digest
    media_type: str  # Content-Type
    size: int  # Content-Length


@dataclass(frozen=True)
class CatalogPage:
    """One page of ``GET /v2/_catalog``; ``next`` is the ``Link`` header's URL, if any."""

    url: str
    repositories: list[str]
    next: str | None
    link: str | None = None  # the raw Link header

    @property
    def last(self) -> str | None:
        """The ``last=`` value of the next page (where the next page starts after)."""
        if not self.next:
            return None
        return (parse_qs(urlparse(self.next).query).get("last") or [None])[0]


class RegistryClient:
    """Talks to one registry; every failure becomes a one-sentence :class:`ReglabError`."""

    def __init__(self, base_url: str, timeout: float = 10.0, session: requests.Session | None = None,
                 auth: tuple[str, str] | None = None):
        self.base_url = base_url.rstrip("/")
        self.host = urlparse(self.base_url).netloc
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.trust_env = False  # never route 127.0.0.1 through a proxy
        if auth:
            self.session.auth = auth

    # ------------------------------------------------------------------ plumbing

    def _request(self, path: str, method: str = "GET", **kwargs) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectionError:
            raise RegistryUnavailable(
                f"nothing answers at {self.host}: is the registry running? Start it with lab.run_registry()."
            ) from None
        except requests.Timeout:
            raise RegistryUnavailable(
                f"{self.host} did not answer within {self.timeout:g} s: is it overloaded or stopped?") from None
        if response.status_code == 401:
            raise AuthRequired(f"{self.host} asks for a user name and password: pass auth=(user, password) "
                               f"or `docker login {self.host}` first.")
        return response

    # kept for callers of the first version
    _get = _request

    def _fail(self, response: requests.Response, what: str) -> ReglabError:
        """The one-sentence error for a failed answer about ``what``."""
        code, message = _registry_error(response)
        status = response.status_code
        if status == 405 and response.request.method == "DELETE":
            return DeleteDisabled(
                f"{self.host} refuses to delete {what} (405): deletes are off by default; start the registry "
                "with REGISTRY_STORAGE_DELETE_ENABLED=true to allow them.")
        if status == 404 and code == "BLOB_UNKNOWN":
            return BlobUnknown(f"{self.host} has no blob {what}: check the digest in the manifest, or push the "
                               "image again.")
        if status == 404 and code == "NAME_UNKNOWN":
            return ManifestUnknown(f"{self.host} has no repository {what.split(':')[0].split('@')[0]}: push an "
                                   "image there first (lab.catalog() lists the repositories).")
        if status == 404:
            return ManifestUnknown(f"{self.host} has no {what}: push it there first, or check the name with "
                                   "lab.catalog() and lab.tags().")
        detail = f" ({code}: {message})" if code else ""
        return RegistryError(f"{self.host} answered {status} to {response.request.method} "
                             f"{urlparse(response.url).path}{detail}: look at the registry's logs.")

    def curl(self, path: str, method: str = "GET", accept: str | None = None, head: bool = False) -> str:
        """The ``curl`` command doing the same request (a step's twin)."""
        parts = ["curl"]
        if head:
            parts.append("-I")
        elif method != "GET":
            parts += ["-X", method]
        if accept:
            parts += ["-H", f"'Accept: {accept}'"]
        url = f"{self.base_url}{path}"
        parts.append(f"'{url}'" if "?" in url or "&" in url else url)
        return " ".join(parts)

    # ------------------------------------------------------------------ is it there?

    def _status(self) -> int | None:
        try:
            return self.session.get(f"{self.base_url}/v2/", timeout=self.timeout).status_code
        except requests.RequestException:
            return None

    def ping(self) -> bool:
        """True when ``GET /v2/`` answers 200: the registry is up and speaks API v2."""
        return self._status() == 200

    def wait_ready(self, timeout: float = 30.0, problem: Callable[[], str | None] | None = None) -> float:
        """Poll ``/v2/`` until it answers (200, or 401 from a registry that wants credentials);
        return the seconds waited.

        ``problem`` is asked between polls: a non-None answer (the container died) stops early.
        """
        start = time.monotonic()
        delay = 0.01
        while True:
            if self._status() in (200, 401):
                return time.monotonic() - start
            trouble = problem() if problem else None
            if trouble:
                raise RegistryUnavailable(f"the registry at {self.host} did not start: {trouble}.")
            if time.monotonic() - start > timeout:
                raise RegistryUnavailable(
                    f"the registry at {self.host} did not answer within {timeout:g} s: look at its logs "
                    "(docker container logs <name>)."
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    # ------------------------------------------------------------------ names

    def catalog_page(self, n: int | None = None, last: str | None = None) -> CatalogPage:
        """One page of the catalog: at most ``n`` names, those sorting after ``last``."""
        params = {k: v for k, v in (("n", n), ("last", last)) if v is not None}
        path = "/v2/_catalog" + (f"?{urlencode(params)}" if params else "")
        response = self._request(path)
        if not response.ok:
            raise self._fail(response, "catalog")
        link = response.links.get("next", {}).get("url")
        if link and not link.startswith("http"):
            link = f"{self.base_url}{link}"
        return CatalogPage(f"{self.base_url}{path}", response.json().get("repositories") or [], link,
                           response.headers.get("Link"))

    def catalog_pages(self, n: int | None = None) -> Iterator[list[str]]:
        """Yield the catalog page by page, following the ``Link`` header (``?n=&last=``)."""
        for page in self.catalog_page_objects(n):
            yield page.repositories

    def catalog_page_objects(self, n: int | None = None) -> Iterator[CatalogPage]:
        page = self.catalog_page(n)
        yield page
        while page.next:
            query = parse_qs(urlparse(page.next).query)
            page = self.catalog_page(int(query["n"][0]) if "n" in query else n, (query.get("last") or [None])[0])
            yield page

    def catalog(self, n: int | None = None) -> list[str]:
        """Every repository, following ``Link`` pagination when ``n`` limits a page."""
        return [name for page in self.catalog_pages(n) for name in page]

    def tags(self, repository: str, n: int | None = None) -> list[str]:
        """Every tag of a repository (sorted), following ``Link`` pagination."""
        path = f"/v2/{repository}/tags/list" + (f"?n={n}" if n else "")
        found: list[str] = []
        while path:
            response = self._request(path)
            if not response.ok:
                if response.status_code == 404:
                    raise ManifestUnknown(f"{self.host} has no repository {repository}: push an image there first.")
                raise self._fail(response, f"the tags of {repository}")
            found += response.json().get("tags") or []
            path = response.links.get("next", {}).get("url")
        return sorted(found)

    # ------------------------------------------------------------------ manifests

    def manifest(self, repository: str, reference: str, accept: str | tuple[str, ...] = MANIFEST_TYPES) -> Manifest:
        """``GET`` a manifest by tag or digest, accepting every modern media type by default."""
        accept = accept if isinstance(accept, str) else ", ".join(accept)
        response = self._request(f"/v2/{repository}/manifests/{reference}", headers={"Accept": accept})
        if not response.ok:
            raise self._fail(response, _ref(repository, reference))
        return Manifest(
            digest=response.headers.get("Docker-Content-Digest", ""),
            media_type=response.headers.get("Content-Type", ""),
            size=len(response.content),
            body=response.json(),
            raw=response.content,
        )

    def manifest_head(self, repository: str, reference: str,
                      accept: str | tuple[str, ...] = MANIFEST_TYPES) -> Head:
        """``HEAD`` a manifest: its digest, type and size without its body (what ``docker pull`` asks first)."""
        accept = accept if isinstance(accept, str) else ", ".join(accept)
        response = self._request(f"/v2/{repository}/manifests/{reference}", "HEAD", headers={"Accept": accept})
        if not response.ok:
            raise self._fail(response, _ref(repository, reference))
        return _head(response)

    def delete_manifest(self, repository: str, digest: str) -> None:
        """``DELETE`` a manifest (by digest: the API does not delete tags). Needs deletes enabled."""
        if not digest.startswith("sha256:"):
            raise ReglabError(f"delete a manifest by its digest (sha256:…), not by the tag {digest!r}: "
                              "lab.tags() and the manifest's Docker-Content-Digest give it.")
        response = self._request(f"/v2/{repository}/manifests/{digest}", "DELETE")
        if response.status_code != 202:
            raise self._fail(response, f"{repository}@{digest}")

    # ------------------------------------------------------------------ blobs

    def blob_head(self, repository: str, digest: str) -> Head:
        """``HEAD`` a blob: is it there, and how big is it."""
        response = self._request(f"/v2/{repository}/blobs/{digest}", "HEAD")
        if not response.ok:
            if response.status_code == 404:
                raise BlobUnknown(f"{self.host} has no blob {digest} in {repository}: check the digest in the "
                                  "manifest, or push the image again.")
            raise self._fail(response, f"{repository}@{digest}")
        return _head(response)

    def blob(self, repository: str, digest: str, verify: bool = True) -> bytes:
        """``GET`` a blob's bytes; with ``verify``, check they hash to ``digest``."""
        response = self._request(f"/v2/{repository}/blobs/{digest}")
        if not response.ok:
            raise self._fail(response, f"{repository}@{digest}")
        data = response.content
        algo, _, expected = digest.partition(":")
        if verify and hashlib.new(algo, data).hexdigest() != expected:
            raise RegistryError(f"the blob {digest} that {self.host} sent hashes to something else: its storage is "
                                "damaged (lab.verify_blobs() finds which blob).")
        return data


def _ref(repository: str, reference: str) -> str:
    return f"{repository}@{reference}" if ":" in reference and reference.startswith("sha") else \
        f"{repository}:{reference}"


def _head(response: requests.Response) -> Head:
    return Head(
        digest=response.headers.get("Docker-Content-Digest", ""),
        media_type=response.headers.get("Content-Type", ""),
        size=int(response.headers.get("Content-Length") or 0),
    )


def _registry_error(response: requests.Response) -> tuple[str, str]:
    """The first ``{"errors": [{"code", "message"}]}`` entry of an error answer, if any."""
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return "", ""
    if not errors or not isinstance(errors[0], dict):
        return "", ""
    return str(errors[0].get("code", "")), str(errors[0].get("message", ""))
