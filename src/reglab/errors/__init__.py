"""Errors a learner can act on: one sentence, what went wrong and what to do — and every such
sentence reglab says, in one package (one module per topic; this module re-exports them all).

Every error reglab raises is a :class:`ReglabError`. In a notebook it renders as that one
sentence instead of a long traceback (IPython asks an exception for ``_render_traceback_``
before formatting one itself).

The sentences about a registry live here, as functions, so the same failure reads the same
whichever engine (Docker's daemon or reglab's own HTTP client) or step met it:
:func:`reglab.registry_api.error_for` maps an HTTP answer to them, the Docker engine maps the
daemon's words to them.
"""

from __future__ import annotations


class ReglabError(Exception):
    """Base class: the message is the whole story, so no traceback is shown."""

    def _render_traceback_(self):
        return [f"{type(self).__name__}: {self}"]


def fragment(words):
    """Mark a function whose words are not a whole sentence of reglab's: a part that another
    sentence or a note completes, a check's detail, or another program's own words (Docker's,
    the docker CLI's) copied as that program says them. tests/test_errors.py asks every other
    function here for one sentence ending in a full stop."""
    words.fragment = True
    return words


class DockerUnavailable(ReglabError):
    """No Docker daemon answers."""


class EngineUnavailable(ReglabError):
    """Neither engine can run here."""


class PortInUse(ReglabError):
    """The port the learner asked for is taken and no other will do."""

    holder = "another program"  # who holds it, as a noun phrase ("learner bob's registry")


def port_taken(port: int, host: str, holder: str = "another program") -> PortInUse:
    error = PortInUse(f"port {port} on {host} is taken by {holder}: stop it, or leave the port out and reglab "
                      "will choose a free one.")
    error.holder = holder
    return error


class ImageMissing(ReglabError):
    """An image the step needs is not in the local store."""


class BadReference(ReglabError):
    """A string that is not a valid image reference, digest, lab or learner name."""


class ImageInUse(ReglabError):
    """An image cannot be removed because a container still uses it."""


class NameConflict(ReglabError):
    """A name reglab wants is held by an object reglab did not create."""


class EngineError(ReglabError):
    """Any other failure reported by the engine, restated in one sentence."""


class SharedEngine(ReglabError):
    """Another learner uses an engine whose images every learner shares."""


class ProgramMissing(EngineError):
    """A container was asked to run a program its image does not have."""


def program_missing(image: str, program: str) -> ProgramMissing:
    if program == "htpasswd":
        fix = ("the registry images have shipped the registry alone since their rebuild of June 2020 "
               "(distribution-library-image #107), so write the file on your machine "
               "instead: htpasswd -B from apache2-utils, or Python's bcrypt")
    else:
        fix = "run it from an image that has it, or on your machine"
    return ProgramMissing(f'{image} has no {program} program (exec: "{program}": executable file not found in '
                          f"$PATH): {fix}.")


# --------------------------------------------------------------------------- registry errors


class RegistryUnavailable(ReglabError):
    """Nothing (or nothing we may talk to) answers at the registry's address."""


class PlainHTTPRefused(RegistryUnavailable):
    """Plain HTTP to a host that must speak HTTPS (Docker's "secure by default")."""


class UntrustedCertificate(RegistryUnavailable):
    """The registry's TLS certificate does not verify."""


class AuthRequired(ReglabError):
    """The registry wants credentials (401), or refused the ones given."""


class ManifestUnknown(ReglabError):
    """The registry has no such repository, tag or manifest."""


class BlobUnknown(ReglabError):
    """The registry has no such blob in that repository."""


class DeleteDisabled(ReglabError):
    """The registry refuses deletes (405)."""


class PushRefused(RegistryUnavailable):
    """The registry refuses to store anything (405): read-only, or a pull-through cache."""


class NotCached(ManifestUnknown):
    """A pull-through cache has not kept an image, and its upstream did not give it."""


class RegistryError(ReglabError):
    """Any other answer the registry gives that is not a success."""


class CraneFailed(ReglabError):
    """crane ran and exited with an error."""


class UploadLost(RegistryError):
    """A blob upload a registry started is not accepted by the one that got its next request."""


def unreachable(host: str) -> RegistryUnavailable:
    return RegistryUnavailable(
        f"nothing answers at {host}: is the registry running? Start it with lab.run_registry() "
        f"and check `docker container ls`."
    )


def too_slow(host: str, seconds: float) -> RegistryUnavailable:
    return RegistryUnavailable(f"{host} did not answer within {seconds:g} s: is it overloaded or stopped?")


def manifest_unknown(host: str, repository: str, reference: str = "latest") -> ManifestUnknown:
    """The registry at ``host`` has no manifest ``repository:reference`` (a tag or a digest)."""
    sep = "@" if reference.startswith("sha256:") else ":"
    return ManifestUnknown(
        f"the registry at {host} has no {repository}{sep}{reference}: push it there first "
        f"(docker push {host}/{repository}{sep}{reference}) or check the name in lab.catalog()."
    )


def repository_unknown(host: str, repository: str) -> ManifestUnknown:
    return ManifestUnknown(f"{host} has no repository {repository}: push an image there first "
                           "(lab.catalog() lists the repositories).")


def no_such(host: str, what: str) -> ManifestUnknown:
    return ManifestUnknown(f"{host} has no {what}: push it there first, or check the name with "
                           "lab.catalog() and lab.tags().")


def blob_unknown(host: str, digest: str, repository: str) -> BlobUnknown:
    return BlobUnknown(f"{host} has no blob {digest} in {repository}: check the digest in the manifest, "
                       "or push the image again.")


def plain_http_refused(host: str) -> PlainHTTPRefused:
    return PlainHTTPRefused(
        f"{host} speaks plain HTTP, but Docker speaks plain HTTP only to 127.0.0.0/8 and registries listed "
        "as insecure (http: server gave HTTP response to HTTPS client): secure the registry with TLS, or use "
        "it at 127.0.0.1:<port>."
    )


def untrusted_certificate(host: str) -> UntrustedCertificate:
    return UntrustedCertificate(
        f"{host}'s TLS certificate is not trusted here (x509: certificate signed by unknown authority): put "
        f"the CA certificate that signed it in /etc/docker/certs.d/{host}/ca.crt and try again (no restart needed)."
    )


def certificate_mismatch(host: str, detail: str) -> UntrustedCertificate:
    """``detail`` is Go's sentence (``x509: certificate is valid for …, not …``)."""
    return UntrustedCertificate(
        f"{host}'s TLS certificate does not name that address ({detail}): issue a certificate whose "
        "subject alternative names include the host or IP you use."
    )


def legacy_common_name(host: str) -> UntrustedCertificate:
    return UntrustedCertificate(
        f"{host}'s TLS certificate names its host only in the Common Name (x509: certificate relies on legacy "
        "Common Name field, use SANs instead): issue it again with subject alternative names (DNS: and IP:)."
    )


def login_needed(host: str) -> AuthRequired:
    return AuthRequired(f"{host} asks for a login (no basic auth credentials): run `docker login {host}` "
                        "with a user of its htpasswd file first.")


def login_refused(host: str) -> AuthRequired:
    return AuthRequired(f"{host} refused that user name and password (401 Unauthorized): check them, or "
                        "ask whoever runs the registry to add the user to its htpasswd file.")


def token_auth(host: str, realm: str) -> AuthRequired:
    return AuthRequired(f"{host} wants a token from {realm} (Bearer authentication): reglab's client speaks "
                        "basic auth only, so use `docker login` with the Docker engine for this registry.")


def delete_disabled(host: str, what: str) -> DeleteDisabled:
    return DeleteDisabled(f"{host} refuses to delete {what} (405): its configuration has deletes off (the registry "
                          "binary's default and registry:2's; registry:3's image turns them on); start it with "
                          "REGISTRY_STORAGE_DELETE_ENABLED=true to allow them.")


def read_only_refused(host: str) -> PushRefused:
    return PushRefused(
        f"the registry at {host} refused to store anything (405): it is in read-only maintenance mode "
        "or does not allow this; push again once it is writable."
    )


def proxy_refuses(host: str, upstream: str | None = None) -> PushRefused:
    """A push (or a delete) to a pull-through cache: 405 ``UNSUPPORTED``."""
    of = f"of {upstream}" if upstream else "(proxy.remoteurl is set)"
    return PushRefused(
        f"the registry at {host} is a pull-through cache {of} and refuses to store anything (405 UNSUPPORTED): "
        "push to the upstream registry instead, and pull through the cache."
    )


def not_cached(host: str, what: str, upstream: str) -> NotCached:
    """A pull-through cache answered 404 for something it has not kept."""
    return NotCached(
        f"the pull-through cache at {host} has not kept {what} and its upstream {upstream} did not give it: "
        f"start the upstream again, or check that it has {what} (a cache serves only what it kept while its "
        "upstream answered)."
    )


def missing_image(reference: str) -> ImageMissing:
    return ImageMissing(
        f"there is no image {reference} in the local store: pull it or tag it first "
        f"(lab.images() lists what is there)."
    )


class UsageError(ReglabError):
    """A step, a check or the daemonless ``docker`` command was asked something it cannot do."""


class StorageError(ReglabError):
    """The storage tree cannot be read."""


class BlobCorrupt(ReglabError):
    """A blob's bytes no longer hash to the digest that names it."""


from .cli import *  # noqa: E402,F401,F403  (the daemonless docker command's sentences)
from .engines import *  # noqa: E402,F401,F403  (engines and their objects)
from .limits import *  # noqa: E402,F401,F403  (what an engine cannot do)
from .images import *  # noqa: E402,F401,F403  (images on this machine)
from .storage import *  # noqa: E402,F401,F403  (storage, growth, garbage collection)
from .checks import *  # noqa: E402,F401,F403  (what the checks say)
from .sheets import *  # noqa: E402,F401,F403  (the lab sheets)
from .secure import *  # noqa: E402,F401,F403  (TLS and logins: notebook 05, lab 11)
from .mirror import *  # noqa: E402,F401,F403  (pull-through caches: notebook 06, lab 12)
from .scale import *  # noqa: E402,F401,F403  (object storage, replicas, a shared cache: notebook 07)
from .crane import *  # noqa: E402,F401,F403  (crane, the registry client the set-up builds)


def blob_cut_short(host: str, what: str) -> RegistryError:
    """A blob's body stopped before its length: the registry promised bytes its storage lost."""
    return RegistryError(f"{host} started sending {what} and stopped half-way (unexpected EOF): its storage no longer "
                         "has bytes its cache still promises; restart the registry and push the image again.")


from .registry import *  # noqa: E402,F401,F403  (the registry client beyond its HTTP answers)
from .mirror import *  # noqa: E402,F401,F403  (the pull-through cache)
from .names import *  # noqa: E402,F401,F403  (image references, digests, lab and learner names)
from .secure import *  # noqa: E402,F401,F403  (TLS, certificates, users, logins)
from .daemon import *  # noqa: E402,F401,F403  (daemon.json and its reload)
from .machine import *  # noqa: E402,F401,F403  (this machine's ports and shell)
from .internal import *  # noqa: E402,F401,F403  (words no learner should meet)
from .versions import *  # noqa: E402,F401,F403  (registry:2 beside registry:3)
