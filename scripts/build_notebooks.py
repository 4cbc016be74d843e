"""Build notebooks/*.ipynb (without outputs) from notebooks/sources/*.py.

Sources use the "percent" format (as jupytext does): ``# %% [markdown]`` starts a
markdown cell whose lines begin with ``# ``, ``# %%`` a code cell, optionally with
``tags=["raises-exception"]``. Outputs come only from executing the result
(``make notebooks``), never from an editor.
"""

import json
import re
import sys
from pathlib import Path

import nbformat

HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def cells(text: str):
    kind, tags, lines = None, [], []
    for line in text.splitlines():
        match = HEADER.match(line)
        if match:
            if kind:
                yield kind, tags, lines
            kind = "markdown" if match["md"] else "code"
            tags = json.loads(match["tags"]) if match["tags"] else []
            lines = []
        elif kind:
            lines.append(line)
    if kind:
        yield kind, tags, lines


def build(source: Path, target: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, tags, lines in cells(source.read_text()):
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if kind == "markdown":
            body = "\n".join(re.sub(r"^# ?", "", line) for line in lines)
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):  # stable ids: clean diffs when re-built
        cell["id"] = f"{source.stem[:2]}-{i:02d}"
    nbformat.write(nb, target)


def tidy(notebook: Path) -> None:
    """Drop per-run execution timestamps from cell metadata: re-runs then diff only where outputs do."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, notebook)


def main(paths: list[str]) -> None:
    if paths[:1] == ["--tidy"]:
        for path in paths[1:]:
            tidy(Path(path))
        return
    root = Path(__file__).resolve().parent.parent / "notebooks"
    sources = [Path(p) for p in paths] or sorted((root / "sources").glob("*.py"))
    for source in sources:
        target = root / f"{source.stem}.ipynb"
        build(source, target)
        print(f"built {target.relative_to(root.parent)}")


if __name__ == "__main__":
    main(sys.argv[1:])
