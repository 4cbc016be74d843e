"""Each notebook, run as nbval runs it, under both engines: passing full output comparison,
again with port 5000 held by another program, and leaving no reglab object behind.

(The main pytest session validates every notebook once already; these runs add the second
run in a row, the port-held run and the daemonless engine.)"""

import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from reglab.engines.local import LocalEngine
from reglab.naming import Scope

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _env(engine_kind: str, tmp_path: Path) -> dict:
    env = os.environ.copy()
    env["REGLAB_ENGINE"] = engine_kind
    if engine_kind == "local":  # as on Binder: no Docker daemon at all
        env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    return env


def _nbval(notebook: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", str(notebook)],
                          cwd=ROOT, capture_output=True, text=True, env=env, check=False)


@contextmanager
def _port_5000_held():
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind(("127.0.0.1", 5000))
    except OSError:
        holder.close()
        pytest.skip("port 5000 is held by another program already")
    holder.listen()
    try:
        yield
    finally:
        holder.close()


def _registry_processes() -> list[str]:
    """Registry processes started under this session's state folder (another learner's, or
    another test session's, are none of our business)."""
    out = subprocess.run(["pgrep", "-af", "docker-registry serve"], capture_output=True, text=True, check=False)
    ours = os.environ["REGLAB_STATE_DIR"]
    return [line for line in out.stdout.splitlines() if "pgrep" not in line and ours in line]


def _leftovers(engine_kind: str, lab: str, docker_engine) -> list:
    if engine_kind == "docker":
        return docker_engine.objects(Scope.of(lab))
    return LocalEngine().objects(Scope.of(lab)) + _registry_processes()


@pytest.mark.parametrize("engine_kind", ["docker", "local"])
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_passes_and_leaves_nothing(notebook, engine_kind, engine, tmp_path):
    lab = notebook.name[:2]
    env = _env(engine_kind, tmp_path)
    first = _nbval(notebook, env)
    assert first.returncode == 0, first.stdout[-3000:]
    assert _leftovers(engine_kind, lab, engine) == []
    with _port_5000_held():
        held = _nbval(notebook, env)
    assert held.returncode == 0, held.stdout[-3000:]
    assert _leftovers(engine_kind, lab, engine) == []


@pytest.mark.parametrize("engine_kind", ["docker", "local"])
def test_kernel_killed_half_way_then_rerun_leaves_nothing(engine_kind, engine, tmp_path):
    """Run notebook 02's first steps in a kernel, kill it (no atexit, no cleanup), then run the
    whole notebook: it clears the dead kernel's leftovers, passes, and leaves nothing."""
    from jupyter_client.manager import start_new_kernel

    notebook = ROOT / "notebooks" / "02-keep-your-images-with-volumes.ipynb"
    env = _env(engine_kind, tmp_path)
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(ROOT / "notebooks"))
    try:
        code = ("from reglab import Lab\nlab = Lab('02', echo=False)\n"
                "registry = lab.run_registry(volume='registry-data')\n"
                "lab.tag('hello-world', registry.ref('hello-world'))\nlab.push(registry.ref('hello-world'))")
        reply = client.execute_interactive(code, timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
        assert _leftovers(engine_kind, "02", engine) != []  # the registry and its volume exist
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)  # SIGKILL: the kernel gets no chance to clean up
    rerun = _nbval(notebook, env)
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert _leftovers(engine_kind, "02", engine) == []
