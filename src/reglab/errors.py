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
