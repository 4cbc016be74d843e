"""scripts/setup.sh: what it would install, checked with --dry-run (nothing is installed or removed).

On a Debian machine as root with every tool present it has nothing to do; elsewhere (another
os-release, tools missing from PATH) it prints exactly what to install and stops, except that
`make lab` carries on without the stand-ins' packages when only Docker Hub images are needed."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "scripts" / "setup.sh"
TOOLS = ["docker-registry", "busybox", "qemu-x86_64", "qemu-aarch64", "curl", "skopeo", "pgrep", "useradd", "runuser",
         "configurable-http-proxy", "sha256sum", "du", "find", "tar", "ldd", "docker"]


def _setup(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SETUP), *args], capture_output=True, text=True, env=env, timeout=120,
                          check=False)


def _bare_path(tmp_path: Path, keep: list[str]) -> str:
    """A PATH with only the basic commands the script itself runs, plus ``keep``."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ["bash", "cat", "grep", "id", "env", "seq", "python3", *keep]:  # no timeout(1), as on macOS
        found = shutil.which(name, path="/usr/local/bin:/usr/bin:/bin")
        if found:
            (folder / name).symlink_to(found)
    return str(folder)


def test_every_tool_the_tests_use_is_set_up_here():
    out = _setup("test", "--dry-run")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "would run" not in out.stdout, out.stdout  # nothing left to install on this machine
    assert [tool for tool in TOOLS if not shutil.which(tool)] == []
    assert Path(os.environ.get("REGLAB_CHROMIUM", "/usr/bin/chromium")).exists()


def test_elsewhere_it_says_what_to_install_and_stops(tmp_path):
    os_release = tmp_path / "os-release"
    os_release.write_text("ID=fedora\n")
    env = dict(os.environ, PATH=_bare_path(tmp_path, ["docker", "make", "ldd", "sha256sum", "du", "find", "tar"]),
               REGLAB_SETUP_OS_RELEASE=str(os_release), REGLAB_CHROMIUM=str(tmp_path / "no-chromium"))
    out = _setup("test", "--dry-run", env=env)
    assert out.returncode == 1
    for package in ("docker-registry", "busybox-static", "qemu-user", "curl", "skopeo", "chromium", "procps", "passwd",
                    "util-linux", "configurable-http-proxy"):
        assert f"  - {package}: " in out.stderr, package
    assert "npm install -g configurable-http-proxy" in out.stderr
    assert "would run" not in out.stdout  # it installs nothing where it is not Debian's root


def test_make_lab_elsewhere_needs_only_python_and_docker(tmp_path):
    """macOS or Windows with Docker Desktop: the stand-ins' packages are missing, which matters only
    without Docker Hub: `make lab` says so and carries on."""
    os_release = tmp_path / "os-release"
    os_release.write_text("ID=fedora\n")
    env = dict(os.environ, PATH=_bare_path(tmp_path, ["docker", "make", "ldd"]), REGLAB_SETUP_OS_RELEASE=str(os_release))
    out = _setup("lab", "--dry-run", env=env)
    if "a Docker engine" in out.stderr:
        pytest.fail("no Docker engine answers here: " + out.stderr)
    assert out.returncode == 0, out.stderr
    assert "carrying on" in out.stdout and "  - docker-registry: " in out.stdout and "skopeo" not in out.stdout


def test_on_debian_as_root_it_would_install_what_is_missing(tmp_path):
    """As root it would apt-get install the missing packages (npm for the proxy); as another user
    on Debian it names them and the sudo command, and stops."""
    env = dict(os.environ, PATH=_bare_path(tmp_path, ["docker", "make", "ldd", "npm", "sha256sum", "du", "find",
                                                      "tar"]),
               REGLAB_CHROMIUM=str(tmp_path / "no-chromium"))
    out = _setup("test", "--dry-run", env=env)
    if os.geteuid() != 0:
        assert out.returncode == 1 and f"sudo {SETUP} test" in out.stderr, out.stderr
        return
    assert out.returncode == 0, out.stderr
    apt = next(line for line in out.stdout.splitlines() if "apt-get install" in line)
    for package in ("docker-registry", "busybox-static", "qemu-user", "curl", "skopeo", "chromium", "procps", "passwd",
                    "util-linux"):
        assert f" {package}" in apt, package
    assert "would run: npm install -g --no-fund --no-audit configurable-http-proxy" in out.stdout
    assert "nodejs" not in out.stdout  # Node.js and npm come with the machine, never from apt-get here


ESSENTIAL = {"bash", "sh", "env", "chown", "true"}  # in every Debian/Ubuntu (Essential: yes) and macOS


def test_every_program_the_tests_and_reglab_run_is_in_the_set_up():
    """A test must never skip or fail on a fresh machine because the set-up forgot a tool: every
    program named literally in a subprocess call in tests/, src/ or benchmarks/ is in setup.sh."""
    call = re.compile(r"""(?:subprocess\.(?:run|Popen|check_output)\(\s*\[|(?<![.\w])_?run(?:_bytes)?\(\s*\[?)\s*["']([\w.-]+)["']""")
    found = set()
    for folder in ("tests", "src", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(call.findall(path.read_text()))
    assert {"skopeo", "curl", "pgrep", "tar", "docker"} <= found  # the pattern sees them
    setup = SETUP.read_text()
    assert sorted(p for p in found - ESSENTIAL if not re.search(rf"command -v {re.escape(p)}\b", setup)) == []
