"""The docker CLI twin of a step: the exact command a learner would type."""

import re
import shlex
from dataclasses import dataclass

_IPV6 = re.compile(r"\[[0-9a-fA-F:]+\]")


class Raw(str):
    """A shell token printed as is, e.g. ``"$(id -u):$(id -g)"``."""


def _token(arg: str) -> str:
    if isinstance(arg, Raw):
        return str(arg)
    arg = str(arg)
    # an IPv6 address in brackets ([::1]:5000/hello-world) is written as Docker's docs write it:
    # a shell leaves such a pattern as it is unless a file of that odd name exists
    if _IPV6.search(arg) and shlex.quote(_IPV6.sub("x", arg)) == _IPV6.sub("x", arg):
        return arg
    return shlex.quote(arg)


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
