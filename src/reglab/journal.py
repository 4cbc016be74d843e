"""The progress journal: every check a learner runs, one line each, in the learner's own state.

A lab sheet's task check (``lab.q2.check()``) and a notebook's "Check your work" each call
:func:`record` with what was checked and whether it held; the record is one JSON line appended to
``<state_dir>/progress.jsonl``. The file is the learner's (mode 0600, in a folder made 0700), so
on a machine shared by a class no learner reads another's records; the instructor reads them all
as root (``sudo classroom/class progress``). An append is one ``write`` of one line on a file
opened ``O_APPEND``: kernels writing at once never interleave their lines.

:func:`read` gives the records back (a torn or foreign line is skipped, never fatal), and
:func:`summary` turns many learners' records into what an instructor reads: learner × task
(✔ done at least once, ✘ tried and never done, · not tried) and the time each learner spent on each
unit (a notebook such as ``01`` or a sheet such as ``lab-03``), from its first record to its last.

    from reglab import journal
    from reglab.config import Settings
    state_dir = Settings.from_env().state_dir
    journal.record(state_dir, "ada", "lab-01", "q1", ok=True)
    print(journal.summary(journal.read(state_dir)).table())

Only the standard library here: a check imports this module, and a check must stay cheap.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

FILE = "progress.jsonl"
DONE, FAILED, NOT_TRIED = "✔", "✘", "·"


@dataclass(frozen=True)
class Record:
    """One check: who ran it, on which unit (notebook ``01``, sheet ``lab-03``), which task, whether
    it held, and when (seconds since the epoch)."""

    learner: str | None
    unit: str
    task: str
    ok: bool
    when: float


def record(state_dir: Path, learner: str | None, unit: str, task: str, ok: bool,
           when: float | None = None) -> Record:
    """Append one record to ``<state_dir>/progress.jsonl`` (made 0600; ``state_dir`` made 0700 if
    it does not exist) and return it."""
    entry = Record(learner, str(unit), str(task), bool(ok), time.time() if when is None else float(when))
    folder = Path(state_dir)
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # whatever the umask
    line = (json.dumps(asdict(entry), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    fd = os.open(folder / FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:  # a file made otherwise (copied, restored): the learner's alone again
            os.fchmod(fd, 0o600)
        os.write(fd, line)
    finally:
        os.close(fd)
    return entry


def read(state_dir: Path, owner: int | None = None) -> list[Record]:
    """The records in ``<state_dir>/progress.jsonl``, oldest first ([] when there is none).

    ``owner``: read the file only if it is a regular file of that user id, not reached through a
    symbolic link at its last step (root reading a learner's records: a learner who links their
    file to another's, or to a file of root's, gets nothing read)."""
    try:
        fd = os.open(Path(state_dir) / FILE, os.O_RDONLY | (os.O_NOFOLLOW if owner is not None else 0))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError:
        if owner is None:
            raise
        return []  # a symbolic link where the file should be (ELOOP)
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if owner is not None and (info.st_uid != owner or not stat.S_ISREG(info.st_mode)):
            return []
        text = fh.read().decode("utf-8", errors="replace")
    records = []
    for line in text.splitlines():
        try:
            data = json.loads(line)
            learner = data["learner"]
            records.append(Record(None if learner is None else str(learner), str(data["unit"]), str(data["task"]),
                                  data["ok"] is True, float(data["when"])))
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short (a kernel killed mid-write) or not ours
    return sorted(records, key=lambda r: r.when)


def dump(records: Iterable[Record], learners: Iterable[str] = (), tasks: Iterable[tuple[str, str]] = (),
         written: float | None = None) -> str:
    """A class's records as one JSON document (what the teacher's notebook reads): the records,
    the class's learners and the course's tasks, and when it was written."""
    return json.dumps({"written": time.time() if written is None else written, "learners": list(learners),
                       "tasks": [list(t) for t in tasks], "records": [asdict(r) for r in records]},
                      ensure_ascii=False, indent=1) + "\n"


def load(text: str) -> tuple[list[Record], list[str], list[tuple[str, str]], float]:
    """What :func:`dump` wrote: records, learners, tasks, when written."""
    data = json.loads(text)
    records = [Record(r["learner"], r["unit"], r["task"], r["ok"] is True, float(r["when"])) for r in data["records"]]
    return records, list(data["learners"]), [tuple(t) for t in data["tasks"]], float(data["written"])


def _natural(text: str) -> list:
    """``q2`` before ``q10``, ``lab-2`` before ``lab-10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _unit_order(unit: str) -> tuple:
    return (unit.startswith("lab-"), _natural(unit))  # the notebooks first, then the sheets


@dataclass
class Summary:
    """Learners × tasks, and time per learner and unit; ``table()`` prints it."""

    learners: list[str]
    tasks: list[tuple[str, str]]  # (unit, task), the course's order
    marks: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)  # learner → task → ✔/✘/·
    spent: dict[str, dict[str, float]] = field(default_factory=dict)  # learner → unit → seconds

    @property
    def units(self) -> list[str]:
        return list(dict.fromkeys(unit for unit, _ in self.tasks))

    def mark(self, learner: str, unit: str, task: str) -> str:
        return self.marks.get(learner, {}).get((unit, task), NOT_TRIED)

    def done(self, learner: str) -> int:
        return sum(mark == DONE for mark in self.marks.get(learner, {}).values())

    def table(self) -> str:
        """One line per learner: per unit its tasks' marks in order, tasks done, time spent."""
        units = self.units
        per_unit = {unit: [task for u, task in self.tasks if u == unit] for unit in units}
        widths = {unit: max(len(unit), len(per_unit[unit])) for unit in units}
        name_width = max([len("learner"), *map(len, self.learners)])
        lines = [" ".join([f"{'learner':<{name_width}}", *(f"{u:<{widths[u]}}" for u in units), "  done", "  time"])]
        for learner in self.learners:
            cells = ["".join(self.mark(learner, unit, task) for task in per_unit[unit]) for unit in units]
            minutes = sum(self.spent.get(learner, {}).values()) / 60
            lines.append(" ".join([f"{learner:<{name_width}}", *(f"{c:<{widths[u]}}" for c, u in zip(cells, units)),
                                   f"{self.done(learner):>3}/{len(self.tasks):<2}", f"{minutes:>4.0f} min"]))
        lines.append(f"{DONE} done at least once, {FAILED} checked and not done, {NOT_TRIED} not tried; "
                     "tasks in order: " + "; ".join(f"{u} {' '.join(per_unit[u])}" for u in units))
        return "\n".join(lines)


def summary(records: Iterable[Record], learners: Iterable[str] = (),
            tasks: Iterable[tuple[str, str]] = ()) -> Summary:
    """Learners × tasks from ``records``: every learner named in ``learners`` or in a record (a
    record without a learner counts as ``"-"``), every task in ``tasks`` (the course's, in its
    order: :func:`reglab.tasks.course_tasks`) then any other task a record names."""
    records = list(records)
    names = list(dict.fromkeys([*learners, *sorted({r.learner or "-" for r in records})]))
    known = list(dict.fromkeys(tasks))
    others = sorted({(r.unit, r.task) for r in records} - set(known), key=lambda t: (_unit_order(t[0]),
                                                                                    _natural(t[1])))
    ordered = sorted(known + others, key=lambda t: _unit_order(t[0]))  # stable: each unit's own order kept
    result = Summary(names, ordered)
    span: dict[str, dict[str, list[float]]] = {}
    for r in sorted(records, key=lambda r: r.when):
        name = r.learner or "-"
        marks = result.marks.setdefault(name, {})
        if r.ok:
            marks[(r.unit, r.task)] = DONE
        elif marks.get((r.unit, r.task)) != DONE:
            marks[(r.unit, r.task)] = FAILED
        first_last = span.setdefault(name, {}).setdefault(r.unit, [r.when, r.when])
        first_last[1] = r.when
    result.spent = {name: {unit: last - first for unit, (first, last) in units.items()}
                    for name, units in span.items()}
    return result
