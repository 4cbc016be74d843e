"""Sentences about a registry's storage: growth, deleting, garbage collection."""

from __future__ import annotations

from . import ReglabError

__all__ = ["gc_failed"]


def gc_failed(code: int, last: str) -> ReglabError:
    return ReglabError(f"garbage-collect failed (exit {code}): {last}")
