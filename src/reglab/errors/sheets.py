"""Sentences of the lab sheets (:mod:`reglab.exercises`)."""

from __future__ import annotations

from . import ReglabError, fragment

__all__ = ["reset_done", "no_practice", "sheet_has_no_name", "sheet_needs"]


def sheet_needs(lab: str, engine: str, why: str) -> str:
    return (f"lab {lab} needs a Docker engine ({why}), and {engine} cannot: start Docker, or pick another lab "
            "(labs/README.md says which run without Docker).")


@fragment
def sheet_has_no_name(lab: str, key: str, names: list[str]) -> str:
    """For the AttributeError of ``sheet.<key>``; it has no full stop."""
    return f"lab {lab} has no name {key!r}: it has {', '.join(names) or 'none'}"


def no_practice(notebook: str) -> str:
    return f"notebook {notebook} has no practice tasks: start(\"{notebook}\", lab) is for the notebooks that do."


@fragment
def reset_done(what: str, anything: bool) -> str:
    """What ``python -m reglab reset`` prints when it is done (said, not raised)."""
    return (f"{what} is reset: run it again from its first cell." if anything
            else f"{what} had nothing to reset: run it from its first cell.")


__all__ += ["name_is_attribute", "no_such_lab"]


def no_such_lab(lab: str, labs: list[str]) -> ReglabError:
    return ReglabError(f"there is no lab {lab!r}: the labs are {', '.join(labs)}.")


@fragment
def name_is_attribute(key: str) -> str:
    """For the ValueError a sheet's author meets (``Sheet.name``); it has no full stop."""
    return f"{key!r} is an attribute of sheets: name it otherwise"
