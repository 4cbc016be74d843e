"""A small client for the registry's HTTP API v2 (what ``docker push``/``pull`` speak)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import requests

from .errors import ManifestUnknown, RegistryUnavailable, ReglabError

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


class DeleteDisabled(ReglabError):
    """The registry refuses deletes (405)."""


class AuthRequired(ReglabError):
    """The registry wants credentials (401)."""


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str
    size: int
    body: dict


class RegistryClient:
    """Talks to one registry; every failure becomes a one-sentence :class:`ReglabError`."""

    def __init__(self, base_url: str, timeout: float = 10.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.host = urlparse(self.base_url).netloc
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.trust_env = False  # never route 127.0.0.1 through a proxy

    def _get(self, path: str, method: str = "GET", **kwargs) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.ConnectionError:
            raise RegistryUnavailable(
                f"nothing answers at {self.host}: is the registry running? (lab.run_registry())"
            ) from None
        except requests.Timeout:
            raise RegistryUnavailable(f"{self.host} did not answer within {self.timeout:g} s: is it overloaded or stopped?") from None
        if response.status_code == 401:
            raise AuthRequired(f"{self.host} asks for a user name and password: pass auth=(user, password).")
        return response

    def ping(self) -> bool:
        """True when ``GET /v2/`` answers 200: the registry is up and speaks API v2."""
        try:
            return self._get("/v2/").status_code == 200
        except RegistryUnavailable:
            return False

    def wait_ready(self, timeout: float = 30.0, problem: Callable[[], str | None] | None = None) -> float:
        """Poll ``/v2/`` until it answers; return the seconds waited.

        ``problem`` is asked between polls: a non-None answer (the container died) stops early.
        """
        start = time.monotonic()
        delay = 0.01
        while True:
            if self.ping():
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

    def catalog(self, n: int | None = None) -> list[str]:
        """Every repository, following ``Link`` pagination when ``n`` limits a page."""
        repos: list[str] = []
        for page in self.catalog_pages(n):
            repos.extend(page)
        return repos

    def catalog_pages(self, n: int | None = None):
        """Yield the catalog page by page (``?n=&last=`` as the ``Link`` header says)."""
        params: dict = {"n": n} if n else {}
        path = "/v2/_catalog"
        while True:
            response = self._get(path, params=params)
            response.raise_for_status()
            yield response.json().get("repositories") or []
            link = response.links.get("next")
            if not link:
                return
            query = parse_qs(urlparse(link["url"]).query)
            params = {k: v[0] for k, v in query.items()}

    def tags(self, repository: str) -> list[str]:
        response = self._get(f"/v2/{repository}/tags/list")
        if response.status_code == 404:
            raise ManifestUnknown(f"{self.host} has no repository {repository}: push an image there first.")
        response.raise_for_status()
        return sorted(response.json().get("tags") or [])

    def manifest(self, repository: str, reference: str) -> Manifest:
        response = self._get(f"/v2/{repository}/manifests/{reference}", headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if response.status_code == 404:
            raise ManifestUnknown(f"{self.host} has no {repository}:{reference}: push it there first.")
        response.raise_for_status()
        return Manifest(
            digest=response.headers.get("Docker-Content-Digest", ""),
            media_type=response.headers.get("Content-Type", ""),
            size=len(response.content),
            body=response.json(),
        )
