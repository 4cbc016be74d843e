"""Registry Lab: learn to run your own Docker registry, one live step at a time."""

from .errors import ReglabError
from .lab import Lab
from .registry import Registry

__all__ = ["Lab", "Registry", "ReglabError", "__version__"]
__version__ = "0.1.0"
