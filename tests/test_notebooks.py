"""Notebooks run as nbval runs them with port 5000 held by another program: passing full output
comparison, and leaving no reglab object behind once the kernel stops (as JupyterLab stops it:
see the root conftest.py) — no container, volume or network, and no image it loaded, pulled or
tagged (a dangling one included). Every notebook under the daemonless engine; notebook 01 under Docker.

What else `make test` runs (scripts/test.sh), so that every notebook is compared in full under both
engines, with a check that nothing is left, within its time budget (5 minutes on 2 cores):
- nbval validates every notebook under Docker (01–04 on a second daemon of their own, 05 and 06 on
  the machine's: they change its daemon.json), beside the runs here under the daemonless engine;
- under Docker, nothing left: tests/test_browser.py (01, 03, 04, when JupyterLab stops its
  kernels) and the killed-kernel test below (02); the port choice is the Lab's, the same for
  every notebook, and the Docker engine publishes whatever port it is given (01 shows it)."""

import os
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from reglab import images as course_images
from reglab import ports
from reglab.engines.local import LocalEngine
from reglab.naming import Scope
from reglab.reference import parse
from now import settings, state_root

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
    """Port 5000 taken when the notebook starts: by a program that is no lab — or, when tests run
    side by side (make test), possibly by another test's lab, which is the same case for the
    notebook. Our holder also takes 5000's port lock, so no lab of the other session takes it."""
    owner = f"test-holder-{os.getpid()}"
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if ports.hold(5000, "127.0.0.1", owner, settings().port_locks):
            try:
                holder.bind(("127.0.0.1", 5000))
                holder.listen()
            except OSError:
                pass  # a program that is no lab has it: taken all the same
        yield
    finally:
        holder.close()
        ports.release(owner)


def _registry_processes() -> list[str]:
    """Processes started under this test session's state or work folder — registries, and notebook
    07's store, nginx and redis: on a shared machine other people's (other sandboxes, other
    learners) are none of these tests' business."""
    out = subprocess.run(["pgrep", "-af", "registry serve|weed |nginx|redis-server"],
                         capture_output=True, text=True, check=False)
    ours = (f"{state_root()}/", f"{settings().workdir}/")
    return [line for line in out.stdout.splitlines() if "pgrep" not in line and any(o in line for o in ours)]


def _leftovers(engine_kind: str, lab: str, request) -> list:
    if engine_kind == "docker":
        return request.getfixturevalue("engine").objects.of(Scope(lab))
    return LocalEngine().objects.of(Scope(lab)) + _registry_processes()


def _images(engine_kind: str, request) -> set[str]:
    """Every image in the engine's store but the course's own (built again whenever missing)."""
    store = request.getfixturevalue("engine") if engine_kind == "docker" else LocalEngine()
    course = {parse(ref).tagged for ref in course_images.required(settings()).values()}
    return {f"{info.id[7:19]} {' '.join(info.tags) or '<none> ' + ' '.join(info.repo_digests)}"
            for info in store.images.list() if not course & set(info.tags)}


ENGINES = ["docker", pytest.param("local", marks=pytest.mark.daemonless)]


# Every notebook runs in the session itself (nbval, Docker) and again without a Docker daemon
# (scripts/test.sh); here each runs once more with port 5000 taken, under the daemonless engine
# (notebook 01 under Docker too), within make test's time budget.
HELD_RUNS = [pytest.param(notebook, "local", marks=pytest.mark.daemonless) for notebook in NOTEBOOKS]
# notebook 01 removes hello-world: its Docker runs need hello-world's image to be the course's alone
HELD_RUNS.append(pytest.param(NOTEBOOKS[0], "docker", marks=pytest.mark.hello_world_alone))
# notebook 02 (the re-run after the kill) removes hello-world too
KILLED_RUNS = [pytest.param("docker", marks=pytest.mark.hello_world_alone), ENGINES[1]]


@pytest.mark.engine
@pytest.mark.parametrize(("notebook", "engine_kind"), HELD_RUNS, ids=lambda v: getattr(v, "stem", v))
def test_notebook_passes_with_port_5000_taken_and_leaves_nothing(notebook, engine_kind, request, tmp_path):
    lab = notebook.name.split("-", 1)[0].lower()  # "01", or "a" for appendix A
    env = _env(engine_kind, tmp_path)
    images = _images(engine_kind, request)
    with _port_5000_held():
        held = _nbval(notebook, env)
    assert held.returncode == 0, held.stdout[-3000:]
    assert _leftovers(engine_kind, lab, request) == []
    assert _images(engine_kind, request) - images == set()  # e.g. notebook 04's old app:v6, once dangling


@pytest.mark.engine
@pytest.mark.parametrize("engine_kind", KILLED_RUNS)
def test_kernel_killed_half_way_then_rerun_leaves_nothing(engine_kind, request, tmp_path):
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
        assert _leftovers(engine_kind, "02", request) != []  # the registry and its volume exist
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)  # SIGKILL: the kernel gets no chance to clean up
    rerun = _nbval(notebook, env)
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert _leftovers(engine_kind, "02", request) == []
    assert not [i for i in _images(engine_kind, request) if "127.0.0.1:" in i]


@pytest.mark.engine
@pytest.mark.parametrize("engine_kind", ENGINES)
def test_notebook_05_killed_half_way_restores_daemon_json_certs_d_and_docker_config(engine_kind, request, tmp_path):
    """Notebook 05 changes things outside its folders: daemon.json (Docker), a CA in certs.d, a
    DOCKER_CONFIG folder. Kill its kernel with all of them changed; the next run puts every one
    back (daemon.json byte for byte, and the daemon's view of it), passes, and leaves nothing."""
    from jupyter_client.manager import start_new_kernel

    DAEMON_JSON_ENV = "REGLAB_DAEMON_JSON"

    notebook = ROOT / "notebooks" / "05-secure-your-registry.ipynb"
    env = _env(engine_kind, tmp_path)
    engine = request.getfixturevalue("engine") if engine_kind == "docker" else LocalEngine()
    daemon = engine.daemon.config() if engine_kind == "docker" else None
    if daemon and daemon.why_not():
        pytest.skip(daemon.why_not())
    if daemon:
        path = daemon.path
    else:  # the daemon.json reglab would use, of its own: the machine's may change meanwhile (make
        path = tmp_path / "daemon.json"  # test runs notebook 05 under Docker beside this)
        path.write_bytes(b'{\n  "debug": false\n}\n')
        env[DAEMON_JSON_ENV] = str(path)
    original = path.read_bytes() if path.exists() else None
    shown = engine.daemon.insecure_registries()
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(ROOT / "notebooks"))
    printed: list[str] = []
    try:
        code = ("from reglab import Lab\nlab = Lab('05', echo=False)\nregistry = lab.secure.run_plain()\n"
                "lab.secure.allow_plain_http()\nlab.secure.make_certificates()\nregistry = lab.secure.run_tls()\n"
                "trusted = lab.secure.trust()\nlab.secure.add_user('alice')\nregistry = lab.secure.run_with_login()\n"
                "folder = lab.secure.use_throwaway_docker_config()\nlab.secure.login('alice')\n"
                "print(trusted, folder, lab.sandbox.daemon_backup, sep='\\n')")
        reply = client.execute_interactive(code, timeout=120, output_hook=lambda m: printed.append(
            m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)  # SIGKILL: no atexit, no cleanup
    trusted, folder, backup = (Path(p) for p in "".join(printed).split())
    assert trusted.is_file() and (folder / "config.json").is_file()
    if engine_kind == "docker":
        assert backup.is_file() and path.read_bytes() != original
        assert any(":5000" in entry for entry in engine.daemon.insecure_registries())
    rerun = _nbval(notebook, env)
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert _leftovers(engine_kind, "05", request) == []
    assert not trusted.exists() and not trusted.parent.exists() and not folder.exists() and not backup.exists()
    assert (path.read_bytes() if path.exists() else None) == original
    assert engine.daemon.insecure_registries() == shown
