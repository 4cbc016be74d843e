"""Sentences of the lab sheets (:mod:`reglab.exercises`)."""

from __future__ import annotations

__all__ = ["sheet_has_no_name", "sheet_needs"]


def sheet_needs(lab: str, engine: str, why: str) -> str:
    return (f"lab {lab} needs a Docker engine ({why}), and {engine} cannot: start Docker, or pick another lab "
            "(labs/README.md says which run without Docker).")


def sheet_has_no_name(lab: str, key: str, names: list[str]) -> str:
    return f"lab {lab} has no name {key!r}: it has {', '.join(names) or 'none'}"
