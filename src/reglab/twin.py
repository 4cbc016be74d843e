"""The docker CLI twin of a step: the exact command a learner would type.

A twin is one command, optionally piped into more (``find … | sort``); a long one is shown
over several lines with ``\\`` continuations, which a shell reads as the same command.
"""

import re
import shlex
from dataclasses import dataclass
from itertools import pairwise

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
    """A shell command; ``str()`` gives the line, ``repr`` shows it with a prompt.

    ``pipe`` holds the commands its output is piped into; ``wrap`` > 0 shows the arguments
    after the first ``wrap`` tokens one per line (``\\`` continuations), for commands naming
    several long paths.
    """

    argv: tuple[str, ...]
    pipe: tuple[tuple[str, ...], ...] = ()
    wrap: int = 0
    breaks: tuple[int, ...] = ()  # argument indices where a new line starts (instead of ``wrap``)

    @classmethod
    def of(cls, *argv: str) -> "Twin":
        return cls(tuple(argv))

    def __or__(self, other: "Twin") -> "Twin":
        """``a | b``: this command's output piped into ``b``."""
        return Twin(self.argv, self.pipe + (other.argv,) + other.pipe, self.wrap, self.breaks)

    def wrapped(self, keep: int) -> "Twin":
        """The same command, shown with one argument per line after the first ``keep`` tokens."""
        return Twin(self.argv, self.pipe, keep)

    @property
    def stages(self) -> tuple[tuple[str, ...], ...]:
        """Every command of the pipeline, first to last."""
        return (self.argv,) + self.pipe

    def __str__(self) -> str:
        return " | ".join(" ".join(_token(a) for a in argv) for argv in self.stages)

    def in_lines(self, breaks: tuple[int, ...]) -> "Twin":
        """The same command, shown with a new line (a ``\\`` continuation) before each argument
        index in ``breaks``: a long ``docker container run`` one option per line."""
        return Twin(self.argv, self.pipe, 0, tuple(sorted(b for b in breaks if 0 < b < len(self.argv))))

    def __repr__(self) -> str:
        if self.breaks:
            cuts = (0, *self.breaks, len(self.argv))
            lines = [" ".join(_token(a) for a in self.argv[a:b]) for a, b in pairwise(cuts)]
            text = "$ " + " \\\n    ".join(lines)
            if self.pipe:
                text += " | " + " | ".join(" ".join(_token(a) for a in argv) for argv in self.pipe)
            return text
        if not self.wrap or len(self.argv) <= self.wrap + 1:
            return f"$ {self}"
        head = " ".join(_token(a) for a in self.argv[:self.wrap])
        rest = [_token(a) for a in self.argv[self.wrap:]]
        lines = [f"$ {head} \\"] + [f"    {arg} \\" for arg in rest[:-1]] + [f"    {rest[-1]}"]
        if self.pipe:
            lines[-1] += " | " + " | ".join(" ".join(_token(a) for a in argv) for argv in self.pipe)
        return "\n".join(lines)


def docker(*args: str) -> Twin:
    """``docker <args>``."""
    return Twin(("docker", *args))


def run_breaks(argv: tuple[str, ...], image: int, valued: frozenset[str] | set[str]) -> tuple[int, ...]:
    """Where to cut a ``docker container run`` over lines: after ``docker container run -d``,
    one option (with its value) per line, the image on a line of its own with the words after it
    up to its first flag, then one flag of the command per line. ``image``: the image's index."""
    breaks, i = [], 0
    while i < image:
        token = str(argv[i])
        if token.startswith("-") and token != "-d" and i > 0:
            breaks.append(i)
            i += 2 if token in valued and "=" not in token else 1
        else:
            i += 1
    breaks.append(image)
    breaks += [j for j in range(image + 1, len(argv)) if str(argv[j]).startswith("-")
               and any(not str(a).startswith("-") for a in argv[image + 1:j])][1:]
    return tuple(sorted(set(breaks)))
