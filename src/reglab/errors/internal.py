"""Words no learner should meet: Python's own for a missing attribute, the pin file of the Go tools,
the stand-in program's writer, the gzip port's limits and invariants. Each is a ``str`` for the
built-in (or the module's own) exception raised with it, kept here so that every sentence reglab
raises lives in :mod:`reglab.errors`."""

from __future__ import annotations

from . import fragment

__all__ = ["greeting_too_big", "huffman_lost_leaf", "no_attribute", "no_standin_program", "pin_line_unreadable",
           "too_slow"]


@fragment
def no_attribute(name: str) -> str:
    """Python's own words for the AttributeError of ``reglab.<name>``."""
    return f"module 'reglab' has no attribute {name!r}"


@fragment
def pin_line_unreadable(pin_file: str, words: list[str]) -> str:
    """A line of reglab/tools.txt that is not a pin (a ValueError for the maintainer)."""
    return f"{pin_file}: cannot read the line {' '.join(words)!r}"


@fragment
def no_standin_program(arch: str, machines: list[str]) -> str:
    """A ValueError of :func:`reglab.elf.program` (no full stop)."""
    return f"no stand-in program for {arch}: reglab writes one for {', '.join(machines)} only"


@fragment
def greeting_too_big() -> str:
    """A ValueError of :func:`reglab.elf.program` (no full stop)."""
    return "the greeting must stay under 64 KiB"


@fragment
def too_slow(positions: int) -> str:
    """:class:`reglab.dockergzip.TooSlow`, caught inside the package (which then falls back to zlib)."""
    return f"{positions} positions to match in Python"


@fragment
def huffman_lost_leaf() -> str:
    """An invariant of the gzip port broken: an AssertionError."""
    return "Huffman construction lost a leaf"
