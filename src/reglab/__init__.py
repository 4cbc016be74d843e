"""Registry Lab: learn to run your own Docker registry, one live step at a time.

The public API — what notebooks and lab sheets import, and all they import (a test keeps it so):

=================  =========================================================================
``Lab``            one notebook's sandbox and the course's steps (``lab = Lab("01")``)
``Registry``       one running registry (what ``lab.run_registry()`` returns)
``checks``         checks of live state (``lab.check(checks.image_in_registry, registry, …)``)
``images``         images made in Python for storage experiments (synthetic layers, series)
``plots``          the figures (storage growth, composition, collection, bandwidth)
``start``          a lab sheet (``sheet = start("lab-07")``; also ``reglab.tasks.start``)
``Settings``       every setting, read from the environment once (``docs/settings.md``)
``ReglabError``    what every learner-facing error is: one sentence, what went wrong and what to do
=================  =========================================================================
"""

from . import errors
from .errors import ReglabError

__all__ = ["Lab", "Registry", "ReglabError", "Settings", "__version__", "checks", "images", "plots", "start"]
__version__ = "0.1.0"

_LAZY = {  # imported on first use: `python -m reglab docker …` (one process per docker command) stays small
    "Lab": ("lab", "Lab"),
    "Registry": ("registry", "Registry"),
    "Settings": ("config", "Settings"),
    "start": ("tasks", "start"),
    "checks": ("checks", None),
    "images": ("images", None),
    "plots": ("plots", None),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(errors.no_attribute(name))
    import importlib

    module, attribute = _LAZY[name]
    found = importlib.import_module(f".{module}", __name__)
    return getattr(found, attribute) if attribute else found


def __dir__():
    return sorted(__all__)
