"""Registry Lab: learn to run your own Docker registry, one live step at a time."""

from . import errors
from .errors import ReglabError

__all__ = ["Lab", "Registry", "ReglabError", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``Lab`` and ``Registry`` are imported on first use: ``python -m reglab docker …`` (one
    process per docker command in a lab without Docker) does not pay for the whole course."""
    if name == "Lab":
        from .lab import Lab

        return Lab
    if name == "Registry":
        from .registry import Registry

        return Registry
    raise AttributeError(errors.no_attribute(name))
