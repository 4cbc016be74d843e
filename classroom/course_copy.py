"""The course into a learner's home, so that each notebook opens as committed.

Used by the class's hub (``jupyterhub_config.py``: as root, for each learner's account) and, as a
script, by a Zero to JupyterHub pod's ``postStart`` hook (``z2jh/values.yaml``: as the learner):

    python classroom/course_copy.py COURSE [TARGET]     # TARGET: ~/registry-lab

- ``START-HERE.ipynb``, ``notebooks/*.ipynb`` and ``labs/`` copied into TARGET, a learner's own copies kept;
- each new copy names the Python version the learner's kernel runs (JupyterLab writes the kernel's
  ``language_info`` into a notebook when it connects, and marks it modified when that differs
  from the file: the committed notebooks name the Python that executed them);
- each new copy trusted by the learner (signed in their own notebook database, as ``jupyter
  trust`` does): an untrusted notebook opens with its outputs held back.

Only the standard library at import (the hub imports this); nbformat when signing.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

COURSE_FOLDER = "registry-lab"


def sources(course: Path) -> list[tuple[Path, Path]]:
    """(file, where it goes under the learner's course folder) for the notebooks and the labs."""
    found = [(p, p.relative_to(course)) for p in sorted((course / "notebooks").glob("*.ipynb"))]
    start = course / "START-HERE.ipynb"  # the course page: every notebook and sheet in order, with links
    if start.is_file():
        found.insert(0, (start, start.relative_to(course)))
    labs = course / "labs"
    if labs.is_dir():
        found += [(p, p.relative_to(course)) for p in sorted(labs.rglob("*"))
                  if p.is_file() and ".ipynb_checkpoints" not in p.parts]
    return found


def copy_file(source: Path, dest: Path, top: Path, owner: tuple[int, int] | None = None) -> None:
    """``source`` to ``dest`` (under ``top``), the folders made on the way; all of it ``owner``'s."""
    for folder in reversed([d for d in dest.parents if d == top or top in d.parents]):
        if not folder.exists():
            folder.mkdir()
            if owner:
                os.chown(folder, *owner)
    shutil.copyfile(source, dest)
    if owner:
        os.chown(dest, *owner)


def as_the_kernel_writes_it(notebook: Path, python_version: str) -> None:
    """The notebook's ``language_info.version`` made ``python_version`` (nothing else changes)."""
    data = json.loads(notebook.read_text(encoding="utf-8"))
    info = data.get("metadata", {}).get("language_info")
    if info and info.get("name") == "python" and info.get("version") != python_version:
        info["version"] = python_version
        notebook.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def copy_course(files: Iterable[tuple[Path, Path]], target: Path, python_version: str,
                owner: tuple[int, int] | None = None) -> list[Path]:
    """``files`` into ``target`` where there is no copy yet; returns the new notebooks."""
    new = []
    for source, relative in files:
        dest = target / relative
        if dest.exists():
            continue
        copy_file(source, dest, target, owner)
        if dest.suffix == ".ipynb":
            as_the_kernel_writes_it(dest, python_version)
            new.append(dest)
    return new


def sign(notebooks: Iterable[Path]) -> None:
    """Trust ``notebooks`` as this account (its own notebook database)."""
    import nbformat
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()
    for path in notebooks:
        notary.sign(nbformat.read(str(path), as_version=4))


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    course = Path(argv[0])
    target = Path(argv[1]) if len(argv) > 1 else Path.home() / COURSE_FOLDER
    new = copy_course(sources(course), target, platform.python_version())
    sign(new)
    print(f"course: {len(new)} new notebooks in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
