"""The progress journal (reglab.journal) and what the instructor reads from it.

- records: one JSON line per check, appended to the learner's own file (0600, folder 0700), never
  interleaved when kernels write at once, read back whatever else the file holds;
- the dummy class (tests/dummy_class.py: learners who solved some tasks and failed others) gives
  exactly the table worked out by hand;
- as root, with real Unix accounts: each dummy learner records their checks as themselves, no
  learner reads another's file, ``classroom/class progress`` prints the class's table, counts a
  learner's file for that learner only (a link to another's counts for nobody), and hands the
  teacher the records, written as the teacher;
- classroom/progress.ipynb, run on the dummy class, gives its committed outputs.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dummy_class
import pytest
from kernel_runs import LocalKernel, patterns, run_notebook

from reglab import journal
from reglab.tasks import course_tasks

pytestmark = pytest.mark.daemonless
ROOT = Path(__file__).resolve().parent.parent
CLASSROOM = ROOT / "classroom"


def test_a_record_is_one_line_in_a_file_only_its_learner_reads(tmp_path):
    state = tmp_path / "state" / "reglab"
    made = journal.record(state, "ada", "lab-01", "q1", False, when=100.5)
    journal.record(state, "ada", "lab-01", "q1", True)
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state / "progress.jsonl").st_mode) == 0o600
    lines = (state / "progress.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0]) == {"learner": "ada", "unit": "lab-01", "task": "q1", "ok": False, "when": 100.5}
    back = journal.read(state)
    assert back[0] == made and back[1].ok is True and back[1].when > 1e9  # now, when not given
    # a file that lost its mode (restored from a backup) is the learner's alone again at the next record
    os.chmod(state / "progress.jsonl", 0o644)
    journal.record(state, None, "01", "registry_answers", True, when=50)
    assert stat.S_IMODE(os.stat(state / "progress.jsonl").st_mode) == 0o600
    assert [r.when for r in journal.read(state)][0] == 50  # oldest first
    assert journal.read(tmp_path / "nobody") == []


def test_a_torn_or_foreign_line_is_skipped_not_fatal(tmp_path):
    journal.record(tmp_path, "ada", "lab-01", "q1", True, when=1)
    with open(tmp_path / "progress.jsonl", "a") as fh:
        fh.write('{"learner": "ada", "unit": "lab-01", "ta\n')  # a kernel killed mid-write
        fh.write("not json\n[1, 2]\n")
        fh.write('{"learner": "ada", "unit": "lab-01", "task": "q2", "ok": "yes", "when": 3}\n')  # not True: not ok
    journal.record(tmp_path, "ada", "lab-01", "q3", True, when=4)
    assert [(r.task, r.ok) for r in journal.read(tmp_path)] == [("q1", True), ("q2", False), ("q3", True)]


def _write_many(args: tuple[str, int]) -> None:
    folder, worker = args
    for i in range(300):
        journal.record(Path(folder), f"learner{worker}", "lab-01", f"q{i}", i % 2 == 0, when=i)


def test_kernels_recording_at_once_never_interleave_their_lines(tmp_path):
    with ProcessPoolExecutor(6) as pool:
        list(pool.map(_write_many, [(str(tmp_path), w) for w in range(6)]))
    lines = (tmp_path / "progress.jsonl").read_text().splitlines()
    assert len(lines) == 1800 and all(json.loads(line)["unit"] == "lab-01" for line in lines)
    records = journal.read(tmp_path)
    assert sorted((r.learner, r.task) for r in records) == sorted(
        (f"learner{w}", f"q{i}") for w in range(6) for i in range(300))


def test_the_summary_marks_done_once_as_done_and_times_each_unit():
    r = journal.Record
    records = [r("ada", "lab-01", "q1", False, 0), r("ada", "lab-01", "q1", True, 60),
               r("ada", "lab-01", "q2", True, 120), r("ada", "lab-01", "q2", False, 600),
               r("bob", "lab-02", "q1", False, 30), r(None, "01", "registry_answers", True, 5)]
    result = journal.summary(records, ["bob", "cy"], [("lab-01", "q1"), ("lab-01", "q2"), ("lab-02", "q1")])
    assert result.learners == ["bob", "cy", "-", "ada"]  # the class's, then any other a record names
    assert result.tasks == [("01", "registry_answers"), ("lab-01", "q1"), ("lab-01", "q2"), ("lab-02", "q1")]
    assert [result.mark("ada", *t) for t in result.tasks] == ["·", "✔", "✔", "·"]
    assert [result.mark("bob", *t) for t in result.tasks] == ["·", "·", "·", "✘"]
    assert result.mark("cy", "lab-01", "q1") == journal.NOT_TRIED and result.done("ada") == 2
    assert result.spent == {"ada": {"lab-01": 600}, "bob": {"lab-02": 0}, "-": {"01": 0}}


def test_every_sheet_task_is_in_the_course_in_order():
    from reglab.tasks import SHEETS, sheet_class

    tasks = course_tasks()
    assert list(dict.fromkeys(unit for unit, _ in tasks)) == list(SHEETS)
    for lab_id in SHEETS:  # what a sheet lists as its tasks, without setting one up
        numbers = [int(t[1:]) for u, t in tasks if u == lab_id]
        assert numbers == list(range(1, len(numbers) + 1))
        assert len(numbers) == len([n for n in dir(sheet_class(lab_id)) if n[:1] == "q" and n[1:].isdigit()])


def test_the_dummy_class_gives_the_table_worked_out_by_hand():
    records, learners, tasks, written = journal.load(dummy_class.snapshot())
    assert learners == ["ada", "grace", "linus", "margaret"] and written == dummy_class.WRITTEN
    assert len(records) == sum(len(checks) for checks in dummy_class.CHECKS.values())
    assert journal.summary(records, learners, tasks).table() + "\n" == dummy_class.TABLE


def test_the_progress_notebook_shows_the_dummy_class_as_committed(tmp_path):
    """classroom/progress.ipynb's committed outputs are the dummy class's (make classroom-progress)."""
    snapshot = tmp_path / "class-progress.json"
    snapshot.write_text(dummy_class.snapshot())
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGLAB_")}
    env.update(REGLAB_CLASS_PROGRESS=str(snapshot), HOME=str(tmp_path), MPLBACKEND="module://matplotlib_inline.backend_inline")
    kernel = LocalKernel(env, cwd=str(tmp_path))
    try:
        runs = run_notebook(kernel, CLASSROOM / "progress.ipynb", patterns())
    finally:
        kernel.shutdown()
    assert [str(r) for r in runs if not r.ok] == []
    assert any("image/png" in o.get("data", {}) for r in runs for o in r.outputs)  # the heat map drawn
    text = "".join(o.get("text", "") for r in runs for o in r.outputs)
    assert "grace: lab-01 q2" in text and "no check yet: linus" in text


# ----------------------------------------------------------------------------- as root, real accounts

as_root = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("runuser"),
                             reason="the class's accounts: root with useradd and runuser")


def _as(account: str, home: Path, *command: str) -> subprocess.CompletedProcess:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}  # no REGLAB_STATE_DIR: the class's
    return subprocess.run([shutil.which("runuser"), "-u", account, "--", *command], env=env, cwd=home,
                          capture_output=True, text=True, check=False)


@as_root
def test_class_progress_reads_each_learner_as_root_and_hands_the_teacher_the_records():
    from test_classroom import MARK, _class, _learner_python, _learners_left, _remove_learners

    tag = secrets.token_hex(2)
    accounts = {name: f"j{tag}{name}"[:20] for name in dummy_class.LEARNERS}  # dummy name → this test's account
    teacher = f"j{tag}teacher"
    work = Path(tempfile.mkdtemp(prefix="reglab-journal-"))  # (pytest's tmp_path is root's only)
    work.chmod(0o755)  # the learners reach their homes and run the Python made here
    class_dir, homes = work / "class", work / "homes"
    homes.mkdir()
    made = []
    try:
        python = _learner_python(work)
        assert _class("add", *accounts.values(), class_dir=class_dir).returncode == 0
        for account in [*accounts.values(), teacher]:
            subprocess.run(["useradd", "--create-home", "--home-dir", str(homes / account), "--shell", "/bin/bash",
                            "--user-group", "--comment", MARK, account], check=True, capture_output=True)
            made.append(account)
            (homes / account).chmod(0o700)
        # each learner runs their checks as themselves: the records land in their own state
        for name, account in accounts.items():
            ran = _as(account, homes / account, str(python), str(ROOT / "tests" / "dummy_class.py"), "--learner", name)
            assert ran.returncode == 0, ran.stderr
        ada = homes / accounts["ada"] / ".local" / "state" / "reglab"
        assert os.stat(ada / "progress.jsonl").st_uid == pwd.getpwnam(accounts["ada"]).pw_uid
        assert stat.S_IMODE(os.stat(ada).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(ada / "progress.jsonl").st_mode) == 0o600
        refused = _as(accounts["grace"], homes / accounts["grace"], "cat", str(ada / "progress.jsonl"))
        assert refused.returncode != 0 and "Permission denied" in refused.stderr  # learners cannot read each other
        # linus, who never checked anything, links his file to ada's: it counts for nobody
        linus = homes / accounts["linus"] / ".local" / "state" / "reglab"
        assert _as(accounts["linus"], homes / accounts["linus"], "mkdir", "-p", str(linus)).returncode == 0
        assert _as(accounts["linus"], homes / accounts["linus"], "ln", "-s", str(ada / "progress.jsonl"),
                   str(linus / "progress.jsonl")).returncode == 0
        # margaret writes a line in grace's name into her own file: it counts for margaret
        margaret = homes / accounts["margaret"] / ".local" / "state" / "reglab"
        forged = _as(accounts["margaret"], homes / accounts["margaret"], str(python), "-c",
                     f"from reglab import journal; journal.record({str(margaret)!r}, {accounts['grace']!r}, "
                     "'lab-01', 'q1', False, when=1800000000 + 60 * 27)")
        assert forged.returncode == 0, forged.stderr

        shown = subprocess.run([str(CLASSROOM / "class"), "progress"], capture_output=True, text=True, check=False,
                               env=dict(os.environ, REGLAB_CLASS_DIR=str(class_dir), REGLAB_CLASS_VENV=sys.prefix,
                                        REGLAB_CLASS_TEACHER=teacher))
        assert shown.returncode == 0, shown.stderr
        rows = {line.split()[0]: line.split()[1:] for line in shown.stdout.splitlines() if line.startswith(f"j{tag}")}
        expected = {line.split()[0]: line.split()[1:] for line in dummy_class.TABLE.splitlines()[1:5]}
        for name, account in accounts.items():
            assert rows[account] == expected[name], f"{name}:\n{shown.stdout}"
        assert set(rows) == set(accounts.values())  # the teacher is no learner
        # the teacher's copy: written as the teacher, the records by account
        copy = homes / teacher / "registry-lab" / "class-progress.json"
        info = os.stat(copy)
        assert info.st_uid == pwd.getpwnam(teacher).pw_uid and stat.S_IMODE(info.st_mode) == 0o600
        records, learners, _, _ = journal.load(copy.read_text())
        assert learners == list(accounts.values())
        assert {r.learner for r in records} == {accounts[n] for n in ("ada", "grace", "margaret")}
        assert f"(for {teacher}'s progress.ipynb: {copy})" in shown.stdout
    finally:
        _remove_learners(made)  # their processes, accounts and homes
        shutil.rmtree(work, ignore_errors=True)
    assert _learners_left(made) == []
