"""Names and labels of everything reglab creates.

Every object is named ``reglab-<lab>-<role>`` and labelled ``reglab.lab=<lab>``, so a
lab can find (and remove) exactly its own objects and never anybody else's.
"""

import re

from .errors import BadReference

LAB_LABEL = "reglab.lab"
STANDIN_LABEL = "reglab.standin"
PREFIX = "reglab"

_LAB_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_ROLE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


def check_lab_id(lab: str) -> str:
    """Return ``lab`` if it can be part of container and volume names, else raise."""
    if not isinstance(lab, str) or not _LAB_ID.match(lab):
        raise BadReference(
            f"{lab!r} cannot name a lab: use 1-40 lowercase letters, digits, '-', '_' or '.', "
            "starting with a letter or digit (for example Lab('01'))."
        )
    return lab


def object_name(lab: str, role: str) -> str:
    """``reglab-<lab>-<role>``: the name of a container, volume or network."""
    check_lab_id(lab)
    if not _ROLE.match(role):
        raise BadReference(
            f"{role!r} cannot be part of a name: use lowercase letters, digits, '-', '_' or '.'."
        )
    return f"{PREFIX}-{lab}-{role}"


def labels(lab: str) -> dict[str, str]:
    """The labels every object of ``lab`` carries."""
    return {LAB_LABEL: check_lab_id(lab)}


def label_filter(lab: str | None = None) -> dict[str, list[str]]:
    """A Docker API filter selecting the objects of ``lab`` (or of every lab)."""
    return {"label": [LAB_LABEL if lab is None else f"{LAB_LABEL}={lab}"]}
