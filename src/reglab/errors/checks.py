"""Words of the checks (:mod:`reglab.checks`): what is wrong, first, without handing over the answer."""

from __future__ import annotations

from . import fragment

__all__ = ["nothing_answers"]


@fragment
def nothing_answers(address: str) -> str:
    """A check's detail, after its ✘ and what it checked."""
    return f"nothing answers at {address}: no registry runs there"
