"""Write START-HERE.ipynb, the course page `make lab` opens first: every notebook and lab sheet in
the order to take them, each a link with its minutes.

Everything on the page comes from the course itself, so it cannot drift from it:

- the notebooks (``notebooks/NN-*.ipynb``) and the sheets' exercises (``labs/NN-*.ipynb``) that exist;
- each one's title (its first heading) and minutes (its own "About N minutes" / "about N minutes");
- where a sheet goes: after the last notebook its "**You need** notebook NN" (or "notebooks NN–MM")
  names.

The page is a notebook of markdown cells only: JupyterLab renders it, and its relative links open
the notebooks and sheets in JupyterLab. Its metadata is what JupyterLab writes when it connects the
kernel (as in every committed notebook), so opening it marks nothing modified.

    python scripts/build_start_page.py            writes START-HERE.ipynb (make notebooks, make labs)
    python scripts/build_start_page.py --check    changes nothing; exits 1 if the page is out of date
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "START-HERE.ipynb"
MINUTES = re.compile(r"\b[Aa]bout (\d+) minutes\b")
NEEDS = re.compile(r"\*\*You need\*\* notebooks? (\d\d)(?:[–-](\d\d))?")


@dataclass
class Entry:
    kind: str  # "notebook" or "lab sheet"
    title: str
    path: str  # relative to the page (the folder JupyterLab serves)
    minutes: int
    after: int  # a sheet: the notebook it follows; a notebook: its own number


def _first_markdown(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return next(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def _read(path: Path, kind: str) -> Entry:
    text = _first_markdown(path)
    title = re.match(r"#\s+(.+)", text)
    minutes = MINUTES.search(text)
    if not title or not minutes:
        raise SystemExit(f"{path.relative_to(ROOT)}: its first cell needs a '# title' and 'About N minutes'")
    if kind == "notebook":
        after = int(path.name[:2]) if path.name[:2].isdigit() else 99  # an appendix: after every notebook
    else:
        needs = NEEDS.search(text)
        if not needs:
            raise SystemExit(f"{path.relative_to(ROOT)}: its first cell needs '**You need** notebook NN'")
        after = int(needs.group(2) or needs.group(1))
    return Entry(kind, title.group(1).strip(), path.relative_to(ROOT).as_posix(), int(minutes.group(1)), after)


def entries(root: Path = ROOT) -> list[Entry]:
    """The notebooks and sheets in course order: each notebook, then the sheets that follow it."""
    notebooks = [_read(p, "notebook") for p in sorted((root / "notebooks").glob("[0-9][0-9]-*.ipynb"))]
    sheets = [_read(p, "lab sheet") for p in sorted((root / "labs").glob("[0-9][0-9]-*.ipynb"))]
    order = []
    for notebook in notebooks:
        order.append(notebook)
        order += [sheet for sheet in sheets if sheet.after == notebook.after]
    order += [sheet for sheet in sheets if sheet not in order]  # a sheet after a notebook that is gone
    # appendices (notebooks named by a letter: A · registry:2 and registry:3) come last
    order += [_read(p, "notebook") for p in sorted((root / "notebooks").glob("[A-Z]-*.ipynb"))]
    return order


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def page(root: Path = ROOT) -> nbformat.NotebookNode:
    order = entries(root)
    intro = "\n".join([
        "# Registry Lab · start here",
        "",
        "Learn to run your own private Docker registry. The **notebooks** show each step live and print,",
        "for each one, the docker command you would type at work; the **lab sheets** are practice: you do",
        "the work with the docker CLI, and each task's check reads the live registry, files and",
        "containers. Take them in this order (click a name to open it); each sheet stands alone, so skip",
        "any you like.",
        "",
        f"About {_hours(sum(e.minutes for e in order))} in all: "
        f"{sum(e.kind == 'notebook' for e in order)} notebooks and {sum(e.kind == 'lab sheet' for e in order)} "
        "lab sheets.",
    ])
    rows = ["| | Open | Minutes |", "|---|---|---|"]
    for i, entry in enumerate(order, 1):
        name = f"Notebook {entry.title}" if entry.kind == "notebook" else entry.title
        rows.append(f"| {i} | [{name}]({entry.path}) | {entry.minutes} |")
    how = "\n".join([
        "## How",
        "- Run a notebook's cells in order (*Run › Run All Cells* works too). What it starts, its last",
        "  cell removes (notebook 03: shutting its kernel down); `python -m reglab clean` in a terminal",
        "  removes everything the course made.",
        "- In a lab sheet, run the set-up cell first; then, for each task, do the work in a terminal",
        "  (*File › New › Terminal*) or in the cell under it, and run its check: `✔` done, `✘` what is",
        "  missing. `sheet.q1.hint()` gives a hint, `sheet.q1.solution()` one way to do it.",
    ])
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(intro), nbformat.v4.new_markdown_cell("\n".join(rows)),
                nbformat.v4.new_markdown_cell(how)]
    for n, cell in enumerate(nb.cells):
        cell.id = f"start-{n:02d}"
    # what JupyterLab writes when the kernel connects, as in the notebooks: opening marks nothing modified
    first = next((root / entry.path for entry in order if entry.kind == "notebook"), None)
    nb.metadata = dict(nbformat.read(first, as_version=4).metadata) if first else {}
    return nb


def main(argv: list[str]) -> int:
    text = nbformat.writes(page()) + "\n"
    if argv == ["--check"]:
        if not PAGE.exists() or PAGE.read_text() != text:
            print(f"{PAGE.name} is out of date: run `python scripts/build_start_page.py`", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
