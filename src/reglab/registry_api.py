"""THE client of the registry's HTTP API v2: everything in reglab that speaks to a registry uses it.

One :class:`RegistryClient` per registry host, one ``requests`` session, and one place where a
failure becomes a reglab error (:func:`error_for` for answers, :meth:`RegistryClient.request`
for connections and TLS), so the same failure reads the same in every step and under either
engine. It does what ``docker push``/``pull`` do on the wire:

- **Docker's transport rule**: plain HTTP only to insecure registries (``127.0.0.0/8`` and
  the listed ones); those are tried over HTTPS without verification first, then HTTP; every
  other host gets HTTPS, verified against a CA bundle (``ca=``, else ``certs.d/<host>/ca.crt``
  as Docker looks it up, else the system's trust).
- **Credentials**: ``auth=(user, password)``, else what ``docker login`` stored for the host
  in ``$DOCKER_CONFIG/config.json`` (``auth=False``: none, an anonymous client); a Bearer
  (token) challenge is recognised and explained.
- **TLS failures in Go's words**: when a certificate does not verify, the client looks at the
  certificate the server sent and says what Docker's Go client would say of it (Go checks the
  name before the issuer): ``x509: certificate relies on legacy Common Name field…``, ``x509:
  certificate is valid for …, not …``, else ``x509: certificate signed by unknown authority``.
- ``Accept`` negotiation, ``Link`` pagination, monolithic and chunked uploads, mounts.

Every call is one request a learner could type with ``curl`` (:meth:`RegistryClient.curl`).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import requests
import urllib3

from . import errors
from .errors import ReglabError
from .credentials import stored as stored_credentials
from .docker_rules import DEFAULT_INSECURE, plain_http_allowed
from .media import ACCEPT_ALL, digest_of, split_digest

CERTS_D = "/etc/docker/certs.d"
READ_SIZE = 1024 * 1024


# ----------------------------------------------------------------------------- answers


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
        """The ``last=`` value of the next page (the name the next page starts after)."""
        return (parse_qs(urlparse(self.next).query).get("last") or [None])[0] if self.next else None


# ----------------------------------------------------------------------------- the one error choke point


def error_for(host: str, method: str, path: str, status: int, body: bytes | str | None = None,
              what: str = "", headers=None, upstream: str | None = None) -> ReglabError:
    """The one-sentence error for a registry's non-success answer about ``what``.

    ``body`` is the registry's error JSON (``{"errors": [{"code", "message", "detail"}]}``).
    ``upstream``: the registry is a pull-through cache of that URL (``proxy.remoteurl``). A
    cache refuses pushes with 405 ``UNSUPPORTED`` (read-only mode: 405 without a JSON body),
    and answers 404 for what it has not kept when its upstream does not give it.
    """
    code, message = _registry_error(body)
    challenge = {k.lower(): v for k, v in (headers or {}).items()}.get("www-authenticate", "")
    what = what or path
    if status == 401:
        if challenge.lower().startswith("bearer"):
            realm = _challenge_param(challenge, "realm") or "its token server"
            return errors.token_auth(host, realm)
        return errors.login_needed(host)
    if status == 405 and upstream:
        return errors.proxy_refuses(host, upstream)
    if status == 405 and method == "DELETE":
        return errors.delete_disabled(host, what)
    if status == 405 and method in ("POST", "PUT", "PATCH"):
        return errors.proxy_refuses(host) if code == "UNSUPPORTED" else errors.read_only_refused(host)
    if status == 404 and code in ("BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN") and "/blobs/uploads/" in path:
        return errors.upload_lost(host)  # another replica's upload, its state signed with another secret
    if status == 404:
        kind = path.split("?", 1)[0].rstrip("/").split("/")
        if upstream and "manifests" in kind[-2:]:
            return errors.not_cached(host, _ref("/".join(kind[2:-2]), kind[-1]), upstream)
        if "blobs" in kind[-2:]:
            return errors.blob_unknown(host, kind[-1], "/".join(kind[2:-2]))
        if "manifests" in kind[-2:]:
            return errors.manifest_unknown(host, "/".join(kind[2:-2]), kind[-1])
        if kind[-2:] == ["tags", "list"]:
            return errors.repository_unknown(host, "/".join(kind[2:-2]))
        return errors.no_such(host, what)
    return errors.registry_answered(host, status, method, path.split('?', 1)[0], code, message)


def _registry_error(body: bytes | str | None) -> tuple[str, str]:
    """The first ``{"errors": [{"code", "message"}]}`` entry of an error answer, if any."""
    try:
        data = json.loads(body) if body else {}
        first = (data.get("errors") or [{}])[0]
    except (ValueError, AttributeError, TypeError, IndexError):
        return "", ""
    if not isinstance(first, dict):
        return "", ""
    return str(first.get("code", "")), str(first.get("message", ""))


def _challenge_param(challenge: str, name: str) -> str | None:
    for part in challenge.split(" ", 1)[-1].split(","):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip('"')
    return None


# ----------------------------------------------------------------------------- Docker's rules


_probe_context: ssl.SSLContext | None = None


def answers(url: str, timeout: float) -> bool:
    """Whether anything answers HTTP at ``url`` (any status counts; no redirect is followed).
    Proxy settings in the environment apply, as they do to a learner's other tools."""
    try:
        requests.get(url, timeout=timeout, allow_redirects=False).close()
    except requests.RequestException:
        return False
    return True


def _speaks_tls(host: str, timeout: float) -> bool:
    """Does ``host`` (``address[:port]``) complete a TLS handshake? Docker's HTTPS try of an
    insecure registry, unverified. One context for the process: a probe loads no CA bundle
    (that costs ~20 ms of CPU each time, and every push and pull probes). OSError: nothing answers."""
    global _probe_context
    if _probe_context is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        _probe_context = context
    address, port = host, 443
    if host.rpartition(":")[2].isdigit() and not host.endswith("]"):
        address, _, number = host.rpartition(":")
        port = int(number)
    address = address.strip("[]")
    with socket.create_connection((address, port), timeout=timeout) as sock:
        try:
            with _probe_context.wrap_socket(sock, server_hostname=address):
                return True
        except ssl.SSLError:
            return False


# ----------------------------------------------------------------------------- the client


class RegistryClient:
    """Talks to one registry host; every failure becomes a one-sentence :class:`ReglabError`.

    ``tls``: True (HTTPS, verified), False (plain HTTP, allowed only where Docker allows it), or
    None (Docker's choice: insecure hosts try HTTPS unverified then HTTP, others HTTPS verified).
    ``auth``: a (user, password), False for none, or None: what ``docker login`` stored for the
    host in ``docker_config`` (read at each request, as the docker CLI reads it at each command).
    ``trust``: the folders where ``<host:port>/ca.crt`` is looked up, as Docker's ``certs.d``.
    """

    def __init__(self, host: str, *, tls: bool | None = None, ca: str | os.PathLike | None = None,
                 auth: tuple[str, str] | None | bool = None, insecure: Iterable[str] = DEFAULT_INSECURE,
                 timeout: float = 10.0, session: requests.Session | None = None, upstream: str | None = None,
                 trust: Iterable[str | os.PathLike] = (CERTS_D,),
                 docker_config: str | os.PathLike | Callable[[], os.PathLike | None] | None = None):
        if "://" in host:  # a URL: its scheme says plain or TLS
            parsed = urlparse(host)
            host, tls = parsed.netloc, parsed.scheme == "https" if tls is None else tls
        self.host = host
        self.upstream = upstream  # a pull-through cache of that URL: its refusals are explained as such
        self.insecure = tuple(insecure)
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.trust_env = False  # never route 127.0.0.1 through a proxy, never read ~/.netrc
        self.session.headers["User-Agent"] = "reglab"
        self._allowed_plain = plain_http_allowed(host, self.insecure)
        self.trust = tuple(Path(t) for t in trust)
        self._ca = self._find_ca(ca)
        self.tls = tls
        self.scheme: str | None = None if tls is None else ("https" if tls else "http")
        self._auth = auth
        self._docker_config = docker_config  # a folder, or a function giving the folder now

    @property
    def docker_config(self) -> Path | None:
        folder = self._docker_config() if callable(self._docker_config) else self._docker_config
        return Path(folder) if folder else None

    @property
    def credentials(self) -> tuple[str, str] | None:
        """What goes with each request: the given user, else the stored login, else nothing."""
        if self._auth is False:
            return None
        return self._auth or stored_credentials(self.docker_config, self.host)

    @property
    def user(self) -> str | None:
        """Who this client speaks as (None: anonymous); never the password."""
        credentials = self.credentials
        return credentials[0] if credentials else None

    def _find_ca(self, ca) -> str | None:
        if ca:
            return str(ca)
        for folder in self.trust:
            candidate = folder / self.host / "ca.crt"
            if candidate.is_file():
                return str(candidate)
        return None

    @property
    def ca_file(self) -> str | None:
        """The CA bundle this client verifies TLS against (None: the system's trust)."""
        return self._ca

    @property
    def base_url(self) -> str:
        return f"{self.scheme or self._resolve_scheme()}://{self.host}"

    def url(self, path: str) -> str:
        return path if path.startswith("http") else urljoin(self.base_url + "/", path.lstrip("/"))

    # ------------------------------------------------------------------ transport

    def _verify(self, scheme: str):
        if scheme != "https":
            return True
        if self._allowed_plain and self.tls is None:
            return False  # Docker: an insecure registry's certificate is not checked
        return self._ca or True

    def _resolve_scheme(self) -> str:
        """Docker's endpoint order: an insecure host over HTTPS unverified, else plain HTTP."""
        if self.scheme:
            return self.scheme
        if not self._allowed_plain:
            self.scheme = "https"
            return self.scheme
        try:
            self.scheme = "https" if _speaks_tls(self.host, self.timeout) else "http"
        except OSError:
            return "http"  # nothing answers yet: do not remember a guess
        return self.scheme

    def request(self, method: str, path: str, ok: tuple[int, ...] = (200,), what: str = "",
                **kwargs) -> requests.Response:
        """Send one request; answers outside ``ok`` and every transport failure raise one sentence."""
        scheme = self.scheme or self._resolve_scheme()
        if scheme == "http" and not self._allowed_plain:
            raise errors.plain_http_refused(self.host)
        url = path if path.startswith("http") else f"{scheme}://{self.host}{path}"
        credentials = self.credentials
        kwargs.setdefault("auth", credentials)
        try:
            with urllib3.warnings.catch_warnings():
                urllib3.warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                response = self.session.request(method, url, timeout=self.timeout, verify=self._verify(scheme),
                                                **kwargs)
        except requests.exceptions.SSLError as exc:
            raise self._tls_error(str(exc)) from None
        except requests.Timeout:
            raise errors.too_slow(self.host, self.timeout) from None
        except requests.ConnectionError as exc:
            if "BadStatusLine" in str(exc) or "RemoteDisconnected" in str(exc):
                raise errors.plain_http_refused(self.host) from None
            raise errors.unreachable(self.host) from None
        if response.status_code == 401 and credentials and 401 not in ok:
            if not response.headers.get("WWW-Authenticate", "").lower().startswith("bearer"):
                raise errors.login_refused(self.host)
        if response.status_code not in ok:
            body = response.content if not kwargs.get("stream") else response.raw.read(64 * 1024)
            raise error_for(self.host, method, urlparse(url).path, response.status_code, body, what,
                            response.headers, self.upstream)
        return response

    def _tls_error(self, text: str) -> ReglabError:
        """The sentence for a failed TLS handshake, in the words of Docker's Go client."""
        low = text.lower()
        if "wrong version number" in low or "record layer failure" in low or "http request" in low \
                or "packet length too long" in low:
            return errors.plain_http_refused(self.host)
        cert = self._peer_certificate()
        if cert is not None:
            from .certs import go_hostname_error

            problem = go_hostname_error(cert, self.hostname)
            if problem and "legacy Common Name" in problem:
                return errors.legacy_common_name(self.host)
            if problem:
                return errors.certificate_mismatch(self.host, problem)
        elif "mismatch" in low or "doesn't match" in low or "not valid for" in low:
            detail = text.split("certificate verify failed:", 1)[-1].split("(_ssl", 1)[0].strip(" ()'\".")
            return errors.certificate_mismatch(self.host, detail or "hostname mismatch")
        return errors.untrusted_certificate(self.host)

    @property
    def hostname(self) -> str:
        """The host without its port (and without an IPv6 address's brackets)."""
        name = self.host.rsplit(":", 1)[0] if not self.host.endswith("]") and self.host.count(":") else self.host
        return name.strip("[]")

    def _peer_certificate(self):
        """The certificate the server presents, read without verifying it (None if unreadable)."""
        port = self.host.rsplit(":", 1)[1] if not self.host.endswith("]") and ":" in self.host else "443"
        try:
            pem = ssl.get_server_certificate((self.hostname, int(port)), timeout=self.timeout)
            from cryptography import x509

            return x509.load_pem_x509_certificate(pem.encode())
        except (OSError, ValueError, ImportError):
            return None

    def curl(self, path: str, method: str = "GET", accept: str | Iterable[str] | None = None,
             head: bool = False, include: bool = False) -> str:
        """The ``curl`` command doing the same request (a step's twin); ``include``: with the
        headers; several ``accept`` types give one ``-H`` each (the registry reads every ``Accept``
        header it gets)."""
        parts = ["curl"]
        if head:
            parts.append("-I")
        elif include:
            parts.append("-i")
        if not head and method != "GET":
            parts += ["-X", method]
        if self.scheme == "https" and self._ca:
            parts += ["--cacert", self._ca]
        if self.user:
            parts += ["-u", f"{self.user}:$PASSWORD"]
        for media_type in ([accept] if isinstance(accept, str) else list(accept or ())):
            parts += ["-H", f"'Accept: {media_type}'"]
        url = self.url(path)
        parts.append(f"'{url}'" if "?" in url or "&" in url else url)
        return " ".join(parts)

    # ------------------------------------------------------------------ is it there?

    def status(self) -> int | None:
        """The status of ``GET /v2/``, or None when nothing answers (never raises)."""
        try:
            return self.request("GET", "/v2/", ok=tuple(range(100, 600))).status_code
        except ReglabError:
            return None

    def ping(self) -> bool:
        """True when ``GET /v2/`` answers 200: the registry is up, speaks API v2, and lets us in."""
        return self.status() == 200

    def wait_ready(self, timeout: float = 30.0, problem: Callable[[], str | None] | None = None) -> float:
        """Poll ``/v2/`` until it answers (200, or 401 from a registry that wants credentials, or a
        TLS handshake whose certificate does not verify: it answers, and the next step shows what is
        wrong with its certificate); return the seconds waited. ``problem`` is asked between polls:
        an answer stops early."""
        start = time.monotonic()
        delay = 0.01
        while True:
            try:
                code = self.request("GET", "/v2/", ok=tuple(range(100, 600))).status_code
            except errors.UntrustedCertificate:
                return time.monotonic() - start
            except ReglabError:
                code = None
            if code in (200, 401):
                return time.monotonic() - start
            trouble = problem() if problem else None
            if trouble:
                raise errors.registry_did_not_start(self.host, trouble)
            if time.monotonic() - start > timeout:
                raise errors.registry_silent(self.host, timeout)
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    # ------------------------------------------------------------------ names

    def catalog_page(self, n: int | None = None, last: str | None = None) -> CatalogPage:
        """One page of the catalog: at most ``n`` names, those sorting after ``last``."""
        params = {k: v for k, v in (("n", n), ("last", last)) if v is not None}
        path = "/v2/_catalog" + (f"?{urlencode(params)}" if params else "")
        response = self.request("GET", path, what="catalog")
        link = response.links.get("next", {}).get("url")
        if link and not link.startswith("http"):
            link = self.url(link)
        return CatalogPage(self.url(path), response.json().get("repositories") or [], link,
                           response.headers.get("Link"))

    def catalog_pages(self, n: int | None = None) -> Iterator[CatalogPage]:
        """The catalog page by page, following the ``Link`` header (``?n=&last=``)."""
        page = self.catalog_page(n)
        yield page
        while page.next:
            query = parse_qs(urlparse(page.next).query)
            page = self.catalog_page(int(query["n"][0]) if "n" in query else n, (query.get("last") or [None])[0])
            yield page

    def catalog(self, n: int | None = None) -> list[str]:
        """Every repository, following ``Link`` pagination when ``n`` limits a page."""
        return [name for page in self.catalog_pages(n) for name in page.repositories]

    def tags(self, repository: str, n: int | None = None) -> list[str]:
        """Every tag of a repository (sorted), following ``Link`` pagination."""
        path: str | None = f"/v2/{repository}/tags/list" + (f"?n={n}" if n else "")
        found: list[str] = []
        while path:
            response = self.request("GET", path, what=repository)
            found += response.json().get("tags") or []
            path = response.links.get("next", {}).get("url")
        return sorted(found)

    # ------------------------------------------------------------------ manifests

    def manifest(self, repository: str, reference: str, accept: str | Iterable[str] = ACCEPT_ALL) -> Manifest:
        """``GET`` a manifest by tag or digest, accepting every modern media type by default."""
        accept = accept if isinstance(accept, str) else ", ".join(accept)
        response = self.request("GET", f"/v2/{repository}/manifests/{reference}", what=_ref(repository, reference),
                                headers={"Accept": accept})
        try:
            body = response.json()
        except ValueError:
            raise errors.manifest_not_json(_ref(repository, reference), self.host) from None
        return Manifest(response.headers.get("Docker-Content-Digest", ""), response.headers.get("Content-Type", ""),
                        len(response.content), body, response.content)

    def manifest_head(self, repository: str, reference: str, accept: str | Iterable[str] = ACCEPT_ALL) -> Head:
        """``HEAD`` a manifest: its digest, type and size without its body (what ``docker pull`` asks first)."""
        accept = accept if isinstance(accept, str) else ", ".join(accept)
        response = self.request("HEAD", f"/v2/{repository}/manifests/{reference}", what=_ref(repository, reference),
                                headers={"Accept": accept})
        return _head(response)

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        """``PUT`` a manifest under a tag (or its digest); return the digest the registry stored it as."""
        response = self.request("PUT", f"/v2/{repository}/manifests/{reference}", ok=(201,),
                                what=_ref(repository, reference), data=body, headers={"Content-Type": media_type})
        digest = digest_of(body)
        answered = response.headers.get("Docker-Content-Digest")
        if answered and answered != digest:
            raise errors.manifest_altered(self.host, answered, digest)
        return digest

    def delete_manifest(self, repository: str, digest: str) -> None:
        """``DELETE`` a manifest (by digest: the API does not delete tags). Needs deletes enabled."""
        if not digest.startswith("sha256:"):
            raise errors.delete_by_digest(digest)
        self.request("DELETE", f"/v2/{repository}/manifests/{digest}", ok=(202,), what=f"{repository}@{digest}")

    # ------------------------------------------------------------------ blobs

    def blob_head(self, repository: str, digest: str) -> Head:
        """``HEAD`` a blob: is it there, and how big is it."""
        response = self.request("HEAD", f"/v2/{repository}/blobs/{digest}", what=f"{digest} in {repository}")
        return _head(response)

    def has_blob(self, repository: str, digest: str) -> bool:
        return self.request("HEAD", f"/v2/{repository}/blobs/{digest}", ok=(200, 404)).status_code == 200

    def blob(self, repository: str, digest: str, verify: bool = True) -> bytes:
        """``GET`` a blob's bytes; with ``verify``, check they hash to ``digest``."""
        data = self.request("GET", f"/v2/{repository}/blobs/{digest}", what=f"{digest} in {repository}").content
        if verify and digest_of(data) != digest:
            raise errors.blob_damaged_in_transit(self.host, digest)
        return data

    def blob_chunks(self, repository: str, digest: str, what: str | None = None) -> Iterator[bytes]:
        """A blob's bytes as they arrive (the caller verifies them). A body that stops before its length (a
        registry whose cache promises a blob its storage lost) is one sentence, naming ``what`` (else the blob)."""
        response = self.request("GET", f"/v2/{repository}/blobs/{digest}", what=f"{digest} in {repository}",
                                stream=True)
        with response:
            try:
                yield from response.iter_content(READ_SIZE)
            except (requests.RequestException, urllib3.exceptions.HTTPError):
                raise errors.blob_cut_short(self.host, what or digest) from None

    def blob_digest(self, repository: str, digest: str) -> str | None:
        """``GET`` a blob and hash every byte as it arrives: the digest of what the registry really
        sends (same algorithm as ``digest``), or None when it sends no whole answer."""
        algorithm = digest.partition(":")[0]
        hasher = hashlib.new(algorithm) if algorithm in hashlib.algorithms_available else None
        if hasher is None:
            return None
        try:
            for chunk in self.blob_chunks(repository, digest):
                hasher.update(chunk)
        except ReglabError:
            return None
        return f"{algorithm}:{hasher.hexdigest()}"

    def start_upload(self, repository: str, mount: str | None = None, source: str | None = None) -> str | None:
        """``POST …/blobs/uploads/``; with ``mount``+``source`` ask the registry to link a blob it has
        in ``source`` instead. Returns the upload's location, or None when the blob was mounted."""
        params = {"mount": mount, "from": source} if mount and source else None
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/", ok=(201, 202), what=repository,
                                params=params)
        return None if response.status_code == 201 else response.headers["Location"]

    def upload(self, location: str, digest: str, reader_at: Callable[[int, int], object], size: int,
               chunk_size: int | None = None) -> None:
        """Send a blob to an upload ``location``: one ``PUT …?digest=`` (monolithic) or ``PATCH``
        chunks with ``Content-Range`` and a closing empty ``PUT`` (chunked).

        ``reader_at(offset, length)`` gives a file-like body for that slice of the blob.
        """
        split_digest(digest)
        octets = {"Content-Type": "application/octet-stream"}
        if chunk_size and size > 0:
            offset = 0
            while offset < size:
                length = min(chunk_size, size - offset)
                headers = dict(octets, **{"Content-Range": f"{offset}-{offset + length - 1}"})
                answer = self.request("PATCH", self.url(location), ok=(202,), headers=headers,
                                      data=reader_at(offset, length))
                location = answer.headers["Location"]
                offset += length
            done = self.request("PUT", self.url(location), ok=(201,), params={"digest": digest}, headers=octets,
                                data=b"")
        else:
            done = self.request("PUT", self.url(location), ok=(201,), params={"digest": digest}, headers=octets,
                                data=reader_at(0, size) if size else b"")
        answered = done.headers.get("Docker-Content-Digest")
        if answered and answered != digest:
            raise errors.upload_damaged(digest, answered)


def _ref(repository: str, reference: str) -> str:
    return f"{repository}@{reference}" if reference.startswith("sha256:") else f"{repository}:{reference}"


def _head(response: requests.Response) -> Head:
    return Head(response.headers.get("Docker-Content-Digest", ""), response.headers.get("Content-Type", ""),
                int(response.headers.get("Content-Length") or 0))
