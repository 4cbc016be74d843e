"""The class's progress, read as root: ``sudo classroom/class progress`` runs this.

Each learner's checks are in their own state folder (``reglab.journal``: one line per check,
a file only the learner can read). Under the class recipe a learner's server runs as the
learner's Unix account with no ``REGLAB_STATE_DIR`` nor ``XDG_STATE_HOME`` set, so reglab keeps
that state in ``~/.local/state/reglab`` of the learner's home (``Settings.from_env().state_dir``). This
reads every class learner's file there — a file owned by that learner, not a link: a learner's
file counts for that learner only, whatever names its lines carry — prints learners × tasks
(✔ done, ✘ tried and not done, · not tried) with the time each spent, and gives the teacher the
same records for ``progress.ipynb``: ``~<teacher>/registry-lab/class-progress.json``, written
as the teacher (mode 0600), once the teacher has logged in.

    python classroom/progress.py [--class-dir /srv/reglab-class] [--teacher teacher] [--json FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pwd
import sys
from pathlib import Path

from reglab import journal
from reglab.tasks import course_tasks

ACCOUNT_MARK = "reglab learner"  # jupyterhub_config.py's mark on the accounts the class made
COURSE_FOLDER = "registry-lab"
SNAPSHOT = "class-progress.json"


def class_account(name: str) -> pwd.struct_passwd | None:
    """The Unix account the class made for ``name`` (None: not made yet, or not the class's)."""
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        return None
    return account if account.pw_gecos.split(",")[0] == ACCOUNT_MARK else None


def state_dir(account: pwd.struct_passwd) -> Path:
    """Where reglab keeps a learner's state under the class's spawner (its environment sets
    neither REGLAB_STATE_DIR nor XDG_STATE_HOME)."""
    return Path(account.pw_dir) / ".local" / "state" / "reglab"


def class_learners(class_dir: Path, teacher: str) -> list[str]:
    """learners.txt's names, then every other account the class made (learners the teacher added
    on the admin page), the teacher's excepted."""
    listed = []
    path = class_dir / "learners.txt"
    if path.exists():
        listed = [line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()]
    made = sorted(a.pw_name for a in pwd.getpwall() if a.pw_gecos.split(",")[0] == ACCOUNT_MARK)
    return [name for name in dict.fromkeys(listed + made) if name != teacher]


def class_records(learners: list[str]) -> list[journal.Record]:
    records = []
    for name in learners:
        account = class_account(name)
        if account is not None:
            records += [dataclasses.replace(r, learner=name)
                        for r in journal.read(state_dir(account), owner=account.pw_uid)]
    return records


def write_as(account: pwd.struct_passwd, path: Path, text: str) -> None:
    """``text`` into ``path`` (in the account's home), written by the account itself (0600): root
    never writes through a folder someone else controls."""
    pid = os.fork()
    if pid == 0:  # the child: the account's rights only
        try:
            os.setgroups([])
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
            os.umask(0o077)
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_name(f".{path.name}.part")
            part.unlink(missing_ok=True)
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(part, path)
            os._exit(0)
        except BaseException:  # noqa: BLE001 (the child reports by its exit status only)
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError(f"could not write {path} as {account.pw_name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class-dir", type=Path,
                        default=Path(os.environ.get("REGLAB_CLASS_DIR") or "/srv/reglab-class"))
    parser.add_argument("--teacher", default=os.environ.get("REGLAB_CLASS_TEACHER") or "teacher")
    parser.add_argument("--json", type=Path, help="also write the records here (as root)")
    args = parser.parse_args(argv)

    learners = class_learners(args.class_dir, args.teacher)
    records = class_records(learners)
    tasks = course_tasks()
    print(journal.summary(records, learners, tasks).table())
    snapshot = journal.dump(records, learners, tasks)
    if args.json:
        args.json.write_text(snapshot, encoding="utf-8")
    teacher = class_account(args.teacher)
    if teacher is None:
        print(f"(the teacher's notebook gets these records once {args.teacher} has logged in and this runs again)")
    else:
        target = Path(teacher.pw_dir) / COURSE_FOLDER / SNAPSHOT
        write_as(teacher, target, snapshot)
        print(f"(for {args.teacher}'s progress.ipynb: {target})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
