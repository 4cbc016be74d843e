"""The Go-built tools (registry v3, crane, weed): where the set-up put them, and what to do if it did not.

Their versions and module checksums are pinned in one file, ``reglab/tools.txt``, which
``scripts/go-tools.sh`` reads too: it builds each tool once into ``<tools dir>/<name>-<version>/<name>``,
a folder outside the repository (``$XDG_CACHE_HOME/reglab/tools`` by default). This module reads
no environment variable: callers pass the tools folder (``Settings.tools_dir``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from . import errors

__all__ = ["Release", "Tool", "find", "go_minimum", "install_hint", "releases", "tools"]

PIN_FILE = "tools.txt"
RELEASE_URL = "https://github.com/distribution/distribution/releases/download/{version}/registry_{bare}_{os_arch}.tar.gz"


@dataclass(frozen=True)
class Tool:
    """One pinned Go program: ``go install <module>/<package>@<version>``, module sum ``sum``."""

    name: str
    module: str
    package: str  # inside the module: "./cmd/registry"
    version: str
    sum: str  # h1:… as `go mod download -json` reports it

    @property
    def target(self) -> str:
        """What ``go install`` is given: the command's import path at the pinned version."""
        return f"{self.module}/{self.package.removeprefix('./')}@{self.version}".replace("/@", "@")

    def path(self, tools_dir: Path) -> Path:
        return Path(tools_dir) / f"{self.name}-{self.version}" / self.name


@dataclass(frozen=True)
class Release:
    """A release archive of a tool (Binder has no Go): its version, platform and sha256."""

    name: str
    version: str
    os_arch: str  # linux_amd64
    sha256: str

    @property
    def url(self) -> str:
        return RELEASE_URL.format(version=self.version, bare=self.version.removeprefix("v"), os_arch=self.os_arch)


def _lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@cache
def _pins() -> tuple[dict[str, Tool], list[Release], str]:
    text = resources.files("reglab").joinpath(PIN_FILE).read_text()
    found: dict[str, Tool] = {}
    archives: list[Release] = []
    go = ""
    for words in _lines(text):
        if words[0] == "release" and len(words) == 5:
            archives.append(Release(*words[1:]))
        elif words[0] == "go" and len(words) == 2:
            go = words[1]
        elif len(words) == 5 and words[4].startswith("h1:"):
            found[words[0]] = Tool(*words)
        else:
            raise ValueError(errors.pin_line_unreadable(PIN_FILE, words))
    return found, archives, go


def tools() -> dict[str, Tool]:
    """Name → pinned tool, in the pin file's order."""
    return dict(_pins()[0])


def releases() -> list[Release]:
    return list(_pins()[1])


def go_minimum() -> str:
    """The oldest Go that builds every pinned tool (the newest ``go`` line among their go.mod files)."""
    return _pins()[2]


def find(name: str, tools_dir: Path) -> Path | None:
    """The built program ``name`` at its pinned version in ``tools_dir``, or None if it is not there."""
    tool = tools()[name]
    path = tool.path(tools_dir)
    return path if path.is_file() and os.access(path, os.X_OK) else None


def install_hint(name: str) -> str:
    """What to do when ``name`` is not built (one sentence's second half)."""
    tool = tools()[name]
    hint = (f"build it with scripts/go-tools.sh (make lab does), which needs Go {go_minimum()} or newer "
            f"(https://go.dev/dl/, or sudo apt-get install golang where that is new enough) to run "
            f"go install {tool.target}")
    if name == "registry":
        hint += ", or make Docker Hub reachable so the real registry:3 image is pulled"
    return hint
