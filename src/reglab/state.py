"""What a lab created outside Docker's labels: image tags, images, folders and files; where it keeps them.

Containers and volumes carry labels, so they can always be found again. Image tags, the
images a lab loaded or pulled (by ID: one may lose its last tag and stay, dangling) and
bind-mount folders cannot, so a lab writes them down in a small JSON file; the next
``Lab(...)`` of the same name and learner (after a killed kernel, say) reads it and removes
exactly those, nothing else. Every folder is scoped to the learner, if there is one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import ReglabError
from .naming import ANY, Scope, check_lab_id

LEARNERS = "_learners"  # not a valid lab id, so it never collides with a lab's folder


def scope_root(root: Path, learner: str | None) -> Path:
    """The folder holding one learner's labs (or, without a learner, the state root itself)."""
    return root / LEARNERS / learner if learner else root


def lab_dirs(root: Path, scope: Scope) -> list[Path]:
    """The state folders of the labs in ``scope`` that exist under the state root ``root``."""
    if scope.learner == ANY:
        roots = [root] + sorted((root / LEARNERS).glob("*"))
    else:
        roots = [scope_root(root, scope.learner)]
    found = []
    for root in roots:
        if scope.lab is not None:
            candidates = [root / scope.lab]
        else:
            candidates = sorted(root.iterdir()) if root.is_dir() else []
        for folder in candidates:
            try:
                check_lab_id(folder.name)
            except ReglabError:  # the image store, certificates, anything that is no lab
                continue
            if folder.is_dir():
                found.append(folder)
    return found


def learner_of(lab_dir: Path) -> str | None:
    """Whose lab folder this is (None: the machine's single learner)."""
    parent = lab_dir.parent
    return parent.name if parent.parent.name == LEARNERS else None


def work_root(workdir: Path, learner: str | None = None) -> Path:
    """Where a learner's lab folders go (bind mounts, certificates): ``workdir[/<learner>]``."""
    return workdir / learner if learner else workdir


class State:
    """The tags, images, folders and files one lab created, persisted as ``<scope root>/<lab>/state.json``.

    ``dirs`` are removed with everything in them (the lab's own work folders); ``files`` are
    single files the lab put in a shared place (a CA certificate in ``certs.d``), each with a
    few words saying what it is; ``shared_dirs`` are folders it had to create there, removed
    only when empty (someone else may have put something in them meanwhile).

    A lab sheet (:mod:`reglab.exercises`) also writes down the containers and volumes it asks
    the learner to create by name: typed in a terminal they carry no reglab label, so cleanup
    finds them by these names."""

    def __init__(self, root: Path, scope: Scope):
        self.scope = scope
        self.dir = scope_root(root, scope.learner) / scope.lab
        self.file = self.dir / "state.json"
        # the programs this lab's shell commands find first on PATH (the daemonless docker, crane's
        # link): the learner's and the lab's own, gone with the lab's cleanup
        self.shell_bin = self.dir / "bin"
        self.tags: list[str] = []
        self.images: list[str] = []  # IDs of images the lab loaded or pulled
        self.dirs: list[str] = []
        self.files: dict[str, str] = {}  # path → what it is
        self.shared_dirs: list[str] = []
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.addresses: dict[str, list[str]] = {}  # an address the lab took → the image names under it before
        if self.file.exists():
            try:
                data = json.loads(self.file.read_text())
                self.tags, self.dirs = list(data.get("tags", [])), list(data.get("dirs", []))
                self.files, self.shared_dirs = dict(data.get("files", {})), list(data.get("shared_dirs", []))
                self.images = list(data.get("images", []))
                self.containers, self.volumes = list(data.get("containers", [])), list(data.get("volumes", []))
                self.addresses = dict(data.get("addresses", {}))
            except (OSError, ValueError):
                pass  # a torn file from a killed kernel: start afresh

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_name(f".state.{os.getpid()}.tmp")
        data = {"tags": self.tags, "images": self.images, "dirs": self.dirs}
        if self.files or self.shared_dirs:
            data.update(files=self.files, shared_dirs=self.shared_dirs)
        data.update({k: v for k, v in (("containers", self.containers), ("volumes", self.volumes),
                                       ("addresses", self.addresses)) if v})
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.file)

    def add_tag(self, tag: str) -> None:
        if tag not in self.tags:
            self.tags.append(tag)
            self.save()

    def drop_tag(self, tag: str) -> None:
        if tag in self.tags:
            self.tags.remove(tag)
            self.save()

    def add_address(self, address: str, names: list[str]) -> None:
        if address not in self.addresses:
            self.addresses[address] = sorted(names)
            self.save()

    def add_image(self, image_id: str) -> None:
        if image_id not in self.images:
            self.images.append(image_id)
            self.save()

    def drop_image(self, image_id: str) -> None:
        if image_id in self.images:
            self.images.remove(image_id)
            self.save()

    def add_dir(self, path: Path) -> None:
        if str(path) not in self.dirs:
            self.dirs.append(str(path))
            self.save()

    def add_file(self, path: Path, what: str) -> None:
        self.files[str(path)] = what
        self.save()

    def drop_file(self, path: Path) -> None:
        if self.files.pop(str(path), None) is not None:
            self.save()

    def add_shared_dir(self, path: Path) -> None:
        if str(path) not in self.shared_dirs:
            self.shared_dirs.append(str(path))
            self.save()

    def add_name(self, kind: str, name: str) -> None:
        """Remember a container or volume name the learner is asked to create (kind: containers|volumes)."""
        names = getattr(self, kind)
        if name not in names:
            names.append(name)
            self.save()

    def clear(self) -> None:
        self.tags, self.images, self.dirs, self.files, self.shared_dirs = [], [], [], {}, []
        self.containers, self.volumes, self.addresses = [], [], {}
        if self.file.exists():
            self.file.unlink()
