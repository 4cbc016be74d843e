"""A learner's progress: every check a learner runs, kept in their own state folder.

One JSON line per check in ``progress.jsonl`` in the learner's own state folder (folder 0700, file 0600: learners
cannot read each other's records); an instructor reads every learner's as root
(``sudo classroom/class progress``)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .state import scope_root

FILE = "progress.jsonl"


@dataclass(frozen=True)
class Record:
    learner: str | None
    unit: str  # a notebook ("01") or a lab sheet ("lab-07")
    task: str
    ok: bool
    when: float


def path(state_dir: Path, learner: str | None) -> Path:
    """``<state_dir>[/_learners/<learner>]/progress.jsonl``: each learner's own."""
    return scope_root(state_dir, learner) / FILE


def record(state_dir: Path, learner: str | None, unit: str, task: str, ok: bool, when: float | None = None) -> None:
    """Append one check's result; a state folder that cannot be written is no error (nothing is kept)."""
    entry = Record(learner, unit, task, ok, time.time() if when is None else when)
    target = path(state_dir, learner)
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a") as out:
            out.write(json.dumps(asdict(entry)) + "\n")
    except OSError:
        pass


def read(state_dir: Path, learner: str | None = None) -> list[Record]:
    try:
        lines = path(state_dir, learner).read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        try:
            found.append(Record(**json.loads(line)))
        except (ValueError, TypeError):
            continue  # a torn line from a killed kernel
    return found
