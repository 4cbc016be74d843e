"""Words of the checks (:mod:`reglab.checks`): what is wrong, first, without handing over the answer."""

from __future__ import annotations

__all__ = ["nothing_answers"]


def nothing_answers(address: str) -> str:
    return f"nothing answers at {address}: no registry runs there"
