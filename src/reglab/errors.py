"""Errors a learner can act on: one sentence, what went wrong and what to do.

Every error reglab raises is a :class:`ReglabError`. In a notebook it renders as
that one sentence instead of a long docker-py traceback (IPython asks an
exception for ``_render_traceback_`` before formatting one itself).
"""


class ReglabError(Exception):
    """Base class: the message is the whole story, so no traceback is shown."""

    def _render_traceback_(self):
        return [f"{type(self).__name__}: {self}"]


class DockerUnavailable(ReglabError):
    """No Docker daemon answers."""


class EngineUnavailable(ReglabError):
    """Neither engine can run here."""


class PortInUse(ReglabError):
    """The port the learner asked for is taken and no other will do."""


class ImageMissing(ReglabError):
    """An image the step needs is not in the local store."""


class BadReference(ReglabError):
    """A string that is not a valid image reference or lab name."""


class RegistryUnavailable(ReglabError):
    """Nothing (or nothing healthy) answers at the registry's address."""


class ManifestUnknown(ReglabError):
    """The registry has no such repository or tag."""


class ImageInUse(ReglabError):
    """An image cannot be removed because a container still uses it."""


class NameConflict(ReglabError):
    """A name reglab wants is held by an object reglab did not create."""


class EngineError(ReglabError):
    """Any other failure reported by the engine, restated in one sentence."""


# --------------------------------------------------------------------------- registry sentences
# The same words whichever engine met the problem (Docker's daemon or reglab's own HTTP client).


def unreachable(host: str) -> RegistryUnavailable:
    return RegistryUnavailable(
        f"nothing answers at {host}: is the registry running? Start it with lab.run_registry() "
        f"and check `docker container ls`."
    )


def manifest_unknown(ref) -> ManifestUnknown:
    """``ref``: a :class:`reglab.reference.Reference`."""
    return ManifestUnknown(
        f"the registry at {ref.registry} has no {ref.repository}:{ref.tag_or_default}: push it there first "
        f"(docker push {ref.familiar_repository}:{ref.tag_or_default}) or check the name in lab.catalog()."
    )


def plain_http_refused(host: str) -> RegistryUnavailable:
    return RegistryUnavailable(
        f"{host} speaks plain HTTP but Docker only allows that for 127.0.0.0/8 and listed "
        "insecure registries: use 127.0.0.1:<port>, or secure the registry with TLS."
    )


def untrusted_certificate(host: str) -> RegistryUnavailable:
    return RegistryUnavailable(
        f"{host}'s TLS certificate is not trusted here: put its CA certificate in "
        f"/etc/docker/certs.d/{host}/ca.crt (where Docker looks too) and try again."
    )


def login_needed(host: str) -> RegistryUnavailable:
    return RegistryUnavailable(f"{host} asks for a login: run `docker login {host}` with the lab's user first.")


def missing_image(reference: str) -> ImageMissing:
    return ImageMissing(
        f"there is no image {reference} in the local store: pull it or tag it first "
        f"(lab.images() lists what is there)."
    )


def read_only_refused(host: str) -> RegistryUnavailable:
    return RegistryUnavailable(
        f"the registry at {host} refused to store anything (405): it is in read-only maintenance mode "
        "or does not allow this; push again once it is writable."
    )
