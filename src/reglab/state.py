"""What a lab created outside Docker's labels: image tags and folders.

Containers and volumes carry the ``reglab.lab`` label, so they can always be found again.
Image tags and bind-mount folders cannot carry a label, so a lab writes them down in a
small JSON file; the next ``Lab(...)`` of the same name (after a killed kernel, say) reads
it and removes exactly those, nothing else.
"""

from __future__ import annotations

import getpass
import json
import os
import tempfile
from pathlib import Path


def state_root() -> Path:
    if os.environ.get("REGLAB_STATE_DIR"):
        return Path(os.environ["REGLAB_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "reglab"


def work_root() -> Path:
    """Where bind-mount folders go by default: a per-user folder in the temp dir."""
    if os.environ.get("REGLAB_WORKDIR"):
        return Path(os.environ["REGLAB_WORKDIR"])
    return Path(tempfile.gettempdir()) / f"reglab-{getpass.getuser()}"


class State:
    """The tags and folders one lab created, persisted as ``<state>/<lab>/state.json``."""

    def __init__(self, lab: str):
        self.dir = state_root() / lab
        self.file = self.dir / "state.json"
        self.tags: list[str] = []
        self.dirs: list[str] = []
        if self.file.exists():
            try:
                data = json.loads(self.file.read_text())
                self.tags, self.dirs = list(data.get("tags", [])), list(data.get("dirs", []))
            except (OSError, ValueError):
                pass  # a torn file from a killed kernel: start afresh

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"tags": self.tags, "dirs": self.dirs}, indent=1))
        tmp.replace(self.file)

    def add_tag(self, tag: str) -> None:
        if tag not in self.tags:
            self.tags.append(tag)
            self.save()

    def drop_tag(self, tag: str) -> None:
        if tag in self.tags:
            self.tags.remove(tag)
            self.save()

    def add_dir(self, path: Path) -> None:
        if str(path) not in self.dirs:
            self.dirs.append(str(path))
            self.save()

    def clear(self) -> None:
        self.tags, self.dirs = [], []
        if self.file.exists():
            self.file.unlink()
