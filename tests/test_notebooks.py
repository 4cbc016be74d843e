"""Each notebook, run as nbval runs it: twice in a row, then with port 5000 held,
passing full output comparison every time and leaving no reglab object behind."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _nbval(notebook: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(notebook)],
        cwd=ROOT, capture_output=True, text=True, env=os.environ.copy(),
    )


def _lab_id(notebook: Path) -> str:
    return notebook.name[:2]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_passes_and_leaves_nothing(notebook, engine):
    first = _nbval(notebook)
    assert first.returncode == 0, first.stdout[-3000:]
    assert engine.objects(_lab_id(notebook)) == []

    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind(("127.0.0.1", 5000))
    except OSError:
        pytest.skip("port 5000 is held by another program already")
    holder.listen()
    try:
        held = _nbval(notebook)
    finally:
        holder.close()
    assert held.returncode == 0, held.stdout[-3000:]
    assert engine.objects(_lab_id(notebook)) == []
