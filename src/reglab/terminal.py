"""The learner's terminal: run a twin on this machine, exactly as printed, and keep what it prints.

Steps that show a command's output (``find``, ``du -sb``, ``sha256sum``, ``tar -tvzf``, ``wc -c``
on a bind-mounted folder) run the twin itself through ``sh -c``, so the notebook shows what the
learner's terminal shows. Two settings make the output the same on every machine: ``LC_ALL=C``
(the order ``sort`` uses, English messages) and ``TZ=UTC`` (the dates ``tar -tv`` prints).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import errors
from .twin import Twin

TIMEOUT = 120


@dataclass(frozen=True)
class Output:
    """What a command printed (stdout, then stderr) and how it ended."""

    code: int
    text: str

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(LC_ALL="C", TZ="UTC")
    return env


def run(twin: Twin | str, cwd: str | os.PathLike | None = None, stdin: str | None = None) -> Output:
    """Run ``twin`` (a whole pipeline) with ``sh -c`` in ``cwd``; ``stdin`` feeds its first command."""
    line = str(twin)
    try:
        done = subprocess.run(["sh", "-c", line], cwd=Path(cwd) if cwd else None, input=stdin, capture_output=True,
                              text=True, errors="replace", timeout=TIMEOUT, env=_env(), check=False)
    except FileNotFoundError:
        raise errors.no_shell(line) from None
    except subprocess.TimeoutExpired:
        raise errors.ran_too_long(line, TIMEOUT) from None
    return Output(done.returncode, done.stdout + done.stderr)


def pipe_through(stages: tuple[tuple[str, ...], ...], text: str) -> str:
    """Feed ``text`` through the host side of a pipeline (``… | sort``) and return what comes out."""
    for argv in stages:
        text = run(Twin(argv), stdin=text).text
    return text
