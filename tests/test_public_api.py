"""The public API is what reglab.__all__ declares, and notebooks and lab sheets import nothing else."""

import ast
from pathlib import Path

import reglab

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks" / "sources").glob("*.py")) + sorted((ROOT / "labs" / "sources").glob("*.py"))


def _imports(path: Path) -> list[tuple[str, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reglab"):
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names if alias.name.startswith("reglab")]
    return found


def test_every_public_name_resolves():
    for name in reglab.__all__:
        assert getattr(reglab, name) is not None, name
    assert reglab.start is reglab.tasks.start


def test_notebooks_and_sheets_import_only_the_public_api():
    allowed = {("reglab", name) for name in reglab.__all__} | {("reglab.tasks", "start")}
    for path in SOURCES:
        imported = _imports(path)
        assert imported, path.name
        assert set(imported) <= allowed, (path.name, sorted(set(imported) - allowed))
