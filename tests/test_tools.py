"""The Go-built tools: src/reglab/tools.txt pins them, scripts/go-tools.sh builds them once into a
cache folder outside the repository, reglab.tools finds them.

The built ones are checked as built by the set-up (`make test` runs scripts/go-tools.sh test first);
the script's decisions are checked on a temporary tools folder (--dry-run, a wrong pinned sum), so
nothing here builds anything or reaches the Go module proxy.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reglab.config import Settings
from reglab import tools

pytestmark = pytest.mark.daemonless
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "go-tools.sh"
PINS = ROOT / "src" / "reglab" / "tools.txt"
TOOLS_DIR = Settings.from_env().tools_dir
GO = shutil.which("go") or ("/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go", os.X_OK) else None)


def _script(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env}, check=False)


def test_the_pin_file_parses():
    pinned = tools.tools()
    assert list(pinned) == ["registry", "crane", "weed"]
    assert pinned["registry"].module == "github.com/distribution/distribution/v3"
    assert pinned["registry"].target == "github.com/distribution/distribution/v3/cmd/registry@v3.1.2"
    assert pinned["crane"].target == "github.com/google/go-containerregistry/cmd/crane@v0.22.1"
    assert pinned["weed"].target.startswith("github.com/seaweedfs/seaweedfs/weed@v0.0.0-")
    for tool in pinned.values():
        assert re.fullmatch(r"v\d+\.\d+\.\d+(-[0-9a-z.-]+)?", tool.version), tool
        assert re.fullmatch(r"h1:[A-Za-z0-9+/]{43}=", tool.sum), tool
        assert tool.path(Path("/cache")) == Path(f"/cache/{tool.name}-{tool.version}/{tool.name}")
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", tools.go_minimum())
    (release, *_) = tools.releases()
    assert (release.name, release.version, release.os_arch) == ("registry", "v3.1.2", "linux_amd64")
    assert release.url == ("https://github.com/distribution/distribution/releases/download/v3.1.2/"
                           "registry_3.1.2_linux_amd64.tar.gz")
    assert all(re.fullmatch(r"[0-9a-f]{64}", r.sha256) for r in tools.releases())


def test_the_tools_folder_and_the_hint(tmp_path):
    assert Settings.from_env({"REGLAB_TOOLS_DIR": "/x"}).tools_dir == Path("/x")
    assert Settings.from_env({"XDG_CACHE_HOME": "/c"}).tools_dir == Path("/c/reglab/tools")
    assert Settings.from_env({}).tools_dir == Path.home() / ".cache/reglab/tools"
    assert tools.find("registry", tmp_path) is None
    program = tools.tools()["registry"].path(tmp_path)
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    assert tools.find("registry", tmp_path) is None  # not executable: not a program
    program.chmod(0o755)
    assert tools.find("registry", tmp_path) == program
    hint = tools.install_hint("registry")
    assert "scripts/go-tools.sh" in hint and f"Go {tools.go_minimum()}" in hint and "registry:3" in hint
    assert "go install github.com/distribution/distribution/v3/cmd/registry@v3.1.2" in hint


@pytest.mark.parametrize("name, argv", [("registry", ["--version"]), ("crane", ["version"])])
def test_a_built_tool_reports_its_pinned_version(name, argv):
    program = tools.find(name, TOOLS_DIR)
    assert program is not None, f"{name} is not built in {TOOLS_DIR}: run scripts/go-tools.sh test"
    out = subprocess.run([str(program), *argv], capture_output=True, text=True, timeout=30, check=True).stdout
    pinned = tools.tools()[name]
    if name == "registry":  # `registry --version`: its path, the module, the version (+unknown: built by go install)
        assert out == f"{program} {pinned.module} {pinned.version}+unknown\n"
    else:
        assert out == f"{pinned.version}\n"
    ldd = subprocess.run(["ldd", str(program)], capture_output=True, text=True, check=False)
    assert ldd.returncode != 0 and "not a dynamic executable" in ldd.stdout + ldd.stderr  # static: FROM scratch
    if GO:  # what Go recorded in the binary: the module at the pinned version, with the pinned sum
        info = subprocess.run([GO, "version", "-m", str(program)], capture_output=True, text=True, check=True).stdout
        assert f"\tmod\t{pinned.module}\t{pinned.version}\t{pinned.sum}\n" in info


def test_weed_is_built_static_from_its_module():
    """weed is built inside its module (its go.mod has a replace directive), so Go records the module
    as (devel) rather than the pseudo-version: its pinned sum was checked before the build."""
    program = tools.find("weed", TOOLS_DIR)
    assert program is not None, f"weed is not built in {TOOLS_DIR}: run scripts/go-tools.sh test"
    out = subprocess.run([str(program), "version"], capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.startswith("version ") and " linux " in out
    ldd = subprocess.run(["ldd", str(program)], capture_output=True, text=True, check=False)
    assert ldd.returncode != 0
    if GO:
        info = subprocess.run([GO, "version", "-m", str(program)], capture_output=True, text=True, check=True).stdout
        assert "\tpath\tgithub.com/seaweedfs/seaweedfs/weed\n" in info


def test_dry_run_names_what_it_would_build(tmp_path):
    out = _script("test", "--dry-run", REGLAB_TOOLS_DIR=str(tmp_path))
    assert out.returncode == 0, out.stderr
    for tool in tools.tools().values():
        assert (f"go-tools: would build {tool.name} {tool.version}: go install {tool.target} → "
                f"{tmp_path}/{tool.name}-{tool.version}/{tool.name}\n") in out.stdout
    assert list(tmp_path.iterdir()) == []  # nothing made
    lab = _script("lab", "--dry-run", REGLAB_TOOLS_DIR=str(tmp_path))
    # make lab builds weed too: notebook 07's object store (a process, or the stand-in image's program)
    assert all(f"would build {name}" in lab.stdout for name in ("registry", "crane", "weed"))


def test_a_built_tool_is_not_built_again(tmp_path):
    program = tools.tools()["crane"].path(tmp_path)
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    out = _script("lab", "--dry-run", REGLAB_TOOLS_DIR=str(tmp_path))
    assert f"go-tools: crane v0.22.1 is built ({program})\n" in out.stdout and "would build crane" not in out.stdout


@pytest.mark.skipif(GO is None, reason="needs Go (scripts/setup.sh test installs what the tests use)")
def test_a_wrong_pinned_sum_is_refused_in_one_sentence(tmp_path):
    crane = tools.tools()["crane"]
    wrong = "h1:" + "A" * 43 + "="
    pins = tmp_path / "tools.txt"
    pins.write_text(f"crane {crane.module} {crane.package} {crane.version} {wrong}\ngo {tools.go_minimum()}\n")
    out = _script("lab", REGLAB_TOOLS_DIR=str(tmp_path / "tools"), REGLAB_TOOLS_PINS=str(pins))
    assert out.returncode == 1
    assert out.stderr == (f"go-tools: refusing to build crane: the module {crane.module}@{crane.version} has checksum "
                          f"{crane.sum}, not the {wrong} pinned in src/reglab/tools.txt — check the pin "
                          f"(go mod download -json {crane.module}@{crane.version}) and your GOPROXY.\n")
    assert not (tmp_path / "tools" / f"crane-{crane.version}" / "crane").exists()


def test_without_go_it_says_what_to_do(tmp_path):
    lab = _script("lab", REGLAB_TOOLS_DIR=str(tmp_path), REGLAB_GO="")
    assert lab.returncode == 0  # make lab carries on: Docker Hub may give the real images
    assert lab.stderr.count("\n") == 1 and lab.stderr.startswith("go-tools: registry crane weed not built and Go is not")
    assert f"install Go {tools.go_minimum()} or newer" in lab.stderr and "registry:3 image is pulled" in lab.stderr
    assert _script("test", REGLAB_TOOLS_DIR=str(tmp_path), REGLAB_GO="").returncode == 1  # the tests need them
