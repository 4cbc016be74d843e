"""classroom/: the JupyterHub recipe, run for real.

The hub starts from classroom/jupyterhub_config.py as the recipe ships it — one Unix account per
learner (LocalProcessSpawner), the daemonless engine, REGLAB_LEARNER from the hub user, the
course copied into each home — with two test changes: the dummy authenticator and a service
token (scopes admin:users, admin:servers, access:servers). The test makes several learners, starts
their servers through the hub's REST API, and has each run notebook 01 in its own kernel over
the hub's proxy at the same time, comparing every cell's outputs as nbval does; then it stops
everything and checks that nothing is left: no registry, hub, proxy or learner process, no lab
state in any home, no account. About 40 s.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from kernel_runs import HubKernel, compare, patterns, run_notebook
from nbformat import NotebookNode

from reglab.engines.local import registry_binary

pytestmark = pytest.mark.daemonless  # (make test runs it beside the Docker tests)
ROOT = Path(__file__).resolve().parent.parent
CLASSROOM = ROOT / "classroom"
NOTEBOOK = ROOT / "notebooks" / "01-run-your-own-registry.ipynb"
LEARNERS = 4
MARK = "reglab learner"


def proxy_command() -> str | None:
    configured = os.environ.get("REGLAB_CLASS_PROXY")
    local = ROOT / ".venv" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
    return configured or (str(local) if local.exists() else shutil.which("configurable-http-proxy"))


# ----------------------------------------------------------------------------- what needs no hub


def test_the_pins_agree():
    import jupyterhub

    script = (CLASSROOM / "class").read_text()
    assert f"JUPYTERHUB_VERSION={jupyterhub.__version__}\n" in script
    assert re.search(r"^PROXY_VERSION=5\.\d+\.\d+ ", script, re.M)
    assert subprocess.run(["bash", "-n", str(CLASSROOM / "class")]).returncode == 0
    assert os.access(CLASSROOM / "class", os.X_OK)


def test_outputs_compare_as_nbval_compares_them():
    stream = NotebookNode(output_type="stream", name="stdout", text="registry ready at http://127.0.0.1:5000\n")
    moved = NotebookNode(output_type="stream", name="stdout", text="registry ready at http://127.0.0.1:5003\n")
    other = NotebookNode(output_type="stream", name="stdout", text="registry gone\n")
    split = [NotebookNode(output_type="stream", name="stdout", text="registry ready at "),
             NotebookNode(output_type="stream", name="stdout", text="http://127.0.0.1:5000\n")]
    assert compare([stream], [moved], patterns()) is None  # ports sanitized as tests/sanitize.cfg says
    assert compare([stream], split, patterns()) is None  # streams coalesced
    assert "differs" in compare([stream], [other], patterns())
    assert "output fields" in compare([stream], [], patterns())


def _class(*args: str, class_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, REGLAB_CLASS_DIR=str(class_dir))
    return subprocess.run([str(CLASSROOM / "class"), *args], capture_output=True, text=True, env=env)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("useradd"), reason="classroom/class runs as root")
def test_class_adds_and_removes_learners_and_never_an_account_it_did_not_make(tmp_path):
    class_dir = tmp_path / "class"
    added = _class("add", "ada", "grace", class_dir=class_dir)
    assert added.returncode == 0, added.stderr
    assert (class_dir / "learners.txt").read_text().split() == ["ada", "grace"]
    assert os.stat(class_dir).st_mode & 0o777 == 0o700
    bad = _class("add", "Bad/Name", class_dir=class_dir)
    assert bad.returncode == 1 and bad.stderr.strip().startswith("'Bad/Name' cannot be a learner's name")
    assert _class("remove", "ada", class_dir=class_dir).returncode == 0  # no account yet: the name goes
    assert (class_dir / "learners.txt").read_text().split() == ["grace"]
    stranger = f"rlc{secrets.token_hex(3)}"  # an account the class did not make
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", stranger], check=True)
    try:
        refused = _class("remove", stranger, class_dir=class_dir)
        assert refused.returncode == 1 and "did not create: it is left alone" in refused.stderr
        pwd.getpwnam(stranger)  # still there
    finally:
        subprocess.run(["userdel", stranger], capture_output=True)


# ----------------------------------------------------------------------------- the hub

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("useradd") or registry_binary() is None or proxy_command() is None,
    reason="needs root with useradd, the registry binary and configurable-http-proxy (scripts/setup.sh test installs it)",
)


def _free_base_port() -> int:
    """A port P with P, P+1 and P+81 free (the class's address, the proxy's API, the hub's API)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base = sock.getsockname()[1]
        if base + 81 < 65536 and all(_free(base + d) for d in (0, 1, 81)):
            return base
    raise RuntimeError("no three free ports found")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _learner_python(work: Path) -> Path:
    """A Python every learner can run: this machine's python of the same version, seeing this
    venv's packages through a .pth file (a class uses classroom/class's venv instead)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/local/bin:/usr/bin:/bin")
    if system is None:
        pytest.skip(f"no system {version} a learner can run")
    venv = work / "venv"
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    # (.pth files are read in site directories only, so reglab's editable install needs its own line)
    (venv / "lib" / version / "site-packages" / "reglab-project-venv.pth").write_text(
        f"{ROOT / 'src'}\n{site_packages}\n")
    return venv / "bin" / "python"


def _pids(*args: str) -> list[int]:
    out = subprocess.run(["pgrep", *args], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


class Hub:
    def __init__(self, url: str, token: str, names: list[str], homes: Path, process: subprocess.Popen, log: Path):
        self.url, self.names, self.homes, self.process, self.log = url, names, homes, process, log
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"token {token}"
        self.token = token

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.api.request(method, f"{self.url}/hub/api{path}", timeout=60, **kwargs)

    def wait_ready(self, name: str, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.call("GET", f"/users/{name}").json()
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                return server
            if not model.get("pending") and not server:
                break  # the spawn failed
            time.sleep(0.5)
        raise AssertionError(f"{name}'s server did not become ready; the hub's log:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _learners_left(names: list[str]) -> list[str]:
    left = []
    for name in names:
        try:
            pwd.getpwnam(name)
            left.append(name)
        except KeyError:
            pass
    return left


def _remove_learners(names: list[str]) -> None:
    for name in _learners_left(names):
        account = pwd.getpwnam(name)
        if account.pw_gecos.split(",")[0] != MARK:
            continue  # never an account this test did not make
        for pid in _pids("-u", str(account.pw_uid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["userdel", "--remove", name], capture_output=True)


@contextmanager
def running_hub(names: list[str]):
    """The recipe's hub, as root, with the dummy authenticator and a service token."""
    work = Path(tempfile.mkdtemp(prefix="reglab-class-"))
    work.chmod(0o755)
    class_dir, homes = work / "class", work / "homes"
    homes.mkdir()
    token = secrets.token_hex(32)
    port = _free_base_port()
    config = work / "test_config.py"
    config.write_text(
        f"load_subconfig({str(CLASSROOM / 'jupyterhub_config.py')!r})\n"
        "import os\n"
        "c.JupyterHub.authenticator_class = 'dummy'\n"
        "c.JupyterHub.services = [{'name': 'classroom-test', 'api_token': os.environ['CLASS_TEST_TOKEN']}]\n"
        "c.JupyterHub.load_roles = [{'name': 'classroom-test', 'services': ['classroom-test'],\n"
        "                            'scopes': ['admin:users', 'admin:servers', 'access:servers']}]\n"
    )
    env = dict(os.environ, REGLAB_CLASS_DIR=str(class_dir), REGLAB_CLASS_HOMES=str(homes),
               REGLAB_CLASS_PYTHON=str(_learner_python(work)), REGLAB_CLASS_PROXY=proxy_command(),
               REGLAB_CLASS_PORT=str(port), CLASS_TEST_TOKEN=token)
    log = work / "hub.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=work, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    hub = Hub(f"http://127.0.0.1:{port}", token, names, homes, process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if hub.call("GET", "/").status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, f"the hub did not start:\n{hub.tail()}"
            time.sleep(0.3)
        yield hub
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the hub stops every server and its proxy
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for pid in _pids("-s", str(process.pid)):  # anything left in the hub's session (the proxy)
            os.kill(pid, signal.SIGKILL)
        _remove_learners(names)
        shutil.rmtree(work, ignore_errors=True)


def _learner_run(hub: Hub, name: str) -> dict:
    """One learner: a kernel on their server (through the proxy), their identity, notebook 01."""
    kernel = HubKernel(f"{hub.url}/user/{name}", hub.token)
    try:
        who = kernel.execute("import os, getpass\nprint(getpass.getuser(), os.environ.get('REGLAB_LEARNER'), "
                             "os.environ.get('REGLAB_ENGINE'), os.environ.get('HOME'), os.getcwd())", 60)
        runs = run_notebook(kernel, NOTEBOOK, patterns(learner=name))
    finally:
        kernel.shutdown()
    return {"who": who[0].text.split() if who else [], "runs": runs}


@needs_root
def test_learners_run_notebook_01_at_once_through_the_hub_and_leave_nothing():
    tag = secrets.token_hex(2)
    names = [f"lrn{tag}-{i}" for i in range(1, LEARNERS + 1)]
    assert _learners_left(names) == []
    with running_hub(names) as hub:
        assert hub.call("POST", "/users", json={"usernames": names}).status_code == 201
        for name in names:
            assert hub.call("POST", f"/users/{name}/server").status_code in (201, 202), hub.tail()
        for name in names:
            hub.wait_ready(name)
        # the recipe's work, on disk: one account per learner, a private home, the course in it
        for name in names:
            account = pwd.getpwnam(name)
            assert account.pw_gecos.startswith(MARK) and account.pw_dir == str(hub.homes / name)
            assert os.stat(account.pw_dir).st_mode & 0o777 == 0o700
            copy = Path(account.pw_dir) / "registry-lab" / "notebooks" / NOTEBOOK.name
            assert copy.read_bytes() == NOTEBOOK.read_bytes() and copy.stat().st_uid == account.pw_uid

        with ThreadPoolExecutor(len(names)) as pool:
            results = dict(zip(names, pool.map(lambda n: _learner_run(hub, n), names)))

        for name, result in results.items():
            home = str(hub.homes / name)
            assert result["who"] == [name, name, "local", home, home], result["who"]
            failed = [str(r) for r in result["runs"] if not r.ok]
            assert failed == [], f"{name}: {failed}"
            assert len(result["runs"]) == 23
        # the servers stop through the API; then nothing of any learner runs
        for name in names:
            assert hub.call("DELETE", f"/users/{name}/server").status_code in (202, 204)
        deadline = time.monotonic() + 60
        while any(_pids("-u", str(pwd.getpwnam(n).pw_uid)) for n in names) and time.monotonic() < deadline:
            time.sleep(0.3)
        for name in names:
            account = pwd.getpwnam(name)
            assert _pids("-u", str(account.pw_uid)) == [], f"{name} still has processes"
            state = Path(account.pw_dir) / ".local" / "state" / "reglab"
            # nothing of lab 01 is left: no file but the learner's image store (the learner's
            # own, like Docker's images) and reglab's cache, no folder of lab 01
            kept = {"_images", "_cache", "progress.jsonl"}
            assert [p for p in state.rglob("*") if p.is_file() and not kept & set(p.relative_to(state).parts)] == []
            assert list(state.glob("_learners/*/01")) == []
            assert not any(Path("/tmp", f"reglab-{name}").glob("*"))  # the spawner gives no TMPDIR
        hub_pid = hub.process.pid
    # the hub stopped with the block: its session (hub and proxy) is empty, the accounts are gone
    assert _pids("-s", str(hub_pid)) == []
    assert _pids("-f", "docker-registry serve .*lrn" + tag) == []
    assert _learners_left(names) == []
