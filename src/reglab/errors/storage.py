"""Sentences about a registry's storage: growth, deleting, garbage collection."""

from __future__ import annotations

from . import ReglabError

__all__ = ["gc_failed", "no_numbers"]


def gc_failed(code: int, last: str) -> ReglabError:
    return ReglabError(f"garbage-collect failed (exit {code}): {last}")


def no_numbers(kind: str) -> str:
    """``plots.numbers`` reads notebook 04's figures (growth, composition, collection) only."""
    return (f"reglab reads back the numbers of notebook 04's figures (growth, composition, collection), not of "
            f"a figure labelled {kind!r}: print the data you drew it from instead.")
