"""A dummy class for the progress journal: four learners who solved some tasks and failed others,
at fixed times, and the table an instructor must see for them.

tests/test_journal.py writes these records (as the learners' own Unix accounts, or in state
folders) and checks ``classroom/class progress``'s table; ``make classroom-progress`` writes them
into state folders and executes ``classroom/progress.ipynb`` on them: the outputs committed in
that notebook are this class's.

    python tests/dummy_class.py SNAPSHOT.json      # the class's records, as class progress writes them
    python tests/dummy_class.py --learner ada       # ada's records, into this account's reglab state
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from reglab import journal  # noqa: E402
from reglab.tasks import course_tasks  # noqa: E402

START = 1_800_000_000.0  # 2027-01-15 08:00 UTC: the class's first minute
WRITTEN = START + 3 * 3600  # when the instructor ran classroom/class progress

# learner → (unit, task, ok, minute of the class) in the order they ran the checks. The notebook
# checks' task names are examples (the lead names them when notebooks record their checks).
CHECKS: dict[str, list[tuple[str, str, bool, float]]] = {
    "ada": [  # quick: notebook 01, sheet 01 whole (q2 at the second try), sheet 02 half
        ("01", "registry_answers", True, 2), ("01", "image_in_registry", True, 9),
        ("lab-01", "q1", True, 15), ("lab-01", "q2", False, 19), ("lab-01", "q2", True, 24),
        ("lab-01", "q3", True, 31), ("lab-01", "q4", True, 38),
        ("lab-02", "q1", True, 45), ("lab-02", "q2", False, 58),
    ],
    "grace": [  # stuck on sheet 01's q2; solved the break-fix sheet 03's first task
        ("01", "registry_answers", True, 4), ("01", "image_in_registry", False, 14),
        ("01", "image_in_registry", True, 21),
        ("lab-01", "q1", True, 30), ("lab-01", "q2", False, 41), ("lab-01", "q2", False, 66),
        ("lab-03", "q1", True, 90),
    ],
    "linus": [],  # logged in, never checked anything
    "margaret": [  # solved, then broke it again: done once counts as done
        ("01", "registry_answers", True, 3), ("01", "image_in_registry", True, 12),
        ("01", "image_in_registry", False, 20),
        ("lab-01", "q1", False, 25), ("lab-01", "q1", True, 28),
    ],
}
LEARNERS = list(CHECKS)

# what `classroom/class progress` prints for this class (every sheet's task, in the course's order; the
# notebook's checks, which no sheet declares, after them in name order): 40 tasks, the 38 of sheets
# lab-01 … lab-13 (4 5 2 2 4 4 2 2 3 2 3 3 2) and notebook 01's 2. Worked out by hand: ada 7 done
# (lab-01 q2 at the second try), 7 + 23 + 13 minutes on 01, lab-01, lab-02; grace 4 done, 17 + 36 + 0;
# margaret 3 done (01's image_in_registry failed after it held, lab-01 q1 held after it failed), 17 + 3.
TABLE = """\
learner  01 lab-01 lab-02 lab-03 lab-04 lab-05 lab-06 lab-07 lab-08 lab-09 lab-10 lab-11 lab-12 lab-13   done   time
ada      ✔✔ ✔✔✔✔   ✔✘···  ··     ··     ····   ····   ··     ··     ···    ··     ···    ···    ··       7/40   43 min
grace    ✔✔ ✔✘··   ·····  ✔·     ··     ····   ····   ··     ··     ···    ··     ···    ···    ··       4/40   53 min
linus    ·· ····   ·····  ··     ··     ····   ····   ··     ··     ···    ··     ···    ···    ··       0/40    0 min
margaret ✔✔ ✔···   ·····  ··     ··     ····   ····   ··     ··     ···    ··     ···    ···    ··       3/40   20 min
✔ done at least once, ✘ checked and not done, · not tried; tasks in order: 01 image_in_registry registry_answers; \
lab-01 q1 q2 q3 q4; lab-02 q1 q2 q3 q4 q5; lab-03 q1 q2; lab-04 q1 q2; lab-05 q1 q2 q3 q4; lab-06 q1 q2 q3 q4; \
lab-07 q1 q2; lab-08 q1 q2; lab-09 q1 q2 q3; lab-10 q1 q2; lab-11 q1 q2 q3; lab-12 q1 q2 q3; lab-13 q1 q2
"""


def write(learner: str, state_dir: Path) -> None:
    """``learner``'s checks, recorded into ``state_dir`` as reglab records them."""
    for unit, task, ok, minute in CHECKS[learner]:
        journal.record(state_dir, learner, unit, task, ok, when=START + 60 * minute)


def snapshot() -> str:
    """The class's records as ``classroom/class progress`` hands them to the teacher: each learner's
    written into a state folder of their own, read back from it."""
    records = []
    with tempfile.TemporaryDirectory(prefix="reglab-dummy-class-") as work:
        for learner in LEARNERS:
            write(learner, Path(work) / learner / "state")
            records += journal.read(Path(work) / learner / "state")
    return journal.dump(records, LEARNERS, course_tasks(), written=WRITTEN)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--learner"]:
        from reglab.config import Settings

        write(sys.argv[2], Settings.from_env().state_dir)  # where this account's labs record their checks
    else:
        Path(sys.argv[1]).write_text(snapshot(), encoding="utf-8")
