"""notebooks/sources/*.py (jupytext percent format) are the truth; notebooks/*.ipynb are made from
them by `make notebooks` (jupytext, execute, scripts/tidy_notebooks.py). These checks need no
kernel: a notebook whose inputs drifted from its source, or that was not tidied, fails here."""

import importlib.util
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks" / "sources").glob("*.py"))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _tidy_module():
    spec = importlib.util.spec_from_file_location("tidy_notebooks", ROOT / "scripts" / "tidy_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _inputs(nb) -> list[tuple[str, str, list]]:
    return [(c.cell_type, c.source, list(c.metadata.get("tags", []))) for c in nb.cells]


def test_every_notebook_has_a_source_and_every_source_a_notebook():
    assert [p.stem for p in SOURCES] == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_inputs_are_its_source(source):
    notebook = nbformat.read(ROOT / "notebooks" / f"{source.stem}.ipynb", as_version=4)
    assert _inputs(notebook) == _inputs(jupytext.read(source)), "run `make notebooks`"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_tidy_and_opens_unmodified(notebook):
    tidy = _tidy_module()
    nb = nbformat.read(notebook, as_version=4)
    assert tidy.tidied(nb, notebook.stem) == nb, "run `make notebooks`"
    # what JupyterLab writes on connecting to the kernel is already there: opening marks nothing modified
    assert nb.metadata["kernelspec"] == tidy.kernelspec()
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5) and "jupytext" not in nb.metadata
    ids = [cell.id for cell in nb.cells]
    assert len(set(ids)) == len(ids) and all(i.startswith(notebook.stem.split("-", 1)[0] + "-") for i in ids)


def test_tidy_gives_new_cells_the_next_free_id_and_joins_streams():
    tidy = _tidy_module()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("a"), nbformat.v4.new_code_cell("b"), nbformat.v4.new_code_cell("c")]
    nb.cells[0].id, nb.cells[1].id, nb.cells[2].id = "07-00", "d309d74a", "07-05"
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="$ docker ps"),
                           nbformat.v4.new_output("stream", name="stdout", text="\nfine\n"),
                           nbformat.v4.new_output("stream", name="stderr", text="oops\n")]
    nb.cells[1].metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00Z"}
    clean = tidy.tidied(nb, "07-example")
    assert [c.id for c in clean.cells] == ["07-00", "07-06", "07-05"]
    assert [(o.name, o.text) for o in clean.cells[1].outputs] == [("stdout", "$ docker ps\nfine\n"), ("stderr", "oops\n")]
    assert "execution" not in clean.cells[1].metadata
    assert tidy.tidied(clean, "07-example") == clean  # tidying twice changes nothing


def test_tidy_refuses_outputs_made_with_images_other_than_the_stand_ins():
    tidy = _tidy_module()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("lab = Lab('07')")]
    nb.cells[0].outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text="(reglab) hello-world here is not reglab's stand-in (it came from …\n")]
    with pytest.raises(ValueError, match="not reglab's stand-ins"):
        tidy.tidied(nb, "07-example")


def test_tidy_names_widget_models_the_same_whatever_ids_a_run_drew():
    tidy = _tidy_module()

    def executed(ids: list[str]):
        box, bar, layout = ids
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("bar")]
        nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={
            tidy.WIDGET_VIEW: {"model_id": box, "version_major": 2, "version_minor": 0}, "text/plain": "box"})]
        nb.metadata["widgets"] = {tidy.WIDGET_STATE: {"version_major": 2, "version_minor": 0, "state": {
            layout: {"model_name": "LayoutModel", "state": {}},
            bar: {"model_name": "IntProgressModel", "state": {"layout": f"IPY_MODEL_{layout}"}},
            box: {"model_name": "VBoxModel", "state": {"children": [f"IPY_MODEL_{bar}"]}}}}}
        return tidy.tidied(nb, "07-example")

    one, two = executed(["a" * 32, "b" * 32, "c" * 32]), executed(["1" * 32, "2" * 32, "3" * 32])
    assert one == two
    state = one.metadata["widgets"][tidy.WIDGET_STATE]["state"]
    box = one.cells[0].outputs[0].data[tidy.WIDGET_VIEW]["model_id"]
    bar = state[box]["state"]["children"][0].removeprefix("IPY_MODEL_")
    assert state[bar]["state"]["layout"].removeprefix("IPY_MODEL_") in state and len(state) == 3
