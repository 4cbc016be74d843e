"""binder/: what can be tested without Binder itself.

- the files say what repo2docker needs (reglab installed from the repository root, the
  registry binary, Python 3.11, postBuild with ``set -e``, ``start`` choosing the daemonless
  engine), and pip resolves the requirement the way repo2docker invokes it;
- postBuild and start really work;
- as on Binder — a non-root user, no Docker socket — the local engine tests and notebook 01
  pass, and no registry process outlives them (about 30 s).
"""

import functools
import hashlib
import http.server
import io
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from reglab.config import Settings
from reglab import tools
from reglab.engines.local import registry_binary

pytestmark = pytest.mark.daemonless  # (make test runs it beside the Docker tests)
ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
PINS = ROOT / "src" / "reglab" / "tools.txt"
LEARNER = "reglab-learner"


def lines(name: str) -> list[str]:
    text = (BINDER / name).read_text()
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_requirements_install_reglab_from_the_repository_root(tmp_path):
    assert lines("requirements.txt") == ["-e ."]
    # repo2docker runs `pip install -r binder/requirements.txt` in the repository root: pip must
    # find reglab's pyproject.toml there and build its metadata (with this venv's setuptools, the
    # version pyproject.toml asks for: the test extras name it), offline, and succeed
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md", "binder"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, copy / name)
    out = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index",
                          "--no-build-isolation", "-r", "binder/requirements.txt"],
                         check=False, cwd=copy, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert f"Obtaining file://{copy}" in out.stdout and "Would install reglab-" in out.stdout
    assert 'name = "reglab"' in (copy / "pyproject.toml").read_text()


def test_apt_and_runtime_name_what_the_daemonless_engine_needs():
    assert "docker-registry" in lines("apt.txt") and "gcc" not in lines("apt.txt")  # no compiler needed
    assert lines("runtime.txt") == ["python-3.11"]
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text()


@pytest.mark.parametrize("script", ["postBuild", "start"])
def test_scripts_are_executable_bash(script):
    path = BINDER / script
    assert os.access(path, os.X_OK)
    assert path.read_text().startswith("#!/bin/bash\n")
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0


def test_postbuild_stops_at_the_first_failure_and_builds_the_images(tmp_path):
    commands = lines("postBuild")
    assert commands[0] == "set -e"
    env = dict(os.environ, REGLAB_STATE_DIR=str(tmp_path / "state"),
               PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    env.pop("REGLAB_ENGINE", None)
    out = subprocess.run([str(BINDER / "postBuild")], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "hello-world (offline stand-in): built" in out.stdout
    index = json.loads((tmp_path / "state/_images/index.json").read_text())
    names = [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]]
    assert names == ["hello-world:latest"]


@contextmanager
def _releases_server(folder: Path):
    """A static file server on 127.0.0.1 standing in for the distribution project's releases."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _release_archive(folder: Path, version: str, platform: str, program: bytes) -> str:
    """``<version>/registry_<version>_<platform>.tar.gz`` holding ``registry``; its sha256."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("registry")
        info.size, info.mode = len(program), 0o755
        tar.addfile(info, io.BytesIO(program))
    path = folder / version / f"registry_{version.removeprefix('v')}_{platform}.tar.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(buf.getvalue())
    return hashlib.sha256(buf.getvalue()).hexdigest()


@pytest.mark.parametrize("pinned_right", [True, False])
def test_postbuild_takes_the_registry_release_only_with_the_pinned_sha256(tmp_path, pinned_right):
    """Binder has no Go: postBuild downloads the registry v3 release archive and checks its sha256
    against the pin (here a server on 127.0.0.1 and a pin file of the test's own stand in for
    GitHub's releases and src/reglab/tools.txt)."""
    release = tools.releases()[0]
    sha256 = _release_archive(tmp_path / "releases", release.version, release.os_arch, b"#!/bin/sh\necho v3\n")
    pins = tmp_path / "tools.txt"
    pinned = sha256 if pinned_right else "0" * 64
    pins.write_text(PINS.read_text().replace(release.sha256, pinned))
    env = dict(os.environ, REGLAB_STATE_DIR=str(tmp_path / "state"), REGLAB_TOOLS_DIR=str(tmp_path / "tools"),
               REGLAB_TOOLS_PINS=str(pins), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    env.pop("REGLAB_ENGINE", None)
    with _releases_server(tmp_path / "releases") as url:
        out = subprocess.run([str(BINDER / "postBuild")], capture_output=True, text=True, timeout=300,
                             env=dict(env, REGLAB_RELEASES_URL=url))
    installed = tools.tools()["registry"].path(tmp_path / "tools")
    archive = f"{url}/{release.version}/registry_{release.version[1:]}_{release.os_arch}.tar.gz"
    if pinned_right:
        assert out.returncode == 0, out.stderr
        assert f"postBuild: registry {release.version} from {archive} (sha256 checked): {installed}\n" in out.stdout
        assert subprocess.run([str(installed)], capture_output=True, text=True).stdout == "v3\n"
        assert "hello-world (offline stand-in): built" in out.stdout
    else:
        assert out.returncode == 1 and not installed.exists()
        assert out.stderr == (f"postBuild: {archive} has sha256 {sha256}, not the {pinned} pinned in "
                              "src/reglab/tools.txt: refusing it (check the pin against the release's checksums).\n")
        assert "stand-in" not in out.stdout  # it stopped there


def test_start_selects_the_daemonless_engine_even_where_docker_answers():
    probe = "from reglab.engines import choose_engine; import os; print(choose_engine(), os.environ['REGLAB_OFFLINE'])"
    env = {k: v for k, v in os.environ.items() if k not in ("REGLAB_ENGINE", "REGLAB_OFFLINE")}
    out = subprocess.run([str(BINDER / "start"), sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env)
    assert out.returncode == 0, out.stderr
    assert "kind='local'" in out.stdout and "REGLAB_ENGINE=local" in out.stdout and out.stdout.endswith(" 1\n")


# ----------------------------------------------------------------------------- as on Binder


def _learner_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-u", LEARNER], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


@pytest.fixture
def learner():
    """A non-root user for this test (created if missing, removed afterwards)."""
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("needs root, useradd and runuser to act as a non-root learner")
    if registry_binary() is None:
        pytest.skip("the registry binary (docker-registry) is missing")
    created = False
    try:
        pwd.getpwnam(LEARNER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/bash", LEARNER], check=True)
        created = True
    try:
        yield pwd.getpwnam(LEARNER)
    finally:
        for pid in _learner_pids():  # only this test's user: whatever it left running
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        if created:
            subprocess.run(["userdel", LEARNER], capture_output=True)


def _learner_venv(work: Path) -> Path:
    """A venv the learner can run: this machine's python of the same version, seeing the
    project venv's installed packages through a .pth file (nothing is downloaded)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/local/bin:/usr/bin:/bin")
    if system is None:
        pytest.skip(f"no system {version} a non-root user can run")
    venv = work / "venv"
    subprocess.run(["runuser", "-u", LEARNER, "--", system, "-m", "venv", "--without-pip", str(venv)], check=True)
    site_packages = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    pth = venv / "lib" / version / "site-packages" / "reglab-project-venv.pth"
    pth.write_text(f"{site_packages}\n")
    return venv / "bin"


def test_the_suite_passes_as_a_non_root_user_without_docker(learner):
    work = Path(tempfile.mkdtemp(prefix="reglab-binder-"))
    try:
        repo = work / "repo"
        repo.mkdir()
        for name in ("pyproject.toml", "README.md", "conftest.py", "src", "tests", "binder"):
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, repo / name)
        (repo / "notebooks").mkdir()
        notebook = "01-run-your-own-registry.ipynb"
        shutil.copy(ROOT / "notebooks" / notebook, repo / "notebooks" / notebook)
        (work / "home").mkdir()
        (work / "tmp").mkdir()
        # where binder/postBuild puts the registry v3 (tests/test_local_engine.py runs it), and crane, which
        # notebook 01's step 7 runs (binder/postBuild does not fetch crane's release yet)
        for name in ("registry", "crane"):
            built = tools.find(name, Settings.from_env().tools_dir)
            if built is not None:
                target = tools.tools()[name].path(work / "home" / ".cache" / "reglab" / "tools")
                target.parent.mkdir(parents=True)
                shutil.copy2(built, target)
        subprocess.run(["chown", "-R", f"{learner.pw_uid}:{learner.pw_gid}", str(work)], check=True)
        work.chmod(0o755)
        venv_bin = _learner_venv(work)
        env = [
            f"PATH={venv_bin}:/usr/local/bin:/usr/bin:/bin",
            f"HOME={work / 'home'}",
            f"PYTHONPATH={repo / 'src'}",  # this copy's reglab, ahead of the venv's editable install
            f"DOCKER_HOST=unix://{work}/no-docker-here.sock",
            f"TMPDIR={work / 'tmp'}",  # not the machine's /tmp: another run's pytest-of-<user> may be there
            "LANG=C.UTF-8",
        ]
        out = subprocess.run(
            ["runuser", "-u", LEARNER, "--", "env", "-i", *env, str(repo / "binder/start"),
             str(venv_bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "tests/test_local_engine.py", f"notebooks/{notebook}"],
            cwd=repo, capture_output=True, text=True, timeout=600,
        )
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
        summary = out.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r"\d+ passed in [\d.]+s", summary), summary  # nothing failed, nothing skipped
        # every registry the learner's labs started exits with them (a kernel's exit handler may still be
        # stopping the last one as pytest returns: wait for that, then there must be none)
        left = subprocess.run(["pgrep", "-a", "-u", LEARNER, "-f", "registry serve"], check=False,
                              capture_output=True, text=True)
        for _ in range(50):
            if left.returncode == 1:
                break
            time.sleep(0.2)
            left = subprocess.run(["pgrep", "-a", "-u", LEARNER, "-f", "registry serve"], check=False,
                                  capture_output=True, text=True)
        assert left.returncode == 1, f"the learner's registries outlived their labs: {left.stdout}"
    finally:
        shutil.rmtree(work, ignore_errors=True)
