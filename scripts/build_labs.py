"""Build the lab sheets from their one source each (``make labs``), the INRIA MOOC way.

``labs/sources/NN-name.py`` (jupytext percent format) is the *solution*. From it:

- ``labs/solutions/NN-name.ipynb``: every cell (``make labs`` then executes it, so it is
  committed with the outputs of a real run);
- ``labs/NN-name.ipynb``, the exercise: cells tagged ``solution`` dropped; in a code cell, the
  lines after a ``# solution`` marker replaced by ``# Write your code here.``. Exercises are
  committed unexecuted: a learner runs them, and their outputs (names and ports scoped to that
  learner, ✘ lines) would only be noise to compare.

Cell ids are ``labNN-MM`` (MM: the cell's place in the source), the same in both notebooks, so
re-building changes only what changed. ``--tidy NB…`` runs after execution: it drops per-run
timestamps and gives each exercise its solution's ``language_info``, as JupyterLab writes it.

``python scripts/build_labs.py --check`` builds in memory and exits 1 when a committed exercise,
or the code of a committed solution, differs from what its source gives.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
LABS = ROOT / "labs"
MARKER = "# solution"
PLACEHOLDER = "# Write your code here."
KERNEL = "python3"


def kernelspec(name: str = KERNEL) -> dict:
    """The kernelspec metadata JupyterLab writes when it connects to kernel ``name``."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec(name)
        return {"display_name": spec.display_name, "language": spec.language, "name": name}
    except Exception:  # no kernel installed where the sheets are built: the usual values
        return {"display_name": "Python 3 (ipykernel)", "language": "python", "name": name}


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def solution_notebook(source: Path):
    """The solution: the source as a notebook, with stable ids and clean metadata."""
    nb = jupytext.read(source, fmt="py:percent")
    nb.metadata = {"kernelspec": kernelspec(), "language_info": {"name": "python"}}
    prefix = "lab" + source.stem[:2]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{prefix}-{i:02d}"
        cell.metadata.pop("lines_to_next_cell", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def exercise_notebook(solution) -> nbformat.NotebookNode:
    """The exercise made from a solution notebook: no solution cells, no code after a marker."""
    nb = copy.deepcopy(solution)
    cells = []
    for cell in nb.cells:
        if "solution" in tags(cell):
            continue
        if cell.cell_type == "code":
            lines = cell.source.splitlines()
            if MARKER in [line.strip() for line in lines]:
                cut = [line.strip() for line in lines].index(MARKER)
                cell.source = "\n".join(lines[:cut] + [PLACEHOLDER])
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    nb.cells = cells
    return nb


def targets(source: Path) -> tuple[Path, Path]:
    return LABS / "solutions" / f"{source.stem}.ipynb", LABS / f"{source.stem}.ipynb"


def build(source: Path) -> None:
    solution_path, exercise_path = targets(source)
    solution = solution_notebook(source)
    exercise = exercise_notebook(solution)
    if solution_path.exists():  # keep the executed solution's language_info for the exercise too
        exercise.metadata["language_info"] = nbformat.read(solution_path, as_version=4).metadata.get(
            "language_info", exercise.metadata["language_info"])
    solution_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(solution, solution_path)
    nbformat.write(exercise, exercise_path)
    print(f"built {solution_path.relative_to(ROOT)} and {exercise_path.relative_to(ROOT)}")


def tidy(solution_path: Path) -> None:
    """After execution: drop per-run timestamps; the exercise takes the solution's language_info."""
    nb = nbformat.read(solution_path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata["kernelspec"] = kernelspec()
    nbformat.write(nb, solution_path)
    exercise_path = LABS / solution_path.name
    if exercise_path.exists():
        exercise = nbformat.read(exercise_path, as_version=4)
        exercise.metadata["language_info"] = nb.metadata.get("language_info", {"name": "python"})
        nbformat.write(exercise, exercise_path)


def code(nb) -> list[tuple[str, str, list[str]]]:
    """What must match between a committed notebook and its source: cell kind, text and tags."""
    return [(c.cell_type, c.source, tags(c)) for c in nb.cells]


def stale(source: Path) -> list[str]:
    """Why the committed notebooks of ``source`` are not what it builds (empty: in sync)."""
    solution_path, exercise_path = targets(source)
    solution = solution_notebook(source)
    problems = []
    for path, expected in ((solution_path, solution), (exercise_path, exercise_notebook(solution))):
        if not path.exists():
            problems.append(f"{path.relative_to(ROOT)} is missing")
        elif code(nbformat.read(path, as_version=4)) != code(expected):
            problems.append(f"{path.relative_to(ROOT)} differs from {source.relative_to(ROOT)}")
    return problems


def sources(paths: list[str]) -> list[Path]:
    return [Path(p) for p in paths] or sorted((LABS / "sources").glob("*.py"))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--tidy"]:
        for path in argv[1:]:
            tidy(Path(path))
        return 0
    if argv[:1] == ["--check"]:
        problems = [p for source in sources(argv[1:]) for p in stale(source)]
        for problem in problems:
            print(problem)
        if problems:
            print("run `make labs` to rebuild them")
        return 1 if problems else 0
    for source in sources(argv):
        build(source)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
