"""The last step of ``make notebooks``: make executed notebooks diff cleanly and open unmodified.

jupytext turns ``notebooks/sources/*.py`` into the notebooks and nbconvert executes them; this
step then, for each notebook:

- drops per-run execution timestamps from cell metadata (re-runs diff only where outputs do);
- joins consecutive stream outputs of one cell (stdout with stdout, stderr with stderr), as
  JupyterLab shows them and nbval compares them: how a kernel happened to flush a line into
  two messages no longer shows up in diffs;
- drops jupytext's own notebook metadata (the sources are the truth; no pairing is recorded in
  the notebook, so JupyterLab with jupytext never rewrites a source when a learner saves);
- gives every new cell a stable id ``NN-MM`` (the notebook's number, then the next free number):
  jupytext keeps the ids of cells it matched, so an inserted cell changes only its own lines;
- writes the kernelspec exactly as JupyterLab does when it connects to the kernel (name,
  display name and language of the installed ``python3`` spec). JupyterLab sets ``kernelspec``
  and ``language_info`` on connect and marks the notebook modified when they differ from the
  file: a display name of "Python 3" instead of "Python 3 (ipykernel)" showed the
  unsaved-changes dot on every committed notebook. ``language_info`` already comes from the
  kernel that executed the notebook;
- renames ipywidgets' models deterministically (their ids are random per run): outputs in order,
  then the models they refer to, depth first; re-running a notebook with widgets then changes
  no line of its widget state unless a widget changed;
- takes each cell's tags from its source (jupytext keeps a matched cell's old metadata, so a tag
  removed from the source, such as ``raises-exception``, would otherwise stay in the notebook);
- refuses a notebook executed with images other than reglab's stand-ins (its outputs would show
  another greeting and digests than every learner and the tests expect).

``python scripts/tidy_notebooks.py --check NB...`` changes nothing and exits 1 if a notebook is
not tidy (the tests use :func:`tidied`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import sys
from pathlib import Path

import nbformat

SOURCES = Path(__file__).resolve().parent.parent / "notebooks" / "sources"

KERNEL = "python3"
NON_STANDIN_MARK = "not reglab's stand-in"  # in the Lab's note when real images are used


def kernelspec(name: str = KERNEL) -> dict:
    """The kernelspec metadata JupyterLab writes when it connects to kernel ``name``."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(name)
    return {"display_name": spec.display_name, "language": spec.language, "name": name}


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.extend(str(v) for v in output.get("data", {}).values())
    return "\n".join(parts)


def _joined_streams(outputs: list) -> list:
    joined = []
    for output in outputs:
        last = joined[-1] if joined else None
        if (output.get("output_type") == "stream" and last is not None and last.get("output_type") == "stream"
                and last.get("name") == output.get("name")):
            last["text"] = last["text"] + output["text"]
        else:
            joined.append(copy.deepcopy(output))
    return joined


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MODEL_REF = re.compile(r"IPY_MODEL_([0-9a-f]{32})")


def _renamed_widgets(nb, stem: str) -> None:
    """Give every widget model a deterministic id (in place)."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state")
    if not state:
        return
    order: list[str] = []

    def visit(model_id: str) -> None:
        if model_id in order or model_id not in state:
            return
        order.append(model_id)
        for ref in MODEL_REF.findall(json.dumps(state[model_id]["state"], sort_keys=True)):
            visit(ref)

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                visit(view["model_id"])
    rest = sorted((m for m in state if m not in order),
                  key=lambda m: MODEL_REF.sub("", json.dumps(state[m], sort_keys=True)))
    for model_id in rest:
        visit(model_id)
    new = {old: hashlib.sha256(f"{stem}:{i}".encode()).hexdigest()[:32] for i, old in enumerate(order)}

    def rename(text: str) -> str:
        return MODEL_REF.sub(lambda m: "IPY_MODEL_" + new.get(m.group(1), m.group(1)), text)

    nb.metadata["widgets"][WIDGET_STATE]["state"] = {
        new[old]: json.loads(rename(json.dumps(state[old]))) for old in order}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view and view["model_id"] in new:
                view["model_id"] = new[view["model_id"]]


def _tags_from_source(nb, stem: str) -> None:
    """Each cell's tags as its source gives them (cells matched by content, in order)."""
    source = SOURCES / f"{stem}.py"
    if not source.exists():
        return
    import jupytext

    wanted = [(c.cell_type, c.source.strip(), list(c.metadata.get("tags", [])))
              for c in jupytext.read(source, fmt="py:percent").cells]
    if [(t, s) for t, s, _ in wanted] != [(c.cell_type, c.source.strip()) for c in nb.cells]:
        return  # not the notebook of this source (the sources test says so)
    for cell, (_, _, tags) in zip(nb.cells, wanted):
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)


def tidied(nb, stem: str):
    """``nb`` tidied (a copy); raises ValueError if it was executed with non-stand-in images."""
    nb = copy.deepcopy(nb)
    if NON_STANDIN_MARK in _outputs_text(nb):
        raise ValueError(f"{stem} was executed with images that are not reglab's stand-ins (real registry:2 or "
                         "hello-world are present): remove them (docker image rm registry:2 hello-world) and run "
                         "`make notebooks` again, so its outputs are what learners and the tests see.")
    nb.metadata.pop("jupytext", None)
    _tags_from_source(nb, stem)
    _renamed_widgets(nb, stem)
    nb.metadata["kernelspec"] = kernelspec()
    prefix = stem.split("-", 1)[0]  # the notebook's number ("01"), or the appendix's letter ("A")
    own = re.compile(rf"{re.escape(prefix)}-(\d+)")
    taken = {int(m.group(1)) for cell in nb.cells if (m := own.fullmatch(cell.get("id", "")))}
    next_free = max(taken, default=-1) + 1
    seen = set()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _joined_streams(cell.outputs)
        cell_id = cell.get("id", "")
        if not own.fullmatch(cell_id) or cell_id in seen:
            cell["id"] = f"{prefix}-{next_free:02d}"
            next_free += 1
        seen.add(cell["id"])
    return nb


def main(argv: list[str]) -> int:
    check = argv[:1] == ["--check"]
    paths = [Path(p) for p in (argv[1:] if check else argv)]
    untidy = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        try:
            clean = tidied(nb, path.stem)
        except ValueError as exc:
            print(f"tidy: {exc}", file=sys.stderr)
            return 1
        if clean != nb:
            if check:
                untidy.append(str(path))
            else:
                nbformat.write(clean, path)
                print(f"tidied {path}")
    if untidy:
        print(f"tidy: not tidy: {', '.join(untidy)} — run `make notebooks`.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
