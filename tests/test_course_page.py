"""The course as a learner opens it with `make lab`: no kernel, no daemon.

- START-HERE.ipynb (the page JupyterLab opens first) is what scripts/build_start_page.py makes from
  the course, lists every notebook and lab sheet that exists, in order, each once, with the minutes
  the notebook or sheet itself states, and each link resolves;
- every relative link in a notebook, a sheet, the course page and the READMEs resolves from where
  the file sits (JupyterLab serves the repository's folder), and Binder's urlpath names a file;
- the course's Jupyter configuration (jupyter/): JupyterLab's announcements plugin (the "Jupyter
  news?" prompt) off, and the jupytext sources out of the file browser's listings while still
  openable — checked with the installed jupyter_server's own contents manager; scripts/lab.sh and
  binder/start use it;
- no insider word: "seed" (the course's own source notes, which a learner never sees) appears in no
  notebook's or sheet's markdown or outputs.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

pytestmark = pytest.mark.daemonless
ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "START-HERE.ipynb"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")) + sorted((ROOT / "notebooks").glob("[A-Z]-*.ipynb"))
SHEETS = sorted((ROOT / "labs").glob("[0-9][0-9]-*.ipynb"))
SOLUTIONS = sorted((ROOT / "labs" / "solutions").glob("*.ipynb"))
SOURCES = sorted((ROOT / "notebooks" / "sources").glob("*.py")) + sorted((ROOT / "labs" / "sources").glob("*.py"))
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")  # [text](target), not images
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"
INSIDER = re.compile(r"\bseed", re.IGNORECASE)


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def _markdown(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text()
    nb = nbformat.read(path, as_version=4)
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def _relative_links(text: str) -> list[str]:
    return [t.split("#")[0] for t in LINK.findall(text)
            if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def _page_rows() -> list[tuple[str, str, int]]:
    """(name, link, minutes) of each row of the course page's table, in order."""
    text = _markdown(PAGE)
    return [(m.group(1), m.group(2), int(m.group(3)))
            for m in re.finditer(r"^\| \d+ \| \[([^\]]+)\]\(([^)]+)\) \| (\d+) \|$", text, re.MULTILINE)]


def test_the_course_page_is_what_the_course_gives():
    module = _script("build_start_page")
    assert PAGE.read_text() == nbformat.writes(module.page()) + "\n", "run `python scripts/build_start_page.py`"
    assert module.main(["--check"]) == 0


def test_the_course_page_lists_every_notebook_and_sheet_once_in_order_with_their_minutes():
    rows = _page_rows()
    linked = [link for _, link, _ in rows]
    assert sorted(linked) == sorted(str(p.relative_to(ROOT)) for p in NOTEBOOKS + SHEETS)
    assert len(set(linked)) == len(linked)
    for name, link, minutes in rows:
        path = ROOT / link
        assert path.is_file(), link
        stated = re.search(r"\b[Aa]bout (\d+) minutes\b", _markdown(path))
        assert stated and int(stated.group(1)) == minutes, f"{link}: the page says {minutes} minutes"
        assert name.endswith(nbformat.read(path, as_version=4).cells[0].source.splitlines()[0].lstrip("# "))
    # in course order: notebooks by number, each sheet after the notebook it needs
    numbers = [link for link in linked if link.startswith("notebooks/")]
    assert numbers == sorted(numbers, key=lambda n: (not n[10].isdigit(), n))  # appendices (A-…) last
    for i, link in enumerate(linked):
        if link.startswith("labs/"):
            needs = re.search(r"\*\*You need\*\* notebooks? (?:\d\d[–-])?(\d\d)", _markdown(ROOT / link)).group(1)
            before = [n for n in linked[:i] if n.startswith("notebooks/")]
            assert before and before[-1].startswith(f"notebooks/{needs}-"), f"{link} comes after {before[-1:]}"
    # and it opens unmodified: JupyterLab writes this kernelspec and language_info on connecting
    assert nbformat.read(PAGE, as_version=4).metadata == nbformat.read(NOTEBOOKS[0], as_version=4).metadata


READMES = [ROOT / "README.md", ROOT / "labs" / "README.md"]


@pytest.mark.parametrize("path", [PAGE, *NOTEBOOKS, *SHEETS, *SOLUTIONS, *READMES],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_from_where_the_file_sits(path):
    missing = [link for link in _relative_links(_markdown(path)) if not (path.parent / link).exists()]
    assert missing == []


def test_binder_opens_a_file_that_exists():
    paths = set(re.findall(r"urlpath=lab/tree/([^)`\s&]+)", (ROOT / "README.md").read_text()))
    for name in ("postBuild", "start", "README.md"):
        if (ROOT / "binder" / name).exists():
            paths |= set(re.findall(r"urlpath=lab/tree/([^)`\s&\"']+)", (ROOT / "binder" / name).read_text()))
    assert paths == {"START-HERE.ipynb"}
    assert all((ROOT / p).is_file() for p in paths)


def test_the_news_prompt_is_off_by_the_shipped_page_config():
    page_config = ROOT / "jupyter" / "labconfig" / "page_config.json"
    assert json.loads(page_config.read_text()) == {"disabledExtensions": {ANNOUNCEMENTS: True}}
    # the plugin id is the installed JupyterLab's own
    static = Path(sys.prefix) / "share" / "jupyter" / "lab" / "static"
    assert any(f'id:"{ANNOUNCEMENTS}"' in p.read_text(errors="replace") for p in static.glob("*.js"))
    # and JupyterLab's server reads it from JUPYTER_CONFIG_PATH into the page it serves
    probe = "from jupyterlab_server.config import get_page_config; print(get_page_config([], '/nonexistent'))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env=dict(os.environ, JUPYTER_CONFIG_PATH=str(ROOT / "jupyter")))
    assert f"'disabledExtensions': ['{ANNOUNCEMENTS}']" in out.stdout


def test_the_jupytext_sources_are_out_of_the_file_browser_but_still_open():
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager  # what JupyterLab uses
    from traitlets.config.loader import JSONFileConfigLoader

    config = JSONFileConfigLoader("jupyter_server_config.json", str(ROOT / "jupyter")).load_config()
    manager = AsyncLargeFileManager(config=config, root_dir=str(ROOT))
    assert set(AsyncLargeFileManager(root_dir=str(ROOT)).hide_globs) < set(manager.hide_globs)  # the defaults kept

    import asyncio

    def names(folder: str) -> set[str]:
        return {item["name"] for item in asyncio.run(manager.get(folder, content=True))["content"]}

    assert "sources" not in names("notebooks") and "sources" not in names("labs")
    assert {p.name for p in NOTEBOOKS} <= names("notebooks") and {"solutions", "README.md"} <= names("labs")
    assert {"START-HERE.ipynb", "notebooks", "labs", "README.md"} <= names("")
    source = SOURCES[0].relative_to(ROOT).as_posix()
    assert asyncio.run(manager.get(source, content=False))["name"] == SOURCES[0].name  # a link to one still opens


def test_lab_sh_and_binder_start_use_the_course_configuration():
    lab = (ROOT / "scripts" / "lab.sh").read_text()
    assert 'export JUPYTER_CONFIG_PATH="$root/jupyter' in lab
    assert '--notebook-dir "${REGLAB_NOTEBOOK_DIR:-$root}"' in lab
    assert "--LabApp.default_url=/lab/tree/START-HERE.ipynb" in lab
    probe = "import os; print(os.environ['JUPYTER_CONFIG_PATH'].split(os.pathsep)[0])"
    out = subprocess.run([str(ROOT / "binder" / "start"), sys.executable, "-c", probe], capture_output=True,
                         text=True, check=True, env={k: v for k, v in os.environ.items() if k != "JUPYTER_CONFIG_PATH"})
    assert out.stdout.strip() == str(ROOT / "jupyter")


@pytest.mark.parametrize("path", [PAGE, *NOTEBOOKS, *SHEETS, *SOLUTIONS], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_insider_words_in_what_a_learner_reads(path):
    nb = nbformat.read(path, as_version=4)
    found = [cell.source for cell in nb.cells if cell.cell_type == "markdown" and INSIDER.search(cell.source)]
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts = [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", []),
                     *(v for k, v in output.get("data", {}).items() if k.startswith("text/") and isinstance(v, str))]
            found += [t for t in texts if INSIDER.search(t)]
    assert found == [], "a learner has no seed notes: say what is meant (the command, the tutorial's step)"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_insider_words_in_the_sources_markdown(source):
    nb = jupytext.read(source)
    assert [c.source for c in nb.cells if c.cell_type == "markdown" and INSIDER.search(c.source)] == []


def test_the_insider_word_check_finds_one():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("The seed notes call it `registry-data`.")]
    assert INSIDER.search(nb.cells[0].source)
    assert not INSIDER.search("Docker's `--registry-mirror` option")
