"""Names and labels of everything reglab creates, scoped to one learner.

Every object is named ``reglab-<lab>-<role>`` and labelled ``reglab.lab=<lab>``. With a
learner (``Settings.learner``: ``REGLAB_LEARNER``, else ``JUPYTERHUB_USER``) it is ``reglab-<learner>-<lab>-<role>``
and also labelled ``reglab.learner=<learner>``: a :class:`Scope` finds (and removes) exactly
its own objects — never another learner's, never anybody else's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import errors

LAB_LABEL = "reglab.lab"
LEARNER_LABEL = "reglab.learner"
STANDIN_LABEL = "reglab.standin"
PREFIX = "reglab"
ANY = "*"  # a scope over every learner (``python -m reglab clean --all-learners``)

_LAB_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_LEARNER = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_ROLE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


def check_lab_id(lab: str) -> str:
    """Return ``lab`` if it can be part of container and volume names, else raise."""
    if not isinstance(lab, str) or not _LAB_ID.match(lab):
        raise errors.bad_lab_id(lab)
    return lab


def check_learner(name: str, source: str = "REGLAB_LEARNER") -> str:
    if not isinstance(name, str) or not _LEARNER.match(name):
        raise errors.bad_learner(name, source)
    return name


@dataclass(frozen=True)
class Scope:
    """One learner's lab (``lab=None``: all labs of that learner; ``learner=ANY``: everyone's)."""

    lab: str | None
    learner: str | None = None

    def __post_init__(self):
        if self.lab is not None:
            check_lab_id(self.lab)
        if self.learner not in (None, ANY):
            check_learner(self.learner)

    @property
    def prefix(self) -> str:
        parts = [PREFIX] + ([self.learner] if self.learner not in (None, ANY) else []) + [self.lab]
        return "-".join(parts)

    def object_name(self, role: str) -> str:
        """``reglab-[<learner>-]<lab>-<role>``: the name of a container, volume or network."""
        if self.lab is None:
            raise errors.object_needs_lab()
        if not _ROLE.match(role):
            raise errors.bad_role(role)
        return f"{self.prefix}-{role}"

    def labels(self) -> dict[str, str]:
        """The labels every object of this scope carries."""
        labels = {LAB_LABEL: self.lab}
        if self.learner not in (None, ANY):
            labels[LEARNER_LABEL] = self.learner
        return labels

    def docker_filter(self) -> dict[str, list[str]]:
        """A Docker API filter narrowing to this scope (:meth:`owns` decides exactly)."""
        wanted = [LAB_LABEL if self.lab is None else f"{LAB_LABEL}={self.lab}"]
        if self.learner not in (None, ANY):
            wanted.append(f"{LEARNER_LABEL}={self.learner}")
        return {"label": wanted}

    def owns(self, labels: dict[str, str] | None) -> bool:
        """Is an object with these labels this scope's? (No learner: only objects without one.)"""
        labels = labels or {}
        if LAB_LABEL not in labels or (self.lab is not None and labels[LAB_LABEL] != self.lab):
            return False
        return self.learner == ANY or labels.get(LEARNER_LABEL) == self.learner

    def describe(self) -> str:
        who = "" if self.learner in (None, ANY) else f" of learner {self.learner}"
        return f"lab {self.lab}{who}" if self.lab else f"every lab{who}"
