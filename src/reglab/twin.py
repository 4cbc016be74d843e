"""The docker CLI twin of a step: the exact command a learner would type."""

import shlex
from dataclasses import dataclass


class Raw(str):
    """A shell token printed as is, e.g. ``"$(id -u):$(id -g)"``."""


def _token(arg: str) -> str:
    return str(arg) if isinstance(arg, Raw) else shlex.quote(str(arg))


@dataclass(frozen=True)
class Twin:
    """A shell command; ``str()`` gives the line, ``repr`` shows it with a prompt."""

    argv: tuple[str, ...]

    @classmethod
    def of(cls, *argv: str) -> "Twin":
        return cls(tuple(argv))

    def __str__(self) -> str:
        return " ".join(_token(a) for a in self.argv)

    def __repr__(self) -> str:
        return f"$ {self}"


def docker(*args: str) -> Twin:
    """``docker <args>``."""
    return Twin(("docker", *args))
