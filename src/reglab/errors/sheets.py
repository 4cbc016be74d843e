"""Sentences of the lab sheets (:mod:`reglab.exercises`)."""

from __future__ import annotations

from . import ReglabError, fragment

__all__ = ["sheet_has_no_name", "sheet_needs"]


def sheet_needs(lab: str, engine: str, why: str) -> str:
    return (f"lab {lab} needs a Docker engine ({why}), and {engine} cannot: start Docker, or pick another lab "
            "(labs/README.md says which run without Docker).")


@fragment
def sheet_has_no_name(lab: str, key: str, names: list[str]) -> str:
    """For the AttributeError of ``sheet.<key>``; it has no full stop."""
    return f"lab {lab} has no name {key!r}: it has {', '.join(names) or 'none'}"


__all__ += ["name_is_attribute", "no_such_lab", "trust_file_exists"]


def no_such_lab(lab: str, labs: list[str]) -> ReglabError:
    return ReglabError(f"there is no lab {lab!r}: the labs are {', '.join(labs)}.")


def trust_file_exists(path: str) -> ReglabError:
    return ReglabError(f"{path} exists already and this lab did not create it: remove it "
                       "(another lab's trust for this address), then start lab 11 again.")


@fragment
def name_is_attribute(key: str) -> str:
    """For the ValueError a sheet's author meets (``Sheet.name``); it has no full stop."""
    return f"{key!r} is an attribute of sheets: name it otherwise"
