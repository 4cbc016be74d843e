"""Sentences about crane, the registry client the set-up builds (go-containerregistry)."""

from __future__ import annotations

from . import CraneFailed, ReglabError, fragment

__all__ = ["crane_failed", "crane_missing", "no_archive_for"]


@fragment
def crane_missing(hint: str) -> str:
    """A note (not raised): the steps that show crane say it once and go on without it."""
    return f"crane is not built here, so this step shows nothing: {hint} (or take a release from " \
           "https://github.com/google/go-containerregistry/releases)"


def crane_failed(verb: str, last: str) -> CraneFailed:
    return CraneFailed(f"crane {verb} failed ({last}): check that the registry answers and the name is right "
                       "(lab.catalog(), lab.tags()).")


def no_archive_for(reference: str) -> ReglabError:
    return ReglabError(f"the lab loaded no archive as {reference}: make it with lab.make_image() first, "
                       "then crane can push the same archive.")
