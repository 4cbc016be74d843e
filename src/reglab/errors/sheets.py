"""Sentences of the lab sheets (:mod:`reglab.exercises`)."""

from __future__ import annotations

__all__ = ["reset_done", "no_practice", "no_such_sheet", "sheet_has_no_name", "sheet_needs"]


def sheet_needs(lab: str, engine: str, why: str) -> str:
    return (f"lab {lab} needs a Docker engine ({why}), and {engine} cannot: start Docker, or pick another lab "
            "(labs/README.md says which run without Docker).")


def sheet_has_no_name(lab: str, key: str, names: list[str]) -> str:
    return f"lab {lab} has no name {key!r}: it has {', '.join(names) or 'none'}"


def no_such_sheet(lab_id: str, known: list[str]) -> str:
    return f"there is no lab {lab_id!r}: the labs are {', '.join(known)}."


def no_practice(notebook: str) -> str:
    return f"notebook {notebook} has no practice tasks: start(\"{notebook}\", lab) is for the notebooks that do."


def reset_done(what: str, anything: bool) -> str:
    return (f"{what} is reset: run it again from its first cell" if anything
            else f"{what} had nothing to reset: run it from its first cell")
